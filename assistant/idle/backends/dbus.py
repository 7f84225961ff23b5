"""Linux desktop idle time and lock state over D-Bus (GNOME Mutter, freedesktop, logind).

D-Bus goes through QtDBus, imported inside `qt_dbus_call` only, so this module
(and everything below `gui/`) loads without Qt. Each backend takes a `call`
function with the signature of `qt_dbus_call`; tests pass a fake that returns
canned replies, so the reply parsing and unit handling run for real.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Literal

from assistant.idle.backends.base import BackendUnavailable, IdleQueryError

log = logging.getLogger("assistant.idle")

Bus = Literal["session", "system"]
DBusCall = Callable[[Bus, str, str, str, str, Sequence[object]], list[object]]

MUTTER_NAME = "gnome-mutter-idlemonitor"
SCREENSAVER_NAME = "freedesktop-screensaver"
LOGIN1 = "org.freedesktop.login1"
LOGIN1_PATH = "/org/freedesktop/login1"
LOGIN1_AUTO_SESSION = "/org/freedesktop/login1/session/auto"


class DBusCallError(RuntimeError):
    """A D-Bus call failed: no bus, no such service, an error reply, a timeout."""


def _unwrap_qt(value: object) -> object:
    """Turn QtDBus wrapper objects (variants, object paths) into plain Python values."""
    variant = getattr(value, "variant", None)
    if callable(variant):
        return _unwrap_qt(variant())
    path = getattr(value, "path", None)
    if callable(path) and type(value).__name__ == "QDBusObjectPath":
        return str(path())
    return value


def qt_dbus_call(
    bus: Bus,
    service: str,
    path: str,
    interface: str,
    method: str,
    args: Sequence[object] = (),
    timeout_ms: int = 2000,
) -> list[object]:
    """Make one blocking D-Bus method call through QtDBus and return the reply arguments.

    Safe from any thread (QtDBus connections are thread-safe). Raises
    DBusCallError with the bus's own error name and message on failure.
    """
    try:
        from PySide6.QtDBus import QDBus, QDBusConnection, QDBusMessage
    except ImportError as exc:
        raise DBusCallError(f"QtDBus is not available ({exc})") from exc
    conn = QDBusConnection.sessionBus() if bus == "session" else QDBusConnection.systemBus()
    if not conn.isConnected():
        detail = conn.lastError().message() or "no bus address"
        raise DBusCallError(f"cannot connect to the D-Bus {bus} bus: {detail}")
    message = QDBusMessage.createMethodCall(service, path, interface, method)
    if args:
        message.setArguments(list(args))
    reply = conn.call(message, QDBus.CallMode.Block, timeout_ms)
    if reply.type() == QDBusMessage.MessageType.ErrorMessage:
        raise DBusCallError(f"{reply.errorName()}: {reply.errorMessage()}")
    return [_unwrap_qt(arg) for arg in reply.arguments()]


def parse_idle_reply(reply: Sequence[object], *, unit_ms: bool, what: str) -> float:
    """Read one unsigned integer idle time from a reply and convert it to seconds."""
    if len(reply) != 1 or isinstance(reply[0], bool) or not isinstance(reply[0], int):
        raise IdleQueryError(f"{what} replied {list(reply)!r}, expected one unsigned integer")
    value = reply[0]
    if value < 0:
        raise IdleQueryError(f"{what} replied a negative idle time {value}")
    return value / 1000.0 if unit_ms else float(value)


class LogindLockReader:
    """Reads the logind session's `LockedHint` over the system bus.

    GNOME, KDE and most lockers set LockedHint while the screen is locked. The
    session is $XDG_SESSION_ID's (`GetSession`), else logind's `session/auto`
    object (the caller's session, or the user's graphical one for processes
    started outside a session, such as systemd user services).
    `GetSessionByPID` is not used: it takes a uint32, and PySide6's QtDBus sends
    Python ints as int32, which logind rejects. Returns None (and says why in
    `unavailable_reason`) when logind cannot be asked.
    """

    def __init__(self, call: DBusCall = qt_dbus_call, *, env: Mapping[str, str] | None = None):
        self._call = call
        self._env = os.environ if env is None else env
        self._session_path: str | None = None
        self._mutex = threading.Lock()
        self.unavailable_reason: str | None = None

    def _resolve_session(self) -> str:
        session_id = self._env.get("XDG_SESSION_ID", "")
        if session_id:
            try:
                reply = self._call(
                    "system",
                    LOGIN1,
                    LOGIN1_PATH,
                    "org.freedesktop.login1.Manager",
                    "GetSession",
                    [session_id],
                )
            except DBusCallError as exc:
                log.debug("logind GetSession(%s) failed: %s; using session/auto", session_id, exc)
            else:
                if len(reply) == 1 and isinstance(reply[0], str) and reply[0].startswith("/"):
                    return reply[0]
                log.debug("logind GetSession replied %r; using session/auto", reply)
        return LOGIN1_AUTO_SESSION

    def __call__(self) -> bool | None:
        """True/False from LockedHint, or None if logind is not reachable."""
        with self._mutex:
            if self.unavailable_reason is not None:
                return None
            try:
                if self._session_path is None:
                    self._session_path = self._resolve_session()
                reply = self._call(
                    "system",
                    LOGIN1,
                    self._session_path,
                    "org.freedesktop.DBus.Properties",
                    "Get",
                    ["org.freedesktop.login1.Session", "LockedHint"],
                )
            except DBusCallError as exc:
                self.unavailable_reason = f"logind LockedHint cannot be read: {exc}"
                log.info("%s; lock state will be unknown", self.unavailable_reason)
                return None
        if len(reply) == 1 and isinstance(reply[0], bool):
            return reply[0]
        log.debug("unexpected LockedHint reply %r", reply)
        return None


class _DBusIdleBackend:
    """Shared body of the D-Bus idle backends: one call per query, checked at creation."""

    name = ""
    system_wide = True
    _service = ""
    _path = ""
    _interface = ""
    _method = ""

    def __init__(
        self,
        call: DBusCall,
        unit_ms: bool,
        lock_reader: Callable[[], bool | None] | None,
    ) -> None:
        self._call = call
        self._unit_ms = unit_ms
        self._lock_reader = lock_reader
        try:
            self.idle_seconds()
        except IdleQueryError as exc:
            raise BackendUnavailable(self.name, str(exc)) from exc

    def idle_seconds(self) -> float:
        """Ask the desktop for the session idle time."""
        try:
            reply = self._call(
                "session", self._service, self._path, self._interface, self._method, ()
            )
        except DBusCallError as exc:
            raise IdleQueryError(f"{self._service}.{self._method} failed: {exc}") from exc
        return parse_idle_reply(
            reply, unit_ms=self._unit_ms, what=f"{self._service}.{self._method}"
        )

    def is_locked(self) -> bool | None:
        """Delegates to the lock reader given at creation; None without one."""
        return self._lock_reader() if self._lock_reader is not None else None

    def close(self) -> None:
        """Nothing to release: the shared bus connection belongs to Qt."""


class MutterIdleBackend(_DBusIdleBackend):
    """GNOME (X11 or Wayland): `org.gnome.Mutter.IdleMonitor.GetIdletime`, in milliseconds."""

    name = MUTTER_NAME
    _service = "org.gnome.Mutter.IdleMonitor"
    _path = "/org/gnome/Mutter/IdleMonitor/Core"
    _interface = "org.gnome.Mutter.IdleMonitor"
    _method = "GetIdletime"

    def __init__(
        self,
        call: DBusCall = qt_dbus_call,
        *,
        lock_reader: Callable[[], bool | None] | None = None,
    ) -> None:
        super().__init__(call, True, lock_reader)


def screensaver_reports_ms(env: Mapping[str, str]) -> bool:
    """Whether `GetSessionIdleTime` answers in milliseconds on this desktop.

    The freedesktop spec says seconds, and GNOME-style implementations follow it;
    KDE's kscreenlocker returns KIdleTime's value, which is milliseconds. We go by
    $XDG_CURRENT_DESKTOP: KDE means milliseconds, everything else seconds.
    """
    desktops = env.get("XDG_CURRENT_DESKTOP", "").upper().split(":")
    return "KDE" in desktops


class ScreenSaverIdleBackend(_DBusIdleBackend):
    """KDE and others: `org.freedesktop.ScreenSaver.GetSessionIdleTime`.

    `unit_ms=None` picks the unit with `screensaver_reports_ms`; pass True/False
    to override.
    """

    name = SCREENSAVER_NAME
    _service = "org.freedesktop.ScreenSaver"
    _path = "/org/freedesktop/ScreenSaver"
    _interface = "org.freedesktop.ScreenSaver"
    _method = "GetSessionIdleTime"

    def __init__(
        self,
        call: DBusCall = qt_dbus_call,
        *,
        unit_ms: bool | None = None,
        env: Mapping[str, str] | None = None,
        lock_reader: Callable[[], bool | None] | None = None,
    ) -> None:
        if unit_ms is None:
            unit_ms = screensaver_reports_ms(os.environ if env is None else env)
        super().__init__(call, unit_ms, lock_reader)
