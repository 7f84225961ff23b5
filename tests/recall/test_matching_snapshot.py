"""Prepared-answer lookup at scale: the in-memory snapshot and its bounds choose exactly
what scoring every servable prepared question would, and the snapshot never outlives a
change to the table (whichever connection made it)."""

from __future__ import annotations

import random
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from assistant.bench import synth
from assistant.recall.matching import AnticipationMatcher, Match
from assistant.store.anticipations import servable_by_key
from assistant.store.db import Database
from assistant.store.models import Anticipation, utcnow
from assistant.text.questions import question_key
from assistant.text.similarity import WordWeights, question_match

SPEC = synth.SynthSpec(2000, 15, datetime(2026, 11, 28, tzinfo=UTC))


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return Database.open(tmp_path / "r.db", tmp_path / "b")


def _fill(db: Database, count: int) -> None:
    rng = random.Random(3)
    with db.write() as s:
        for i, (question, answer) in enumerate(synth.anticipations(SPEC, count)):
            status = "used" if i % 7 == 0 else "stale" if i % 11 == 0 else "ready"
            expires = utcnow() - timedelta(days=1) if rng.random() < 0.1 else None
            s.add(Anticipation(question=question, answer=answer, status=status,
                               expires_at=expires))


def _every_row(rows: list[tuple[int, str, str | None]], weights: WordWeights,
               question: str, threshold: float) -> Match | None:
    """The old way: score every ready or used prepared question, first best wins."""
    now = utcnow()
    best: Match | None = None
    for ident, prepared, expires in rows:
        if expires is not None and datetime.fromisoformat(expires).replace(tzinfo=UTC) <= now:
            continue
        score = question_match(question, prepared, weights)
        if score >= threshold and (best is None or score > best.score):
            best = Match(ident, prepared, score)
    return best


def test_bounds_never_change_the_answer(db: Database) -> None:
    _fill(db, 250)
    matcher = AnticipationMatcher(db)
    asked = synth.questions(SPEC, 40)
    with db.session() as s:
        con = s.connection()
        # and some asked exactly as prepared, in other letters
        asked += [q.upper() + "  ?" for (q,) in con.exec_driver_sql(
            "SELECT question FROM anticipation LIMIT 15")]
        rows = [(int(i), str(q), e) for i, q, e in con.exec_driver_sql(
            "SELECT id, question, expires_at FROM anticipation "
            "WHERE status IN ('ready', 'used')")]
    weights = WordWeights.from_questions(q for _, q, _ in rows)
    served = 0
    for question in asked:
        expected = _every_row(rows, weights, question, matcher.threshold)
        found = matcher.best(question)
        assert found == expected, question
        served += found is not None
    assert served >= 15


def test_a_change_from_another_connection_is_seen(db: Database) -> None:
    matcher = AnticipationMatcher(db)
    assert matcher.best("When is the book club?") is None
    with db.write() as s:
        row = Anticipation(question="When is the book club?", answer="Thursday")
        s.add(row)
        s.flush()
        ident = row.id
    found = matcher.best("when is the book club")
    assert found is not None and found.anticipation_id == ident
    con = sqlite3.connect(db.path)
    with con:
        con.execute("UPDATE anticipation SET status = 'dismissed' WHERE id = ?", (ident,))
    con.close()
    assert matcher.best("When is the book club?") is None


def test_question_key_is_stored_and_found_by_one_indexed_query(db: Database) -> None:
    with db.write() as s:
        kept = Anticipation(question="Where’s   the Dentist?", answer="Elm Road")
        gone = Anticipation(question="where's the dentist", answer="old", status="stale")
        late = Anticipation(question="WHERE'S THE DENTIST!", answer="x",
                            expires_at=utcnow() - timedelta(minutes=1))
        s.add_all([kept, gone, late])
        s.flush()
        kept_id = kept.id
    assert question_key("Where’s   the Dentist?") == "where's the dentist"
    with db.session() as s:
        con = s.connection()
        assert servable_by_key(con, "where's the dentist?", utcnow()) == [kept_id]
        plan = " ".join(str(r) for r in con.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT id FROM anticipation WHERE question_key = 'x'"))
        assert "ix_anticipation_question_key" in plan
    with db.write() as s:  # an edited question gets its key again
        row = s.get(Anticipation, kept_id)
        assert row is not None
        row.question = "Who is the dentist?"
        s.add(row)
    with db.session() as s:
        assert servable_by_key(s.connection(), "who is the dentist", utcnow()) == [kept_id]


def test_serving_an_answer_keeps_the_snapshot(db: Database) -> None:
    from assistant.recall.prepared import PreparedAnswers
    from assistant.store.fts import search_generation

    _fill(db, 30)
    prepared = PreparedAnswers(db)
    with db.session() as s:
        (question,) = s.connection().exec_driver_sql(
            "SELECT question FROM anticipation WHERE status = 'ready' LIMIT 1").one()
    found = prepared.lookup(question)
    assert found is not None
    with db.session() as s:
        before = search_generation(s.connection(), "anticipation")
    prepared.record_hit(found.anticipation_id)  # ready -> used: still servable
    with db.session() as s:
        assert search_generation(s.connection(), "anticipation") == before
    prepared.record_miss(found.anticipation_id)  # dismissed: never served again
    with db.session() as s:
        assert search_generation(s.connection(), "anticipation") == before + 1
    again = prepared.lookup(question)
    assert again is None or again.anticipation_id != found.anticipation_id
