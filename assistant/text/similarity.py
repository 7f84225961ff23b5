"""How alike two texts are: two different ideas, two names.

`word_overlap` is symmetric and plain: the Jaccard overlap of the meaning words of any
two texts (facts against memories, snippets against snippets). `question_match` asks
whether a question the person typed asks what a prepared (anticipated) question asked.
Serving a prepared answer to a different question is worse than no prepared answer, so
it is strict: the kind of answer asked for must agree (a time, a person, a place, an
amount...), the topic words must overlap strongly and cover the typed question, and
words shared by many prepared questions can be given less weight. Its threshold,
`SAME_QUESTION_THRESHOLD`, is calibrated on a shipped fixture of paraphrases and
near-misses (``resources/bench/paraphrases.json``; ``recall.matching.calibrate``).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

from assistant.text.words import meaning_words, plain

#: Calibrated on resources/bench/paraphrases.json (see tests/recall/test_matching.py).
SAME_QUESTION_THRESHOLD = 0.62  # 0.59 was the lowest with <= 5% false matches; 0.62 has 0%


def word_overlap(a: str, b: str) -> float:
    """0..1: the Jaccard similarity of the meaning words of ``a`` and ``b`` (symmetric)."""
    wa, wb = meaning_words(a), meaning_words(b)
    if not wa or not wb:
        return 0.0
    return len(wa & wb) / len(wa | wb)


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
#: Question and filler words: they say how something is asked, not what about.
_QUESTION_STOPWORDS = frozenset([
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
#: A letter or digit of any script, then letters, digits, ":", "'" or "-" ("1:1", "to-do").
_QUESTION_WORD = re.compile(r"[^\W_](?:[^\W_]|[:'\-])*")


def _expand(text: str) -> str:
    text = plain(text).lower()
    for short, full in _CONTRACTIONS.items():
        text = text.replace(short, full)
    return text


def question_type(text: str) -> str | None:
    """The kind of answer asked for (time, person, place, amount, count, duration,
    gift), or None when the question does not say."""
    lowered = _expand(text)
    for pattern, kind in _TYPES:
        if re.search(pattern, lowered):
            return kind
    return None


def _question_stem(word: str) -> str:
    word = _SYNONYMS.get(word, word)
    for suffix in ("'s", "ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return _SYNONYMS.get(word, word)


def question_words(text: str) -> list[str]:
    """The topic of a question: lower-cased, stemmed words with contractions expanded,
    synonyms folded ("mum" -> "mother") and question or filler words dropped, in order.

    Letters of any script count. Unlike `meaning_words` it keeps "1:1" and "one-on-one"
    whole and drops "when", "time" or "remind", which say how something is asked, not
    what about."""
    out = []
    for word in _QUESTION_WORD.findall(_expand(text)):
        word = word.strip("'-:")
        if word and word not in _QUESTION_STOPWORDS:
            stem = _question_stem(word)
            if stem not in _QUESTION_STOPWORDS:
                out.append(stem)
    return out


@dataclass(frozen=True)
class WordWeights:
    """Inverse document frequency of question words over the prepared questions."""

    idf: dict[str, float]
    default: float

    @classmethod
    def from_questions(cls, questions: Iterable[str]) -> WordWeights:
        return cls.from_word_sets([set(question_words(q)) for q in questions])

    @classmethod
    def from_word_sets(cls, docs: Sequence[Collection[str]]) -> WordWeights:
        """The weights of questions already split by `question_words` (as sets)."""
        n = max(1, len(docs))
        freq: Counter[str] = Counter(w for d in docs for w in d)
        idf = {w: 1.0 + math.log((1 + n) / (1 + f)) for w, f in freq.items()}
        return cls(idf, 1.0 + math.log(1 + n))

    def of(self, word: str) -> float:
        return self.idf.get(word, self.default)


UNIFORM = WordWeights({}, 1.0)


def question_match(asked: str, prepared: str, weights: WordWeights = UNIFORM) -> float:
    """0..1: how surely ``asked`` is the question ``prepared`` was prepared for.

    Not symmetric: every topic word of ``asked`` should be accounted for by ``prepared``.
    """
    return words_match(question_type(asked), frozenset(question_words(asked)),
                       question_type(prepared), frozenset(question_words(prepared)), weights)


def words_match(kind_a: str | None, a: frozenset[str], kind_p: str | None,
                p: frozenset[str], weights: WordWeights = UNIFORM) -> float:
    """`question_match` of two questions already split: their `question_type` and
    their `question_words` as sets (so a matcher can split each prepared question once)."""
    if kind_a and kind_p and kind_a != kind_p:
        return 0.0
    if not a or not p:
        return 0.0
    shared = sum(weights.of(w) for w in a & p)
    union = sum(weights.of(w) for w in a | p)
    overlap = shared / union
    coverage = shared / sum(weights.of(w) for w in a)
    spelling = SequenceMatcher(None, " ".join(sorted(a)), " ".join(sorted(p))).ratio()
    return 0.45 * overlap + 0.4 * coverage + 0.15 * spelling


_MINE = re.compile(r"\b(?:my|our|your)\s+([a-z][\w-]*)", re.IGNORECASE)
_THEIRS = re.compile(r"\b[A-Z][\w-]*['\u2019]s\s+([a-z][\w-]*)")


def owned_words(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """(words ``text`` says with "my", "our" or "your"; words it says only with
    someone's name), as `question_words` stems: "our wedding" is not "Cerys's
    wedding"."""
    mine = frozenset(w for m in _MINE.finditer(text) for w in question_words(m.group(1)))
    theirs = frozenset(w for m in _THEIRS.finditer(text) for w in question_words(m.group(1)))
    return mine, theirs - mine
