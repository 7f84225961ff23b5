"""Who said a line, and a line told of its speaker instead of "I".

A memory is read later, out of its conversation, by a prompt that has no idea who "I"
was: "I'm living my true self" must become "Gina is living Gina's true self", and in
the person's own memory "I moved" becomes "you moved". `mind` writes facts this way;
`recall` quotes evidence this way. Rules, no model.
"""

from __future__ import annotations

import re

#: How a fact names the person whose memory it is.
PERSON = "you"
#: "Gina: Jon and I both love dance." -- a line that names its speaker first.
_NAMED_SPEAKER = re.compile(r"^\s*([A-Z][\w'’-]+(?: [A-Z][\w'’-]+)?)\s*:\s+(?=\S)")
#: Words that open a line with a colon without naming anyone.
_LABELS = frozenset({"user", "reverie", "note", "noted", "update", "reminder", "ps", "also",
                     "todo", "edit", "question", "answer", "correction", "actually"})
#: First-person words -> (for "you", for a name N: "{}" is N).
_FIRST_PERSON: tuple[tuple[str, str, str], ...] = (
    (r"I'm|I’m|I am", "you're", "{} is"),
    (r"I was", "you were", "{} was"),
    (r"I've|I’ve|I have", "you've", "{} has"),
    (r"I'll|I’ll", "you'll", "{} will"),
    (r"I'd|I’d", "you'd", "{} would"),
    (r"I", "you", "{}"),
    (r"myself", "yourself", "{}"),
    (r"mine", "yours", "{}'s"),
    (r"my", "your", "{}'s"),
    (r"me", "you", "{}"),
    (r"(?:the )?user's", "your", "{}'s"),
    (r"(?:the )?user", "you", "{}"),
)
_FIRST_PERSON_RE = re.compile(
    r"\b(" + "|".join(f"(?:{p})" for p, _, _ in _FIRST_PERSON) + r")\b", re.IGNORECASE)

def speaker_of(text: str, *, is_person: bool) -> str:
    """Who wrote a line: "Reverie" for the assistant's lines; for the person's, the name
    it opens with ("Gina: ...", an imported chat between two people), else "you"."""
    if not is_person:
        return "Reverie"
    named = _NAMED_SPEAKER.match(text)
    if named is not None and named.group(1).lower() not in _LABELS:
        return named.group(1)
    return PERSON


def in_third_person(text: str, speaker: str) -> str:
    """``text`` with "I", "my", "me" (and the speaker label "User") told of ``speaker``:
    "you"/"your" for the person, the name otherwise ("I'm a nurse" -> "Gina is a
    nurse"); a leading "Gina: " label of that speaker goes."""
    named = _NAMED_SPEAKER.match(text)
    if named is not None and named.group(1) == speaker:
        text = text[named.end():]
    if not speaker:
        return text

    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        low = word.lower()
        if word[:1].isupper() and low in ("me", "mine", "myself") and match.start() != 0:
            return word  # a capital "Me" inside a sentence is a name or a title
        if "user" in low and not (word[:1] == "U" or low.startswith("the ")):
            return word  # "a user" in ordinary text is not the speaker
        for pattern, you, name in _FIRST_PERSON:
            if re.fullmatch(pattern, word, re.IGNORECASE):
                out = you if speaker == PERSON else name.format(speaker)
                before = text[:match.start()].rstrip()
                if not before or before.endswith((".", "!", "?", ":")):
                    out = out[:1].upper() + out[1:]
                return out
        return word

    return _FIRST_PERSON_RE.sub(swap, text)
