"""WindowsBackend with only user32/kernel32 replaced: struct, tick wrap, lock desktop."""

from __future__ import annotations

import ctypes
import sys
from typing import Any

import pytest

from assistant.idle.backends.base import BackendUnavailable
from assistant.idle.backends.windows import (
    DESKTOP_READOBJECTS,
    LASTINPUTINFO,
    UOI_NAME,
    WindowsBackend,
    elapsed_ticks,
    load_libraries,
)


class FakeUser32:
    def __init__(self, last_input: int, ok: bool = True, desktop: str | None = "Default") -> None:
        self.last_input = last_input
        self.ok = ok
        self.desktop = desktop
        self.name_ok = True
        self.closed: list[int] = []
        self.open_args: tuple[Any, ...] = ()

    def GetLastInputInfo(self, info: Any) -> int:
        # The backend must hand over a LASTINPUTINFO with cbSize filled in, as Win32 demands.
        assert isinstance(info.contents, LASTINPUTINFO)
        assert info.contents.cbSize == ctypes.sizeof(LASTINPUTINFO) == 8
        if not self.ok:
            return 0
        info.contents.dwTime = self.last_input
        return 1

    def OpenInputDesktop(self, flags: int, inherit: bool, access: int) -> int:
        self.open_args = (flags, inherit, access)
        return 0 if self.desktop is None else 0x44

    def GetUserObjectInformationW(
        self, handle: int, index: int, buf: Any, size: int, needed: Any
    ) -> int:
        assert handle == 0x44 and index == UOI_NAME
        assert size == ctypes.sizeof(buf)
        if not self.name_ok:
            return 0
        assert self.desktop is not None
        buf.value = self.desktop
        needed.contents.value = (len(self.desktop) + 1) * ctypes.sizeof(ctypes.c_wchar)
        return 1

    def CloseDesktop(self, handle: int) -> int:
        self.closed.append(handle)
        return 1


class FakeKernel32:
    def __init__(self, now: int) -> None:
        self.now = now

    def GetTickCount(self) -> int:
        return self.now


def make(last: int, now: int, **kwargs: Any) -> tuple[WindowsBackend, FakeUser32, FakeKernel32]:
    user32, kernel32 = FakeUser32(last, **kwargs), FakeKernel32(now)
    return WindowsBackend(user32, kernel32), user32, kernel32


def test_idle_is_tick_difference_in_seconds() -> None:
    backend, _, kernel32 = make(last=1_000, now=6_250)
    assert backend.idle_seconds() == pytest.approx(5.25)
    kernel32.now = 1_000
    assert backend.idle_seconds() == 0.0


def test_tick_wrap_after_49_days() -> None:
    # Input happened 0x100 ms before GetTickCount wrapped; now it is 0x100 ms after.
    backend, _, _ = make(last=0xFFFF_FF00, now=0x0000_0100)
    assert backend.idle_seconds() == pytest.approx(0.512)


def test_signed_tick_count_is_masked() -> None:
    # A GetTickCount declared with a signed restype returns -16 for 0xFFFFFFF0.
    backend, _, _ = make(last=0xFFFF_FFE0, now=-16)
    assert backend.idle_seconds() == pytest.approx(0.016)


@pytest.mark.parametrize(
    ("now", "last", "expected"),
    [(10, 5, 5), (5, 10, 0xFFFF_FFFB), (0, 0xFFFF_FFFF, 1), (0x1_0000_0005, 3, 2)],
)
def test_elapsed_ticks(now: int, last: int, expected: int) -> None:
    assert elapsed_ticks(now, last) == expected


def test_creation_fails_clearly_when_the_call_fails() -> None:
    with pytest.raises(BackendUnavailable) as info:
        make(last=0, now=0, ok=False)
    assert info.value.backend == "windows-lastinput"
    assert "GetLastInputInfo failed" in info.value.reason


def test_unlocked_on_default_desktop_and_handle_closed() -> None:
    backend, user32, _ = make(last=0, now=0, desktop="Default")
    assert backend.is_locked() is False
    assert user32.open_args == (0, False, DESKTOP_READOBJECTS)
    assert user32.closed == [0x44]


def test_locked_on_winlogon_desktop() -> None:
    backend, user32, _ = make(last=0, now=0, desktop="Winlogon")
    assert backend.is_locked() is True
    assert user32.closed == [0x44]


def test_locked_when_input_desktop_cannot_be_opened() -> None:
    backend, user32, _ = make(last=0, now=0, desktop=None)
    assert backend.is_locked() is True
    assert user32.closed == []


def test_unknown_when_desktop_name_unreadable() -> None:
    backend, user32, _ = make(last=0, now=0)
    user32.name_ok = False
    assert backend.is_locked() is None
    assert user32.closed == [0x44]


@pytest.mark.skipif(sys.platform == "win32", reason="checks the refusal on other systems")
def test_real_libraries_refused_off_windows() -> None:
    with pytest.raises(BackendUnavailable, match="not Windows"):
        load_libraries()
    with pytest.raises(BackendUnavailable, match="not Windows"):
        WindowsBackend()


@pytest.mark.skipif(sys.platform != "win32", reason="needs Windows")
def test_real_windows_backend() -> None:
    backend = WindowsBackend()
    assert backend.idle_seconds() >= 0.0
    assert backend.is_locked() in (True, False, None)
