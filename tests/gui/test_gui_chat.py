"""Asking in the window: Enter sends, tokens stream, Stop and Esc stop, history persists."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from assistant.app import Reverie
from assistant.gui.main_window import MainWindow
from assistant.llm.fake import FakeEngine
from assistant.store.models import Role
from tests.gui.gui_support import open_profile, type_and_send, wait_idle, wait_loaded

PARIS = "The capital of France is Paris."
LONG = " ".join(f"word{i}" for i in range(300))


def stored(app: Reverie, window: MainWindow) -> list[tuple[str, str]]:
    conv_id = window.current_conversation_id
    assert conv_id is not None
    return [(m.role, m.content) for m in app.chats.messages(conv_id)]


def test_enter_sends_and_the_answer_streams_in(qtbot: QtBot, app: Reverie,
                                               fake_engine: FakeEngine,
                                               window: MainWindow) -> None:
    fake_engine.token_delay = 0.03
    type_and_send(qtbot, window, "What is the capital of France?")

    bubbles = window.chat.bubbles
    assert [b.role for b in bubbles] == ["user", "assistant"]
    assert bubbles[0].text() == "What is the capital of France?"
    assert window.chat.composer.input.toPlainText() == ""
    # Partial text shows up while the answer is still being written.
    qtbot.waitUntil(lambda: 0 < len(bubbles[1].text()) < len(PARIS), timeout=5000)
    assert window.answering
    wait_idle(qtbot, window)
    assert bubbles[1].text() == PARIS
    assert stored(app, window) == [(Role.USER.value, "What is the capital of France?"),
                                   (Role.ASSISTANT.value, PARIS)]
    assert window.sidebar.titles() == ["What is the capital of France?"]
    assert window.chat.title.text() == "What is the capital of France?"
    assert "tokens/s" in window.answer_stats.text()
    assert window.model_status.text() == "Ready · fake"


def test_shift_enter_adds_a_line_and_does_not_send(qtbot: QtBot, app: Reverie,
                                                   window: MainWindow) -> None:
    box = window.chat.composer.input
    qtbot.keyClicks(box, "first line")
    qtbot.keyClick(box, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(box, "second line")
    assert box.toPlainText() == "first line\nsecond line"
    assert window.chat.bubbles == []
    assert app.chats.list_conversations() == []

    qtbot.keyClick(box, Qt.Key.Key_Return)
    wait_idle(qtbot, window)
    assert window.chat.bubbles[0].text() == "first line\nsecond line"
    assert stored(app, window)[0] == (Role.USER.value, "first line\nsecond line")


@pytest.mark.parametrize("text", ["   ", "\u200b\u200e"])
def test_an_empty_message_is_not_sent(qtbot: QtBot, app: Reverie, window: MainWindow,
                                      text: str) -> None:
    box = window.chat.composer.input
    box.setPlainText(text)  # pasted: QTest cannot type invisible characters
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert not window.chat.composer.send_button.isEnabled()
    assert window.chat.bubbles == []
    assert app.chats.list_conversations() == []


@pytest.mark.parametrize("how", ["button", "escape"])
def test_stop_keeps_the_partial_answer(qtbot: QtBot, app: Reverie, fake_engine: FakeEngine,
                                       window: MainWindow, how: str) -> None:
    fake_engine.default = LONG
    fake_engine.token_delay = 0.02
    composer = window.chat.composer
    type_and_send(qtbot, window, "Tell me a long story")
    answer = window.chat.bubbles[1]
    qtbot.waitUntil(lambda: len(answer.text().split()) >= 3, timeout=5000)
    assert composer.stop_button.isEnabled()
    assert not composer.send_button.isEnabled()

    if how == "button":
        qtbot.mouseClick(composer.stop_button, Qt.MouseButton.LeftButton)
    else:
        qtbot.keyClick(composer.input, Qt.Key.Key_Escape)
    wait_idle(qtbot, window)

    partial = answer.text()
    assert 3 <= len(partial.split()) < 300
    assert LONG.startswith(partial)
    assert answer.note.text() == "Stopped"
    assert stored(app, window) == [(Role.USER.value, "Tell me a long story"),
                                   (Role.ASSISTANT.value, partial)]
    # Usable again: Stop is off, and a new question gets a full answer.
    assert not composer.stop_button.isEnabled()
    fake_engine.token_delay = 0.0
    fake_engine.default = "Short."
    type_and_send(qtbot, window, "And now?")
    wait_idle(qtbot, window)
    assert window.chat.bubbles[-1].text() == "Short."


def test_a_restart_shows_the_history(qtbot: QtBot, make_window, data_dir: Path,
                                     fake_engine: FakeEngine) -> None:
    first = open_profile(data_dir, fake_engine)
    try:
        window = make_window(first)
        qtbot.waitUntil(lambda: window.chat.composer.input.isEnabled()
                        and window.loader.model_name == "fake", timeout=5000)
        type_and_send(qtbot, window, "What is the capital of France?")
        wait_idle(qtbot, window)
        window.close()
    finally:
        first.close()

    second = open_profile(data_dir, FakeEngine())
    try:
        again = make_window(second, start=False)
        qtbot.waitUntil(lambda: again.sidebar.titles() == ["What is the capital of France?"],
                        timeout=5000)
        assert [(b.role, b.text()) for b in again.chat.bubbles] == [
            ("user", "What is the capital of France?"), ("assistant", PARIS)]
        again.close()
    finally:
        second.close()


def test_bubbles_fit_short_text_and_wrap_long_text(qtbot: QtBot, window: MainWindow) -> None:
    window.resize(1000, 700)
    short = window.chat.transcript.add("assistant", PARIS)
    long = window.chat.transcript.add("user", " ".join(["wrapping"] * 80))
    line = short.label.fontMetrics().lineSpacing()
    # Wrapped onto several lines, all of them shown.
    qtbot.waitUntil(lambda: long.label.height() >= 3 * line and long.label.height()
                    >= long.label.heightForWidth(long.label.width()), timeout=3000)
    assert short.label.height() < 2 * line  # one line, not squeezed into a column
    assert long.width() <= window.chat.transcript.viewport().width() * 0.8
    assert long.label.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByMouse


HUGE = " ".join(f"pasted{i}" for i in range(12_000))


def _send_pasted(qtbot: QtBot, window: MainWindow, text: str) -> None:
    box = window.chat.composer.input
    box.setPlainText(text)
    box.setFocus()
    qtbot.keyClick(box, Qt.Key.Key_Return)


def test_a_message_too_long_for_the_model_is_given_back_and_nothing_is_left_behind(
        qtbot: QtBot, app: Reverie, window: MainWindow) -> None:
    _send_pasted(qtbot, window, HUGE)
    composer = window.chat.composer
    qtbot.waitUntil(composer.warning.isVisible, timeout=10000)
    wait_idle(qtbot, window)
    assert composer.input.toPlainText() == HUGE  # not lost: back in the box
    assert "too long for the model's context window" in composer.warning.text()
    assert composer.warning.wordWrap()
    assert app.chats.list_conversations() == []  # no empty conversation left behind
    assert window.chat.bubbles == [] and window.current_conversation_id is None
    assert window.sidebar.titles() == []
    # Editing the text takes the warning away.
    qtbot.keyClicks(composer.input, "!")
    assert not composer.warning.isVisible()


def test_a_message_too_long_in_a_conversation_keeps_the_conversation(
        qtbot: QtBot, app: Reverie, window: MainWindow) -> None:
    type_and_send(qtbot, window, "What is the capital of France?")
    wait_idle(qtbot, window)
    before = stored(app, window)
    _send_pasted(qtbot, window, HUGE)
    qtbot.waitUntil(window.chat.composer.warning.isVisible, timeout=10000)
    wait_idle(qtbot, window)
    assert stored(app, window) == before
    assert [b.text() for b in window.chat.bubbles] == [text for _, text in before]
    assert window.chat.composer.input.toPlainText() == HUGE


def test_a_refused_message_is_given_back_where_it_was_asked_with_nothing_lost(
        qtbot: QtBot, app: Reverie, window: MainWindow,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A reviewer's cases: the person typed, and moved to another conversation, while the
    refusal was on its way; both texts are kept and the view goes back to where the
    refused one was asked (it had been sent into the other conversation's box)."""
    import threading

    from assistant.recall.answer_prompts import QuestionTooLongError
    from assistant.recall.responder import Responder

    type_and_send(qtbot, window, "What is the capital of France?")
    wait_idle(qtbot, window)
    asked_in = window.current_conversation_id
    other = app.chats.create_conversation("Other topic").id
    release = threading.Event()

    def slow_refusal(self: Responder, question: str) -> None:
        if question.startswith("pasted"):
            release.wait(10)
            raise QuestionTooLongError("The question is too long for the model's context "
                                       "window; shorten it.")

    monkeypatch.setattr(Responder, "check_fits", slow_refusal)
    _send_pasted(qtbot, window, HUGE)
    qtbot.waitUntil(lambda: window.answering, timeout=5000)
    window.conversations.refresh_conversations()
    wait_loaded(qtbot, window.sidebar.model)
    window.sidebar.select(other)
    assert window.current_conversation_id == other
    qtbot.keyClicks(window.chat.composer.input, "typed meanwhile")
    release.set()
    qtbot.waitUntil(window.chat.composer.warning.isVisible, timeout=10000)
    wait_idle(qtbot, window)
    assert window.current_conversation_id == asked_in
    assert window.chat.composer.input.toPlainText() == f"{HUGE}\n\ntyped meanwhile"
    assert [m.content for m in app.chats.messages(other or 0)] == []
