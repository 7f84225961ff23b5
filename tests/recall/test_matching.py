"""Matching typed questions to prepared ones in the database: calibrated, never stale or
expired. The rule itself (`text.similarity.question_match`) is tested in tests/text."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from assistant.recall.matching import (
    DEFAULT_THRESHOLD,
    AnticipationMatcher,
    calibrate,
    load_pairs,
    rates,
)
from assistant.recall.prepared import MAX_TRIES, PreparedAnswers, only_repeats
from assistant.resources import resource
from assistant.store.db import Database
from assistant.store.models import Anticipation, utcnow
from assistant.store.notes import NoteRepository

PAIRS = load_pairs(resource("bench", "paraphrases.json"))


def test_the_shipped_threshold_holds_on_the_paraphrase_fixture() -> None:
    hit, false = rates(PAIRS, DEFAULT_THRESHOLD)
    assert false <= 0.05
    assert hit >= 0.65
    calibrated = calibrate(PAIRS)
    assert calibrated.false_match_rate <= 0.05
    assert calibrated.threshold <= DEFAULT_THRESHOLD  # the default keeps a margin


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return Database.open(tmp_path / "r.db", tmp_path / "b")


def _prepare(db: Database, question: str, **fields: object) -> int:
    with db.write() as s:
        row = Anticipation(question=question, answer="prepared", **fields)
        s.add(row)
        s.flush()
        assert row.id is not None
        return row.id


def test_best_match_picks_the_right_prepared_question(db: Database) -> None:
    dentist = _prepare(db, "When is my dentist appointment?")
    _prepare(db, "When is Pixel's vet appointment?")
    _prepare(db, "What time does our flight to Lisbon leave?")
    matcher = AnticipationMatcher(db)
    found = matcher.best("what time is my dentist appointment")
    assert found is not None and found.anticipation_id == dentist
    assert matcher.best("Who is my dentist?") is None
    assert matcher.best("What is the capital of France?") is None
    assert matcher.best("?!") is None


def test_stale_and_expired_answers_are_never_served(db: Database) -> None:
    note = NoteRepository(db).add("Trip", "Hotel: Casa do Barão")
    stale = _prepare(db, "Which hotel are we staying at in Lisbon?",
                     sources={"notes": [note.id or 0]})
    matcher = AnticipationMatcher(db)
    assert matcher.best("Which hotel are we staying at in Lisbon?") is not None
    NoteRepository(db).update(note.id or 0, body="Hotel: Lumen")  # the source changed
    assert matcher.best("Which hotel are we staying at in Lisbon?") is None
    with db.session() as s:
        row = s.get(Anticipation, stale)
        assert row is not None and row.status == "stale"

    _prepare(db, "When is the half marathon?", expires_at=utcnow() - timedelta(hours=1))
    assert matcher.best("When is the half marathon?") is None
    later = _prepare(db, "When is the book club?", expires_at=utcnow() + timedelta(days=1))
    found = matcher.best("When is the book club?")
    assert found is not None and found.anticipation_id == later


def test_an_answer_that_only_repeats_the_question_is_never_served(db: Database) -> None:
    """A prepared answer naming only what the asked question already names ("Owen" to
    "What does Owen take for his hay fever?") answers some other question."""
    with db.write() as s:
        s.add(Anticipation(question="What does Owen take for hay fever?", answer="Owen",
                           status="ready"))
        s.add(Anticipation(question="Are we still going to Snowdonia?", answer="No.",
                           status="ready"))
    prepared = PreparedAnswers(db)
    assert AnticipationMatcher(db).best("What does Owen take for his hay fever?") is not None
    assert prepared.lookup("What does Owen take for his hay fever?") is None
    assert only_repeats("Owen", "What does Owen take for his hay fever?")
    assert not only_repeats("Cetirizine", "What does Owen take for his hay fever?")
    found = prepared.lookup("Are we still going to Snowdonia?")
    assert found is not None and found.answer == "No."  # nothing but small words: served


def test_an_answer_that_only_repeats_the_question_gives_way_to_the_next_match(
        db: Database) -> None:
    with db.write() as s:
        owen = Anticipation(question="What does Owen take for his hay fever?",
                            answer="Owen", status="ready")
        s.add(owen)
        s.add(Anticipation(question="What does Owen take for hay fever?",
                           answer="Cetirizine", status="ready"))
        s.flush()
        owen_id = owen.id
    matcher = AnticipationMatcher(db)
    first = matcher.best("What does Owen take for his hay fever?")
    assert first is not None and first.anticipation_id == owen_id  # the better match
    second = matcher.best("What does Owen take for his hay fever?",
                          exclude={first.anticipation_id})
    assert second is not None and second.anticipation_id != first.anticipation_id
    assert matcher.best("What does Owen take for his hay fever?",
                        exclude={first.anticipation_id, second.anticipation_id}) is None
    found = PreparedAnswers(db).lookup("What does Owen take for his hay fever?")
    assert found is not None and found.answer == "Cetirizine"


def test_a_lookup_tries_a_bounded_number_of_matches(db: Database) -> None:
    with db.write() as s:
        for n in range(MAX_TRIES + 2):
            s.add(Anticipation(question=f"What does Owen take for hay fever {n}?",
                               answer="Owen", status="ready"))
    calls: list[int] = []
    matcher = AnticipationMatcher(db)
    real = matcher.best

    def counted(question: str, now: object = None, *, exclude: object = ()) -> object:
        calls.append(1)
        return real(question, exclude=exclude)  # type: ignore[arg-type]

    matcher.best = counted  # type: ignore[method-assign,assignment]
    assert PreparedAnswers(db, matcher).lookup("What does Owen take for hay fever?") is None
    assert len(calls) == MAX_TRIES


def test_one_word_of_a_choice_is_its_answer(db: Database) -> None:
    """"Saturday" is said by "Is the party on Saturday or Sunday?", yet it is that
    question's own answer: no other question's "Yes." is served instead."""
    with db.write() as s:
        s.add(Anticipation(question="Is the party on Saturday or Sunday?", answer="Saturday",
                           status="ready"))
        s.add(Anticipation(question="Is the party on Saturday?", answer="Yes.",
                           status="ready"))
    found = PreparedAnswers(db).lookup("Is the party on Saturday or Sunday?")
    assert found is not None and found.answer == "Saturday"
    assert not only_repeats("Saturday", "Is the party on Saturday or Sunday?")
    found = PreparedAnswers(db).lookup("Is the party on Saturday?")
    assert found is not None and found.answer == "Yes."
