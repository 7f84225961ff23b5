"""Settings (saved as changed, autostart, theme, export, delete all) and Models."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from PySide6.QtWidgets import QInputDialog
from pytestqt.qtbot import QtBot

from assistant import autostart
from assistant.app import Reverie
from assistant.config import load_settings
from assistant.llm.download import DownloadCancelled


def test_changes_are_saved_at_once(app: Reverie, make_window) -> None:
    view = make_window(app, start=False).show_page("settings")
    view.threshold.setValue(12.5)
    view.budget.setValue(90)
    view.cpu.setValue(40)
    view.thinking_enabled.setChecked(False)
    saved = load_settings(app.paths.settings_file).settings
    assert saved.idle.threshold_minutes == 12.5 and saved.thinking.daily_budget_minutes == 90
    assert saved.idle.max_cpu_percent == 40 and not saved.thinking.enabled
    assert app.settings.idle.threshold_minutes == 12.5
    assert "Minutes without input" in view.threshold.toolTip()


def test_autostart_is_off_by_default_and_toggles_the_login_file(app: Reverie,
                                                                 make_window) -> None:
    view = make_window(app, start=False).show_page("settings")
    assert not view.autostart.isChecked()
    view.autostart.setChecked(True)
    desktop = autostart.xdg_autostart_file()
    assert desktop.is_file()
    assert f"--data-dir {app.paths.data_dir}" in desktop.read_text()
    assert load_settings(app.paths.settings_file).settings.ui.autostart
    assert "log in" in view.notice.text()
    view.autostart.setChecked(False)
    assert not desktop.exists()


def test_theme_change_restyles_the_app(app: Reverie, make_window, qapp) -> None:
    view = make_window(app, start=False).show_page("settings")
    view.theme.setCurrentIndex(view.theme.findData("dark"))
    assert app.settings.ui.theme == "dark"
    assert "#17191d" in qapp.styleSheet()


def test_tray_and_idle_explanations(app: Reverie, make_window) -> None:
    window = make_window(app, start=False)
    view = window.show_page("settings")
    assert "no system tray" in view.tray_text.text() and "quits" in view.tray_text.text()
    view.set_idle_backend("app-activity", False, [("x11", "no DISPLAY")])
    assert "inside Reverie only" in view.idle_backend.text()
    assert "x11 (no DISPLAY)" in view.idle_backend.text()
    tray_window = make_window(app, start=False, tray=True)
    assert "keeps Reverie running in the tray" in tray_window.settings_view.tray_text.text()


def test_export(app: Reverie, make_window, tmp_path: Path) -> None:
    app.notes.add("Groceries", "oats")
    view = make_window(app, start=False).show_page("settings")
    view.export_to(tmp_path / "out")
    assert json.loads((tmp_path / "out" / "notes.json").read_text())[0]["title"] == "Groceries"
    assert "1 notes" in view.notice.text()


def test_delete_all_needs_the_typed_word(app: Reverie, make_window, qtbot: QtBot,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    window = make_window(app, start=False)
    view = window.show_page("settings")
    requests: list[bool] = []
    window.restart_requested.connect(requests.append)
    monkeypatch.setattr("assistant.gui.views.settings.QMessageBox.information",
                        lambda *a, **k: None)
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("yes", True))
    view.delete_button.click()
    assert requests == [] and window.isVisible()
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("delete", True))
    view.delete_button.click()
    assert requests == [True]


def test_delete_profile_keeps_models(app: Reverie) -> None:
    from assistant.gui.main import delete_profile

    app.notes.add("x", "y")
    (app.paths.models_dir / "mine.gguf").write_bytes(b"GGUF")
    paths = app.paths
    app.close()
    delete_profile(paths)
    assert not paths.database_file.exists() and not paths.settings_file.exists()
    assert (paths.models_dir / "mine.gguf").exists()
    fresh = Reverie.open(paths.data_dir)
    try:
        assert fresh.notes.all() == []
    finally:
        fresh.close()


def test_models_page_refuses_a_bad_file_and_switches_to_a_good_one(
        app: Reverie, make_window, tmp_path: Path, bundled_model: Path) -> None:
    window = make_window(app, start=False)
    view = window.show_page("models")
    bad = tmp_path / "notes.gguf"
    bad.write_text("not a model")
    assert not view.use_file(bad)
    assert view.error.isVisibleTo(view) and "GGUF" in view.error.text()
    assert view.use_file(bundled_model)
    assert app.settings.model.path == str(bundled_model.resolve())
    assert "next start" in view.banner.text() and view.restart_button.isVisibleTo(view)
    requests: list[bool] = []
    window.restart_requested.connect(requests.append)
    view.restart_button.click()
    assert requests == [False]


class _Library:
    """Stands in for ModelLibrary.download: reports progress, waits to be cancelled."""

    def __init__(self, real) -> None:
        self._real = real
        self.models_dir = real.models_dir
        self.calls = 0
        self.started = threading.Event()

    def rows(self):
        return self._real.rows()

    def download(self, name, *, progress, should_stop):
        self.calls += 1
        progress(10, 100)
        self.started.set()
        while not should_stop():
            threading.Event().wait(0.01)
        raise DownloadCancelled("paused")


def test_download_progress_and_cancel(app: Reverie, make_window, qtbot: QtBot) -> None:
    window = make_window(app, start=False)
    view = window.show_page("models")
    fake = _Library(view.library)
    view._library = fake
    name = next(r.entry.name for r in fake.rows() if not r.entry.bundled)
    view.download(name)
    qtbot.waitUntil(fake.started.is_set, timeout=3000)
    qtbot.waitUntil(lambda: name in view._progress and view._progress[name].value() == 100,
                    timeout=3000)
    view.cancel(name)
    qtbot.waitUntil(lambda: name not in view._downloads, timeout=3000)
    assert "Resume" in view.banner.text()
