"""Does a question the person typed ask what a prepared (anticipated) question asked?

The rule is `assistant.text.similarity.question_match` (strict: the kind of answer must
agree and the topic words must overlap strongly, weighted so that words shared by many
prepared questions count less). Here it meets the database: `AnticipationMatcher`
finds the ready, unexpired prepared question that matches, and `calibrate` recomputes
the threshold on a fixture of paraphrases and near-misses
(``resources/bench/paraphrases.json``) to keep false matches at or below 5%.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from assistant.store.db import Database
from assistant.store.fts import fts_query
from assistant.store.models import utcnow
from assistant.text.similarity import (
    SAME_QUESTION_THRESHOLD,
    UNIFORM,
    WordWeights,
    question_match,
    question_words,
)

#: The matcher's default threshold (calibrated; see `SAME_QUESTION_THRESHOLD`).
DEFAULT_THRESHOLD = SAME_QUESTION_THRESHOLD


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
    """Finds the ready, unexpired prepared answer for a question, if one truly matches."""

    def __init__(self, db: Database, threshold: float = DEFAULT_THRESHOLD,
                 candidates: int = 20) -> None:
        self._db = db
        self.threshold = threshold
        self._candidates = candidates

    def best(self, question: str, now: datetime | None = None) -> Match | None:
        """The best match above the threshold; stale, used-up or expired rows never match."""
        match = fts_query(" ".join(question_words(question)) or question)
        if not match:
            return None
        when = now or utcnow()
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


def _aware(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
