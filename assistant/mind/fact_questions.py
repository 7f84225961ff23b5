"""Questions a person predictably asks about a stored fact, and the fact's own answer.

A fact ("Alan walks Biscuit on Wednesdays.", "Rent: £1,225 a month", "Pottery finishes
on 24 November 2026") states values of a few kinds: a time or date, a person, a place,
an amount. For each value the question it answers is the fact with the value taken
out and the question word of its kind put in ("Who walks Biscuit on Wednesdays?",
"How much is my rent?", "When does pottery finish?"), in a few phrasings; the answer
is the value itself (a when-answer keeps its whole date and time), never a model's
paraphrase. Questions are asked from the person's side: the fact's "you"/"your" read
"I"/"my". Each question is ranked by how predictable it is (`rank`): upcoming dates
first, then people, places and amounts, then what merely happened. Rules, no model:
the bundled 270M model asks vague questions ("What is the result?") and answers them
with guesses, so its proposals only add to these (`assistant.mind.anticipate`).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from assistant.text.dates import MONTHS, WEEKDAYS, dates_in
from assistant.text.lines import one_line, sentences
from assistant.text.similarity import question_words

#: Phrasings kept per value, and values (kinds) asked about per fact.
PHRASINGS_PER_VALUE = 2
VALUES_PER_FACT = 2
#: Sentences of one fact asked about (a fact is a message's sentence or a few).
MAX_SENTENCES = 3
#: A question longer than this is not one a person types.
MAX_QUESTION_WORDS = 14
#: An answer longer than this is the fact sentence, not its value.
MAX_VALUE_CHARS = 80

_MONTH = "(?:" + "|".join(m.capitalize() for m in MONTHS) + ")"
_DAY = "(?:" + "|".join(d.capitalize() for d in WEEKDAYS) + ")"
_CLOCK = r"\d{1,2}[:.]\d{2}(?:\s?[ap]m)?|\d{1,2}\s?[ap]m\b|noon|midnight"
#: One piece of a date or time; pieces close together join into one when-value.
_WHEN_PIECE = re.compile(
    rf"\b(?:{_DAY}s?\s+)?(?:\d{{1,2}}(?:st|nd|rd|th)?\s+(?:and|to|-|–)\s+)?"
    rf"\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH}(?:\s+\d{{4}})?\b"
    rf"|\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?\b"
    rf"|\b(?:every (?:other )?)?{_DAY}s?(?:\s+(?:morning|afternoon|evening|night)s?)?\b"
    rf"|\b(?:early |late |mid-)?{_MONTH}(?:\s+\d{{4}})?\b"
    rf"|\bthe \d{{1,2}}(?:st|nd|rd|th)\b|\b(?:{_CLOCK})")
#: What may stand between two pieces of one when-value ("Tuesday at 19:00").
_WHEN_JOIN = re.compile(r"^(?:,?\s*(?:at|from|to|until|after|before|around|-|–|and)?\s*"
                        r"(?:the\s+)?)$")
_AMOUNT = re.compile(r"[£€$]\s?\d[\d,]*(?:\.\d+)?k?(?:\s?(?:a|per) (?:day|week|month|year|"
                     r"night|hour))?|\b\d[\d,]*(?:\.\d+)?k?\s?(?:euros?|pounds?|dollars?|quid)"
                     r"(?:\s?(?:a|per) (?:day|week|month|year|night|hour))?\b", re.IGNORECASE)
_NAME = re.compile(r"\b(?<![\w'’-])(?:(?:Dr|Mr|Mrs|Ms)\.?\s+)?[A-Z][\w'’-]*"
                   r"(?:\s+(?:(?:of|de|des|du|do|da|la|le|y|von|van|di)\s+)?[A-Z][\w'’-]*)*")
_ADDRESS = re.compile(r"\b\d{1,4}[a-z]?\s+(?:[A-Z][\w'-]*\s+)*(?:Road|Street|Vale|Lane|Avenue|"
                      r"Close|Way|Place|Square|Terrace|Drive|Hill|Park|Crescent|Gardens|"
                      r"Court|Row|Walk|Rd|St)\b")
_PLACE_BEFORE = re.compile(r"\b(?:at|in|to|near|on)\s+(?:the\s+)?$")
#: Prepositions that go out with the value ("on 24 November", "at 19:00").
_LEAD = re.compile(r"(?:(?:\b(?:on|at|in|by|from|until|till|for|to|with|of|after|before|"
                   r"around|about)"
                   r"\s+(?:the\s+)?)+|\bthe\s+)$", re.IGNORECASE)
#: A label line of a note: "Vet: Highbury Vets, Gloucester Road".
_LABEL = re.compile(r"^\s*([A-Za-z][\w'’ -]{1,30}?)\s*[:–-]\s+(\S.*)$")
_ANNOTATION = re.compile(r"\s*\((?:" + _DAY + r")\s+\d{1,2}\s+" + _MONTH + r"\s+\d{4}\)")
_FILLER = re.compile(r"^(?:(?:oh|so|but|and|also|well|actually|anyway|ok|okay|update|"
                     r"by the way|btw)\b[,:]?\s*)+", re.IGNORECASE)
_OTHER_CLAUSE = re.compile(r",?\s+(?:but|because|although|though|whereas|so that)\s+.*$",
                           re.IGNORECASE)
_MODAL = re.compile(r"^(\S.*?)\s+(will|would|can|could|should|must|might|shall)\s+"
                    r"((?!not\b)[a-z].*)$")
_COPULA = re.compile(r"^(.+?)\s+(is|are|was|were|will be)\b\s*(.*)$", re.IGNORECASE)
_NOT_NAMES = frozenset(("I", "You", "We", "They", "He", "She", "It", "The", "A", "An", "My",
                        "Your", "Our", "This", "That", "There", "What", "When", "Who",
                        "Where", "How", "Christmas", "Easter", "Dr", "Mr", "Mrs", "Ms",
                        "Boxing", "Day", "Oh", "So", "But", "And", "Also", "Final"))
#: Irregular past forms: (past, base).
_IRREGULAR_PAST = {"took": "take", "went": "go", "came": "come", "got": "get", "made": "make",
                   "paid": "pay", "gave": "give", "found": "find", "left": "leave",
                   "bought": "buy", "told": "tell", "said": "say", "met": "meet",
                   "began": "begin", "had": "have", "did": "do", "sent": "send",
                   "moved": "move", "booked": "book", "saw": "see",
                   "won": "win", "lost": "lose", "fell": "fall", "broke": "break",
                   "spent": "spend", "built": "build", "kept": "keep", "felt": "feel",
                   "sold": "sell", "heard": "hear", "thought": "think", "brought": "bring",
                   "wrote": "write", "ran": "run", "ate": "eat", "chose": "choose",
                   "drove": "drive", "flew": "fly", "rang": "ring", "took off": "take off"}
_VIEW = (("you're", "I'm"), ("you've", "I've"), ("you'll", "I'll"), ("you'd", "I'd"),
         ("yourself", "myself"), ("yours", "mine"), ("your", "my"), ("you", "I"))
_VIEW_RE = re.compile(r"\b(" + "|".join(re.escape(a) for a, _ in _VIEW) + r")\b",
                      re.IGNORECASE)


@dataclass(frozen=True)
class FactQuestion:
    """A question a fact answers, the answer (the fact's value), and how predictable."""

    question: str
    answer: str
    kind: str
    predictability: float


@dataclass(frozen=True)
class _Value:
    kind: str  # time | person | place | amount
    start: int
    end: int
    text: str


def _person_view(text: str) -> str:
    """The fact as the person would say it: "your rent" -> "my rent", "you" -> "I"."""
    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        for said, asked in _VIEW:
            if word.lower() == said:
                return asked if asked.startswith("I") or not word[0].isupper() \
                    else asked.capitalize()
        return word

    out = _VIEW_RE.sub(swap, re.sub(r"\b(I|[Ww]e|[Yy]ou|[Tt]hey|[Ss]he|[Hh]e)['\u2019]ll\b",
                                    r"\1 will", text))
    return re.sub(r"\bI (are|were|have|do|go|pay|take|need|want|like)\b",
                  lambda m: "I " + {"are": "am", "were": "was"}.get(m.group(1), m.group(1)),
                  out)


def _when_values(text: str) -> list[_Value]:
    pieces = [m for m in _WHEN_PIECE.finditer(text) if m.group(0).strip()]
    out: list[_Value] = []
    for m in pieces:
        if out and _WHEN_JOIN.match(text[out[-1].end:m.start()]):
            last = out[-1]
            out[-1] = _Value("time", last.start, m.end(), text[last.start:m.end()])
        else:
            out.append(_Value("time", m.start(), m.end(), m.group(0)))
    return out


def _name_values(text: str, names: Collection[str]) -> list[_Value]:
    """People and places: capitalised phrases; one that opens the fact only when it is
    a name met elsewhere (``names``): "Alan walks...", not "Pottery finishes..."."""
    out: list[_Value] = []
    for m in _ADDRESS.finditer(text):
        out.append(_Value("place", m.start(), m.end(), m.group(0)))
    for m in _NAME.finditer(text):
        phrase = m.group(0).rstrip("'’-")
        words = phrase.split()
        while words and (words[0] in _NOT_NAMES or words[0].lower() in MONTHS
                         or words[0].lower().rstrip("s") in WEEKDAYS):
            words = words[1:]
        if not words or any(w.lower().rstrip("s") in WEEKDAYS or w.lower() in MONTHS
                            for w in words):
            continue
        name = " ".join(words)
        start = m.start() + phrase.index(words[0])
        if any(v.start <= start < v.end for v in out):
            continue
        before = text[:start]
        opens = not before.strip() or re.search(r"[.!?:;]\s*$", before) is not None
        bare = re.sub(r"['’]s$", "", name)
        if opens and bare.split()[0] not in names:
            continue
        if len(bare) < 2 or "'" in bare or "’" in bare or any(
                w[1:] != w[1:].lower() for w in bare.split() if w not in names):
            continue  # "I'll", "MOT", "CareLink": not a person or a place
        if name.endswith(("'s", "’s")):
            continue  # "Huw's knee operation": the name owns the topic, it is not the value
        after = re.match(r"\s+([a-z]+)\b", text[start + len(name):])
        if after is not None and re.search(r"\b(?:the|a|an|our|my|your)\s+$", before) and (
                _base_verb(after.group(1)) is None and after.group(1) not in _NOT_VERBS):
            continue  # "the Lyon half marathon", "the Heron project": a name as a modifier
        titled = re.match(r"(?:Dr|Mr|Mrs|Ms)\b", name) is not None
        kind = "place" if _PLACE_BEFORE.search(before) and not titled else "person"
        out.append(_Value(kind, start, start + len(name), name))
    return out


def values_of(text: str, names: Collection[str] = ()) -> list[_Value]:
    """The values ``text`` states, in order: dates and times, amounts, people, places."""
    found = _when_values(text)
    found += [_Value("amount", m.start(), m.end(), m.group(0)) for m in _AMOUNT.finditer(text)]
    found += [v for v in _name_values(text, names)
              if not any(v.start < o.end and o.start < v.end for o in found)]
    found.sort(key=lambda v: v.start)
    merged: list[_Value] = []
    for v in found:  # "Keiko and Roisin" answer one who-question together
        last = merged[-1] if merged else None
        between = text[last.end:v.start] if last is not None else ""
        people = last is not None and last.kind == v.kind == "person" and re.fullmatch(
            r",?\s*(?:and|,)\s*", between)
        one_place = last is not None and {last.kind, v.kind} <= {"person", "place"} and (
            re.fullmatch(r"\s*(?:and|&)\s*", between))
        if last is not None and (people or one_place):
            # "Keiko and Roisin" answer one who-question; "Ox and Finch" is one place
            merged[-1] = _Value(last.kind, last.start, v.end, text[last.start:v.end])
        else:
            merged.append(v)
    return merged


def known_names(texts: Collection[str]) -> frozenset[str]:
    """Capitalised words met inside sentences (not at their start): the names of a
    profile, so that a fact opening with one of them ("Alan walks...") is about a person."""
    out: set[str] = set()
    for text in texts:
        for m in re.finditer(r"(?<=[a-z,;] )([A-Z][a-z'’-]+)", text):
            word = re.sub(r"['’]s$", "", m.group(1))
            if word not in _NOT_NAMES and word.lower() not in MONTHS \
                    and word.lower().rstrip("s") not in WEEKDAYS:
                out.add(word)
    return frozenset(out)


def _base_verb(word: str) -> tuple[str, str] | None:
    """("does"|"did", base form) for a verb in the present -s or past form, else None."""
    low = word.lower()
    if low in _IRREGULAR_PAST:
        return "did", _IRREGULAR_PAST[low]
    if len(low) > 4 and low.endswith("ed"):
        stem = low[:-2]
        if low.endswith("ied"):
            return "did", low[:-3] + "y"
        if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in "ls":
            return "did", stem[:-1]
        return "did", stem + ("e" if stem[-1] in "vcgzu" else "")
    if low == "has":
        return "does", "have"
    if len(low) > 3 and low.endswith("s") and not low.endswith(("ss", "us", "is")):
        if low.endswith("ies"):
            return "does", low[:-3] + "y"
        if low.endswith(("shes", "ches", "xes", "sses", "zes", "oes")):
            return "does", low[:-2]
        return "does", low[:-1]
    return None


def _tidy(text: str) -> str:
    text = re.sub(r"\s+([,.;:!?])", r"\1", re.sub(r"\s+", " ", text)).strip(" ,;:-–.")
    text = re.sub(r"(?:,\s*)+$", "", text)
    return re.sub(r"\b(the|a|an|and|on|at|in|of|with|for)$", "", text,
                  flags=re.IGNORECASE).strip(" ,;:-–")


def _lower_first(text: str, names: Collection[str]) -> str:
    """A determiner that opened the fact is lower-cased inside the question; any other
    capitalised first word may be a name and stays."""
    first = text.split(" ", 1)[0]
    lower = first.lower() in _DETERMINERS or first in ("We", "They", "You")
    return text[:1].lower() + text[1:] if lower else text


#: Verbs that set a date for something: the date answers "When is <the thing>?".
_ARRANGING = frozenset(("book", "schedule", "arrange", "reserve", "plan", "set", "fix",
                        "organise", "organize", "move", "reschedule", "confirm"))
#: Prepositions a who-question keeps at its end.
_STRANDED = ("with", "to", "for", "from", "by")
#: Words in -s or -ed that are not verbs.
_NOT_VERBS = frozenset(("downstairs", "upstairs", "always", "perhaps", "sometimes",
                        "afterwards", "towards", "nowadays", "is", "was", "does",
                        "as", "us", "this", "his", "its", "yes", "less", "unless",
                        "the", "a", "an", "and", "or", "but", "not", "also", "still",
                        "already", "both", "all", "just", "really"))
_HEDGES = frozenset(("maybe", "probably", "about", "around", "roughly", "so", "just", "then",
                     "and", "but", "still", "also"))
_DETERMINERS = frozenset(("my", "our", "the", "a", "an", "this", "that", "his", "her",
                          "their"))
#: A question about "her" or "him" cannot be matched to the person it means.
_PRONOUNS = re.compile(r"\b(he|she|her|him|his|hers|it|its|they|them|their|this|that|"
                       r"these|those)\b", re.IGNORECASE)
#: What a question must not keep from its fact: brackets, a dangling conjunction.
_BROKEN = re.compile(
    r"[()\[\]!:;\"&£€$]|\b\w+'(?:re|ve|ll|d|m)\b|\d{4}"
    r"|\b(and|or|but|so|which|is|are|the|a|an)\?$|\b(?P<w>\w+) (?P=w)\b"
    r"|\b(?:the|a|an) (?:in|on|at|to|of|for|with|from|by)\b"
    r"|^\w+ (is|are|does|do|did) (is|are|and|or|to)\b", re.IGNORECASE)
#: Note labels that are things to do: "Bring: payslips" -> "What do I need to bring?"
_TODO_LABELS = frozenset(("to do", "todo", "to-do", "bring", "buy", "book", "call", "pack",
                          "ask", "pay", "get", "order", "email", "send", "check", "fix",
                          "remember", "renew",
                          "return", "cancel", "collect", "pick up"))


def acceptable(question: str) -> bool:
    """A question worth preparing: whole, about one named thing (no "she", "it"), with
    topic words beyond its question words, short enough to be typed."""
    pronoun = _PRONOUNS.search(question)
    # "her" may stand in a question only for someone it names before it
    named = pronoun is not None and re.search(r"\s[A-Z][a-z]", question[:pronoun.start()])
    return (3 <= len(question.split()) <= MAX_QUESTION_WORDS
            and not _BROKEN.search(question) and (pronoun is None or bool(named))
            and bool(question_words(question)))


_WH = {"time": "When", "person": "Who", "place": "Where", "amount": "How much"}


def _phrasings(kind: str, clause: str, value: _Value, names: Collection[str],
               today: date, lead: str = "") -> list[str]:
    """Questions whose answer is ``value``, made from the ``clause`` it was taken out of
    (the clause with the value removed; ``lead``: the preposition that went with it)."""
    wh = _WH[kind]
    # What follows "but", "because"... is another clause ("... but we will be away").
    rest = _tidy(_OTHER_CLAUSE.sub("", clause))
    if not rest:
        return []
    if value.start == 0:  # the value was the clause's subject: "Alan walks Biscuit..."
        return [f"Who {rest}"] if kind == "person" else []
    modal = _MODAL.match(rest)
    if modal is not None and len(modal.group(1).split()) <= 5:
        # "We will drive to Cardiff" -> "When will we drive to Cardiff?"
        subject = _lower_first(modal.group(1), names)
        verb, tail = modal.group(2).lower(), modal.group(3)
        out = [f"{wh} {verb} {subject} {tail}"]
        if kind == "time":
            out.append(f"{_what_when(value)} {verb} {subject} {tail}")
        return out
    cop = _COPULA.match(rest)
    if cop is not None and len(cop.group(1).split()) <= 7:
        subject = _lower_first(cop.group(1), names)
        verb = cop.group(2).lower()
        tail = f" {cop.group(3)}" if cop.group(3) else ""
        if subject == "I":
            verb = {"is": "am", "was": "was"}.get(verb, verb)
        if kind == "person" and lead in _STRANDED:
            tail = f"{tail} {lead}"  # "Who are the spare keys with?"
        out = [f"{wh} {verb} {subject}{tail}"]
        if kind == "time":
            out.append(f"{_what_when(value)} {verb} {subject}{tail}")
        elif kind == "amount":
            out.append(f"What {verb} {subject}{tail}")
        elif kind == "person":
            out.append(f"Who {verb} {subject}")
        return out
    words = rest.split()
    verbs = [(i, _base_verb(w)) for i, w in enumerate(words[1:8], 1)
             if w.islower() and w not in _NOT_VERBS
             and not (i + 1 < len(words) and words[i + 1].islower()
                      and _base_verb(words[i + 1]) is not None)]
    plural = re.match(r"^(?:[A-Z][\w'’-]+ and [A-Z][\w'’-]+|I|We|we|They|they)\s+([a-z]+)\b",
                      rest)
    if plural is not None and plural.group(1) not in _NOT_VERBS and not any(
            v for _, v in verbs):
        # "Keiko and Roisin arrive on 23 December": a plain verb after a plural subject
        verbs = [(len(rest[:plural.start(1)].split()), ("do", plural.group(1)))]
    # A past form is surely the verb; a word in -s may be a plural ("the brakes came").
    found = [(i, v) for i, v in verbs if v is not None and v[0] == "did"] or [
        (i, v) for i, v in verbs if v is not None]
    for i, verb in found[:1]:
        aux, base = verb
        tail = " ".join(words[i + 1:])
        if kind == "time" and aux == "did" and any(d >= today
                                                   for d in dates_in(value.text, today)):
            # "I booked the dentist for 2 December": the date is the dentist's, not the
            # booking's; "When did I book...?" would be answered with a date to come.
            if base in _ARRANGING and tail and lead in ("for", "on", "to"):
                thing = _own(tail, names)
                return [f"When {_be(thing)} {thing}"]
            return []
        subject = _lower_first(" ".join(words[:i]), names)
        if subject == "I" and aux == "does":
            aux = "do"
        elif subject.lower().startswith(("we ", "they ")) or " and " in subject:
            aux = "do" if aux == "does" else aux
        if kind == "person" and lead in _STRANDED:
            tail = f"{tail} {lead}".strip()  # "Who did I book the dentist with?"
        question = f"{wh} {aux} {subject} {base}" + (f" {tail}" if tail else "")
        out = [question]
        if kind == "time":
            out.append(f"{_what_when(value)} {aux} {subject} {base}"
                       + (f" {tail}" if tail else ""))
        return out
    # A label: "One-to-one every other Monday" -> "When is my one-to-one?"
    if len(words) <= 3 and not verbs and kind in ("time", "amount") and \
            words[0].lower() not in _HEDGES and not words[0].endswith("ing"):
        return [f"{wh} {_be(rest)} {_own(rest, names)}"]
    return []


def _what_when(value: _Value) -> str:
    """"What time" for a clock time alone, "What day" for a weekday, else "What date"."""
    if re.search(_CLOCK, value.text) and not re.search(rf"{_MONTH}|{_DAY}", value.text):
        return "What time"
    return "What day" if re.search(_DAY, value.text) else "What date"


def _be(topic: str) -> str:
    return "are" if topic.endswith("s") and not topic.endswith("ss") else "is"


def _own(topic: str, names: Collection[str]) -> str:
    """``topic`` as the person's own ("my rent") unless it has its owner already."""
    first = topic.split()[0]
    if first.lower() in _DETERMINERS or re.sub(r"['’]s$", "", first) in names or \
            re.search(r"['’]s\b", topic):
        return _lower_first(topic, names)
    return f"my {topic[:1].lower() + topic[1:] if first[1:] == first[1:].lower() else topic}"


def _clause(text: str, value: _Value) -> tuple[str, _Value]:
    """The clause of ``text`` that holds ``value`` ("..., first meeting on ..." split at
    commas and semicolons), with the value's offsets made relative to it."""
    start = 0
    for m in re.finditer(r"(?<!\bMr)(?<!\bMrs)(?<!\bMs)(?<!\bDr)(?<!\bSt)[;:,.!?]\s+"
                         r"|\s+[–-]\s+", text):
        if m.end() <= value.start:
            start = m.end()
        elif m.start() >= value.end:
            end = m.start()
            break
    else:
        end = len(text)
    clause = text[start:end]
    return clause, _Value(value.kind, value.start - start, value.end - start, value.text)


def _introduced(before: str, names: Collection[str]) -> list[str]:
    """"When is my pottery class?" for a time that follows the clause introducing its
    thing: "You started a pottery class at the Kiln Rooms: Tuesdays 18:30"."""
    if not re.search(r":\s*$", before):
        return []
    words = _tidy(before).split()
    for i, word in enumerate(words[1:6], 1):
        if word.islower() and word not in _NOT_VERBS and _base_verb(word) is not None:
            thing: list[str] = []
            for w in words[i + 1:]:
                if w.lower() in ("at", "in", "on", "with", "for", "from", "to", "by"):
                    break
                thing.append(w)
            if thing and thing[0].lower() in ("a", "an", "the", "my", "our"):
                thing = thing[1:]
            if 1 <= len(thing) <= 4:
                topic = " ".join(thing)
                return [f"When {_be(topic)} {_own(topic, names)}"]
            return []
    return []


def _lead(clause: str, value: _Value) -> str:
    """The preposition right before ``value`` ("with" in "with Dr. Okafor"), if any."""
    m = re.search(r"\b(on|at|in|by|from|until|for|to|with)\s+(?:the\s+)?$",
                  clause[:value.start], re.IGNORECASE)
    return m.group(1).lower() if m else ""


def _without(clause: str, value: _Value, names: Collection[str]) -> str:
    """``clause`` with ``value`` (and every other date, time or amount in it) and the
    prepositions before each taken out."""
    out = clause
    others = [v for v in values_of(clause, names) if v.kind in ("time", "amount")
              and not (v.start < value.end and value.start < v.end)]
    for v in sorted([value, *others], key=lambda v: -v.start):
        out = f"{_LEAD.sub('', out[:v.start])} {out[v.end:]}"
    return out


def _answer(value: _Value) -> str:
    return value.text.strip(" ,.")


def _score(kind: str, value: _Value, today: date, personal: bool) -> float:
    """How predictably a person asks this: upcoming dates most, then who, where and how
    much, then dates gone by; facts about the person themselves a little more."""
    base = {"time": 0.45, "person": 0.4, "place": 0.35, "amount": 0.4}[kind]
    if kind == "time":
        days = dates_in(value.text, today)
        if days and all(d < today for d in days):
            base = 0.25
        elif any(d >= today for d in days) or re.search(
                rf"{_DAY}|{_CLOCK}|every", value.text):
            base = 0.6
    return min(1.0, base + (0.1 if personal else 0.0))


def _label_questions(label: str, value_text: str, today: date,
                     names: Collection[str]) -> list[tuple[float, FactQuestion]]:
    """A note's "Label: value" line: the label is what is asked about, the rest the
    answer ("Vet: Highbury Vets" -> "Who is my vet?"; "Bring: payslips" -> "What do I
    need to bring?"; "Keiko's party: at her place on 29 August" -> "When is Keiko's
    party?" with the date alone as the answer)."""
    topic = re.sub(r"(?:\s+(?:is|are|was|were))?\s+(?:confirmed|booked|sorted|done|fixed|"
                   r"arranged|planned|set|agreed)$", "", _person_view(label.strip()),
                   flags=re.IGNORECASE)
    value_text = value_text.strip(" .")
    if topic.lower() in _TODO_LABELS:
        if len(value_text) > MAX_VALUE_CHARS:
            return []
        verb = "do" if topic.lower() in ("to do", "todo", "to-do") else topic.lower()
        return [(0.45, FactQuestion(f"What do I need to {verb}?", value_text,
                                    "what", 0.45))]
    own, verb = _own(topic, names), _be(topic)
    found = values_of(value_text, names)
    first = found[0] if found and found[0].start == 0 and found[0].kind != "person" else None
    done = re.match(r"([a-z]+ed)\b(.*)$", topic.lower())
    if done is not None and first is not None and first.kind == "amount":
        # "Saved so far: £24,000" -> "How much have I saved so far?"
        score = _score("amount", first, today, True)
        question = f"How much have I {done.group(1)}{done.group(2)}?"
        return [(score, FactQuestion(question, _answer(first), "amount", round(score, 3)))
                ] if acceptable(question) else []
    out: list[tuple[float, FactQuestion]] = []
    if len(value_text) <= MAX_VALUE_CHARS:
        if first is None:
            named = value_text[:1].isupper()
            if len(topic.split()) < 2 and not named:
                return []  # "Ingrid: a teapot": a name, not a thing of the person's
            questions, kind, score = [f"What {verb} {own}?"], "what", 0.3
            if named and re.search(r"(?:er|or|ist|ian|ant|ent)s?$|\b(?:gp|boss|vet)$",
                                   topic.lower()):
                # "Vet: Highbury Vets", "Manager: Folasade Adeyemi": a role, a name
                questions, kind, score = [f"Who {verb} {own}?", *questions], "person", 0.45
        else:
            kind, score = first.kind, _score(first.kind, first, today, True)
            other = {"time": _what_when(first), "amount": "What"}.get(kind)
            questions = [f"{_WH[kind]} {verb} {own}?",
                         *([f"{other} {verb} {own}?"] if other else [])]
        answer = value_text if first is None else _answer(first)
        out += [(score - 0.01 * i, FactQuestion(q, answer, kind, round(score, 3)))
                for i, q in enumerate(questions[:PHRASINGS_PER_VALUE])]
    head = re.split(r"[,;]\s", value_text, maxsplit=1)[0]
    for kind in ("time", "place", "amount"):
        # Only a value of the label's own clause: in "Casa do Barão, check-in on the
        # 12th" the 12th is the check-in's date, not the hotel's.
        of_kind = [v for v in found if v.kind == kind and v.end <= len(head)]
        if len(of_kind) == 1 and of_kind[0] is not first:
            score = _score(kind, of_kind[0], today, True)
            out.append((score, FactQuestion(f"{_WH[kind]} {verb} {own}?",
                                            _answer(of_kind[0]), kind, round(score, 3))))
    return [(score, fq) for score, fq in out if acceptable(fq.question)]


def _value_questions(view: str, today: date, names: Collection[str],
                     personal: bool) -> list[tuple[float, FactQuestion]]:
    """The questions one sentence of a fact (``view``: as the person says it,
    `_person_view`) answers with its values, scored: at most `VALUES_PER_FACT` values,
    each in at most `PHRASINGS_PER_VALUE` phrasings."""
    candidates: list[tuple[float, FactQuestion]] = []
    chosen = 0
    for value in sorted(values_of(view, names),
                        key=lambda v: -_score(v.kind, v, today, personal)):
        if chosen >= VALUES_PER_FACT:
            break
        clause, local = _clause(view, value)
        questions = [q[0].upper() + q[1:] + "?" for q in
                     _phrasings(value.kind, _without(clause, local, names), local,
                                names, today, _lead(clause, local))]
        if not questions and value.kind == "time" and local.start == 0:
            questions = [q + "?" for q in _introduced(view[:view.find(clause)], names)]
        questions = [q for q in questions if acceptable(q)]
        if not questions:
            continue
        chosen += 1
        score = _score(value.kind, value, today, personal)
        for i, q in enumerate(questions[:PHRASINGS_PER_VALUE]):
            candidates.append((score - 0.01 * i, FactQuestion(
                q, _answer(value), value.kind, round(score, 3))))
    return candidates


#: Verbs whose object is what a person asks back ("What does Owen take for his hay
#: fever?" -> cetirizine).
_THING_VERBS = ("take", "use", "drive", "read", "eat", "drink", "play", "study", "teach",
                "owe", "buy", "give", "get", "order", "want", "need", "choose", "pick",
                "book", "call", "name", "prefer", "like", "love", "hate", "wear")
#: An object that says how often or how, not what ("twice a day", "my coffee as...").
_NOT_A_THING = re.compile(r"\b(?:twice|once|times|a day|a week|a month|every|again|as|"
                          r"too|more|less|much|many)\b", re.IGNORECASE)
_THING = re.compile(
    r"^(?P<who>(?:[A-Z][\w'’-]+(?: and [A-Z][\w'’-]+)?|I|We|They))\s+(?P<verb>[a-z]+)\s+"
    r"(?P<what>(?!(?:him|her|it|them|us|me|you|to|a bit|some|one)\b)[^,;:.!?]{2,60}?)"
    r"(?P<rest>\s+(?:for|to|at|with|from|after|before|when|every)\s+[^,;:.!?]{2,60})?"
    r"\s*(?:[,;:.!?].*)?$")


def _thing_questions(view: str, names: Collection[str],
                     personal: bool) -> list[tuple[float, FactQuestion]]:
    """"What does Owen take for his hay fever?" -> "cetirizine", from "Owen takes
    cetirizine, 10 mg" (``view``: as the person says it): the object of a verb a person
    asks back (`_THING_VERBS`), when it is a few words and no date, amount or name of
    its own."""
    m = _THING.match(view)
    if m is None:
        return []
    who, what = m.group("who"), m.group("what").strip()
    plural = who in ("We", "They", "I") or " and " in who
    verb = _base_verb(m.group("verb")) or (("do", m.group("verb")) if plural else None)
    if verb is None:
        return []
    aux = "do" if plural and verb[0] == "does" else verb[0]
    if (verb[1] not in _THING_VERBS or len(what.split()) > 6 or values_of(what, names)
            or what.split()[0].lower() in _HEDGES or (what[:1].isupper() and any(
                what.startswith(n) for n in names)) or _NOT_A_THING.search(what)):
        return []
    subject = {"I": "I", "We": "we", "They": "they"}.get(who, who)
    rest = (m.group("rest") or "").strip()
    question = f"What {aux} {subject} {verb[1]}" + (f" {rest}" if rest else "") + "?"
    if not acceptable(question):
        return []
    score = 0.35 + (0.1 if personal else 0.0)
    return [(score, FactQuestion(question, what, "thing", round(score, 3)))]


def questions_for_fact(text: str, subject: str, today: date,
                       names: Collection[str] = ()) -> list[FactQuestion]:
    """The questions ``text`` (a stored fact, told of "you" or a name) answers, each with
    its value as the answer, best first: per sentence (the first `MAX_SENTENCES`), at
    most `VALUES_PER_FACT` values, each in at most `PHRASINGS_PER_VALUE` phrasings."""
    fact = _FILLER.sub("", one_line(text)).strip()
    fact = _ANNOTATION.sub("", fact) if not _when_values(_ANNOTATION.sub("", fact)) else fact
    personal = re.search(r"\b(you|your|our|we|us)\b", fact, re.IGNORECASE) is not None
    label = _LABEL.match(fact)
    candidates: list[tuple[float, FactQuestion]] = []
    if label is not None and len(label.group(1).split()) <= 4 and label.group(1).split()[
            0].lower() not in ("i", "you", "we", "they", "he", "she", "it"):
        candidates = _label_questions(label.group(1), label.group(2), today, names)
        # A label over sentences of its own ("Christmas change: Huw's knee operation is
        # on 22 December 2026. ..."): the sentences say what is asked.
        fact = label.group(2) if not candidates else ""
    for sentence in sentences(fact)[:MAX_SENTENCES]:
        view = _person_view(_FILLER.sub("", sentence).strip())
        candidates.extend(_value_questions(view, today, names, personal))
        candidates.extend(_thing_questions(view, names, personal))
    candidates.sort(key=lambda c: -c[0])
    seen: set[str] = set()
    out: list[FactQuestion] = []
    for _, fq in candidates:
        key = fq.question.lower()
        if key not in seen:
            seen.add(key)
            out.append(fq)
    return out
