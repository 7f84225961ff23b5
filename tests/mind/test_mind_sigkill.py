"""`reverie sleep` killed with SIGKILL in the middle of an item leaves a consistent database."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
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


def _running_item(db_file: Path) -> int | None:
    con = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True, timeout=5)
    try:
        row = con.execute("SELECT id FROM work_item WHERE state = 'running'").fetchone()
        return None if row is None else int(row[0])
    except sqlite3.OperationalError:
        return None
    finally:
        con.close()


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
    cli = [sys.executable, "-m", "assistant", "--data-dir", str(data_dir)]
    subprocess.run([*cli, "import", "chats", str(chats)], env=env, check=True,
                   capture_output=True, timeout=60)
    db_file = data_dir / "reverie.db"
    proc = subprocess.Popen([*cli, "sleep", "--json"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while (killed := _running_item(db_file)) is None:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "no item ever started"
            time.sleep(0.02)
        time.sleep(0.3)  # in the middle of the model's work on that item
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    finally:
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
