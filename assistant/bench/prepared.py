"""How well the answers prepared during sleep cover a fixture's questions.

`prepared_coverage` looks every fixture question up among a profile's prepared answers
the way ``ask`` in auto mode does (`PreparedAnswers.lookup`, by words alone or by
meaning with an embedder) and scores what would be served: right (an ``accept`` value
and no superseded one), a false serve (served but wrong: it answers another question),
or stale (it quotes a value the fixture marks superseded). Hit rates are split by
``predictable`` and by id parity: odd ids calibrate, even ids are held out
(`CALIBRATION_PARITY`, as in `assistant.bench.sleep`). It needs no model, so it runs on
a profile kept from a sleep (`slept_fixture_profile(data_dir=...)`) as often as wanted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import select

from assistant.bench.sleep import CALIBRATION_PARITY, correct, stale
from assistant.llm.embedding import Embedder
from assistant.recall.matching import (
    MATCH_RULE,
    MAX_FALSE_RATE,
    AnticipationMatcher,
    MatchRule,
    calibrate_rule,
    load_pairs,
)
from assistant.recall.prepared import PreparedAnswers
from assistant.store.anticipations import ACTIVE
from assistant.store.db import Database
from assistant.store.models import Anticipation


@dataclass(frozen=True)
class Served:
    """What auto mode would serve for one fixture question (``matched`` empty: nothing)."""

    id: int
    question: str
    predictable: bool
    matched: str = ""
    answer: str = ""
    right: bool = False
    stale: bool = False

    @property
    def served(self) -> bool:
        return bool(self.matched)


def _rate(rows: Iterable[Served]) -> float | None:
    rows = list(rows)
    return round(sum(r.served and r.right for r in rows) / len(rows), 3) if rows else None


@dataclass
class Coverage:
    """Prepared answers against one fixture's questions, looked up one way."""

    prepared: int
    rows: list[Served] = field(default_factory=list)

    def hit_rate(self, predictable: bool, parity: int | None = None) -> float | None:
        """Share of the (``predictable``) questions served a right prepared answer; only
        the ids of ``parity`` (1 odd, 0 even) when given."""
        return _rate(r for r in self.rows if r.predictable is predictable
                     and (parity is None or r.id % 2 == parity))

    @property
    def false_serves(self) -> int:
        return sum(r.served and not r.right for r in self.rows)

    @property
    def stale_served(self) -> int:
        return sum(r.served and r.stale for r in self.rows)

    def to_json(self) -> dict[str, Any]:
        held = 1 - CALIBRATION_PARITY
        return {
            "prepared": self.prepared,
            "questions": len(self.rows),
            "served": sum(r.served for r in self.rows),
            "hit_rate_predictable": self.hit_rate(True),
            "hit_rate_unpredictable": self.hit_rate(False),
            "calibration": {"hit_rate_predictable": self.hit_rate(True, CALIBRATION_PARITY),
                            "hit_rate_unpredictable": self.hit_rate(False,
                                                                    CALIBRATION_PARITY)},
            "heldout": {"hit_rate_predictable": self.hit_rate(True, held),
                        "hit_rate_unpredictable": self.hit_rate(False, held)},
            "false_serves": self.false_serves,
            "false_serves_rate": round(self.false_serves / max(1, len(self.rows)), 3),
            "stale_served": self.stale_served,
            "served_rows": [vars(r) for r in self.rows if r.served],
        }


def prepared_coverage(db: Database, questions: list[dict[str, Any]],
                      embedder: Embedder | None = None,
                      rule: MatchRule = MATCH_RULE) -> Coverage:
    """Each question looked up as auto mode would (nothing is recorded as a hit), by
    meaning under ``rule`` when an ``embedder`` is given."""
    with db.session() as s:
        prepared = len(s.exec(select(Anticipation.id).where(
            Anticipation.status.in_(ACTIVE))).all())  # type: ignore[attr-defined]
    lookup = PreparedAnswers(db, AnticipationMatcher(db, embedder=embedder, rule=rule))
    result = Coverage(prepared)
    for q in questions:
        found = lookup.lookup(q["question"])
        superseded = list(q.get("superseded", []))
        if found is None:
            result.rows.append(Served(int(q["id"]), q["question"], bool(q["predictable"])))
            continue
        right = q.get("answerable", True) is not False and correct(
            found.answer, q["accept"], superseded)
        result.rows.append(Served(int(q["id"]), q["question"], bool(q["predictable"]),
                                  found.question, found.answer, right,
                                  stale(found.answer, superseded)))
    return result


def stale_prepared(db: Database, questions: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Servable prepared answers that quote a value the fixture marks superseded,
    whatever question they answer (to read: a superseded "Monday" may be right for
    another question)."""
    values = {v.lower() for q in questions for v in q.get("superseded", [])}
    with db.session() as s:
        rows = s.exec(select(Anticipation).where(
            Anticipation.status.in_(ACTIVE))).all()  # type: ignore[attr-defined]
    return [{"question": a.question, "answer": a.answer, "value": v}
            for a in rows for v in sorted(values) if v in a.answer.lower()]


def measure_profile(data_dir: Path, fixture: str) -> dict[str, Any]:
    """`prepared_coverage` of a profile kept from a sleep on ``fixture``
    (`slept_fixture_profile(data_dir=...)`), looked up by words and by meaning."""
    from assistant.app import Reverie
    from assistant.bench.recall import fixture_dir, load_questions

    questions = load_questions(fixture_dir(fixture) / "questions.json")["questions"]
    app = Reverie.open(data_dir)
    try:
        return {"fixture": fixture,
                "by_words": prepared_coverage(app.db, questions).to_json(),
                "by_meaning": prepared_coverage(app.db, questions, app.embedder()).to_json(),
                "stale_prepared": stale_prepared(app.db, questions)}
    finally:
        app.close()


#: The topic shares `topic_share_sweep` tries by default.
TOPIC_SHARES = (0.0, 0.25, 0.34, 0.5, 0.67)


def topic_share_sweep(data_dir: Path, fixture: str,
                      shares: Sequence[float] = TOPIC_SHARES) -> dict[str, Any]:
    """How `MatchRule.min_topic_share` trades prepared answers served right against
    false serves on a slept profile: for each share, the rule is calibrated on the
    calibration half of the paraphrases with that share (`calibrate_rule`), then every
    fixture question is looked up under it. Per half of the questions (odd ids
    calibrate, even ids are held out): the predictable hit rate and the false serves.
    The share is chosen on the calibration half: the lowest whose false serves stay
    within `MAX_FALSE_RATE` of its questions (none: the highest tried)."""
    from assistant.app import Reverie
    from assistant.bench.match import paraphrase_contexts
    from assistant.bench.recall import fixture_dir, load_questions
    from assistant.resources import resource

    questions = load_questions(fixture_dir(fixture) / "questions.json")["questions"]
    calibration = load_pairs(resource("bench") / "paraphrases_calibration.json")
    contexts = paraphrase_contexts("paraphrases_calibration.json",
                                   "paraphrases_heldout.json").contexts
    halves = {"calibration": CALIBRATION_PARITY, "heldout": 1 - CALIBRATION_PARITY}
    app = Reverie.open(data_dir)
    try:
        embedder = app.embedder()
        if embedder is None:
            raise RuntimeError("the topic share sweep needs the search embedder")
        rows: list[dict[str, Any]] = []
        for share in shares:
            rule = calibrate_rule(calibration, embedder, contexts=contexts,
                                  min_topic_share=share).rule
            coverage = prepared_coverage(app.db, questions, embedder, rule)
            row: dict[str, Any] = {"min_topic_share": share, "rule": vars(rule)}
            for half, parity in halves.items():
                asked = [r for r in coverage.rows if r.id % 2 == parity]
                false = sum(r.served and not r.right for r in asked)
                row[half] = {"questions": len(asked), "false_serves": false,
                             "false_serves_rate": round(false / max(1, len(asked)), 3),
                             "hit_rate_predictable": coverage.hit_rate(True, parity)}
            rows.append(row)
    finally:
        app.close()
    within = [r for r in rows if r["calibration"]["false_serves_rate"] <= MAX_FALSE_RATE]
    chosen = within[0] if within else rows[-1]
    return {"fixture": fixture, "shares": rows, "chosen": chosen["min_topic_share"],
            "chosen_heldout": chosen["heldout"], "max_false_rate": MAX_FALSE_RATE}
