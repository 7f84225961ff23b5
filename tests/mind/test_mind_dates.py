"""Relative dates resolved by rules against the message's timestamp."""

from __future__ import annotations

from datetime import datetime

import pytest

from assistant.mind.dates import format_date, mentions_date, resolve_dates

MONDAY = datetime(2026, 11, 16, 8, 12)  # Monday 16 November 2026


@pytest.mark.parametrize(("said", "resolved"), [
    ("dentist next Tuesday", "dentist next Tuesday (Tuesday 24 November 2026)"),
    ("on Friday we go", "on Friday (Friday 20 November 2026) we go"),
    ("see you tomorrow", "see you tomorrow (Tuesday 17 November 2026)"),
    ("the day after tomorrow", "the day after tomorrow (Wednesday 18 November 2026)"),
    ("done yesterday", "done yesterday (Sunday 15 November 2026)"),
    ("in 3 days", "in 3 days (Thursday 19 November 2026)"),
    ("in two weeks", "in two weeks (Monday 30 November 2026)"),
    ("next week", "next week (week of Monday 23 November 2026)"),
    ("on 5 April", "on 5 April 2027"),
    ("December 3rd", "December 3rd, 2026"),
])
def test_relative_and_bare_dates(said: str, resolved: str) -> None:
    assert resolve_dates(said, MONDAY) == resolved


@pytest.mark.parametrize("said", [
    "every Sunday evening", "bought in March 2025", "on Wednesday 25 November 2026 at 17:00",
    "no dates here",
])
def test_left_alone(said: str) -> None:
    assert resolve_dates(said, MONDAY) == said


def test_resolving_twice_changes_nothing() -> None:
    once = resolve_dates("next Tuesday and on 24 November", MONDAY)
    assert resolve_dates(once, MONDAY) == once


def test_helpers() -> None:
    assert format_date(MONDAY.date()) == "Monday 16 November 2026"
    assert mentions_date("call her every Sunday") and mentions_date("at 10:30")
    assert not mentions_date("allergic to peanuts")
