"""Consolidation, notes digest, profile and warm prefix on the FakeEngine, through the
SleepRunner that `Reverie.sleep_runner` wires."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import col, select

from assistant.app import Reverie
from assistant.llm.engine import PromptStyle
from assistant.llm.fake import FakeEngine
from assistant.llm.prompts import answer_prefix
from assistant.mind import profile as profile_work
from assistant.mind.backlog import propose_digests
from assistant.mind.profile import ABOUT, ONGOING, build_profile
from assistant.store.memories import MemoryRepository
from assistant.store.models import Anticipation, Memory, Message, WorkItem

T0 = datetime(2026, 11, 16, 8, 0, tzinfo=UTC)
MODEL_SAYS = (" The person booked the dentist.\nFacts:\n"
              "dentist | The dentist appointment with Dr. Okafor is next Tuesday at 10:30\n"
              "garbled line without a bar\n"
              "moon | The moon is made of green cheese\n")


def engine() -> FakeEngine:
    return FakeEngine(rules=[("Conversation:\nUser (Monday 16 November 2026): I booked",
                              MODEL_SAYS)], default=" A short note.\nFacts:\n")


def chat(app: Reverie) -> int:
    conv = app.chats.create_conversation("Dentist").id or 0
    app.chats.add_message(conv, "user", "I booked the dentist next Tuesday at 10:30 with "
                          "Dr. Okafor. My gym locker is number 42.", created_at=T0)
    app.chats.add_message(conv, "assistant", "Noted.", created_at=T0 + timedelta(seconds=5))
    return conv


def test_conversation_becomes_sourced_memories_once(app: Reverie) -> None:
    fake = engine()
    chat(app)
    report = app.sleep_runner(fake).run_session()
    assert report.stopped_because == "done"
    repo = MemoryRepository(app.db)
    facts = {m.text: m for m in repo.list(kind="fact")}
    dentist = "The dentist appointment with Dr. Okafor is next Tuesday (Tuesday 24 November " \
              "2026) at 10:30"
    assert dentist in facts and facts[dentist].sources["messages"]
    assert "Your gym locker is number 42." in facts  # the person's own words, told of them
    assert facts["Your gym locker is number 42."].said_at is not None  # dated by its message
    assert not any("cheese" in t for t in facts)  # ungrounded: dropped
    summary = repo.list(kind="summary")[0]
    assert summary.scope == "conversation" and summary.text == "The person booked the dentist."
    digests = {m.scope for m in repo.list(kind="digest")}
    assert digests == {"day", "week"}
    with app.db.session() as s:
        assert all(m.consolidated_at is not None for m in s.exec(select(Message)))
    profile = repo.list(kind="profile")
    assert len(profile) == 1 and "locker" in profile[0].text
    assert report.counters.memories_added >= 5
    # The answer prefix with that profile was warmed, last.
    assert answer_prefix(PromptStyle.COMPLETION, profile[0].text) in fake.warm_prefixes.values()
    again = app.sleep_runner(fake).run_session()
    assert (again.items_done, again.usage.prompt_tokens) == (0, 0)


def test_new_turns_only_are_consolidated(app: Reverie) -> None:
    fake = engine()
    conv = chat(app)
    app.sleep_runner(fake).run_session()
    n_prompts = len(fake.prompts)
    app.chats.add_message(conv, "user", "My sister Ingrid turns 35 on 3 December.",
                          created_at=T0 + timedelta(days=1))
    report = app.sleep_runner(fake).run_session()
    assert report.items_done >= 1
    new_prompts = [p for p in fake.prompts[n_prompts:] if "Conversation:" in p]
    assert len(new_prompts) == 1 and "Ingrid" in new_prompts[0]
    assert "Okafor" not in new_prompts[0].split("Conversation:")[-1]


def test_notes_digest_once_and_an_edit_redigests_only_that_note(app: Reverie) -> None:
    fake = engine()
    home = app.notes.add("Home", "The plumber is Marc Petit.\nSpare keys are with Madame Roux.")
    gifts = app.notes.add("Gifts", "Ingrid: a ceramic teapot.\nSam: concert tickets.")
    app.sleep_runner(fake).run_session()
    repo = MemoryRepository(app.db)
    texts = {m.text for m in repo.list(kind="fact")}
    assert {"The plumber is Marc Petit.", "Ingrid: a ceramic teapot."} <= texts
    with app.db.session() as s:
        before = {m.id: m.superseded_by for m in s.exec(select(Memory))}
        s.add(Anticipation(question="plumber?", answer="Marc Petit",
                           sources={"memories": [m.id for m in repo.list()
                                                 if m.sources.get("notes") == [home.id]]}))
        s.add(Anticipation(question="teapot?", answer="teapot",
                           sources={"memories": [m.id for m in repo.list()
                                                 if m.sources.get("notes") == [gifts.id]]}))
    assert list(propose_digests(app.db)) == []  # unchanged notes: nothing to do
    n_prompts = len(fake.prompts)
    app.notes.update(home.id or 0, body="The plumber is Luc Blanc.\n"
                     "Spare keys are with Madame Roux.")
    app.sleep_runner(fake).run_session()
    digests = [p for p in fake.prompts[n_prompts:] if p.rstrip().endswith("Summary:")]
    assert len(digests) == 1 and 'Note "Home"' in digests[0]
    with app.db.session() as s:
        after = {m.id: m for m in s.exec(select(Memory))}
        statuses = {a.question: a.status for a in s.exec(select(Anticipation))
                    if a.question in ("plumber?", "teapot?")}
    changed = {i for i, was in before.items() if after[i].superseded_by != was}
    assert changed and all(after[i].sources.get("notes") == [home.id] or after[i].kind in (
        "profile",) for i in changed)
    assert statuses == {"plumber?": "stale", "teapot?": "ready"}
    texts = {m.text for m in repo.list(kind="fact")}
    assert "The plumber is Luc Blanc." in texts and "The plumber is Marc Petit." not in texts
    stored = app.notes.get(home.id or 0)
    assert stored is not None and stored.consolidated_hash == stored.content_hash


def test_profile_is_bounded_and_sorted() -> None:
    def m(i: int, text: str, **kw: object) -> Memory:
        return Memory(id=i, text=text, confidence=0.6, updated_at=T0,
                      **kw)  # type: ignore[arg-type]

    facts = [m(i, f"Fact number {i} about the person and a long tail of words") for i in
             range(40)]
    facts += [m(100, "Dentist on 24 November at 10:30"), m(101, "Pinned thing", pinned=True)]
    count = FakeEngine().count_tokens
    block = build_profile(facts, 60, count)
    assert count(block) <= 60
    lines = block.split("\n")
    assert lines[0] == ABOUT and lines[1] == "- Pinned thing." and ONGOING in lines
    assert "- Dentist on 24 November at 10:30." in lines
    assert build_profile([], 60, count) == ""


def test_a_big_backlog_warms_the_answer_prefix_first(app: Reverie,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """After a big import the backlog takes days: the prefix answers use meanwhile is warmed
    before any digest, so answers are fast from the first session on."""
    monkeypatch.setattr(profile_work, "BIG_BACKLOG_MESSAGES", 4)
    fake = engine()
    for day in range(3):
        conv = app.chats.create_conversation(f"Day {day}").id or 0
        app.chats.add_message(conv, "user", f"Note for day {day}: water the plants.",
                              created_at=T0 + timedelta(days=day))
        app.chats.add_message(conv, "assistant", "Noted.",
                              created_at=T0 + timedelta(days=day, seconds=5))
    report = app.sleep_runner(fake).run_session(budget_seconds=None)
    assert report.stopped_because == "done"
    with app.db.session() as s:
        kinds = [i.kind for i in s.exec(select(WorkItem).where(WorkItem.state == "done")
                                        .order_by(col(WorkItem.updated_at), col(WorkItem.id)))]
    assert kinds[0] == profile_work.WARM_KIND
    # Once the backlog is digested the rebuilt profile's prefix is warmed again, last.
    assert kinds.count(profile_work.WARM_KIND) == 2 and kinds[-1] == profile_work.WARM_KIND
    assert len(fake.warm_prefixes) == 2


def test_a_small_backlog_warms_only_after_digesting(app: Reverie) -> None:
    fake = engine()
    chat(app)
    app.sleep_runner(fake).run_session()
    with app.db.session() as s:
        warmed = s.exec(select(WorkItem).where(WorkItem.kind == profile_work.WARM_KIND)).all()
    assert len(warmed) == 1 and len(fake.warm_prefixes) == 1
