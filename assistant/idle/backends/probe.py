"""Pick the idle backend that works on this machine, and remember why others did not."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

from assistant.idle.backends.app import AppActivityBackend
from assistant.idle.backends.base import BackendUnavailable, IdleBackend
from assistant.idle.backends.dbus import (
    MUTTER_NAME,
    SCREENSAVER_NAME,
    DBusCall,
    LogindLockReader,
    MutterIdleBackend,
    ScreenSaverIdleBackend,
    qt_dbus_call,
)
from assistant.idle.backends.macos import MacOSBackend
from assistant.idle.backends.windows import WindowsBackend
from assistant.idle.backends.x11 import NAME as X11_NAME
from assistant.idle.backends.x11 import X11Backend

log = logging.getLogger("assistant.idle")

BackendFactory = Callable[[], IdleBackend]


class Candidate(NamedTuple):
    """A backend to try: its name (for reports) and how to create it."""

    name: str
    create: BackendFactory


class ProbeResult(NamedTuple):
    """The backend chosen, and (name, reason) for each candidate that failed before it."""

    backend: IdleBackend
    failures: list[tuple[str, str]]


def platform_candidates(
    platform: str | None = None,
    env: Mapping[str, str] | None = None,
    dbus_call: DBusCall = qt_dbus_call,
) -> list[Candidate]:
    """The system-wide backends worth trying on this platform, best first.

    On Linux the desktop's own D-Bus service comes first under Wayland (XWayland's
    idle counter only sees X11 clients, so X11 is not tried there); on an X11
    session XScreenSaver comes first. Linux backends share one logind lock reader.
    """
    platform = sys.platform if platform is None else platform
    env = os.environ if env is None else env
    if platform == "win32":
        return [Candidate(WindowsBackend.name, WindowsBackend)]
    if platform == "darwin":
        return [Candidate(MacOSBackend.name, MacOSBackend)]
    lock = LogindLockReader(dbus_call, env=env)
    mutter = Candidate(MUTTER_NAME, lambda: MutterIdleBackend(dbus_call, lock_reader=lock))
    screensaver = Candidate(
        SCREENSAVER_NAME, lambda: ScreenSaverIdleBackend(dbus_call, env=env, lock_reader=lock)
    )
    x11 = Candidate(X11_NAME, lambda: X11Backend(env.get("DISPLAY", ""), lock_reader=lock))
    wayland = env.get("XDG_SESSION_TYPE", "") == "wayland" or bool(env.get("WAYLAND_DISPLAY"))
    if wayland:
        return [mutter, screensaver]
    return [x11, mutter, screensaver]


def probe_backend(
    candidates: Sequence[Candidate] | None = None,
    *,
    fallback: AppActivityBackend | None = None,
) -> ProbeResult:
    """Create the first candidate that answers a real query; else the app-activity backend.

    Never raises for an unavailable backend: each failure is kept as
    (name, reason) for `reverie doctor`. Unexpected errors in a candidate are
    reported the same way, so one broken platform library cannot stop start-up.
    """
    if candidates is None:
        candidates = platform_candidates()
    failures: list[tuple[str, str]] = []
    for candidate in candidates:
        try:
            backend = candidate.create()
        except BackendUnavailable as exc:
            failures.append((candidate.name, exc.reason))
            log.debug("idle backend %s unavailable: %s", candidate.name, exc.reason)
            continue
        except Exception as exc:
            failures.append((candidate.name, f"unexpected error: {exc!r}"))
            log.warning("idle backend %s failed unexpectedly", candidate.name, exc_info=True)
            continue
        log.info("idle backend in use: %s", backend.name)
        return ProbeResult(backend, failures)
    backend = fallback if fallback is not None else AppActivityBackend()
    log.warning(
        "no system-wide idle backend works (%s); using activity inside Reverie only",
        "; ".join(f"{name}: {reason}" for name, reason in failures) or "none to try",
    )
    return ProbeResult(backend, failures)
