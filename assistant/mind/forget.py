"""Forget means forget: deleting a note, a conversation or a memory reaches every copy.

The database rows and everything derived from them go in one transaction
(`store.purge`); then the saved KV prefix states made from them (they hold token ids,
found by their recorded sources), the copies in database backups, the old pages still
in the write-ahead log, and what the loaded model's context holds
(`Engine.forget_loaded`). The profile block goes with the facts it quoted; the next
sleep session rebuilds it from what is left.
"""

from __future__ import annotations

import logging
from pathlib import Path

from assistant.llm.engine import Engine
from assistant.llm.prefix_cache import forget_states
from assistant.mind.maintenance import purge_backups
from assistant.store.db import Database
from assistant.store.purge import Forgotten, checkpoint, purge

log = logging.getLogger("assistant.mind")


class Forgetter:
    """Deletes what the person asks for, and every copy Reverie made of it."""

    def __init__(self, db: Database, kv_dir: Path, backups_dir: Path, *,
                 engine: Engine | None = None) -> None:
        self._db = db
        self._kv_dir = kv_dir
        self._backups_dir = backups_dir
        #: The loaded model, if any: its context may still hold the forgotten text.
        self._engine = engine

    def delete_note(self, note_id: int) -> Forgotten:
        """Raises KeyError when there is no such note."""
        return self._forget("note", note_id, Forgotten(notes={note_id}))

    def delete_conversation(self, conversation_id: int) -> Forgotten:
        """The conversation with all its messages; KeyError when there is none."""
        return self._forget("conversation", conversation_id,
                            Forgotten(conversations={conversation_id}))

    def forget_memory(self, memory_id: int) -> Forgotten:
        """The memory, its superseded history and what was derived from it; KeyError when
        there is none."""
        return self._forget("memory", memory_id, Forgotten(memories={memory_id}))

    def _forget(self, table: str, row_id: int, what: Forgotten) -> Forgotten:
        with self._db.write() as s:
            con = s.connection()
            if not con.exec_driver_sql(f"SELECT 1 FROM {table} WHERE id = ?",
                                       (row_id,)).first():
                raise KeyError(row_id)
            gone = purge(con, conversations=what.conversations, notes=what.notes,
                         memories=what.memories)
        self.forget_copies(gone)
        return gone

    def forget_copies(self, gone: Forgotten) -> None:
        """After the rows went: the saved KV states and backups made from them, the old
        pages in the write-ahead log (the repositories' ``after_delete`` hook), and what
        the loaded model's context still holds."""
        if self._engine is not None:
            self._engine.forget_loaded()
        states = forget_states(self._kv_dir, gone.touches)
        backups = purge_backups(self._backups_dir, gone)
        checkpoint(self._db.engine)
        log.info("forgot %d conversations, %d messages, %d notes, %d memories, %d prepared "
                 "answers, %d journal entries, %d saved prefix states, %d backups",
                 len(gone.conversations), len(gone.messages), len(gone.notes),
                 len(gone.memories), len(gone.anticipations), gone.journal_entries,
                 len(states), len(backups))
