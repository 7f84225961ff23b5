"""Anticipation on the FakeEngine: questions, votes, expiry, learning, recompute on change."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from assistant.app import Reverie
from assistant.llm.fake import FakeEngine
from assistant.mind.anticipate import (
    anticipation_kind,
    explain_weights,
    kind_weights,
    parse_questions,
    predictability,
    vote,
)
from assistant.recall.prepared import PreparedAnswers
from assistant.store.models import Anticipation
from assistant.store.notes import NoteRepository

TODAY = date(2026, 11, 22)


def test_kinds() -> None:
    assert anticipation_kind("Dentist on 24 November", TODAY) == "dated"
    assert anticipation_kind("I call her every Sunday evening", TODAY) == "dated"
    assert anticipation_kind("Open tasks: write the guide", TODAY) == "task"
    assert anticipation_kind("My laptop is a ThinkPad", TODAY) == "topic"


def test_garbled_question_lines_are_dropped() -> None:
    raw = ("\n1. When is my dentist appointment?\nthis is not a question\n"
           "- When is my dentist appointment?\nWho?\nWho is my dentist?\n\nText: more")
    assert parse_questions(raw) == ["When is my dentist appointment?", "Who is my dentist?"]
    assert parse_questions("") == []


def test_vote_keeps_the_answer_the_samples_agree_on() -> None:
    answer, share = vote(["It is at 10:30 on Tuesday.", "Tuesday at 10:30.",
                          "The cat is called Pixel."])
    assert "10:30" in answer and share == pytest.approx(2 / 3)
    assert vote(["", "", ""]) == ("", 0.0)


def test_predictability_rises_with_earlier_similar_questions() -> None:
    assert predictability(-2.0, 0) == pytest.approx(0.1353, abs=1e-3)
    assert predictability(-2.0, 2) > predictability(-2.0, 0)
    assert predictability(0.0, 5) == 1.0


def _engine(when: str) -> FakeEngine:
    return FakeEngine(rules=[
        ("Question: When is my dentist appointment?", f"On {when} at 10:30."),
        ("Question: Who is my dentist?", "Dr. Okafor."),
        ("Question: Which hotel", "Casa do Barão."),
        ("Hotel", "Which hotel are we staying at in Lisbon?"),
        ("dentist", "When is my dentist appointment?\nWho is my dentist?"),
    ])


def test_a_session_prepares_answers_that_are_served_and_learned_from(
        app: Reverie) -> None:
    when = (date.today() + timedelta(days=3)).strftime("%d %B").lstrip("0")
    engine = _engine(when)
    conv = app.chats.create_conversation("Dentist")
    app.chats.add_message(conv.id or 0, "user",
                          f"I booked the dentist for {when} at 10:30 with Dr. Okafor.")
    report = app.sleep_runner(engine).run_session()
    with app.db.session() as s:
        rows = list(s.exec(select(Anticipation)))
    assert report.counters.anticipations_made == len(rows)
    # The model's two questions, and the fact's own (its values, no model call).
    assert {r.question for r in rows if "memories" not in r.sources} == {
        "When is my dentist appointment?", "Who is my dentist?"}
    from_fact = {r.question: r.answer for r in rows if "memories" in r.sources}
    assert from_fact["Who did I book the dentist with?"] == "Dr. Okafor"
    assert any(a.startswith(when) and "10:30" in a for a in from_fact.values())
    dentist = next(r for r in rows if r.question == "When is my dentist appointment?")
    assert dentist.kind == "dated" and dentist.status == "ready"
    assert dentist.answer == f"On {when} at 10:30."
    assert dentist.sources["messages"]
    assert dentist.expires_at is not None
    assert dentist.expires_at.date() > date.today()
    assert dentist.prompt_tokens > 0 and dentist.predictability > 0

    again = app.sleep_runner(engine).run_session()
    assert again.items_done == 0 or again.counters.anticipations_made == 0

    prepared = PreparedAnswers(app.db)
    found = prepared.lookup("when is my dentist appointment")
    assert found is not None and found.answer == dentist.answer
    prepared.record_hit(found.anticipation_id)
    assert prepared.lookup("When is my dentist appointment?") is not None  # used, still valid
    assert kind_weights(app.db)["dated"] > 0.5
    prepared.record_miss(found.anticipation_id)
    assert prepared.lookup("When is my dentist appointment?") is None  # dismissed
    assert "hit rate" in explain_weights(kind_weights(app.db))


def test_an_edited_note_is_recomputed_and_its_stale_answer_dropped(app: Reverie) -> None:
    engine = _engine("1 January")
    notes = NoteRepository(app.db)
    note = notes.add("Lisbon trip", "Hotel: Casa do Barão, check-in on the 12th.")
    first = app.sleep_runner(engine).run_session()
    prepared = PreparedAnswers(app.db)
    assert prepared.lookup("Which hotel are we staying at in Lisbon?") is not None
    assert prepared.lookup("What is my hotel?").answer.startswith(  # type: ignore[union-attr]
        "Casa do Barão")  # the note's line as a fact: its value, no model

    notes.update(note.id or 0, body="Hotel: Lumen, check-in on the 12th.")
    assert prepared.lookup("Which hotel are we staying at in Lisbon?") is None  # stale now
    assert prepared.lookup("What is my hotel?") is None
    engine.rules.insert(0, ("Question: Which hotel", "Hotel Lumen."))
    report = app.sleep_runner(engine).run_session()
    assert report.counters.anticipations_invalidated == first.counters.anticipations_made
    found = prepared.lookup("Which hotel are we staying at in Lisbon?")
    assert found is not None and found.answer == "Hotel Lumen."
    mine = prepared.lookup("What is my hotel?")
    assert mine is not None and mine.answer.startswith("Lumen")
    with app.db.session() as s:
        assert {a.status for a in s.exec(select(Anticipation))} == {"ready"}


def test_auto_mode_serves_the_prepared_answer_and_think_again_regenerates(
        app: Reverie) -> None:
    when = (date.today() + timedelta(days=3)).strftime("%d %B").lstrip("0")
    engine = _engine(when)
    conv = app.chats.create_conversation("Dentist")
    app.chats.add_message(conv.id or 0, "user",
                          f"I booked the dentist for {when} at 10:30 with Dr. Okafor.")
    app.sleep_runner(engine).run_session()
    responder = app.responder(engine)
    chat = app.chats.create_conversation("Now")
    pieces: list[str] = []
    answer = responder.ask("When is my dentist appointment?", chat.id or 0,
                           on_token=pieces.append)
    assert answer.source == "anticipated" and answer.anticipation_id is not None
    assert answer.prompt_tokens == 0 and answer.completion_tokens == 0
    assert "".join(pieces) == answer.answer == f"On {when} at 10:30."
    assert answer.ttft_ms < 1000
    stored = app.chats.messages(chat.id or 0)
    assert [(m.role, m.origin) for m in stored] == [("user", "typed"),
                                                   ("assistant", "anticipated")]

    generated = responder.ask("When is my dentist appointment?", chat.id or 0,
                              use_prepared=False)
    assert generated.source == "generated"

    again = responder.think_again("When is my dentist appointment?", chat.id or 0)
    assert again.source == "generated" and again.mode == "memory"
    assert responder.ask("When is my dentist appointment?", chat.id or 0).source == "generated"
    with app.db.session() as s:
        row = s.get(Anticipation, answer.anticipation_id)
        assert row is not None and row.status == "dismissed" and row.misses == 1
