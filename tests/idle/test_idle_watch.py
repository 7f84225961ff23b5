"""ReturnWatch: its own thread, input events or a poll period, stop and wake at once."""

from __future__ import annotations

import threading

import pytest

from assistant.idle.backends.base import BackendUnavailable
from assistant.idle.watch import EVENTS_FALLBACK_SECONDS, ReturnWatch, WatchUsage


class FakeEvents:
    """InputEvents whose input the test makes with `press`; records how waits ended."""

    def __init__(self) -> None:
        self._signal = threading.Event()
        self._pressed = False
        self.waits: list[tuple[float, bool]] = []
        self.closed = threading.Event()

    def press(self) -> None:
        self._pressed = True
        self._signal.set()

    def wait(self, timeout: float) -> bool:
        self._signal.wait(timeout)
        self._signal.clear()
        came, self._pressed = self._pressed, False
        self.waits.append((timeout, came))
        return came

    def interrupt(self) -> None:
        self._signal.set()

    def close(self) -> None:
        self.closed.set()


class Polls:
    """A poll function that counts calls, says "still away" ``away_for`` times, and lets
    the test wait for the n-th call."""

    def __init__(self, away_for: int = 10**9, fail_first: int = 0) -> None:
        self.calls = 0
        self.away_for = away_for
        self.fail_first = fail_first
        self._changed = threading.Condition()
        self.threads: set[str] = set()

    def __call__(self) -> bool:
        with self._changed:
            self.calls += 1
            self.threads.add(threading.current_thread().name)
            self._changed.notify_all()
            if self.calls <= self.fail_first:
                raise RuntimeError("the backend is unwell")
            return self.calls < self.away_for

    def wait_for(self, calls: int, timeout: float = 10.0) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self.calls >= calls, timeout)


def test_polls_on_its_own_thread_until_the_person_is_back() -> None:
    polls = Polls(away_for=5)
    watch = ReturnWatch(polls, lambda: True)  # thinking: every 20 ms
    watch.start()
    assert polls.wait_for(5)
    assert watch.join(5)
    assert not watch.running
    assert polls.calls == 5 and polls.threads == {"idle-return-watch"}
    used = watch.usage()
    assert used.polls == 5 and used.wall_seconds > 0 and used.cpu_seconds >= 0


def test_with_input_events_it_waits_for_input_and_stop_interrupts() -> None:
    polls = Polls(away_for=3)
    events = FakeEvents()
    watch = ReturnWatch(polls, lambda: True, events=lambda: events)
    watch.start()
    events.press()
    assert polls.wait_for(1)
    assert watch.uses_events
    assert (EVENTS_FALLBACK_SECONDS, True) in events.waits  # woken by the input, not the period
    watch.stop()
    assert watch.join(5)
    assert events.closed.is_set() and not watch.uses_events


def test_without_input_events_it_polls_and_says_why_once(
        caplog: pytest.LogCaptureFixture) -> None:
    def no_events() -> FakeEvents:
        raise BackendUnavailable("x11-screensaver", "X display ':9' lacks XInput 2")

    watch = ReturnWatch(Polls(away_for=3), lambda: True, events=no_events)
    with caplog.at_level("INFO", logger="assistant.idle"):
        for _ in range(2):
            watch.start()
            assert watch.join(5)
    # The first watch polls until the third poll says "back", the second stops at once.
    assert not watch.uses_events and watch.usage().polls == 3 + 1
    assert sum("lacks XInput 2" in r.message for r in caplog.records) == 1


def test_start_while_running_wakes_instead_of_a_second_thread() -> None:
    polls = Polls()
    events = FakeEvents()
    watch = ReturnWatch(polls, lambda: True, events=lambda: events)
    watch.start()
    watch.start()  # wakes the one thread: one poll
    assert polls.wait_for(1)
    assert [t.name for t in threading.enumerate()].count("idle-return-watch") == 1
    watch.stop()
    assert watch.join(5)
    watch.start()  # a new watch after a stop
    assert watch.running
    watch.stop()
    assert watch.join(5)


def test_a_failing_poll_is_logged_once_and_the_watch_goes_on(
        caplog: pytest.LogCaptureFixture) -> None:
    polls = Polls(away_for=6, fail_first=3)
    watch = ReturnWatch(polls, lambda: True)
    with caplog.at_level("ERROR", logger="assistant.idle"):
        watch.start()
        assert polls.wait_for(6)
        assert watch.join(5)
    assert [r.message for r in caplog.records].count(
        "the idle watch's poll failed; it keeps watching") == 1


def test_usage_is_a_share_of_the_watched_time() -> None:
    used = WatchUsage(cpu_seconds=0.02, wall_seconds=10.0, polls=500)
    assert used.cpu_percent == pytest.approx(0.2)
    assert used.since(WatchUsage(0.01, 5.0, 200)) == WatchUsage(0.01, 5.0, 300)
    assert WatchUsage().cpu_percent == 0.0
