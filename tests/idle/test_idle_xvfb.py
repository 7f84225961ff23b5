"""The X11 backend and IdleMonitor against a real X server (Xvfb) and real input (xdotool)."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable

import pytest

from assistant.idle.backends.x11 import X11Backend
from assistant.idle.monitor import IdleMonitor

pytestmark = pytest.mark.xvfb


def wait_until(predicate: Callable[[], bool], timeout: float, step: float = 0.02) -> bool:
    """Poll `predicate` until it is true or `timeout` seconds pass; return its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def move_mouse(xdotool: str, display: str, x: int, y: int) -> None:
    subprocess.run(
        [xdotool, "mousemove", str(x), str(y)],
        env=dict(os.environ, DISPLAY=display),
        check=True,
        timeout=10,
    )


def test_x11_idle_counts_up_and_drops_on_real_input(xvfb_display: str, xdotool: str) -> None:
    backend = X11Backend()  # reads DISPLAY, which the fixture set for this test only
    try:
        assert backend.system_wide is True
        assert backend.is_locked() is None
        assert wait_until(lambda: backend.idle_seconds() >= 1.0, timeout=10)

        move_mouse(xdotool, xvfb_display, 10, 10)
        assert backend.idle_seconds() < 0.5

        assert wait_until(lambda: backend.idle_seconds() >= 0.3, timeout=5)
        move_mouse(xdotool, xvfb_display, 200, 150)
        assert backend.idle_seconds() < 0.25
    finally:
        backend.close()


def test_monitor_on_real_x11_fires_idle_then_active_within_a_second(
    xvfb_display: str, xdotool: str
) -> None:
    backend = X11Backend(xvfb_display)
    went_idle = threading.Event()
    became_active = threading.Event()
    events: list[str] = []

    def on_went_idle() -> None:
        events.append("idle")
        went_idle.set()

    def on_became_active() -> None:
        events.append("active")
        became_active.set()

    monitor = IdleMonitor(
        backend,
        threshold_seconds=1.0,
        on_went_idle=on_went_idle,
        on_became_active=on_became_active,
    )
    try:
        move_mouse(xdotool, xvfb_display, 5, 5)
        monitor.start()
        assert went_idle.wait(timeout=5), "went_idle never fired"
        assert monitor.is_idle
        assert monitor.last_idle_seconds >= 1.0

        moved_at = time.monotonic()
        move_mouse(xdotool, xvfb_display, 300, 200)
        assert became_active.wait(timeout=2), "became_active never fired"
        assert time.monotonic() - moved_at < 1.0
        assert not monitor.is_idle
        assert events == ["idle", "active"]
    finally:
        monitor.stop()
        backend.close()
    assert not monitor.running
