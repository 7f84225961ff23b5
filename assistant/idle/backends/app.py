"""Last resort: idle time measured from input inside Reverie's own windows."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

NAME = "app-activity"


class AppActivityBackend:
    """Idle time = time since the app last called `notice_activity()`.

    Used when no system-wide source works; `system_wide` is False so the GUI can
    say that typing in other programs is not seen. The GUI calls
    `notice_activity()` from an event filter on any thread; all methods are
    thread-safe. The clock is monotonic by default and injectable for tests.
    """

    name = NAME
    system_wide = False

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._mutex = threading.Lock()
        self._last = clock()

    def notice_activity(self) -> None:
        """Record that the person just used the app (key, mouse, focus...)."""
        now = self._clock()
        with self._mutex:
            self._last = max(self._last, now)

    def idle_seconds(self) -> float:
        """Seconds since the last `notice_activity()` (or since creation)."""
        now = self._clock()
        with self._mutex:
            return max(0.0, now - self._last)

    def is_locked(self) -> bool | None:
        """Always None: the app alone cannot see the lock screen."""
        return None

    def close(self) -> None:
        """Nothing to release."""
