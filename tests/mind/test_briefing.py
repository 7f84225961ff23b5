"""The morning briefing: learned start of day, timing, content and expiry."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from assistant.app import Reverie
from assistant.llm.fake import FakeEngine
from assistant.mind.briefing import (
    QUESTION,
    BriefingHandler,
    briefing_day,
    make_briefing_source,
    usual_start,
)
from assistant.mind.planner import DefaultPlanner
from assistant.mind.runner import SleepRunner
from assistant.recall.prepared import PreparedAnswers
from assistant.store.models import Origin


def _typed_at(app: Reverie, when: datetime) -> None:
    conv = app.chats.create_conversation("day")
    app.chats.add_message(conv.id or 0, "user", "good morning", origin=Origin.TYPED,
                          created_at=when)


def test_usual_start_is_the_median_first_activity(app: Reverie) -> None:
    assert usual_start(app.db, UTC) == time(8, 0)  # no history yet: a default
    base = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    for day, (h, m) in enumerate([(7, 0), (7, 30), (9, 0), (7, 15)], start=1):
        _typed_at(app, base - timedelta(days=day) + timedelta(hours=h, minutes=m))
        _typed_at(app, base - timedelta(days=day) + timedelta(hours=h + 3))  # later the same day
    assert usual_start(app.db, UTC) == time(7, 22)


def test_briefing_is_prepared_only_in_the_hours_before_the_start(app: Reverie) -> None:
    day = date(2026, 11, 24)
    local = datetime(2026, 11, 24, 6, 0).astimezone()
    assert briefing_day(app.db, lambda: local) == day
    assert briefing_day(app.db, lambda: local.replace(hour=12)) is None
    evening = datetime(2026, 11, 23, 23, 0).astimezone()
    assert briefing_day(app.db, lambda: evening) == day


def test_the_briefing_lists_today_and_open_tasks_and_is_served(
        app: Reverie, fake_engine: FakeEngine) -> None:
    today = date.today()
    label = today.strftime("%d %B").lstrip("0")
    conv = app.chats.create_conversation("Plans")
    app.chats.add_message(conv.id or 0, "user", f"Dentist on {label} at 10:30.")
    app.notes.add("Heron", "Open tasks: write the migration guide\nDeadline: far away")
    at_six = datetime.combine(today, time(6, 0)).astimezone()
    planner = DefaultPlanner(app.db, [make_briefing_source(lambda: at_six)])
    report = SleepRunner(app.db, fake_engine, planner, [BriefingHandler()]).run_session()
    assert report.counters.anticipations_made == 1
    found = PreparedAnswers(app.db).lookup(QUESTION)
    assert found is not None
    assert f"Dentist on {label} at 10:30." in found.answer
    assert "Heron: write the migration guide" in found.answer
