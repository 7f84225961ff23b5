"""One idle backend per platform, behind the `IdleBackend` protocol, and `probe_backend`."""

from assistant.idle.backends.app import AppActivityBackend
from assistant.idle.backends.base import BackendUnavailable, IdleBackend, IdleQueryError
from assistant.idle.backends.dbus import (
    DBusCall,
    DBusCallError,
    LogindLockReader,
    MutterIdleBackend,
    ScreenSaverIdleBackend,
    qt_dbus_call,
)
from assistant.idle.backends.macos import MacOSBackend
from assistant.idle.backends.probe import Candidate, ProbeResult, platform_candidates, probe_backend
from assistant.idle.backends.windows import WindowsBackend
from assistant.idle.backends.x11 import X11Backend

__all__ = [
    "AppActivityBackend",
    "BackendUnavailable",
    "Candidate",
    "DBusCall",
    "DBusCallError",
    "IdleBackend",
    "IdleQueryError",
    "LogindLockReader",
    "MacOSBackend",
    "MutterIdleBackend",
    "ProbeResult",
    "ScreenSaverIdleBackend",
    "WindowsBackend",
    "X11Backend",
    "platform_candidates",
    "probe_backend",
    "qt_dbus_call",
]
