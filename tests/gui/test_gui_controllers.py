"""The window's controllers on their own: no MainWindow, only the widgets they drive."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from assistant.app import Reverie
from assistant.gui.chat_view import ChatView
from assistant.gui.controllers.chat import ChatController
from assistant.gui.controllers.model_status import NOT_LOADED, ModelStatusController
from assistant.gui.controllers.thinking import ThinkingController, pause_until
from assistant.gui.conversation_list import ConversationList
from assistant.gui.model_loader import ModelState
from assistant.idle.backends.app import AppActivityBackend
from assistant.idle.backends.probe import ProbeResult
from assistant.llm.engine import Engine
from assistant.llm.fake import FakeEngine


@pytest.fixture
def host(qtbot: QtBot) -> QWidget:
    widget = QWidget()
    qtbot.addWidget(widget)
    return widget


# -- model status ------------------------------------------------------------------------
def test_model_status_says_loading_then_ready_and_hands_over_the_engine(
        app: Reverie, host: QWidget, qtbot: QtBot, fake_engine: FakeEngine) -> None:
    model = ModelStatusController(None, host)
    said: list[str] = []
    answerable: list[tuple[bool, str]] = []
    model.status_changed.connect(said.append)
    model.answerable_changed.connect(lambda ok, why: answerable.append((ok, why)))
    model.opening()
    model.attach(app)
    with qtbot.waitSignal(model.ready, timeout=5000) as ready:
        model.start()
    assert ready.args == [fake_engine]
    assert said[0] == "Opening your profile…" and said[1] == "Loading the model…"
    assert said[-1] == "Ready · fake" and model.state is ModelState.READY
    assert answerable[0] == (False, "Opening your profile…") and answerable[-1] == (True, "")
    model.stop()


def test_model_status_explains_a_failed_load(data_dir, host: QWidget, qtbot: QtBot) -> None:
    def broken(_path: object, _settings: object, _paths: object) -> Engine:
        raise RuntimeError("The model file is damaged; download it again.")

    app = Reverie.open(data_dir, engine_factory=broken)
    app.settings = app.settings.replace("model", path=str(data_dir / "fake.gguf"))
    try:
        model = ModelStatusController(app, host)
        answerable: list[tuple[bool, str]] = []
        model.answerable_changed.connect(lambda ok, why: answerable.append((ok, why)))
        with qtbot.waitSignal(model.failed, timeout=5000) as failed:
            model.start()
        assert failed.args == ["The model file is damaged; download it again."]
        assert model.text == "Model not loaded" and answerable[-1] == (False, NOT_LOADED)
        model.stop()
    finally:
        app.close()


# -- chat --------------------------------------------------------------------------------
@pytest.fixture
def chat(app: Reverie, host: QWidget, fake_engine: FakeEngine) -> Iterator[ChatController]:
    view, sidebar = ChatView(host), ConversationList(host)
    controller = ChatController(view, sidebar, host, confirm=lambda _t, _q: True)
    controller.attach(app)
    view.composer.set_ready(True)
    controller.set_responder(app.responder(app.start_engine()))
    yield controller
    controller.shutdown()


def test_chat_asks_streams_and_saves_a_new_conversation(
        app: Reverie, chat: ChatController, qtbot: QtBot) -> None:
    stats: list[str] = []
    chat.stats_changed.connect(stats.append)
    assert chat.current_conversation_id is None
    with qtbot.waitSignal(chat.answer_finished, timeout=5000):
        chat.send("What is the capital of France?")
    assert not chat.answering
    conv_id = chat.current_conversation_id
    assert conv_id is not None
    qtbot.waitUntil(lambda: chat.sidebar.ids() == [conv_id], timeout=5000)
    texts = [m.content for m in app.chats.messages(conv_id)]
    assert texts == ["What is the capital of France?", "The capital of France is Paris."]
    assert chat.chat.bubbles[-1].text() == "The capital of France is Paris."
    assert stats[-1].startswith("First token ")


def test_chat_without_a_responder_sends_nothing(app: Reverie, host: QWidget) -> None:
    controller = ChatController(ChatView(host), ConversationList(host), host)
    controller.attach(app)
    controller.send("Anyone there?")
    controller.shutdown()
    assert not controller.answering and app.chats.list_conversations() == []


def test_chat_renames_searches_and_deletes_conversations(
        app: Reverie, chat: ChatController, qtbot: QtBot) -> None:
    first = app.chats.create_conversation("Garden")
    app.chats.add_message(first.id or 0, "user", "Plant the tulips in October.")
    second = app.chats.create_conversation("Taxes")
    chat.refresh_conversations(select_newest=True)
    assert chat.current_conversation_id == second.id
    chat.rename_conversation(second.id or 0, "Tax return 2026")
    assert app.chats.get(second.id or 0).title == "Tax return 2026"  # type: ignore[union-attr]
    chat.search_conversations("tulips")
    qtbot.waitUntil(lambda: chat.sidebar.ids() == [first.id], timeout=5000)
    chat.delete_conversation(second.id or 0)
    assert app.chats.get(second.id or 0) is None
    assert chat.current_conversation_id == first.id


def test_chat_keeps_a_conversation_when_the_person_says_no(app: Reverie,
                                                          host: QWidget) -> None:
    asked: list[str] = []
    controller = ChatController(ChatView(host), ConversationList(host), host,
                                confirm=lambda title, _q: asked.append(title) is not None)
    controller.attach(app)
    conv = app.chats.create_conversation("Keep me")
    controller.delete_conversation(conv.id or 0)
    controller.shutdown()
    assert asked == ["Delete conversation"] and app.chats.get(conv.id or 0) is not None


# -- thinking ----------------------------------------------------------------------------
def test_thinking_says_off_or_paused_before_the_coordinator_runs(
        app: Reverie, host: QWidget) -> None:
    thinking = ThinkingController(host)
    said: list[tuple[str, str]] = []
    thinking.status_changed.connect(lambda text, why: said.append((text, why)))
    thinking.attach(app)
    assert said[-1][0] == "Starting…" and thinking.status == ("off", said[-1][1])
    thinking.pause(1)
    assert said[-1][0] == "Thinking paused" and thinking.status is not None
    assert app.settings.thinking.paused_until_time() is not None
    thinking.resume()
    assert said[-1][0] == "Starting…" and not app.settings.thinking.paused_until
    app.save_settings(app.settings.replace("thinking", enabled=False))
    thinking.show_offline_status()
    assert said[-1] == ("Thinking off", "Thinking is turned off in Settings.")
    thinking.shutdown()


def test_thinking_starts_the_coordinator_and_reports_its_status(
        app: Reverie, host: QWidget, qtbot: QtBot) -> None:
    def probe() -> ProbeResult:
        return ProbeResult(AppActivityBackend(), [("x11", "no display")])

    thinking = ThinkingController(host, idle_probe=probe)
    thinking.attach(app)
    found: list[tuple[str, bool, list[tuple[str, str]]]] = []
    thinking.idle_backend_found.connect(lambda n, s, f: found.append((n, s, f)))
    assert thinking.session_starter() is None  # no model yet
    with qtbot.waitSignal(thinking.idle_backend_found, timeout=10000):
        thinking.start(app.start_engine())
    assert app.running_coordinator is not None
    assert found == [(thinking.idle_backend_name, False, [("x11", "no display")])]
    assert thinking.status is not None and thinking.status[0] == "active"
    assert thinking.session_starter() is not None
    coordinator = app.running_coordinator
    assert coordinator.scheduler.running
    thinking.shutdown()
    assert not coordinator.scheduler.running


def test_pause_until_tomorrow_means_eight_in_the_morning() -> None:
    now = datetime(2026, 3, 2, 22, 15).astimezone()
    assert pause_until(0, now) == datetime(2026, 3, 3, 8, 0).astimezone()
    assert (pause_until(2, now) - now).total_seconds() == 7200


def test_the_status_bar_says_where_an_answer_the_model_did_not_write_came_from() -> None:
    from assistant.gui.controllers.chat import answer_stats_text
    from assistant.recall.responder import Answer

    def answer(source: str, tokens: int) -> Answer:
        return Answer("Tuesday at 10.", source, "auto", 20.0, 48.0, 0, 0, tokens, None, [],
                      "fake")

    assert answer_stats_text(answer("anticipated", 0)) == (
        "Prepared while you were away · shown in 48 ms")
    assert answer_stats_text(answer("extracted", 0)) == "Quoted from what you wrote · 48 ms"
    assert answer_stats_text(answer("generated", 0)) == "No tokens generated (48 ms)"
    assert answer_stats_text(answer("generated", 3)).startswith("First token 20 ms")
