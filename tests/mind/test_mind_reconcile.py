"""Reconciliation: ADD / UPDATE / SUPERSEDE / NOOP, and the person's memories are safe."""

from __future__ import annotations

from assistant.mind.extract import Fact
from assistant.mind.reconcile import Action, decide, reconcile
from assistant.mind.work import Counters
from assistant.store.db import Database
from assistant.store.memories import MemoryRepository
from assistant.store.models import Memory


def mem(id_: int, subject: str, text: str, **kw: object) -> Memory:
    return Memory(id=id_, subject=subject, text=text, sources={"messages": [1]},
                  **kw)  # type: ignore[arg-type]


def test_decisions() -> None:
    rent = mem(1, "Rent", "The rent is 950 euros to Mr. Duval on the first of the month",
               confidence=0.6)
    assert decide(Fact("Rent", "The rent is 950 euros to Mr. Duval on the first of the month",
                       0.6), [rent], {"messages": [1]}).action is Action.NOOP
    assert decide(Fact("Rent", "The rent is 950 euros to Mr. Duval on the first of the month",
                       0.6), [rent], {"messages": [7]}).action is Action.UPDATE
    changed = decide(Fact("Rent", "The rent is 990 euros to Mr. Duval", 0.6), [rent],
                     {"messages": [9]})
    assert changed.action is Action.SUPERSEDE and changed.target is rent
    other = decide(Fact("Garden", "The basil needs water every two days", 0.6), [rent], {})
    assert other.action is Action.ADD
    assert decide(Fact("x", "anything at all here", 0.5), [], {}).action is Action.ADD


def test_pinned_or_edited_is_never_overwritten() -> None:
    for flags in ({"pinned": True}, {"edited": True}):
        rent = mem(1, "Rent", "The rent is 950 euros to Mr. Duval", **flags)
        same = decide(Fact("Rent", "The rent is 950 euros to Mr. Duval monthly", 0.9), [rent],
                      {"messages": [5]})
        assert same.action is Action.NOOP
        changed = decide(Fact("Rent", "The rent is 990 euros to Mr. Duval", 0.9), [rent], {})
        assert changed.action is Action.ADD  # beside it


def test_reconcile_writes_and_counts(db: Database) -> None:
    counters = Counters()
    with db.write() as s:
        first = reconcile(s, Fact("Rent", "The rent is 950 euros to Mr. Duval", 0.6),
                          {"messages": [1]}, counters)
        again = reconcile(s, Fact("Rent", "The rent is 950 euros to Mr. Duval", 0.6),
                          {"messages": [1]}, counters)
        more = reconcile(s, Fact("Rent", "The rent is 950 euros to Mr. Duval each month", 0.6),
                         {"messages": [2]}, counters)
        changed = reconcile(s, Fact("Rent", "The rent is 990 euros to Mr. Duval", 0.6),
                            {"messages": [3]}, counters)
    assert [d.action for d in (first, again, more, changed)] == [
        Action.ADD, Action.NOOP, Action.UPDATE, Action.SUPERSEDE]
    assert (counters.memories_added, counters.memories_updated,
            counters.memories_superseded) == (2, 1, 1)
    repo = MemoryRepository(db)
    active = repo.list(kind="fact")
    assert [m.text for m in active] == ["The rent is 990 euros to Mr. Duval"]
    history = repo.history(active[0].id or 0)
    assert [m.text for m in history] == ["The rent is 990 euros to Mr. Duval",
                                         "The rent is 950 euros to Mr. Duval each month"]
    assert history[1].sources == {"messages": [1, 2]}


def test_reconcile_leaves_an_edited_memory_alone(db: Database) -> None:
    repo = MemoryRepository(db)
    counters = Counters()
    with db.write() as s:
        reconcile(s, Fact("Rent", "The rent is 950 euros to Mr. Duval", 0.6), {}, counters)
    original = repo.list()[0]
    repo.update_text(original.id or 0, "The rent is 950 euros, paid to Mr. Duval")
    with db.write() as s:
        reconcile(s, Fact("Rent", "The rent is 990 euros to Mr. Duval", 0.6), {}, counters)
    kept = repo.get(original.id or 0)
    assert kept is not None and kept.superseded_by is None
    assert kept.text == "The rent is 950 euros, paid to Mr. Duval"
    assert len(repo.list()) == 2


def test_a_fact_digested_late_but_said_earlier_becomes_history(db: Database) -> None:
    """Sleep may digest the older of two disagreeing facts second (a note, an older
    chat): the newer word stays current and the older fact is stored behind it."""
    from datetime import UTC, datetime

    counters = Counters()
    with db.write() as s:
        newer = reconcile(s, Fact("Rent", "The rent is 990 euros to Mr. Duval", 0.6,
                                  said_at=datetime(2026, 6, 1, tzinfo=UTC)),
                          {"messages": [2]}, counters)
        older = reconcile(s, Fact("Rent", "The rent is 950 euros to Mr. Duval", 0.6,
                                  said_at=datetime(2026, 5, 1, tzinfo=UTC)),
                          {"messages": [1]}, counters)
    assert (newer.action, older.action) == (Action.ADD, Action.OUTDATED)
    repo = MemoryRepository(db)
    assert [m.text for m in repo.list(kind="fact")] == ["The rent is 990 euros to Mr. Duval"]
    current = repo.list(kind="fact")[0]
    assert [m.text for m in repo.history(current.id or 0)][1:] == [
        "The rent is 950 euros to Mr. Duval"]
    assert counters.memories_superseded == 1


def test_a_fact_digested_late_is_history_only_if_the_newer_memory_corrects_it(
        db: Database) -> None:
    """The older fact's own cue ("Don't let me forget") says nothing about a newer memory
    on another subject: both stay current."""
    from datetime import UTC, datetime

    counters = Counters()
    with db.write() as s:
        newer = reconcile(s, Fact("Owen", "Last day of term for Owen today, 22 July.", 0.6,
                                  said_at=datetime(2026, 7, 22, tzinfo=UTC)),
                          {"messages": [2]}, counters)
        older = reconcile(s, Fact("Owen", "Owen's birthday is 3 July. He'll be 34. Don't "
                                  "let me forget.", 0.6,
                                  said_at=datetime(2026, 6, 1, tzinfo=UTC)),
                          {"messages": [1]}, counters)
    assert (newer.action, older.action) == (Action.ADD, Action.ADD)
    assert len(MemoryRepository(db).list(kind="fact")) == 2
