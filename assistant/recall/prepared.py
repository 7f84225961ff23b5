"""Serving answers prepared while the person was away, and learning from how they land.

A served prepared answer counts a hit (status ``used``: still valid, still servable);
"think again" counts a miss and dismisses it for good, so the planner learns which
kinds of anticipation are worth the thinking time (see ``mind.anticipate``).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from assistant.llm.embedding import Embedder
from assistant.recall.matching import AnticipationMatcher
from assistant.store.db import Database
from assistant.store.models import Anticipation, AnticipationStatus
from assistant.text.words import meaning_words

#: "X or Y?": a question whose answer is one of its own words.
_CHOICE = re.compile(r"\bor\b", re.IGNORECASE)
#: Matches looked at for one question before it goes unanswered by a prepared answer.
MAX_TRIES = 5


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
    the same person or thing, never served. Of a choice ("... Saturday or Sunday?") one
    of its own words is the answer."""
    if _CHOICE.search(question):
        return False  # "Saturday" answers "Is the party on Saturday or Sunday?"
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
        """The prepared answer to ``question``, if one truly matches (nothing is recorded).
        A match whose answer only repeats the question ("Who takes cetirizine?" -> "Owen",
        asked "What does Owen take for his hay fever?") gives way to the next best, up to
        `MAX_TRIES` matches in all."""
        started = time.perf_counter()
        tried: set[int] = set()
        for _ in range(MAX_TRIES):
            match = self._matcher.best(question, exclude=tried)
            if match is None:
                return None
            with self._db.session() as s:
                row = s.get(Anticipation, match.anticipation_id)
            if row is not None and not only_repeats(row.answer, question):
                return Prepared(match.anticipation_id, row.question, row.answer, match.score,
                                dict(row.sources or {}),
                                (time.perf_counter() - started) * 1000)
            tried.add(match.anticipation_id)
        return None

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
