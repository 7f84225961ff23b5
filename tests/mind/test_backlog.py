"""The backlog planner: newest first, recurring and asked-about topics moved up, trivial
chats set aside without the model, backlog figures, and a query count that does not grow
with the number of conversations."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import select

from assistant.bench import synth
from assistant.llm.fake import FakeEngine
from assistant.mind.agenda import Agenda, Proposal
from assistant.mind.anticipate import propose_anticipations
from assistant.mind.backlog import (
    CHUNK_OVERHEAD_TOKENS,
    DEFAULT_TOKENS_PER_S,
    TRIVIAL_KIND,
    Ranker,
    SetAsideTrivialHandler,
    backlog_figures,
    is_trivial,
    measured_speed,
    propose_digests,
    text_cost,
)
from assistant.mind.consolidate import CONVERSATION_KIND, ConsolidateConversationHandler
from assistant.mind.planner import DefaultPlanner, ProposalSource
from assistant.mind.runner import REPLAN_SECONDS, SleepRunner
from assistant.mind.titles import propose_titles
from assistant.mind.work import WorkContext, WorkOutcome
from assistant.store.chats import ChatRepository
from assistant.store.db import Database
from assistant.store.models import Message, Origin, SleepSession, WorkItem

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


def digests_at(now: datetime) -> ProposalSource:
    def source(db: Database) -> Iterator[Proposal]:
        return propose_digests(db, now)

    return source


def load_synth(db: Database, messages: int, seed: int = 15, months: int = 12
               ) -> dict[int, datetime]:
    """A synthetic history (`assistant.bench.synth`) ending at NOW; returns each
    conversation's id -> its newest message time."""
    chats = ChatRepository(db)
    newest = {}
    for conv in synth.conversations(synth.SynthSpec(messages, seed, NOW, months)):
        row = chats.create_conversation(conv.title, import_key=f"synth:{conv.index}",
                                        created_at=conv.messages[0].created_at)
        assert row.id is not None
        chats.add_messages(row.id, [Message(role=m.role, content=m.content,
                                            created_at=m.created_at,
                                            origin=Origin.IMPORTED.value)
                                    for m in conv.messages])
        newest[row.id] = conv.messages[-1].created_at
    return newest


def add_chat(db: Database, title: str, when: datetime, *turns: tuple[str, str],
             origin: Origin = Origin.IMPORTED) -> int:
    chats = ChatRepository(db)
    conv = chats.create_conversation(title, created_at=when).id or 0
    for i, (role, content) in enumerate(turns):
        chats.add_message(conv, role, content, origin=origin,
                          created_at=when + timedelta(seconds=i))
    return conv


def consolidation_order(db: Database) -> list[int]:
    planner = DefaultPlanner(db, [digests_at(NOW)])
    planner.plan()
    return [int(i.target) for i in planner.pending([CONVERSATION_KIND])]


# -- order --------------------------------------------------------------------------------

def test_a_synthetic_history_is_planned_newest_week_first(db: Database) -> None:
    newest = load_synth(db, 2400, months=2)
    order = consolidation_order(db)
    assert sorted(order) == sorted(newest), "every conversation is on the agenda once"
    in_week = [newest[c] >= NOW - WEEK for c in order]
    week = sum(in_week)
    assert week >= 5, "the synthetic year has a newest week"
    # The newest week comes first; a recurring topic may move a chat up by at most two days.
    assert sum(in_week[:week]) >= 0.8 * week
    assert all(newest[c] >= NOW - WEEK - timedelta(days=2) for c in order[:week])
    ages = [(NOW - newest[c]).days for c in order]
    assert ages[-1] > 50 and ages[0] <= 2


def test_chats_months_old_still_go_newest_first(db: Database) -> None:
    """Past about five months the decay rounds every chat to the band's floor; the queue
    then keeps them newest first (it had run them in the order they were imported)."""
    added = [add_chat(db, f"Chat {days}", NOW - timedelta(days=days),
                      ("user", f"Something long enough to remember, from day {days}."),
                      ("assistant", "Noted."))
             for days in (400, 300, 700, 250)]
    order = consolidation_order(db)
    assert [o for o in order if o in added] == [added[3], added[1], added[0], added[2]]


def test_the_first_session_schedule_is_from_the_newest_week(db: Database) -> None:
    newest = load_synth(db, 2400, months=2)
    planner = DefaultPlanner(db, [digests_at(NOW)])
    planner.plan()
    first = planner.schedule(600, tokens_per_s=30.0)
    assert 3 <= len(first) < len(planner.pending())
    share = sum(newest[int(i.target)] >= NOW - WEEK for i in first) / len(first)
    assert share >= 0.8
    # Twice the speed, about twice the items (each estimated from its own size).
    assert len(planner.schedule(600, tokens_per_s=60.0)) > len(first)


def test_recency_then_recurring_and_asked_topics() -> None:
    titles = ["Sourdough starter", "Sourdough again", "Sourdough hydration", "Tax return",
              "Garden fence"] + [f"Other {i}" for i in range(100)]
    plain = Ranker(titles, Counter(), NOW)
    assert plain.priority(NOW, "Tax return") > plain.priority(NOW - WEEK, "Tax return")
    assert plain.priority(NOW - WEEK, "Tax return") == pytest.approx(
        (plain.priority(NOW, "Tax return") + 0.3) / 2)
    assert plain.recurrence("Sourdough starter") == pytest.approx(2 / 3)
    assert plain.recurrence("Tax return") == 0.0
    # A topic that comes back moves up, but not past a chat much newer than it.
    assert (plain.priority(NOW - timedelta(days=10), "Sourdough starter")
            > plain.priority(NOW - timedelta(days=10), "Garden fence"))
    assert (plain.priority(NOW - timedelta(days=1), "Garden fence")
            > plain.priority(NOW - timedelta(days=10), "Sourdough starter"))
    # What the person asks about moves up by up to five days.
    asked = Ranker(titles, Counter({"tax": 2, "return": 1}), NOW)
    assert asked.asked("Tax return") == 1.0 and asked.asked("Garden fence") == 0.0
    assert (asked.priority(NOW - timedelta(days=12), "Tax return")
            > asked.priority(NOW - timedelta(days=8), "Garden fence"))


def test_recent_questions_steer_the_order(db: Database) -> None:
    fence = add_chat(db, "Garden fence quote", NOW - timedelta(days=16),
                     ("user", "The fence repair quote from Marek is 640 euros."),
                     ("assistant", "That is within the usual range."))
    taxes = add_chat(db, "Tax return documents", NOW - timedelta(days=20),
                     ("user", "The tax return needs the P60 and the pension statement."),
                     ("assistant", "Keep them together in one folder."))
    assert consolidation_order(db) == [fence, taxes]
    add_chat(db, "", NOW - timedelta(hours=1), ("user", "What documents does my tax return need?"),
             origin=Origin.TYPED)
    order = consolidation_order(db)
    assert order.index(taxes) < order.index(fence)


def test_a_pending_item_takes_the_priority_of_the_newest_proposal(db: Database) -> None:
    agenda = Agenda(db)
    assert agenda.enqueue_all([Proposal(CONVERSATION_KIND, "1", 0.4),
                               Proposal(CONVERSATION_KIND, "2", 0.5)]) == 2
    assert agenda.enqueue_all([Proposal(CONVERSATION_KIND, "1", 0.8),
                               Proposal(CONVERSATION_KIND, "2", 0.5)]) == 0
    item = agenda.next_pending([CONVERSATION_KIND])
    assert item is not None and (item.target, item.priority) == ("1", 0.8)


# -- trivial conversations ---------------------------------------------------------------

def test_what_counts_as_trivial() -> None:
    assert is_trivial([("user", "thanks!"), ("assistant", "You're welcome.")])
    assert is_trivial([("user", "ok great, got it"), ("assistant", "Glad it helped!")])
    assert is_trivial([("user", "hi"), ("assistant", "Hello! How can I help?")])
    assert is_trivial([("user", "   ")])
    assert not is_trivial([("user", "My sister Ingrid turns 35 on 3 December.")])
    assert not is_trivial([("user", "What is 15% of 80?"), ("assistant", "12.")])
    assert not is_trivial([("user", "thanks"), ("assistant", "word " * 800)])
    assert not is_trivial([("user", "ok")] * 5)


def test_trivial_chats_are_set_aside_in_one_item_without_the_model(db: Database) -> None:
    thanks = add_chat(db, "Thanks", NOW - timedelta(days=1),
                      ("user", "thanks!"), ("assistant", "You're welcome."))
    hello = add_chat(db, "Hi", NOW - timedelta(days=2),
                     ("user", "hi"), ("assistant", "Hello! How can I help?"))
    real = add_chat(db, "Ingrid", NOW - timedelta(days=3),
                    ("user", "My sister Ingrid turns 35 on 3 December."))
    proposals = list(propose_digests(db, NOW))
    assert [(p.kind, p.target) for p in proposals if p.kind == TRIVIAL_KIND] == [
        (TRIVIAL_KIND, "chats")]
    assert {p.target for p in proposals if p.kind == CONVERSATION_KIND} == {str(real)}
    before = backlog_figures(db)
    assert before.conversations == 1 and before.items == 2  # Ingrid's chat and the batch

    engine = FakeEngine(default=" Summary: a birthday.\nFacts:\n")
    runner = SleepRunner(db, engine, DefaultPlanner(db, [digests_at(NOW)]),
                         [SetAsideTrivialHandler(), ConsolidateConversationHandler()])
    report = runner.run_session()
    assert report.items_done == 2 and report.stopped_because == "done"
    prompts = "\n".join(engine.prompts)
    assert "Ingrid" in prompts and "thanks" not in prompts and "Hello!" not in prompts
    with db.session() as s:
        left = s.exec(select(Message).where(Message.consolidated_at == None)).all()  # noqa: E711
    assert left == []
    entries = [e for e in runner._journal.entries(report.session_id) if e.kind == "item_done"]
    set_aside = [e for e in entries if e.details["kind"] == TRIVIAL_KIND]
    assert len(set_aside) == 1 and "Set aside 2 short chats" in set_aside[0].summary
    assert sorted(set_aside[0].details["conversations"]) == sorted([thanks, hello])
    assert set_aside[0].details["prompt_tokens"] == 0
    assert list(propose_digests(db, NOW)) == []


# -- figures ------------------------------------------------------------------------------

def test_backlog_figures_follow_the_size_of_what_is_left(db: Database) -> None:
    assert backlog_figures(db).items == 0 and backlog_figures(db).digested_share == 1.0
    line = "My flight to Lisbon leaves on Friday at 9:40 and Ana picks me up. "  # 66 chars
    long_id = add_chat(db, "Lisbon", NOW - timedelta(days=1),
                       *[("user" if i % 2 == 0 else "assistant", line * 12) for i in range(40)])
    short_id = add_chat(db, "Dentist", NOW - timedelta(days=2),
                        ("user", "The dentist moved my appointment to Tuesday at 10:30."))
    figures = backlog_figures(db)
    # Each line is read up to MAX_LINE_CHARS (792 chars -> 198 tokens) plus its prefix.
    long_cost = text_cost(40 * 198, 40)
    short_cost = text_cost(14, 1)
    assert long_cost.items > 1 and short_cost.items == 1
    assert figures.items == long_cost.items + 1
    assert figures.tokens == long_cost.tokens + short_cost.tokens
    assert short_cost.tokens == 14 + 10 + CHUNK_OVERHEAD_TOKENS
    assert (figures.conversations, figures.notes, figures.digested_share) == (2, 0, 0.0)
    assert not figures.speed_measured and figures.tokens_per_s == DEFAULT_TOKENS_PER_S
    assert figures.idle_seconds == pytest.approx(figures.tokens / DEFAULT_TOKENS_PER_S)
    assert "of idle time" in figures.sentence()

    # Half the messages digested: the share follows; a note adds one item.
    with db.write() as s:
        for m in s.exec(select(Message).where(Message.conversation_id == long_id)).all()[:20]:
            m.consolidated_at = NOW
            s.add(m)
    assert backlog_figures(db).digested_share == pytest.approx(20 / 41)
    assert short_id


def test_the_speed_is_what_recent_sessions_measured(db: Database) -> None:
    assert measured_speed(db) is None
    with db.write() as s:
        s.add(SleepSession(started_at=NOW, ended_at=NOW + timedelta(seconds=100),
                           prompt_tokens=3000, completion_tokens=1000))
        s.add(SleepSession(started_at=NOW, ended_at=NOW + timedelta(seconds=60),
                           prompt_tokens=0, completion_tokens=0))  # nothing to measure
        s.add(SleepSession(started_at=NOW, ended_at=NOW + timedelta(seconds=100),
                           prompt_tokens=1500, completion_tokens=500))
    assert measured_speed(db) == pytest.approx(6000 / 200)
    add_chat(db, "Dentist", NOW, ("user", "The dentist moved my appointment to Tuesday."))
    figures = backlog_figures(db)
    assert figures.speed_measured and figures.tokens_per_s == pytest.approx(30.0)
    assert figures.idle_seconds == pytest.approx(figures.tokens / 30.0)


# -- cost ---------------------------------------------------------------------------------

@pytest.fixture
def statements(db: Database) -> Iterator[Callable[[], int]]:
    """Counts the SQL statements the database runs (an executemany counts once)."""
    seen = [0]

    def count(*_args: Any) -> None:
        seen[0] += 1

    event.listen(db.engine, "before_cursor_execute", count)

    def take() -> int:
        n, seen[0] = seen[0], 0
        return n

    yield take
    event.remove(db.engine, "before_cursor_execute", count)


def planning_statements(db: Database, take: Callable[[], int]) -> tuple[int, int, int]:
    planner = DefaultPlanner(db, [propose_titles, digests_at(NOW), propose_anticipations])
    take()
    added = planner.plan()
    first = take()
    planner.plan()
    again = take()
    return added, first, again


def test_planning_statements_do_not_grow_with_the_conversations(
        db: Database, tmp_path: Any, statements: Callable[[], int]) -> None:
    load_synth(db, 120, seed=1)
    small_added, small_first, small_again = planning_statements(db, statements)
    big = Database.open(tmp_path / "big.db", tmp_path / "big-backups")
    try:
        seen = [0]

        def count(*_args: Any) -> None:
            seen[0] += 1

        def take() -> int:
            n, seen[0] = seen[0], 0
            return n

        event.listen(big.engine, "before_cursor_execute", count)
        load_synth(big, 1200, seed=1)

        big_added, big_first, big_again = planning_statements(big, take)
    finally:
        big.close()
    assert big_added > 2 * small_added
    assert big_first == small_first and big_again == small_again
    assert big_first < 30



class StepClock:
    """The runner's clock: moves only when a work item says so."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Sleepy:
    """A handler that spends ``seconds`` of the clock on each item and records its order."""

    kind = "sleepy"

    def __init__(self, clock: StepClock, seconds: float,
                 on_run: Callable[[str], None] | None = None) -> None:
        self.clock, self.seconds, self.on_run = clock, seconds, on_run
        self.done: list[str] = []

    def describe(self, item: WorkItem, db: Database) -> str:
        return item.target

    def run(self, item: WorkItem, ctx: WorkContext) -> WorkOutcome:
        self.clock.now += self.seconds
        self.done.append(item.target)
        if self.on_run is not None:
            self.on_run(item.target)
        return WorkOutcome(f"did {item.target}")


def test_a_long_session_plans_again_so_new_work_can_go_first(db: Database) -> None:
    wanted = {"old-1": 0.4, "old-2": 0.4, "old-3": 0.4}

    def source(_db: Database) -> Iterator[Proposal]:
        for target, priority in wanted.items():
            yield Proposal("sleepy", target, priority, once=True)

    def news_arrives(target: str) -> None:
        if target == "old-1":
            wanted["new"] = 0.8  # e.g. the next part of the newest conversation

    clock = StepClock()
    handler = Sleepy(clock, REPLAN_SECONDS, news_arrives)
    runner = SleepRunner(db, FakeEngine(), DefaultPlanner(db, [source]), [handler],
                         clock=clock)
    assert runner.run_session().items_done == 4
    assert handler.done == ["old-1", "new", "old-2", "old-3"]
