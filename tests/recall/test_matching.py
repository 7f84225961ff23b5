"""Matching typed questions to prepared ones: strict, calibrated, never stale or expired."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from assistant.recall.matching import (
    DEFAULT_THRESHOLD,
    AnticipationMatcher,
    calibrate,
    content_words,
    load_pairs,
    question_type,
    rates,
    similarity,
)
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


def test_the_kind_of_answer_must_agree() -> None:
    assert question_type("When is my dentist appointment?") == "time"
    assert question_type("what time does it leave") == "time"
    assert question_type("Who is my dentist?") == "person"
    assert question_type("How much is the rent?") == "amount"
    assert question_type("lisbon hotel name") is None
    assert similarity("Who is my dentist?", "When is my dentist appointment?") == 0.0
    assert similarity("when's the dentist appointment", "When is my dentist appointment?") > 0.9


def test_content_words_ignore_filler_and_fold_forms() -> None:
    assert content_words("What's the deadline for Heron?") == ["deadline", "heron"]
    assert content_words("When is Heron due?") == ["heron", "deadline"]
    assert content_words("I phone my mum") == ["call", "mother"]


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
