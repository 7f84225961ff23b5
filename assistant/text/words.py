"""Words of any text: split, stemmed crudely, stop words dropped.

Text is NFKC-normalized first, so a decomposed "é", a ligature or a full-width digit
gives the same words as its plain form, and a typographic apostrophe counts as "'".
"""

from __future__ import annotations

import re
import unicodedata

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
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u02bc": "'", "\uff07": "'"})


def plain(text: str) -> str:
    """``text`` in one canonical Unicode form (NFKC), with plain apostrophes."""
    return unicodedata.normalize("NFKC", text).translate(_APOSTROPHES)


def words(text: str) -> list[str]:
    """Case-folded words (letters of any script) and numbers ("10:30", "1,200"), in order."""
    return [w.casefold() for w in _WORD.findall(plain(text))]


_SIBILANT_ES = re.compile(r"(?:ss|sh|ch|x|z)es$")


def stem(word: str) -> str:
    """``word`` without a plural or possessive ending ("parties" -> "party", "boxes" ->
    "box", "brakes" -> "brake", "potatoes" -> "potato", "taxis" -> "taxi": "es" goes
    only after a hissing sound or an "o"; "buses" is "buse", as "houses" is "house")."""
    if len(word) > 4 and word.endswith("'s"):
        return word[:-2]
    if len(word) > 5 and word.endswith("ies"):
        return word[:-3] + "y"
    if ((len(word) > 4 and _SIBILANT_ES.search(word))
            or (len(word) > 6 and word.endswith("oes"))):
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us")):
        return word[:-1]
    return word


def meaning_words(text: str) -> set[str]:
    """The stemmed words of ``text`` that carry meaning (no stop words), as a set.

    For comparing any two texts (facts, summaries, snippets); questions are compared
    with `assistant.text.similarity.question_words`, which also folds synonyms."""
    return {stem(w) for w in words(text) if w not in STOPWORDS}


def numbers(text: str) -> set[str]:
    """The numbers (times, amounts, days) in ``text``."""
    return {w for w in words(text) if w[0].isdigit()}


def normalize(text: str) -> str:
    """The words of ``text`` joined by single spaces: a key for duplicate checks that
    ignores case, punctuation and spacing."""
    return " ".join(words(text))
