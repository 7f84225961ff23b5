"""macOS: CoreGraphics event-source idle time and the session's screen-lock flag."""

from __future__ import annotations

import ctypes
import logging
import math
import sys
import threading
from typing import Any

from assistant.idle.backends.base import BackendUnavailable, IdleQueryError

log = logging.getLogger("assistant.idle")

NAME = "macos-cgeventsource"
COREGRAPHICS_PATH = "/System/Library/Frameworks/CoreGraphics.framework/CoreGraphics"
COREFOUNDATION_PATH = "/System/Library/Frameworks/CoreFoundation.framework/CoreFoundation"
K_CG_EVENT_SOURCE_STATE_COMBINED_SESSION = 0
K_CG_ANY_INPUT_EVENT_TYPE = 0xFFFFFFFF  # (CGEventType)~0
K_CF_STRING_ENCODING_UTF8 = 0x08000100
K_CF_NUMBER_SINT64_TYPE = 4
LOCK_KEY = b"CGSSessionScreenIsLocked"


def load_libraries() -> tuple[Any, Any]:
    """Load CoreGraphics and CoreFoundation with argument types set."""
    if sys.platform != "darwin":
        raise BackendUnavailable(NAME, "this is not macOS")
    try:
        cg = ctypes.CDLL(COREGRAPHICS_PATH)
        cf = ctypes.CDLL(COREFOUNDATION_PATH)
    except OSError as exc:
        raise BackendUnavailable(NAME, f"cannot load CoreGraphics: {exc}") from exc
    cg.CGEventSourceSecondsSinceLastEventType.argtypes = [ctypes.c_int32, ctypes.c_uint32]
    cg.CGEventSourceSecondsSinceLastEventType.restype = ctypes.c_double
    cg.CGSessionCopyCurrentDictionary.argtypes = []
    cg.CGSessionCopyCurrentDictionary.restype = ctypes.c_void_p
    cf.CFStringCreateWithCString.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_uint32]
    cf.CFStringCreateWithCString.restype = ctypes.c_void_p
    cf.CFDictionaryGetValue.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    cf.CFDictionaryGetValue.restype = ctypes.c_void_p
    cf.CFGetTypeID.argtypes = [ctypes.c_void_p]
    cf.CFGetTypeID.restype = ctypes.c_ulong
    cf.CFBooleanGetTypeID.argtypes = []
    cf.CFBooleanGetTypeID.restype = ctypes.c_ulong
    cf.CFBooleanGetValue.argtypes = [ctypes.c_void_p]
    cf.CFBooleanGetValue.restype = ctypes.c_bool
    cf.CFNumberGetTypeID.argtypes = []
    cf.CFNumberGetTypeID.restype = ctypes.c_ulong
    cf.CFNumberGetValue.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_void_p]
    cf.CFNumberGetValue.restype = ctypes.c_bool
    cf.CFRelease.argtypes = [ctypes.c_void_p]
    cf.CFRelease.restype = None
    return cg, cf


def seconds_from_cg(value: float) -> float:
    """Turn CoreGraphics' CFTimeInterval into idle seconds; reject nonsense."""
    if math.isnan(value):
        raise IdleQueryError("CGEventSourceSecondsSinceLastEventType returned NaN")
    return max(0.0, float(value))


class MacOSBackend:
    """System-wide idle time for the console session on macOS.

    `coregraphics`/`corefoundation` default to the real frameworks; tests pass
    objects with the same function names. Creating the backend queries once.
    """

    name = NAME
    system_wide = True

    def __init__(self, coregraphics: Any = None, corefoundation: Any = None) -> None:
        if coregraphics is None or corefoundation is None:
            coregraphics, corefoundation = load_libraries()
        self._cg = coregraphics
        self._cf = corefoundation
        self._lock = threading.Lock()
        self._lock_key: Any = None
        try:
            self.idle_seconds()
        except IdleQueryError as exc:
            raise BackendUnavailable(NAME, str(exc)) from exc
        self._lock_key = self._cf.CFStringCreateWithCString(
            None, LOCK_KEY, K_CF_STRING_ENCODING_UTF8
        )

    def idle_seconds(self) -> float:
        """Seconds since the last keyboard, mouse or tablet event in the session."""
        with self._lock:
            value = self._cg.CGEventSourceSecondsSinceLastEventType(
                K_CG_EVENT_SOURCE_STATE_COMBINED_SESSION, K_CG_ANY_INPUT_EVENT_TYPE
            )
        return seconds_from_cg(float(value))

    def is_locked(self) -> bool | None:
        """Read `CGSSessionScreenIsLocked` from the current session dictionary.

        The key is only present while the screen is locked, so a missing key means
        unlocked. None when there is no window-server session (e.g. over ssh).
        """
        with self._lock:
            if not self._lock_key:
                return None
            session = self._cg.CGSessionCopyCurrentDictionary()
            if not session:
                return None
            try:
                value = self._cf.CFDictionaryGetValue(session, self._lock_key)
                if not value:
                    return False
                return self._truth(value)
            finally:
                self._cf.CFRelease(session)

    def _truth(self, value: Any) -> bool | None:
        type_id = self._cf.CFGetTypeID(value)
        if type_id == self._cf.CFBooleanGetTypeID():
            return bool(self._cf.CFBooleanGetValue(value))
        if type_id == self._cf.CFNumberGetTypeID():
            number = ctypes.c_int64(0)
            if self._cf.CFNumberGetValue(value, K_CF_NUMBER_SINT64_TYPE, ctypes.byref(number)):
                return number.value != 0
        log.debug("CGSSessionScreenIsLocked has an unexpected CoreFoundation type %s", type_id)
        return None

    def close(self) -> None:
        """Release the CFString key made at creation."""
        with self._lock:
            if self._lock_key:
                self._cf.CFRelease(self._lock_key)
                self._lock_key = None
