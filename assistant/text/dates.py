"""Dates in text, by rules: relative dates made absolute, and calendar dates found.

Relative dates are resolved against the time a message was written (`resolve_dates`).

"next Tuesday" said on Monday 16 November 2026 becomes "next Tuesday (Tuesday 24
November 2026)"; "24 November" gets its year. Rules, not the model: a 270M model gets
calendars wrong. Conventions: "next <day>" is that day of the following week (the
first one at least 7 days ahead of the same weekday this week); "on/this <day>" is the
next such day (today excluded); a day and month without a year take the year that puts
the date nearest to the message. `dates_in` lists the calendar dates a text names, for
deciding what is still to come: there a date without a year is the next one (or one at
most half a year ago).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
          "september", "october", "november", "december")
_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
            "eight": 8, "nine": 9, "ten": 10, "a": 1, "an": 1}

_DAY = "(" + "|".join(WEEKDAYS) + ")"
_MONTH = "(" + "|".join(MONTHS) + ")"
_ANNOTATED = r"(?!\s*\()"

_RELATIVE = re.compile(
    r"\b(?:(the day after tomorrow)|(today|tonight|this evening|this morning)|(tomorrow)"
    r"|(yesterday)|(next week|next weekend|this weekend)"
    rf"|(next|this|on|coming)\s+{_DAY}(?!\s+\d)"
    r"|in\s+(\d+|one|two|three|four|five|six|seven|eight|nine|ten|a|an)\s+(days?|weeks?))\b"
    + _ANNOTATED,
    re.IGNORECASE)
_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})\s+{_MONTH}\b(?!\s*,?\s*\d{{4}})", re.IGNORECASE)
_MONTH_DAY = re.compile(rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?!\s*,?\s*\d{{4}})",
                        re.IGNORECASE)


def format_date(day: date) -> str:
    """'Tuesday 24 November 2026'."""
    return f"{WEEKDAYS[day.weekday()].capitalize()} {day.day} " \
           f"{MONTHS[day.month - 1].capitalize()} {day.year}"


def _nearest_year(day: int, month: int, ref: date) -> date | None:
    best: date | None = None
    for year in (ref.year - 1, ref.year, ref.year + 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if best is None or abs((candidate - ref).days) < abs((best - ref).days):
            best = candidate
    return best


def _weekday_after(ref: date, weekday: int, *, following_week: bool) -> date:
    ahead = (weekday - ref.weekday()) % 7 or 7
    target = ref + timedelta(days=ahead)
    if following_week:
        # "next Tuesday": the Tuesday of next week, not the one in the current week.
        monday_next = ref + timedelta(days=7 - ref.weekday())
        if target < monday_next:
            target += timedelta(days=7)
    return target


def _resolve_relative(match: re.Match[str], ref: date) -> str | None:
    g = match.groups()
    if g[0]:
        return format_date(ref + timedelta(days=2))
    if g[1]:
        return format_date(ref)
    if g[2]:
        return format_date(ref + timedelta(days=1))
    if g[3]:
        return format_date(ref - timedelta(days=1))
    if g[4]:
        phrase = g[4].lower()
        if phrase == "next week":
            start = ref + timedelta(days=7 - ref.weekday())
            return f"week of {format_date(start)}"
        saturday = ref + timedelta(days=(5 - ref.weekday()) % 7)
        if phrase == "next weekend":
            saturday += timedelta(days=7)
        return f"{format_date(saturday)} and {format_date(saturday + timedelta(days=1))}"
    if g[5] and g[6]:
        weekday = WEEKDAYS.index(g[6].lower())
        return format_date(_weekday_after(ref, weekday,
                                          following_week=g[5].lower() == "next"))
    if g[7] and g[8]:
        count = int(g[7]) if g[7].isdigit() else _NUMBERS[g[7].lower()]
        unit = 7 if g[8].lower().startswith("week") else 1
        return format_date(ref + timedelta(days=count * unit))
    return None


def resolve_dates(text: str, when: datetime | date) -> str:
    """``text`` with relative dates annotated and bare dates given their year."""
    ref = when.date() if isinstance(when, datetime) else when

    def relative(match: re.Match[str]) -> str:
        before = text[max(0, match.start() - 7):match.start()].lower()
        if "every" in before:  # "every Sunday" is a habit, not a date
            return match.group(0)
        resolved = _resolve_relative(match, ref)
        return match.group(0) if resolved is None else f"{match.group(0)} ({resolved})"

    def day_month(match: re.Match[str]) -> str:
        found = _nearest_year(int(match.group(1)), MONTHS.index(match.group(2).lower()) + 1,
                              ref)
        return match.group(0) if found is None else f"{match.group(0)} {found.year}"

    def month_day(match: re.Match[str]) -> str:
        found = _nearest_year(int(match.group(2)), MONTHS.index(match.group(1).lower()) + 1,
                              ref)
        return match.group(0) if found is None else f"{match.group(0)}, {found.year}"

    out = _RELATIVE.sub(relative, text)
    out = _DAY_MONTH.sub(day_month, out)
    return _MONTH_DAY.sub(month_day, out)


_MONTH_NUMBER = {m: i for i, m in enumerate(MONTHS, start=1)}
_CALENDAR_DATES = (
    re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+{_MONTH}(?:\s+(\d{{4}}))?\b", re.I),
    re.compile(rf"\b{_MONTH}\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?\b", re.I),
    re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"),
)


def dates_in(text: str, today: date) -> list[date]:
    """Calendar dates mentioned in ``text``; a date without a year is the next one to come
    (or one at most half a year ago). Impossible dates (31 February) are skipped."""
    found: list[date] = []
    day_month, _, iso = _CALENDAR_DATES
    for pattern in _CALENDAR_DATES:
        for m in pattern.finditer(text):
            groups = m.groups()
            try:
                if pattern is iso:
                    found.append(date(int(groups[0]), int(groups[1]), int(groups[2])))
                    continue
                if pattern is day_month:
                    day, month, year = int(groups[0]), _MONTH_NUMBER[groups[1].lower()], groups[2]
                else:
                    month, day, year = _MONTH_NUMBER[groups[0].lower()], int(groups[1]), groups[2]
                when = date(int(year) if year else today.year, month, day)
                if not year and when < today - timedelta(days=182):
                    when = when.replace(year=when.year + 1)
                found.append(when)
            except ValueError:
                continue
    return found


def mentions_date(text: str) -> bool:
    """True if ``text`` names a day, a date, a time or a recurring moment."""
    low = text.lower()
    return bool(re.search(rf"\b(\d{{1,2}}\s+{_MONTH}|{_MONTH}\s+\d{{1,2}}|{_DAY}|\d{{4}}-\d\d-\d\d"
                          r"|\d{1,2}:\d\d|every|tomorrow|today|week)", low))
