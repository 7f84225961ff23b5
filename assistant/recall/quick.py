"""A prepared answer to a question asked as it was prepared, served with plain sqlite3.

`reverie ask` calls this before anything heavy is imported (SQLModel, Alembic, numpy,
the embedder, the model): a question that is, up to spaces and the final "?", one a
sleep-time session prepared (status ``ready`` or ``used``, not expired) is answered in
milliseconds, and the exchange is recorded exactly as `Responder` records a served
prepared answer (a command-line conversation, the question, the answer with origin
``anticipated``, a hit on the anticipation) in one ``BEGIN IMMEDIATE`` transaction.
The rows must read back through the ORM as the ORM's own would (tests/recall/
test_quick.py checks it column by column). A rephrased question is left to the normal
path, which matches by meaning. `find_prepared` is the one lookup to switch to an
indexed column when the table grows.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

from assistant.store.revision import expected_revision
from assistant.text.lines import clip, one_line
from assistant.text.questions import question_key

TYPE_CHECKING = False  # neither typing nor dataclasses: they cost 40 ms to import
if TYPE_CHECKING:
    from typing import Any

#: Same as `assistant.recall.responder.COMMAND_LINE_KEY` (a test keeps them equal; the
#: responder module is too heavy to import here).
COMMAND_LINE_KEY = "reverie:command-line"
#: The database's name in the data folder (`assistant.paths.Paths.database_file`).
DATABASE_NAME = "reverie.db"
_BUSY_TIMEOUT_MS = 30_000
_SERVABLE = ("ready", "used")


class QuickHit:
    """A servable prepared answer."""

    def __init__(self, anticipation_id: int, question: str, answer: str,
                 sources: dict[str, list[int]]) -> None:
        self.anticipation_id = anticipation_id
        self.question = question
        self.answer = answer
        self.sources = sources


class QuickAnswer:
    """A served prepared answer; `to_json` is the ``ask --json`` object."""

    def __init__(self, hit: QuickHit, conversation_id: int, message_ids: list[int],
                 total_ms: float, started_new: bool = False) -> None:
        self.hit = hit
        self.conversation_id = conversation_id
        self.message_ids = message_ids
        self.total_ms = total_ms
        #: ``--continue`` found no earlier command-line conversation: a new one began.
        self.started_new = started_new

    def to_json(self) -> dict[str, Any]:
        return {"answer": self.hit.answer, "source": "anticipated", "mode": "auto",
                "ttft_ms": round(self.total_ms, 1), "total_ms": round(self.total_ms, 1),
                "prompt_tokens": 0, "cached_prefix_tokens": 0, "completion_tokens": 0,
                "anticipation_id": self.hit.anticipation_id,
                "memory_ids": list(self.hit.sources.get("memories", [])),
                "model": "", "conversation_id": self.conversation_id}


def stamp(moment: datetime) -> str:
    """A timestamp as SQLAlchemy stores a UTC ``DateTime`` in SQLite."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def open_ready(database: Path) -> sqlite3.Connection | None:
    """A connection to ``database`` if the fast path may write there now: the file
    exists and is writable and its schema is this version's (anything else goes to the
    normal path, which migrates, refuses or opens read-only and says why)."""
    if not database.is_file() or not os.access(database, os.W_OK) \
            or not os.access(database.parent, os.W_OK):
        return None
    expected = expected_revision()
    if expected is None:
        return None
    try:
        con = sqlite3.connect(database, timeout=_BUSY_TIMEOUT_MS / 1000,
                              isolation_level=None)
    except sqlite3.Error:
        return None
    try:
        row = con.execute("SELECT version_num FROM alembic_version").fetchone()
        if row is None or row[0] != expected:
            con.close()
            return None
        for pragma in ("journal_mode=WAL", "foreign_keys=ON",
                       f"busy_timeout={_BUSY_TIMEOUT_MS}", "synchronous=NORMAL",
                       "secure_delete=ON"):
            con.execute(f"PRAGMA {pragma}")
    except sqlite3.Error:
        con.close()
        return None
    return con


def find_prepared(con: sqlite3.Connection, question: str,
                  now: datetime | None = None) -> QuickHit | None:
    """The servable prepared answer whose question is ``question`` up to case, spacing
    and the marks around it (`question_key`, one indexed query), the newest if several are."""
    key = question_key(question)
    if not key:
        return None
    when = stamp(now or datetime.now(UTC))
    row = con.execute(
        "SELECT id, question, answer, sources FROM anticipation WHERE question_key = ? "
        "AND status IN (?, ?) AND (expires_at IS NULL OR expires_at > ?) "
        "ORDER BY id DESC LIMIT 1", (key, *_SERVABLE, when)).fetchone()
    if row is None:
        return None
    ident, prepared, answer, sources = row
    return QuickHit(int(ident), str(prepared), str(answer),
                    dict(json.loads(sources)) if sources else {})


def _conversation(con: sqlite3.Connection, question: str, continue_last: bool,
                  now: str) -> tuple[int, bool]:
    if continue_last:
        row = con.execute(
            "SELECT id FROM conversation WHERE import_key = ? OR import_key LIKE ? "
            "ORDER BY created_at DESC, id DESC LIMIT 1",
            (COMMAND_LINE_KEY, COMMAND_LINE_KEY + ":%")).fetchone()
        if row is not None:
            return int(row[0]), False
    cursor = con.execute(
        "INSERT INTO conversation (title, created_at, updated_at, archived, import_key) "
        "VALUES (?, ?, ?, 0, ?)",
        (f"Asked: {clip(one_line(question), 60)}", now, now,
         f"{COMMAND_LINE_KEY}:{os.urandom(16).hex()}"))
    return int(cursor.lastrowid or 0), continue_last


def _message(con: sqlite3.Connection, conversation_id: int, role: str, content: str,
             origin: str) -> int:
    when = stamp(datetime.now(UTC))
    cursor = con.execute(
        "INSERT INTO message (conversation_id, role, content, created_at, token_count, "
        "origin, consolidated_at) VALUES (?, ?, ?, ?, NULL, ?, NULL)",
        (conversation_id, role, content, when, origin))
    con.execute("UPDATE conversation SET updated_at = max(updated_at, ?) WHERE id = ?",
                (when, conversation_id))
    return int(cursor.lastrowid or 0)


def record_served(con: sqlite3.Connection, question: str, hit: QuickHit, *,
                  continue_last: bool = False) -> tuple[int, list[int], bool]:
    """Store the exchange and count the hit, all or nothing: (conversation id, message
    ids, whether ``continue_last`` had to start a new conversation)."""
    con.execute("BEGIN IMMEDIATE")
    try:
        conversation_id, started_new = _conversation(con, question, continue_last,
                                                      stamp(datetime.now(UTC)))
        asked = _message(con, conversation_id, "user", question, "typed")
        said = _message(con, conversation_id, "assistant", hit.answer, "anticipated")
        con.execute("UPDATE anticipation SET hits = hits + 1, status = 'used' "
                    "WHERE id = ? AND status IN (?, ?)", (hit.anticipation_id, *_SERVABLE))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return conversation_id, [asked, said], started_new


def serve_exact(database: Path, question: str, *, continue_last: bool = False
                ) -> QuickAnswer | None:
    """Serve the prepared answer to ``question`` asked as prepared, or None (nothing
    recorded) when there is none or the database needs the normal path."""
    started = time.perf_counter()
    con = open_ready(database)
    if con is None:
        return None
    try:
        hit = find_prepared(con, question)
        if hit is None:
            return None
        conversation_id, ids, started_new = record_served(con, question, hit,
                                                          continue_last=continue_last)
    except sqlite3.Error:
        return None  # the normal path says what is wrong, in its own sentence
    finally:
        con.close()
    return QuickAnswer(hit, conversation_id, ids, (time.perf_counter() - started) * 1000,
                       started_new)
