"""What the coordinator's scheduler does when the machine wakes after sleeping through runs.

The real `ThinkingCoordinator` jobs run on its real APScheduler `BackgroundScheduler`;
only the wall clock is fake. APScheduler reads the time in three modules (the scheduler
decides which runs are due, the executor whether a run is too late, the interval
trigger where it starts), so the test swaps ``datetime`` in those three for one whose
``now()`` is the fake clock. A jump of the fake clock followed by ``scheduler.wakeup()``
is what a resume from suspend looks like to the scheduler: hours of runs are due at
once. The ``DebugExecutor`` runs each job on the scheduler's thread, so the events of
one wake-up arrive in order and the test waits for them, never for a duration.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta, tzinfo
from typing import Any

import pytest
from apscheduler.events import (
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
)
from apscheduler.executors.debug import DebugExecutor

from assistant.config import Settings
from assistant.idle.conditions import CpuSample
from assistant.idle.coordinator import (
    MAINTENANCE_GRACE,
    MAINTENANCE_HOUR,
    MAINTENANCE_MINUTE,
    ThinkingCoordinator,
)
from assistant.idle.gate import Sensors, ThinkingGate

#: APScheduler lists every missed run before coalescing them: 30 h of a 1-second job is
#: about 108,000 trigger steps (~2 s of CPU here), so a wake-up is given time.
WAKE_TIMEOUT = 60.0


class FakeClock:
    """The wall clock APScheduler sees; moves only when the test moves it."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def datetime_class(self) -> type[datetime]:
        clock = self

        class ClockDatetime(datetime):
            @classmethod
            def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
                return clock.now.astimezone(tz)

        return ClockDatetime


class PresentBackend:
    """The person is at the computer: the idle job reads 0 s every time."""

    name = "fake"
    system_wide = True

    def idle_seconds(self) -> float:
        return 0.0

    def is_locked(self) -> bool | None:
        return False

    def close(self) -> None:
        pass


class NoWorkRunner:
    """A SleepRunner with nothing to think about (never started: the person is present)."""

    running = False

    def has_work(self) -> bool:
        return False

    def request_stop(self, reason: str = "user_returned") -> None:
        pass

    def run_session(self, budget_seconds: float | None = None, should_stop: Any = None,
                    on_item: Any = None) -> Any:
        raise AssertionError("no session may start while the person is present")


class Wakes:
    """One coordinator on a fake clock, and what its scheduler did at each wake-up."""

    def __init__(self, coordinator: ThinkingCoordinator, clock: FakeClock,
                 maintenance_runs: list[datetime]) -> None:
        self.coordinator = coordinator
        self.clock = clock
        #: The fake time of each call of the maintenance callable.
        self.maintenance_runs = maintenance_runs
        self._events: list[JobEvent] = []
        self._changed = threading.Condition()
        coordinator.scheduler.add_listener(
            self._record, EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED | EVENT_JOB_MISSED)

    @property
    def tz(self) -> tzinfo:
        zone: tzinfo = self.coordinator.scheduler.timezone
        return zone

    def at(self, day: int, hour: int, minute: int = 0) -> datetime:
        return datetime(2026, 6, day, hour, minute, tzinfo=self.tz)

    def _record(self, event: JobEvent) -> None:
        with self._changed:
            self._events.append(event)
            self._changed.notify_all()

    def wake_at(self, when: datetime) -> list[JobEvent]:
        """Move the clock to ``when`` (the machine was asleep until then), wake the
        scheduler and return the events of that wake-up once it is fully processed.

        APScheduler dispatches the submission events after it has run (DebugExecutor)
        and rescheduled every due job, so the nightly job's submission closes a wake-up.
        """
        with self._changed:
            self._events.clear()
            self.clock.now = when
        self.coordinator.scheduler.wakeup()
        with self._changed:
            handled = self._changed.wait_for(
                lambda: any(e.job_id == "maintenance" and e.code == EVENT_JOB_SUBMITTED
                            for e in self._events), WAKE_TIMEOUT)
            assert handled, f"the scheduler did not handle the nightly job at {when}"
            return list(self._events)

    def next_maintenance(self) -> datetime:
        when: datetime = self.coordinator.scheduler.get_job("maintenance").next_run_time
        return when


def of(events: list[JobEvent], job_id: str, code: int) -> list[Any]:
    return [e for e in events if e.job_id == job_id and e.code == code]


@pytest.fixture
def wakes(monkeypatch: pytest.MonkeyPatch) -> Iterator[Wakes]:
    import apscheduler.executors.base
    import apscheduler.schedulers.base
    import apscheduler.triggers.interval

    clock = FakeClock(datetime(2026, 6, 10, 1, 0).astimezone())  # 01:00 local time
    fake = clock.datetime_class()
    for module in (apscheduler.schedulers.base, apscheduler.executors.base,
                   apscheduler.triggers.interval):
        monkeypatch.setattr(module, "datetime", fake)

    settings = Settings()
    gate = ThinkingGate(lambda: 0.0, Sensors(battery=lambda: None,
                                             cpu=lambda: CpuSample(5.0, 0.0),
                                             fullscreen=lambda: None))
    runs: list[datetime] = []
    coordinator = ThinkingCoordinator(PresentBackend(), NoWorkRunner(), gate,
                                      lambda: settings, lambda _s: None,
                                      maintenance=lambda: runs.append(clock.now))
    coordinator.scheduler.add_executor(DebugExecutor())  # before start: the default one
    w = Wakes(coordinator, clock, runs)
    clock.now = w.at(10, 1)  # in the scheduler's zone, 2.5 h before the maintenance
    coordinator.start()
    try:
        first = coordinator.scheduler.get_job("maintenance").next_run_time
        assert first == w.at(10, MAINTENANCE_HOUR, MAINTENANCE_MINUTE)
        yield w
    finally:
        coordinator.shutdown()


def test_a_night_slept_through_runs_maintenance_once_on_wake(wakes: Wakes) -> None:
    """Asleep from 01:00 to 07:00: the 03:30 maintenance runs once on wake-up (3.5 h
    late, within its grace), and so does each interval job, not once per missed second."""
    events = wakes.wake_at(wakes.at(10, 7))

    nightly = of(events, "maintenance", EVENT_JOB_EXECUTED)
    assert [e.scheduled_run_time for e in nightly] == [wakes.at(10, 3, 30)]
    assert wakes.maintenance_runs == [wakes.at(10, 7)]
    assert of(events, "maintenance", EVENT_JOB_MISSED) == []

    # 6 h of missed polls (21,600) and trigger checks (720) coalesce into one run each,
    # at the latest missed time.
    for job_id, every in (("idle-poll", 1), ("sleep-trigger", 30)):
        submitted = of(events, job_id, EVENT_JOB_SUBMITTED)
        assert len(submitted) == 1, job_id
        (latest,) = submitted[0].scheduled_run_times
        assert wakes.at(10, 7) - timedelta(seconds=every) < latest <= wakes.at(10, 7)
        assert len(of(events, job_id, EVENT_JOB_EXECUTED)) == 1, job_id

    # The next maintenance is the following night, at the usual time.
    assert wakes.next_maintenance() == wakes.at(11, 3, 30)
    assert wakes.maintenance_runs == [wakes.at(10, 7)]


def test_two_nights_slept_through_run_maintenance_once(wakes: Wakes) -> None:
    """Asleep for two nights: one maintenance on wake-up (for the latest night), not two."""
    events = wakes.wake_at(wakes.at(11, 7))

    (submitted,) = of(events, "maintenance", EVENT_JOB_SUBMITTED)
    assert submitted.scheduled_run_times == [wakes.at(11, 3, 30)]
    assert len(of(events, "maintenance", EVENT_JOB_EXECUTED)) == 1
    assert wakes.maintenance_runs == [wakes.at(11, 7)]
    assert wakes.next_maintenance() == wakes.at(12, 3, 30)


@pytest.mark.parametrize(("wake_hour", "wake_minute", "runs"), [
    (15, 30, True),   # exactly 12 h late: still within the grace
    (15, 31, False),  # 12 h 1 min late: skipped until the next night
])
def test_maintenance_grace_ends_twelve_hours_after_the_nightly_time(
        wakes: Wakes, wake_hour: int, wake_minute: int, runs: bool) -> None:
    assert MAINTENANCE_GRACE == 12 * 3600
    events = wakes.wake_at(wakes.at(10, wake_hour, wake_minute))

    assert len(of(events, "maintenance", EVENT_JOB_EXECUTED)) == (1 if runs else 0)
    assert len(of(events, "maintenance", EVENT_JOB_MISSED)) == (0 if runs else 1)
    assert wakes.maintenance_runs == ([wakes.at(10, wake_hour, wake_minute)] if runs else [])
    # The idle poll has no grace: however long the sleep, it runs on wake-up.
    assert len(of(events, "idle-poll", EVENT_JOB_EXECUTED)) == 1

    # A skipped night is not made up later; the next night runs as usual.
    assert wakes.next_maintenance() == wakes.at(11, 3, 30)
    assert len(wakes.maintenance_runs) == (1 if runs else 0)
