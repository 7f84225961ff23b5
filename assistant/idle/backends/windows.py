"""Windows: `GetLastInputInfo` for idle time, the input desktop for the lock state."""

from __future__ import annotations

import ctypes
import logging
import sys
import threading
from typing import Any

from assistant.idle.backends.base import BackendUnavailable, IdleQueryError

log = logging.getLogger("assistant.idle")

NAME = "windows-lastinput"
TICK_MASK = 0xFFFFFFFF
UOI_NAME = 2
DESKTOP_READOBJECTS = 0x0001


class LASTINPUTINFO(ctypes.Structure):
    """The Win32 LASTINPUTINFO struct; `dwTime` is a 32-bit GetTickCount value."""

    _fields_ = [("cbSize", ctypes.c_uint32), ("dwTime", ctypes.c_uint32)]


def elapsed_ticks(now: int, last: int) -> int:
    """Milliseconds from `last` to `now`, both 32-bit tick counts.

    GetTickCount wraps every 49.7 days; modular arithmetic keeps the difference
    right across the wrap (the same trick the Windows docs recommend).
    """
    return (now - last) & TICK_MASK


def _last_error() -> int:
    if sys.platform == "win32":
        return ctypes.get_last_error()
    return 0


def load_libraries() -> tuple[Any, Any]:
    """Load user32 and kernel32 with argument types set; BackendUnavailable elsewhere."""
    if sys.platform != "win32":
        raise BackendUnavailable(NAME, "this is not Windows")
    user32 = ctypes.WinDLL("user32", use_last_error=True)
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    user32.GetLastInputInfo.argtypes = [ctypes.POINTER(LASTINPUTINFO)]
    user32.GetLastInputInfo.restype = ctypes.c_int
    kernel32.GetTickCount.argtypes = []
    kernel32.GetTickCount.restype = ctypes.c_uint32
    user32.OpenInputDesktop.argtypes = [ctypes.c_uint32, ctypes.c_int, ctypes.c_uint32]
    user32.OpenInputDesktop.restype = ctypes.c_void_p
    user32.GetUserObjectInformationW.argtypes = [
        ctypes.c_void_p,
        ctypes.c_int,
        ctypes.c_void_p,
        ctypes.c_uint32,
        ctypes.POINTER(ctypes.c_uint32),
    ]
    user32.GetUserObjectInformationW.restype = ctypes.c_int
    user32.CloseDesktop.argtypes = [ctypes.c_void_p]
    user32.CloseDesktop.restype = ctypes.c_int
    return user32, kernel32


class WindowsBackend:
    """System-wide idle time for the current Windows session.

    `user32`/`kernel32` default to the real DLLs; tests pass objects with the same
    function names so only the OS call is replaced. Creating the backend makes one
    real query and raises BackendUnavailable if it fails.
    """

    name = NAME
    system_wide = True

    def __init__(self, user32: Any = None, kernel32: Any = None) -> None:
        if user32 is None or kernel32 is None:
            user32, kernel32 = load_libraries()
        self._user32 = user32
        self._kernel32 = kernel32
        self._lock = threading.Lock()
        try:
            self.idle_seconds()
        except IdleQueryError as exc:
            raise BackendUnavailable(NAME, str(exc)) from exc

    def idle_seconds(self) -> float:
        """Seconds since the last input anywhere in this session."""
        info = LASTINPUTINFO()
        info.cbSize = ctypes.sizeof(LASTINPUTINFO)
        with self._lock:
            if not self._user32.GetLastInputInfo(ctypes.pointer(info)):
                raise IdleQueryError(f"GetLastInputInfo failed (error {_last_error()})")
            now = int(self._kernel32.GetTickCount()) & TICK_MASK
        return elapsed_ticks(now, int(info.dwTime)) / 1000.0

    def is_locked(self) -> bool | None:
        """True when the input desktop is not the user's "Default" desktop.

        When the workstation is locked (or a UAC prompt shows) the input desktop is
        "Winlogon", which a normal process may not even open: failing to open it
        counts as locked. None if the desktop name cannot be read.
        """
        with self._lock:
            handle = self._user32.OpenInputDesktop(0, False, DESKTOP_READOBJECTS)
            if not handle:
                return True
            try:
                buf = ctypes.create_unicode_buffer(256)
                needed = ctypes.c_uint32(0)
                ok = self._user32.GetUserObjectInformationW(
                    handle, UOI_NAME, buf, ctypes.sizeof(buf), ctypes.pointer(needed)
                )
                if not ok:
                    log.debug("GetUserObjectInformationW failed (error %s)", _last_error())
                    return None
                return buf.value.lower() != "default"
            finally:
                self._user32.CloseDesktop(handle)

    def close(self) -> None:
        """Nothing to release: the DLLs stay loaded for the process."""
