"""probe_backend's choice and failure report, the candidate order, AppActivityBackend."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

from assistant.idle.backends.app import AppActivityBackend
from assistant.idle.backends.base import BackendUnavailable, IdleBackend
from assistant.idle.backends.dbus import Bus, DBusCallError
from assistant.idle.backends.probe import Candidate, platform_candidates, probe_backend


class Clock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def test_app_activity_backend_measures_from_last_notice() -> None:
    clock = Clock()
    backend = AppActivityBackend(clock)
    assert backend.system_wide is False
    assert backend.is_locked() is None
    clock.now = 80.0
    assert backend.idle_seconds() == 30.0
    backend.notice_activity()
    clock.now = 81.5
    assert backend.idle_seconds() == 1.5
    assert isinstance(backend, IdleBackend)


def unavailable(name: str, reason: str) -> Candidate:
    def create() -> IdleBackend:
        raise BackendUnavailable(name, reason)

    return Candidate(name, create)


def test_first_working_backend_wins_and_failures_are_reported() -> None:
    winner = AppActivityBackend()
    later_created: list[str] = []

    def broken() -> IdleBackend:
        raise OSError("libfoo.so: wrong ELF class")

    def later() -> IdleBackend:
        later_created.append("later")
        return AppActivityBackend()

    backend, failures = probe_backend(
        [
            unavailable("a", "no display"),
            Candidate("b", broken),
            Candidate("c", lambda: winner),
            Candidate("d", later),
        ]
    )
    assert backend is winner
    assert failures[0] == ("a", "no display")
    assert failures[1][0] == "b" and "wrong ELF class" in failures[1][1]
    assert len(failures) == 2
    assert later_created == []


def test_falls_back_to_app_activity() -> None:
    fallback = AppActivityBackend()
    result = probe_backend([unavailable("x", "nope")], fallback=fallback)
    assert result.backend is fallback
    assert result.failures == [("x", "nope")]
    assert probe_backend([]).backend.system_wide is False


def failing_bus(
    bus: Bus, service: str, path: str, interface: str, method: str, args: Sequence[object] = ()
) -> list[object]:
    raise DBusCallError(f"org.freedesktop.DBus.Error.ServiceUnknown: {service}")


def test_platform_order() -> None:
    def names(candidates: Sequence[Candidate]) -> list[str]:
        return [c.name for c in candidates]

    assert names(platform_candidates("win32", {})) == ["windows-lastinput"]
    assert names(platform_candidates("darwin", {})) == ["macos-cgeventsource"]
    x11_env = {"DISPLAY": ":0", "XDG_SESSION_TYPE": "x11"}
    assert names(platform_candidates("linux", x11_env, failing_bus)) == [
        "x11-screensaver",
        "gnome-mutter-idlemonitor",
        "freedesktop-screensaver",
    ]
    wayland_env = {"DISPLAY": ":0", "WAYLAND_DISPLAY": "wayland-0"}
    assert names(platform_candidates("linux", wayland_env, failing_bus)) == [
        "gnome-mutter-idlemonitor",
        "freedesktop-screensaver",
    ]


def test_real_linux_probe_without_desktop_reports_every_reason() -> None:
    result = probe_backend(platform_candidates("linux", {}, failing_bus))
    assert result.backend.name == "app-activity"
    reasons = dict(result.failures)
    assert reasons["x11-screensaver"] == "DISPLAY is not set (no X11 session)"
    assert "org.gnome.Mutter.IdleMonitor" in reasons["gnome-mutter-idlemonitor"]
    assert "ServiceUnknown" in reasons["freedesktop-screensaver"]


@pytest.mark.skipif(sys.platform == "win32", reason="checks the refusal on other systems")
def test_real_windows_candidate_refuses_cleanly_elsewhere() -> None:
    result = probe_backend(platform_candidates("win32", {}))
    assert result.failures == [("windows-lastinput", "this is not Windows")]


def test_importing_the_idle_package_loads_no_qt() -> None:
    code = (
        "import sys, assistant.idle, assistant.idle.backends.dbus;"
        "print([m for m in sys.modules if m.startswith('PySide6')])"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", code],
        env=dict(os.environ, PYTHONPATH=str(root)),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "[]"
