"""``run_gui`` end to end on the real model: tray or no tray, a second start, clean exit."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

import assistant.gui.tray as tray_module
from assistant.config import Settings, save_settings
from assistant.gui.main import run_gui
from assistant.gui.main_window import MainWindow
from assistant.gui.single_instance import notify_running, server_name
from assistant.paths import Paths
from assistant.store.db import Database

pytestmark = pytest.mark.model


@pytest.fixture
def profile(data_dir: Path, bundled_model: Path) -> Path:
    paths = Paths.resolve(data_dir).ensure()
    save_settings(Settings().replace("model", path=str(bundled_model)), paths.settings_file)
    return data_dir


@pytest.fixture
def closed_databases(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    closed: list[Path] = []
    original = Database.close

    def close(self: Database) -> None:
        closed.append(self.path)
        original(self)

    monkeypatch.setattr(Database, "close", close)
    return closed


def main_window() -> MainWindow | None:
    found = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)
             and not w._closed and w.attached]
    return found[0] if found else None


def other_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t is not threading.main_thread()
            and t.is_alive() and not t.name.startswith(("pytest_timeout", "Dummy"))]


def run_with(steps, data_dir: Path, **kwargs) -> int:
    """Run ``run_gui``; ``steps(window, seen)`` is polled on the GUI thread every 20 ms."""
    seen: dict[str, object] = {}

    def drive() -> None:
        window = main_window()
        if window is not None and steps(window, seen):
            return
        QTimer.singleShot(20, drive)

    QTimer.singleShot(0, drive)
    code = run_gui(str(data_dir), **kwargs)
    seen["code"] = code
    return code


def thinking(window: MainWindow) -> bool:
    coordinator = window.app.running_coordinator
    return coordinator is not None and coordinator.scheduler.running


def test_without_a_tray_closing_quits_cleanly(profile: Path,
                                              closed_databases: list[Path]) -> None:
    def steps(window: MainWindow, seen: dict) -> bool:
        if thinking(window):
            window.close()
            return True
        return False

    assert run_with(steps, profile) == 0
    assert closed_databases == [Paths.resolve(profile).database_file]
    assert other_threads() == []


def test_with_a_tray_closing_keeps_reverie_thinking_until_quit(
        profile: Path, closed_databases: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tray_module, "system_tray_available", lambda: True)

    def steps(window: MainWindow, seen: dict) -> bool:
        if "closed" not in seen:
            if thinking(window):
                window.close()
                seen["closed"] = 0
            return False
        seen["closed"] = int(seen["closed"]) + 1  # type: ignore[call-overload]
        assert not window.isVisible() and thinking(window)
        assert closed_databases == []
        if seen["closed"] == 10:  # 200 ms later, still alive in the tray
            window.tray.quit_action.trigger()
            return True
        return False

    assert run_with(steps, profile) == 0
    assert len(closed_databases) == 1
    assert other_threads() == []


def test_tray_start_shows_no_window(profile: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tray_module, "system_tray_available", lambda: True)

    def steps(window: MainWindow, seen: dict) -> bool:
        if window.loader.engine is not None:
            assert not window.isVisible()
            window.quit_app()
            return True
        return False

    assert run_with(steps, profile, tray=True) == 0


def test_a_second_start_raises_the_running_window(profile: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    name = server_name(Paths.resolve(profile).data_dir)

    def steps(window: MainWindow, seen: dict) -> bool:
        if "hidden" not in seen:
            window.hide()
            seen["hidden"] = True
            assert notify_running(name, "show")
            return False
        if window.isVisible():
            window.close()
            return True
        return False

    assert run_with(steps, profile) == 0
    assert not notify_running(name, "show", timeout_ms=200)  # the server is gone


def test_delete_all_data_restarts_on_an_empty_profile(profile: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.app import Reverie

    before = Reverie.open(profile)
    before.notes.add("Secret", "the body")
    before.close()

    def steps(window: MainWindow, seen: dict) -> bool:
        if "restarted" not in seen:
            seen["restarted"] = window
            assert window.app.notes.all()
            window.request_restart(True)
            return False
        if window is not seen["restarted"]:
            seen["notes"] = window.app.notes.all()
            window.close()
            return True
        return False

    seen: dict = {}
    original = run_with

    def capture(window: MainWindow, state: dict) -> bool:
        result = steps(window, state)
        seen.update(state)
        return result

    assert original(capture, profile) == 0
    assert seen["notes"] == []
