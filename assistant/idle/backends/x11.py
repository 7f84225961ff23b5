"""X11: the MIT-SCREEN-SAVER extension's idle counter, and XInput2 raw input events,
both through ctypes."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import select
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
        #: The display this backend reads (for `input_events`).
        self.display_name = display
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

    def input_events(self) -> X11InputEvents:
        """A new source of this display's input events (raises BackendUnavailable)."""
        return X11InputEvents(self.display_name)

    def close(self) -> None:
        """Free the info struct and close the display connection (idempotent)."""
        with self._mutex:
            if self._info:
                self._xlib.XFree(self._info)
            self._info = None
            if self._display:
                self._xlib.XCloseDisplay(self._display)
            self._display = None


#: XInput2 raw events (XI2.h): any key, button or pointer motion, from any device.
XI_RAW_EVENTS = (13, 14, 15, 16, 17)  # RawKeyPress, RawKeyRelease, RawButtonPress/Release,
#                                       RawMotion
XI_ALL_MASTER_DEVICES = 1
#: Bytes of an XEvent (a union padded to 24 longs).
XEVENT_SIZE = 24 * 8


class XIEventMask(ctypes.Structure):
    """`XIEventMask` from <X11/extensions/XInput2.h>."""

    _fields_ = [
        ("deviceid", ctypes.c_int),
        ("mask_len", ctypes.c_int),
        ("mask", ctypes.POINTER(ctypes.c_ubyte)),
    ]


def load_xinput() -> tuple[Any, Any]:
    """libX11 and libXi with the argument types the event source uses."""
    x11_path = ctypes.util.find_library("X11")
    xi_path = ctypes.util.find_library("Xi")
    if not x11_path or not xi_path:
        raise BackendUnavailable(NAME, "libX11 or libXi is not installed (package libxi6)")
    try:
        xlib = ctypes.CDLL(x11_path)
        xi = ctypes.CDLL(xi_path)
    except OSError as exc:
        raise BackendUnavailable(NAME, f"cannot load libXi: {exc}") from exc
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XCloseDisplay.argtypes = [ctypes.c_void_p]
    xlib.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
    xlib.XDefaultRootWindow.restype = ctypes.c_ulong
    xlib.XQueryExtension.argtypes = [ctypes.c_void_p, ctypes.c_char_p,
                                     *[ctypes.POINTER(ctypes.c_int)] * 3]
    xlib.XQueryExtension.restype = ctypes.c_int
    xlib.XConnectionNumber.argtypes = [ctypes.c_void_p]
    xlib.XConnectionNumber.restype = ctypes.c_int
    xlib.XPending.argtypes = [ctypes.c_void_p]
    xlib.XPending.restype = ctypes.c_int
    xlib.XNextEvent.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    xlib.XSync.argtypes = [ctypes.c_void_p, ctypes.c_int]
    xi.XIQueryVersion.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int),
                                  ctypes.POINTER(ctypes.c_int)]
    xi.XIQueryVersion.restype = ctypes.c_int
    xi.XISelectEvents.argtypes = [ctypes.c_void_p, ctypes.c_ulong,
                                  ctypes.POINTER(XIEventMask), ctypes.c_int]
    xi.XISelectEvents.restype = ctypes.c_int
    return xlib, xi


class X11InputEvents:
    """Wakes a waiting thread the moment the person touches keyboard or mouse.

    A connection of its own to the display, subscribed to XInput2 raw key, button and
    motion events on the root window (they come from every device, whichever window has
    the focus). `wait` blocks in ``select()`` on the connection and on a pipe that
    `interrupt` writes to: no CPU is used until something happens. Made by the thread
    that waits and used by it alone (Xlib is not thread-safe); `interrupt` only writes
    to the pipe, so any thread may call it. Open it only while watching: events that
    nobody reads pile up in the X server.
    """

    def __init__(self, display: str | None = None, *, xlib: Any = None, xi: Any = None) -> None:
        display = display if display is not None else os.environ.get("DISPLAY", "")
        if not display:
            raise BackendUnavailable(NAME, "DISPLAY is not set (no X11 session)")
        if xlib is None or xi is None:
            xlib, xi = load_xinput()
        self._xlib, self._xi = xlib, xi
        self._pipe_lock = threading.Lock()
        self._wake_r, self._wake_w = -1, -1
        self._display: Any = xlib.XOpenDisplay(display.encode())
        if not self._display:
            raise BackendUnavailable(NAME, f"cannot open X display {display!r}")
        try:
            opcode, event, error = ctypes.c_int(0), ctypes.c_int(0), ctypes.c_int(0)
            if not xlib.XQueryExtension(self._display, b"XInputExtension", ctypes.byref(opcode),
                                        ctypes.byref(event), ctypes.byref(error)):
                raise BackendUnavailable(NAME, f"X display {display!r} lacks XInputExtension")
            major, minor = ctypes.c_int(2), ctypes.c_int(0)
            if xi.XIQueryVersion(self._display, ctypes.byref(major), ctypes.byref(minor)) != 0:
                raise BackendUnavailable(NAME, f"X display {display!r} lacks XInput 2")
            bits = (ctypes.c_ubyte * 4)()
            for raw in XI_RAW_EVENTS:
                bits[raw >> 3] |= 1 << (raw & 7)
            mask = XIEventMask(XI_ALL_MASTER_DEVICES, len(bits),
                               ctypes.cast(bits, ctypes.POINTER(ctypes.c_ubyte)))
            xi.XISelectEvents(self._display, xlib.XDefaultRootWindow(self._display),
                              ctypes.byref(mask), 1)
            xlib.XSync(self._display, 0)
            self._fd = int(xlib.XConnectionNumber(self._display))
            self._wake_r, self._wake_w = os.pipe()
            os.set_blocking(self._wake_w, False)
            self._event = ctypes.create_string_buffer(XEVENT_SIZE)
        except BaseException:
            self.close()
            raise

    def wait(self, timeout: float) -> bool:
        """Block until input, `interrupt` or ``timeout`` seconds; True if input came."""
        if self._drain():
            return True
        ready, _, _ = select.select([self._fd, self._wake_r], [], [], timeout)
        if self._wake_r in ready:
            os.read(self._wake_r, 64)
        return self._drain()

    def interrupt(self) -> None:
        """Make a `wait` return now (from any thread)."""
        with self._pipe_lock, contextlib.suppress(OSError):  # full: a wake-up is pending
            if self._wake_w >= 0:
                os.write(self._wake_w, b"!")

    def _drain(self) -> bool:
        """Read every queued event; True if there was one (any event here is input)."""
        got = False
        while self._xlib.XPending(self._display) > 0:
            self._xlib.XNextEvent(self._display, self._event)
            got = True
        return got

    def close(self) -> None:
        """Close the connection and the pipe (idempotent; from the waiting thread)."""
        if self._display:
            self._xlib.XCloseDisplay(self._display)
            self._display = None
        with self._pipe_lock:
            for fd in (self._wake_r, self._wake_w):
                if fd >= 0:
                    os.close(fd)
            self._wake_r = self._wake_w = -1
