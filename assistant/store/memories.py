"""Memories as the person sees and corrects them: list, search, edit, pin, forget, undo.

Sleep-time work writes memories; this repository is the person's side of them. An edit
marks the memory ``edited`` so sleep-time work never overwrites it. Forgetting deletes
the row, and returns what is needed to put it back exactly (the "Undo" of the window).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import text
from sqlmodel import col, select

from assistant.store.db import Database
from assistant.store.fts import fts_query
from assistant.store.models import Memory, Message, Note, utcnow


@dataclass(frozen=True)
class ForgottenMemory:
    """A forgotten memory and the rows that pointed at it (``superseded_by``)."""

    memory: Memory
    superseded_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class MemorySources:
    """The messages and notes a memory came from (those that still exist)."""

    messages: list[Message]
    notes: list[Note]
    memories: list[Memory]


class MemoryRepository:
    """The person's view of the memory table; every write is one transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def all(self, *, kind: str | None = None, query: str = "",
             include_superseded: bool = False, limit: int = 500) -> list[Memory]:
        """Pinned first, then most recently changed; ``query`` searches by FTS5."""
        with self._db.session() as s:
            stmt = select(Memory)
            if kind:
                stmt = stmt.where(Memory.kind == kind)
            if not include_superseded:
                stmt = stmt.where(col(Memory.superseded_by).is_(None))
            if query.strip():
                match = fts_query(query)
                if not match:
                    return []
                ids = [row[0] for row in s.connection().execute(
                    text("SELECT rowid FROM memory_fts WHERE memory_fts MATCH :q "
                         "ORDER BY bm25(memory_fts) LIMIT :n"), {"q": match, "n": limit})]
                found = {m.id: m for m in s.exec(stmt.where(col(Memory.id).in_(ids)))}
                return [found[i] for i in ids if i in found]
            stmt = stmt.order_by(col(Memory.pinned).desc(), col(Memory.updated_at).desc(),
                                 col(Memory.id).desc()).limit(limit)
            return list(s.exec(stmt))

    def get(self, memory_id: int) -> Memory | None:
        with self._db.session() as s:
            return s.get(Memory, memory_id)

    def add(self, memory: Memory) -> Memory:
        with self._db.write() as s:
            s.add(memory)
            s.flush()
            s.refresh(memory)
        return memory

    def edit(self, memory_id: int, new_text: str, subject: str | None = None) -> Memory:
        """The person's correction; marks the memory ``edited`` (sleep time keeps it)."""
        with self._db.write() as s:
            memory = s.get(Memory, memory_id)
            if memory is None:
                raise KeyError(memory_id)
            memory.text = new_text
            if subject is not None:
                memory.subject = subject
            memory.edited = True
            memory.confidence = 1.0
            memory.updated_at = utcnow()
            s.add(memory)
            s.flush()
            s.refresh(memory)
        return memory

    def set_pinned(self, memory_id: int, pinned: bool) -> Memory:
        with self._db.write() as s:
            memory = s.get(Memory, memory_id)
            if memory is None:
                raise KeyError(memory_id)
            memory.pinned = pinned
            s.add(memory)
            s.flush()
            s.refresh(memory)
        return memory

    def forget(self, memory_id: int) -> ForgottenMemory | None:
        """Delete the memory; the result lets :meth:`restore` put it back as it was."""
        with self._db.write() as s:
            memory = s.get(Memory, memory_id)
            if memory is None:
                return None
            pointing = [m.id or 0 for m in s.exec(
                select(Memory).where(Memory.superseded_by == memory_id))]
            snapshot = Memory.model_validate(memory.model_dump())
            s.delete(memory)
        return ForgottenMemory(snapshot, pointing)

    def restore(self, forgotten: ForgottenMemory) -> Memory:
        """Undo :meth:`forget`: the same row (same id) and the links to it come back."""
        memory = Memory.model_validate(forgotten.memory.model_dump())
        with self._db.write() as s:
            s.add(memory)
            s.flush()
            for other_id in forgotten.superseded_ids:
                other = s.get(Memory, other_id)
                if other is not None and other.superseded_by is None:
                    other.superseded_by = memory.id
                    s.add(other)
            s.refresh(memory)
        return memory

    def history(self, memory_id: int) -> list[Memory]:
        """The versions this memory replaced, newest first (following ``superseded_by``)."""
        chain: list[Memory] = []
        seen = {memory_id}
        frontier = [memory_id]
        with self._db.session() as s:
            while frontier:
                older = list(s.exec(select(Memory).where(
                    col(Memory.superseded_by).in_(frontier))
                    .order_by(col(Memory.updated_at).desc())))
                frontier = []
                for m in older:
                    if m.id is not None and m.id not in seen:
                        seen.add(m.id)
                        chain.append(m)
                        frontier.append(m.id)
        return chain

    def sources(self, src: dict[str, list[int]]) -> MemorySources:
        """The messages, notes and memories a ``sources`` column lists (memory or
        anticipation: both use ``{"messages": [...], "notes": [...], "memories": [...]}``)."""
        ids = {key: [int(i) for i in src.get(key, [])] for key in ("messages", "notes",
                                                                     "memories")}
        with self._db.session() as s:
            messages = list(s.exec(select(Message).where(col(Message.id).in_(ids["messages"]))
                                   .order_by(col(Message.created_at)))) if ids["messages"] else []
            notes = list(s.exec(select(Note).where(col(Note.id).in_(ids["notes"])))) \
                if ids["notes"] else []
            memories = list(s.exec(select(Memory).where(col(Memory.id).in_(ids["memories"])))) \
                if ids["memories"] else []
        return MemorySources(messages, notes, memories)

    def count(self) -> int:
        with self._db.session() as s:
            return int(s.connection().execute(text(
                "SELECT count(*) FROM memory WHERE superseded_by IS NULL")).scalar_one())
