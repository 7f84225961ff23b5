"""Prepared answers in the chat: the badge, the sources popover, "Think again"; shortcuts."""

from __future__ import annotations

from typing import ClassVar

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from assistant.app import Reverie
from assistant.gui.chat_view import PREPARED_BADGE
from assistant.gui.main_window import MainWindow
from assistant.gui.model_loader import ModelState
from assistant.recall.responder import Responder
from assistant.store.models import Origin, Role
from tests.gui.gui_support import seed_anticipations, wait_idle


@pytest.fixture
def prepared_conversation(app: Reverie) -> int:
    ids = seed_anticipations(app)
    conv = ids["conversation"]
    app.chats.add_message(conv, Role.USER, "When is my dentist appointment?")
    app.chats.add_message(conv, Role.ASSISTANT, "Tuesday at 10:30.", origin=Origin.ANTICIPATED)
    return conv


def prepared_bubbles(window: MainWindow):
    return [b for b in window.chat.bubbles if b.prepared is not None]


def test_a_prepared_answer_has_a_badge_and_sources(app: Reverie, make_window, qtbot: QtBot,
                                                   prepared_conversation: int) -> None:
    window = make_window(app)
    qtbot.waitUntil(lambda: window.loader.state is ModelState.READY, timeout=5000)
    window.show_conversation(prepared_conversation)
    bubbles = prepared_bubbles(window)
    assert len(bubbles) == 1 and bubbles[0].text() == "Tuesday at 10:30."
    badge = bubbles[0].prepared
    assert PREPARED_BADGE in badge.badge.text()
    assert badge.think_button.isVisibleTo(badge)  # the Responder offers think_again
    badge.sources_button.click()
    assert badge.popover is not None and badge.popover.isVisible()
    assert "When is my dentist appointment?" in badge.popover.lines[0]
    assert any("Dentist on Tuesday at 10:30." in line for line in badge.popover.lines)
    badge.popover.close()


class ThinkingAgainResponder(Responder):
    fresh_questions: ClassVar[list[str]] = []

    def think_again(self, question, conversation_id, *, on_token=None, should_stop=None):
        self.fresh_questions.append(question)
        return self.ask(question, conversation_id, on_token=on_token, should_stop=should_stop)


def test_think_again_asks_afresh_when_the_responder_offers_it(
        app: Reverie, make_window, qtbot: QtBot, prepared_conversation: int,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app, "responder", lambda engine: ThinkingAgainResponder(
        engine, app.chats, app.settings.model))
    window = make_window(app)
    qtbot.waitUntil(lambda: window.loader.state is ModelState.READY, timeout=5000)
    window.show_conversation(prepared_conversation)
    badge = prepared_bubbles(window)[0].prepared
    assert badge.think_button.isVisibleTo(badge)
    badge.think_button.click()
    wait_idle(qtbot, window)
    assert ThinkingAgainResponder.fresh_questions == ["When is my dentist appointment?"]
    assert len(app.chats.messages(prepared_conversation)) == 5


def test_shortcuts(app: Reverie, make_window, qtbot: QtBot) -> None:
    app.notes.add("Groceries", "oats")
    window = make_window(app)
    qtbot.waitUntil(lambda: window.loader.state is ModelState.READY, timeout=5000)
    window.show_page("notes")
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.notes_view.search.hasFocus()
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.current_page == "memory"
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert window.current_page == "chat" and window.current_conversation_id is None
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.sidebar.search.hasFocus()
    qtbot.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert window.quick_ask.isVisible()
    window.quick_ask.hide()


def test_every_page_and_control_has_an_accessible_name(app: Reverie, make_window) -> None:
    from PySide6.QtWidgets import QAbstractButton, QLineEdit, QPlainTextEdit

    window = make_window(app, start=False)
    missing = []
    for key in window.pages:
        page = window.show_page(key)
        for widget in page.findChildren(QAbstractButton) + page.findChildren(QLineEdit) + \
                page.findChildren(QPlainTextEdit):
            if not widget.isVisibleTo(window) or widget.parent().inherits("QAbstractSpinBox"):
                continue
            if not (widget.accessibleName() or widget.text() if isinstance(
                    widget, QAbstractButton) else widget.accessibleName()):
                missing.append(f"{key}: {widget.objectName() or type(widget).__name__}")
    assert missing == []


def test_quick_ask_answers_in_a_new_conversation(app: Reverie, make_window,
                                                 qtbot: QtBot) -> None:
    window = make_window(app)
    qtbot.waitUntil(lambda: window.loader.state is ModelState.READY, timeout=5000)
    window.tray.ask_action.trigger()
    popup = window.quick_ask
    assert popup.isVisible()
    qtbot.waitUntil(popup.input.hasFocus, timeout=2000)
    qtbot.keyClicks(popup.input, "What is the capital of France?")
    qtbot.keyClick(popup.input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not popup.answering and popup.open_button.isEnabled(),
                    timeout=5000)
    assert "Paris" in popup.answer.toPlainText()
    conv = popup.conversation_id
    assert app.chats.messages(conv or 0)[1].content == "The capital of France is Paris."
    popup.open_button.click()
    assert not popup.isVisible() and window.current_conversation_id == conv
    assert window.current_page == "chat"
