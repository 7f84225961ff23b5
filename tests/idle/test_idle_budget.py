"""The daily thinking budget arithmetic."""

from __future__ import annotations

from assistant.idle.budget import MIN_THINK_NOW_SECONDS, budget_left_seconds, think_now_seconds


def test_budget_left_is_the_unspent_part_and_never_negative() -> None:
    assert budget_left_seconds(30, 0) == 1800
    assert budget_left_seconds(30, 600) == 1200
    assert budget_left_seconds(30, 5000) == 0


def test_think_now_gets_what_is_left_but_at_least_a_minute() -> None:
    assert think_now_seconds(30, 600) == 1200
    assert think_now_seconds(30, 1790) == MIN_THINK_NOW_SECONDS
    assert think_now_seconds(0, 0) == MIN_THINK_NOW_SECONDS
