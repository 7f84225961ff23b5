"""IdleMonitor's state machine on a fake backend and clock, and its polling thread."""

from __future__ import annotations

import logging
import threading
import time

import pytest

from assistant.idle.backends.base import IdleQueryError
from assistant.idle.monitor import IdleMonitor


class FakeBackend:
    name = "fake"
    system_wide = True

    def __init__(self) -> None:
        self.idle = 0.0
        self.locked: bool | None = False
        self.error: Exception | None = None
        self.lock_queries = 0
        self.polls = 0

    def idle_seconds(self) -> float:
        self.polls += 1
        if self.error is not None:
            raise self.error
        return self.idle

    def is_locked(self) -> bool | None:
        self.lock_queries += 1
        return self.locked

    def close(self) -> None:
        pass


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Recorder:
    def __init__(self) -> None:
        self.events: list[str] = []

    def idle(self) -> None:
        self.events.append("idle")

    def active(self) -> None:
        self.events.append("active")


def make(threshold: float = 300.0) -> tuple[IdleMonitor, FakeBackend, FakeClock, Recorder]:
    backend, clock, rec = FakeBackend(), FakeClock(), Recorder()
    monitor = IdleMonitor(backend, threshold, rec.idle, rec.active, clock=clock)
    return monitor, backend, clock, rec


def test_fires_once_per_transition() -> None:
    monitor, backend, clock, rec = make(300)
    for idle in (0.0, 120.0, 299.9):
        backend.idle = idle
        assert monitor.poll() is False
    assert rec.events == []

    clock.now = 2000.0
    for idle in (300.0, 310.0, 5000.0):
        backend.idle = idle
        assert monitor.poll() is True
    assert rec.events == ["idle"]
    assert monitor.is_idle
    assert monitor.last_idle_seconds == 5000.0
    assert monitor.away_since == 2000.0 - 300.0  # when the last input happened

    for idle in (0.2, 0.1, 3.0):
        backend.idle = idle
        assert monitor.poll() is False
    assert rec.events == ["idle", "active"]
    assert monitor.away_since is None

    backend.idle = 301.0
    monitor.poll()
    assert rec.events == ["idle", "active", "idle"]


def test_lock_counts_as_away_until_unlocked() -> None:
    monitor, backend, _, rec = make(300)
    backend.idle, backend.locked = 5.0, True
    assert monitor.poll() is True
    assert monitor.last_locked is True
    backend.idle = 20.0
    monitor.poll()
    assert rec.events == ["idle"]

    backend.idle, backend.locked = 0.5, False
    assert monitor.poll() is False
    assert rec.events == ["idle", "active"]


def test_unknown_lock_state_counts_as_unlocked() -> None:
    monitor, backend, _, rec = make(300)
    backend.idle, backend.locked = 5.0, None
    assert monitor.poll() is False
    assert rec.events == []


def test_lock_not_asked_when_idle_time_already_means_away() -> None:
    monitor, backend, _, _ = make(10)
    backend.idle = 11.0
    monitor.poll()
    assert backend.lock_queries == 0
    backend.idle = 1.0
    monitor.poll()
    assert backend.lock_queries == 1


def test_backend_error_propagates_and_keeps_state() -> None:
    monitor, backend, _, rec = make(10)
    backend.idle = 20.0
    monitor.poll()
    backend.error = IdleQueryError("gone")
    with pytest.raises(IdleQueryError):
        monitor.poll()
    assert monitor.is_idle and rec.events == ["idle"]


def test_failing_callback_is_logged_and_state_still_changes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    backend = FakeBackend()

    def boom() -> None:
        raise RuntimeError("callback broke")

    monitor = IdleMonitor(backend, 10, boom, lambda: None)
    backend.idle = 10.0
    with caplog.at_level(logging.ERROR, logger="assistant.idle"):
        assert monitor.poll() is True
    assert "callback" in caplog.text
    assert monitor.is_idle


def test_threshold_can_change_and_must_be_positive() -> None:
    monitor, backend, _, rec = make(300)
    backend.idle = 60.0
    monitor.poll()
    monitor.threshold_seconds = 30
    monitor.poll()
    assert rec.events == ["idle"]
    with pytest.raises(ValueError):
        monitor.threshold_seconds = 0
    with pytest.raises(ValueError):
        IdleMonitor(backend, 0, rec.idle, rec.active)
    with pytest.raises(ValueError):
        IdleMonitor(backend, 5, rec.idle, rec.active, idle_poll_seconds=2, active_poll_seconds=1)


def test_poll_period_fast_while_idle_and_aimed_at_threshold_while_active() -> None:
    monitor, backend, _, _ = make(300)
    backend.idle = 0.0
    monitor.poll()
    assert monitor.next_delay() == 1.0
    backend.idle = 299.5
    monitor.poll()
    assert monitor.next_delay() == pytest.approx(0.5)
    backend.idle = 299.99
    monitor.poll()
    assert monitor.next_delay() == pytest.approx(0.2)
    backend.idle = 400.0
    monitor.poll()
    assert monitor.next_delay() == pytest.approx(0.2)
    assert monitor.next_delay() <= 0.25


def wait_for(event: threading.Event, timeout: float) -> bool:
    return event.wait(timeout)


def test_thread_reports_both_transitions_and_stops() -> None:
    backend = FakeBackend()
    went, back = threading.Event(), threading.Event()
    callers: list[str] = []

    def on_idle() -> None:
        callers.append(threading.current_thread().name)
        went.set()

    monitor = IdleMonitor(backend, 5.0, on_idle, back.set)
    backend.idle = 0.0
    monitor.start()
    monitor.start()  # second start is a no-op
    assert monitor.running
    backend.idle = 6.0
    # The active period is 1 s at most, so the change is seen within ~1 s.
    assert wait_for(went, 3.0)
    assert callers == ["idle-monitor"]

    backend.idle = 0.0
    returned_at = time.monotonic()
    assert wait_for(back, 2.0)
    assert time.monotonic() - returned_at < 1.0  # idle-period polling is 0.2 s
    monitor.stop()
    assert not monitor.running
    polls = backend.polls
    time.sleep(0.3)
    assert backend.polls == polls


def test_thread_survives_backend_errors_and_logs_once(caplog: pytest.LogCaptureFixture) -> None:
    backend = FakeBackend()
    backend.error = IdleQueryError("display went away")
    went = threading.Event()
    monitor = IdleMonitor(
        backend, 1.0, went.set, lambda: None, idle_poll_seconds=0.01, active_poll_seconds=0.01
    )
    with caplog.at_level(logging.INFO, logger="assistant.idle"):
        monitor.start()
        deadline = time.monotonic() + 3
        while backend.polls < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert backend.polls >= 5
        backend.error = None
        backend.idle = 2.0
        assert went.wait(3.0)
        monitor.stop()
    warnings = [r for r in caplog.records if "display went away" in r.getMessage()]
    assert len(warnings) == 1
    assert "answers again" in caplog.text


def test_stop_from_a_callback_does_not_deadlock() -> None:
    backend = FakeBackend()
    stopped = threading.Event()
    monitor: IdleMonitor

    def on_idle() -> None:
        monitor.stop()
        stopped.set()

    monitor = IdleMonitor(
        backend, 1.0, on_idle, lambda: None, idle_poll_seconds=0.01, active_poll_seconds=0.01
    )
    backend.idle = 5.0
    monitor.start()
    assert stopped.wait(3.0)
    deadline = time.monotonic() + 3
    while monitor.running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not monitor.running
