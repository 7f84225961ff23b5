"""The window on the real bundled model, and ``run_gui`` from start to clean exit."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

import assistant.gui.main as gui_main
from assistant.app import Reverie
from assistant.config import Settings, save_settings
from assistant.gui.main import run_gui
from assistant.gui.main_window import MainWindow
from assistant.gui.model_loader import ModelState
from assistant.llm.llama import LlamaEngine
from assistant.paths import Paths
from tests.gui.gui_support import type_and_send, wait_idle


def engine_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name == "llama-engine" and t.is_alive()]


@pytest.mark.model
def test_the_real_model_answers_in_the_window(qtbot: QtBot, make_window, data_dir: Path,
                                              bundled_model: Path) -> None:
    app = Reverie.open(data_dir, engine_factory=lambda _p, s, _paths: LlamaEngine(
        bundled_model, n_ctx=s.model.n_ctx))
    # Greedy decoding: the window's wiring is under test, not one draw of the sampler
    # (at 0.3 one seed in ten answers "I know that there is a French capital.").
    app.save_settings(app.settings.replace("model", temperature=0.0))
    try:
        window = make_window(app)
        qtbot.waitUntil(lambda: window.loader.state is ModelState.READY, timeout=60_000)
        assert window.model_status.text().startswith("Ready · ")
        type_and_send(qtbot, window, "What is the capital of France?")
        answer = window.chat.bubbles[1]
        qtbot.waitUntil(lambda: "Paris" in answer.text(), timeout=60_000)
        wait_idle(qtbot, window, timeout=60_000)
        assert "Paris" in app.chats.messages(window.current_conversation_id or 0)[1].content
        assert "tokens/s" in window.answer_stats.text()
        window.close()
    finally:
        app.close()
    assert engine_threads() == []


@pytest.mark.model
def test_run_gui_starts_the_model_after_showing_the_window_and_exits_cleanly(
        qapp: QApplication, data_dir: Path, bundled_model: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    paths = Paths.resolve(data_dir).ensure()
    save_settings(Settings().replace("model", path=str(bundled_model)), paths.settings_file)
    seen: dict[str, object] = {}

    def drive() -> None:
        windows = [w for w in QApplication.topLevelWidgets()
                   if isinstance(w, MainWindow) and w.isVisible()]
        if windows:
            window = windows[0]
            seen.setdefault("first_state", window.loader.state)
            if window.loader.state is ModelState.READY:
                seen["status"] = window.model_status.text()
                seen["title"] = window.windowTitle()
                window.close()
                return
        QTimer.singleShot(20, drive)

    QTimer.singleShot(0, drive)
    assert run_gui(str(data_dir), tray=True) == 0
    assert seen["first_state"] is not ModelState.READY  # the window came first
    assert str(seen["status"]).startswith("Ready · ")
    assert seen["title"] == "Reverie"
    assert qapp.applicationName() == "Reverie"
    assert not qapp.windowIcon().isNull()
    assert "no system tray" in capsys.readouterr().err
    assert engine_threads() == []


def test_run_gui_without_a_display_says_so(monkeypatch: pytest.MonkeyPatch, data_dir: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(gui_main, "has_display", lambda: False)
    assert run_gui(str(data_dir)) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no display" in err
    assert not data_dir.exists()  # nothing was opened
