"""The Notes page: list, FTS search, Markdown preview, debounced autosave, new/delete."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from assistant.app import Reverie
from assistant.gui.main_window import MainWindow


@pytest.fixture
def notes_window(app: Reverie, make_window, qtbot: QtBot) -> MainWindow:
    app.notes.add("Lisbon trip", "# Lisbon\n\nHotel **Casa do Barão**, check-in 12 December.")
    app.notes.add("Groceries", "oat milk, red lentils, basil")
    window = make_window(app, start=False)
    window.show_page("notes")
    return window


def test_the_list_shows_the_notes_and_the_editor_the_newest(notes_window: MainWindow) -> None:
    view = notes_window.notes_view
    assert view.list.count() == 2
    assert view.list.item(0).text().startswith("Groceries")
    assert view.title.text() == "Groceries"
    assert "2 notes" in view.count_label.text()


def test_search_uses_the_full_text_index(notes_window: MainWindow, qtbot: QtBot) -> None:
    view = notes_window.notes_view
    view.search.setText("lentil")  # the porter stemmer matches "lentils"
    qtbot.waitUntil(lambda: view.list.count() == 1, timeout=2000)
    assert view.list.item(0).text().startswith("Groceries")
    view.search.setText("barão")
    qtbot.waitUntil(lambda: view.list.item(0).text().startswith("Lisbon"), timeout=2000)
    view.search.setText("nothing-like-this")
    qtbot.waitUntil(lambda: view.list.count() == 0, timeout=2000)
    assert view.empty.isVisibleTo(view) and not view.editor.isVisibleTo(view)


def test_markdown_preview(notes_window: MainWindow) -> None:
    view = notes_window.notes_view
    view.list.setCurrentRow(1)
    view.tabs.setCurrentWidget(view.preview)
    shown = view.preview.toPlainText()
    assert "Lisbon" in shown and "#" not in shown and "**" not in shown
    assert "Casa do Barão" in view.preview.toHtml()


def test_typing_is_saved_after_a_pause(app: Reverie, notes_window: MainWindow,
                                       qtbot: QtBot) -> None:
    view = notes_window.notes_view
    note_id = view.current_id
    assert note_id is not None
    view.body.moveCursor(view.body.textCursor().MoveOperation.End)
    qtbot.keyClicks(view.body, ", coffee")
    assert view.saved_label.text() == "Editing…"
    assert "coffee" not in app.notes.get(note_id).body  # debounced, not on every key
    qtbot.waitUntil(lambda: "coffee" in app.notes.get(note_id).body, timeout=3000)
    assert view.saved_label.text().startswith("Saved")
    assert "coffee" in app.notes.search("coffee")[0].body


def test_switching_notes_saves_first(app: Reverie, notes_window: MainWindow) -> None:
    view = notes_window.notes_view
    note_id = view.current_id
    view.title.setFocus()
    view.title.selectAll()
    view.title.insert("Weekend groceries")
    view.title.textEdited.emit(view.title.text())
    view.list.setCurrentRow(1)
    assert app.notes.get(note_id or 0).title == "Weekend groceries"


def test_new_and_delete_with_confirmation(app: Reverie, notes_window: MainWindow,
                                          monkeypatch: pytest.MonkeyPatch,
                                          qtbot: QtBot) -> None:
    view = notes_window.notes_view
    qtbot.mouseClick(view.new_button, Qt.MouseButton.LeftButton)
    assert len(app.notes.all()) == 3
    assert view.title.text() == "Untitled note" and view.title.hasFocus()
    new_id = view.current_id

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.No)
    view.delete_current()
    assert app.notes.get(new_id or 0) is not None
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    view.delete_current()
    assert app.notes.get(new_id or 0) is None
    assert view.list.count() == 2


def test_deleting_a_note_in_the_window_forgets_what_came_from_it(
        app: Reverie, notes_window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.llm.prefix_cache import PrefixCache, PrefixEntry, record_sources
    from assistant.store.db import backup_database
    from assistant.store.memories import MemoryRepository
    from assistant.store.models import Memory

    view = notes_window.notes_view
    note_id = view.current_id or 0  # "Groceries"
    with app.db.write() as s:
        s.add(Memory(kind="fact", text="Buy oat milk and red lentils.",
                     sources={"notes": [note_id]}))
    cache = PrefixCache(app.paths.kv_dir)
    cache.state_path("k1").write_bytes(b"tokens")
    cache.add(PrefixEntry("k1", "m", 512, "", "h", (1,)))
    record_sources(app.paths.kv_dir, "k1", {"notes": [note_id]})
    backup = backup_database(app.db.path, app.paths.backups_dir)
    asked: list[str] = []

    def yes(_parent: object, _title: str, text: str, *_args: object
            ) -> QMessageBox.StandardButton:
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", yes)
    view.delete_current()

    assert len(asked) == 1 and "everything Reverie learned" in asked[0]
    assert app.notes.get(note_id) is None
    assert MemoryRepository(app.db).count() == 0
    assert not cache.state_path("k1").exists()
    assert b"red lentils" not in backup.read_bytes()
    assert b"Lisbon" in backup.read_bytes()  # the backup keeps everything else
