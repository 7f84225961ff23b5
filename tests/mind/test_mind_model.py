"""The SleepRunner on the real bundled model: preemption within 100 ms, then resumption."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from assistant.llm.llama import LlamaEngine
from assistant.mind.journal import ITEM_DONE, Journal
from assistant.mind.planner import DefaultPlanner
from assistant.mind.runner import SleepRunner
from assistant.mind.titles import TitleConversationHandler, propose_titles
from assistant.store.chats import ChatRepository
from assistant.store.db import Database
from assistant.store.models import WorkItem, WorkState

pytestmark = pytest.mark.model

LONG_QUESTION = ("I am planning the vegetable garden for next spring and I keep changing my "
                 "mind about where the tomatoes, beans and courgettes should go. ") * 4


@pytest.fixture(scope="module")
def engine(bundled_model: Path) -> Iterator[LlamaEngine]:
    eng = LlamaEngine(bundled_model, n_ctx=2048)
    assert eng.wait_ready(60), eng.load_error
    yield eng
    eng.close()


def long_chat(db: Database) -> int:
    """A conversation whose title prompt takes the model a few seconds to read."""
    chats = ChatRepository(db)
    conv = chats.create_conversation()
    assert conv.id is not None
    for turn in range(6):
        chats.add_message(conv.id, "user" if turn % 2 == 0 else "assistant", LONG_QUESTION)
    return conv.id


def test_preempted_on_the_real_model_within_100ms_then_resumed(db: Database,
                                                                engine: LlamaEngine) -> None:
    conv_id = long_chat(db)
    auto_title = ChatRepository(db).get(conv_id).title  # type: ignore[union-attr]
    runner = SleepRunner(db, engine, DefaultPlanner(db, [propose_titles]),
                         [TitleConversationHandler()])
    working = threading.Event()
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(
        runner.run_session(on_item=lambda what: working.set() if what else None)))
    thread.start()
    assert working.wait(10)
    time.sleep(0.3)  # inside the prefill of ~800 tokens
    asked = time.perf_counter()
    runner.request_stop()
    thread.join(10)
    stopped_ms = (time.perf_counter() - asked) * 1000
    assert stopped_ms < 100, f"stopped {stopped_ms:.0f} ms after the request"
    report = out[0]
    assert report.stopped_because == "user_returned"
    assert report.items_done == 0
    with db.session() as s:
        item = s.exec(select(WorkItem)).one()
    assert (item.state, item.attempts) == (WorkState.PENDING, 0)
    assert ChatRepository(db).get(conv_id).title == auto_title  # type: ignore[union-attr]

    resumed = runner.run_session()
    assert (resumed.stopped_because, resumed.items_done) == ("done", 1)
    with db.session() as s:
        item = s.exec(select(WorkItem)).one()
    assert item.state == WorkState.DONE
    title = ChatRepository(db).get(conv_id).title  # type: ignore[union-attr]
    assert title != auto_title and 0 < len(title) <= 60
    assert [e.kind for e in Journal(db).entries(resumed.session_id)][-1] == ITEM_DONE
