"""Importing chats from the window: off the GUI thread, with progress and Cancel."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from assistant.gui.main_window import MainWindow
from assistant.store import import_batch, importers
from tests.store.test_import_stream import chatgpt


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps(chatgpt(40)))
    return path


def titles(window: MainWindow) -> set[str]:
    return {c.title for c in window.app.chats.list_conversations()}


def test_import_runs_in_the_background_and_fills_the_list(window: MainWindow, qtbot: QtBot,
                                                          export: Path) -> None:
    gui_thread = threading.current_thread()
    seen: list[str] = []
    real = importers.import_chats

    def spy(*args: Any, **kwargs: Any) -> importers.ImportReport:
        seen.append(threading.current_thread().name)
        return real(*args, **kwargs)

    qtbot_patch = pytest.MonkeyPatch()
    qtbot_patch.setattr(importers, "import_chats", spy)
    try:
        with qtbot.waitSignal(window.importer.finished, timeout=30_000) as finished:
            assert window.importer.start(export) is not None
            assert window.importer.dialog is not None
            assert window.importer.dialog.isVisible()
    finally:
        qtbot_patch.undo()
    assert finished.args == ["Import finished: 40 conversations added, 0 updated, "
                             "240 messages added."]
    assert seen == ["reverie-gui-import"] and gui_thread.name != seen[0]
    assert window.importer.dialog is None
    assert "Chat 39" in titles(window)
    assert window.statusBar().currentMessage() == finished.args[0]
    assert window.menu_actions.import_action.text() == "&Import chats…"


def test_cancel_keeps_what_was_committed_and_the_next_import_continues(
        window: MainWindow, qtbot: QtBot, export: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(import_batch.BATCH_MESSAGES_ENV, "50")
    pressed = threading.Event()
    real = importers.import_chats

    def gated(path: Path, chats: Any, **kwargs: Any) -> importers.ImportReport:
        progress = kwargs.pop("progress")

        def report(p: importers.ImportProgress) -> None:
            progress(p)
            if p.conversations:
                assert pressed.wait(30), "Cancel was never pressed"

        return real(path, chats, progress=report, **kwargs)

    monkeypatch.setattr(importers, "import_chats", gated)
    importer = window.importer
    with qtbot.waitSignal(importer.finished, timeout=30_000) as stopped:
        importer.start(export)
        qtbot.waitUntil(lambda: importer.dialog is not None
                        and "9 conversations" in importer.dialog.labelText(), timeout=30_000)
        assert importer.dialog is not None and importer.dialog.value() > 0
        qtbot.mouseClick(importer.dialog.findChild(QPushButton), Qt.MouseButton.LeftButton)
        pressed.set()
    assert stopped.args[0].startswith("Import stopped: 9 conversations and 54 messages added")
    assert len(titles(window)) == 9

    monkeypatch.setattr(importers, "import_chats", real)
    with qtbot.waitSignal(importer.finished, timeout=30_000) as again:
        importer.start(export)
    assert again.args[0] == ("Import finished: 31 conversations added, 0 updated, 186 "
                             "messages added; 9 conversations were already there.")
    assert len(titles(window)) == 40


def test_a_broken_file_is_one_sentence_in_the_banner(window: MainWindow, qtbot: QtBot,
                                                     tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('[{"id": "a", "mapping": {}}, {"id": oops}]')
    with qtbot.waitSignal(window.importer.finished, timeout=30_000) as failed:
        window.importer.start(broken)
    assert "broken.json is not valid JSON (line 1: Expecting value)" in failed.args[0]
    assert "\n" not in failed.args[0]
    assert window.error_banner.isVisible()
