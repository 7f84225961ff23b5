"""Small deterministic text tools shared by extraction, reconciliation and retrieval.

Word sets with a crude stemmer and a stop list; similarity is Jaccard on those sets.
Rules here do what a 270M model cannot do reliably.
"""

from __future__ import annotations

import re

_STOP_TEXT = """
a about above after again all also am an and any are as at be because been before being
below between both but by can could did do does doing done down during each few for from
further had has have having he her here hers herself him himself his how i if in into is
it its itself just me more most my myself no nor not now of off on once only or other
our ours ourselves out over own same she should so some such than that the their theirs
them themselves then there these they this those through to too under until up very was
we were what when where which while who whom why will with would you your yours yourself
yourselves i'm i've it's let's please way still need get got go going want know
"""
STOPWORDS = frozenset(_STOP_TEXT.split())

_WORD = re.compile(r"[0-9]+(?:[:.,][0-9]+)*|[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)


def words(text: str) -> list[str]:
    """Lower-case words and numbers, in order."""
    return [w.lower() for w in _WORD.findall(text)]


def stem(word: str) -> str:
    for suffix in ("'s", "ies", "es", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)] + ("y" if suffix == "ies" else "")
    return word


def content_words(text: str) -> set[str]:
    """The words that carry meaning (no stop words), crudely stemmed."""
    return {stem(w) for w in words(text) if w not in STOPWORDS}


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the content words of ``a`` and ``b`` (0..1)."""
    wa, wb = content_words(a), content_words(b)
    if not wa or not wb:
        return 0.0
    return len(wa & wb) / len(wa | wb)


def numbers(text: str) -> set[str]:
    """The numbers (times, amounts, days) in ``text``."""
    return {w for w in words(text) if w[0].isdigit()}


def normalize(text: str) -> str:
    """One line, single spaces, no trailing punctuation: for duplicate checks."""
    return " ".join(words(text))


def one_line(text: str) -> str:
    return " ".join(text.split())
