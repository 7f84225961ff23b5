"""Serving answers prepared while the person was away, and learning from how they land.

A served prepared answer counts a hit (status ``used``: still valid, still servable);
"think again" counts a miss and dismisses it for good, so the planner learns which
kinds of anticipation are worth the thinking time (see ``mind.anticipate``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from assistant.llm.embedding import Embedder
from assistant.recall.matching import AnticipationMatcher
from assistant.store.db import Database
from assistant.store.models import Anticipation, AnticipationStatus
from assistant.text.words import meaning_words


@dataclass(frozen=True)
class Prepared:
    anticipation_id: int
    question: str
    answer: str
    score: float
    sources: dict[str, list[int]]
    lookup_ms: float


def only_repeats(answer: str, question: str) -> bool:
    """Whether ``answer`` says nothing the question did not already say ("Owen" to "What
    does Owen take for his hay fever?"): a prepared answer to some other question about
    the same person or thing, never served."""
    said = meaning_words(answer)
    return bool(said) and said <= meaning_words(question)


class PreparedAnswers:
    """Looks up prepared answers by meaning when ``embedder`` is given (the prepared
    questions' vectors are stored once), by words otherwise."""

    def __init__(self, db: Database, matcher: AnticipationMatcher | None = None, *,
                 embedder: Embedder | None = None) -> None:
        self._db = db
        self._matcher = matcher or AnticipationMatcher(db, embedder=embedder)

    def lookup(self, question: str) -> Prepared | None:
        """The prepared answer to ``question``, if one truly matches (nothing is recorded)."""
        started = time.perf_counter()
        match = self._matcher.best(question)
        if match is None:
            return None
        with self._db.session() as s:
            row = s.get(Anticipation, match.anticipation_id)
        if row is None or only_repeats(row.answer, question):
            return None
        return Prepared(match.anticipation_id, row.question, row.answer, match.score,
                        dict(row.sources or {}), (time.perf_counter() - started) * 1000)

    def record_hit(self, anticipation_id: int) -> None:
        with self._db.write() as s:
            row = s.get(Anticipation, anticipation_id)
            if row is not None and row.status in (AnticipationStatus.READY.value,
                                                  AnticipationStatus.USED.value):
                row.hits += 1
                row.status = AnticipationStatus.USED.value
                s.add(row)

    def record_miss(self, anticipation_id: int) -> None:
        """"Think again": this prepared answer was not what the person wanted."""
        with self._db.write() as s:
            row = s.get(Anticipation, anticipation_id)
            if row is not None:
                row.misses += 1
                row.hits = max(0, row.hits - 1)
                row.status = AnticipationStatus.DISMISSED.value
                s.add(row)
