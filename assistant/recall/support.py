"""Does the retrieved evidence support an answer, or is "I don't know." the honest one?

A question whose subject the memory never mentions still retrieves something: snippets
that share a name ("What is Owen's blood type?" finds everything about Owen) or a word
("When is Sam's birthday?" finds Ingrid's birthday). Answering from them is a guess. The
evidence *supports* an answer when one sentence of it is about the whole question, read
from a few features of the best sentence among the retrieved snippets (`measure`):

- ``words``: the share of the question's meaning words in that sentence;
- ``cosine``: the embedding cosine of the question and that sentence (wordllama), which
  sees "arrive" in "coming" where words do not;
- ``kind``: whether it holds a value of the kind asked (a date or time for "when", an
  amount for "how much", a name for "who", a place for "where"; `value_carried`);
- ``names``: whether every name of the question is somewhere in the evidence.

`SupportRule` weighs them into one score and a threshold; the shipped rule
(``resources/answer_support.json``) is chosen by `calibrate_support` on the calibration
half of both benchmark fixtures' questions (odd ids) and reported on the held-out half
(even ids): see `assistant.bench.support`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import pairwise
from typing import Any

import numpy as np

from assistant.llm.embedding import Embedder
from assistant.recall.extractive import question_kind, sentences
from assistant.resources import resource
from assistant.text.corrections import topic_stem
from assistant.text.dates import MONTHS, mentions_date
from assistant.text.lines import one_line
from assistant.text.questions import names
from assistant.text.words import STOPWORDS, words

SUPPORT_FILE = "answer_support.json"


@dataclass(frozen=True)
class Support:
    """What the evidence offers for one question, each in 0..1 (``kind`` 0 or 1)."""

    #: The share of the question's subject (its names and topic words) said in one
    #: sentence of the evidence, a topic word said in other words counting by how
    #: close its embedding is (`soft_cover`).
    sentence: float
    #: The share of the question's other subject words said in one sentence of a
    #: snippet that names someone or something the question names (a note's heading
    #: counts): "When is Sam's birthday?" gets 0 from "Ingrid's birthday is on 3
    #: December" and from "Sam and I are going to Lisbon".
    anchored: float
    #: The embedding cosine of the question and its closest evidence sentence.
    cosine: float
    #: The best sentence holds a value of the kind asked (`value_carried`).
    kind: float

    def as_list(self) -> list[float]:
        return [self.sentence, self.anchored, self.cosine, self.kind]


@dataclass(frozen=True)
class SupportRule:
    """``score = sentence + anchored_weight * anchored + cosine_weight * cosine +
    kind_weight * kind``; the evidence supports an answer when the score reaches
    ``threshold``."""

    anchored_weight: float
    cosine_weight: float
    kind_weight: float
    threshold: float

    def score(self, support: Support) -> float:
        return (support.sentence + self.anchored_weight * support.anchored
                + self.cosine_weight * support.cosine + self.kind_weight * support.kind)

    def supports(self, support: Support) -> bool:
        return self.score(support) >= self.threshold


#: Words that only say which kind of answer is wanted (the answer need not repeat them):
#: "What time does the flight leave?" is answered by "The flight leaves at 07:15".
KIND_WORDS = frozenset((
    "time", "date", "day", "much", "many", "cost", "price", "old", "long", "name",
    "called", "often", "kind", "sort", "part", "place", "person", "one", "thing",
    "happen", "happened", "like", "mind", "idea", "tell", "say", "said", "new",
    # the nouns that ask for a kind of answer (`assistant.text.questions.answer_kind`)
    "budget", "amount", "rate", "bill", "fee", "total", "charge", "deadline", "due",
    "location", "venue", "destination", "address", "restaurant", "hotel", "age"))
#: A topic word said in other words counts from this embedding cosine up.
SOFT_FROM = 0.6

_CLOCK_OR_DATE = re.compile(r"\b\d{1,2}[:.]\d{2}\b|\b\d{1,2}(?:st|nd|rd|th)?\s+(?:"
                            + "|".join(MONTHS) + r")\b|\b(?:" + "|".join(MONTHS)
                            + r")\s+\d{1,2}\b|\b(?:19|20)\d\d\b", re.IGNORECASE)


def value_carried(kind: str, sentence: str) -> bool:
    """True if ``sentence`` holds a value of the ``kind`` asked for (`question_kind`):
    a date or a clock time; a number or a sum that is not part of a date; a capitalised
    name past the first word; a place after a preposition. Always True for a kind that
    names no value (yes/no, other)."""
    if kind == "time":
        return mentions_date(sentence)
    if kind == "amount":
        rest = _CLOCK_OR_DATE.sub(" ", sentence)
        return any(c.isdigit() for c in rest) or any(s in rest for s in "£$€%")
    if kind == "person":
        return any(w[:1].isupper() for w in sentence.split()[1:])
    if kind == "place":
        return re.search(r"\b(?:at|in|to|from|near|on)\s+(?:the\s+)?[A-Z0-9]",
                         sentence) is not None
    return True


def terms(text: str) -> dict[str, str]:
    """The meaning words of ``text`` by their crude stem ("lives" and "live" are one),
    each with a word as it was written (what is embedded)."""
    out: dict[str, str] = {}
    for w in words(text):
        if len(w) > 2 and w not in STOPWORDS and w.split("'")[0] not in STOPWORDS:
            out.setdefault(topic_stem(w), w.removesuffix("'s"))
    return out


def subject_words(question: str) -> dict[str, str]:
    """What a question is about: its names and meaning words, without the words that only
    say which kind of answer it wants (`KIND_WORDS`), by stem (`terms`)."""
    return {k: w for k, w in terms(question).items() if w not in KIND_WORDS}


class _WordVectors:
    """Unit word vectors, made once per word for one judgement."""

    def __init__(self, embedder: Embedder | None) -> None:
        self._embedder = embedder
        self._known: dict[str, np.ndarray] = {}

    def of(self, items: Iterable[str]) -> None:
        missing = sorted({w for w in items if w not in self._known})
        if self._embedder is not None and missing:
            for w, v in zip(missing, self._embedder.embed(missing), strict=True):
                self._known[w] = np.asarray(v, dtype=np.float32)

    def closest(self, word: str, others: Iterable[str]) -> float:
        vec = self._known.get(word)
        if vec is None:
            return 0.0
        return max((float(self._known[o] @ vec) for o in others if o in self._known),
                   default=0.0)


def soft_cover(wanted: dict[str, str], said: dict[str, str], vectors: _WordVectors) -> float:
    """The share of ``wanted`` words in ``said`` (both by stem): a word said counts 1, a
    word not said counts the cosine of the closest word said when that reaches
    `SOFT_FROM`."""
    if not wanted:
        return 1.0
    total = 0.0
    for key, word in wanted.items():
        if key in said:
            total += 1.0
        else:
            close = vectors.closest(word, said.values())
            total += close if close >= SOFT_FROM else 0.0
    return total / len(wanted)


def _cosines(embedder: Embedder | None, question: str, texts: Sequence[str]) -> list[float]:
    if embedder is None or not texts:
        return [0.0] * len(texts)
    vectors = np.asarray(embedder.embed([question, *texts]), dtype=np.float32)
    return [max(0.0, float(v)) for v in vectors[1:] @ vectors[0]]


def measure(question: str, texts: Sequence[str], embedder: Embedder | None = None
            ) -> Support:
    """The `Support` that ``texts`` (the retrieved snippets, the profile) give
    ``question``."""
    wanted = subject_words(question)
    snippets = [t for t in texts if t.strip()]
    pieces = [s for t in snippets for s in (sentences(t) or [one_line(t)])
              if not s.startswith("#")]
    if not pieces:
        return Support(0.0, 0.0, 0.0, 0.0)
    vectors = _WordVectors(embedder)
    said_pieces = [terms(s) for s in pieces]
    vectors.of([*wanted.values(), *(w for said in said_pieces for w in said.values())])
    covers = [soft_cover(wanted, said, vectors) for said in said_pieces]
    asked = {topic_stem(n) for n in names(question)} & set(wanted)
    rest = {k: w for k, w in wanted.items() if k not in asked}
    anchored = 0.0
    for text in snippets:
        if not asked or asked & set(terms(text)):
            anchored = max([anchored, *(soft_cover(rest, terms(s), vectors)
                                        for s in sentences(text) or [one_line(text)])])
    cosines = _cosines(embedder, question, pieces)
    best = max(range(len(pieces)), key=lambda i: (covers[i], cosines[i]))
    kind = question_kind(question)
    return Support(round(covers[best], 4), round(anchored, 4), round(max(cosines), 4),
                   float(value_carried(kind, pieces[best])))


@cache
def shipped_rule() -> SupportRule:
    """The committed rule (``resources/answer_support.json``)."""
    data = json.loads(resource(SUPPORT_FILE).read_text(encoding="utf-8"))
    rule = data["rule"]
    return SupportRule(float(rule["anchored_weight"]), float(rule["cosine_weight"]),
                       float(rule["kind_weight"]), float(rule["threshold"]))


@dataclass(frozen=True)
class Labelled:
    """One fixture question's support and whether the data answers it."""

    question: str
    id: int
    answerable: bool
    support: Support


@dataclass(frozen=True)
class Rates:
    """``idk_accuracy``: unanswerable questions refused; ``idk_false_rate``: answerable
    ones refused."""

    idk_accuracy: float
    idk_false_rate: float
    unanswerable: int
    answerable: int

    def to_json(self) -> dict[str, Any]:
        return {"idk_accuracy": round(self.idk_accuracy, 3),
                "idk_false_rate": round(self.idk_false_rate, 3),
                "unanswerable": self.unanswerable, "answerable": self.answerable}


def rates(rule: SupportRule, samples: Sequence[Labelled]) -> Rates:
    """How ``rule`` does on ``samples``."""
    unanswerable = [s for s in samples if not s.answerable]
    answerable = [s for s in samples if s.answerable]
    refused_u = sum(not rule.supports(s.support) for s in unanswerable)
    refused_a = sum(not rule.supports(s.support) for s in answerable)
    return Rates(refused_u / max(1, len(unanswerable)), refused_a / max(1, len(answerable)),
                 len(unanswerable), len(answerable))


#: At most this share of answerable calibration questions may be refused.
MAX_FALSE_RATE = 0.08
ANCHORED_WEIGHTS = (0.0, 0.5, 1.0, 1.5, 2.0)
COSINE_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
KIND_WEIGHTS = (0.0, 0.1, 0.2, 0.3)


def calibrate_support(samples: Sequence[Labelled]) -> tuple[SupportRule, Rates]:
    """The rule that refuses the most unanswerable ``samples`` while refusing at most
    `MAX_FALSE_RATE` of the answerable ones; ties go to the lower threshold (fewer
    refusals of questions outside the fixtures), then the smaller weights. Thresholds
    are tried halfway between neighbouring scores, rounded to 3 places."""
    best: tuple[tuple[float, ...], SupportRule, Rates] | None = None
    for aw in ANCHORED_WEIGHTS:
        for cw in COSINE_WEIGHTS:
            for kw in KIND_WEIGHTS:
                probe = SupportRule(aw, cw, kw, 0.0)
                scores = sorted({round(probe.score(s.support), 4) for s in samples})
                for cut in [0.0] + [round((a + b) / 2, 3) for a, b in pairwise(scores)]:
                    rule = SupportRule(aw, cw, kw, cut)
                    got = rates(rule, samples)
                    if got.idk_false_rate > MAX_FALSE_RATE:
                        continue
                    key = (got.idk_accuracy, -got.idk_false_rate, -cut, -aw, -cw, -kw)
                    if best is None or key > best[0]:
                        best = (key, rule, got)
    assert best is not None  # threshold 0 refuses nothing: always allowed
    return best[1], best[2]
