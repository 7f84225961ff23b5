"""Bridges between the thinking coordinator (worker threads) and the GUI thread.

- :class:`StatusBridge` turns the coordinator's status listener, which runs on an
  idle-poll, scheduler or session thread, into a queued Qt signal on the GUI thread.
- :class:`ActivityFilter` feeds input inside Reverie's windows to the app-activity
  idle backend (the last-resort backend when no system-wide source works).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, Signal, Slot

from assistant.gui.qt_compat import emit

if TYPE_CHECKING:
    from assistant.idle.status import Status

#: Status labels shown in the status bar and the tray tooltip.
STATE_LABELS = {
    "off": "Not watching",
    "active": "Waiting for you to step away",
    "thinking": "Thinking",
    "idle": "Nothing left to think about",
    "paused": "Thinking paused",
    "blocked": "Not thinking now",
}

_ACTIVITY_EVENTS = frozenset({
    QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove,
    QEvent.Type.Wheel, QEvent.Type.TouchBegin, QEvent.Type.WindowActivate,
})


class StatusBridge(QObject):
    """``changed(Status)`` on the GUI thread for each change the coordinator reports."""

    changed = Signal(object)
    _from_worker = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._from_worker.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        self._closed = False

    def listener(self, status: Status) -> None:
        """Give this to ``coordinator.add_listener``; safe on any thread."""
        if not self._closed:
            emit(self._from_worker, status)

    def close(self) -> None:
        self._closed = True

    @Slot(object)
    def _deliver(self, status: object) -> None:
        if not self._closed:
            emit(self.changed, status)


class ActivityFilter(QObject):
    """An application event filter that calls ``notice`` on input (at most every 0.5 s)."""

    def __init__(self, notice: Callable[[], None], parent: QObject | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(parent)
        self._notice = notice
        self._clock = clock
        self._last = float("-inf")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _ACTIVITY_EVENTS:
            now = self._clock()
            if now - self._last >= 0.5:
                self._last = now
                self._notice()
        return False


def status_text(status: Status) -> str:
    label = STATE_LABELS.get(status.state.value, status.state.value)
    if status.state.value == "thinking" and status.detail:
        return f"{label}: {status.detail}"
    return label
