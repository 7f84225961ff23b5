"""Extractive answers: the phrase of the evidence sentence that answers, or the sentence
itself with who said it and when.

The bundled 270M model often answers worse than the sentence it was given: it rephrases
"Rent is £1,150 a month" into something longer and less exact, or continues the
dialogue. For some kinds of question (`assistant.text.questions.answer_kind`: time,
place, person, amount, yes/no, other) the best retrieved sentence, quoted with its
speaker and date, scores better than any generation; better still, where the kind says
what to look for, the phrase alone (`answer_phrase`: the date or time, the amount, the
name of a person, the place), or, for "When did ...?" with no date in the sentence,
the date it was written. Which kind is answered which way
is a small committed table (``resources/answer_styles.json``), chosen by `reverie bench
sleep` on the calibration half of the fixture questions and reported on the other half.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from assistant.recall.retrieval import Hit
from assistant.recall.support import subject_words, terms
from assistant.resources import resource
from assistant.text.corrections import says_total, total_cues, without_denied
from assistant.text.dates import MONTHS, WEEKDAYS, dates_in, format_date, mentions_date
from assistant.text.lines import sentences
from assistant.text.questions import (
    answer_kind,
    mentions,
    names,
    shows_age,
    shows_clock,
    shows_day,
    shows_money,
    tense,
    wants_age,
    wants_money,
)
from assistant.text.similarity import owned_words
from assistant.text.speakers import PERSON, in_third_person
from assistant.text.words import STOPWORDS, meaning_words

GENERATED = "generated"
EXTRACTIVE = "extractive"
STYLES = (GENERATED, EXTRACTIVE)
#: The kind of a question whose wording does not say what it wants ("What is ...?").
OTHER = "other"
KINDS = ("time", "place", "person", "amount", "yes-no", OTHER)
STYLES_FILE = "answer_styles.json"
#: Longest evidence sentence quoted, in characters.
MAX_SENTENCE_CHARS = 300

#: What a sentence that answers each kind of question carries.
_CARRIES: dict[str, re.Pattern[str]] = {
    "amount": re.compile(r"\d|£|\$|€|\b(one|two|three|four|five|six|seven|eight|nine|ten|"
                         r"twelve|twenty|hundred|thousand|dozen|half)\b", re.IGNORECASE),
    "person": re.compile(r"(?<!^)(?<![.!?] )\b[A-Z][a-z]+"),
    "place": re.compile(r"\b(at|in|on|to|from|near)\s+(the\s+)?[A-Z0-9]"),
}
#: Weight of "the sentence carries the kind of value asked for" against word overlap.
KIND_BONUS = 0.3
#: Kinds whose answer is only ever a value the sentence states (a date, an amount): a
#: sentence that states one wins over any that does not.
_STRICT = frozenset(("time", "amount"))
STRICT_BONUS = 2.0
#: A sentence that says it replaces what the one before it said ("instead")...
_REPLACES = re.compile(r"\b(?:instead|actually|after all|moved to|changed to|rescheduled)\b",
                       re.IGNORECASE)
#: ...is about what that one was about, and this much better an answer.
REPLACE_BONUS = 0.05


_CALLED = re.compile(r"\bcalled\b\W*$|\bwhat(?:'s| is) the name\b", re.IGNORECASE)


def question_kind(question: str) -> str:
    """``answer_kind`` of ``question``; a name asked for ("What is Owen's car called?")
    is a ``person`` question here (its answer is a capitalised name); else ``other``."""
    kind = answer_kind(question)
    if kind is None and _CALLED.search(question.strip().rstrip("?")):
        return "person"
    return kind or OTHER


@cache
def committed_styles() -> dict[str, str]:
    """The committed table: kind of question -> ``generated`` | ``extractive``."""
    data = json.loads(resource(STYLES_FILE).read_text(encoding="utf-8"))
    styles = data["styles"]
    return {kind: str(styles.get(kind, GENERATED)) for kind in KINDS}


def style_for(question: str, styles: Mapping[str, str] | None = None) -> str:
    """How ``question`` is answered under ``styles`` (default: the committed table)."""
    table = committed_styles() if styles is None else styles
    return table.get(question_kind(question), GENERATED)


@dataclass(frozen=True)
class Evidence:
    """The sentence that best answers a question, and the hit it comes from."""

    sentence: str
    hit: Hit
    score: float
    speaker: str | None
    said_at: datetime | None


def _kind_bonus(kind: str, sentence: str, *, money: bool = False) -> float:
    """The bonus of a sentence that states a value of ``kind`` that it does not deny (a
    date is not an amount: "Pottery ends on 24 November" says no price): `STRICT_BONUS`
    for a date or an amount, else `KIND_BONUS`, 0 when it states none. With ``money``
    it states a sum (`_states_sum`: "eight weeks" is not a price), and a bare number that
    may be one counts only `KIND_BONUS`."""
    sentence = without_denied(sentence)
    if money:
        if shows_money(sentence):
            return STRICT_BONUS
        return KIND_BONUS if _sums(sentence) else 0.0
    if kind == "time":
        carries = mentions_date(sentence)
    else:
        if kind == "amount":
            sentence = _WHEN.sub(_undated, sentence)
        pattern = _CARRIES.get(kind)
        carries = bool(pattern and pattern.search(sentence))
    return (STRICT_BONUS if kind in _STRICT else KIND_BONUS) if carries else 0.0


def _speaker(hit: Hit) -> str | None:
    """Who wrote a message hit: its label reads 'chat "T", you, DATE' or '..., Reverie,
    DATE' (`Retriever`); a memory is already told of its speaker; a note is the
    person's."""
    if hit.kind == "message":
        return PERSON if ", you, " in hit.label else "Reverie"
    return PERSON if hit.kind == "note" else None


#: A name after a preposition that ends the question places it ("the offsite in
#: Bath?"); the one it is about ("How old is Keiko?") must be in the evidence.
_PLACED = re.compile(r"\b(?:in|at|to|from|near|on)\s+(?:the\s+)?[A-Z][\w'’-]*"
                     r"(?:\s+[A-Z][\w'’-]*)*(?=\W*$)")


#: Someone the sentence before named ("She turns 30 in May").
_PRONOUN = re.compile(r"\b(?:he|she|they|him|her|his|hers|them|their)\b", re.IGNORECASE)
#: A question for the next one ("When is Biscuit's next vet appointment?").
_NEXT = re.compile(r"\b(?:next|upcoming|coming up)\b", re.IGNORECASE)
#: When said without a day, a date or a time of day ("next week", "in two weeks", "in
#: the spring", "at Christmas"); those are `shows_day` and `shows_clock`.
_WHEN_SAID = re.compile(
    r"\b(?:yesterday|this (?:morning|afternoon|evening|week|month|year)|next (?:week|month|"
    r"year)|in (?:a|an|one|two|three|four|five|six|\d+) (?:days?|weeks?|months?|years?)|"
    r"spring|summer|autumn|fall|winter|christmas|easter|new year)\b", re.IGNORECASE)


def _named(question: str) -> frozenset[str]:
    """The names the question is about: not a place it ends by being asked in."""
    return names(_PLACED.sub(" ", question))


def _undated(match: re.Match[str]) -> str:
    """A date or time blanked out, a bare number kept (it may be an amount)."""
    return match.group(0) if match.group(0).strip().isdigit() else " "


def best_evidence(question: str, hits: Sequence[Hit], today: date | None = None
                  ) -> Evidence | None:
    """The sentence among ``hits`` that shares most of the question's meaning words,
    with a bonus when it carries the kind of value asked for; earlier hits win ties.
    A hit that does not mention every name the question is about is no evidence ("How
    old is Keiko?" is not answered by Biscuit's age; a place it is asked in, "the
    offsite in Bath", need not be named), nor a sentence that says
    only someone else's what the question calls "my" or "our" ("When is our wedding?"
    is not answered by "Cerys's wedding is on Friday 14 August"), nor, given ``today``,
    a sentence whose dates have all passed when the question asks for the next one
    (`bygone`)."""
    wanted = meaning_words(question)
    if not wanted:
        return None
    upcoming = today if asks_next(question) else None
    kind = question_kind(question)
    money = wants_money(question)
    named = _named(question)
    mine = owned_words(question)[0]
    best: Evidence | None = None
    for rank, hit in enumerate(hits):
        if not named <= mentions(f"{hit.label} {hit.text}"):
            continue
        speaker = _speaker(hit)
        before = 0.0
        for sentence in sentences(hit.text):
            if sentence.startswith("#"):
                continue  # a note's heading names the topic; it answers nothing
            if mine & owned_words(sentence)[1]:
                continue
            if upcoming is not None and bygone(sentence, hit.created_at, upcoming):
                continue
            shared = len(wanted & meaning_words(sentence)) / len(wanted)
            replaces = _REPLACES.search(sentence) is not None
            if replaces:
                # "Crete is too dear. We're going to Sardinia instead.": the second
                # sentence answers what the first was about, and wins over it.
                shared = max(shared, before) + (REPLACE_BONUS if before else 0.0)
            before = shared
            if not shared:
                continue
            bonus = _kind_bonus(kind, sentence, money=money)
            score = shared + bonus - 0.01 * rank
            if bonus and kind == "amount" and says_total(sentence):
                score += REPLACE_BONUS  # what it came to, over the quote before it
            if best is None or score > best.score:
                best = Evidence(sentence, hit, score, speaker,
                                None if hit.kind == "note" else hit.created_at)
    return best


def asks_next(question: str) -> bool:
    """Whether ``question`` asks for the next or coming one ("When is Biscuit's next vet
    appointment?")."""
    return _NEXT.search(question) is not None


def bygone(sentence: str, said_at: datetime | None, today: date) -> bool:
    """Whether every date ``sentence`` names (read as of when it was said) is before
    ``today`` (False when it names none)."""
    found = dates_in(sentence, said_at.date() if said_at is not None else today)
    return bool(found) and max(found) < today


def lacks_value(question: str, texts: Sequence[str], today: date | None = None) -> bool:
    """Whether ``question`` asks for a sum of money (`wants_money`), an age
    (`wants_age`), or when something is or will be, and no sentence of ``texts`` about
    it states one. A sentence is about it when it names someone the question names (not
    a place it is asked in) or shares a word of what else the question is about
    (`subject_words`: not "cost" or "old"); when the question names someone, it must
    also be in a text that names them and name them itself, say "he", "she" or "they",
    or follow a first sentence (a note's heading) that names them; and it must not say
    only someone else's what the question calls "my" or "our". So "How much does the
    pottery course cost?" is not answered by "Pottery at the Kiln Rooms, eight weeks",
    "How old is Keiko?" by "Beagle cross, six years old." in a note that names Keiko
    further down, nor "When is our wedding?" by "Cerys's wedding is on 14 August". A
    past "When did ...?" can be answered by when it was said, so it never lacks a date;
    given ``today``, a question for the next one lacks it when every date said about it
    has passed (read as of ``today``: the texts carry no date of their own)."""
    states: Callable[[str], bool]
    if wants_money(question):
        states = _states_sum
    elif wants_age(question):
        states = shows_age
    elif question_kind(question) == "time" and tense(question) != "past":
        states = _states_when
    else:
        return False
    named = _named(question)
    # What it is about besides the names ("How old is Keiko?": nothing else).
    topic = {k for k, w in subject_words(question).items() if w.lower() not in named}
    mine = owned_words(question)[0]
    upcoming = today if states is _states_when and asks_next(question) else None
    for text in texts:
        if named and not named & mentions(text):
            continue
        said = sentences(text)
        headed = bool(said) and bool(named & mentions(said[0]))
        for sentence in said:
            naming = bool(named & mentions(sentence))
            if topic and not (naming or topic & set(terms(sentence))):
                continue
            if named and not (naming or headed or _PRONOUN.search(sentence)):
                continue  # "Beagle cross, six years old." in a note that names Keiko
            if mine & owned_words(sentence)[1]:
                continue
            if upcoming is not None and bygone(sentence, None, upcoming):
                continue
            if states(sentence):
                return False
    return True


def _states_when(sentence: str) -> bool:
    """Whether ``sentence`` says when: a date, a day, a month, a time or a season ("that
    week" does not)."""
    return (shows_day(sentence) or shows_clock(sentence)
            or _WHEN_SAID.search(sentence) is not None)


#: A duration, not a sum ("eight weeks", "3 nights").
_DURATION = re.compile(r"\d\s?(?:days?|weeks?|months?|years?|hours?|minutes?|nights?|times?)\b",
                       re.IGNORECASE)


def _states_sum(sentence: str) -> bool:
    """Whether ``sentence`` states a sum of money, or a number that may be one ("Rent is
    1,150 a month", "the 5 ml dose"): not a date, a time or a duration."""
    return shows_money(sentence) or bool(_sums(sentence))


def _sums(sentence: str) -> list[re.Match[str]]:
    """The amounts of ``sentence`` that are not in a date or a time, nor a duration."""
    dated = [m.span() for m in _WHEN.finditer(sentence) if not m.group(0).strip().isdigit()]
    return [m for m in _AMOUNT.finditer(sentence)
            if not any(a <= m.start() < b for a, b in dated)
            and _DURATION.search(m.group(0).strip(" ,.;")) is None
            and _CODE_BEFORE.search(sentence, 0, m.start()) is None]


#: A number that is part of a code ("flight TP 481", "WU18 KPX"), not a sum.
_CODE_BEFORE = re.compile(r"\b[A-Z]{1,4}\d*\s?$")


_MONTH_RE = "|".join(MONTHS)
_DAY_RE = "|".join(WEEKDAYS)
#: One piece of a date or time ("Thursday", "8", "October", "17:15", "5pm", "every").
_WHEN_PIECE = (rf"(?:\d{{1,2}}[:.]\d{{2}}(?:\s?[ap]m)?|\d{{1,2}}\s?[ap]m|(?:{_DAY_RE})s?"
               rf"|{_MONTH_RE}|\d{{1,2}}(?:st|nd|rd|th)?|\d{{4}}|noon|midday|midnight)")
_WHEN_JOIN = r"(?:\s*,?\s+(?:at|on|the|of|to|from|until|till|and|-|–)?\s*)"
_WHEN = re.compile(rf"(?:\b(?:every(?: other)?|next|this|last)\s+)?\b{_WHEN_PIECE}\b"
                   rf"(?:{_WHEN_JOIN}\b{_WHEN_PIECE}\b)*", re.IGNORECASE)
_AMOUNT = re.compile(
    r"(?:\b(?:about|around|roughly|nearly|almost|over|under)\s+)?"
    r"(?:[£$€]\s?\d[\d,]*(?:\.\d+)?(?:\s?(?:k|m|bn)\b)?"
    r"|\b\d[\d,]*(?:\.\d+)?\s?(?:%|kg|g|km|miles?|euros?|pounds?|dollars?|people|"
    r"hours?|minutes?|days?|weeks?|months?|years?(?: old)?)\b|\b\d[\d,]*(?:\.\d+)?\b)"
    r"(?:\s+(?:a|an|per|each|for the)\s+(?:day|night|week|month|year|hour|head|person))?",
    re.IGNORECASE)
_NAME = re.compile(r"\b(?:(?:Dr|Mr|Mrs|Ms)\.?\s+)?[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*")
_PLACE = re.compile(r"\b(?:at|in|on|to|from|near)\s+((?:the\s+)?[A-Z0-9][\w'’.-]*"
                    r"(?:\s+(?:(?:on|in|of|and|the|de|la)\s+)*[A-Z0-9][\w'’.-]*)*)")
#: Capitalised words that are not a person's name.
_NOT_PEOPLE = frozenset((*WEEKDAYS, *MONTHS, "i", "i'm", "i've", "i'll", "we", "you",
                         "the", "a", "an", "my", "our", "your", "he", "she", "they", "it",
                         "and", "but", "so", "then", "also", "just", "yes", "no", "ok",
                         "christmas", "easter", "reverie", "his", "her", "their", "this"))


def _drop_asked(candidates: Sequence[str], question: str) -> list[str]:
    """The candidates that are not what the question already names."""
    asked = {n for n in names(question)} | meaning_words(question)
    out = []
    for c in candidates:
        key = {w.lower().removesuffix("'s").removesuffix("’s") for w in c.split()}
        if not key <= asked and not meaning_words(c) <= meaning_words(question):
            out.append(c)
    return out


def answer_phrase(kind: str, sentence: str, question: str) -> str | None:
    """The part of ``sentence`` that answers a ``kind`` question (a date or time, an
    amount, a person's name, a place), or None when the sentence has no such part or
    the kind does not say what to look for. A value the sentence denies ("instead of
    Casa Lola", "didn't get on with Daniel Price") is never the answer."""
    found: list[str] = []
    sentence = without_denied(sentence)
    if kind == "time":
        found = [m.group(0).strip(" ,") for m in _WHEN.finditer(sentence)
                 if not m.group(0).strip().isdigit() or len(m.group(0).strip()) == 4]
        found = [f for f in found if f.lower() not in ("this", "next", "last")]
        return max(found, key=len) if found else None
    if kind == "amount":
        dated = [m.span() for m in _WHEN.finditer(sentence)
                 if not m.group(0).strip().isdigit()]
        spans = [m for m in _AMOUNT.finditer(sentence)
                 if not any(a <= m.start() < b for a, b in dated)]
        if wants_money(question):  # a price over a bare number, never a duration
            spans = [m for m in spans if shows_money(m.group(0))] or _sums(sentence)
        # A sum of money or a measure before a bare number ("1 June" is a date); of
        # those, the one nearest "came to" or "in the end" ("quoted £500 but it came to
        # £450 in the end"), then the first.
        cues = total_cues(sentence)
        spans.sort(key=lambda m: (not re.search(r"[£$€]|[a-z%]", m.group(0)),
                                  min((abs(m.start() - a) if m.start() >= b else
                                       abs(a - m.end()) for a, b in cues), default=0),
                                  m.start()))
        found = [m.group(0).strip(" ,.;") for m in spans]
    elif kind == "person":
        for m in _NAME.finditer(sentence):
            if sentence[m.end():m.end() + 1] == ":":
                continue  # a label ("Work: ..."), not a name
            parts = m.group(0).split()
            while parts and parts[0].lower().strip(".,'’") in _NOT_PEOPLE | STOPWORDS:
                parts = parts[1:]
            name = " ".join(parts).strip(".,'’")
            name = re.sub(r"(?:'s|’s)$", "", name)
            if name and name.lower() not in _NOT_PEOPLE:
                found.append(name)
    elif kind == "place":
        found = [m.group(1).strip(".,'’") for m in _PLACE.finditer(sentence)]
        found = [re.sub(r"\s+(?:on|in|of|and|the|de|la)$", "", f) for f in found
                 if not _WHEN.fullmatch(f)]
    else:
        return None
    kept = _drop_asked(found, question)
    if kind == "person" and len(kept) > 1:
        return _nearest_to_cue(kept, sentence, question)
    return kept[0] if kept else None


def _nearest_to_cue(candidates: Sequence[str], sentence: str, question: str) -> str:
    """Of several names, the one nearest a word of the question's own, after it on a
    tie ("Cerys, Owen's sister, is marrying Matteo" for "Who did Cerys marry?": Matteo;
    "Ravi moved to Singapore, so Hannah Lloyd is the lead" for "Who leads ...?":
    Hannah Lloyd); the first name when no question word is in the sentence."""
    lower = " ".join(w for w in question.split() if not w[:1].isupper())
    cues = {w[:4] for w in meaning_words(lower) if len(w) > 3}
    at = [m.span() for m in re.finditer(r"[^\W\d_]+", sentence.lower())
          if m.group(0)[:4] in cues]
    if not at:
        return candidates[0]

    ends = [end for _start, end in at]  # cue words in order: starts and ends both rise
    starts = [start for start, _end in at]

    def distance(candidate: str) -> tuple[int, int]:
        """Characters between the candidate and the nearest cue word; after a cue first."""
        best = (len(sentence) + 1, 1)
        for m in re.finditer(re.escape(candidate), sentence):
            before = bisect_right(ends, m.start()) - 1  # the last cue ending before it
            if before >= 0:
                best = min(best, (m.start() - ends[before], 0))
            after = bisect_left(starts, m.end())  # the first cue starting after it
            if after < len(starts):
                best = min(best, (starts[after] - m.end(), 1))
            if before + 1 < after:
                return 0, 0  # a cue word overlaps the name
        return best

    return min(dict.fromkeys(candidates), key=distance)


def extractive_answer(question: str, hits: Sequence[Hit], today: date | None = None
                      ) -> tuple[str, Hit] | None:
    """The phrase that answers (`answer_phrase`: "£1,150 a month"), or for "When did
    ...?" with no date in the best sentence the date it was said; else the best evidence
    sentence, told of its speaker (not "I"), then who said it and when: "Your rent is
    £1,150 a month. (you, Saturday 2 May 2026)". None when no sentence shares a meaning
    word with the question, or the question asks for a price, or when something is,
    and the best sentence states none."""
    kind = question_kind(question)
    if kind == "person":
        # A role handed over since (`evidence.handed_over`): who has it now.
        for hit in hits:
            if hit.takes_over is not None:
                return hit.takes_over[0], hit
    found = best_evidence(question, hits, today)
    if found is None:
        return None
    if wants_money(question) and not _states_sum(found.sentence):
        return None  # a sentence without a price is no answer to "How much ... cost?"
    if kind == "time" and tense(question) != "past" and not _states_when(found.sentence):
        return None  # nor one without a date to "When is ...?"
    phrase = answer_phrase(kind, found.sentence, question)
    if phrase is not None:
        return phrase[:1].upper() + phrase[1:], found.hit
    if kind == "time" and found.said_at is not None and tense(question) == "past":
        return format_date(found.said_at.date()), found.hit
    text = found.sentence
    if found.speaker is not None:
        text = in_third_person(text, found.speaker)
    text = text[:1].upper() + text[1:]
    if len(text) > MAX_SENTENCE_CHARS:
        text = text[:MAX_SENTENCE_CHARS].rsplit(" ", 1)[0] + " …"
    told = [found.speaker] if found.hit.kind == "message" and found.speaker else []
    if found.said_at is not None:
        told.append(format_date(found.said_at.date()))
    if told:
        text += f" ({', '.join(told)})"
    return text, found.hit
