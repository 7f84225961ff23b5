"""Notes: the person's own text, imported from files or typed."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import text
from sqlmodel import col, select

from assistant.store.db import Database
from assistant.store.fts import search_rows
from assistant.store.models import Note, utcnow
from assistant.store.purge import ForgetHook, Forgotten, checkpoint, purge


def content_hash(title: str, body: str) -> str:
    return hashlib.sha256(f"{title}\0{body}".encode()).hexdigest()


class NoteRepository:
    def __init__(self, db: Database, after_delete: ForgetHook | None = None) -> None:
        self._db = db
        self._after_delete = after_delete

    def add(self, title: str, body: str, *, source_path: str | None = None,
            created_at: datetime | None = None) -> Note:
        now = created_at or utcnow()
        note = Note(title=title, body=body, source_path=source_path, created_at=now,
                    updated_at=now, content_hash=content_hash(title, body))
        with self._db.write() as s:
            s.add(note)
            s.flush()
            s.refresh(note)
        return note

    def upsert_from_file(self, source_path: str, title: str, body: str) -> tuple[Note, str]:
        """Add or update the note that mirrors a file; returns it and added|updated|unchanged."""
        digest = content_hash(title, body)
        with self._db.write() as s:
            note = s.exec(select(Note).where(Note.source_path == source_path)).first()
            if note is None:
                note = Note(title=title, body=body, source_path=source_path, content_hash=digest)
                outcome = "added"
            elif note.content_hash == digest:
                return note, "unchanged"
            else:
                note.title, note.body, note.content_hash = title, body, digest
                note.updated_at = utcnow()
                outcome = "updated"
            s.add(note)
            s.flush()
            s.refresh(note)
        return note, outcome

    def update(self, note_id: int, *, title: str | None = None, body: str | None = None) -> Note:
        with self._db.write() as s:
            note = s.get(Note, note_id)
            if note is None:
                raise KeyError(note_id)
            if title is not None:
                note.title = title
            if body is not None:
                note.body = body
            note.content_hash = content_hash(note.title, note.body)
            note.updated_at = utcnow()
            s.add(note)
            s.flush()
            s.refresh(note)
        return note

    def delete(self, note_id: int) -> Forgotten | None:
        """Delete the note and everything derived from it (see `store.purge`), then let
        ``after_delete`` remove the copies outside the database. None when there was no
        such note."""
        with self._db.write() as s:
            if s.get(Note, note_id) is None:
                return None
            gone = purge(s.connection(), notes=[note_id])
        if self._after_delete is not None:
            self._after_delete(gone)
        else:
            checkpoint(self._db.engine)
        return gone

    def get(self, note_id: int) -> Note | None:
        with self._db.session() as s:
            return s.get(Note, note_id)

    def all(self) -> list[Note]:
        """Most recently changed first."""
        with self._db.session() as s:
            return list(s.exec(select(Note).order_by(col(Note.updated_at).desc(),
                                                     col(Note.id).desc())))

    def has_any(self) -> bool:
        """Whether there is a note at all (without reading them)."""
        with self._db.session() as s:
            return s.connection().execute(text("SELECT 1 FROM note LIMIT 1")).first() is not None

    def search(self, query: str, limit: int = 20) -> list[Note]:
        with self._db.session() as s:
            return search_rows(s, Note, "note", query, limit)
