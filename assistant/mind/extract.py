"""Turning a piece of text (conversation turns or a note) into a summary and facts.

The model is asked for "Summary: ..." and "subject | fact" lines (few-shot completion
for base models, chat for instruct models). The parser is tolerant: a garbled line is
dropped and logged, never stored; no empty or duplicate facts. A fact is kept only if
its words are grounded in the source text (a small model invents things), and it is
linked to the source lines it came from. Sentences the model left out that still carry
a durable fact (a number, a name, a date, "my ...") are kept extractively, so nothing
important depends on the model's mood.

Facts say who and when (`attribute`): a fact is told in the third person, with the
speaker's name, or "you" for the person, in place of "I" ("you moved into 14 Cotham
Vale", not "I moved..."), and it carries the date of the message or note it came
from, so that "When did ...?" can be answered from the evidence's date.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from string import Template

from assistant.llm.engine import ChatMessage, GenerationRequest, PromptStyle
from assistant.resources import read_prompt
from assistant.text.corrections import has_cue
from assistant.text.dates import MONTHS, WEEKDAYS
from assistant.text.lines import one_line
from assistant.text.lines import sentences as split_sentences
from assistant.text.questions import is_request
from assistant.text.speakers import PERSON, in_third_person
from assistant.text.words import meaning_words, normalize

log = logging.getLogger("assistant.mind")

MAX_FACTS = 8
MAX_SUBJECT_WORDS = 6
MAX_SUBJECT_CHARS = 60
MIN_FACT_WORDS = 3
MAX_FACT_CHARS = 300
#: Share of a fact's content words that must appear in its source text.
MIN_GROUNDING = 0.6
COMPLETION_STOPS = ("\n\n", "\nConversation:", "\nNote \"")
#: The person's own words are more reliable than a small model's paraphrase of them.
CONFIDENCE_MODEL = 0.5
CONFIDENCE_EXTRACTED = 0.6

_BULLET = re.compile(r"^\s*(?:[-*•]+|\d+[.)])\s*")
_SUMMARY = re.compile(r"^\s*summary\s*:\s*", re.IGNORECASE)
_FACTS_HEADER = re.compile(r"^\s*facts?\s*:?\s*$", re.IGNORECASE)
_CALENDAR = {w.capitalize() for w in (*WEEKDAYS, *MONTHS)}
_DURABLE = re.compile(r"\d|\b(my|our|i am|i'm|i take|i prefer|i like|i love|i hate|i call|"
                      r"allergic|favourite|favorite|every|always|never|birthday|budget|"
                      r"deadline|owns?|lives?)\b", re.IGNORECASE)
#: A dated sentence is durable too (an appointment, a plan).
_CALENDAR_WORD = re.compile(r"\b(" + "|".join((*WEEKDAYS, *MONTHS)) + r")s?\b", re.IGNORECASE)
_PRONOUN = re.compile(r"\b(he|she|they|his|her|their|him|them|he's|she's|they're)\b",
                      re.IGNORECASE)
#: Capitalised words that open sentences but name nobody: never a fact's subject.
_NOT_SUBJECTS = frozenset((
    "I", "I'm", "I've", "I'll", "I'd", "Can", "Also", "The", "Our", "My", "Remember", "We",
    "We're", "We've", "We'll", "Got", "Noted", "He", "She", "They", "It", "It's", "He's",
    "She's", "They're", "His", "Her", "Their", "This", "That", "That's", "These", "Those",
    "There", "There's", "Then", "Oh", "So", "But", "And", "Or", "Around", "About", "Need",
    "Just", "Still", "Yes", "No", "Okay", "Ok", "OK", "Thanks", "Thank", "Well", "Actually",
    "Anyway", "Maybe", "Sure", "Great", "Good", "Hi", "Hey", "Let's", "Let", "If", "When",
    "What", "Where", "Who", "How", "Why", "A", "An", "Any", "Some", "All", "Both", "One",
    "Not", "Now", "Today", "Tomorrow", "Yesterday", "Tonight", "Next", "Last", "Please",
    "Sorry", "Lovely", "Update", "Btw", "Found", "Booked", "Done", "Sorted", "Ugh", "Ah",
    "Wow", "Right", "Fine", "Perfect", "Plus", "Final", "Otherwise", "Apparently", "Turns",
))
#: "He"/"She" opening a sentence: the one named before, when there was one.
_OPENING_PRONOUN = re.compile(r"^(He|She)\b(?!['\u2019])")
#: A sentence this short ("Chloe has flu.") is read with its neighbour, not alone.
SHORT_SENTENCE_WORDS = 4


@dataclass(frozen=True)
class SourceLine:
    """One unit of source text: a message (``id`` = message id) or a note line."""

    id: int
    text: str
    #: Only the person's own lines give extractive facts (an answer only repeats them).
    speaker_is_person: bool = True
    #: Who wrote it: "you" for the person, else a name (`speaker_of`).
    speaker: str = PERSON
    #: When it was written (the message's or the note's time).
    said_at: datetime | None = None


@dataclass(frozen=True)
class Fact:
    subject: str
    text: str
    confidence: float
    source_ids: tuple[int, ...] = ()
    #: Who said it ("you" for the person) and when; set by `attribute`.
    speaker: str = ""
    said_at: datetime | None = None


@dataclass
class Extraction:
    summary: str | None = None
    facts: list[Fact] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


def extraction_request(style: PromptStyle, document: str) -> GenerationRequest:
    """Greedy and short: ``document`` is "Conversation:\\n..." or 'Note "title":\\n...'."""
    if style is PromptStyle.CHAT:
        return GenerationRequest(
            messages=[ChatMessage("system", read_prompt("consolidate_system.txt").strip()),
                      ChatMessage("user", document)],
            max_tokens=300, temperature=0.0)
    prompt = Template(read_prompt("consolidate_completion.txt")).substitute(
        document=document.strip())
    return GenerationRequest(prompt=prompt.rstrip("\n"), max_tokens=64, temperature=0.0,
                             repeat_penalty=1.0, stop=COMPLETION_STOPS)


def _clean_subject(raw: str) -> str | None:
    subject = raw.strip().strip("\"'*_`[]").strip()
    if not subject or len(subject) > MAX_SUBJECT_CHARS:
        return None
    if len(subject.split()) > MAX_SUBJECT_WORDS or not any(c.isalpha() for c in subject):
        return None
    return subject


def _clean_fact(raw: str) -> str | None:
    fact = one_line(raw).strip().strip("\"'*_`").strip()
    fact = re.sub(r"[\s;,]+$", "", fact)
    if len(fact) > MAX_FACT_CHARS or len(fact.split()) < MIN_FACT_WORDS:
        return None
    if sum(c.isalpha() for c in fact) < 6:
        return None
    return fact


def parse_extraction(raw: str) -> Extraction:
    """Read the model's output (the text after "Summary:"). Garbled lines are dropped."""
    out = Extraction()
    seen: set[str] = set()
    lines = raw.split("\n")
    first = _SUMMARY.sub("", lines[0]) if lines else ""
    summary_line = one_line(first)
    if summary_line and "|" not in summary_line and len(summary_line.split()) >= 3:
        out.summary = summary_line
    elif summary_line:
        out.dropped.append(lines[0])
    for line in lines[1:]:
        if not line.strip() or _FACTS_HEADER.match(line):
            continue
        if _SUMMARY.match(line):
            if out.summary is None:
                candidate = one_line(_SUMMARY.sub("", line))
                if len(candidate.split()) >= 3:
                    out.summary = candidate
            continue
        parts = [p.strip() for p in _BULLET.sub("", line).split("|")]
        subject = _clean_subject(parts[0]) if len(parts) == 2 else None
        fact = _clean_fact(parts[1]) if subject is not None else None
        key = normalize(fact) if fact else ""
        if subject is None or fact is None or not key:
            out.dropped.append(line)
            continue
        if key in seen:
            continue
        seen.add(key)
        if len(out.facts) < MAX_FACTS:
            out.facts.append(Fact(subject, fact, CONFIDENCE_MODEL))
    for line in out.dropped:
        log.info("dropped a garbled line from the model (%d chars)", len(line))
    return out


def ground(facts: Sequence[Fact], sources: Sequence[SourceLine]) -> list[Fact]:
    """Keep the facts whose words come from ``sources``; attach the source ids."""
    source_words = [(s.id, meaning_words(s.text)) for s in sources]
    everything = set().union(*(w for _, w in source_words)) if source_words else set()
    kept: list[Fact] = []
    for fact in facts:
        words = meaning_words(fact.text)
        if not words or len(words & everything) / len(words) < MIN_GROUNDING:
            log.info("dropped an ungrounded fact (%d words)", len(words))
            continue
        overlaps = [(len(words & w), sid) for sid, w in source_words]
        best = max((n for n, _ in overlaps), default=0)
        ids = tuple(sid for n, sid in overlaps if n >= max(2, 0.6 * best)) if best else ()
        kept.append(Fact(fact.subject, fact.text, fact.confidence, ids))
    return kept


def _sentences(text: str) -> list[str]:
    """Sentences of ``text``; a very short statement is joined to the next (or the last),
    since it is context ("Chloe has flu. Her brother Jamie will babysit instead.")."""
    sentences = [one_line(_BULLET.sub("", p)) for p in split_sentences(text)]
    out: list[str] = []
    carry = ""
    for sentence in sentences:
        sentence = f"{carry} {sentence}".strip()
        carry = ""
        if (len(sentence.split()) < SHORT_SENTENCE_WORDS and not sentence.endswith("?")
                and "\n" not in text):
            carry = sentence
            continue
        out.append(sentence)
    if carry:
        if out:
            out[-1] = f"{out[-1]} {carry}"
        else:
            out.append(carry)
    return out


def guess_subject(sentence: str, fallback: str) -> str:
    """The first name-like phrase that is not a weekday or a month, without the words
    that open sentences but name nobody ("The", "He", "Then", "Final"), else
    ``fallback``."""
    tokens = re.findall(r"[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’-]*)*", sentence)
    for phrase in tokens:
        words_ = [w for w in phrase.split() if w.strip(".") not in _CALENDAR]
        cleaned = " ".join(words_).strip(".'’")
        cleaned = re.sub(r"'s$|’s$", "", cleaned)
        words_ = cleaned.split()
        start = next((i for i, w in enumerate(words_) if w not in _NOT_SUBJECTS),
                     len(words_))
        cleaned = " ".join(words_[start:])  # "The St Ives" -> "St Ives"
        if len(cleaned) > 1:
            return cleaned
    return fallback


def is_covered(sentence: str, facts: Sequence[str]) -> bool:
    """True if one of ``facts`` says at least half of what ``sentence`` says."""
    words = meaning_words(sentence)
    return bool(words) and any(len(words & meaning_words(f)) / len(words) >= 0.5
                               for f in facts)


def extractive_facts(sources: Sequence[SourceLine], covered: Sequence[str],
                     fallback_subject: str, *, every_line: bool = False) -> list[Fact]:
    """Durable sentences of the person's lines that none of the ``covered`` fact texts
    already says (``every_line``: each line with a few words, for notes, whose lines are
    facts already)."""
    facts: list[Fact] = []
    seen: set[str] = set()
    last_subject = fallback_subject
    for src in sources:
        if not src.speaker_is_person:
            continue
        text = one_line(src.text)
        whole = (not every_line and len(text) <= MAX_FACT_CHARS
                 and has_cue(text))
        # A correction is read whole: its sentences explain each other ("The St Ives
        # owner cancelled on us. Final answer: a barn in Fowey.").
        for sentence in [text] if whole else _sentences(src.text):
            if is_covered(sentence, covered):
                continue
            if len(sentence.split()) < (3 if every_line else 4) or sentence.endswith("?"):
                continue
            if not every_line and is_request(sentence):
                continue  # "Write a poem about the sea.": asked of Reverie, not a fact
            if not every_line and not (_DURABLE.search(sentence)
                                       or has_cue(sentence) or _CALENDAR_WORD.search(sentence)
                                       or guess_subject(sentence, "") != ""):
                continue
            key = normalize(sentence)
            if key in seen:
                continue
            seen.add(key)
            subject = guess_subject(sentence, fallback_subject)
            if subject == fallback_subject and _PRONOUN.search(sentence):
                subject = last_subject  # "she's actually a 13 now": the one named before
                if subject != fallback_subject:
                    # "He takes cetirizine" after "Owen has hay fever": Owen takes it.
                    sentence = _OPENING_PRONOUN.sub(subject, sentence)
            last_subject = subject
            facts.append(Fact(subject, sentence, CONFIDENCE_EXTRACTED, (src.id,)))
    return facts


def fallback_summary(title: str, sources: Sequence[SourceLine], limit: int = 200) -> str:
    """When the model gives no usable summary: the topic and the first line."""
    first = next((s.text for s in sources if s.speaker_is_person), sources[0].text
                 if sources else "")
    first = one_line(first)
    if len(first) > limit:
        first = first[:limit].rsplit(" ", 1)[0] + " …"
    return f"{title}: {first}" if title else first


def attribute(facts: Sequence[Fact], sources: Sequence[SourceLine]) -> list[Fact]:
    """Each fact told of who said it and dated by the earliest of its source lines (a
    fact without source ids takes the first of ``sources``)."""
    by_id = {s.id: s for s in sources}
    out: list[Fact] = []
    for fact in facts:
        own = [by_id[i] for i in fact.source_ids if i in by_id] or list(sources[:1])
        person = [s for s in own if s.speaker_is_person]
        speaker = (person or own)[0].speaker if own else fact.speaker
        said = min((s.said_at for s in own if s.said_at is not None), default=None)
        out.append(replace(fact, text=in_third_person(fact.text, speaker), speaker=speaker,
                           said_at=said))
    return out
