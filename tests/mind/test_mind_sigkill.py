"""`reverie sleep` killed with SIGKILL in the middle of an item leaves a consistent database."""

from __future__ import annotations

import json
import os
import select
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.app import Reverie
from assistant.config import Settings
from assistant.llm.fake import FakeEngine
from assistant.mind.journal import ITEM_DONE, Journal
from assistant.store.models import WorkState

pytestmark = [pytest.mark.model,
              pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")]

REPO = Path(__file__).resolve().parents[2]
TEXT = "We talked about the garden, the tomatoes, the beans and the long dry summer. " * 8


#: `reverie sleep --json`, except that the first time the model, at work on an item,
#: asks whether to stop (during prefill or between tokens), the child writes a line on
#: file descriptor MARK_FD and waits there for SIGKILL: the kill lands in the middle of
#: the model's work, with nothing of the item committed.
CHILD = """
import os, sys, threading
from assistant.mind.work import WorkContext

original = WorkContext.generate

def generate(self, request):
    def should_stop():
        os.write(int(os.environ["MARK_FD"]), b"working\\n")
        threading.Event().wait()
        return True

    request.should_stop = should_stop
    return original(self, request)

WorkContext.generate = generate
from assistant.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _running_item(db_file: Path) -> int | None:
    con = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True, timeout=5)
    try:
        row = con.execute("SELECT id FROM work_item WHERE state = 'running'").fetchone()
        return None if row is None else int(row[0])
    finally:
        con.close()


def _wait_for_mark(fd: int, timeout: float) -> bytes:
    ready, _, _ = select.select([fd], [], [], timeout)
    return os.read(fd, 64) if ready else b""


def test_sigkill_mid_item_leaves_the_database_consistent(tmp_path: Path,
                                                         bundled_model: Path) -> None:
    data_dir = tmp_path / "profile"
    data_dir.mkdir()
    (data_dir / "settings.toml").write_text(f'[model]\npath = "{bundled_model}"\n')
    chats = tmp_path / "chats.jsonl"
    chats.write_text(json.dumps({"title": "", "messages": [
        {"role": "user" if i % 2 == 0 else "assistant", "content": TEXT,
         "created_at": f"2026-01-01T10:00:0{i}Z"} for i in range(6)]}) + "\n")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cli = ["--data-dir", str(data_dir)]
    subprocess.run([sys.executable, "-m", "assistant", *cli, "import", "chats", str(chats)],
                   env=env, check=True, capture_output=True, timeout=60)
    db_file = data_dir / "reverie.db"
    mark_read, mark_write = os.pipe()
    errors = tmp_path / "stderr.txt"
    with errors.open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-c", CHILD, *cli, "sleep", "--json"],
                                env={**env, "MARK_FD": str(mark_write)},
                                pass_fds=[mark_write], stdout=subprocess.DEVNULL, stderr=err)
    os.close(mark_write)
    try:
        # An upper bound for a failing run, not a guess at how long the work takes.
        mark = _wait_for_mark(mark_read, 120)
        assert mark == b"working\n", errors.read_text() or "the model never started"
        killed = _running_item(db_file)
        assert killed is not None
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
        os.close(mark_read)
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    assert proc.returncode == -signal.SIGKILL

    con = sqlite3.connect(db_file)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert con.execute("SELECT state FROM work_item WHERE id = ?",
                           (killed,)).fetchone()[0] == "running"
        # Every item is either fully applied (done and journaled) or not at all.
        done = con.execute("SELECT count(*) FROM work_item WHERE state = 'done'").fetchone()[0]
        assert con.execute("SELECT count(*) FROM journal_entry WHERE kind = ?",
                           (ITEM_DONE,)).fetchone()[0] == done
    finally:
        con.close()

    def fake(_model: Path, _settings: Settings, _paths: object) -> FakeEngine:
        return FakeEngine(default=" Garden and summer")

    app = Reverie.open(data_dir, engine_factory=fake)
    try:
        assert app.db.integrity_check() == "ok"
        runner = app.sleep_runner(app.start_engine())  # start-up recovery
        assert runner._agenda.get(killed).state == WorkState.PENDING.value  # type: ignore[union-attr]
        [session] = Journal(app.db).sessions()
        assert session.stopped_because == "error" and session.ended_at is not None
        report = runner.run_session()  # the next session resumes and finishes it
        assert report.items_done >= 1
        assert runner._agenda.get(killed).state == WorkState.DONE.value  # type: ignore[union-attr]
    finally:
        app.close()
