"""Ordered ids and rows for the window's long lists, fast at 2,000 conversations,
20,000 memories and 10,000 prepared answers (issue 15).

A list in the window asks first for the ordered ids of everything it shows (integers
only, read from indexes in a few milliseconds), then loads the rows of the part on
screen by id. A text filter goes through FTS5, which at 100,000 messages can take
hundreds of milliseconds to list every match; so matches *stream*
(:meth:`ListQueries.conversation_matches`, :meth:`ListQueries.memory_matches`): the
first batch is small and arrives quickly, the rest follows, and the caller may stop
at any time (the person typed on).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from sqlalchemy import text
from sqlmodel import SQLModel, col, select

from assistant.store.db import Database
from assistant.store.models import Anticipation, Conversation, Memory

RowT = TypeVar("RowT", bound=SQLModel)

#: Matches delivered in the first batch of a streamed filter (one screen and then some).
FIRST_BATCH = 60
#: Rows read between two looks at ``should_stop``.
_CHECK_EVERY = 64


def filter_match(typed: str) -> str:
    """An FTS5 query for text typed into a filter box: every word must occur, and the
    last word, while it is being typed (no space after it yet, three letters or more),
    may be the start of a longer word ("dent" finds "dentist"). Empty when nothing
    searchable was typed."""
    words = []
    for raw in typed.replace('"', " ").split():
        word = "".join(ch for ch in raw if ch.isalnum() or ch in "-'_").strip("-'_")
        if word:
            words.append(f'"{word}"')
    if words and not typed[-1:].isspace() and len(words[-1]) >= 5:  # 3 letters + quotes
        words[-1] += "*"
    return " ".join(words)


def _ordered(rows: Sequence[RowT], ids: Sequence[int]) -> list[RowT]:
    by_id = {row.id: row for row in rows}  # type: ignore[attr-defined]
    return [by_id[i] for i in ids if i in by_id]


class ListQueries:
    """Read-only queries behind the Chat, Memory and Prepared answers lists. Safe to
    call from a worker thread (each call uses its own session)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    # -- conversations --------------------------------------------------------------------
    def conversation_ids(self) -> list[int]:
        """Every conversation not archived, most recently active first."""
        with self._db.session() as s:
            return [int(r[0]) for r in s.connection().execute(text(
                "SELECT id FROM conversation WHERE archived = 0 "
                "ORDER BY updated_at DESC, id DESC"))]

    def newest_conversation_id(self) -> int | None:
        """The conversation at the top of :meth:`conversation_ids` (None: there is none)."""
        with self._db.session() as s:
            row = s.connection().execute(text(
                "SELECT id FROM conversation WHERE archived = 0 "
                "ORDER BY updated_at DESC, id DESC LIMIT 1")).first()
            return None if row is None else int(row[0])

    def conversations(self, ids: Sequence[int]) -> list[Conversation]:
        """The conversations ``ids`` that exist, in that order."""
        with self._db.session() as s:
            rows = s.exec(select(Conversation).where(col(Conversation.id).in_(list(ids))))
            return _ordered(list(rows), ids)

    def conversation_matches(self, typed: str, should_stop: Callable[[], bool] = bool,
                             first: int = FIRST_BATCH) -> Iterator[list[int]]:
        """Conversations whose title contains ``typed`` (most recently active first),
        then those with a message matching it (the most recent mention first), in
        batches: the first ends once ``first`` conversations are found. Stops early
        when ``should_stop()``."""
        words = typed.split()
        match = filter_match(typed)
        if not words:
            return
        found: dict[int, None] = {}
        batch: list[int] = []
        with self._db.session() as s:
            con = s.connection()
            like = " AND ".join(f"title LIKE :w{i} ESCAPE '\\'" for i in range(len(words)))
            params = {f"w{i}": "%" + w.replace("\\", "\\\\").replace("%", "\\%")
                      .replace("_", "\\_") + "%" for i, w in enumerate(words)}
            for (conv_id,) in con.execute(text(
                    f"SELECT id FROM conversation WHERE archived = 0 AND {like} "
                    "ORDER BY updated_at DESC, id DESC"), params):
                found[int(conv_id)] = None
                batch.append(int(conv_id))
            if not match or len(batch) >= first:
                yield batch
                batch = []
            if not match:
                return
            rows = con.execute(text(
                "SELECT m.conversation_id FROM message_fts f JOIN message m ON m.id = f.rowid "
                "JOIN conversation c ON c.id = m.conversation_id "
                "WHERE message_fts MATCH :q AND c.archived = 0 ORDER BY f.rowid DESC"),
                {"q": match})
            for n, (conv_id,) in enumerate(rows):
                if n % _CHECK_EVERY == 0 and should_stop():
                    return
                if int(conv_id) in found:
                    continue
                found[int(conv_id)] = None
                batch.append(int(conv_id))
                if len(found) == first:
                    yield batch
                    batch = []
        yield batch

    # -- memories -------------------------------------------------------------------------
    def memory_ids(self, kind: str | None = None) -> list[int]:
        """Current memories (not superseded), pinned first, then most recently changed."""
        where = "superseded_by IS NULL" + (" AND kind = :kind" if kind else "")
        with self._db.session() as s:
            return [int(r[0]) for r in s.connection().execute(text(
                f"SELECT id FROM memory WHERE {where} "
                "ORDER BY pinned DESC, updated_at DESC, id DESC"), {"kind": kind})]

    def memory_matches(self, typed: str, kind: str | None = None,
                       should_stop: Callable[[], bool] = bool,
                       first: int = FIRST_BATCH) -> Iterator[list[int]]:
        """Current memories matching ``typed`` (subject or text), newest first, in
        batches (the first of ``first``). Stops early when ``should_stop()``."""
        match = filter_match(typed)
        if not match:
            return
        where = " AND t.kind = :kind" if kind else ""
        batch: list[int] = []
        sent = False
        with self._db.session() as s:
            rows = s.connection().execute(text(
                "SELECT t.id FROM memory_fts f JOIN memory t ON t.id = f.rowid "
                f"WHERE memory_fts MATCH :q AND t.superseded_by IS NULL{where} "
                "ORDER BY f.rowid DESC"), {"q": match, "kind": kind})
            for n, (memory_id,) in enumerate(rows):
                if n % _CHECK_EVERY == 0 and should_stop():
                    return
                batch.append(int(memory_id))
                if not sent and len(batch) == first:
                    yield batch
                    batch, sent = [], True
        yield batch

    def memories(self, ids: Sequence[int]) -> list[Memory]:
        with self._db.session() as s:
            return _ordered(list(s.exec(select(Memory).where(col(Memory.id).in_(list(ids))))),
                            ids)

    def memory_count(self) -> int:
        """Current (not superseded) memories."""
        with self._db.session() as s:
            return int(s.connection().execute(text(
                "SELECT count(*) FROM memory WHERE superseded_by IS NULL")).scalar_one())

    # -- prepared answers -----------------------------------------------------------------
    def anticipation_ids(self, statuses: Sequence[str]) -> list[int]:
        """Each status in the order given, most predictable first within it."""
        out: list[int] = []
        with self._db.session() as s:
            con = s.connection()
            for status in statuses:
                out.extend(int(r[0]) for r in con.execute(text(
                    "SELECT id FROM anticipation WHERE status = :s "
                    "ORDER BY predictability DESC, id DESC"), {"s": status}))
        return out

    def anticipations(self, ids: Sequence[int]) -> list[Anticipation]:
        with self._db.session() as s:
            rows = s.exec(select(Anticipation).where(col(Anticipation.id).in_(list(ids))))
            return _ordered(list(rows), ids)

    def anticipation_totals(self, statuses: Sequence[str]) -> dict[str, float]:
        """Per status: how many (``ready``, ``stale``, ...), and over all of them the
        ``tokens`` and ``seconds`` of thinking they cost."""
        totals: dict[str, float] = {status: 0 for status in statuses}
        totals |= {"tokens": 0, "seconds": 0.0}
        marks = ", ".join(f":s{i}" for i in range(len(statuses)))
        with self._db.session() as s:
            for status, n, tokens, seconds in s.connection().execute(text(
                    "SELECT status, count(*), total(prompt_tokens + completion_tokens), "
                    f"total(seconds) FROM anticipation WHERE status IN ({marks}) "
                    "GROUP BY status"), {f"s{i}": v for i, v in enumerate(statuses)}):
                totals[str(status)] = int(n)
                totals["tokens"] += int(tokens)
                totals["seconds"] += float(seconds)
        return totals
