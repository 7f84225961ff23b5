"""Does the retrieved evidence support an answer, or is "I don't know." the honest one?

A question whose subject the memory never mentions still retrieves something: snippets
that share a name ("What is Owen's blood type?" finds everything about Owen) or a word
("When is Sam's birthday?" finds Ingrid's birthday). Answering from them is a guess. The
evidence *supports* an answer when it says what the question is about, together, read
from three shares (`measure`, `Support`), each a share of the question's words said in
one sentence, a word said in other words counting by the cosine of its embedding
(wordllama, `soft_cover`):

- ``sentence``: of its subject (names and topic words, not the words that only ask for a
  kind of answer: "time", "much", "address"...);
- ``anchored``: of its other subject words, in a snippet that names what it names;
- ``head``: of what it asks about ("colour" in "What colour is our car?"), likewise.

The evidence supports an answer when the three add up to the shipped threshold
(``resources/answer_support.json``), chosen by `calibrate_support` on the calibration
half of both benchmark fixtures' questions (odd ids) and reported on the held-out half
(even ids): see `assistant.bench.support`. The three count equally: with eleven
unanswerable questions per half, weighing them (or adding the question's cosine to its
closest sentence, or scoring whether a value of the kind asked is there) fitted the
calibration half and did worse on the held-out one. One gate does hold on both halves:
a question that asks for an amount needs one in a sentence about its subject
(``Support.valued``: "How old is Pixel?" when Pixel is only ever taken to the vet on
Friday 27 November at 9:00).
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
from assistant.resources import resource
from assistant.text.corrections import states_amount, topic_stem
from assistant.text.lines import one_line, sentences
from assistant.text.questions import answer_kind, names
from assistant.text.words import STOPWORDS, words

SUPPORT_FILE = "answer_support.json"


@dataclass(frozen=True)
class Support:
    """What the evidence offers for one question: three shares, each in 0..1."""

    #: The share of the question's subject (its names and topic words, `subject_words`)
    #: said in one sentence of the evidence.
    sentence: float
    #: The share of the question's other subject words said in one sentence of a
    #: snippet that names someone or something the question names (a note's heading
    #: counts): "When is Sam's birthday?" gets 0 from "Ingrid's birthday is on 3
    #: December" and from "Sam and I are going to Lisbon".
    anchored: float
    #: The share of what the question asks about (`head_words`: "colour" in "What
    #: colour is our car?", "blood type" in "What is Owen's blood type?") said in one
    #: sentence of a snippet that names what the question names; 1 when the wording
    #: does not say.
    head: float
    #: False when the question asks for an amount ("How much did my laptop cost?",
    #: "How old is Pixel?") and no snippet that names what it names (none named: no
    #: sentence about its subject) gives one (`states_amount`): the subject is there,
    #: its amount not.
    valued: bool = True

    def score(self) -> float:
        return self.sentence + self.anchored + self.head


@dataclass(frozen=True)
class SupportRule:
    """The evidence supports an answer when `Support.score` reaches ``threshold``."""

    threshold: float

    def supports(self, support: Support) -> bool:
        return support.valued and support.score() >= self.threshold


#: Words that only say which kind of answer is wanted (the answer need not repeat them):
#: "What time does the flight leave?" is answered by "The flight leaves at 07:15".
KIND_WORDS = frozenset((
    "time", "date", "day", "much", "many", "cost", "price", "old", "long", "name",
    "called", "often", "kind", "sort", "part", "place", "person", "one", "thing",
    "happen", "happened", "like", "mind", "idea", "tell", "say", "said", "new", "next",
    # the nouns that ask for a kind of answer (`assistant.text.questions.answer_kind`)
    "budget", "amount", "rate", "bill", "fee", "total", "charge", "deadline", "due",
    "pay", "paid", "premium", "savings", "weigh", "spend", "spent",
    "location", "venue", "destination", "address", "restaurant", "hotel", "age",
    # events in general: "I booked the dentist: Tuesday at 10:30" answers "When is my
    # dentist appointment?"
    "appointment", "meeting", "booking", "plan", "plans", "event"))
#: A topic word said in other words counts from this embedding cosine up.
SOFT_FROM = 0.6

def root(word: str) -> str:
    """A crude stem that also takes "-ing" and "-ed" off ("coming", "comes" and "come"
    are one; "planned" is "plan"), then `topic_stem`'s five letters."""
    word = word.removesuffix("'s").removesuffix("\u2019s")
    for suffix in ("ing", "ed"):
        base = word[: -len(suffix)]
        if word.endswith(suffix) and len(base) >= 3:
            if base[-1] == base[-2] and base[-1] not in "aeioulsz":
                base = base[:-1]  # "planned", "sitting"
            elif (len(base) <= 4 and base[-1] not in "aeiouwy" and base[-2] in "aeiou"
                  and base[-3] not in "aeiou"):
                base += "e"  # "coming", "moved", "living"
            return topic_stem(base)
    return topic_stem(word)


def terms(text: str) -> dict[str, str]:
    """The meaning words of ``text`` by their crude stem (`root`: "lives", "living" and
    "live" are one), each with a word as it was written (what is embedded)."""
    out: dict[str, str] = {}
    for w in words(text):
        if len(w) > 2 and w not in STOPWORDS and w.split("'")[0] not in STOPWORDS:
            out.setdefault(root(w), w.removesuffix("'s"))
    return out


def subject_words(question: str) -> dict[str, str]:
    """What a question is about: its names and meaning words, without the words that only
    say which kind of answer it wants (`KIND_WORDS`), by stem (`terms`)."""
    return {k: w for k, w in terms(question).items() if w not in KIND_WORDS}


_AUX = r"(?:is|are|was|were|do|does|did|has|have|had|can|could|will|would|should)"
_OWNER = r"(?:the|our|my|your|his|her|their|(?:dr|mr|mrs|ms)\.?|[\w.'’-]+(?:'s|’s|s'))"
#: "What colour is ...", "What Christmas present do ...": the words between the question
#: word and the verb.
_WHAT_NOUN = re.compile(rf"^(?:what|which)\s+((?:(?!{_AUX}\b)[\w'’-]+\s+){{1,3}})"
                        rf"(?={_AUX}\b)", re.IGNORECASE)
#: "What is Owen's blood type?", "When is my dentist appointment?", "Who is our
#: landlord?": the noun phrase after the owner, up to "of", "for", "with" or the end.
_OWNED = re.compile(rf"^(?:what|who|when|where)\s+(?:is|are|was|were)\s+(?:{_OWNER}\s+)+"
                    r"([\w\s'’-]+?)(?:\s+(?:of|for|with|in|at|on|called)\b.*)?\??$",
                    re.IGNORECASE)


def head_words(question: str) -> dict[str, str]:
    """What the question asks about, by stem (`terms`), without the kind words: the words
    between "what"/"which" and the verb, or the noun phrase owned in "What is Owen's
    blood type?";
    empty when the wording does not say (then `Support.head` is 1)."""
    text = " ".join(question.strip().split())
    found = _WHAT_NOUN.match(text) or _OWNED.match(text)
    if found is None:
        return {}
    return {k: w for k, w in terms(found.group(1)).items() if w not in KIND_WORDS}


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


def measure(question: str, texts: Sequence[str], embedder: Embedder | None = None
            ) -> Support:
    """The `Support` that ``texts`` (the retrieved snippets, the profile) give
    ``question``."""
    wanted = subject_words(question)
    snippets = [t for t in texts if t.strip()]
    said = [[terms(s) for s in sentences(t) or [one_line(t)] if not s.startswith("#")]
            for t in snippets]
    if not any(said):
        return Support(0.0, 0.0, 0.0)
    vectors = _WordVectors(embedder)
    vectors.of([*wanted.values(), *(w for ts in said for t in ts for w in t.values())])
    sentence = max(soft_cover(wanted, t, vectors) for ts in said for t in ts)
    asked = {root(n) for n in names(question)} & set(wanted)
    rest = {k: w for k, w in wanted.items() if k not in asked}
    heads = {k: w for k, w in head_words(question).items() if k not in asked}
    vectors.of(heads.values())
    anchored, head = 0.0, 0.0 if heads else 1.0
    wants_amount = answer_kind(question) == "amount"
    valued = not wants_amount
    for text, ts in zip(snippets, said, strict=True):
        if ts and (not asked or asked & set(terms(text))):
            anchored = max([anchored, *(soft_cover(rest, t, vectors) for t in ts)])
            if heads:
                head = max([head, *(soft_cover(heads, t, vectors) for t in ts)])
            # In a snippet that names what the question names, any sentence of it ("Pixel
            # is our cat. She turned three in May."); else one about its subject.
            valued = valued or any(
                (asked or set(wanted) & set(terms(s))) and states_amount(s)
                for s in sentences(text) or [one_line(text)] if not s.startswith("#"))
    return Support(round(sentence, 4), round(anchored, 4), round(head, 4), valued)


@cache
def shipped_rule() -> SupportRule:
    """The committed rule (``resources/answer_support.json``)."""
    data = json.loads(resource(SUPPORT_FILE).read_text(encoding="utf-8"))
    return SupportRule(float(data["rule"]["threshold"]))


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


def calibrate_support(samples: Sequence[Labelled]) -> tuple[SupportRule, Rates]:
    """The threshold that refuses the most unanswerable ``samples`` while refusing at
    most `MAX_FALSE_RATE` of the answerable ones, from the middle of the range of
    thresholds that do so (the widest margin on both sides). Thresholds are tried
    halfway between neighbouring scores, rounded to 3 places."""
    scores = sorted({round(s.support.score(), 4) for s in samples})
    tried = [(cut, rates(SupportRule(cut), samples))
             for cut in [0.0] + [round((a + b) / 2, 3) for a, b in pairwise(scores)]]
    allowed = [(cut, got) for cut, got in tried if got.idk_false_rate <= MAX_FALSE_RATE]
    top = max(got.idk_accuracy for _cut, got in allowed)  # cut 0 refuses nothing
    best = [(cut, got) for cut, got in allowed if got.idk_accuracy == top]
    cut, got = best[(len(best) - 1) // 2]
    return SupportRule(cut), got
