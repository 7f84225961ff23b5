"""The contract every idle backend keeps, and the errors they raise."""

from __future__ import annotations

from typing import Protocol, runtime_checkable


class BackendUnavailable(RuntimeError):
    """A backend cannot work on this machine; `reason` says why in one sentence.

    Raised only while a backend is being created (its probe), so `probe_backend`
    can move on to the next candidate and `reverie doctor` can show the reason.
    """

    def __init__(self, backend: str, reason: str) -> None:
        super().__init__(f"{backend}: {reason}")
        self.backend = backend
        self.reason = reason


class IdleQueryError(RuntimeError):
    """A backend that worked at probe time failed to answer a later query.

    The `IdleMonitor` logs it and keeps its previous state rather than guessing.
    """


@runtime_checkable
class IdleBackend(Protocol):
    """Tells how long the person has not touched keyboard or mouse.

    `system_wide` is False when only input inside Reverie itself is seen, so the
    GUI can say that idle detection is approximate. Every method may be called
    from the monitor's polling thread; implementations serialise their own OS
    calls. `close()` releases OS resources and is safe to call twice.
    """

    @property
    def name(self) -> str:
        """Stable identifier shown by `reverie doctor`, e.g. "x11-screensaver"."""
        ...

    @property
    def system_wide(self) -> bool:
        """False when only input inside Reverie is seen."""
        ...

    def idle_seconds(self) -> float:
        """Seconds since the last keyboard/mouse input (>= 0); raises IdleQueryError."""
        ...

    def is_locked(self) -> bool | None:
        """True if the screen is locked, False if not, None if this backend cannot tell."""
        ...

    def close(self) -> None:
        """Release OS handles; later queries are not allowed."""
        ...


class InputEvents(Protocol):
    """A platform's notice of input, for waiting on the person's return without polling.

    Made and used by one waiting thread; `interrupt` may come from any thread.
    """

    def wait(self, timeout: float) -> bool:
        """Block until keyboard or mouse input, `interrupt` or ``timeout`` seconds;
        True if input came (the idle backend then reads a short idle time)."""
        ...

    def interrupt(self) -> None:
        """Make a `wait` in progress return now."""
        ...

    def close(self) -> None:
        """Release the OS handles (idempotent)."""
        ...
