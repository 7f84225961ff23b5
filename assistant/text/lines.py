"""Text made to fit one line of a prompt, a profile block or a list."""

from __future__ import annotations

import re
import unicodedata

#: Where a sentence ends: after ".", "!" or "?" (not a title's "Dr." or "St.") before
#: a capital, a digit or a quote, and at every line break.
_SENTENCE_END = re.compile(r"(?<!\bDr\.)(?<!\bMr\.)(?<!\bMs\.)(?<!\bMrs\.)(?<!\bSt\.)"
                           r"(?<=[.!?])\s+(?=[\"'\u201cA-Z0-9])|\n+")


def one_line(text: str) -> str:
    """``text`` on one line: every run of whitespace (newlines, tabs, Unicode spaces)
    becomes one space, none at either end."""
    return " ".join(text.split())


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary, marked with " …"
    when something was cut (the mark may go past ``limit``)."""
    if len(text) <= limit:
        return text
    return text[:limit].rsplit(" ", 1)[0] + " …"


def is_blank(text: str) -> bool:
    """True when ``text`` shows nothing: only whitespace and invisible format characters
    (zero-width spaces, direction marks, byte-order marks). Such a note or message is
    empty to the person, so it is refused or skipped like an empty one."""
    return all(ch.isspace() or unicodedata.category(ch) == "Cf" for ch in text)


def sentences(text: str) -> list[str]:
    """The sentences of ``text``, each on one line (`one_line`), blank ones left out."""
    return [one_line(p) for p in _SENTENCE_END.split(text) if p and p.strip()]
