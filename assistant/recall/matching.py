"""Does a question the person typed ask what a prepared (anticipated) question asked?

By meaning (`meaning_score`): the kind of answer asked for must agree and the two
questions must not be about different named people or things (`text.questions`), then
the embedding cosine of the two questions and their word match
(`text.similarity.question_match`) are mixed by `MatchRule.weight` and compared with
`MatchRule.threshold`. The rule is calibrated on the calibration half of the paraphrase
set (``resources/bench/paraphrases_calibration.json``: rephrasings and near-misses) so
that at most 2% of near-misses match, and reported on the held-out half
(`calibrate_rule`, ``reverie bench match``, ``docs/bench/match.json``).
`AnticipationMatcher` applies it to the ready, unexpired prepared questions, whose
vectors are stored in ``anticipation.vector`` so a lookup embeds only the typed question.
Without an embedder the word rule alone decides (`DEFAULT_THRESHOLD`, calibrated on
``resources/bench/paraphrases.json`` by `calibrate`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import text

from assistant.llm.embedding import Embedder, from_blob, to_blob
from assistant.llm.engine import EngineError
from assistant.store.db import Database
from assistant.store.fts import fts_query
from assistant.store.models import Anticipation, utcnow
from assistant.text.questions import kinds_agree, names_agree, tenses_agree
from assistant.text.similarity import (
    SAME_QUESTION_THRESHOLD,
    UNIFORM,
    WordWeights,
    question_match,
    question_words,
)

log = logging.getLogger("assistant.recall")

#: The word-only matcher's threshold (calibrated; see `SAME_QUESTION_THRESHOLD`).
DEFAULT_THRESHOLD = SAME_QUESTION_THRESHOLD
#: The highest share of near-misses the meaning rule may match on the calibration half.
MAX_FALSE_RATE = 0.02


@dataclass(frozen=True)
class MatchRule:
    """How to decide a match by meaning: ``weight`` is the share of the embedding cosine
    in the score (the rest is the word match); ``threshold`` the score needed."""

    weight: float
    threshold: float


#: Calibrated by `calibrate_rule` on paraphrases_calibration.json (docs/bench/match.json;
#: tests/recall/test_matching_meaning.py checks it is what calibration gives).
MATCH_RULE = MatchRule(weight=0.15, threshold=0.656)


def meaning_score(asked: str, prepared: str, cosine: float, weight: float,
                  weights: WordWeights = UNIFORM) -> float:
    """0..1: how surely ``asked`` asks what ``prepared`` asked, given the cosine of their
    vectors; 0 when they want different kinds of answer, name different people or ask
    about different times (past against now or later)."""
    if not (kinds_agree(asked, prepared) and names_agree(asked, prepared)
            and tenses_agree(asked, prepared)):
        return 0.0
    word = question_match(asked, prepared, weights)
    return max(0.0, weight * cosine + (1.0 - weight) * word)


@dataclass(frozen=True)
class RuleCalibration:
    rule: MatchRule
    hit_rate: float
    false_match_rate: float
    pairs: int


def _pair_cosines(pairs: Sequence[tuple[str, str, bool]], embedder: Embedder) -> np.ndarray:
    asked = np.asarray(embedder.embed([a for a, _, _ in pairs]), dtype=np.float32)
    prepared = np.asarray(embedder.embed([p for _, p, _ in pairs]), dtype=np.float32)
    norms = np.linalg.norm(asked, axis=1) * np.linalg.norm(prepared, axis=1)
    return np.asarray((asked * prepared).sum(axis=1) / np.where(norms == 0, 1.0, norms))


def _scores(pairs: Sequence[tuple[str, str, bool]], cosines: np.ndarray,
            weight: float) -> list[float]:
    return [meaning_score(a, p, float(c), weight) for (a, p, _), c in zip(pairs, cosines,
                                                                         strict=True)]


def _rates_of(pairs: Sequence[tuple[str, str, bool]], scores: Sequence[float],
              threshold: float) -> tuple[float, float]:
    true = [s >= threshold for s, (_, _, same) in zip(scores, pairs, strict=True) if same]
    false = [s >= threshold for s, (_, _, same) in zip(scores, pairs, strict=True) if not same]
    return (sum(true) / max(1, len(true)), sum(false) / max(1, len(false)))


def rule_rates(pairs: Sequence[tuple[str, str, bool]], embedder: Embedder,
               rule: MatchRule = MATCH_RULE) -> tuple[float, float]:
    """(share of rephrasings matched, share of near-misses matched) under ``rule``."""
    scores = _scores(pairs, _pair_cosines(pairs, embedder), rule.weight)
    return _rates_of(pairs, scores, rule.threshold)


def calibrate_rule(pairs: Sequence[tuple[str, str, bool]], embedder: Embedder,
                   max_false_rate: float = MAX_FALSE_RATE) -> RuleCalibration:
    """The weight (0, 0.05, ... 1) and lowest threshold that match the most rephrasings
    while at most ``max_false_rate`` of the near-misses match."""
    cosines = _pair_cosines(pairs, embedder)
    best = RuleCalibration(MatchRule(0.0, 1.01), 0.0, 0.0, len(pairs))
    for step in range(21):
        weight = step / 20
        scores = _scores(pairs, cosines, weight)
        for threshold in sorted({round(s, 3) for s in scores if s > 0} | {1.0}):
            hit, false = _rates_of(pairs, scores, threshold)
            if false <= max_false_rate:
                if hit > best.hit_rate:
                    best = RuleCalibration(MatchRule(weight, threshold), hit, false,
                                           len(pairs))
                break
    return best


@dataclass(frozen=True)
class Calibration:
    threshold: float
    hit_rate: float
    false_match_rate: float
    pairs: int


def load_pairs(path: Path) -> list[tuple[str, str, bool]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [(p["asked"], p["prepared"], bool(p["match"])) for p in data["pairs"]]


def rates(pairs: Sequence[tuple[str, str, bool]], threshold: float,
          weights: WordWeights = UNIFORM) -> tuple[float, float]:
    """(share of true pairs matched, share of near-miss pairs matched) at ``threshold``."""
    true = [question_match(a, p, weights) >= threshold for a, p, same in pairs if same]
    false = [question_match(a, p, weights) >= threshold for a, p, same in pairs if not same]
    return (sum(true) / max(1, len(true)), sum(false) / max(1, len(false)))


def calibrate(pairs: Sequence[tuple[str, str, bool]], max_false_rate: float = 0.05,
              weights: WordWeights = UNIFORM) -> Calibration:
    """The lowest threshold whose false-match rate stays within ``max_false_rate``."""
    candidates = sorted({round(question_match(a, p, weights), 3) for a, p, _ in pairs} | {1.0})
    for threshold in candidates:
        hit, false = rates(pairs, threshold, weights)
        if false <= max_false_rate:
            return Calibration(threshold, hit, false, len(pairs))
    return Calibration(1.01, 0.0, 0.0, len(pairs))


@dataclass(frozen=True)
class Match:
    anticipation_id: int
    question: str
    score: float


class AnticipationMatcher:
    """Finds the ready, unexpired prepared answer for a question, if one truly matches:
    by meaning (`MATCH_RULE`) when an embedder is given, by words otherwise."""

    def __init__(self, db: Database, threshold: float = DEFAULT_THRESHOLD,
                 candidates: int = 20, *, embedder: Embedder | None = None,
                 rule: MatchRule = MATCH_RULE) -> None:
        self._db = db
        self.threshold = threshold
        self._candidates = candidates
        self._embedder = embedder
        self.rule = rule

    def best(self, question: str, now: datetime | None = None) -> Match | None:
        """The best match above the threshold; stale, used-up or expired rows never match."""
        if self._embedder is not None:
            try:
                return self._best_by_meaning(question, self._embedder, now or utcnow())
            except EngineError as exc:
                log.warning("prepared answers matched by words (%s)", exc)
        return self._best_by_words(question, now or utcnow())

    def _best_by_words(self, question: str, when: datetime) -> Match | None:
        match = fts_query(" ".join(question_words(question)) or question)
        if not match:
            return None
        with self._db.session() as s:
            rows = list(s.connection().execute(text(
                "SELECT a.id, a.question, a.expires_at FROM anticipation_fts f "
                "JOIN anticipation a ON a.id = f.rowid "
                "WHERE anticipation_fts MATCH :q AND a.status IN ('ready', 'used') "
                "ORDER BY bm25(anticipation_fts) LIMIT :n"),
                {"q": match, "n": self._candidates}))
            pool = [q for (q,) in s.connection().execute(text(
                "SELECT question FROM anticipation WHERE status IN ('ready', 'used')"))]
        weights = WordWeights.from_questions(pool)
        best: Match | None = None
        for ident, prepared, expires in rows:
            if expires is not None and _aware(expires) <= when:
                continue
            score = question_match(question, prepared, weights)
            if score >= self.threshold and (best is None or score > best.score):
                best = Match(int(ident), str(prepared), score)
        return best

    def _best_by_meaning(self, question: str, embedder: Embedder,
                         when: datetime) -> Match | None:
        with self._db.session() as s:
            rows = [(int(i), str(q), e, v) for i, q, e, v in s.connection().execute(text(
                "SELECT id, question, expires_at, vector FROM anticipation "
                "WHERE status IN ('ready', 'used')"))]
        live = [r for r in rows if r[2] is None or _aware(r[2]) > when]
        if not live:
            return None
        vectors = self._vectors(live, embedder)
        query = np.asarray(embedder.embed([question])[0], dtype=np.float32)
        weights = WordWeights.from_questions(q for _, q, _, _ in rows)
        best: Match | None = None
        for (ident, prepared, _, _), vector in zip(live, vectors, strict=True):
            cosine = _cosine(query, vector)
            score = meaning_score(question, prepared, cosine, self.rule.weight, weights)
            if score >= self.rule.threshold and (best is None or score > best.score):
                best = Match(ident, prepared, score)
        return best

    def _vectors(self, rows: list[tuple[int, str, object, bytes | None]],
                 embedder: Embedder) -> list[np.ndarray]:
        """The stored vector of each prepared question; missing ones are made once and
        stored (unless the profile is read-only)."""
        missing = [(i, q) for i, q, _, v in rows if v is None]
        made: dict[int, np.ndarray] = {}
        if missing:
            fresh = embedder.embed([q for _, q in missing])
            made = {i: np.asarray(v, dtype=np.float32) for (i, _), v in zip(missing, fresh,
                                                                           strict=True)}
            if not self._db.read_only:
                with self._db.write() as s:
                    for ident, vector in made.items():
                        row = s.get(Anticipation, ident)
                        if row is not None and row.vector is None:
                            row.vector = to_blob(vector.tolist())
                            s.add(row)
        return [made[i] if v is None else from_blob(v) for i, _, _, v in rows]


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    if a.shape != b.shape:
        return 0.0
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b) / norm if norm else 0.0


def _aware(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
