"""Storing imported conversations in batches that survive a kill.

A year of chats is 100,000 messages. Storing them one ORM object, one transaction and
one FTS flush at a time took 782 s (issue 15); this module stores them the way a bulk
load should, and keeps the import's promises
(docs/ARCHITECTURE.md, "Import and export formats"):

- **Whole conversations per transaction.** A batch holds complete conversations, a few
  thousand messages in all, and is committed in one transaction. A kill (or a full disk,
  or Cancel in the window) rolls back at most the batch being written.
- **Resumable, never twice.** Every imported conversation carries a stable
  ``import_key`` (unique in the table); a batch looks its keys up in one query and adds
  only the messages a stored conversation lacks (role, text and time, as a multiset).
  Running an interrupted import again therefore skips what was committed and continues,
  and ends with exactly the rows, ids and order of one uninterrupted import: ids are
  given out in file order, ``max(id) + 1`` onwards, under the write lock.
- **Few statements.** Messages go in as multi-row ``INSERT`` statements (thousands of
  rows each). The FTS triggers still index every row, but within one statement; with
  one ``INSERT`` per row (``executemany``) the same rows and triggers cost twice the
  CPU (measured on 20,000 messages: 4.8 s against 2.6 s).
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import chain
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlmodel import Session, col, select

from assistant.store.db import Database
from assistant.store.models import Conversation, Message, Origin

log = logging.getLogger("assistant.store")

T = TypeVar("T")

#: A batch is committed once it holds this many messages (overridable, see below)...
BATCH_MESSAGES = 4000
#: ... or this many characters of message text, whichever comes first.
BATCH_CHARS = 16 * 1024 * 1024
#: Sets BATCH_MESSAGES for one run: the kill tests use small batches to get many of them.
BATCH_MESSAGES_ENV = "REVERIE_IMPORT_BATCH_MESSAGES"


@dataclass
class ParsedMessage:
    role: str
    content: str
    created_at: datetime
    #: The message's id in the profile it was exported from (memory sources point at it).
    source_id: int | None = None


@dataclass
class ParsedConversation:
    key: str
    title: str
    messages: list[ParsedMessage]
    created_at: datetime | None = None
    archived: bool = False


@dataclass
class ImportReport:
    """What an import did; ``to_json`` is what ``reverie import --json`` prints."""

    conversations_added: int = 0
    conversations_updated: int = 0
    #: Conversations of the file already stored whole (an earlier or interrupted run).
    conversations_unchanged: int = 0
    messages_added: int = 0
    notes_added: int = 0
    notes_updated: int = 0
    notes_unchanged: int = 0
    memories_added: int = 0
    memories_unchanged: int = 0
    #: ChatGPT keeps regenerated answers and edited questions as branches; only the
    #: branch the person was last on is imported.
    branches_skipped: int = 0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = []
        if self.conversations_added or self.conversations_updated or self.messages_added:
            parts.append(f"{self.conversations_added} conversations added, "
                         f"{self.conversations_updated} updated, "
                         f"{self.messages_added} messages added")
        if self.notes_added or self.notes_updated or self.notes_unchanged:
            parts.append(f"{self.notes_added} notes added, {self.notes_updated} updated, "
                         f"{self.notes_unchanged} unchanged")
        if self.memories_added or self.memories_unchanged:
            parts.append(f"{self.memories_added} memories added, "
                         f"{self.memories_unchanged} already there")
        if not parts:
            parts.append("nothing new to import")
        elif self.conversations_unchanged and (self.conversations_added
                                               or self.conversations_updated):
            parts.append(f"{self.conversations_unchanged} conversations were already there")
        if self.branches_skipped:
            parts.append(f"{self.branches_skipped} alternative ChatGPT branches left out "
                         "(the current branch of each conversation is imported)")
        if self.problems:
            parts.append(f"{len(self.problems)} skipped")
        return "; ".join(parts) + "."

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ImportProgress:
    """How far an import is, after each committed batch."""

    conversations: int
    messages_added: int
    bytes_read: int
    bytes_total: int

    @property
    def fraction(self) -> float:
        """Share of the file read, 0 to 1 (1 for an empty file)."""
        if self.bytes_total <= 0:
            return 1.0
        return min(1.0, self.bytes_read / self.bytes_total)


ProgressCallback = Callable[[ImportProgress], None]


class ImportCancelled(Exception):
    """The import was stopped on request after a committed batch; ``report`` says what was
    stored. Importing the same file again continues where it stopped."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__("import stopped")
        self.report = report


def typed_key(conversation_id: int, first: Message) -> str:
    """The export key of a conversation typed in Reverie (it has no ``import_key``):
    named by its id and first message, so importing an export into the profile it came
    from finds the conversation again instead of copying it, and two conversations
    that start alike stay two."""
    digest = hashlib.sha256("\0".join((str(conversation_id), first.role,
                                       first.created_at.isoformat(), first.content)
                                      ).encode()).hexdigest()[:32]
    return f"typed:{digest}"


def batch_messages() -> int:
    """:data:`BATCH_MESSAGES`, or the positive whole number in :data:`BATCH_MESSAGES_ENV`."""
    raw = os.environ.get(BATCH_MESSAGES_ENV, "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else BATCH_MESSAGES


@dataclass
class _Outcome:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    messages: int = 0
    ids: dict[int, int] = field(default_factory=dict)


class BatchWriter:
    """Collects parsed conversations and stores them a batch (one transaction) at a time.

    :meth:`add` commits a batch whenever it is full; call :meth:`flush` at the end for
    the last one. Counts go to ``report`` only once their batch is committed.
    """

    def __init__(self, db: Database, report: ImportReport, *,
                 max_messages: int | None = None, max_chars: int = BATCH_CHARS) -> None:
        self._db = db
        self._report = report
        self._max_messages = max_messages or batch_messages()
        self._max_chars = max_chars
        self._pending: list[ParsedConversation] = []
        self._keys: set[str] = set()
        self._messages = 0
        self._chars = 0
        self._typed: dict[str, int] | None = None
        #: Conversations of committed batches (stored, extended or found whole).
        self.conversations_done = 0
        #: exported message id -> the id of the same message here (export folders).
        self.message_ids: dict[int, int] = {}
        #: conversation key -> its id here, for the committed batches.
        self.conversation_ids: dict[str, int] = {}

    def add(self, conv: ParsedConversation) -> bool:
        """Queue ``conv``; True when a batch was committed (``conv`` may still be queued)."""
        flushed = False
        if conv.key in self._keys:  # the same conversation twice: the first goes in first
            self.flush()
            flushed = True
        self._pending.append(conv)
        self._keys.add(conv.key)
        self._messages += len(conv.messages)
        self._chars += sum(len(m.content) for m in conv.messages)
        if self._messages >= self._max_messages or self._chars >= self._max_chars:
            self.flush()
            flushed = True
        return flushed

    def flush(self) -> None:
        """Commit what is queued, in one transaction."""
        if not self._pending:
            return
        batch = self._pending
        with self._db.write() as session:
            outcome = self._write(session, batch)
        self._pending, self._keys, self._messages, self._chars = [], set(), 0, 0
        report = self._report
        report.conversations_added += outcome.added
        report.conversations_updated += outcome.updated
        report.conversations_unchanged += outcome.unchanged
        report.messages_added += outcome.messages
        self.message_ids.update(outcome.ids)
        self.conversations_done += len(batch)
        log.debug("import: batch of %d conversations committed (%d messages added)",
                  len(batch), outcome.messages)

    # -- one transaction ------------------------------------------------------------------
    def _write(self, session: Session, batch: list[ParsedConversation]) -> _Outcome:
        con = session.connection()
        when = _time_text(con)
        found = self._find(session, con, [c.key for c in batch])
        stored = _stored_messages(con, list(found.values()))
        next_conv = _max_id(con, "conversation")
        next_msg = _max_id(con, "message")
        out = _Outcome()
        conversations: list[tuple[Any, ...]] = []
        messages: list[tuple[Any, ...]] = []
        touched: list[tuple[str, int]] = []
        imported = Origin.IMPORTED.value
        for conv in batch:
            target = found.get(conv.key)
            new: list[ParsedMessage] = []
            if target is None:
                next_conv += 1
                target = next_conv
                created = conv.created_at or conv.messages[0].created_at
                last = max([created, *(m.created_at for m in conv.messages)])
                conversations.append((target, conv.title, when(created), when(last),
                                       conv.archived, conv.key))
                new = conv.messages
                out.added += 1
            else:
                have = stored.get(target, {})
                for m in conv.messages:
                    ids = have.get((m.role, m.content, when(m.created_at)))
                    if ids:  # a multiset: two equal messages in the file need two stored
                        found_id = ids.pop(0)
                        if m.source_id is not None:
                            out.ids[m.source_id] = found_id
                    else:
                        new.append(m)
                if new:
                    touched.append((when(max(m.created_at for m in new)), target))
                    out.updated += 1
                else:
                    out.unchanged += 1
            for m in new:
                next_msg += 1
                messages.append((next_msg, target, m.role, m.content, when(m.created_at),
                                 imported))
                if m.source_id is not None:
                    out.ids[m.source_id] = next_msg
            out.messages += len(new)
            self.conversation_ids[conv.key] = target
        _insert_rows(con, "conversation",
                     ("id", "title", "created_at", "updated_at", "archived", "import_key"),
                     conversations)
        _insert_rows(con, "message",
                     ("id", "conversation_id", "role", "content", "created_at", "origin"),
                     messages)
        if touched:
            con.exec_driver_sql("UPDATE conversation SET updated_at = max(updated_at, ?) "
                                "WHERE id = ?", touched)
        return out

    def _find(self, session: Session, con: Connection, keys: list[str]) -> dict[str, int]:
        """key -> stored conversation id, for the keys already here."""
        found: dict[str, int] = {}
        for chunk in _chunks(keys, 500):
            marks = ",".join("?" * len(chunk))
            rows = con.exec_driver_sql(
                f"SELECT import_key, id FROM conversation WHERE import_key IN ({marks})",
                tuple(chunk))
            found.update((str(k), int(i)) for k, i in rows)
        typed = [k for k in keys if k not in found and k.startswith("typed:")]
        if typed:
            if self._typed is None:  # built once, on the first typed conversation
                self._typed = _typed_conversations(session)
            found.update((k, self._typed[k]) for k in typed if k in self._typed)
        return found


def _typed_conversations(session: Session) -> dict[str, int]:
    """typed key -> id of each conversation without an import key (typed in Reverie)."""
    unkeyed = set(session.exec(select(Conversation.id).where(
        col(Conversation.import_key).is_(None))))
    out: dict[str, int] = {}
    for m in session.exec(select(Message).where(col(Message.conversation_id).in_(unkeyed))
                          .order_by(col(Message.created_at), col(Message.id))):
        if m.conversation_id in unkeyed:
            unkeyed.discard(m.conversation_id)
            out[typed_key(m.conversation_id, m)] = m.conversation_id
    return out


def _time_text(con: Connection) -> Callable[[datetime], str]:
    """How the message table stores a time (its column type's own conversion), so
    parsed times compare with stored ones as text and are written the same way."""
    column_type = Message.__table__.c.created_at.type  # type: ignore[attr-defined]
    process = column_type.dialect_impl(con.dialect).bind_processor(con.dialect)
    if process is None:
        return str
    return lambda when: str(process(when))


def _max_id(con: Connection, table: str) -> int:
    return int(con.exec_driver_sql(f"SELECT coalesce(max(id), 0) FROM {table}").scalar_one())


def _stored_messages(con: Connection, conversation_ids: list[int]
                     ) -> dict[int, dict[tuple[str, str, str], list[int]]]:
    """For each conversation: (role, content, stored time) -> message ids, oldest first."""
    out: dict[int, dict[tuple[str, str, str], list[int]]] = {}
    for chunk in _chunks(conversation_ids, 500):
        marks = ",".join("?" * len(chunk))
        rows = con.exec_driver_sql(
            "SELECT id, conversation_id, role, content, created_at FROM message "
            f"WHERE conversation_id IN ({marks}) ORDER BY created_at, id", tuple(chunk))
        for ident, conv, role, content, created in rows:
            out.setdefault(int(conv), defaultdict(list))[(role, content, str(created))].append(
                int(ident))
    return out


def _variable_limit(con: Connection) -> int:
    """How many ``?`` one statement may hold on this SQLite."""
    raw = con.connection.dbapi_connection
    if isinstance(raw, sqlite3.Connection):
        return int(raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    return 999


def _insert_rows(con: Connection, table: str, columns: Sequence[str],
                 rows: Sequence[tuple[Any, ...]]) -> None:
    """``rows`` into ``table`` with as few multi-row INSERT statements as SQLite allows."""
    if not rows:
        return
    per_statement = max(1, min(5000, _variable_limit(con) // len(columns)))
    one = "(" + ",".join("?" * len(columns)) + ")"
    head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
    for chunk in _chunks(rows, per_statement):
        params = tuple(chain.from_iterable(chunk))
        con.exec_driver_sql(head + ",".join([one] * len(chunk)), params)


def _chunks(items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
