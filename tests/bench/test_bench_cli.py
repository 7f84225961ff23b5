"""``reverie bench cli`` (assistant.bench.cli): its measuring pieces on real processes,
and its argument checks. The full run (minutes, the real model) is `reverie bench cli`."""

from __future__ import annotations

import mmap
import os
from pathlib import Path

import pytest

from assistant import cli
from assistant.bench.cli import (
    PARAPHRASE,
    PREPARED,
    CliBenchError,
    first_byte_ms,
    make_profile,
    processes_mapping,
    wall_ms,
)
from assistant.recall.quick import serve_exact


def test_a_mapped_file_is_seen_in_this_process_only_while_mapped(tmp_path: Path) -> None:
    model = tmp_path / "model.gguf"
    model.write_bytes(b"\0" * 4096)
    assert os.getpid() not in processes_mapping(model)
    with model.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ):
        assert processes_mapping(model) == [os.getpid()]
    assert os.getpid() not in processes_mapping(model)


def test_wall_and_first_byte_times_of_a_real_process(tmp_path: Path) -> None:
    elapsed, out = wall_ms(["-c", "print('hi')"])
    assert out == b"hi\n" and elapsed > 0
    flag = tmp_path / "seen"
    # The child writes its first byte, then waits until the first byte was seen.
    child = ("import os, sys, time; sys.stdout.write('a'); sys.stdout.flush()\n"
             f"while not os.path.exists({str(flag)!r}): time.sleep(0.01)\n"
             "print('b')")
    first, everything = first_byte_ms(["-c", child], during=flag.touch)
    assert everything == b"ab\n" and first > 0
    with pytest.raises(CliBenchError, match="exited with 3"):
        wall_ms(["-c", "raise SystemExit(3)"])


def test_the_profile_serves_its_prepared_answers_without_the_model(tmp_path: Path) -> None:
    make_profile(tmp_path / "p", tmp_path / "no-model.gguf")
    question, answer = PREPARED[0]
    served = serve_exact(tmp_path / "p" / "reverie.db", question)
    assert served is not None and served.hit.answer == answer
    assert "enabled = false" in (tmp_path / "p" / "settings.toml").read_text()


def test_the_profile_s_rephrasing_matches_by_meaning(tmp_path: Path) -> None:
    """The bench's rephrased question must be served the prepared answer: its prepared
    answers carry the notes they came from, as the app's do (without them the shipped
    rule, which reads the context, had stopped matching and the bench had failed)."""
    from assistant.app import Reverie
    from assistant.recall.prepared import PreparedAnswers

    make_profile(tmp_path / "p", tmp_path / "no-model.gguf")
    app = Reverie.open(tmp_path / "p")
    try:
        found = PreparedAnswers(app.db, embedder=app.embedder()).lookup(PARAPHRASE)
    finally:
        app.close()
    assert found is not None and found.answer == PREPARED[0][1]


def test_runs_must_be_positive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "settings.toml").write_text(f'[model]\npath = "{model}"\n')
    assert cli.main(["--data-dir", str(tmp_path / "p"), "bench", "cli", "--runs", "0"]) == 2
    assert capsys.readouterr().err.strip() == "reverie: --runs must be at least 1."
