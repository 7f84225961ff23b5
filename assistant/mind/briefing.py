"""The morning briefing (opt-in): today's dated items and open tasks, ready before you are.

The person's usual start of day is learned from history: the median local time of the
first thing they typed, or came back to the computer, on each recent day. During the
idle hours before it, sleep time prepares a briefing for the coming day and stores it
as a prepared answer to "What is on my agenda today?" that expires at midnight.
"""

from __future__ import annotations

import logging
import re
import statistics
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy import text
from sqlmodel import Session, select

from assistant.mind.agenda import Proposal
from assistant.mind.work import Counters, WorkContext, WorkOutcome
from assistant.store.db import Database
from assistant.store.models import Anticipation, Message, Note, WorkItem, utcnow
from assistant.text.dates import dates_in
from assistant.text.lines import one_line

log = logging.getLogger("assistant.mind")

KIND = "briefing"
QUESTION = "What is on my agenda today?"
DEFAULT_START = time(8, 0)
#: How long before the usual start the briefing may be prepared.
LEAD = timedelta(hours=10)
MIN_DAYS = 3
_TASK_LINE = re.compile(r"^\s*(?:[-*]\s*(?:\[ \]\s*)?)?(?:to ?do|open tasks?)\s*:\s*(.+)$", re.I)

Now = Callable[[], datetime]


def _local(now: Now) -> datetime:
    return now().astimezone()


def usual_start(db: Database, tz: tzinfo | None = None, days: int = 28) -> time:
    """Median local time of the first activity on each of the last ``days`` days."""
    zone = tz or datetime.now().astimezone().tzinfo
    since = utcnow() - timedelta(days=days)
    with db.session() as s:
        typed = s.connection().execute(text(
            "SELECT created_at FROM message WHERE role = 'user' AND origin = 'typed' "
            "AND created_at >= :since"), {"since": since}).all()
        returns = s.connection().execute(text(
            "SELECT ended_at FROM sleep_session WHERE stopped_because = 'user_returned' "
            "AND ended_at >= :since"), {"since": since}).all()
    firsts: dict[date, datetime] = {}
    for (raw,) in [*typed, *returns]:
        when = raw if isinstance(raw, datetime) else datetime.fromisoformat(str(raw))
        local = (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(zone)
        if local.date() not in firsts or local < firsts[local.date()]:
            firsts[local.date()] = local
    if len(firsts) < MIN_DAYS:
        return DEFAULT_START
    minutes = statistics.median(t.hour * 60 + t.minute for t in firsts.values())
    return time(int(minutes // 60), int(minutes % 60))


def briefing_day(db: Database, now: Now = utcnow) -> date | None:
    """The day a briefing should be prepared for now, if it is the right time."""
    local = _local(now)
    start = usual_start(db, local.tzinfo)
    for day in (local.date(), local.date() + timedelta(days=1)):
        begins = datetime.combine(day, start, tzinfo=local.tzinfo)
        if begins - LEAD <= local < begins:
            return day
    return None


def make_briefing_source(now: Now = utcnow) -> Callable[[Database], Iterator[Proposal]]:
    def propose_briefing(db: Database) -> Iterator[Proposal]:
        day = briefing_day(db, now)
        if day is not None:
            yield Proposal(KIND, f"briefing:{day.isoformat()}", 0.9, once=True)

    return propose_briefing


def _items_for(db: Database, day: date) -> tuple[list[str], list[str], dict[str, list[int]]]:
    """(lines dated ``day``, open tasks, sources) from what the person wrote."""
    dated: list[str] = []
    tasks: list[str] = []
    sources: dict[str, list[int]] = {"messages": [], "notes": []}
    with db.session() as s:
        messages = list(s.exec(select(Message).where(Message.role == "user")))
        notes = list(s.exec(select(Note)))
    for m in messages:
        if day in dates_in(m.content, day - timedelta(days=1)):
            dated.append(one_line(m.content))
            sources["messages"].append(m.id or 0)
    for note in notes:
        used = False
        for line in note.body.splitlines():
            if day in dates_in(line, day - timedelta(days=1)):
                dated.append(f"{note.title}: {one_line(line)}")
                used = True
            task = _TASK_LINE.match(line)
            if task:
                tasks.append(f"{note.title}: {task.group(1).strip()}")
                used = True
        if used:
            sources["notes"].append(note.id or 0)
    return dated, tasks, sources


def compose(day: date, dated: list[str], tasks: list[str]) -> str:
    lines = [f"Your day, {day.strftime('%A %d %B').replace(' 0', ' ')}:"]
    lines += [f"- {item}" for item in dated] or ["- Nothing dated for today."]
    if tasks:
        lines.append("Still open:")
        lines += [f"- {task}" for task in tasks[:8]]
    return "\n".join(lines)


class BriefingHandler:
    """Handler for ``briefing`` items (target: ``briefing:YYYY-MM-DD``)."""

    kind = KIND

    def describe(self, item: WorkItem, db: Database) -> str:
        return f"the briefing for {item.target.partition(':')[2]}"

    def run(self, item: WorkItem, ctx: WorkContext) -> WorkOutcome:
        day = date.fromisoformat(item.target.partition(":")[2])
        dated, tasks, sources = _items_for(ctx.db, day)
        answer = compose(day, dated, tasks)
        expires = datetime.combine(day + timedelta(days=1), time(0, 0)).astimezone(UTC)
        row = Anticipation(kind=KIND, question=QUESTION, answer=answer, predictability=1.0,
                           sources=sources, expires_at=expires)

        def apply(s: Session) -> None:
            s.add(row)

        return WorkOutcome(f"Prepared your briefing for {day.isoformat()} "
                           f"({len(dated)} dated items, {len(tasks)} open tasks).",
                           apply=apply, counters=Counters(anticipations_made=1))
