"""Killing an import at a random moment and running it again ends with exactly the rows
of one clean import (issue 15's acceptance test).

``reverie import chats FILE`` runs in a child process with small batches; the test waits
until the child has committed a randomly chosen number of messages (watching the
database, not the clock), lets a random few milliseconds pass so the kill lands anywhere
in the next batch, sends SIGKILL, then imports the file again. The conversations and
messages (ids, order, text, times), the full-text index and SQLite's own integrity check
must then be those of one uninterrupted import.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import assistant
from assistant.bench import synth
from assistant.paths import Paths
from assistant.store import import_batch
from assistant.store.chats import ChatRepository
from assistant.store.db import Database
from assistant.store.importers import import_chats

MESSAGES = 1500
BATCH = 120
SEEDS = (1, 2, 3, 4, 5)


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> synth.SynthFiles:
    spec = synth.SynthSpec(MESSAGES, seed=15, end=datetime(2026, 11, 28, tzinfo=UTC))
    return synth.write_history(spec, tmp_path_factory.mktemp("history"), with_notes=False)


def snapshot(db_file: Path) -> dict[str, Any]:
    """What one import leaves: every row as stored, the index's view, and the checks."""
    con = sqlite3.connect(db_file)
    try:
        con.execute("INSERT INTO message_fts(message_fts, rank) VALUES ('integrity-check', 1)")
        return {
            "conversations": con.execute("SELECT * FROM conversation ORDER BY id").fetchall(),
            "messages": con.execute("SELECT * FROM message ORDER BY id").fetchall(),
            "found": [con.execute("SELECT rowid FROM message_fts WHERE message_fts MATCH ? "
                                  "ORDER BY rowid", (word,)).fetchall()
                      for word in ("dentist", "Lisbon", "thanks", "sourdough")],
            "integrity": con.execute("PRAGMA integrity_check").fetchall(),
        }
    finally:
        con.close()


def clean_import(path: Path, folder: Path) -> dict[str, Any]:
    db = Database.open(folder / "clean.db", folder / "backups")
    try:
        import_chats(path, ChatRepository(db))
    finally:
        db.close()
    return snapshot(folder / "clean.db")


def committed_messages(db_file: Path) -> int:
    """Messages committed so far by the child (0 while it creates the database)."""
    if not db_file.exists():
        return 0
    try:
        con = sqlite3.connect(f"{db_file.as_uri()}?mode=ro", uri=True, timeout=5)
        try:
            return int(con.execute("SELECT count(*) FROM message").fetchone()[0])
        finally:
            con.close()
    except sqlite3.OperationalError:  # no table yet: the migrations are still running
        return 0


def start_import(profile: Path, path: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(Path(assistant.__file__).resolve().parents[1])
    env[import_batch.BATCH_MESSAGES_ENV] = str(BATCH)
    return subprocess.Popen([sys.executable, "-m", "assistant", "--data-dir", str(profile),
                             "import", "chats", str(path)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def kill_when(child: subprocess.Popen[bytes], db_file: Path, target: int,
              rng: random.Random) -> int:
    """SIGKILL ``child`` once ``target`` messages are committed, plus a random delay;
    returns how many messages were committed when it died."""
    deadline = time.monotonic() + 120
    while committed_messages(db_file) < target and child.poll() is None:
        assert time.monotonic() < deadline, "the import made no progress for 2 minutes"
        time.sleep(0.005)  # polling the database: the condition, not a guess, ends this
    time.sleep(rng.uniform(0, 0.03))  # the random moment itself (a batch takes about this)
    if child.poll() is None:
        child.send_signal(signal.SIGKILL)
    child.wait()
    return committed_messages(db_file)


@pytest.mark.parametrize("kind", ["chatgpt", "jsonl"])
def test_a_killed_import_run_again_ends_exactly_like_one_clean_import(
        history: synth.SynthFiles, tmp_path: Path, kind: str) -> None:
    path = history.chatgpt if kind == "chatgpt" else history.jsonl
    assert path is not None
    clean = clean_import(path, tmp_path)
    assert len(clean["messages"]) == MESSAGES and clean["integrity"] == [("ok",)]
    interrupted = 0
    for seed in SEEDS:
        rng = random.Random(f"{kind}:{seed}")
        profile = tmp_path / f"killed-{seed}"
        db_file = Paths.resolve(profile).database_file
        # From "before the first commit" (even during the migrations) to near the end.
        target = rng.choice([0, *range(BATCH, MESSAGES - BATCH, BATCH)])
        child = start_import(profile, path)
        at_kill = kill_when(child, db_file, target, rng)
        if child.returncode == -signal.SIGKILL and at_kill < MESSAGES:
            interrupted += 1
        elif child.returncode != -signal.SIGKILL:  # killed after its last commit: fine too
            assert child.returncode == 0, child.stderr.read() if child.stderr else ""
        if child.stderr:
            child.stderr.close()

        db = Database.open(db_file, profile / "backups")
        try:
            again = import_chats(path, ChatRepository(db))
        finally:
            db.close()
        assert again.messages_added == MESSAGES - at_kill
        assert snapshot(db_file) == clean, f"seed {seed}: killed at {at_kill} messages"
    assert interrupted >= 3, "too few runs were killed before they finished"
