"""New, rename and delete conversations from the list on the left."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QMessageBox
from pytestqt.qtbot import QtBot

from assistant.app import Reverie
from assistant.gui.main_window import MainWindow
from tests.gui.gui_support import type_and_send, wait_idle


def ask(qtbot: QtBot, window: MainWindow, text: str) -> None:
    type_and_send(qtbot, window, text)
    wait_idle(qtbot, window)


def db_titles(app: Reverie) -> list[str]:
    return [c.title for c in app.chats.list_conversations()]


def test_new_conversation_starts_empty_and_is_saved_on_first_message(
        qtbot: QtBot, app: Reverie, window: MainWindow) -> None:
    ask(qtbot, window, "First topic")
    first_id = window.current_conversation_id

    qtbot.keyClick(window.chat.composer.input, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert window.current_conversation_id is None
    assert window.chat.bubbles == []
    assert window.chat.title.text() == "New conversation"
    assert window.sidebar.current_id() is None
    assert db_titles(app) == ["First topic"]  # nothing saved until something is said

    ask(qtbot, window, "Second topic")
    assert window.current_conversation_id not in (None, first_id)
    assert window.sidebar.titles() == ["Second topic", "First topic"]  # newest first
    assert window.sidebar.current_id() == window.current_conversation_id

    # Selecting the older one shows its messages.
    window.sidebar.select(first_id)
    assert window.current_conversation_id == first_id
    assert window.chat.bubbles[0].text() == "First topic"


def test_rename_in_place_with_f2(qtbot: QtBot, app: Reverie, window: MainWindow) -> None:
    ask(qtbot, window, "Holiday plans")
    conv_id = window.current_conversation_id
    listing = window.sidebar.list
    listing.setFocus()
    qtbot.keyClick(listing, Qt.Key.Key_F2)
    qtbot.waitUntil(lambda: listing.findChild(QLineEdit) is not None, timeout=2000)
    editor = listing.findChild(QLineEdit)
    editor.selectAll()
    qtbot.keyClicks(editor, "Trip to Lisbon")
    qtbot.keyClick(editor, Qt.Key.Key_Return)

    qtbot.waitUntil(lambda: db_titles(app) == ["Trip to Lisbon"], timeout=2000)
    assert window.sidebar.titles() == ["Trip to Lisbon"]
    assert window.chat.title.text() == "Trip to Lisbon"
    assert app.chats.get(conv_id or 0).title == "Trip to Lisbon"


def test_renaming_to_blank_keeps_the_title(qtbot: QtBot, app: Reverie,
                                           window: MainWindow) -> None:
    ask(qtbot, window, "Keep me")
    model = window.sidebar.model
    assert not model.setData(model.index(0, 0), "   ")  # what an emptied editor commits
    assert window.sidebar.titles() == ["Keep me"]
    assert db_titles(app) == ["Keep me"]


@pytest.mark.parametrize("answer", [QMessageBox.StandardButton.No,
                                    QMessageBox.StandardButton.Yes])
def test_delete_asks_first(qtbot: QtBot, app: Reverie, window: MainWindow,
                           monkeypatch: pytest.MonkeyPatch,
                           answer: QMessageBox.StandardButton) -> None:
    ask(qtbot, window, "Old topic")
    qtbot.keyClick(window.chat.composer.input, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    ask(qtbot, window, "Doomed topic")
    doomed = window.current_conversation_id
    asked: list[str] = []

    def fake_question(_parent, title, text, *_args):
        asked.append(text)
        return answer

    monkeypatch.setattr(QMessageBox, "question", fake_question)
    listing = window.sidebar.list
    listing.setFocus()
    qtbot.keyClick(listing, Qt.Key.Key_Delete)

    assert len(asked) == 1 and "Doomed topic" in asked[0]
    if answer == QMessageBox.StandardButton.No:
        assert db_titles(app) == ["Doomed topic", "Old topic"]
        assert window.sidebar.titles() == ["Doomed topic", "Old topic"]
        assert window.current_conversation_id == doomed
    else:
        assert db_titles(app) == ["Old topic"]
        qtbot.waitUntil(lambda: window.sidebar.titles() == ["Old topic"], timeout=5000)
        assert app.chats.messages(doomed or 0) == []
        # The window moves on to the remaining conversation.
        assert window.chat.bubbles[0].text() == "Old topic"
        assert window.sidebar.current_id() == window.current_conversation_id


def test_context_menu_offers_rename_and_delete(qtbot: QtBot, window: MainWindow) -> None:
    ask(qtbot, window, "Menu topic")
    actions = [a.text() for a in window.sidebar.list.actions()]
    assert actions == ["Rename", "Delete…"]
    assert window.sidebar.rename_action.shortcut().toString() == "F2"
    assert QApplication.focusWidget() is window.chat.composer.input


def test_deleting_a_conversation_forgets_what_came_from_it(
        qtbot: QtBot, app: Reverie, window: MainWindow, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.store.memories import MemoryRepository
    from assistant.store.models import Memory

    ask(qtbot, window, "My locker code is 4417")
    doomed = window.current_conversation_id or 0
    first = app.chats.messages(doomed)[0].id or 0
    with app.db.write() as s:
        fact = Memory(kind="fact", text="Locker code 4417.", sources={"messages": [first]})
        s.add(fact)
        s.flush()
        s.add(Memory(kind="profile", text="- Locker code 4417.",
                     sources={"memories": [fact.id or 0]}))
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Yes)
    window.sidebar.list.setFocus()
    qtbot.keyClick(window.sidebar.list, Qt.Key.Key_Delete)

    assert app.chats.get(doomed) is None
    assert MemoryRepository(app.db).count() == 0
