"""A role handed on: who has it now, when a later text says someone gave it up.

"Who is our landlord?" was answered "Mr. Hartley" from "The landlord is a Mr. Hartley."
until a letter said "Letter from Mr. Hartley: he's selling the building. The new owner is
a Priti Shah". No word of the question is in the letter, so neither retrieval nor the
correction rules (`assistant.text.corrections`) link the two. These rules do, narrowly:

- the question asks who holds a role (`asked_role`: "Who is our landlord?" -> landlord);
- the person named for it is the one who gives something up, in a statement (not a
  question, not negated: "isn't selling after all"), with no one else named between
  them and the verb ("Tomas said Jo is leaving" is Jo's news);
- someone is named in their place, in that sentence or the next, for that role: "the
  new manager is Ana" answers "Who is my manager?", never "Who is my dentist?";
  "Ana takes over", "replaced by Ana", "succeeded by Ana" or "his successor is Ana"
  take over whatever the one who left held;
- a sale hands on ownership only: selling the building, flat or house makes its new
  owner the owner and the landlord, and selling a car changes no landlord.

Someone leaving with no successor named changes no answer here.
"""

from __future__ import annotations

import re

from assistant.text.corrections import topic_stem
from assistant.text.lines import sentences
from assistant.text.words import STOPWORDS

#: "Who is our landlord?", "Who's my GP?", "Who was Owen's manager?": the role asked for.
_ASKED_ROLE = re.compile(
    r"^\s*who(?:\s+is|['’]s|\s+was|\s+will\s+be)\s+(?:the|my|our|your|his|her|their|"
    r"[A-Z][\w'’-]*['’]s)\s+(?:new\s+|current\s+)?([a-z][\w-]*(?:\s+[a-z][\w-]*)?)\s*\??\s*$",
    re.IGNORECASE)
#: Roles a sale hands on: whoever buys the place owns it, and lets it.
OWNING_ROLES = frozenset(("owner", "landlord", "landlady", "freeholder"))
_PLACE = r"(?:building|block|flat|house|home|property|apartment|place|freehold|premises)"
_TITLES = r"(?:Dr|Mr|Mrs|Ms|Miss|Prof)"
_TITLE = re.compile(rf"^{_TITLES}\.?(?:\s+|$)", re.IGNORECASE)
#: Someone giving a role up.
_GIVES_UP = (r"(?:sell(?:s|ing)?|sold|leav(?:es|ing)|left|retir(?:es|ed|ing)|"
             r"resign(?:s|ed|ing)|quit(?:s|ting)?|step(?:s|ped|ping)\s+down|"
             r"hand(?:s|ed|ing)\s+over|mov(?:es|ed|ing)\s+on)")
_SELLS = re.compile(r"^(?:sell|sold)", re.IGNORECASE)
#: What may stand between the one named and the verb: "Mr. Hartley: he's", "Tomas is",
#: "Dr Patel has finally": a few words, none of them a name.
_BETWEEN = 40
_NEGATED = re.compile(r"\b(?:not|never|no\s+longer)\b|n['’]t\b", re.IGNORECASE)
#: A name of at most four capitalised words, starting at a word's start (so a long run of
#: capitals is read in linear time).
_SOMEONE = (rf"(?<![\w'’-])((?:{_TITLES}\.?\s+)?[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*){{0,3}})")
_ROLE_WORDS = r"((?i:[a-z][\w-]*(?:\s+[a-z][\w-]*)?))"
#: Who takes the role over, with the role named ("the new manager is Ana", "Ana is our
#: new GP") or not ("Ana takes over", "replaced by Ana", "her successor is Ana").
_FOR_ROLE = (
    re.compile(rf"\b[Nn]ew\s+{_ROLE_WORDS}\s*(?:is|are|will\s+be|['’]s|:)\s+(?:(?:a|an|the)\s+)?"
               + _SOMEONE),
    re.compile(_SOMEONE + r"\s+(?:is|will\s+be)\s+(?:our|my|the|your)\s+new\s+"
               + _ROLE_WORDS))
_ANY_ROLE = (
    re.compile(_SOMEONE + r"\s+(?:takes|is\s+taking|will\s+take|took|has\s+taken)\s+over\b"),
    re.compile(r"\b(?:replaced|succeeded)\s+by\s+(?:(?:a|an|the)\s+)?" + _SOMEONE),
    re.compile(r"\b(?i:his|her|their)\s+successor\s+(?:is|will\s+be)\s+" + _SOMEONE))
#: The buyer, in the selling sentence: "sold the flat to Priti Shah".
_TO_BUYER = re.compile(r"\bto\s+(?:(?:a|an|the)\s+)?" + _SOMEONE)
#: Capitalised at a sentence's start, or not a person: never a successor.
_NOT_SOMEONE = frozenset((
    "then", "now", "today", "tomorrow", "tonight", "soon", "next", "from", "until", "after",
    "before", "so", "someone", "somebody", "nobody", "none", "unknown", "tbc", "tbd",
    "anyone", "everyone", "he", "she", "they", "his", "her", "their", "it", "plan",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "january", "february", "march", "april", "may", "june", "july", "august",
    "september", "october", "november", "december", "christmas", "easter"))


def asked_role(question: str) -> str | None:
    """The role a "who" question asks about ("Who is our landlord?" -> "landlord", "Who
    is our mortgage adviser?" -> "mortgage adviser"), lower-case; None for any other
    question ("Who walks Biscuit?", "Who did I meet on Tuesday?")."""
    match = _ASKED_ROLE.match(question)
    if match is None:
        return None
    role = match.group(1).lower()
    return None if role.split()[-1] in STOPWORDS else role


def same_role(a: str, b: str) -> bool:
    """Whether two role phrases end in the same word ("manager", "line manager")."""
    return topic_stem(a.lower().split()[-1]) == topic_stem(b.lower().split()[-1])


def _plain(text: str) -> str:
    return text.replace("’", "'")


def _key_word(name: str) -> str:
    """The word a name is known by: its last, without a title ("Mr. Hartley" ->
    "Hartley")."""
    words = _TITLE.sub("", _plain(name).strip()).split()
    return words[-1].strip(".,") if words else ""


def search_word(name: str) -> str:
    """The longest run of letters of the name's last word ("O'Neill" -> "Neill"): what a
    full-text search for the name looks up."""
    runs = re.findall(r"[^\W\d_]+", _key_word(name))
    return max(runs, key=len) if runs else ""


def _someone(found: str, gone: str) -> str | None:
    """``found`` as a successor's name: leading words that are no name dropped ("Then
    Ana" -> "Ana"); None if nothing is left, it is a possessive, or it is ``gone``."""
    words = found.split()
    while words and words[0].lower().strip(".") in _NOT_SOMEONE | STOPWORDS:
        words = words[1:]
    if not words or words[-1].endswith(("'s", "’s")):
        return None
    who = " ".join(words).strip(".,;:")
    key = _key_word(who).lower()
    if not key or key == gone.lower() or key in _NOT_SOMEONE | STOPWORDS:
        return None
    return who


def _gives_up(sentence: str, last: str) -> re.Match[str] | None:
    """The verb by which the one known as ``last`` gives something up in ``sentence``,
    if they are its subject and it is said (not asked, not denied)."""
    if sentence.rstrip().endswith("?"):
        return None
    pattern = re.compile(rf"\b{re.escape(last)}\b(?!['’]s)(?P<between>[^.?!]{{0,{_BETWEEN}}}?)"
                         rf"\b(?P<verb>{_GIVES_UP})\b", re.IGNORECASE)
    for match in pattern.finditer(_plain(sentence)):
        between = match.group("between")
        if _NEGATED.search(between) or _NEGATED.search(sentence[match.end():]):
            continue
        if any(w[:1].isupper() for w in re.findall(r"[^\W\d_][\w'’-]*", between)):
            continue  # someone else between them: "Tomas said Jo is leaving"
        return match
    return None


def _named_after(texts: list[str], role: str, sold: bool) -> str | None:
    """The successor the ``texts`` (the rest of the giving-up sentence, then the next)
    name for ``role``: a sale names the new owner, for an owning role only."""
    for part in texts:
        if sold:
            if role.split()[-1] not in OWNING_ROLES:
                return None
            for match in _TO_BUYER.finditer(part if part is texts[0] else ""):
                return match.group(1)
            for match in _FOR_ROLE[0].finditer(part):
                if match.group(1).split()[-1] in ("owner", "owners"):
                    return match.group(2)
            continue
        for pattern in _FOR_ROLE:
            for match in pattern.finditer(part):
                said, who = ((match.group(1), match.group(2)) if pattern is _FOR_ROLE[0]
                             else (match.group(2), match.group(1)))
                if same_role(said, role):
                    return who
        for pattern in _ANY_ROLE:
            for match in pattern.finditer(part):
                return match.group(1)
    return None


def successor(text: str, name: str, role: str) -> str | None:
    """Who holds ``role`` (as `asked_role` gives it) after ``name`` gave it up, if
    ``text`` says so (see the module's rules): "Letter from Mr. Hartley: he's selling the
    building. The new owner is a Priti Shah, from 1 September." with "Mr. Hartley" and
    "landlord" gives "Priti Shah"; None when it says no such thing."""
    last = _key_word(name)
    if len(last) < 2 or not role.strip():
        return None
    said = [_plain(s) for s in sentences(text)]
    for i, sentence in enumerate(said):
        gives = _gives_up(sentence, last)
        if gives is None:
            continue
        sold = bool(_SELLS.match(gives.group("verb")))
        rest = sentence[gives.end():]
        if sold and not re.match(rf"\s+(?:(?:the|his|her|their|our|its|this|that)\s+)?"
                                 rf"(?:[a-z]+\s+)?{_PLACE}\b", rest, re.IGNORECASE):
            continue  # a car, a bike: no one's home changed hands
        found = _named_after([rest, *said[i + 1:i + 2]], role.lower(), sold)
        who = _someone(found, last) if found else None
        if who is not None:
            return who
    return None
