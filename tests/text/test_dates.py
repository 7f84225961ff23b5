"""Dates by rules: relative dates resolved against the message's timestamp, calendar dates
found in text."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from assistant.text.dates import dates_in, format_date, mentions_date, resolve_dates

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


SUNDAY = date(2026, 11, 22)


def test_calendar_dates_are_found_and_placed_in_the_coming_year() -> None:
    found = dates_in("Dentist on Tuesday 24 November at 10:30; flight on December 12th; "
                     "half marathon on 5 April; report due 2027-01-15; 31 February", SUNDAY)
    assert found == [date(2026, 11, 24), date(2027, 4, 5), date(2026, 12, 12),
                     date(2027, 1, 15)]
    assert dates_in("back on 21 November", SUNDAY) == [date(2026, 11, 21)]  # recent past
    assert dates_in("no dates here, only 10:30 and 2027", SUNDAY) == []
    assert dates_in("a leap day on 29 February", SUNDAY) == []  # none in 2026 or 2027


def test_dates_written_with_odd_unicode_are_still_dates() -> None:
    # A no-break space, full-width digits and upper case, as pasted from other programs.
    assert dates_in("flight on 24\u00a0NOVEMBER and \uff12\uff15 December", SUNDAY) == [
        date(2026, 11, 24), date(2026, 12, 25)]
    said = "see you on 24\u00a0November"
    assert resolve_dates(said, SUNDAY) == f"{said} 2026"
    assert mentions_date("ЗАВТРА at 10:30")  # the time counts even in another language
    assert not mentions_date("Москва, Zoë, 東京")
