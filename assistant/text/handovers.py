"""A role handed on: who has it now, when a later text says its holder gave it up.

"Who is our landlord?" was answered "Mr. Hartley" from "The landlord is a Mr. Hartley."
until a letter said "Letter from Mr. Hartley: he's selling the building. The new owner is
a Priti Shah". No word of the question is in the letter, so neither retrieval nor the
correction rules (`assistant.text.corrections`) link the two. These rules do, narrowly,
because a wrong name is worse than an old one:

- the question asks who holds a role (`asked_role`: "Who is our landlord now?" ->
  landlord), and the old text states the holder of that role (`holder`: "The landlord
  is a Mr. Hartley", "Mr. Hartley is our landlord", "Landlord: Mr. Hartley");
- the holder gives something up (leaving, retiring, resigning, stepping down, handing
  over, selling) as the subject of a statement: the name, with nothing but a few small
  words between it and the verb ("Mr. Hartley: he's selling", "Dr Patel has retired";
  not "Tomas said Jo is leaving", "Tomas says his wife is leaving", "Jo Smith" for "Dr
  Smith"); not asked, not denied ("isn't selling"), not for a while ("until he's
  back", "leaving early", "if he retires");
- someone is named in their place, in that sentence or the next: for that role ("the
  new manager is Ana" answers who the manager is, never who the dentist is; "his new
  manager" is someone else's), or for whatever they held ("Ana takes over", "replaced
  by Ana", "handed over to Ana", "his successor is Ana");
- a sale hands on ownership only: selling the building, the flat or the house makes the
  buyer ("sold the flat to Priti Shah", "the new owner is", "the new landlord is", "...
  takes over") the owner and the landlord; selling a car, or his own house, changes no
  landlord.

Someone leaving with no successor named changes no answer here.
"""

from __future__ import annotations

import re

from assistant.text.corrections import topic_stem
from assistant.text.lines import sentences
from assistant.text.words import STOPWORDS, plain

#: "Who is our landlord?", "Who's my GP now?", "Who was Owen's manager?", "Who is the
#: landlord of our flat?": the role asked for.
_ASKED_ROLE = re.compile(
    r"^\s*who(?:\s+is|['’]s|\s+was|\s+will\s+be)\s+(?:the|my|our|your|his|her|their|"
    r"[A-Z][\w'’-]*['’]s)\s+(?:new\s+|current\s+)?([a-z][\w-]*(?:\s+(?!(?:now|nowadays|"
    r"these|currently|at|of|for)\b)[a-z][\w-]*)?)"
    r"(?:\s+(?:of|for|at)\s+(?:the|my|our|your)\s+[a-z][\w-]*)?"
    r"(?:\s+(?:now|nowadays|these\s+days|currently|at\s+the\s+moment))?\s*[?!.]*\s*$",
    re.IGNORECASE)
#: Roles a sale hands on: whoever buys the place owns it, and lets it.
OWNING_ROLES = frozenset(("owner", "landlord", "landlady", "freeholder"))
_PLACE = r"(?:building|block|flat|house|property|apartment|place|freehold|premises)"
_TITLES = r"(?:Dr|Mr|Mrs|Ms|Miss|Prof)"
_TITLE = re.compile(rf"^{_TITLES}\.?(?:\s+|$)", re.IGNORECASE)
#: Someone giving a role up.
_GIVES_UP = (r"(?:sell(?:s|ing)?|sold|leav(?:es|ing)|left|retir(?:es|ed|ing)|"
             r"resign(?:s|ed|ing)|quit(?:s|ting)?|step(?:s|ped|ping)\s+down|"
             r"hand(?:s|ed|ing)\s+over|mov(?:es|ed|ing)\s+on)")
_SELLS = re.compile(r"^(?:sell|sold)", re.IGNORECASE)
#: The only words that may stand between the holder and the verb.
_SMALL = frozenset((
    "is", "are", "was", "has", "have", "had", "will", "be", "been", "just", "now",
    "finally", "also", "actually", "officially", "definitely", "apparently", "he", "she",
    "they", "he's", "she's", "they're", "he'll", "she'll", "they'll", "says", "said"))
_DENIED = frozenset(("not", "never", "isn't", "wasn't", "won't", "hasn't", "haven't",
                     "doesn't", "didn't", "aren't", "no", "longer"))
#: Giving up for a while, or only maybe: no hand-over.
_FOR_A_WHILE = re.compile(
    r"\b(?:until|till|while|cover(?:s|ing)?|temporar\w*|maternity|paternity|sick\s+leave|"
    r"holiday|holidays|for\s+(?:a|the|two|three|four|few|couple)\b|early|today|tonight|"
    r"previous|former|old\s+job|last\s+job|in\s+(?:19|20)\d\d)\b", re.IGNORECASE)
_IF = re.compile(r"^\W*(?:if|when|once|whether|maybe|perhaps)\b", re.IGNORECASE)
#: A name of at most four capitalised words, starting at a word's start (so a long run of
#: capitals is read in linear time).
_SOMEONE = rf"(?<![\w'’-])((?:{_TITLES}\.?\s+)?[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*){{0,3}})"
_ROLE_WORDS = r"((?i:[a-z][\w-]*(?:\s+[a-z][\w-]*)?))"
#: Who takes the role over, the role named: "the new manager is Ana", "Ana is our new
#: GP", "Ana's the new manager" (not "his new manager": someone else's).
_FOR_ROLE = (
    re.compile(rf"(?<!\bhis\s)(?<!\bher\s)(?<!\btheir\s)\b[Nn]ew\s+{_ROLE_WORDS}\s*"
               r"(?:is|are|will\s+be|['’]s|:)\s+(?:(?:a|an|the)\s+)?" + _SOMEONE),
    re.compile(_SOMEONE + r"(?:\s+is|\s+will\s+be|['’]s)\s+(?:our|my|the|your)\s+new\s+"
               + _ROLE_WORDS))
#: Who takes over whatever the holder held: "Ana takes over", "replaced by Ana", "handed
#: over to Ana", "her successor is Ana", "Ana is replacing him".
_ANY_ROLE = (
    re.compile(_SOMEONE + r"\s+(?:takes|is\s+taking|will\s+take|took|has\s+taken)\s+over\b"),
    re.compile(r"\b(?:replaced|succeeded)\s+by\s+(?:(?:a|an|the)\s+)?" + _SOMEONE),
    re.compile(r"\bhand(?:s|ed|ing)?\s+over\s+to\s+" + _SOMEONE),
    re.compile(r"\b(?i:his|her|their)\s+successor\s+(?:is|will\s+be)\s+" + _SOMEONE),
    re.compile(_SOMEONE + r"\s+(?:is|will\s+be)\s+replacing\s+(?:him|her|them)\b"))
#: What a sale sells, right after the verb: "the building", "our flat", "the old house".
_SOLD_PLACE = re.compile(rf"\s+(?:(?:the|our)\s+(?:[a-z]+\s+)?)?{_PLACE}\b", re.IGNORECASE)
#: The buyer, right after the place: "sold the flat to Priti Shah".
_TO_BUYER = re.compile(r"\s+to\s+(?:(?:a|an|the)\s+)?" + _SOMEONE)
#: "The landlord is a Mr. Hartley", "Mr. Hartley is our landlord", "Landlord: Mr.
#: Hartley", "our landlord Mr. Hartley": who holds a role, by the role's last word.
_HOLDER_PATTERNS = (
    r"\b{role}s?\s+(?:is|was|will\s+be|['’]s)(?:\s+(?:still|now|again|also))?\s+"
    r"(?:(?:a|an|the)\s+)?" + _SOMEONE,
    _SOMEONE + r"\s+(?:is|was|will\s+be)(?:\s+(?:still|now|again|also))?\s+"
    r"(?:(?:our|my|the|your)\s+)(?:new\s+)?"
    r"(?:[a-z]+\s+)?{role}s?\b",
    r"\b{role}s?\s*[:,–-]\s*(?:(?:a|an|the)\s+)?" + _SOMEONE,
    r"\b(?i:our|my|the)\s+{role}\s+" + _SOMEONE)
#: Capitalised at a sentence's start, or not a person: never a successor.
_NOT_SOMEONE = frozenset((
    "then", "now", "today", "tomorrow", "tonight", "soon", "next", "from", "until", "after",
    "before", "so", "someone", "somebody", "nobody", "none", "unknown", "tbc", "tbd",
    "anyone", "everyone", "he", "she", "they", "his", "her", "their", "it", "plan",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "january", "february", "march", "april", "may", "june", "july", "august",
    "september", "october", "november", "december", "christmas", "easter"))


def asked_role(question: str) -> str | None:
    """The role a "who" question asks about ("Who is our landlord now?" -> "landlord",
    "Who is our mortgage adviser?" -> "mortgage adviser"), lower-case; None for any
    other question ("Who walks Biscuit?", "Who did I meet on Tuesday?")."""
    match = _ASKED_ROLE.match(plain(question))
    if match is None:
        return None
    role = match.group(1).lower()
    return None if role.split()[-1] in STOPWORDS else role


def same_role(a: str, b: str) -> bool:
    """Whether two role phrases end in the same word ("manager", "line manager")."""
    return topic_stem(a.lower().split()[-1]) == topic_stem(b.lower().split()[-1])


def holder(sentence: str, role: str) -> str | None:
    """Whom ``sentence`` states to hold ``role`` ("The landlord is a Mr. Hartley." with
    "landlord" -> "Mr. Hartley"); None if it states no holder of it."""
    word = re.escape(role.lower().split()[-1])
    for pattern in _HOLDER_PATTERNS:
        for match in re.finditer(pattern.replace("{role}", f"(?i:{word})"),
                                 plain(sentence)):
            who = _someone(match.group(1), "")
            if who is not None:
                return who
    return None


def _key_word(name: str) -> str:
    """The word a name is known by: its last, without a title ("Mr. Hartley" ->
    "Hartley")."""
    words = _TITLE.sub("", plain(name).strip()).split()
    return words[-1].strip(".,") if words else ""


def search_word(name: str) -> str:
    """The longest run of letters of the name's last word ("O'Neill" -> "Neill"): what a
    full-text search for the name looks up."""
    runs = re.findall(r"[^\W\d_]+", _key_word(name))
    return max(runs, key=len) if runs else ""


def _someone(found: str, gone: str) -> str | None:
    """``found`` as a person's name: leading words that are no name dropped ("Then Ana"
    -> "Ana"); None if nothing is left, it is a possessive, an acronym ("HR"), or
    ``gone`` (the key word of the one who left)."""
    words = plain(found).split()
    while words and words[0].lower().strip(".") in _NOT_SOMEONE | STOPWORDS:
        words = words[1:]
    if not words or words[-1].endswith("'s"):
        return None
    who = " ".join(words).strip(".,;:")
    key = _key_word(who)
    if not key or key.isupper() or key.lower() == gone.lower() or (
            key.lower() in _NOT_SOMEONE | STOPWORDS):
        return None
    return who


def _first_names(name: str) -> set[str]:
    """The words before a name's key word, titles included ("Mr. Hartley" -> {"mr"})."""
    words = plain(name).replace(".", " ").split()
    return {w.lower() for w in words[:-1]}


def _gives_up(sentence: str, name: str) -> re.Match[str] | None:
    """The verb by which ``name`` gives something up in ``sentence``, if they are its
    subject (nothing but `_SMALL` words between), and it is said for good (not asked,
    denied, for a while or only maybe)."""
    sentence = plain(sentence)
    if sentence.rstrip().endswith("?") or _IF.match(sentence):
        return None
    last = _key_word(name)
    known = _first_names(name)
    pattern = re.compile(rf"\b{re.escape(last)}\b(?:'s\b)?(?P<between>[^.?!]{{0,40}}?)"
                         rf"\b(?P<verb>{_GIVES_UP})\b", re.IGNORECASE)
    for match in pattern.finditer(sentence):
        before = re.findall(r"[\w.]+", sentence[max(0, match.start() - 30):match.start()])
        word = before[-1].strip(".") if before else ""
        if known and word[:1].isupper() and word.lower() not in known:
            continue  # another first name: "Jo Smith" is not "Dr Smith"
        words = re.findall(r"[^\W\d_][\w'’-]*", match.group("between").lower())
        if any(w not in _SMALL for w in words) or any(w in _DENIED for w in words):
            continue  # "Tomas said Jo is", "his wife is", "isn't"
        if _FOR_A_WHILE.search(sentence[match.end():match.end() + 60]):
            continue
        return match
    return None


def _named_after(texts: list[str], role: str, sold: bool) -> str | None:
    """The successor the ``texts`` (the rest of the giving-up sentence, then the next)
    name for ``role``; after a sale, for an owning role only."""
    if sold and role.split()[-1] not in OWNING_ROLES:
        return None
    for part in texts:
        for pattern in _FOR_ROLE:
            for match in pattern.finditer(part):
                said, who = ((match.group(1), match.group(2)) if pattern is _FOR_ROLE[0]
                             else (match.group(2), match.group(1)))
                if same_role(said, role) or (sold and said.split()[-1] in OWNING_ROLES):
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
    said = [plain(s) for s in sentences(text)]
    for i, sentence in enumerate(said):
        gives = _gives_up(sentence, name)
        if gives is None:
            continue
        sold = bool(_SELLS.match(gives.group("verb")))
        rest = sentence[gives.end():]
        if gives.group("verb").lower().startswith("hand"):  # "handed over to Ana"
            to = _TO_BUYER.match(rest)
            who = _someone(to.group(1), last) if to is not None else None
            if who is not None:
                return who
        if sold:
            place = _SOLD_PLACE.match(rest)
            if place is None:
                continue  # a car, his own house: no home of ours changed hands
            buyer = _TO_BUYER.match(rest[place.end():])
            if buyer is not None and role.split()[-1] in OWNING_ROLES:
                who = _someone(buyer.group(1), last)
                if who is not None:
                    return who
        found = _named_after([rest, *said[i + 1:i + 2]], role.lower(), sold)
        who = _someone(found, last) if found else None
        if who is not None:
            return who
    return None
