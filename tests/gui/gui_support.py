"""Helpers shared by the window tests (import as ``tests.gui.gui_support``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from assistant.app import Reverie
from assistant.config import Settings
from assistant.gui.main_window import MainWindow
from assistant.llm.engine import Engine
from assistant.paths import Paths


def factory_for(engine: Engine) -> Callable[[Path, Settings, Paths], Engine]:
    def factory(_model: Path, _settings: Settings, _paths: Paths) -> Engine:
        return engine

    return factory


def open_profile(data_dir: Path, engine: Engine) -> Reverie:
    """A profile like the ``app`` fixture's: ``engine`` instead of a real model file."""
    reverie = Reverie.open(data_dir, engine_factory=factory_for(engine))
    reverie.settings = reverie.settings.replace("model", path=str(data_dir / "fake.gguf"))
    return reverie


def type_and_send(qtbot: QtBot, window: MainWindow, text: str) -> None:
    box = window.chat.composer.input
    box.setFocus()
    qtbot.keyClicks(box, text)
    qtbot.keyClick(box, Qt.Key.Key_Return)


def wait_idle(qtbot: QtBot, window: MainWindow, timeout: int = 5000) -> None:
    qtbot.waitUntil(lambda: not window.answering, timeout=timeout)
