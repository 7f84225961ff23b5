"""Memories: derived data (facts, summaries, digests, the profile) that point back to sources.

The person may read, edit, pin and forget memories; sleep-time work never overwrites a
memory that is pinned or edited (see `mind.reconcile`). Forgetting deletes the memory,
the older versions it superseded (they are its history) and everything derived from it
(`store.purge`); `forget` returns what `restore` needs to bring the memory and its
history back (what was derived from it, sleep time derives again).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text
from sqlmodel import Session, col, select

from assistant.store.db import Database
from assistant.store.fts import search_rows
from assistant.store.models import Memory, MemoryKind, Message, Note, utcnow
from assistant.store.purge import ForgetHook, checkpoint, purge


@dataclass
class MemorySources:
    """What a memory came from, as far as those rows still exist."""

    messages: list[Message] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    memories: list[Memory] = field(default_factory=list)


@dataclass(frozen=True)
class ForgottenMemory:
    """Everything `MemoryRepository.restore` needs to undo a `forget` (rows newest first)."""

    memory_id: int
    rows: tuple[dict[str, Any], ...]


def _row(memory: Memory) -> dict[str, Any]:
    return memory.model_dump()


class MemoryRepository:
    """Reads and changes memories; every change is one transaction."""

    def __init__(self, db: Database, after_delete: ForgetHook | None = None) -> None:
        self._db = db
        self._after_delete = after_delete

    def list(self, kind: str | None = None, include_superseded: bool = False) -> list[Memory]:
        """Newest first."""
        with self._db.session() as s:
            query = select(Memory).order_by(col(Memory.updated_at).desc(), col(Memory.id).desc())
            if kind is not None:
                query = query.where(Memory.kind == kind)
            if not include_superseded:
                query = query.where(col(Memory.superseded_by).is_(None))
            return list(s.exec(query))

    def get(self, memory_id: int) -> Memory | None:
        with self._db.session() as s:
            return s.get(Memory, memory_id)

    def all(self, *, kind: str | None = None, query: str = "",
            include_superseded: bool = False, limit: int = 500) -> builtins.list[Memory]:
        """For the Memory page: pinned first, then most recently changed; ``query``
        searches by FTS5 (best first)."""
        if query.strip():
            found = self.search(query, limit, include_superseded)
            return [m for m in found if kind is None or m.kind == kind]
        with self._db.session() as s:
            stmt = select(Memory).order_by(col(Memory.pinned).desc(),
                                           col(Memory.updated_at).desc(),
                                           col(Memory.id).desc()).limit(limit)
            if kind:
                stmt = stmt.where(Memory.kind == kind)
            if not include_superseded:
                stmt = stmt.where(col(Memory.superseded_by).is_(None))
            return list(s.exec(stmt))

    def count(self) -> int:
        """Current (not superseded) memories."""
        with self._db.session() as s:
            return int(s.connection().execute(text(
                "SELECT count(*) FROM memory WHERE superseded_by IS NULL")).scalar_one())

    def add(self, memory: Memory) -> Memory:
        with self._db.write() as s:
            s.add(memory)
            s.flush()
            s.refresh(memory)
        return memory

    def search(self, query: str, limit: int = 20, include_superseded: bool = False
               ) -> builtins.list[Memory]:
        """Full-text search (BM25 order) over subject and text."""
        superseded = "" if include_superseded else "AND t.superseded_by IS NULL"
        with self._db.session() as s:
            return search_rows(s, Memory, "memory", query, limit, where=superseded)

    def history(self, memory_id: int) -> builtins.list[Memory]:
        """The memory and every older version it superseded, newest first."""
        with self._db.session() as s:
            return _chain(s, memory_id)

    def sources(self, memory_id: int) -> MemorySources:
        with self._db.session() as s:
            memory = s.get(Memory, memory_id)
            if memory is None:
                raise KeyError(memory_id)
        return self.sources_for(memory.sources or {})

    def sources_for(self, src: dict[str, builtins.list[int]]) -> MemorySources:
        """The rows a ``sources`` column names (memories and anticipations use the same
        ``{"messages": [...], "notes": [...], "memories": [...]}`` shape)."""
        with self._db.session() as s:
            out = MemorySources()
            if ids := src.get("messages"):
                out.messages = list(s.exec(select(Message).where(col(Message.id).in_(ids))
                                           .order_by(col(Message.created_at), col(Message.id))))
            if ids := src.get("notes"):
                out.notes = list(s.exec(select(Note).where(col(Note.id).in_(ids))))
            if ids := src.get("memories"):
                out.memories = list(s.exec(select(Memory).where(col(Memory.id).in_(ids))))
            return out

    def update_text(self, memory_id: int, text_: str) -> Memory:
        """The person's own wording; marks the memory edited so sleep time leaves it alone."""
        cleaned = " ".join(text_.split())
        if not cleaned:
            raise ValueError("A memory cannot be empty; forget it instead.")
        with self._db.write() as s:
            memory = _require(s, memory_id)
            memory.text = cleaned
            memory.edited = True
            memory.updated_at = utcnow()
            s.add(memory)
            s.flush()
            s.refresh(memory)
            return memory

    def edit(self, memory_id: int, new_text: str, subject: str | None = None) -> Memory:
        """The person's correction (text and optionally subject); marks it edited."""
        if subject is not None:
            with self._db.write() as s:
                memory = _require(s, memory_id)
                memory.subject = " ".join(subject.split())
                s.add(memory)
        return self.update_text(memory_id, new_text)

    def set_pinned(self, memory_id: int, pinned: bool) -> Memory:
        with self._db.write() as s:
            memory = _require(s, memory_id)
            memory.pinned = pinned
            memory.updated_at = utcnow()
            s.add(memory)
            s.flush()
            s.refresh(memory)
            return memory

    def forget(self, memory_id: int) -> ForgottenMemory:
        """Delete the memory, its superseded history and everything derived from it, then
        let ``after_delete`` remove the copies outside the database; returns what
        `restore` needs."""
        with self._db.write() as s:
            chain = _chain(s, memory_id)
            if not chain:
                raise KeyError(memory_id)
            rows = tuple(_row(m) for m in chain)
            gone = purge(s.connection(), memories=[memory_id])
            s.expunge_all()
        if self._after_delete is not None:
            self._after_delete(gone)
        else:
            checkpoint(self._db.engine)
        return ForgottenMemory(memory_id, rows)

    def restore(self, forgotten: ForgottenMemory) -> Memory:
        """Put forgotten rows back with their ids (undo of `forget`)."""
        with self._db.write() as s:
            for row in forgotten.rows:  # newest first: superseded_by targets exist
                s.add(Memory(**row))
                s.flush()
            memory = _require(s, forgotten.memory_id)
            s.refresh(memory)
            return memory


def _require(s: Session, memory_id: int) -> Memory:
    memory = s.get(Memory, memory_id)
    if memory is None:
        raise KeyError(memory_id)
    return memory


def _chain(s: Session, memory_id: int) -> list[Memory]:
    """``memory_id`` and, transitively, the memories it superseded (newest first)."""
    first = s.get(Memory, memory_id)
    if first is None:
        return []
    out = [first]
    seen = {memory_id}
    frontier = [memory_id]
    while frontier:
        older = list(s.exec(select(Memory).where(col(Memory.superseded_by).in_(frontier))
                            .order_by(col(Memory.updated_at).desc(), col(Memory.id).desc())))
        frontier = []
        for m in older:
            assert m.id is not None
            if m.id not in seen:
                seen.add(m.id)
                out.append(m)
                frontier.append(m.id)
    return out


def outdated_messages(con: Connection, message_ids: Iterable[int]) -> set[int]:
    """Those of ``message_ids`` whose facts were all superseded: what they said is no
    longer so (nothing should be prepared or quoted from them: it would be the old
    value). A message no fact came from is not outdated."""
    wanted = sorted({int(i) for i in message_ids})
    if not wanted:
        return set()
    rows = con.execute(text(
        "SELECT j.value, max(m.superseded_by IS NULL) FROM memory m, "
        "json_each(m.sources, '$.messages') j WHERE m.kind = 'fact' "
        f"AND j.value IN ({', '.join(str(i) for i in wanted)}) GROUP BY j.value"))
    return {int(msg_id) for msg_id, any_active in rows if not any_active}


def current_successors(con: Connection, message_ids: Iterable[int]) -> dict[int, list[int]]:
    """For each of ``message_ids`` that is outdated (`outdated_messages`), the facts that
    now hold in place of its facts: the ends of their chains of supersession, in the
    order of the facts that first superseded them (empty when a chain ends in a
    forgotten or non-fact memory)."""
    wanted = sorted({int(i) for i in message_ids})
    if not wanted:
        return {}
    rows = con.execute(text(
        "SELECT j.value, m.superseded_by FROM memory m, "
        "json_each(m.sources, '$.messages') j WHERE m.kind = 'fact' "
        f"AND j.value IN ({', '.join(str(i) for i in wanted)})"))
    newer_of: dict[int, list[int | None]] = {}
    for msg_id, newer in rows:
        newer_of.setdefault(int(msg_id), []).append(None if newer is None else int(newer))
    # outdated: every fact of the message superseded (as `outdated_messages` reads it)
    firsts = {msg: [n for n in newer if n is not None] for msg, newer in newer_of.items()
              if None not in newer}
    ends: dict[int, int | None] = {}  # memory id -> the active fact at its chain's end

    def end_of(memory_id: int) -> int | None:
        path, current = [], memory_id
        while current not in ends and current not in path:
            path.append(current)
            row = con.execute(text("SELECT kind, superseded_by FROM memory WHERE id = :i"),
                              {"i": current}).first()
            if row is None or row[0] != MemoryKind.FACT.value:
                ends[current] = None
                break
            if row[1] is None:
                ends[current] = current
                break
            current = int(row[1])
        found = ends.get(current)  # None too for a cycle (never written, guarded anyway)
        for step in path:
            ends[step] = found
        return found

    out: dict[int, list[int]] = {}
    for msg_id, newer_ids in firsts.items():
        chosen: list[int] = []
        for newer in sorted(set(newer_ids)):
            end = end_of(newer)
            if end is not None and end not in chosen:
                chosen.append(end)
        out[msg_id] = chosen
    return out
