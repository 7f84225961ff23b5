"""Forgetting for real: a source and everything Reverie derived from it leave the database.

When the person deletes a note or a conversation, or forgets a memory, the text must not
survive anywhere Reverie copied it: memories whose ``sources`` name it (transitively:
summaries, day and week digests, facts, the profile block), prepared answers made from
it, journal entries about the work on it, and the FTS5 indexes (an external-content
index keeps its terms in shadow segments until they are merged, so the affected
indexes are rebuilt). :func:`purge` does all of it in the caller's transaction, with
plain SQL on a connection, so the same code also cleans database backups.
:func:`checkpoint` then empties the write-ahead log, which still holds the old pages.

Every connection runs with ``PRAGMA secure_delete=ON`` (see ``store.db``), so freed
pages are zeroed rather than left in the file.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, text

from assistant.store.fts import FTS_TABLES, fts_name

log = logging.getLogger("assistant.store")

#: Work-item kinds whose target is a bare conversation id or note id.
_CONVERSATION_KINDS = ("consolidate_conversation", "title_conversation")
_NOTE_KINDS = ("digest_note",)


@dataclass
class Forgotten:
    """What one :func:`purge` removed, by id (what the person asked for, and what followed)."""

    conversations: set[int] = field(default_factory=set)
    messages: set[int] = field(default_factory=set)
    notes: set[int] = field(default_factory=set)
    memories: set[int] = field(default_factory=set)
    anticipations: set[int] = field(default_factory=set)
    journal_entries: int = 0
    #: The rows asked for, table -> {id: created_at as stored}: identifies them in a
    #: backup even where an id was later reused for another row.
    roots: dict[str, dict[int, str]] = field(default_factory=dict)

    def touches(self, sources: Mapping[str, Iterable[int]] | None) -> bool:
        """Whether a ``sources`` mapping ({"messages": [...], "notes": [...],
        "memories": [...]}) names anything forgotten here."""
        if not sources:
            return False
        return any(set(sources.get(key, ())) & ids for key, ids in (
            ("messages", self.messages), ("notes", self.notes),
            ("memories", self.memories)))

    def to_json(self) -> dict[str, Any]:
        return {"conversations": sorted(self.conversations), "messages": sorted(self.messages),
                "notes": sorted(self.notes), "memories": sorted(self.memories),
                "anticipations": sorted(self.anticipations),
                "journal_entries": self.journal_entries}


#: Called after a repository deleted rows, with what went: removes the copies outside
#: the database (saved KV states, backups); see ``mind.forget.Forgetter.forget_copies``.
ForgetHook = Callable[[Forgotten], None]


def _sources(raw: Any) -> dict[str, list[int]]:
    if raw is None:
        return {}
    data = json.loads(raw) if isinstance(raw, str | bytes) else raw
    return data if isinstance(data, dict) else {}


def _ids(con: Connection, sql: str, params: Mapping[str, Any] | None = None) -> set[int]:
    return {int(row[0]) for row in con.execute(text(sql), dict(params or {}))}


def _in(ids: Iterable[int]) -> str:
    """An SQL id list (ints only, so inlining is safe); ``(NULL)`` when empty."""
    return "(" + (", ".join(str(int(i)) for i in ids) or "NULL") + ")"


def stamps(con: Connection, table: str, ids: Iterable[int]) -> dict[int, str]:
    """{id: created_at} of the rows of ``table`` among ``ids`` that exist."""
    return {int(r[0]): str(r[1]) for r in con.execute(text(
        f"SELECT id, created_at FROM {table} WHERE id IN {_in(ids)}"))}


def superseded_history(con: Connection, memory_ids: Iterable[int]) -> set[int]:
    """The memories that ``memory_ids`` replaced, transitively (their history)."""
    out: set[int] = set()
    frontier = set(memory_ids)
    while frontier:
        older = _ids(con, f"SELECT id FROM memory WHERE superseded_by IN {_in(frontier)}")
        frontier = older - out
        out |= frontier
    return out


def purge(con: Connection, *, conversations: Iterable[int] = (), messages: Iterable[int] = (),
          notes: Iterable[int] = (), memories: Iterable[int] = (),
          with_history: bool = True) -> Forgotten:
    """Delete the given rows and everything derived from them, inside the caller's
    transaction. ``with_history`` also deletes the older versions the given memories
    superseded (a memory derived from forgotten text is deleted alone: the version it
    replaced, when it owes nothing to that text, becomes current again)."""
    gone = Forgotten(conversations=set(conversations), messages=set(messages),
                     notes=set(notes), memories=set(memories))
    gone.roots = {table: stamps(con, table, ids) for table, ids in (
        ("conversation", gone.conversations), ("message", gone.messages),
        ("note", gone.notes), ("memory", gone.memories)) if ids}
    if gone.conversations:
        gone.messages |= _ids(con, "SELECT id FROM message WHERE conversation_id IN "
                              + _in(gone.conversations))
    if with_history and gone.memories:
        gone.memories |= superseded_history(con, gone.memories)
    rows = [(int(r[0]), _sources(r[1])) for r in con.execute(text(
        "SELECT id, sources FROM memory"))]
    changed = True
    while changed:  # derived from derived: summaries -> digests -> profile
        changed = False
        for memory_id, sources in rows:
            if memory_id not in gone.memories and gone.touches(sources):
                gone.memories.add(memory_id)
                changed = True
    gone.anticipations = {int(r[0]) for r in con.execute(text(
        "SELECT id, sources FROM anticipation")) if gone.touches(_sources(r[1]))}
    questions = [str(r[0]) for r in con.execute(text(
        f"SELECT question FROM anticipation WHERE id IN {_in(gone.anticipations)}"))]
    titles = [str(r[0]) for r in con.execute(text(
        f"SELECT title FROM note WHERE id IN {_in(gone.notes)} UNION ALL "
        f"SELECT title FROM conversation WHERE id IN {_in(gone.conversations)}"))]
    gone.journal_entries = _purge_journal(con, gone, [*questions, *titles])

    con.execute(text(f"DELETE FROM anticipation WHERE id IN {_in(gone.anticipations)}"))
    # ON DELETE SET NULL makes current again what a deleted derived memory replaced.
    con.execute(text(f"DELETE FROM memory WHERE id IN {_in(gone.memories)}"))
    con.execute(text(f"DELETE FROM message WHERE id IN {_in(gone.messages)}"))
    con.execute(text(f"DELETE FROM note WHERE id IN {_in(gone.notes)}"))
    con.execute(text(f"DELETE FROM conversation WHERE id IN {_in(gone.conversations)}"))
    rebuild_fts(con)
    return gone


def _purge_journal(con: Connection, gone: Forgotten, texts: list[str]) -> int:
    """Delete the journal entries about work on forgotten rows (their summaries quote
    titles and questions; their details may hold what the model said about them)."""
    needles = [t.strip().lower() for t in texts if len(t.strip()) >= 3]
    doomed = []
    for entry_id, summary, raw in con.execute(text(
            "SELECT id, summary, details FROM journal_entry")):
        details: dict[str, Any] = _sources(raw)
        kind = str(details.get("kind", ""))
        target = str(details.get("target", ""))
        what, _, rest = target.partition(":")
        ref = rest.partition(":")[0]
        hit = (
            (kind in _CONVERSATION_KINDS and target.isdigit()
             and int(target) in gone.conversations)
            or (kind in _NOTE_KINDS and target.isdigit() and int(target) in gone.notes)
            or details.get("conversation_id") in gone.conversations
            or details.get("note_id") in gone.notes
            or (ref.isdigit() and int(ref) in {"message": gone.messages, "note": gone.notes,
                                                "memory": gone.memories}.get(what, set()))
        )
        if not hit and needles:
            blob = f"{summary}\n{json.dumps(details, ensure_ascii=False)}".lower()
            hit = any(n in blob for n in needles)
        if hit:
            doomed.append(int(entry_id))
    con.execute(text(f"DELETE FROM journal_entry WHERE id IN {_in(doomed)}"))
    return len(doomed)


def rebuild_fts(con: Connection) -> None:
    """Rebuild every FTS5 index from its table: the 'delete' a trigger writes only marks
    terms as gone, while the old segments keep them until a merge."""
    for table in FTS_TABLES:
        fts = fts_name(table)
        con.execute(text(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')"))


def checkpoint(engine: Engine, *, vacuum: bool = False) -> bool:
    """Copy the write-ahead log into the database and truncate it to zero bytes, so the
    log keeps no copy of deleted pages (``vacuum`` first rewrites the file compactly).
    False when a reader kept the log from being emptied."""
    raw = engine.raw_connection()
    try:  # outside any transaction (the pool's connections run in autocommit)
        con: Any = raw.driver_connection
        if vacuum:
            con.execute("VACUUM")
        busy = con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    finally:
        raw.close()
    if busy:
        log.warning("the write-ahead log could not be emptied now (a reader is active)")
    return not busy
