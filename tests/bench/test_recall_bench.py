"""bench recall: retrieval finds the answer's source; on the FakeEngine (fast, no model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant import cli
from assistant.app import Reverie
from assistant.bench.recall import load_questions, run_recall_bench
from assistant.config import Settings
from assistant.llm.engine import Engine
from assistant.llm.fake import FakeEngine
from assistant.paths import Paths


def fake_factory(_m: Path | None, _s: Settings, _p: Paths) -> Engine:
    return FakeEngine(default=" Notes.\nFacts:\n")


def test_fixture_questions_are_complete() -> None:
    data = load_questions()
    assert len(data["questions"]) >= 30 and data["now"]
    for q in data["questions"]:
        assert q["question"] and q["answer"] and q["accept"]
        assert q["sources"] or not q["answerable"]


def test_recall_on_the_fixture_reaches_80_percent() -> None:
    result = run_recall_bench(Settings(), engine_factory=fake_factory)
    data = result.to_json()
    assert data["questions"] == 40
    assert data["top5_hit_rate"] >= 0.8, data["misses"]


def test_bench_recall_json_through_the_cli(monkeypatch: pytest.MonkeyPatch, data_dir: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    import assistant.bench.recall as recall

    original = recall.slept_fixture_profile
    monkeypatch.setattr(recall, "slept_fixture_profile",
                        lambda s, **kw: original(s, **{**kw, "engine_factory": fake_factory}))
    monkeypatch.setattr(Reverie, "model_path", lambda self, progress=None: data_dir / "m.gguf")
    assert cli.main(["--data-dir", str(data_dir), "bench", "recall", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["questions"] == 40 and data["top5_hit_rate"] >= 0.8
