"""The window before, during and after the model loads, and when it cannot load."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from assistant.app import Reverie
from assistant.gui.model_loader import ModelState
from assistant.llm.engine import EngineError
from assistant.llm.fake import FakeEngine
from assistant.llm.llama import LlamaEngine
from tests.gui.gui_support import open_profile, type_and_send, wait_idle


class GatedEngine(FakeEngine):
    """A FakeEngine that is not ready until ``gate`` is set (like a slow model load)."""

    def __init__(self) -> None:
        super().__init__(default="Ready now.")
        self.gate = threading.Event()

    def wait_ready(self, timeout: float | None = None) -> bool:
        return self.gate.wait(timeout)


def test_the_window_shows_before_the_model_is_ready(qtbot: QtBot, make_window,
                                                    data_dir: Path) -> None:
    engine = GatedEngine()
    app = open_profile(data_dir, engine)
    try:
        window = make_window(app)
        assert window.isVisible()
        qtbot.waitUntil(lambda: window.loader.state is ModelState.LOADING, timeout=3000)
        composer = window.chat.composer
        assert window.model_status.text() == "Loading the model…"
        assert "Loading the model" in composer.hint.text()

        # Typing is fine while it loads; Enter keeps the text instead of losing it.
        type_and_send(qtbot, window, "Are you there?")
        assert composer.input.toPlainText() == "Are you there?"
        assert not composer.send_button.isEnabled()
        assert window.chat.bubbles == []

        engine.gate.set()
        qtbot.waitUntil(lambda: window.loader.state is ModelState.READY, timeout=3000)
        assert window.model_status.text() == "Ready · fake"
        assert composer.send_button.isEnabled()
        qtbot.keyClick(composer.input, Qt.Key.Key_Return)
        wait_idle(qtbot, window)
        assert [b.text() for b in window.chat.bubbles] == ["Are you there?", "Ready now."]
        window.close()
    finally:
        engine.gate.set()
        app.close()


def test_closing_while_the_model_loads_joins_the_loader(qtbot: QtBot, make_window,
                                                        data_dir: Path) -> None:
    engine = GatedEngine()  # never becomes ready
    app = open_profile(data_dir, engine)
    try:
        window = make_window(app)
        qtbot.waitUntil(lambda: window.loader.state is ModelState.LOADING, timeout=3000)
        window.close()
        assert not window.loader._task.running
    finally:
        app.close()


def test_a_load_error_is_shown(qtbot: QtBot, make_window, data_dir: Path,
                               tmp_path: Path) -> None:
    not_a_model = tmp_path / "notes.gguf"
    not_a_model.write_text("hello")
    app = Reverie.open(data_dir, engine_factory=lambda path, s, p: LlamaEngine(path))
    app.settings = app.settings.replace("model", path=str(not_a_model))
    try:
        window = make_window(app)
        qtbot.waitUntil(lambda: window.loader.state is ModelState.FAILED, timeout=10000)
        assert window.error_banner.isVisible()
        assert window.error_banner.text() == (
            "notes.gguf is not a GGUF model file; choose a .gguf file.")
        assert window.model_status.text() == "Model not loaded"
        assert not window.chat.composer.send_button.isEnabled()
        assert "No model is loaded" in window.chat.composer.hint.text()
        window.close()
    finally:
        app.close()


def test_an_engine_that_cannot_start_is_shown(qtbot: QtBot, make_window,
                                              data_dir: Path) -> None:
    def refuse(*_args: object) -> FakeEngine:
        raise EngineError("There is not enough memory for this model; choose a smaller one.")

    app = Reverie.open(data_dir, engine_factory=refuse)
    app.settings = app.settings.replace("model", path=str(data_dir / "big.gguf"))
    try:
        window = make_window(app)
        qtbot.waitUntil(lambda: window.error_banner.isVisible(), timeout=5000)
        assert window.error_banner.text().startswith("There is not enough memory")
        window.close()
    finally:
        app.close()


def test_preparing_the_bundled_model_shows_progress(qtbot: QtBot, make_window, app: Reverie,
                                                    fake_engine: FakeEngine,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    go_on = threading.Event()
    original = app.start_engine

    def slow_start(progress=None):
        progress(50, 200)
        go_on.wait(5)
        progress(200, 200)
        return original(progress)

    monkeypatch.setattr(app, "start_engine", slow_start)
    window = make_window(app)
    try:
        qtbot.waitUntil(lambda: window.model_progress.isVisible(), timeout=3000)
        assert window.model_progress.value() == 25
        assert window.model_status.text() == "Preparing the bundled model… 25%"
        assert window.loader.state is ModelState.PREPARING
    finally:
        go_on.set()
    qtbot.waitUntil(lambda: window.loader.state is ModelState.READY, timeout=3000)
    assert not window.model_progress.isVisible()


def test_a_settings_warning_is_shown_once(qtbot: QtBot, make_window, data_dir: Path) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "settings.toml").write_text("this is [not toml")
    app = open_profile(data_dir, FakeEngine())
    try:
        assert app.settings_warning
        window = make_window(app)
        assert window.settings_banner.isVisible()
        assert window.settings_banner.text() == app.settings_warning
        window.settings_banner.close_button.click()
        assert not window.settings_banner.isVisible()
        window.close()
    finally:
        app.close()

