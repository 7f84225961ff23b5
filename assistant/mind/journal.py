"""Sleep sessions and their journal: what each idle period did ("While you were away")."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from assistant.mind.work import Usage
from assistant.store.db import Database
from assistant.store.models import JournalEntry, SleepSession, utcnow

log = logging.getLogger("assistant.mind")

#: journal_entry.kind values written by the runner.
ITEM_DONE = "item_done"
ITEM_FAILED = "item_failed"
SESSION = "session"
MAINTENANCE = "maintenance"


def _aware(when: datetime) -> datetime:
    """SQLite gives naive datetimes back; they were stored as UTC."""
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def add_entry(s: Session, session_id: int | None, kind: str, summary: str,
              details: dict[str, Any] | None = None) -> JournalEntry:
    entry = JournalEntry(session_id=session_id, kind=kind, summary=summary,
                         details=details or {})
    s.add(entry)
    return entry


class Journal:
    """Sleep-session rows and journal entries."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def start_session(self) -> SleepSession:
        with self._db.write() as s:
            row = SleepSession()
            s.add(row)
            s.flush()
            s.refresh(row)
            return row

    def end_session(self, session_id: int, stopped_because: str, summary: str,
                    report: dict[str, Any], items_done: int, usage: Usage) -> None:
        """Close the session with its totals (tokens of interrupted items included)."""
        with self._db.write() as s:
            row = s.get(SleepSession, session_id)
            if row is None:
                return
            row.ended_at = utcnow()
            row.stopped_because = stopped_because
            row.items_done = items_done
            row.prompt_tokens = usage.prompt_tokens
            row.completion_tokens = usage.completion_tokens
            s.add(row)
            add_entry(s, session_id, SESSION, summary, report)

    def recover_unfinished(self, keep_open: int | None = None) -> int:
        """Sessions a crash left open: closed as ``error`` at their last journal entry."""
        with self._db.write() as s:
            rows = list(s.exec(select(SleepSession).where(col(SleepSession.ended_at).is_(None))))
            for row in rows:
                if row.id == keep_open:
                    continue
                last = s.exec(select(func.max(JournalEntry.created_at))
                              .where(JournalEntry.session_id == row.id)).one()
                row.ended_at = last or row.started_at
                row.stopped_because = "error"
                s.add(row)
                add_entry(s, row.id, SESSION, "Reverie stopped unexpectedly during this "
                          "session; unfinished work will resume.", {"crashed": True})
            return len([r for r in rows if r.id != keep_open])

    def seconds_since(self, since: datetime, now: datetime | None = None) -> float:
        """Seconds of sleep sessions since ``since`` (an open session counts up to ``now``)."""
        now = now or utcnow()
        since = _aware(since)
        total = 0.0
        with self._db.session() as s:
            rows = s.exec(select(SleepSession).where(
                col(SleepSession.started_at) >= since.astimezone(UTC)))
            for row in rows:
                end = _aware(row.ended_at) if row.ended_at is not None else now
                total += max(0.0, (end - _aware(row.started_at)).total_seconds())
        return total

    def seconds_today(self, now: datetime | None = None) -> float:
        """Seconds spent thinking since local midnight (the daily budget)."""
        local_now = (now or utcnow()).astimezone()
        midnight = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
        return self.seconds_since(midnight, now)

    def entries(self, session_id: int | None = None, limit: int = 100) -> list[JournalEntry]:
        """Newest first."""
        with self._db.session() as s:
            query = select(JournalEntry).order_by(col(JournalEntry.id).desc()).limit(limit)
            if session_id is not None:
                query = query.where(JournalEntry.session_id == session_id)
            return list(s.exec(query))

    def sessions(self, limit: int = 20) -> list[SleepSession]:
        """Newest first."""
        with self._db.session() as s:
            return list(s.exec(select(SleepSession)
                               .order_by(col(SleepSession.id).desc()).limit(limit)))
