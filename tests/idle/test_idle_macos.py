"""MacOSBackend with only CoreGraphics/CoreFoundation replaced."""

from __future__ import annotations

import ctypes
import math
import sys
from typing import Any

import pytest

from assistant.idle.backends.base import BackendUnavailable
from assistant.idle.backends.macos import (
    K_CF_NUMBER_SINT64_TYPE,
    K_CF_STRING_ENCODING_UTF8,
    MacOSBackend,
    load_libraries,
)

BOOLEAN_TYPE, NUMBER_TYPE, STRING_TYPE = 21, 22, 7
KEY, SESSION, TRUE_REF, FALSE_REF, ONE_REF = 0x10, 0x20, 0x30, 0x31, 0x40


class FakeCG:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.calls: list[tuple[int, int]] = []
        self.session: int | None = SESSION

    def CGEventSourceSecondsSinceLastEventType(self, state: int, kind: int) -> float:
        self.calls.append((state, kind))
        return self.seconds

    def CGSessionCopyCurrentDictionary(self) -> int | None:
        return self.session


class FakeCF:
    def __init__(self) -> None:
        self.values: dict[int, int] = {}
        self.released: list[int] = []
        self.created: list[tuple[Any, bytes, int]] = []

    def CFStringCreateWithCString(self, alloc: Any, text: bytes, encoding: int) -> int:
        self.created.append((alloc, text, encoding))
        return KEY

    def CFDictionaryGetValue(self, mapping: int, key: int) -> int | None:
        assert mapping == SESSION and key == KEY
        return self.values.get(key)

    def CFGetTypeID(self, ref: int) -> int:
        return {TRUE_REF: BOOLEAN_TYPE, FALSE_REF: BOOLEAN_TYPE, ONE_REF: NUMBER_TYPE}.get(
            ref, STRING_TYPE
        )

    def CFBooleanGetTypeID(self) -> int:
        return BOOLEAN_TYPE

    def CFNumberGetTypeID(self) -> int:
        return NUMBER_TYPE

    def CFBooleanGetValue(self, ref: int) -> bool:
        return ref == TRUE_REF

    def CFNumberGetValue(self, ref: int, kind: int, out: Any) -> bool:
        assert kind == K_CF_NUMBER_SINT64_TYPE
        target = out._obj  # the c_int64 behind ctypes.byref()
        assert isinstance(target, ctypes.c_int64)
        target.value = 1
        return True

    def CFRelease(self, ref: int) -> None:
        self.released.append(ref)


def make(seconds: float = 3.5) -> tuple[MacOSBackend, FakeCG, FakeCF]:
    cg, cf = FakeCG(seconds), FakeCF()
    return MacOSBackend(cg, cf), cg, cf


def test_idle_uses_combined_session_and_any_input_event() -> None:
    backend, cg, cf = make(12.25)
    assert backend.idle_seconds() == 12.25
    assert cg.calls[-1] == (0, 0xFFFFFFFF)
    assert cf.created == [(None, b"CGSSessionScreenIsLocked", K_CF_STRING_ENCODING_UTF8)]


def test_negative_interval_is_clamped_and_nan_refused() -> None:
    backend, cg, _ = make(1.0)
    cg.seconds = -0.5
    assert backend.idle_seconds() == 0.0
    with pytest.raises(BackendUnavailable, match="NaN"):
        make(math.nan)


def test_lock_key_absent_means_unlocked_and_dictionary_released() -> None:
    backend, _, cf = make()
    assert backend.is_locked() is False
    assert cf.released == [SESSION]


def test_lock_key_boolean_and_number() -> None:
    backend, _, cf = make()
    cf.values[KEY] = TRUE_REF
    assert backend.is_locked() is True
    cf.values[KEY] = FALSE_REF
    assert backend.is_locked() is False
    cf.values[KEY] = ONE_REF
    assert backend.is_locked() is True
    cf.values[KEY] = 0x99  # a CFString: not a truth value
    assert backend.is_locked() is None
    assert cf.released == [SESSION] * 4


def test_no_session_means_unknown_and_close_releases_key_once() -> None:
    backend, cg, cf = make()
    cg.session = None
    assert backend.is_locked() is None
    backend.close()
    backend.close()
    assert cf.released == [KEY]
    assert backend.is_locked() is None


@pytest.mark.skipif(sys.platform == "darwin", reason="checks the refusal on other systems")
def test_real_libraries_refused_off_macos() -> None:
    with pytest.raises(BackendUnavailable, match="not macOS"):
        load_libraries()


@pytest.mark.skipif(sys.platform != "darwin", reason="needs macOS")
def test_real_macos_backend() -> None:
    backend = MacOSBackend()
    assert backend.idle_seconds() >= 0.0
    assert backend.is_locked() in (True, False, None)
    backend.close()
