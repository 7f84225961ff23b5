"""How long the GUI thread stops answering: a precise timer that notes how late it fires.

While the event loop is free, a 5 ms timer fires every 5 ms; while the GUI thread is busy
(a slow query, laying out thousands of rows) it fires late by as long as the thread was
busy. :class:`StallProbe` keeps the largest lateness, overall and per named phase.

On a machine shared with other busy processes, lateness also counts the time the GUI
thread was ready but not scheduled. So the probe also keeps the GUI thread's own CPU
time between two ticks (``busy``): the longest stretch of work the window itself did
without letting the event loop run, whatever the machine's load. The window benchmark
(`assistant.gui.window_probe`) and the tests use it to check that no list work stops
the window for 50 ms or more.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, Qt, QTimer

INTERVAL_MS = 5


class StallProbe(QObject):
    """Measures event-loop stalls on the thread it was created on (the GUI thread)."""

    def __init__(self, parent: QObject | None = None, interval_ms: int = INTERVAL_MS) -> None:
        super().__init__(parent)
        self._interval = interval_ms / 1000
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._last = 0.0
        self._phase = ""
        #: The largest lateness seen in each phase, in milliseconds.
        self.phases: dict[str, float] = {}
        #: The largest GUI-thread CPU time between two ticks in each phase, in ms.
        self.busy: dict[str, float] = {}
        self._last_cpu = 0.0
        self.ticks = 0

    def start(self, phase: str = "") -> None:
        """Begin (or go on) measuring; lateness is booked to ``phase``."""
        self.phase(phase)
        self._last = time.perf_counter()
        self._last_cpu = time.thread_time()
        if not self._timer.isActive():
            self._timer.start()

    def phase(self, name: str) -> None:
        """Book what follows to ``name`` (a stall spanning the switch goes to ``name``)."""
        self._phase = name
        self.phases.setdefault(name, 0.0)
        self.busy.setdefault(name, 0.0)

    def stop(self) -> None:
        self._tick()
        self._timer.stop()

    @property
    def max_ms(self) -> float:
        """The longest stall so far, in milliseconds."""
        return max(self.phases.values(), default=0.0)

    @property
    def busy_max_ms(self) -> float:
        """The longest GUI-thread work between two ticks, in CPU milliseconds."""
        return max(self.busy.values(), default=0.0)

    def _tick(self) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        late = (now - self._last - self._interval) * 1000
        work = (cpu - self._last_cpu) * 1000
        self._last, self._last_cpu = now, cpu
        self.ticks += 1
        if late > self.phases.get(self._phase, 0.0):
            self.phases[self._phase] = late
        if work > self.busy.get(self._phase, 0.0):
            self.busy[self._phase] = work
