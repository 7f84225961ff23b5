"""The long lists load lazily: a page at a time on scroll, filtered in SQL as the person
types, keeping the selection across reloads (issue 15, deliverable 5)."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from PySide6.QtCore import QItemSelectionModel, Qt, QTimer
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot
from sqlalchemy import text

from assistant.app import Reverie
from assistant.gui.main_window import MainWindow
from assistant.gui.models.paged import PAGE_SIZE
from assistant.gui.stall import StallProbe
from assistant.store.models import utcnow
from tests.gui.gui_support import wait_loaded

#: Page 50 of the conversation list starts at this row.
PAGE_50 = 49 * PAGE_SIZE


def seed_conversations(app: Reverie, count: int) -> list[int]:
    """``count`` conversations of one message each, newest first by id order reversed:
    conversation i was last active i minutes ago. Returns their ids, newest first."""
    now = utcnow().replace(tzinfo=None)
    with app.db.write() as s:
        con = s.connection()
        for i in range(count):
            when = (now - timedelta(minutes=i)).strftime("%Y-%m-%d %H:%M:%S.%f")
            con.execute(text("INSERT INTO conversation (title, created_at, updated_at, "
                             "archived) VALUES (:t, :w, :w, 0)"),
                        {"t": f"Chat number {i}", "w": when})
            con.execute(text("INSERT INTO message (conversation_id, role, content, "
                             "created_at, origin) VALUES (last_insert_rowid(), 'user', "
                             ":c, :w, 'imported')"), {"c": f"Message of chat {i}", "w": when})
    return [c for c in app.lists.conversation_ids()]


def seed_memories(app: Reverie, count: int) -> None:
    now = utcnow().replace(tzinfo=None)
    with app.db.write() as s:
        s.connection().execute(text(
            "INSERT INTO memory (kind, scope, subject, text, confidence, pinned, edited, "
            "created_at, updated_at, sources, sources_hash) VALUES ('fact', 'global', :s, "
            ":t, 1.0, 0, 0, :w, :w, '{}', '')"),
            [{"s": f"Subject {i}", "t": f"Memory text {i}",
              "w": (now - timedelta(minutes=i)).strftime("%Y-%m-%d %H:%M:%S.%f")}
             for i in range(count)])


@pytest.fixture
def listed(app: Reverie, make_window, qtbot: QtBot) -> MainWindow:
    seed_conversations(app, 120)
    window = make_window(app, start=False)
    wait_loaded(qtbot, window.sidebar.model)
    return window


def test_the_list_loads_a_page_and_more_on_scroll(listed: MainWindow, qtbot: QtBot) -> None:
    sidebar = listed.sidebar
    assert sidebar.model.rowCount() == PAGE_SIZE and sidebar.model.total == 120
    assert sidebar.titles()[0] == "Chat number 0"
    sidebar.list.scrollToBottom()
    qtbot.waitUntil(lambda: sidebar.model.rowCount() == 2 * PAGE_SIZE, timeout=5000)
    sidebar.list.scrollToBottom()
    qtbot.waitUntil(lambda: sidebar.model.rowCount() == 120, timeout=5000)
    assert sidebar.titles()[-1] == "Chat number 119"
    assert not sidebar.model.canFetchMore()


def test_the_filter_finds_a_conversation_on_page_50(app: Reverie, make_window,
                                                    qtbot: QtBot) -> None:
    ids = seed_conversations(app, PAGE_50 + 60)
    deep = ids[PAGE_50 + 10]  # far below anything loaded
    app.chats.rename(deep, "Heron sighting at the lake")
    other = ids[PAGE_50 + 20]
    app.chats.add_message(other, "user", "A kingfisher by the river",
                          created_at=utcnow() - timedelta(days=30))
    window = make_window(app, start=False)
    sidebar = window.sidebar
    wait_loaded(qtbot, sidebar.model)
    assert deep not in sidebar.ids() and sidebar.model.rowCount() == PAGE_SIZE

    qtbot.keyClicks(sidebar.search, "hero")  # by title, before the word is finished
    qtbot.waitUntil(lambda: sidebar.ids() == [deep], timeout=5000)
    sidebar.search.clear()
    qtbot.keyClicks(sidebar.search, "kingfisher river")  # by what was said in it
    qtbot.waitUntil(lambda: sidebar.ids() == [other], timeout=5000)
    sidebar.search.clear()
    qtbot.waitUntil(lambda: sidebar.model.rowCount() == PAGE_SIZE
                    and sidebar.titles()[0] == "Chat number 0", timeout=5000)


def test_the_selection_survives_a_refresh(app: Reverie, listed: MainWindow,
                                          qtbot: QtBot) -> None:
    sidebar = listed.sidebar
    chosen = sidebar.ids()[3]
    sidebar.select(chosen)
    assert listed.current_conversation_id == chosen
    newest = sidebar.ids()[0]
    app.chats.rename(newest, "Renamed elsewhere")
    listed.conversations.refresh_conversations()
    qtbot.waitUntil(lambda: sidebar.titles()[0] == "Renamed elsewhere", timeout=5000)
    assert sidebar.current_id() == chosen and listed.current_conversation_id == chosen

    # A reload that moves it (another chat becomes the newest) keeps it too.
    app.chats.add_message(sidebar.ids()[10], "user", "back to this one")
    listed.conversations.refresh_conversations()
    wait_loaded(qtbot, sidebar.model)
    qtbot.waitUntil(lambda: sidebar.current_id() == chosen, timeout=5000)
    assert sidebar.model.row_of(chosen) == 4


def test_deleting_a_row_loaded_on_scroll_asks_and_deletes(
        app: Reverie, listed: MainWindow, qtbot: QtBot,
        monkeypatch: pytest.MonkeyPatch) -> None:
    sidebar = listed.sidebar
    sidebar.list.scrollToBottom()
    qtbot.waitUntil(lambda: sidebar.model.rowCount() > PAGE_SIZE, timeout=5000)
    doomed = sidebar.ids()[PAGE_SIZE + 5]
    sidebar.list.selectionModel().setCurrentIndex(
        sidebar.model.index(PAGE_SIZE + 5, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect)
    assert listed.current_conversation_id == doomed
    asked: list[str] = []

    def yes(_parent, _title, question, *_args):
        asked.append(question)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", yes)
    sidebar.list.setFocus()
    qtbot.keyClick(sidebar.list, Qt.Key.Key_Delete)
    assert asked and f"Chat number {PAGE_SIZE + 5}" in asked[0]
    assert app.chats.get(doomed) is None
    qtbot.waitUntil(lambda: doomed not in sidebar.ids() and sidebar.model.total == 119,
                    timeout=5000)


def test_memory_list_pages_filters_and_keeps_the_selection(app: Reverie, make_window,
                                                           qtbot: QtBot) -> None:
    seed_memories(app, PAGE_50 + 30)
    window = make_window(app, start=False)
    view = window.show_page("memory")
    wait_loaded(qtbot, view.model)
    assert view.model.rowCount() == PAGE_SIZE
    assert view.count_label.text() == f"{PAGE_50 + 30:,} memories"
    view.list.scrollToBottom()
    qtbot.waitUntil(lambda: view.model.rowCount() == 2 * PAGE_SIZE, timeout=5000)

    # An old memory, far past what is loaded, is found as the person types.
    qtbot.keyClicks(view.search, f"text {PAGE_50 + 25}")
    qtbot.waitUntil(lambda: view.model.rowCount() == 1, timeout=5000)
    qtbot.waitUntil(lambda: view.current is not None
                    and view.current.text == f"Memory text {PAGE_50 + 25}", timeout=5000)
    view.search.clear()
    wait_loaded(qtbot, view.model)
    third = view.model.ids[2]
    view.list.selectionModel().setCurrentIndex(
        view.model.index(2, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect)
    assert view.current is not None and view.current.id == third
    view.toggle_pin()  # pinned: it moves to the top, and stays the one on show
    qtbot.waitUntil(lambda: view.model.ids[0] == third, timeout=5000)
    assert view.current is not None and view.current.id == third
    assert view.list.currentIndex().row() == 0


def test_prepared_table_loads_a_page_at_a_time(app: Reverie, make_window,
                                               qtbot: QtBot) -> None:
    from assistant.store.models import Anticipation

    with app.db.write() as s:
        for i in range(PAGE_SIZE + 20):
            s.add(Anticipation(question=f"Question {i}?", answer=f"Answer {i}.",
                               predictability=1 - i / 1000))
    view = make_window(app, start=False).show_page("prepared")
    wait_loaded(qtbot, view.model)
    assert view.model.rowCount() == PAGE_SIZE
    assert f"{PAGE_SIZE + 20:,} ready" in view.summary.text()
    assert view.model.index(0, 0).data() == "Question 0?"
    view.table.scrollToBottom()
    qtbot.waitUntil(lambda: view.model.rowCount() == PAGE_SIZE + 20, timeout=5000)


def test_the_stall_probe_sees_work_and_waiting(qtbot: QtBot) -> None:
    probe = StallProbe()
    probe.start("quiet")
    qtbot.waitUntil(lambda: probe.ticks > 5, timeout=5000)
    probe.phase("busy")

    def spin() -> None:  # 80 ms of this thread's CPU, however busy the machine is
        end = time.thread_time() + 0.08
        while time.thread_time() < end:
            pass

    QTimer.singleShot(0, spin)
    ticks = probe.ticks
    qtbot.waitUntil(lambda: probe.ticks > ticks + 5, timeout=5000)
    probe.phase("blocked")
    QTimer.singleShot(0, lambda: time.sleep(0.08))  # the thread waits, it does not work
    ticks = probe.ticks
    qtbot.waitUntil(lambda: probe.ticks > ticks + 5, timeout=5000)
    probe.stop()
    assert probe.phases["busy"] >= 70 and probe.busy["busy"] >= 70
    assert probe.phases["blocked"] >= 70 and probe.busy["blocked"] < 40
    assert probe.max_ms >= 70 and probe.busy_max_ms >= 70


def test_a_long_conversation_opens_on_its_latest_messages(app: Reverie, make_window,
                                                          qtbot: QtBot) -> None:
    from assistant.gui.controllers.chat import SHOWN_MESSAGES

    conv = app.chats.create_conversation("Long one")
    start = utcnow() - timedelta(days=1)
    for i in range(30):
        app.chats.add_message(conv.id or 0, "user" if i % 2 == 0 else "assistant",
                              f"Turn {i}", created_at=start + timedelta(minutes=i))
    window = make_window(app, start=False)
    transcript = window.chat.transcript
    assert [b.text() for b in window.chat.bubbles] == [
        f"Turn {i}" for i in range(30 - SHOWN_MESSAGES, 30)]
    assert transcript.earlier.isVisibleTo(transcript)
    transcript.earlier.click()
    assert [b.text() for b in window.chat.bubbles] == [f"Turn {i}" for i in range(30)]
    assert not transcript.earlier.isVisibleTo(transcript)

