"""Does a question the person typed ask what a prepared (anticipated) question asked?

Serving a prepared answer to a different question is worse than no prepared answer,
so matching is strict: the kind of answer asked for must agree (a time, a person, a
place, an amount...), and the content words must overlap strongly, weighted so that
words shared by many prepared questions count less. The threshold is calibrated on a
shipped fixture of paraphrases and near-misses (``resources/bench/paraphrases.json``)
to keep false matches at or below 5%; ``calibrate`` recomputes it.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from difflib import SequenceMatcher
from pathlib import Path

from sqlalchemy import text

from assistant.store.db import Database
from assistant.store.fts import fts_query
from assistant.store.models import utcnow

#: Calibrated with :func:`calibrate` on resources/bench/paraphrases.json (see tests).
DEFAULT_THRESHOLD = 0.62  # 0.59 was the lowest with <= 5% false matches; 0.62 has 0%

_CONTRACTIONS = {
    "what's": "what is", "when's": "when is", "who's": "who is", "where's": "where is",
    "how's": "how is", "it's": "it is", "i'm": "i am", "don't": "do not",
    "doesn't": "does not", "what're": "what are",
}
_SYNONYMS = {
    "mum": "mother", "mom": "mother", "mama": "mother", "dad": "father",
    "phone": "call", "ring": "call", "depart": "leave", "departs": "leave",
    "collect": "pick", "fetch": "pick", "buy": "get", "purchase": "get",
    "present": "gift", "due": "deadline", "back": "return", "returns": "return",
    "meeting": "meet", "meets": "meet", "appt": "appointment", "one-on-one": "1:1",
    "1-1": "1:1", "todo": "task", "to-do": "task", "tasks": "task", "spend": "budget",
    "costs": "cost", "price": "cost",
}
_STOPWORDS = frozenset([
    "a", "an", "the", "of", "to", "for", "in", "on", "at", "by", "with", "from", "and", "or",
    "but", "is", "are", "was", "were", "be", "been", "being", "am", "do", "does", "did",
    "done", "have", "has", "had", "i", "me", "my", "mine", "we", "us", "our", "ours", "you",
    "your", "yours", "he", "she", "it", "its", "they", "them", "their", "this", "that",
    "these", "those", "there", "here", "what", "when", "where", "who", "whom", "whose",
    "which", "why", "how", "time", "date", "day", "much", "many", "long", "often", "please",
    "tell", "remind", "again", "still", "next", "usually", "can", "could", "should", "would",
    "will", "shall", "may", "might", "must", "going", "go", "got", "let", "s", "name",
])

#: Leading phrases that say what kind of answer is wanted.
_TYPES: tuple[tuple[str, str], ...] = (
    (r"\bwhat (time|date|day)\b|\bwhen\b|\bwhich day\b|\bhow soon\b", "time"),
    (r"\bwho(m|se)?\b", "person"),
    (r"\bwhere\b", "place"),
    (r"\bhow much\b|\bcost\b|\bbudget\b|\bprice\b", "amount"),
    (r"\bhow many\b", "count"),
    (r"\bhow (long|often)\b", "duration"),
    (r"\bwhat (should|could) i (get|buy)\b|\bgift\b|\bpresent\b", "gift"),
)


def _expand(text: str) -> str:
    text = text.lower().replace("’", "'")
    for short, full in _CONTRACTIONS.items():
        text = text.replace(short, full)
    return text


def question_type(text: str) -> str | None:
    """The kind of answer asked for, or None when the question does not say."""
    lowered = _expand(text)
    for pattern, kind in _TYPES:
        if re.search(pattern, lowered):
            return kind
    return None


def _stem(word: str) -> str:
    word = _SYNONYMS.get(word, word)
    for suffix in ("'s", "ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return _SYNONYMS.get(word, word)


def content_words(text: str) -> list[str]:
    """Lower-cased, stemmed words that carry the topic (no question or filler words)."""
    words = re.findall(r"[a-z0-9][a-z0-9:'\-]*", _expand(text))
    out = []
    for word in words:
        word = word.strip("'-")
        if word and word not in _STOPWORDS:
            stem = _stem(word)
            if stem not in _STOPWORDS:
                out.append(stem)
    return out


@dataclass(frozen=True)
class Weights:
    """Inverse document frequency of content words over the prepared questions."""

    idf: dict[str, float]
    default: float

    @classmethod
    def from_questions(cls, questions: Iterable[str]) -> Weights:
        docs = [set(content_words(q)) for q in questions]
        n = max(1, len(docs))
        freq: Counter[str] = Counter(w for d in docs for w in d)
        idf = {w: 1.0 + math.log((1 + n) / (1 + f)) for w, f in freq.items()}
        return cls(idf, 1.0 + math.log(1 + n))

    def of(self, word: str) -> float:
        return self.idf.get(word, self.default)


UNIFORM = Weights({}, 1.0)


def similarity(asked: str, prepared: str, weights: Weights = UNIFORM) -> float:
    """0..1: how surely ``asked`` is the question ``prepared`` was prepared for."""
    kind_a, kind_p = question_type(asked), question_type(prepared)
    if kind_a and kind_p and kind_a != kind_p:
        return 0.0
    a, p = set(content_words(asked)), set(content_words(prepared))
    if not a or not p:
        return 0.0
    shared = sum(weights.of(w) for w in a & p)
    union = sum(weights.of(w) for w in a | p)
    overlap = shared / union
    # Every content word of the asked question should be accounted for.
    coverage = shared / sum(weights.of(w) for w in a)
    spelling = SequenceMatcher(None, " ".join(sorted(a)), " ".join(sorted(p))).ratio()
    return 0.45 * overlap + 0.4 * coverage + 0.15 * spelling


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
          weights: Weights = UNIFORM) -> tuple[float, float]:
    """(share of true pairs matched, share of near-miss pairs matched) at ``threshold``."""
    true = [similarity(a, p, weights) >= threshold for a, p, same in pairs if same]
    false = [similarity(a, p, weights) >= threshold for a, p, same in pairs if not same]
    return (sum(true) / max(1, len(true)), sum(false) / max(1, len(false)))


def calibrate(pairs: Sequence[tuple[str, str, bool]], max_false_rate: float = 0.05,
              weights: Weights = UNIFORM) -> Calibration:
    """The lowest threshold whose false-match rate stays within ``max_false_rate``."""
    candidates = sorted({round(similarity(a, p, weights), 3) for a, p, _ in pairs} | {1.0})
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
        match = fts_query(" ".join(content_words(question)) or question)
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
        weights = Weights.from_questions(pool)
        best: Match | None = None
        for ident, prepared, expires in rows:
            if expires is not None and _aware(expires) <= when:
                continue
            score = similarity(question, prepared, weights)
            if score >= self.threshold and (best is None or score > best.score):
                best = Match(int(ident), str(prepared), score)
        return best


def _aware(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
