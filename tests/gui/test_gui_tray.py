"""Closing with and without a tray, the tray's state and menu, and the thinking status."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSystemTrayIcon
from pytestqt.qtbot import QtBot

from assistant.app import Reverie
from assistant.gui.controllers.thinking import pause_until
from assistant.gui.main_window import MainWindow
from assistant.gui.tray import Tray, mark_for
from assistant.idle.backends.app import AppActivityBackend
from assistant.idle.backends.probe import ProbeResult
from assistant.idle.status import ThinkingState
from tests.gui.gui_support import seed_anticipations, wait_loaded


def probe_app_activity() -> ProbeResult:
    return ProbeResult(AppActivityBackend(), [("x11", "no DISPLAY")])


def thinking_window(app: Reverie, make_window, qtbot: QtBot, *, tray: bool) -> MainWindow:
    window = make_window(app, tray=tray, think=True, idle_probe=probe_app_activity)
    qtbot.waitUntil(lambda: app.running_coordinator is not None, timeout=5000)
    qtbot.waitUntil(lambda: window.thinking_status.text() == "Waiting for you to step away",
                    timeout=5000)
    return window


def scheduler_running(app: Reverie) -> bool:
    coordinator = app.running_coordinator
    return coordinator is not None and coordinator.scheduler.running


def test_offscreen_has_no_tray(qapp) -> None:
    assert not QSystemTrayIcon.isSystemTrayAvailable()
    assert Tray().icon is None


def test_with_a_tray_closing_hides_and_keeps_thinking(app: Reverie, make_window,
                                                      qtbot: QtBot) -> None:
    window = thinking_window(app, make_window, qtbot, tray=True)
    assert window.tray.icon is not None and window.tray.icon.isVisible()
    notices: list[tuple[str, str]] = []
    window.tray.notify = lambda title, text: notices.append((title, text))  # type: ignore[method-assign]

    window.close()
    assert not window.isVisible()
    assert scheduler_running(app) and not window._closed
    assert app.running_coordinator.status.state is ThinkingState.ACTIVE
    assert len(notices) == 1 and "still running" in notices[0][0]
    assert app.settings.ui.tray_notice_shown

    window.bring_to_front()  # tray "Open"
    assert window.isVisible()
    window.close()
    assert len(notices) == 1  # the notice is shown once

    quits: list[bool] = []
    window.quit_requested.connect(lambda: quits.append(True))
    window.tray.quit_action.trigger()
    assert quits == [True] and window._closed
    assert not scheduler_running(app)


def test_without_a_tray_closing_quits_cleanly(app: Reverie, make_window, qtbot: QtBot) -> None:
    window = thinking_window(app, make_window, qtbot, tray=False)
    assert window.tray.icon is None
    window.close()
    assert window._closed and not window.isVisible()
    assert not scheduler_running(app)
    assert app.running_coordinator.status.state is ThinkingState.OFF
    qtbot.waitUntil(lambda: not [t for t in threading.enumerate()
                                 if t.name.startswith(("reverie-", "APScheduler"))],
                    timeout=5000)


def test_app_activity_backend_hears_input_in_the_window(app: Reverie, make_window,
                                                        qtbot: QtBot) -> None:
    window = thinking_window(app, make_window, qtbot, tray=False)
    backend = app.running_coordinator.monitor.backend
    assert isinstance(backend, AppActivityBackend)
    assert "inside Reverie only" in window.settings_view.idle_backend.text()
    clock = [1000.0]
    backend._clock = lambda: clock[0]
    backend._last = 0.0
    assert backend.idle_seconds() == 1000.0
    qtbot.keyClick(window.chat.composer.input, "a")
    assert backend.idle_seconds() == 0.0


def test_pause_and_resume_from_the_tray_menu(app: Reverie, make_window, qtbot: QtBot) -> None:
    window = thinking_window(app, make_window, qtbot, tray=True)
    tray = window.tray
    assert tray.pause_hour_action.isVisible() and not tray.resume_action.isVisible()
    tray.pause_hour_action.trigger()
    qtbot.waitUntil(lambda: window.thinking_status.text() == "Thinking paused", timeout=3000)
    until = app.settings.thinking.paused_until_time()
    assert until is not None and 3500 < (until - datetime.now().astimezone()).total_seconds() \
        <= 3600
    assert tray.mark == "paused" and tray.resume_action.isVisible()
    assert "paused" in tray.tooltip.lower()
    tray.resume_action.trigger()
    qtbot.waitUntil(lambda: window.thinking_status.text() == "Waiting for you to step away",
                    timeout=5000)
    assert app.settings.thinking.paused_until == "" and tray.mark is None


def test_pause_until_tomorrow_morning() -> None:
    now = datetime(2026, 3, 4, 22, 15).astimezone()
    until = pause_until(0, now)
    assert (until.day, until.hour, until.minute) == (5, 8, 0)


def test_pause_before_the_model_is_ready(app: Reverie, make_window) -> None:
    window = make_window(app, start=False, tray=True)
    window.pause_thinking(1)
    assert window.thinking_status.text() == "Thinking paused"
    assert window.tray.mark == "paused"
    window.resume_thinking()
    assert app.settings.thinking.paused_until == ""


def test_tray_icon_shows_prepared_answers_waiting(app: Reverie, make_window) -> None:
    seed_anticipations(app)
    window = make_window(app, start=False, tray=True)
    assert window.tray.mark == "prepared"
    assert "1 prepared answer waiting" in window.tray.tooltip


@pytest.mark.parametrize(("state", "prepared", "mark"), [
    (ThinkingState.ACTIVE, 0, None), (ThinkingState.THINKING, 3, "thinking"),
    (ThinkingState.PAUSED, 3, "paused"), (ThinkingState.IDLE, 2, "prepared"),
])
def test_marks(state: ThinkingState, prepared: int, mark: str | None) -> None:
    assert mark_for(state, prepared) == mark


def test_a_prepared_answer_served_by_quick_ask_clears_the_tray_mark(app: Reverie, make_window,
                                                                     qtbot: QtBot) -> None:
    """The mark counts ready answers; one used from Ask… is gone at once, not at the
    next minute's recount."""
    from assistant.gui.model_loader import ModelState

    seed_anticipations(app)
    window = make_window(app, tray=True)
    qtbot.waitUntil(lambda: window.loader.state is ModelState.READY, timeout=5000)
    assert window.tray.mark == "prepared"
    window.tray.ask_action.trigger()
    popup = window.quick_ask
    qtbot.waitUntil(popup.input.hasFocus, timeout=2000)
    qtbot.keyClicks(popup.input, "When is my dentist appointment?")
    with qtbot.waitSignal(popup.answer_finished, timeout=5000):
        qtbot.keyClick(popup.input, Qt.Key.Key_Return)
    assert popup.answer.toPlainText() == "Tuesday at 10:30."
    assert window.tray.mark is None
    # The conversation Ask… made is in the window's list once the answer is in.
    wait_loaded(qtbot, window.sidebar.model)
    assert "When is my dentist appointment?" in window.sidebar.titles()


def test_a_question_too_long_for_quick_ask_stays_in_its_box_and_leaves_nothing(
        app: Reverie, make_window, qtbot: QtBot) -> None:
    from assistant.gui.model_loader import ModelState

    window = make_window(app, tray=True)
    qtbot.waitUntil(lambda: window.loader.state is ModelState.READY, timeout=5000)
    window.tray.ask_action.trigger()
    popup = window.quick_ask
    huge = " ".join(["word"] * 6000)  # too many tokens, within the box's 32,767 characters
    popup.input.setText(huge)
    with qtbot.waitSignal(popup.answer_finished, timeout=10000):
        popup.ask()
    assert popup.input.text() == huge
    assert "too long for the model's context window" in popup.status.text()
    assert popup.status.wordWrap() and not popup.open_button.isEnabled()
    assert app.chats.list_conversations() == []


def test_titles_given_while_away_show_when_the_session_ends(app: Reverie, make_window,
                                                            qtbot: QtBot) -> None:
    from assistant.idle.status import Status

    conv = app.chats.create_conversation("What is two plus two?")
    app.chats.add_message(conv.id or 0, "user", "What is two plus two?")
    window = make_window(app, start=False)
    wait_loaded(qtbot, window.sidebar.model)
    window.conversations.open_conversation(conv.id)
    window.thinking._on_status(Status(ThinkingState.THINKING, "Naming conversations"))
    app.chats.rename(conv.id or 0, "Two plus two")
    with qtbot.waitSignal(window.thinking.session_ended, timeout=2000):
        window.thinking._on_status(Status(ThinkingState.IDLE, "Nothing left to think about"))
    wait_loaded(qtbot, window.sidebar.model)
    assert window.sidebar.titles() == ["Two plus two"]
    assert window.chat.title.text() == "Two plus two"


def test_a_session_ends_only_after_thinking(app: Reverie, make_window) -> None:
    from assistant.idle.status import Status

    window = make_window(app, start=False)
    ended: list[bool] = []
    window.thinking.session_ended.connect(lambda: ended.append(True))
    window.thinking._on_status(Status(ThinkingState.IDLE, "Nothing to do"))
    window.thinking._on_status(Status(ThinkingState.ACTIVE, "You are back"))
    window.thinking._on_status(Status(ThinkingState.THINKING, "Preparing answers"))
    window.thinking._on_status(Status(ThinkingState.THINKING, "Digesting notes"))
    assert ended == []
    window.thinking._on_status(Status(ThinkingState.ACTIVE, "You are back"))
    assert ended == [True]
