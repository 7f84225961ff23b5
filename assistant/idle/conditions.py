"""Conditions that must hold before Reverie thinks: power, CPU, pause, budget, full screen.

Each condition is a small object with a `check()` that returns a `Verdict`: OK or
not, with a sentence the GUI and `reverie doctor` can show as is. Thresholds are
constructor arguments; the OS readings (battery, CPU times, full-screen state)
are injectable callables so tests can feed fake values.
"""

from __future__ import annotations

import ctypes
import logging
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple, Protocol

import psutil

log = logging.getLogger("assistant.idle")


@dataclass(frozen=True)
class Verdict:
    """The outcome of one condition: `ok`, and a human sentence saying why."""

    condition: str
    ok: bool
    reason: str


class Condition(Protocol):
    """Anything that can say whether thinking may start now."""

    @property
    def name(self) -> str:
        """Short identifier, e.g. "power", shown with the reason."""
        ...

    def check(self) -> Verdict:
        """Return OK or a blocking reason; never raises for an unreadable sensor."""
        ...


def evaluate(conditions: Iterable[Condition]) -> list[Verdict]:
    """Every condition's verdict, in order (for status displays and `doctor`)."""
    return [condition.check() for condition in conditions]


def check_all(conditions: Iterable[Condition]) -> list[Verdict]:
    """The blocking verdicts only, in order; an empty list means thinking may start."""
    return [verdict for verdict in evaluate(conditions) if not verdict.ok]


def _pct(value: float) -> str:
    return f"{value:.0f}%"


# --- power ---------------------------------------------------------------------------


class BatteryReading(Protocol):
    """What `psutil.sensors_battery()` returns: percent and whether mains power is in."""

    @property
    def percent(self) -> float: ...

    @property
    def power_plugged(self) -> bool | None: ...


def read_battery() -> BatteryReading | None:
    """psutil's battery reading; None when the machine has no battery."""
    sensors_battery: Callable[[], Any] | None = getattr(psutil, "sensors_battery", None)
    if sensors_battery is None:
        return None
    result: BatteryReading | None = sensors_battery()
    return result


@dataclass(frozen=True)
class PowerCondition:
    """Think on mains power, or on battery at or above `min_battery_percent`.

    No battery means mains power. An unreadable battery does not block (it is
    logged): refusing to think forever on a sensor glitch would be worse.
    """

    min_battery_percent: float = 50.0
    read: Callable[[], BatteryReading | None] = read_battery
    name: str = field(default="power", init=False)

    def check(self) -> Verdict:
        try:
            battery = self.read()
        except Exception as exc:
            log.warning("cannot read the battery: %s", exc)
            return Verdict(self.name, True, "Cannot read the battery; assuming mains power.")
        if battery is None:
            return Verdict(self.name, True, "No battery; on mains power.")
        if battery.power_plugged:
            return Verdict(self.name, True, "On mains power.")
        level = _pct(self.min_battery_percent)
        if battery.percent >= self.min_battery_percent:
            return Verdict(
                self.name, True, f"On battery at {_pct(battery.percent)}, at or above {level}."
            )
        return Verdict(
            self.name,
            False,
            f"On battery at {_pct(battery.percent)}, below the {level} set for thinking; "
            "thinking waits for mains power.",
        )


# --- CPU -----------------------------------------------------------------------------


class CpuSample(NamedTuple):
    """CPU use since the previous sample, as percent of the whole machine (0-100)."""

    total_percent: float
    own_percent: float

    @property
    def others_percent(self) -> float:
        """Share used by programs other than this one."""
        return max(0.0, self.total_percent - self.own_percent)


def _busy_and_total(times: Any) -> tuple[float, float]:
    values = times._asdict()
    # guest time is already counted in user/nice on Linux; idle and iowait are not busy.
    total = sum(v for k, v in values.items() if k not in ("guest", "guest_nice"))
    idle = values.get("idle", 0.0) + values.get("iowait", 0.0)
    return total - idle, total


class PsutilCpuSampler:
    """Measures machine-wide and own CPU use between calls, from psutil's CPU times.

    Keeps its own baseline (unlike `psutil.cpu_percent(None)`, whose baseline is
    shared by every caller in the process). The first sample covers the time since
    the sampler was created. Not thread-safe; use one sampler per caller.
    """

    def __init__(self, process: Any = None, cpu_count: int | None = None) -> None:
        self._process = process if process is not None else psutil.Process()
        self._cpus = cpu_count or psutil.cpu_count() or 1
        self._last = self._read()

    def _read(self) -> tuple[float, float, float]:
        busy, total = _busy_and_total(psutil.cpu_times())
        own_times = self._process.cpu_times()
        own = float(own_times.user + own_times.system)
        return busy, total, own

    def __call__(self) -> CpuSample:
        """CPU use since the previous call."""
        busy, total, own = self._read()
        last_busy, last_total, last_own = self._last
        self._last = (busy, total, own)
        d_total = total - last_total
        if d_total <= 0:
            return CpuSample(0.0, 0.0)
        total_pct = min(100.0, max(0.0, 100.0 * (busy - last_busy) / d_total))
        # d_total is summed over all CPUs, like the process's own CPU seconds.
        own_pct = min(100.0, max(0.0, 100.0 * (own - last_own) / d_total))
        return CpuSample(total_pct, own_pct)


@dataclass
class CpuLoadCondition:
    """Think only while other programs use less than `max_others_percent` of the CPU.

    Reverie's own share (the model thinking) is subtracted, so thinking does not
    block itself. `sample` defaults to a `PsutilCpuSampler` made on first use.
    """

    max_others_percent: float = 40.0
    sample: Callable[[], CpuSample] | None = None
    name: str = field(default="cpu", init=False)

    def check(self) -> Verdict:
        if self.sample is None:
            self.sample = PsutilCpuSampler()
        try:
            reading = self.sample()
        except Exception as exc:
            log.warning("cannot read CPU load: %s", exc)
            return Verdict(self.name, True, "Cannot read the CPU load; not blocking.")
        others = reading.others_percent
        limit = _pct(self.max_others_percent)
        if others < self.max_others_percent:
            return Verdict(
                self.name, True, f"Other programs use {_pct(others)} CPU (limit {limit})."
            )
        return Verdict(
            self.name,
            False,
            f"Other programs are using {_pct(others)} of the CPU, at or above the {limit} "
            "limit; thinking waits until the machine is quieter.",
        )


# --- pause ---------------------------------------------------------------------------


def _local_now() -> datetime:
    return datetime.now().astimezone()


def _describe_time(when: datetime, now: datetime) -> str:
    if when.date() == now.date():
        return when.strftime("%H:%M")
    if (when.date() - now.date()).days == 1:
        return "tomorrow at " + when.strftime("%H:%M")
    return when.strftime("%a %d %b %Y at %H:%M")


@dataclass(frozen=True)
class PauseCondition:
    """Blocks while the person has paused thinking until a moment (None: not paused).

    A naive `paused_until` is taken as local time. A year >= 9999 (e.g.
    `datetime.max`) means paused until resumed by hand.
    """

    paused_until: datetime | None
    now: Callable[[], datetime] = _local_now
    name: str = field(default="pause", init=False)

    def check(self) -> Verdict:
        if self.paused_until is None:
            return Verdict(self.name, True, "Thinking is not paused.")
        if self.paused_until.year >= 9999:
            return Verdict(self.name, False, "Thinking is paused until you resume it.")
        until = self.paused_until.astimezone()
        now = self.now().astimezone()
        if now >= until:
            return Verdict(self.name, True, "The pause has ended.")
        return Verdict(self.name, False, f"Thinking is paused until {_describe_time(until, now)}.")


# --- daily budget --------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetCondition:
    """Blocks once today's thinking minutes reach the daily budget."""

    daily_budget_minutes: float
    spent_minutes_today: float
    name: str = field(default="budget", init=False)

    @property
    def remaining_minutes(self) -> float:
        """Minutes of thinking left today (never negative)."""
        return max(0.0, self.daily_budget_minutes - self.spent_minutes_today)

    def check(self) -> Verdict:
        budget = f"{self.daily_budget_minutes:g} minutes"
        if self.daily_budget_minutes <= 0:
            return Verdict(self.name, False, "The daily thinking budget is set to 0 minutes.")
        if self.remaining_minutes <= 0:
            return Verdict(
                self.name,
                False,
                f"Today's thinking budget of {budget} is used up "
                f"({self.spent_minutes_today:.0f} minutes spent); it renews at midnight.",
            )
        return Verdict(self.name, True, f"{self.remaining_minutes:.0f} of {budget} left today.")


# --- full screen ---------------------------------------------------------------------

# SHQueryUserNotificationState results that mean "do not disturb".
QUNS_BUSY = 2
QUNS_RUNNING_D3D_FULL_SCREEN = 3
QUNS_PRESENTATION_MODE = 4
_WINDOWS_FULLSCREEN_STATES = {QUNS_BUSY, QUNS_RUNNING_D3D_FULL_SCREEN, QUNS_PRESENTATION_MODE}


def windows_fullscreen(shell32: Any) -> bool | None:
    """Ask Windows whether a full-screen app or presentation mode is on (None on error)."""
    state = ctypes.c_int(0)
    if shell32.SHQueryUserNotificationState(ctypes.pointer(state)) != 0:  # S_OK is 0
        return None
    return state.value in _WINDOWS_FULLSCREEN_STATES


def detect_fullscreen() -> bool | None:
    """Whether a full-screen or presentation app is in front; None: cannot tell here.

    Implemented on Windows (SHQueryUserNotificationState). Elsewhere it returns
    None and the condition says so without blocking.
    """
    if sys.platform == "win32":
        shell32 = ctypes.WinDLL("shell32")
        shell32.SHQueryUserNotificationState.argtypes = [ctypes.POINTER(ctypes.c_int)]
        shell32.SHQueryUserNotificationState.restype = ctypes.c_long
        return windows_fullscreen(shell32)
    return None


@dataclass(frozen=True)
class FullscreenCondition:
    """Blocks while a full-screen app or presentation is in front, where detectable."""

    detect: Callable[[], bool | None] = detect_fullscreen
    name: str = field(default="fullscreen", init=False)

    def check(self) -> Verdict:
        try:
            fullscreen = self.detect()
        except Exception as exc:
            log.warning("cannot detect full-screen apps: %s", exc)
            fullscreen = None
        if fullscreen is None:
            return Verdict(
                self.name,
                True,
                "Cannot tell on this platform whether a full-screen app is running; not blocking.",
            )
        if fullscreen:
            return Verdict(
                self.name,
                False,
                "A full-screen app or presentation is in front; thinking waits until it ends.",
            )
        return Verdict(self.name, True, "No full-screen app is in front.")


__all__ = [
    "BatteryReading",
    "BudgetCondition",
    "Condition",
    "CpuLoadCondition",
    "CpuSample",
    "FullscreenCondition",
    "PauseCondition",
    "PowerCondition",
    "PsutilCpuSampler",
    "Verdict",
    "check_all",
    "detect_fullscreen",
    "evaluate",
    "read_battery",
    "windows_fullscreen",
]
