"""The fault suite: every bad-input class answered clearly, and SIGKILL at random
moments loses nothing (a small run of ``reverie bench faults``, on real processes)."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.bench.faults import FaultResult, run_faults_bench
from assistant.bench.faults.inputs import BadInput, BadInputReport, bad_inputs, run_bad_inputs
from assistant.bench.faults.profile import (
    Reverie,
    Workspace,
    db_file,
    has_traceback,
    integrity_problem,
    message_lines,
    person_rows,
    serve_bytes,
)

CASES = bad_inputs()


@pytest.fixture(scope="module")
def workspace(bundled_model: Path) -> Iterator[Workspace]:
    """Under the system's temporary folder, not pytest's (whose folders only root can
    enter), so the read-only class can run as an unprivileged user."""
    with tempfile.TemporaryDirectory(prefix="reverie-faults-test-") as tmp:
        root = Path(tmp)
        (root / "same-model.gguf").symlink_to(bundled_model)
        ws = Workspace(root, bundled_model, Reverie.here())
        ws.build(seed=11)
        with serve_bytes(ws.payload) as url:
            ws.download_url = url
            yield ws


def test_message_lines_skip_usage_and_blank_lines() -> None:
    stderr = ("usage: reverie [-h] [--data-dir DIR]\n               COMMAND ...\n"
              "reverie: argument COMMAND: invalid choice: 'x'\n\n")
    assert message_lines(stderr) == ["reverie: argument COMMAND: invalid choice: 'x'"]


def test_tracebacks_are_recognised() -> None:
    assert has_traceback('Traceback (most recent call last):\n  File "x.py", line 1\n')
    assert not has_traceback("reverie: The note is empty; give some text.\n")


def test_person_rows_see_a_changed_message(tmp_path: Path) -> None:
    database = tmp_path / "reverie.db"
    con = sqlite3.connect(database)
    con.executescript(
        "CREATE TABLE conversation (id INTEGER PRIMARY KEY, title, created_at);"
        "CREATE TABLE message (id INTEGER PRIMARY KEY, conversation_id, role, content,"
        " created_at);"
        "CREATE TABLE note (id INTEGER PRIMARY KEY, title, body);"
        "CREATE TABLE memory (id INTEGER PRIMARY KEY, text, pinned, edited);"
        "INSERT INTO message VALUES (1, 1, 'user', 'hello \u2028 there', 'now');")
    con.commit()
    before = person_rows(database)
    con.execute("UPDATE message SET content = 'hello there'")
    con.commit()
    con.close()
    assert len(before - person_rows(database)) == 1


def test_integrity_problem_names_a_damaged_file(tmp_path: Path) -> None:
    database = tmp_path / "reverie.db"
    con = sqlite3.connect(database)
    con.execute("CREATE TABLE t (x TEXT)")
    con.executemany("INSERT INTO t VALUES (?)", [(f"row {i} " * 40,) for i in range(2000)])
    con.commit()
    con.close()
    assert integrity_problem(database) is None
    data = bytearray(database.read_bytes())
    data[4096 * 3:4096 * 5] = b"\xa5" * 8192
    database.write_bytes(bytes(data))
    assert integrity_problem(database) is not None


def test_there_are_at_least_forty_classes() -> None:
    names = [case.name for case in CASES]
    assert len(names) == len(set(names)) >= 40


@pytest.mark.model
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_input_is_answered_clearly(workspace: Workspace, case: BadInput) -> None:
    name = case.name
    report: BadInputReport = run_bad_inputs(workspace, lambda line: None, only={name})
    if name in report.skipped:
        pytest.skip(report.skipped[name])
    assert report.clear == [name], report.problems


@pytest.mark.model
def test_kills_lose_nothing(bundled_model: Path, tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole benchmark on a small budget: a kill in each of the six operations
    (each followed by a rerun that must complete), two input classes."""
    kept = [c for c in CASES if c.name in {"unknown_command", "ask_empty_question"}]
    monkeypatch.setattr("assistant.bench.faults.inputs.bad_inputs", lambda: kept)
    result: FaultResult = run_faults_bench(bundled_model, kills=6, workspace=tmp_path)
    data = result.to_json()
    assert {"kills", "lost_rows", "integrity_failures", "bad_inputs", "bad_inputs_clear",
            "tracebacks", "classes"} <= data.keys()
    assert data["bad_inputs"] == 2 and data["classes"] == [c.name for c in kept]
    assert set(data["kills_per_operation"]) == {"import", "note_add", "sleep", "export",
                                                "settings_save", "model_download"}
    assert data["kills"] >= 6, data["problems"]
    assert data["lost_rows"] == 0 and data["integrity_failures"] == 0, data["problems"]
    assert data["rerun_failures"] == 0 and data["tracebacks"] == 0, data["problems"]
    assert not os.listdir(tmp_path), "the throw-away workspace was not removed"


def test_profile_copies_are_independent(tmp_path: Path) -> None:
    base = tmp_path / "base"
    base.mkdir()
    sqlite3.connect(db_file(base)).close()
    ws = Workspace(tmp_path, tmp_path / "m.gguf", Reverie.here())
    first, second = ws.trial("a"), ws.trial("a")
    assert first != second and db_file(first).exists() and db_file(second).exists()
