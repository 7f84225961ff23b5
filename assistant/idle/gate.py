"""The conditions that gate thinking, built from Settings (docs/ARCHITECTURE.md, "Sleep-time flow").

`ThinkingGate` turns the current settings and today's thinking time into the list of
conditions of `assistant.idle.conditions` (enabled, pause, daily budget, power, CPU,
full screen) and evaluates them. Sensors are injectable so tests can feed fake
batteries and CPU loads. The pause lives in the settings (``thinking.paused_until``),
so it survives a restart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from assistant.config import Settings
from assistant.idle.budget import budget_left_seconds
from assistant.idle.conditions import (
    BatteryReading,
    BudgetCondition,
    Condition,
    CpuLoadCondition,
    CpuSample,
    FullscreenCondition,
    PauseCondition,
    PowerCondition,
    PsutilCpuSampler,
    Verdict,
    detect_fullscreen,
    evaluate,
    read_battery,
)

#: Conditions that mean "the person chose not to think now" (status: paused).
PAUSING = frozenset({"enabled", "pause"})


def _local_now() -> datetime:
    return datetime.now().astimezone()


@dataclass(frozen=True)
class EnabledCondition:
    """Blocks when thinking is turned off in Settings."""

    enabled: bool
    name: str = field(default="enabled", init=False)

    def check(self) -> Verdict:
        if self.enabled:
            return Verdict(self.name, True, "Thinking is turned on.")
        return Verdict(self.name, False, "Thinking while you are away is turned off in Settings.")


@dataclass
class Sensors:
    """Where the readings come from (the real machine unless a test says otherwise)."""

    battery: Callable[[], BatteryReading | None] = read_battery
    #: None: a `PsutilCpuSampler` made on first use (it keeps its own baseline).
    cpu: Callable[[], CpuSample] | None = None
    fullscreen: Callable[[], bool | None] = detect_fullscreen
    now: Callable[[], datetime] = _local_now


class ThinkingGate:
    """Decides whether thinking may start now, and says why not."""

    def __init__(self, spent_seconds_today: Callable[[], float],
                 sensors: Sensors | None = None) -> None:
        self._spent = spent_seconds_today
        self.sensors = sensors or Sensors()

    def _cpu(self) -> Callable[[], CpuSample]:
        if self.sensors.cpu is None:
            self.sensors.cpu = PsutilCpuSampler()
        return self.sensors.cpu

    def pausing_conditions(self, settings: Settings) -> list[Condition]:
        thinking = settings.thinking
        return [EnabledCondition(thinking.enabled),
                PauseCondition(thinking.paused_until_time(), now=self.sensors.now)]

    def conditions(self, settings: Settings) -> list[Condition]:
        """Every condition, the person's own choices first."""
        return [
            *self.pausing_conditions(settings),
            BudgetCondition(settings.thinking.daily_budget_minutes, self._spent() / 60.0),
            PowerCondition(settings.idle.min_battery_percent, read=self.sensors.battery),
            CpuLoadCondition(settings.idle.max_cpu_percent, sample=self._cpu()),
            FullscreenCondition(detect=self.sensors.fullscreen),
        ]

    def verdicts(self, settings: Settings) -> list[Verdict]:
        return evaluate(self.conditions(settings))

    def blocking(self, settings: Settings) -> list[Verdict]:
        """The verdicts that forbid thinking now; empty means go."""
        return [v for v in self.verdicts(settings) if not v.ok]

    def paused(self, settings: Settings) -> Verdict | None:
        """The pause or off switch, if the person set one (cheap: no sensors read)."""
        return next((v for v in evaluate(self.pausing_conditions(settings)) if not v.ok), None)

    def power(self, settings: Settings) -> Verdict:
        return PowerCondition(settings.idle.min_battery_percent, read=self.sensors.battery).check()

    def remaining_budget_seconds(self, settings: Settings) -> float:
        return budget_left_seconds(settings.thinking.daily_budget_minutes, self._spent())
