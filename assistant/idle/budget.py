"""The daily thinking budget: how much of it is left, and what a session may use.

Plain arithmetic on the settings and the journal's time spent today, kept here so the
gate, the coordinator and the window's "Think now" agree on one rule.
"""

from __future__ import annotations

#: A session the person starts by hand ("Think now") may always run this long, even
#: when today's budget is spent: they asked for it.
MIN_THINK_NOW_SECONDS = 60.0


def budget_left_seconds(daily_budget_minutes: float, spent_seconds_today: float) -> float:
    """Seconds of today's budget not used yet (never negative)."""
    return max(0.0, daily_budget_minutes * 60.0 - spent_seconds_today)


def think_now_seconds(daily_budget_minutes: float, spent_seconds_today: float) -> float:
    """The budget of a "Think now" session: what is left today, at least a minute."""
    return max(MIN_THINK_NOW_SECONDS, budget_left_seconds(daily_budget_minutes,
                                                          spent_seconds_today))
