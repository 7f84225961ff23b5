"""Autostart at login: files written into the temporary HOME of the test (conftest)."""

from __future__ import annotations

import configparser
import os
import plistlib
import shlex
import sys
from pathlib import Path

import pytest

from assistant import autostart


def test_off_by_default() -> None:
    assert not autostart.is_enabled(platform="linux")
    assert not autostart.xdg_autostart_file().exists()


def test_xdg_desktop_file_round_trip(tmp_path: Path) -> None:
    profile = tmp_path / "my profile"
    path = autostart.set_enabled(True, profile, platform="linux")

    assert path == Path(os.environ["XDG_CONFIG_HOME"]) / "autostart" / "reverie.desktop"
    assert autostart.is_enabled(platform="linux")
    entry = configparser.ConfigParser(interpolation=None)
    entry.read(path)
    section = entry["Desktop Entry"]
    assert section["Type"] == "Application" and section["Name"] == "Reverie"
    assert shlex.split(section["Exec"]) == [sys.executable, "-m", "assistant", "--data-dir",
                                            str(profile.absolute()), "--tray"]

    autostart.set_enabled(False, platform="linux")
    assert not path.exists() and not autostart.is_enabled(platform="linux")
    autostart.set_enabled(False, platform="linux")  # turning off twice is fine


def test_xdg_without_xdg_config_home_uses_dot_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("XDG_CONFIG_HOME")
    path = autostart.set_enabled(True, platform="linux")
    assert path == Path(os.environ["HOME"]) / ".config" / "autostart" / "reverie.desktop"


def test_macos_launch_agent(monkeypatch: pytest.MonkeyPatch) -> None:
    path = autostart.set_enabled(True, platform="darwin")
    assert path == Path(os.environ["HOME"]) / "Library/LaunchAgents/app.reverie.plist"
    agent = plistlib.loads(Path(path).read_bytes())
    assert agent["Label"] == "app.reverie" and agent["RunAtLoad"] is True
    assert agent["ProgramArguments"][-1] == "--tray"
    assert autostart.is_enabled(platform="darwin")
    autostart.set_enabled(False, platform="darwin")
    assert not autostart.is_enabled(platform="darwin")


def test_windows_run_key(monkeypatch: pytest.MonkeyPatch) -> None:
    registry: dict[str, str] = {}
    monkeypatch.setattr(autostart, "_winreg_set",
                        lambda v: registry.pop("Reverie", None) if v is None
                        else registry.__setitem__("Reverie", v))
    monkeypatch.setattr(autostart, "_winreg_get", lambda: registry.get("Reverie"))
    where = autostart.set_enabled(True, r"C:\Users\A B\Reverie", platform="win32")
    assert str(where).endswith(r"CurrentVersion\Run\Reverie")
    assert registry["Reverie"].endswith("--tray") and 'A B\\Reverie"' in registry["Reverie"]
    assert autostart.is_enabled(platform="win32")
    autostart.set_enabled(False, platform="win32")
    assert not autostart.is_enabled(platform="win32")


def test_failure_is_one_sentence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(blocker))
    with pytest.raises(autostart.AutostartError, match="Could not change autostart"):
        autostart.set_enabled(True, platform="linux")
