"""Does a new fact correct a stored one? Rules on subject and kind of value.

Used by sleep-time reconciliation (`assistant.mind.reconcile`) and by the query path
(`assistant.recall.evidence`: of two snippets that disagree, the older one goes).

A correction is recognised from three things, none of them the model's judgement (the
bundled 270M model cannot tell "moved to Wednesday" from "also on Wednesday"; see
docs/ARCHITECTURE.md, "Sleep-time flow"):

- the *subject*: the two facts share topic words (crudely stemmed, calendar words and
  values left out), or the new one names a person or place of the old one;
- the *kind of value* each states: time, date, amount, number, person, place;
- a *cue*: an update ("moved to", "actually", "instead", "now", "switched") or an end
  ("cancelled", "called off", "no longer", "not ... any more", "stopped").

A cancellation or negation about the same subject ends the old fact; an update cue with
a different value of a kind the old fact states replaces it; without a cue, a different
value of the same kind replaces it only when the subject is clearly the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from assistant.text.dates import MONTHS, WEEKDAYS
from assistant.text.lines import sentences
from assistant.text.words import STOPWORDS, plain, words


class ValueKind(StrEnum):
    TIME = "time"
    DATE = "date"
    AMOUNT = "amount"
    NUMBER = "number"
    PERSON = "person"
    PLACE = "place"


class Change(StrEnum):
    """How a new fact relates to a stored one about the same subject."""

    NONE = "none"
    REPLACES = "replaces"
    ENDS = "ends"


#: Topic words shared with no cue: enough to call it the same subject.
STRONG_SUBJECT = 2
#: Or this share of the smaller fact's topic words.
STRONG_SHARE = 0.5

_UPDATE_CUES = re.compile(
    r"\b(?:moved|moving|actually|instead|now|switched|changed|rescheduled|postponed|"
    r"pushed back|brought forward|replaced)\b", re.IGNORECASE)
_END_CUES = re.compile(
    r"\b(?:cancel+ed|cancel+ing|called off|no longer|any ?more|stopped|not|no|never)\b"
    r"|n't\b", re.IGNORECASE)
#: An end said outright: enough with a shared name alone ("The Okonkwos called off").
_CALLED_OFF = re.compile(r"\b(?:cancel+ed|cancel+ing|called off|no longer|any ?more|stopped)\b",
                         re.IGNORECASE)
_TIME = re.compile(r"\b\d{1,2}[:.]\d{2}\b|\b\d{1,2}\s?(?:am|pm)\b", re.IGNORECASE)
_ORDINAL = re.compile(r"\b\d{1,2}(?:st|nd|rd|th)\b", re.IGNORECASE)
_MONTH_NAMES = "|".join(MONTHS)
_DAY_MONTH = re.compile(
    rf"\b(?:\d{{1,2}}\s+(?:{_MONTH_NAMES})|(?:{_MONTH_NAMES})\s+\d{{1,2}})\b", re.IGNORECASE)
_WEEKDAY = re.compile(r"\b(" + "|".join(WEEKDAYS) + r")s?\b", re.IGNORECASE)
_AMOUNT = re.compile(r"[£€$]\s?\d[\d,]*(?:\.\d+)?|\b\d[\d,]*(?:\.\d+)?\s?"
                     r"(?:euros?|pounds?|dollars?|eur|gbp|usd)\b", re.IGNORECASE)
_NUMBER = re.compile(r"\b[\w-]*\d[\w-]*\b")
_NAME = re.compile(r"(?:(?:Dr|Mr|Mrs|Ms|St)\.?\s+)?[A-Z][\w'’-]*(?:\s+(?:of\s+)?"
                   r"[A-Z][\w'’-]*)*")
_PLACE_BEFORE = re.compile(r"\b(?:at|in|from|to|near)\s+(?:the\s+)?$", re.IGNORECASE)
_CALENDAR = frozenset((*WEEKDAYS, *MONTHS))
#: Capitalised only because they start a sentence: never a name.
_NOT_NAMES = frozenset(("i", "i'm", "i'll", "i've", "i'd", "we", "we're", "we'll", "we've",
                        "he's", "she's", "they're", "it's", "let's", "that's", "there's",
                        "actually", "also", "just", "then", "so", "but", "and", "change"))
#: Words about when or how often, too common to tie two facts to one subject.
_GENERIC = frozenset(("day", "days", "week", "weeks", "year", "years", "time", "times", "last",
                      "first", "next", "same", "another", "again", "one", "two", "thing",
                      # everyday verbs and words of any story, not of one subject ("The
                      # brakes came to £210 in the end" is not about "the gift came to
                      # £200 in the end"; "Everyone wants a dog" not about "Folasade wants
                      # a one-to-one")
                      "went", "came", "come", "comes", "coming", "goes", "gone", "want",
                      "wants", "wanted", "end", "old", "new", "back", "yesterday", "today",
                      "tomorrow", "tonight", "morning", "evening", "took", "take", "takes",
                      "make", "made", "done", "said", "says", "told", "thinks", "think",
                      "good", "fine", "great", "lovely", "bad", "news", "really", "way",
                      "lot", "little", "big", "found", "give", "gave", "put", "let",
                      "know", "see", "saw", "look", "looking", "keep", "well", "sure",
                      "oh", "ok", "okay", "quick", "note", "done"))
_TITLE = re.compile(r"^(?:dr|mr|mrs|ms)\.?\s+", re.IGNORECASE)


def has_cue(text: str) -> bool:
    """True if ``text`` says that something changed, ended or is not so."""
    return bool(_UPDATE_CUES.search(text) or _END_CUES.search(text))


def topic_stem(word: str) -> str:
    """A cruder stem than `assistant.text.words.stem`, for "same subject" only: the
    first five letters after a plural or possessive ending ("collected"/"collection")."""
    word = word.removesuffix("'s").removesuffix("’s")
    if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    return word[:5]


@dataclass(frozen=True)
class Reading:
    """What a fact says, as far as corrections care."""

    topic: frozenset[str]
    values: dict[ValueKind, frozenset[str]]
    update_cue: bool
    end_cue: bool

    def names(self) -> frozenset[str]:
        return self.values.get(ValueKind.PERSON, frozenset()) | self.values.get(
            ValueKind.PLACE, frozenset())


def _names(text: str, *, label: bool = False) -> tuple[set[str], set[str]]:
    """(people, places): capitalised phrases, a place when a preposition comes before.

    One capitalised word that opens a sentence ("Final answer", "Training moved") may be
    any word: it is not a name unless ``text`` is a subject label."""
    people: set[str] = set()
    places: set[str] = set()
    for match in _NAME.finditer(text):
        phrase = match.group(0)
        parts = [p for p in phrase.split()
                 if p.lower().strip(".'’").removesuffix("s") not in _CALENDAR
                 and p.lower().strip(".'’") not in _CALENDAR]
        dropped = 0
        while parts and (parts[0].lower().strip(".,:'’") in _NOT_NAMES
                         or parts[0].lower() in STOPWORDS):
            parts = parts[1:]
            dropped += 1
        if not parts:
            continue
        before = text[: match.start()]
        opens = not before.strip() or re.search(r"[.!?:;]\s*$", before) is not None
        possessive = re.search(r"(?:'s|’s)$", parts[-1]) is not None
        if opens and not label and len(parts) == 1 and not dropped and not possessive:
            continue
        name = " ".join(parts).strip(".,:'’")
        name = re.sub(r"(?:'s|’s|')$", "", name)
        key = _TITLE.sub("", name).lower()
        if len(key) < 2 or key in STOPWORDS:
            continue
        (places if _PLACE_BEFORE.search(before) else people).add(key)
    return people, places


def read(text: str, subject: str = "") -> Reading:
    """The topic words, typed values and cues of a fact (``subject``: its stored label)."""
    text = plain(text)
    values: dict[ValueKind, set[str]] = {k: set() for k in ValueKind}
    rest = text
    for kind, pattern in ((ValueKind.AMOUNT, _AMOUNT), (ValueKind.TIME, _TIME),
                          (ValueKind.DATE, _DAY_MONTH), (ValueKind.DATE, _ORDINAL)):
        for m in pattern.finditer(rest):
            values[kind].add(" ".join(words(m.group(0))))
        rest = pattern.sub(" ", rest)
    values[ValueKind.DATE] |= {m.group(1).lower() for m in _WEEKDAY.finditer(rest)}
    values[ValueKind.NUMBER] |= {m.group(0).lower() for m in _NUMBER.finditer(rest)
                                 if not _WEEKDAY.fullmatch(m.group(0))}
    people, places = _names(rest)
    values[ValueKind.PERSON] |= people
    values[ValueKind.PLACE] |= places
    subject_people, subject_places = _names(plain(subject), label=True)
    values[ValueKind.PERSON] |= subject_people | subject_places
    value_words = {w for kind in (ValueKind.TIME, ValueKind.DATE, ValueKind.AMOUNT,
                                  ValueKind.NUMBER) for v in values[kind] for w in words(v)}
    topic = {topic_stem(w) for w in words(f"{subject} {text}")
             if w not in STOPWORDS and w.removesuffix("s") not in _CALENDAR
             and w not in value_words
             and w not in _GENERIC and w not in _NOT_NAMES
             and w.split("'")[0] not in STOPWORDS
             and not w[0].isdigit() and len(w) > 2
             and not _UPDATE_CUES.fullmatch(w) and not _END_CUES.fullmatch(w)}
    return Reading(frozenset(topic), {k: frozenset(v) for k, v in values.items() if v},
                   bool(_UPDATE_CUES.search(text)), bool(_END_CUES.search(text)))


#: A number in words, not the hour of a clock ("half past nine", "at nine", "ten to
#: six", "seven o'clock").
_NUMBER_WORDS = re.compile(
    r"(?<!\bat )(?<!\bpast )(?<!\bto )(?<!\bhalf )(?<!\bquarter )"
    r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
    r"forty|fifty|hundred|thousand|dozen)\b(?! (?:o'clock|past|to|am|pm)\b)",
    re.IGNORECASE)
_YEAR = re.compile(r"(?:19|20)\d\d")


def states_amount(text: str) -> bool:
    """Whether ``text`` gives an amount: a sum of money, a number that is not a year, a
    date or a time ("1000 IU", "£24,000", "three months"), not "Friday 27 November at
    9:00" or "a ThinkPad X1 bought in March 2025"."""
    values = read(text).values
    return bool(values.get(ValueKind.AMOUNT)) or any(
        re.fullmatch(r"\d[\d,.]*", n) and not _YEAR.fullmatch(n)
        for n in values.get(ValueKind.NUMBER, ())) or _NUMBER_WORDS.search(text) is not None


def _mentions(new: Reading, old: Reading) -> bool:
    """The new fact names a person or place of the old one (or a word of its name)."""
    new_names = new.names()
    name_words = {w for n in new_names for w in n.split()}
    return any(n in new_names or any(len(w) > 3 and w in name_words for w in n.split())
               for n in old.names())


def _changed_kinds(new: Reading, old: Reading) -> list[ValueKind]:
    """Kinds of value both state where the new fact brings a value the old one lacks."""
    out: list[ValueKind] = []
    for kind, old_values in old.values.items():
        new_values = new.values.get(kind)
        if new_values is None:
            continue
        if kind in (ValueKind.PERSON, ValueKind.PLACE):
            fresh = {v for v in new_values if v not in old_values
                     and not any(v in o or o in v for o in old_values)}
        else:
            fresh = set(new_values - old_values)
        if fresh:
            out.append(kind)
    return out


#: The kinds of value a correction with only names shared must change.
_VALUES = frozenset((ValueKind.TIME, ValueKind.DATE, ValueKind.AMOUNT, ValueKind.NUMBER))
#: A purchase made and the thing bought, up to where its phrase ends ("Ordered the sofa.",
#: "paid for the flights with points"): the amount said with it is what the thing cost
#: in the end. "Bought the sofa cushions" bought cushions, not the sofa.
_BOUGHT = re.compile(
    r"\b(?:ordered|bought|purchased|paid for|booked)\s+(?:the|our|my|a|an)\s+"
    r"([a-z][\w-]*(?:\s+[a-z][\w-]*){0,2}?)"
    r"(?=\s*(?:[.,;:!?]|$)|\s+(?:with|for|from|at|in|on|and|to|online|today)\b)",
    re.IGNORECASE)
#: The amount said is what it all came to ("the total was £1,119", "£1,119 all in").
_TOTAL = re.compile(r"\b(?:total|in total|altogether|all in|in the end|came to|final "
                    r"(?:price|bill|cost))\b", re.IGNORECASE)


def says_total(text: str) -> bool:
    """Whether ``text`` says what something came to in the end ("The brakes came to £210
    in the end"), which a quote or an estimate said before it does not."""
    return bool(total_cues(plain(text)))


def total_cues(text: str) -> list[tuple[int, int]]:
    """Where ``text`` says what something came to ("came to", "in the end", "total"), as
    spans of ``text`` itself."""
    return [m.span() for m in _TOTAL.finditer(text)]


def _bought(text: str) -> set[str]:
    """The topic stems of the things a purchase in ``text`` bought, when it says what
    it all came to (a delivery fee or an MOT said beside it is not their price)."""
    if not says_total(text):
        return set()
    return {topic_stem(m.group(1).split()[-1].lower()) for m in _BOUGHT.finditer(plain(text))}


#: A denial and, a few words on to the end of its clause, what it denies ("didn't get on
#: with Daniel Price", "instead of Casa Lola", "can't make Tuesday").
_DENIED = re.compile(r"(?:\b(?:instead of|rather than|not|no longer|never)\b|n['\u2019]t\b)"
                     r"((?:\s+(?!(?:but|so|or|and|while|because|then)\b)[^\s,.;:!?()]+){1,5})",
                     re.IGNORECASE)


def without_denied(text: str) -> str:
    """``text`` with what a negation or "instead of" denies, up to the end of its clause,
    blanked out (same length, so positions hold): its values are not the answer ("Ben
    didn't get on with Daniel Price. From next week his tutor is Grace Osei.")."""
    def blank(m: re.Match[str]) -> str:
        cue = m.group(0)[:m.start(1) - m.start()]
        return cue + " " * len(m.group(1))

    return _DENIED.sub(blank, text)


def _names_again(new_text: str, old: Reading) -> bool:
    """True if the new fact names a place of the old one ("Training moved to the
    astroturf while Hollis Park gets reseeded"), or a person of it right after a cue."""
    text = plain(new_text).lower()
    near = " ".join(m.group(1) for m in _DENIED.finditer(text))
    return (any(place in text for place in old.values.get(ValueKind.PLACE, ()))
            or any(name in near for name in old.names()))


_REFERS_BACK = re.compile(r"\b(?:it|it's|its|they|they're|them|this|that|these|those|she|"
                          r"she's|he|he's|her|him|there)\b|^\s*(?:cancel+ed|moved|off)\b",
                          re.IGNORECASE)


def _cues_about(new_text: str, new: Reading, old: Reading) -> tuple[bool, bool, bool]:
    """(update cue, end cue, end said outright) in the sentences of ``new_text`` (read
    whole as ``new``) that share a topic word or a name with ``old``: "You changed the
    standing order." says nothing of "The new owner is Priti Shah" beside it."""
    if not (new.update_cue or new.end_cue):
        return False, False, False
    parts = sentences(new_text)
    related: list[str] = []
    previous = False  # whether the sentence before was about the old fact
    for part in parts if len(parts) > 1 else []:
        reading = read(part)
        # "The dentist rang. They moved it to Thursday.": a pronoun carries on with
        # what the sentence before it was about.
        previous = (bool(reading.topic & old.topic) or _mentions(reading, old)
                    or (previous and _REFERS_BACK.search(part) is not None))
        if previous:
            related.append(part)
    text = plain(" ".join(related) if len(parts) > 1 else new_text)
    return (bool(_UPDATE_CUES.search(text)), bool(_END_CUES.search(text)),
            bool(_CALLED_OFF.search(text)))


_FIRST_PERSON = re.compile(r"^\W*(?:i|i'm|i've|i'll|we|we're|we've|we'll|my|our|me|us)\b",
                           re.IGNORECASE)
_SAYS_FIRST_PERSON = re.compile(r"\b(?:i|i'm|i've|i'll|i'd|we|we're|we've|we'll|my|our|me|"
                                r"us|mine|ours)\b", re.IGNORECASE)
_LEADING_NAME = re.compile(r"^\W*((?:(?:Dr|Mr|Mrs|Ms)\.?\s+)?[A-Z][\w'’-]*)")


def about_someone_else(new_text: str, old_text: str) -> bool:
    """Whether ``new_text`` is about someone that ``old_text``, said of the person
    themselves, never names: "Keiko now moves to Glasgow on 6 September" corrects nothing
    of "We move the boxes next Saturday, 9 May". A new text that speaks of the person too
    ("Dr Patel moved my appointment", "Update: we now move ...") is about them."""
    new_text = plain(new_text)
    lead = _LEADING_NAME.match(new_text)
    if (lead is None or _FIRST_PERSON.match(plain(old_text)) is None
            or _SAYS_FIRST_PERSON.search(new_text) is not None
            or new_text[lead.end():lead.end() + 1] in (":", ",")):
        return False  # "Update: we now move ...", "Dr Patel moved my appointment ..."
    name = lead.group(1).removesuffix("'s").removesuffix("’s")
    if name.lower() in _NOT_NAMES | STOPWORDS | _CALENDAR:
        return False
    return name.lower() not in plain(old_text).lower()


def classify(new_text: str, new_subject: str, old_text: str, old_subject: str) -> Change:
    """Whether the fact ``new_text`` corrects the stored fact ``old_text``.

    The subject is *surely* the same when two topic words are shared, or one together
    with a shared name; it is *close* when one shared word is half of the smaller
    fact's topic. An end cue ends the old fact on a sure or close subject; a mere
    negation needs a shared word besides the names, or a new time, date, amount or
    number, or the old place named again, or the old person named right after the cue
    ("Gwen can't eat mushrooms" ends nothing of "Gwen suggested June"; "Ben didn't get
    on with Daniel Price" ends "the agency gave us Daniel Price"); an end said outright
    needs none of them ("The Okonkwos called off Friday"); an update cue replaces it on
    a sure subject or with a different value of a kind both state, and with only names
    shared, with the same things a negation needs; with no cue, a different value
    needs a sure subject that shares a word besides the names. Words of any story
    ("went", "wants", "old", "new") are never topic words."""
    if about_someone_else(new_text, old_text):
        return Change.NONE
    new = read(new_text, new_subject)
    old = read(old_text, old_subject)
    # Every capitalised phrase counts as a name here, a sentence's first word too.
    labels = [n for t in (new_text, old_text) for kind in _names(plain(t), label=True)
              for n in kind]
    named = {topic_stem(w) for n in (*new.names(), *old.names(), *labels) for w in words(n)}
    # A name shared is not a subject shared ("Owen - a frame" is not "Owen likes
    # Bishopston"): names count through ``mentions`` only.
    shared = len(new.topic & old.topic)
    mentions = _mentions(new, old)
    smaller = max(1, min(len(new.topic), len(old.topic)))
    sure = shared >= STRONG_SUBJECT or (shared >= 1 and mentions)
    # Without an update cue, a name shared is not a subject shared ("Owen - a frame for
    # the barometer" is not "Owen likes Bishopston", "Gwen can't eat mushrooms" ends
    # nothing of "Gwen suggested June"): a word besides the names must be.
    unnamed = bool((new.topic & old.topic) - named)
    sure_uncued = sure and unnamed
    close = shared >= 1 and shared / smaller >= STRONG_SHARE
    kinds = set(_changed_kinds(new, old))
    if ValueKind.AMOUNT in kinds and _bought(new_text) & old.topic:
        return Change.REPLACES  # "Ordered the sofa ... the total was £1,119": its price
    if not (sure or close or mentions):
        return Change.NONE
    changed = bool(kinds)
    # With nothing shared but names, a cue needs a new time, date, amount or number, or
    # the old place or person named with it: any story names people and places ("Since
    # Snowdonia fell through we went to the Forest of Dean instead, just Owen" replaces
    # nothing of "Owen has hay fever"; "Don't let me forget" in "Owen's birthday is 3
    # July" ends nothing of "Owen got the keys"), but "The Ivy instead of Casa Lola"
    # replaces Casa Lola and "Ben didn't get on with Daniel Price" ends Daniel Price.
    valued = bool(kinds & _VALUES) or _names_again(new_text, old)
    update_cue, end_cue, called_off = _cues_about(new_text, new, old)
    if end_cue and (sure or close) and (unnamed or valued or called_off):
        return Change.ENDS
    if update_cue and (sure or changed) and (unnamed or valued):
        return Change.REPLACES
    if changed and sure_uncued:
        return Change.REPLACES
    return Change.NONE

