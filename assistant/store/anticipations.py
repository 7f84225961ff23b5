"""Reading prepared answers (anticipations) for the command line and the views.

Prepared answers as the person sees them, and the daily numbers behind "Insights".

Sleep-time work writes anticipations; the window lists them (ready, stale, used) with
what they cost, finds the one behind a "prepared while you were away" answer, and
counts per day how often a prepared answer was served and how long Reverie thought.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection, func, text
from sqlmodel import col, select

from assistant.store.db import Database
from assistant.store.models import (
    Anticipation,
    AnticipationStatus,
    Message,
    Origin,
    Role,
    SleepSession,
    utcnow,
)
from assistant.text.questions import question_key

ACTIVE = (AnticipationStatus.READY.value, AnticipationStatus.USED.value)

#: What the Prepared answers view shows by default.
SHOWN_STATUSES = (AnticipationStatus.READY.value, AnticipationStatus.STALE.value,
                  AnticipationStatus.USED.value)


def _aware(when: datetime) -> datetime:
    """SQLite gives naive datetimes back; they were stored as UTC."""
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


@dataclass(frozen=True)
class DayStats:
    """One local calendar day of Insights."""

    day: date
    questions: int
    prepared_hits: int
    seconds_saved: float
    thinking_minutes: float

    @property
    def hit_rate(self) -> float:
        """Share of the day's questions answered from a prepared answer (0..1)."""
        return self.prepared_hits / self.questions if self.questions else 0.0


#: The servable prepared answers asked exactly so, after `text.questions.question_key`:
#: one indexed query (``ix_anticipation_question_key``), oldest first. Plain ``sqlite3``
#: callers can run it as it is, with ``:key`` and ``:now`` (UTC as stored:
#: "YYYY-MM-DD HH:MM:SS.ffffff").
SERVABLE_BY_KEY_SQL = (
    "SELECT id FROM anticipation WHERE question_key = :key "
    "AND status IN ('ready', 'used') AND (expires_at IS NULL OR expires_at > :now) "
    "ORDER BY id")


def servable_by_key(connection: Connection, question: str, now: datetime) -> list[int]:
    """Ids of the ready or used, unexpired prepared answers whose question has the same
    `question_key` as ``question`` (oldest first)."""
    when = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    rows = connection.execute(text(SERVABLE_BY_KEY_SQL),
                              {"key": question_key(question), "now": when})
    return [int(r[0]) for r in rows]


def list_anticipations(db: Database, *, include_inactive: bool = False) -> list[Anticipation]:
    """Newest first; only servable ones (ready, used) unless ``include_inactive``."""
    with db.session() as s:
        query = select(Anticipation).order_by(col(Anticipation.created_at).desc(),
                                              col(Anticipation.id).desc())
        if not include_inactive:
            query = query.where(col(Anticipation.status).in_(ACTIVE))
        return list(s.exec(query))


class AnticipationRepository:
    """Reads the anticipation table for the window (and adds rows, for tests and tools)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, anticipation: Anticipation) -> Anticipation:
        with self._db.write() as s:
            s.add(anticipation)
            s.flush()
            s.refresh(anticipation)
        return anticipation

    def get(self, anticipation_id: int) -> Anticipation | None:
        with self._db.session() as s:
            return s.get(Anticipation, anticipation_id)

    def all(self, statuses: tuple[str, ...] = SHOWN_STATUSES,
             limit: int = 500) -> list[Anticipation]:
        """Ready first (most predictable first), then stale, then used."""
        order = {status: i for i, status in enumerate(statuses)}
        with self._db.session() as s:
            rows = list(s.exec(select(Anticipation)
                               .where(col(Anticipation.status).in_(statuses))
                               .order_by(col(Anticipation.created_at).desc()).limit(limit)))
        rows.sort(key=lambda a: (order.get(a.status, 99), -a.predictability))
        return rows

    def count_ready(self) -> int:
        with self._db.session() as s:
            return int(s.exec(select(func.count()).select_from(Anticipation)
                              .where(Anticipation.status == AnticipationStatus.READY.value))
                       .one())

    def find_by_answer(self, answer: str) -> Anticipation | None:
        """The prepared answer whose text was served as ``answer`` (newest first)."""
        with self._db.session() as s:
            return s.exec(select(Anticipation).where(Anticipation.answer == answer.strip())
                          .order_by(col(Anticipation.id).desc())).first()

    def daily_stats(self, days: int = 14, now: datetime | None = None) -> list[DayStats]:
        """The last ``days`` local days, oldest first (days without activity included)."""
        now = (now or utcnow()).astimezone()
        first = (now - timedelta(days=days - 1)).date()
        since = datetime.combine(first, datetime.min.time()).astimezone().astimezone(UTC)
        questions: dict[date, int] = {}
        hits: dict[date, int] = {}
        minutes: dict[date, float] = {}
        with self._db.session() as s:
            messages = s.exec(select(Message.created_at, Message.role, Message.origin)
                              .where(col(Message.created_at) >= since))
            for created, role, origin in messages:
                day = _aware(created).astimezone().date()
                if role == Role.USER.value:
                    questions[day] = questions.get(day, 0) + 1
                elif role == Role.ASSISTANT.value and origin == Origin.ANTICIPATED.value:
                    hits[day] = hits.get(day, 0) + 1
            for session in s.exec(select(SleepSession)
                                  .where(col(SleepSession.started_at) >= since)):
                start = _aware(session.started_at)
                end = _aware(session.ended_at) if session.ended_at else start
                day = start.astimezone().date()
                minutes[day] = minutes.get(day, 0.0) + max(0.0, (end - start).total_seconds()
                                                           ) / 60
            cost = s.exec(select(func.avg(Anticipation.seconds))
                          .where(col(Anticipation.seconds) > 0)).one()
        per_hit = float(cost or 0.0)
        out = []
        for offset in range(days):
            day = first + timedelta(days=offset)
            n_hits = hits.get(day, 0)
            out.append(DayStats(day, questions.get(day, 0), n_hits, n_hits * per_hit,
                                minutes.get(day, 0.0)))
        return out
