"""SleepRunner on the FakeEngine: items, commits, journal, failures, budget, stop, resume."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future
from typing import Any

import pytest
from sqlmodel import Session, select

from assistant.llm.engine import GenerationRequest, GenerationResult
from assistant.llm.fake import FakeEngine
from assistant.mind.agenda import MAX_ATTEMPTS, Agenda, Proposal
from assistant.mind.journal import ITEM_DONE, ITEM_FAILED, SESSION, Journal
from assistant.mind.planner import DefaultPlanner, ProposalSource
from assistant.mind.runner import SessionBusyError, SleepRunner
from assistant.mind.titles import KIND, TitleConversationHandler, propose_titles
from assistant.mind.work import WorkContext, WorkHandler, WorkInterrupted, WorkOutcome
from assistant.store.chats import ChatRepository
from assistant.store.db import Database
from assistant.store.models import Conversation, SleepSession, WorkItem, WorkState

AddChat = Callable[..., int]
LONG_REPLY = " ".join(["Yellow"] * 400)
CONTRACT_KEYS = {"seconds", "stopped_because", "items_done", "memories_added",
                 "memories_updated", "memories_superseded", "anticipations_made",
                 "anticipations_invalidated", "prompt_tokens", "completion_tokens"}


def make_runner(db: Database, engine: Any, handlers: Sequence[WorkHandler] | None = None,
                sources: Sequence[ProposalSource] | None = None) -> SleepRunner:
    return SleepRunner(db, engine, DefaultPlanner(db, sources or [propose_titles]),
                       handlers or [TitleConversationHandler()])


def title_of(db: Database, conv_id: int) -> str:
    conv = ChatRepository(db).get(conv_id)
    assert conv is not None
    return conv.title


def items(db: Database) -> list[WorkItem]:
    with db.session() as s:
        return list(s.exec(select(WorkItem).order_by(WorkItem.id)))  # type: ignore[arg-type]


def run_in_thread(runner: SleepRunner, **kw: Any) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []
    thread = threading.Thread(target=lambda: out.append(runner.run_session(**kw)))
    thread.start()
    return thread, out


class SignallingEngine(FakeEngine):
    """A slow FakeEngine that says when a request has started generating."""

    def __init__(self, **kw: Any) -> None:
        self.started = threading.Event()
        super().__init__(default=self._reply, token_delay=0.05, **kw)
        self.reply = LONG_REPLY

    def _reply(self, _prompt: str) -> str:
        self.started.set()
        return self.reply


def test_session_titles_conversations_commits_and_journals(db: Database,
                                                           add_chat: AddChat) -> None:
    first = add_chat()
    second = add_chat("how do I change a bicycle tyre", "Take the wheel off first.")
    engine = FakeEngine(default=" Yellowing tomato leaves\nConversation:")
    report = make_runner(db, engine).run_session()

    assert report.stopped_because == "done"
    assert report.items_done == 2
    data = report.to_json()
    assert set(data) == CONTRACT_KEYS
    assert isinstance(data["seconds"], float)
    assert all(isinstance(data[k], int) for k in CONTRACT_KEYS - {"seconds", "stopped_because"})
    assert data["prompt_tokens"] > 50 and data["completion_tokens"] == 8
    assert title_of(db, first) == "Yellowing tomato leaves"
    assert title_of(db, second) == "Yellowing tomato leaves"
    assert all(i.state == WorkState.DONE and i.attempts == 1 for i in items(db))
    # the completion prompt shows the conversation and asks for its title
    assert "User: how do I change a bicycle tyre" in engine.prompts[0]
    assert engine.prompts[0].endswith("Title:")

    journal = Journal(db)
    entries = journal.entries(report.session_id)
    assert [e.kind for e in entries] == [SESSION, ITEM_DONE, ITEM_DONE]
    assert 'as "Yellowing tomato leaves"' in entries[1].summary
    session = journal.sessions()[0]
    assert session.ended_at is not None and session.stopped_because == "done"
    assert (session.items_done, session.prompt_tokens) == (2, data["prompt_tokens"])


def test_planner_is_idempotent_and_titles_once(db: Database, add_chat: AddChat) -> None:
    add_chat()
    add_chat("second question about the garden", "An answer.")
    add_chat("a chat the person named", "An answer.", title="Garden plans")
    chats = ChatRepository(db)
    only_question = chats.create_conversation()
    assert only_question.id is not None
    chats.add_message(only_question.id, "user", "no answer yet")
    planner = DefaultPlanner(db, [propose_titles])
    assert planner.plan() == 2
    assert planner.plan() == 0
    assert len(items(db)) == 2
    make_runner(db, FakeEngine(default=" Garden")).run_session()
    assert planner.plan() == 0  # done once: never again for the same conversation
    assert len(items(db)) == 2


def test_enqueue_skips_pending_duplicates_but_allows_repeats_after_done(db: Database) -> None:
    agenda = Agenda(db)
    repeatable = Proposal("digest_note", "7")
    assert agenda.enqueue_all([repeatable, repeatable]) == 1
    with db.write() as s:
        item = s.exec(select(WorkItem)).one()
        item.state = WorkState.DONE
        s.add(item)
    assert agenda.enqueue_all([repeatable]) == 1
    assert agenda.enqueue_all([Proposal("digest_note", "7")]) == 0


def test_a_title_the_person_set_meanwhile_is_left_alone(db: Database,
                                                        add_chat: AddChat) -> None:
    conv_id = add_chat()

    def rename_while_thinking(_prompt: str) -> str:
        # The model call runs outside any transaction, so the person can write meanwhile.
        ChatRepository(db).rename(conv_id, "My own title")
        return " Yellowing tomato leaves"

    report = make_runner(db, FakeEngine(default=rename_while_thinking)).run_session()
    assert report.items_done == 1
    assert title_of(db, conv_id) == "My own title"


class ExplodingHandler:
    kind = "explode"

    def __init__(self) -> None:
        self.calls = 0

    def describe(self, item: WorkItem, db: Database) -> str:
        return f"explosion {item.target}"

    def run(self, item: WorkItem, ctx: WorkContext) -> WorkOutcome:
        self.calls += 1
        raise ValueError("boom")


def one_explosion(_db: Database) -> Iterable[Proposal]:
    yield Proposal("explode", "1")


def test_item_failing_three_times_is_failed_journaled_and_never_loops(db: Database) -> None:
    handler = ExplodingHandler()
    runner = make_runner(db, FakeEngine(), [handler], [one_explosion])
    for attempt in range(1, MAX_ATTEMPTS + 1):
        report = runner.run_session()
        assert handler.calls == attempt  # once per session, not retried in a tight loop
        [item] = items(db)
        assert item.attempts == attempt and item.last_error == "boom"
        assert report.items_done == 0 and report.stopped_because == "done"
    assert item.state == WorkState.FAILED
    failed = [e for e in Journal(db).entries() if e.kind == ITEM_FAILED]
    assert len(failed) == 1
    assert "Gave up on explosion 1 after 3 attempts: boom" in failed[0].summary
    runner.run_session()
    assert handler.calls == MAX_ATTEMPTS
    assert not runner.has_work()
    assert Agenda(db).retry_failed() == 1  # e.g. after the person changes the model
    assert runner.has_work()


class HalfApplyHandler:
    """Writes something, then fails inside the item's transaction."""

    kind = KIND

    def describe(self, item: WorkItem, db: Database) -> str:
        return "half"

    def run(self, item: WorkItem, ctx: WorkContext) -> WorkOutcome:
        def apply(s: Session) -> None:
            conv = s.get(Conversation, int(item.target))
            assert conv is not None
            conv.title = "half written"
            s.add(conv)
            s.flush()
            raise RuntimeError("disk full")

        return WorkOutcome("never shown", apply=apply)


def test_an_item_is_all_or_nothing(db: Database, add_chat: AddChat) -> None:
    conv_id = add_chat()
    before = title_of(db, conv_id)
    report = make_runner(db, FakeEngine(), [HalfApplyHandler()]).run_session()
    assert report.items_done == 0
    assert title_of(db, conv_id) == before
    [item] = items(db)
    assert (item.state, item.attempts, item.last_error) == (WorkState.PENDING, 1, "disk full")
    assert not [e for e in Journal(db).entries() if e.kind == ITEM_DONE]


class ManualClock:
    """A clock that moves only when the test says so (the runner's ``clock``)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class EndlessEngine(FakeEngine):
    """A FakeEngine whose generation, after its first token, goes on until it is told to
    stop (like a model on a long answer), and says when that first token is out.

    The engine asks ``should_stop`` before every token: its second question means one
    token is out, and from then on it waits for the stop."""

    def __init__(self) -> None:
        super().__init__(default=LONG_REPLY)
        self.first_token = threading.Event()
        self._never = threading.Event()

    def generate(self, request: GenerationRequest, on_token: Any = None) -> GenerationResult:
        outer = request.should_stop
        assert outer is not None
        asked = 0

        def should_stop() -> bool:
            nonlocal asked
            asked += 1
            if asked >= 2:
                self.first_token.set()
                while not outer():
                    self._never.wait(0.005)
            return outer()

        request.should_stop = should_stop
        return super().generate(request, on_token)


def test_budget_stops_the_session_and_the_item_stays_pending(db: Database,
                                                             add_chat: AddChat) -> None:
    conv_id = add_chat()
    before = title_of(db, conv_id)
    engine = EndlessEngine()
    clock = ManualClock()
    runner = SleepRunner(db, engine, DefaultPlanner(db, [propose_titles]),
                         [TitleConversationHandler()], clock=clock)
    thread, out = run_in_thread(runner, budget_seconds=30)
    assert engine.first_token.wait(10)  # the item is generating, within its budget
    assert thread.is_alive()
    clock.now += 30  # the budget runs out in the middle of the item
    thread.join(10)
    assert not thread.is_alive()
    [report] = out
    assert report.stopped_because == "budget"
    assert report.seconds == 30
    [item] = items(db)
    assert (item.state, item.attempts) == (WorkState.PENDING, 0)
    assert title_of(db, conv_id) == before
    assert report.usage.completion_tokens == 1  # the work done is still accounted


@pytest.mark.parametrize("with_abort_background", [False, True])
def test_stop_request_returns_fast_rolls_back_and_resumes_later(
        db: Database, add_chat: AddChat, with_abort_background: bool) -> None:
    conv_id = add_chat()
    before = title_of(db, conv_id)
    engine = SignallingEngine()
    if with_abort_background:  # like LlamaEngine: the BACKGROUND request reports ABORTED
        engine.abort_background = engine.abort  # type: ignore[attr-defined]
    runner = make_runner(db, engine)
    thread, out = run_in_thread(runner)
    assert engine.started.wait(5)
    time.sleep(0.05)
    asked = time.perf_counter()
    runner.request_stop()
    thread.join(5)
    stopped_ms = (time.perf_counter() - asked) * 1000
    assert stopped_ms < 100
    report = out[0]
    assert report.stopped_because == "user_returned" and report.items_done == 0
    [item] = items(db)
    assert (item.state, item.attempts) == (WorkState.PENDING, 0)
    assert title_of(db, conv_id) == before
    assert not [e for e in Journal(db).entries() if e.kind == ITEM_DONE]

    engine.reply, engine.token_delay = " Yellowing tomato leaves", 0.0
    resumed = runner.run_session()
    assert (resumed.stopped_because, resumed.items_done) == ("done", 1)
    assert title_of(db, conv_id) == "Yellowing tomato leaves"
    [item] = items(db)
    assert (item.state, item.attempts) == (WorkState.DONE, 1)


def test_request_stop_outside_a_session_does_not_stop_the_next(db: Database,
                                                               add_chat: AddChat) -> None:
    add_chat()
    runner = make_runner(db, FakeEngine(default=" Garden"))
    runner.request_stop()
    assert runner.run_session().stopped_because == "done"


def test_external_should_stop_and_foreground_preemption(db: Database,
                                                        add_chat: AddChat) -> None:
    add_chat()
    engine = SignallingEngine()
    runner = make_runner(db, engine)
    thread, out = run_in_thread(runner)
    assert engine.started.wait(5)
    engine.abort()  # what a FOREGROUND request does to running BACKGROUND work
    thread.join(5)
    assert out[0].stopped_because == "user_returned"


    gone = threading.Event()
    engine.started.clear()
    thread, out = run_in_thread(runner, should_stop=gone.is_set)
    assert engine.started.wait(5)
    gone.set()
    thread.join(5)
    assert out[0].stopped_because == "user_returned"


def test_one_session_at_a_time(db: Database, add_chat: AddChat) -> None:
    add_chat()
    engine = SignallingEngine()
    runner = make_runner(db, engine)
    thread, _out = run_in_thread(runner)
    assert engine.started.wait(5)
    with pytest.raises(SessionBusyError):
        runner.run_session()
    runner.request_stop()
    thread.join(5)


def test_items_left_running_by_a_crash_are_recovered(db: Database, add_chat: AddChat) -> None:
    conv_id = add_chat()
    with db.write() as s:
        s.add(WorkItem(kind=KIND, target=str(conv_id), state=WorkState.RUNNING, attempts=1))
        s.add(WorkItem(kind=KIND, target="999", state=WorkState.RUNNING,
                       attempts=MAX_ATTEMPTS))
        s.add(SleepSession())
    make_runner(db, FakeEngine())
    first, last = items(db)
    assert (first.state, first.attempts) == (WorkState.PENDING, 1)
    assert last.state == WorkState.FAILED and "stopped unexpectedly" in (last.last_error or "")
    [session] = Journal(db).sessions()
    assert session.stopped_because == "error" and session.ended_at is not None


def test_a_queued_request_is_withdrawn_on_stop(db: Database) -> None:
    class NeverRuns:
        """An engine whose queue is busy with FOREGROUND work forever."""

        info = FakeEngine().info

        def submit(self, request: GenerationRequest) -> Future[GenerationResult]:
            self.future: Future[GenerationResult] = Future()
            return self.future

    engine = NeverRuns()
    stop = threading.Event()
    ctx = WorkContext(engine, db, stop.is_set)  # type: ignore[arg-type]
    threading.Timer(0.05, stop.set).start()
    started = time.perf_counter()
    with pytest.raises(WorkInterrupted):
        ctx.generate(GenerationRequest(prompt="hi"))
    assert time.perf_counter() - started < 0.2
    assert engine.future.cancelled()


def test_engine_that_failed_to_load_ends_the_session_with_error(db: Database,
                                                                add_chat: AddChat) -> None:
    add_chat()

    class Broken(FakeEngine):
        load_error = "The model file is damaged."

        def wait_ready(self, timeout: float | None = None) -> bool:
            return False

    report = make_runner(db, Broken()).run_session()
    assert report.stopped_because == "error"
    assert report.error == "The model file is damaged."

