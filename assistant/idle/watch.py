"""ReturnWatch: reads the idle backend on a thread of its own while the person is away.

The scheduler's ``idle-poll`` job notices that the person left (every second is plenty);
noticing that they came back is what must be fast, because a sleep-time session holds
the CPU until then. Where the platform announces input (X11: XInput2 raw events, see
`X11InputEvents`) the watch sleeps until the first key press or mouse move and reads the
backend then, so the return is seen at once and waiting costs no CPU; it still reads
every `EVENTS_FALLBACK_SECONDS` in case an event is missed. Elsewhere it polls: every
`THINKING_POLL_SECONDS` (20 ms) while a session runs, every `AWAY_POLL_SECONDS` while
away with no session. A dedicated thread costs less than an APScheduler job at 50 Hz:
each round is one wait on a lock (a single C call, no allocation) and one backend read.

The watch counts the CPU time of its own thread (``time.thread_time``) and the wall time
it watched, so `reverie bench idle` can report what polling costs (`usage`).
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from assistant.idle.backends.base import BackendUnavailable, InputEvents

log = logging.getLogger("assistant.idle")

#: Poll period while a sleep-time session runs: a return is seen within this.
THINKING_POLL_SECONDS = 0.02
#: Poll period while away and not thinking (nothing to stop, only the status to update).
AWAY_POLL_SECONDS = 0.2
#: With input events, the watch still reads this often (as the scheduler's job does).
EVENTS_FALLBACK_SECONDS = 1.0


@dataclass(frozen=True)
class WatchUsage:
    """What the watch cost so far: CPU seconds of its thread, wall seconds and polls."""

    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    polls: int = 0

    @property
    def cpu_percent(self) -> float:
        """CPU time of the watching thread as a share of the time it watched."""
        return 100.0 * self.cpu_seconds / self.wall_seconds if self.wall_seconds else 0.0

    def since(self, earlier: WatchUsage) -> WatchUsage:
        return WatchUsage(self.cpu_seconds - earlier.cpu_seconds,
                          self.wall_seconds - earlier.wall_seconds, self.polls - earlier.polls)


class _Run:
    """One watching thread's stop flag and wake-up gate.

    The gate is a plain lock kept acquired: the thread waits by acquiring it with a
    timeout (the poll period), and `wake` releases it to cut a wait short.
    """

    def __init__(self) -> None:
        self.stopped = False
        self.gate = threading.Lock()
        self.gate.acquire()
        self.thread: threading.Thread | None = None
        #: The input events this run waits on (set by its thread), or None: it polls.
        self.events: InputEvents | None = None

    def wake(self) -> None:
        with contextlib.suppress(RuntimeError):  # already released: a wake-up is pending
            self.gate.release()
        if self.events is not None:
            self.events.interrupt()


class ReturnWatch:
    """Calls ``poll()`` on its own thread, on input or periodically, until ``poll()``
    returns False (the person is back) or `stop` is called.

    ``poll`` does the reading and fires the transitions (in the coordinator:
    `ThinkingCoordinator.poll_idle`); it should not raise, and an exception is logged
    once and the watch goes on. ``events``, when given, opens an `InputEvents` source;
    each watching thread opens its own and closes it when it ends (if it cannot be
    opened, the watch polls and says why once). Without events, ``thinking()`` is asked
    before every wait to choose the period, and `wake` makes the thread ask again at
    once (a session started). `start` and `stop` never block, so both are safe from
    the monitor's callbacks; `join` waits.
    """

    def __init__(self, poll: Callable[[], bool], thinking: Callable[[], bool], *,
                 events: Callable[[], InputEvents] | None = None,
                 name: str = "idle-return-watch") -> None:
        self._poll = poll
        self._thinking = thinking
        self._events = events
        self._events_failed = False
        self._name = name
        self._lock = threading.Lock()
        self._run: _Run | None = None
        self._usage = WatchUsage()
        self._failing = False

    @property
    def running(self) -> bool:
        """True while a watching thread runs and has not been asked to stop."""
        with self._lock:
            run = self._run
            return run is not None and not run.stopped

    def start(self) -> None:
        """Start watching (if watching already, re-read the period now)."""
        with self._lock:
            run = self._run
            if run is not None and not run.stopped:
                run.wake()
                return
            run = _Run()
            run.thread = threading.Thread(target=self._watch, args=(run,), name=self._name,
                                          daemon=True)
            self._run = run
            run.thread.start()

    def wake(self) -> None:
        """Cut the current wait short (the period changed)."""
        with self._lock:
            if self._run is not None:
                self._run.wake()

    def stop(self) -> None:
        """Ask the watching thread to end; does not wait (see `join`)."""
        with self._lock:
            run = self._run
            if run is not None:
                run.stopped = True
                run.wake()

    def join(self, timeout: float = 5.0) -> bool:
        """Wait for the watching thread to end (not from that thread); True if it did."""
        with self._lock:
            run = self._run
        thread = run.thread if run is not None else None
        if thread is None or thread is threading.current_thread():
            return thread is None or not thread.is_alive()
        thread.join(timeout)
        return not thread.is_alive()

    def usage(self) -> WatchUsage:
        """CPU and wall time of every watching thread so far (finished rounds only for a
        thread still running)."""
        with self._lock:
            return self._usage

    @property
    def uses_events(self) -> bool:
        """True while a watching thread waits on input events rather than polling."""
        with self._lock:
            return self._run is not None and self._run.events is not None

    def _open_events(self, run: _Run) -> None:
        if self._events is None:
            return
        try:
            events = self._events()
        except Exception as exc:  # BackendUnavailable, or a broken library: poll instead
            if not self._events_failed:
                reason = exc.reason if isinstance(exc, BackendUnavailable) else repr(exc)
                log.info("no input events (%s); the idle watch polls every %.0f ms while "
                         "thinking", reason, THINKING_POLL_SECONDS * 1000)
            self._events_failed = True
            return
        with self._lock:
            run.events = events

    def _wait(self, run: _Run) -> None:
        if run.events is not None:
            run.events.wait(EVENTS_FALLBACK_SECONDS)
        else:
            run.gate.acquire(timeout=THINKING_POLL_SECONDS if self._thinking()
                             else AWAY_POLL_SECONDS)

    def _watch(self, run: _Run) -> None:
        cpu_started, started = time.thread_time(), time.monotonic()
        polls = 0
        self._open_events(run)
        try:
            while not run.stopped:
                self._wait(run)
                if run.stopped:
                    break
                polls += 1
                if not self._poll_once():
                    break
                if polls % 64 == 0:  # keep `usage` current during a long watch
                    cpu_started, started, polls = self._add(cpu_started, started, polls)
        finally:
            with self._lock:
                run.stopped = True
                events, run.events = run.events, None
            if events is not None:
                events.close()
            self._add(cpu_started, started, polls)

    def _poll_once(self) -> bool:
        try:
            keep = self._poll()
        except Exception:
            if not self._failing:
                log.exception("the idle watch's poll failed; it keeps watching")
            self._failing = True
            return True
        self._failing = False
        return keep

    def _add(self, cpu_started: float, started: float, polls: int) -> tuple[float, float, int]:
        cpu_now, now = time.thread_time(), time.monotonic()
        with self._lock:
            u = self._usage
            self._usage = WatchUsage(u.cpu_seconds + cpu_now - cpu_started,
                                     u.wall_seconds + now - started, u.polls + polls)
        return cpu_now, now, 0
