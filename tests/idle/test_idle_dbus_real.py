"""The D-Bus backends through real QtDBus, against stand-in services on private buses.

The client side runs in a subprocess because QtDBus caches its bus connections per
process; each test gets fresh buses and a fresh client.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("PySide6.QtDBus", reason="PySide6 with QtDBus is not installed")

ROOT = Path(__file__).resolve().parents[2]
FAKE_SERVICE = Path(__file__).with_name("fake_desktop_bus.py")

CLIENT = """
import json
from assistant.idle.backends import (
    BackendUnavailable, LogindLockReader, MutterIdleBackend, ScreenSaverIdleBackend,
    platform_candidates, probe_backend,
)
from assistant.idle.monitor import IdleMonitor

out = {}
try:
    out["mutter"] = MutterIdleBackend().idle_seconds()
except BackendUnavailable as exc:
    out["mutter_error"] = exc.reason
try:
    out["screensaver"] = ScreenSaverIdleBackend(env={"XDG_CURRENT_DESKTOP": "GNOME"}).idle_seconds()
except BackendUnavailable as exc:
    out["screensaver_error"] = exc.reason
reader = LogindLockReader(env={"XDG_SESSION_ID": "3"})
out["locked"] = reader()
out["lock_error"] = reader.unavailable_reason
result = probe_backend(platform_candidates("linux", {"WAYLAND_DISPLAY": "wayland-0",
                                                     "XDG_SESSION_ID": "3"}))
out["probed"] = result.backend.name
out["failures"] = result.failures
import threading
events = []
went = threading.Event()
def on_idle():
    events.append("idle")
    went.set()
# Poll from the monitor's own thread, as the app does: QtDBus must work off the main thread.
monitor = IdleMonitor(result.backend, 60.0, on_idle, lambda: events.append("active"))
monitor.start()
went.wait(5 if result.backend.system_wide else 0.5)
monitor.stop()
out["events"] = events
print(json.dumps(out))
"""


def run_client(buses: dict[str, str]) -> dict[str, object]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), **buses)
    done = subprocess.run(
        [sys.executable, "-c", CLIENT], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@pytest.fixture
def fake_desktop(private_buses: dict[str, str]) -> Iterator[dict[str, str]]:
    """Serve Mutter/ScreenSaver/logind stand-ins: idle 7 s, screen locked."""
    env = dict(os.environ, **private_buses)
    proc = subprocess.Popen(
        [sys.executable, str(FAKE_SERVICE), "7000", "locked"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 20)
        assert ready, "the stand-in D-Bus service did not start within 20 s"
        line = proc.stdout.readline()
        assert line.strip() == "ready", line + proc.stdout.read()
        yield private_buses
    finally:
        proc.terminate()
        proc.wait(timeout=5)
        if proc.stdout is not None:
            proc.stdout.close()


def test_real_qtdbus_calls_parse_replies_and_lock(fake_desktop: dict[str, str]) -> None:
    out = run_client(fake_desktop)
    assert out["mutter"] == 7.0  # GetIdletime: uint64 milliseconds
    assert out["screensaver"] == 7.0  # GetSessionIdleTime: uint32 seconds on GNOME
    assert out["locked"] is True  # LockedHint through Properties.Get (a variant)
    assert out["lock_error"] is None
    assert out["probed"] == "gnome-mutter-idlemonitor"
    assert out["failures"] == []
    assert out["events"] == ["idle"]  # locked counts as away even at 7 s idle


def test_real_qtdbus_without_services_reports_reasons(private_buses: dict[str, str]) -> None:
    out = run_client(private_buses)
    assert "ServiceUnknown" in str(out["mutter_error"])
    assert "ServiceUnknown" in str(out["screensaver_error"])
    assert out["locked"] is None
    assert "LockedHint" in str(out["lock_error"])
    assert out["probed"] == "app-activity"
    failures = out["failures"]
    assert isinstance(failures, list)
    assert [name for name, _ in failures] == [
        "gnome-mutter-idlemonitor",
        "freedesktop-screensaver",
    ]
    assert out["events"] == []
