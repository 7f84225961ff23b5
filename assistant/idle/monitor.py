"""IdleMonitor: turns a backend's idle seconds into `went_idle` / `became_active` events."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from assistant.idle.backends.base import IdleBackend

log = logging.getLogger("assistant.idle")

IDLE_POLL_SECONDS = 0.2
ACTIVE_POLL_SECONDS = 1.0


class IdleMonitor:
    """Watches one IdleBackend and reports each change between present and away once.

    Away means idle time >= `threshold_seconds` or a locked screen; present means
    idle time below the threshold and the screen not locked (unknown lock state
    counts as unlocked). `poll()` does one reading; `start()` polls on a daemon
    thread, every `idle_poll_seconds` (default 0.2 s) while away so a return is
    seen well within a second, and at most every `active_poll_seconds` while
    present (sooner when the threshold is about to be reached).

    Threading: the callbacks run on the thread that polled — the monitor's own
    thread after `start()` — never on the GUI thread; the GUI must marshal them
    (e.g. emit a Qt signal). Callbacks must not call `poll()`; they may call
    `stop()`. All public methods and properties are safe from any thread.
    """

    def __init__(
        self,
        backend: IdleBackend,
        threshold_seconds: float,
        on_went_idle: Callable[[], None],
        on_became_active: Callable[[], None],
        *,
        clock: Callable[[], float] = time.monotonic,
        idle_poll_seconds: float = IDLE_POLL_SECONDS,
        active_poll_seconds: float = ACTIVE_POLL_SECONDS,
    ) -> None:
        if threshold_seconds <= 0:
            raise ValueError("threshold_seconds must be positive")
        if not 0 < idle_poll_seconds <= active_poll_seconds:
            raise ValueError("poll periods must satisfy 0 < idle_poll <= active_poll")
        self._backend = backend
        self._threshold = float(threshold_seconds)
        self._on_went_idle = on_went_idle
        self._on_became_active = on_became_active
        self._clock = clock
        self._idle_poll = idle_poll_seconds
        self._active_poll = active_poll_seconds
        self._state = threading.Lock()
        self._poll_mutex = threading.Lock()
        self._is_idle = False
        self._locked: bool | None = None
        self._last_idle_seconds = 0.0
        self._away_since: float | None = None
        self._failing = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def backend(self) -> IdleBackend:
        """The backend being watched."""
        return self._backend

    @property
    def threshold_seconds(self) -> float:
        """Idle seconds after which the person counts as away."""
        with self._state:
            return self._threshold

    @threshold_seconds.setter
    def threshold_seconds(self, value: float) -> None:
        if value <= 0:
            raise ValueError("threshold_seconds must be positive")
        with self._state:
            self._threshold = float(value)

    @property
    def is_idle(self) -> bool:
        """True between a `went_idle` and the next `became_active`."""
        with self._state:
            return self._is_idle

    @property
    def last_idle_seconds(self) -> float:
        """The idle seconds read by the latest successful poll."""
        with self._state:
            return self._last_idle_seconds

    @property
    def last_locked(self) -> bool | None:
        """The lock state read by the latest poll (None: unknown or not asked)."""
        with self._state:
            return self._locked

    @property
    def away_since(self) -> float | None:
        """Clock time the person left (last input), while away; None while present."""
        with self._state:
            return self._away_since

    def poll(self) -> bool:
        """Read the backend once, fire a callback if the state changed; return `is_idle`.

        Backend errors propagate and leave the state unchanged. A callback that
        raises is logged; the state change still stands.
        """
        with self._poll_mutex:
            idle = float(self._backend.idle_seconds())
            threshold = self.threshold_seconds
            # The lock is only asked when idle time alone does not already mean away.
            locked = None if idle >= threshold else self._backend.is_locked()
            away = idle >= threshold or locked is True
            now = self._clock()
            with self._state:
                changed = away != self._is_idle
                self._is_idle = away
                self._locked = locked
                self._last_idle_seconds = idle
                if changed:
                    self._away_since = (now - idle) if away else None
            if changed:
                if away:
                    log.info("went idle (idle %.1f s, locked %s)", idle, locked)
                else:
                    log.info("became active (idle %.1f s)", idle)
                callback = self._on_went_idle if away else self._on_became_active
                try:
                    callback()
                except Exception:
                    log.exception("idle monitor callback %r failed", callback)
            return away

    def next_delay(self) -> float:
        """Seconds to wait before the next poll, from the latest reading."""
        with self._state:
            if self._is_idle:
                return self._idle_poll
            until_threshold = self._threshold - self._last_idle_seconds
        return max(self._idle_poll, min(self._active_poll, until_threshold))

    def start(self) -> None:
        """Start polling on a daemon thread (no-op if already running)."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="idle-monitor", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop polling and wait for the thread to end (no wait when called from a callback)."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                log.warning("idle monitor thread did not stop within %.1f s", timeout)
            else:
                self._thread = None

    @property
    def running(self) -> bool:
        """True while the polling thread is alive."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll()
            except Exception as exc:
                if not self._failing:
                    log.warning("idle backend %s failed: %s", self._backend.name, exc)
                self._failing = True
            else:
                if self._failing:
                    log.info("idle backend %s answers again", self._backend.name)
                self._failing = False
            self._stop.wait(self.next_delay())
