"""What Reverie's thinking is doing now, with one sentence why: shown by the GUI and doctor.

States:
- ``off``: nothing watches for idle time (the command line, or before start-up).
- ``active``: the person is at the computer; Reverie waits for them to go idle.
- ``thinking``: a sleep-time session runs (``detail`` says on what).
- ``idle``: the person is away and there is nothing left to think about for now.
- ``paused``: the person paused thinking (until a time, or until resumed) or turned it off.
- ``blocked``: the person is away but a condition forbids thinking (battery, CPU, budget,
  full-screen app, a failing model); ``reason`` says which.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

log = logging.getLogger("assistant.idle")


class ThinkingState(StrEnum):
    OFF = "off"
    ACTIVE = "active"
    THINKING = "thinking"
    IDLE = "idle"
    PAUSED = "paused"
    BLOCKED = "blocked"


def _now() -> datetime:
    return datetime.now().astimezone()


@dataclass(frozen=True)
class Status:
    state: ThinkingState
    #: One sentence for the person.
    reason: str
    #: What is being thought about (thinking), or which condition blocks (blocked).
    detail: str | None = None
    since: datetime = field(default_factory=_now, compare=False)

    def to_json(self) -> dict[str, Any]:
        return {"state": self.state.value, "reason": self.reason, "detail": self.detail,
                "since": self.since.isoformat(timespec="seconds")}


StatusListener = Callable[[Status], None]

OFF = Status(ThinkingState.OFF, "Reverie is not watching for idle time.")


class StatusTracker:
    """Holds the current Status and tells listeners about each change.

    Thread-safe. Listeners run on the thread that made the change (an idle-poll,
    scheduler or session thread), never on the GUI thread: the GUI must marshal them.
    A listener that raises is logged and does not stop the others.
    """

    def __init__(self, initial: Status = OFF) -> None:
        self._status = initial
        self._lock = threading.Lock()
        self._listeners: list[StatusListener] = []

    @property
    def status(self) -> Status:
        with self._lock:
            return self._status

    def add_listener(self, listener: StatusListener) -> None:
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: StatusListener) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def set(self, state: ThinkingState, reason: str, detail: str | None = None) -> Status:
        """Change the status; listeners are told only when something actually changed."""
        new = Status(state, reason, detail)
        with self._lock:
            if new == self._status:
                return self._status
            self._status = new
            listeners = list(self._listeners)
        log.info("thinking status: %s (%s)", state.value, reason)
        for listener in listeners:
            try:
                listener(new)
            except Exception:
                log.exception("status listener %r failed", listener)
        return new
