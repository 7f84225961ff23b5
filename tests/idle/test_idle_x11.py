"""X11Backend with only libX11/libXss replaced: struct reading, error paths, clean close."""

from __future__ import annotations

import ctypes
from typing import Any

import pytest

from assistant.idle.backends.base import BackendUnavailable, IdleQueryError
from assistant.idle.backends.x11 import X11Backend, XScreenSaverInfo

DISPLAY_PTR, ROOT = 0xD15, 0x1A5


class FakeXlib:
    def __init__(self, opens: bool = True) -> None:
        self.opens = opens
        self.opened: list[bytes] = []
        self.freed: list[Any] = []
        self.closed: list[int] = []

    def XOpenDisplay(self, name: bytes) -> int | None:
        self.opened.append(name)
        return DISPLAY_PTR if self.opens else None

    def XDefaultRootWindow(self, display: int) -> int:
        assert display == DISPLAY_PTR
        return ROOT

    def XFree(self, ptr: Any) -> int:
        self.freed.append(ptr)
        return 1

    def XCloseDisplay(self, display: int) -> int:
        self.closed.append(display)
        return 0


class FakeXss:
    def __init__(self, idle_ms: int = 0, extension: bool = True) -> None:
        self.idle_ms = idle_ms
        self.extension = extension
        self.query_ok = True
        self.info: Any = None

    def XScreenSaverQueryExtension(self, display: int, event_base: Any, error_base: Any) -> int:
        assert display == DISPLAY_PTR
        event_base.contents.value, error_base.contents.value = 90, 150
        return 1 if self.extension else 0

    def XScreenSaverAllocInfo(self) -> Any:
        self.info = ctypes.pointer(XScreenSaverInfo())
        return self.info

    def XScreenSaverQueryInfo(self, display: int, drawable: int, info: Any) -> int:
        assert (display, drawable) == (DISPLAY_PTR, ROOT)
        assert info is self.info
        if not self.query_ok:
            return 0
        info.contents.state = 0
        info.contents.idle = self.idle_ms
        return 1


def make(idle_ms: int = 0, **xss_kwargs: Any) -> tuple[X11Backend, FakeXlib, FakeXss]:
    xlib, xss = FakeXlib(), FakeXss(idle_ms, **xss_kwargs)
    return X11Backend(":7", xlib=xlib, xss=xss), xlib, xss


def test_struct_matches_the_c_layout() -> None:
    # scrnsaver.h: Window window; int state; int kind; unsigned long til_or_since, idle, eventMask.
    long_size, int_size = ctypes.sizeof(ctypes.c_ulong), ctypes.sizeof(ctypes.c_int)
    assert XScreenSaverInfo.idle.offset == 2 * long_size + 2 * int_size
    assert ctypes.sizeof(XScreenSaverInfo) == 2 * int_size + 4 * long_size


def test_idle_milliseconds_become_seconds() -> None:
    backend, xlib, xss = make(4321)
    assert xlib.opened == [b":7"]
    assert backend.idle_seconds() == pytest.approx(4.321)
    xss.idle_ms = 0
    assert backend.idle_seconds() == 0.0


def test_close_frees_info_and_closes_display_once() -> None:
    backend, xlib, xss = make(10)
    backend.close()
    backend.close()
    assert xlib.freed == [xss.info]
    assert xlib.closed == [DISPLAY_PTR]
    with pytest.raises(IdleQueryError, match="closed"):
        backend.idle_seconds()


def test_no_display_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    with pytest.raises(BackendUnavailable, match="DISPLAY is not set"):
        X11Backend(xlib=FakeXlib(), xss=FakeXss())


def test_display_that_cannot_be_opened() -> None:
    with pytest.raises(BackendUnavailable, match="cannot open X display ':7'"):
        X11Backend(":7", xlib=FakeXlib(opens=False), xss=FakeXss())


def test_missing_extension_closes_the_display() -> None:
    xlib = FakeXlib()
    with pytest.raises(BackendUnavailable, match="MIT-SCREEN-SAVER"):
        X11Backend(":7", xlib=xlib, xss=FakeXss(extension=False))
    assert xlib.closed == [DISPLAY_PTR]


def test_failed_first_query_is_unavailable_and_cleans_up() -> None:
    xlib, xss = FakeXlib(), FakeXss()
    xss.query_ok = False
    with pytest.raises(BackendUnavailable, match="XScreenSaverQueryInfo failed"):
        X11Backend(":7", xlib=xlib, xss=xss)
    assert xlib.freed == [xss.info]
    assert xlib.closed == [DISPLAY_PTR]


def test_lock_comes_from_the_lock_reader() -> None:
    xlib, xss = FakeXlib(), FakeXss()
    assert X11Backend(":7", xlib=xlib, xss=xss).is_locked() is None
    locked = X11Backend(":7", xlib=xlib, xss=xss, lock_reader=lambda: True)
    assert locked.is_locked() is True
