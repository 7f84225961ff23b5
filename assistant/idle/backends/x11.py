"""X11: the MIT-SCREEN-SAVER extension's idle counter, read through ctypes."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import threading
from collections.abc import Callable
from typing import Any

from assistant.idle.backends.base import BackendUnavailable, IdleQueryError

log = logging.getLogger("assistant.idle")

NAME = "x11-screensaver"


class XScreenSaverInfo(ctypes.Structure):
    """`XScreenSaverInfo` from <X11/extensions/scrnsaver.h>; `idle` is in milliseconds."""

    _fields_ = [
        ("window", ctypes.c_ulong),
        ("state", ctypes.c_int),
        ("kind", ctypes.c_int),
        ("til_or_since", ctypes.c_ulong),
        ("idle", ctypes.c_ulong),
        ("eventMask", ctypes.c_ulong),
    ]


def load_libraries() -> tuple[Any, Any]:
    """Load libX11 and libXss with argument types set, or say which one is missing."""
    x11_path = ctypes.util.find_library("X11")
    if not x11_path:
        raise BackendUnavailable(NAME, "libX11 is not installed")
    xss_path = ctypes.util.find_library("Xss")
    if not xss_path:
        raise BackendUnavailable(NAME, "libXss is not installed (package libxss1 on Debian)")
    try:
        xlib = ctypes.CDLL(x11_path)
        xss = ctypes.CDLL(xss_path)
    except OSError as exc:
        raise BackendUnavailable(NAME, f"cannot load the X11 libraries: {exc}") from exc
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    xlib.XDefaultRootWindow.restype = ctypes.c_ulong
    xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    xlib.XCloseDisplay.restype = ctypes.c_int
    xlib.XFree.argtypes = [ctypes.c_void_p]
    xlib.XFree.restype = ctypes.c_int
    xss.XScreenSaverQueryExtension.argtypes = [
        ctypes.c_void_p,
        ctypes.POINTER(ctypes.c_int),
        ctypes.POINTER(ctypes.c_int),
    ]
    xss.XScreenSaverQueryExtension.restype = ctypes.c_int
    xss.XScreenSaverAllocInfo.argtypes = []
    xss.XScreenSaverAllocInfo.restype = ctypes.POINTER(XScreenSaverInfo)
    xss.XScreenSaverQueryInfo.argtypes = [
        ctypes.c_void_p,
        ctypes.c_ulong,
        ctypes.POINTER(XScreenSaverInfo),
    ]
    xss.XScreenSaverQueryInfo.restype = ctypes.c_int
    return xlib, xss


class X11Backend:
    """System-wide idle time of an X11 display (not of XWayland: it sees X clients only).

    Opens its own connection to `display` (default: $DISPLAY) and keeps it until
    `close()`. `xlib`/`xss` default to the real libraries; tests pass look-alikes
    so only the C calls are replaced. `lock_reader` answers `is_locked()` (e.g. the
    logind LockedHint); without one the lock state is unknown.
    """

    name = NAME
    system_wide = True

    def __init__(
        self,
        display: str | None = None,
        *,
        xlib: Any = None,
        xss: Any = None,
        lock_reader: Callable[[], bool | None] | None = None,
    ) -> None:
        display = display if display is not None else os.environ.get("DISPLAY", "")
        if not display:
            raise BackendUnavailable(NAME, "DISPLAY is not set (no X11 session)")
        if xlib is None or xss is None:
            xlib, xss = load_libraries()
        self._xlib = xlib
        self._xss = xss
        self._lock_reader = lock_reader
        self._mutex = threading.Lock()
        self._info: Any = None
        self._display: Any = xlib.XOpenDisplay(display.encode())
        if not self._display:
            raise BackendUnavailable(NAME, f"cannot open X display {display!r}")
        try:
            event_base, error_base = ctypes.c_int(0), ctypes.c_int(0)
            if not xss.XScreenSaverQueryExtension(
                self._display, ctypes.pointer(event_base), ctypes.pointer(error_base)
            ):
                raise BackendUnavailable(
                    NAME, f"X display {display!r} lacks the MIT-SCREEN-SAVER extension"
                )
            self._root = xlib.XDefaultRootWindow(self._display)
            self._info = xss.XScreenSaverAllocInfo()
            if not self._info:
                raise BackendUnavailable(NAME, "XScreenSaverAllocInfo returned NULL")
            self.idle_seconds()
        except IdleQueryError as exc:
            self.close()
            raise BackendUnavailable(NAME, str(exc)) from exc
        except BaseException:
            self.close()
            raise
        log.debug("X11 idle backend opened display %s", display)

    def idle_seconds(self) -> float:
        """Milliseconds since the last input on the display, as seconds."""
        with self._mutex:
            if not self._display or not self._info:
                raise IdleQueryError("the X11 idle backend is closed")
            if not self._xss.XScreenSaverQueryInfo(self._display, self._root, self._info):
                raise IdleQueryError("XScreenSaverQueryInfo failed")
            return int(self._info.contents.idle) / 1000.0

    def is_locked(self) -> bool | None:
        """Delegates to the lock reader given at creation; None without one."""
        return self._lock_reader() if self._lock_reader is not None else None

    def close(self) -> None:
        """Free the info struct and close the display connection (idempotent)."""
        with self._mutex:
            if self._info:
                self._xlib.XFree(self._info)
            self._info = None
            if self._display:
                self._xlib.XCloseDisplay(self._display)
            self._display = None
