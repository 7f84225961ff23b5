"""Thinking conditions with fake sensor readings."""

from __future__ import annotations

import ctypes
from collections import namedtuple
from datetime import UTC, datetime, timedelta
from typing import Any

import psutil
import pytest

from assistant.idle import conditions as cond
from assistant.idle.conditions import (
    BudgetCondition,
    Condition,
    CpuLoadCondition,
    CpuSample,
    FullscreenCondition,
    PauseCondition,
    PowerCondition,
    PsutilCpuSampler,
    check_all,
    evaluate,
    windows_fullscreen,
)

Battery = namedtuple("Battery", "percent secsleft power_plugged")


def test_power_battery_below_level_blocks_and_names_the_level() -> None:
    verdict = PowerCondition(30, read=lambda: Battery(15.0, 3600, False)).check()
    assert not verdict.ok
    assert "15%" in verdict.reason and "30%" in verdict.reason
    assert verdict.condition == "power"


def test_power_passes_on_ac_above_level_and_without_battery() -> None:
    assert PowerCondition(30, read=lambda: Battery(5.0, -2, True)).check().ok
    assert PowerCondition(30, read=lambda: Battery(30.0, 3600, False)).check().ok
    assert PowerCondition(30, read=lambda: Battery(80.0, 3600, None)).check().ok
    assert not PowerCondition(30, read=lambda: Battery(20.0, 3600, None)).check().ok
    no_battery = PowerCondition(30, read=lambda: None).check()
    assert no_battery.ok and "No battery" in no_battery.reason


def test_power_unreadable_sensor_does_not_block() -> None:
    def broken() -> None:
        raise OSError("no /sys/class/power_supply")

    verdict = PowerCondition(30, read=broken).check()
    assert verdict.ok and "Cannot read" in verdict.reason


def test_default_battery_reader_runs_here() -> None:
    reading = cond.read_battery()
    assert reading is None or 0 <= reading.percent <= 100


def test_cpu_others_share_blocks_above_limit() -> None:
    busy = CpuLoadCondition(40, sample=lambda: CpuSample(total_percent=90, own_percent=20)).check()
    assert not busy.ok and "70%" in busy.reason and "40%" in busy.reason
    # Reverie's own thinking does not count against the limit.
    quiet = CpuLoadCondition(40, sample=lambda: CpuSample(total_percent=95, own_percent=80)).check()
    assert quiet.ok and "15%" in quiet.reason
    assert CpuSample(10, 30).others_percent == 0.0


CpuTimes = namedtuple("CpuTimes", "user nice system idle iowait irq softirq steal guest guest_nice")
ProcTimes = namedtuple("ProcTimes", "user system children_user children_system")


class FakeProcess:
    def __init__(self) -> None:
        self.times = ProcTimes(0.0, 0.0, 0.0, 0.0)

    def cpu_times(self) -> Any:
        return self.times


def test_psutil_sampler_computes_shares_from_cpu_times(monkeypatch: pytest.MonkeyPatch) -> None:
    system = {"times": CpuTimes(100, 0, 50, 850, 0, 0, 0, 0, 10, 0)}
    monkeypatch.setattr(psutil, "cpu_times", lambda: system["times"])
    process = FakeProcess()
    sampler = PsutilCpuSampler(process, cpu_count=2)
    # 200 CPU-seconds pass on 2 CPUs: 120 busy (60 of them ours), 80 idle/iowait.
    system["times"] = CpuTimes(190, 0, 80, 910, 20, 0, 0, 0, 40, 0)
    process.times = ProcTimes(45.0, 15.0, 99.0, 99.0)
    sample = sampler()
    assert sample.total_percent == pytest.approx(60.0)
    assert sample.own_percent == pytest.approx(30.0)
    assert sample.others_percent == pytest.approx(30.0)
    # No time passed: no division by zero, no load.
    assert sampler() == CpuSample(0.0, 0.0)


def test_real_psutil_sampler_returns_percentages() -> None:
    sampler = PsutilCpuSampler()
    sum(i * i for i in range(200_000))
    sample = sampler()
    assert 0.0 <= sample.own_percent <= 100.0
    assert 0.0 <= sample.total_percent <= 100.0
    assert CpuLoadCondition(101).check().ok


def test_pause_blocks_and_says_when_it_resumes() -> None:
    now = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    until = now + timedelta(hours=2, minutes=30)
    verdict = PauseCondition(until, now=lambda: now).check()
    assert not verdict.ok
    assert until.astimezone().strftime("%H:%M") in verdict.reason
    assert verdict.reason.startswith("Thinking is paused until")

    later = until + timedelta(minutes=1)
    assert PauseCondition(until, now=lambda: later).check().ok
    assert PauseCondition(None).check().ok


def test_pause_on_another_day_and_indefinitely() -> None:
    now = datetime(2026, 3, 2, 9, 0).astimezone()
    tomorrow = now + timedelta(days=1)
    assert "tomorrow at" in PauseCondition(tomorrow, now=lambda: now).check().reason
    next_week = now + timedelta(days=6)
    assert "2026" in PauseCondition(next_week, now=lambda: now).check().reason
    forever = PauseCondition(datetime.max).check()
    assert not forever.ok and "until you resume it" in forever.reason


def test_budget_spent_blocks() -> None:
    spent = BudgetCondition(daily_budget_minutes=60, spent_minutes_today=61).check()
    assert not spent.ok and "60 minutes" in spent.reason and "used up" in spent.reason
    left = BudgetCondition(60, 45)
    assert left.check().ok and left.remaining_minutes == 15
    assert "15 of 60 minutes" in left.check().reason
    assert not BudgetCondition(0, 0).check().ok


def test_fullscreen_unknown_says_so_and_does_not_block() -> None:
    unknown = FullscreenCondition(detect=lambda: None).check()
    assert unknown.ok and "Cannot tell on this platform" in unknown.reason
    assert not FullscreenCondition(detect=lambda: True).check().ok
    assert FullscreenCondition(detect=lambda: False).check().ok


class FakeShell32:
    def __init__(self, state: int, hresult: int = 0) -> None:
        self.state, self.hresult = state, hresult

    def SHQueryUserNotificationState(self, out: Any) -> int:
        assert isinstance(out.contents, ctypes.c_int)
        out.contents.value = self.state
        return self.hresult


@pytest.mark.parametrize(
    ("state", "expected"), [(1, False), (2, True), (3, True), (4, True), (5, False), (7, False)]
)
def test_windows_notification_state(state: int, expected: bool) -> None:
    assert windows_fullscreen(FakeShell32(state)) is expected


def test_windows_notification_state_error_is_unknown() -> None:
    assert windows_fullscreen(FakeShell32(4, hresult=-2147467259)) is None


def test_check_all_returns_only_blockers_in_order() -> None:
    conditions: list[Condition] = [
        PowerCondition(30, read=lambda: Battery(10, 100, False)),
        PauseCondition(None),
        BudgetCondition(10, 10),
        FullscreenCondition(detect=lambda: None),
    ]
    blockers = check_all(conditions)
    assert [b.condition for b in blockers] == ["power", "budget"]
    assert [v.ok for v in evaluate(conditions)] == [False, True, False, True]
    assert check_all([PauseCondition(None)]) == []
