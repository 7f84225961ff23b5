"""Extractive answers: the evidence sentence itself, with who said it and when.

The bundled 270M model often answers worse than the sentence it was given: it rephrases
"Rent is £1,150 a month" into something longer and less exact, or continues the
dialogue. For some kinds of question (`assistant.text.questions.answer_kind`: time,
place, person, amount, yes/no, other) the best retrieved sentence, quoted with its
speaker and date, scores better than any generation. Which kind is answered which way
is a small committed table (``resources/answer_styles.json``), chosen by `reverie bench
sleep` on the calibration half of the fixture questions and reported on the other half.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from assistant.recall.retrieval import Hit
from assistant.resources import resource
from assistant.text.dates import format_date, mentions_date
from assistant.text.lines import one_line
from assistant.text.questions import answer_kind
from assistant.text.speakers import PERSON, in_third_person
from assistant.text.words import meaning_words

GENERATED = "generated"
EXTRACTIVE = "extractive"
STYLES = (GENERATED, EXTRACTIVE)
#: The kind of a question whose wording does not say what it wants ("What is ...?").
OTHER = "other"
KINDS = ("time", "place", "person", "amount", "yes-no", OTHER)
STYLES_FILE = "answer_styles.json"
#: Longest evidence sentence quoted, in characters.
MAX_SENTENCE_CHARS = 300

_SENTENCE_END = re.compile(r"(?<!\bDr\.)(?<!\bMr\.)(?<!\bMs\.)(?<!\bMrs\.)(?<!\bSt\.)"
                           r"(?<=[.!?])\s+(?=[\"'“A-Z0-9])|\n+")
#: What a sentence that answers each kind of question carries.
_CARRIES: dict[str, re.Pattern[str]] = {
    "amount": re.compile(r"\d|£|\$|€|\b(one|two|three|four|five|six|seven|eight|nine|ten|"
                         r"twelve|twenty|hundred|thousand|dozen|half)\b", re.IGNORECASE),
    "person": re.compile(r"(?<!^)(?<![.!?] )\b[A-Z][a-z]+"),
    "place": re.compile(r"\b(at|in|on|to|from|near)\s+(the\s+)?[A-Z0-9]"),
}
#: Weight of "the sentence carries the kind of value asked for" against word overlap.
KIND_BONUS = 0.3


def question_kind(question: str) -> str:
    """``answer_kind`` of ``question``, or ``other``."""
    return answer_kind(question) or OTHER


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


def sentences(text: str) -> list[str]:
    return [one_line(p) for p in _SENTENCE_END.split(text) if p and p.strip()]


def _carries(kind: str, sentence: str) -> bool:
    if kind == "time":
        return mentions_date(sentence)
    pattern = _CARRIES.get(kind)
    return bool(pattern and pattern.search(sentence))


def _speaker(hit: Hit) -> str | None:
    """Who wrote a message hit: its label reads 'chat "T", you, DATE' or '..., Reverie,
    DATE' (`Retriever`); a memory is already told of its speaker; a note is the
    person's."""
    if hit.kind == "message":
        return PERSON if ", you, " in hit.label else "Reverie"
    return PERSON if hit.kind == "note" else None


def best_evidence(question: str, hits: Sequence[Hit]) -> Evidence | None:
    """The sentence among ``hits`` that shares most of the question's meaning words,
    with a bonus when it carries the kind of value asked for; earlier hits win ties."""
    wanted = meaning_words(question)
    if not wanted:
        return None
    kind = question_kind(question)
    best: Evidence | None = None
    for rank, hit in enumerate(hits):
        speaker = _speaker(hit)
        for sentence in sentences(hit.text):
            shared = len(wanted & meaning_words(sentence)) / len(wanted)
            if not shared:
                continue
            score = shared + (KIND_BONUS if _carries(kind, sentence) else 0.0) - 0.01 * rank
            if best is None or score > best.score:
                best = Evidence(sentence, hit, score, speaker,
                                None if hit.kind == "note" else hit.created_at)
    return best


def extractive_answer(question: str, hits: Sequence[Hit]) -> tuple[str, Hit] | None:
    """The best evidence sentence, told of its speaker (not "I"), then who said it and
    when: "Your rent is £1,150 a month. (you, Saturday 2 May 2026)". None when no
    sentence shares a meaning word with the question."""
    found = best_evidence(question, hits)
    if found is None:
        return None
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
