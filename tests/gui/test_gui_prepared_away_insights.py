"""Prepared answers, While you were away (with Think now) and Insights, on real rows."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from assistant.app import Reverie
from assistant.gui.views.insights import InsightsView
from assistant.mind.journal import Journal
from assistant.store.anticipations import AnticipationRepository
from assistant.store.models import Origin, Role
from tests.gui.gui_support import seed_anticipations, seed_sessions, wait_loaded


def cells(view) -> list[list[str]]:
    model = view.model
    return [[str(model.index(i, c).data()) for c in range(6)] for i in range(model.rowCount())]


def test_prepared_answers_with_status_predictability_and_cost(app: Reverie, make_window,
                                                              qtbot: QtBot) -> None:
    seed_anticipations(app)
    window = make_window(app, start=False)
    view = window.show_page("prepared")
    wait_loaded(qtbot, view.model)
    rows = cells(view)
    assert [r[1] for r in rows] == ["Ready", "Stale", "Used"]
    assert rows[0][0] == "When is my dentist appointment?"
    assert rows[0][2] == "82%" and rows[0][4] == "420 tokens · 3 s"
    assert rows[2][3] == "2"
    assert "Tuesday at 10:30." in view.answer.toPlainText()
    assert view.sources.item(0).text().startswith("You,")
    assert "1 ready · 1 stale · 1 used" in view.summary.text()
    view.filter.setCurrentIndex(view.filter.findText("Stale"))
    wait_loaded(qtbot, view.model)
    assert [r[0] for r in cells(view)] == ["What is on the grocery list?"]


def test_prepared_answers_empty_state(app: Reverie, make_window, qtbot: QtBot) -> None:
    view = make_window(app, start=False).show_page("prepared")
    wait_loaded(qtbot, view.model)
    assert view.empty.isVisibleTo(view) and not view.splitter.isVisibleTo(view)


def test_while_you_were_away_shows_the_journal(app: Reverie, make_window) -> None:
    seed_sessions(app)
    view = make_window(app, start=False).show_page("away")
    text = view.view.toPlainText()
    assert text.index("Today") < text.index("Yesterday")  # newest first
    assert "6.0 min · 2 items done · 1,700 tokens (1,500 read, 200 written)" in text
    assert "stopped because you came back" in text
    assert "stopped because its time budget ran out" in text
    assert "Changed: 1 memory added, 1 answer prepared" in text
    assert "Summarized “Lisbon trip” (day 0) (790 tokens)" in text
    assert not view.think_button.isEnabled()  # no model yet: no dead button


def test_while_you_were_away_shows_the_backlog(app: Reverie, make_window,
                                               qtbot: QtBot) -> None:
    conv = app.chats.create_conversation("Lisbon").id or 0
    app.chats.add_message(conv, "user", "My flight to Lisbon leaves on Friday at 9:40.")
    view = make_window(app, start=False).show_page("away")
    qtbot.waitUntil(lambda: view.figures is not None, timeout=5000)
    assert view.figures.items == 1 and view.figures.digested_share == 0.0
    line = view.backlog_line.text()
    assert line.startswith("Left to digest: 1 item (") and "0% digested so far" in line
    assert "until a session measures it" in line


def test_think_now_runs_one_session(app: Reverie, make_window, qtbot: QtBot) -> None:
    conv = app.chats.create_conversation("")
    app.chats.add_message(conv.id or 0, "user", "Plan a picnic on Saturday in the park")
    app.chats.add_message(conv.id or 0, "assistant", "Bring a blanket and sandwiches.")
    window = make_window(app)
    qtbot.waitUntil(lambda: window.loader.engine is not None, timeout=5000)
    view = window.show_page("away")
    qtbot.waitUntil(view.think_button.isEnabled, timeout=5000)
    view.think_button.click()
    assert view.think_button.text() == "Stop thinking"
    qtbot.waitUntil(lambda: not view.thinking, timeout=20_000)
    assert view.think_button.text() == "Think now"
    sessions = Journal(app.db).sessions()
    assert len(sessions) == 1 and sessions[0].ended_at is not None
    assert view.header.subtitle.text().startswith("Thought for")
    assert "Today" in view.view.toPlainText()
    qtbot.waitUntil(lambda: view.figures is not None and view.figures.items == 0,
                    timeout=5000)
    assert view.backlog_line.text() == "Everything is digested (100%)."
    # The title the session gave the untitled chat is in the conversation list already.
    titled = app.chats.get(conv.id or 0)
    assert titled is not None and titled.title
    qtbot.waitUntil(lambda: titled.title in window.sidebar.titles(), timeout=5000)


def test_think_now_can_be_stopped(app: Reverie, make_window, qtbot: QtBot) -> None:
    window = make_window(app, start=False)
    view = window.away_view
    started = []

    def slow_session(should_stop):
        started.append(True)
        while not should_stop():
            import time

            time.sleep(0.01)

        class Report:
            def sentence(self) -> str:
                return "Thought for 0.1 s: 0 items done; stopped because you came back."

        return Report()

    view.set_session_starter(slow_session)
    view.toggle_thinking()
    qtbot.waitUntil(lambda: bool(started), timeout=2000)
    view.toggle_thinking()  # Stop
    qtbot.waitUntil(lambda: not view.thinking, timeout=2000)
    assert "you came back" in view.header.subtitle.text()


def test_insights_from_sessions_and_prepared_hits(app: Reverie, make_window) -> None:
    seed_sessions(app)
    ids = seed_anticipations(app)
    conv = ids["conversation"]
    for _ in range(3):
        app.chats.add_message(conv, Role.USER, "When is my dentist appointment?")
    app.chats.add_message(conv, Role.ASSISTANT, "Tuesday at 10:30.", origin=Origin.ANTICIPATED)
    days = AnticipationRepository(app.db).daily_stats(InsightsView.DAYS)
    today = days[-1]
    assert today.questions == 4 and today.prepared_hits == 1 and today.hit_rate == 0.25
    assert today.seconds_saved == 3.0  # one hit x the average preparation time
    assert round(today.thinking_minutes) == 6 and round(days[-2].thinking_minutes) == 6

    view = make_window(app, start=False).show_page("insights")
    assert view.tiles["hit"].text() == "25%"
    assert view.tiles["thinking"].text() == "12.0 min"
    assert view.hit_chart.values[-1] == 0.25 and len(view.hit_chart.values) == 14
    assert view.thinking_chart.values[-2] > 5
    assert "Hit rate per day" in view.hit_chart.accessibleDescription()
    image = view.grab()  # the charts paint without errors
    assert not image.isNull()
