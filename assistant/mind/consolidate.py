"""Consolidation: new conversation turns and changed notes become sourced memories.

``consolidate_conversation`` (target: conversation id) takes the messages not yet
consolidated, in chunks that fit the context window, and for each chunk writes a
summary (kind summary, scope conversation) and reconciled facts with the ids of their
source messages; then it refreshes the day and week digests (hierarchical summaries)
and marks the messages consolidated, all in the item's one transaction.

``digest_note`` (target: note id) does the same for a note whose text changed since its
last digest: the memories of its previous version are superseded, the new ones point to
the note, and ``consolidated_hash`` records the digested version, so an unchanged note
is never processed again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from sqlalchemy import text
from sqlmodel import Session, col, select

from assistant.mind.extract import (
    Extraction,
    Fact,
    SourceLine,
    attribute,
    extraction_request,
    extractive_facts,
    fallback_summary,
    ground,
    is_covered,
    parse_extraction,
)
from assistant.mind.reconcile import new_memory, reconcile
from assistant.mind.work import Counters, WorkContext, WorkOutcome
from assistant.store.db import Database
from assistant.store.models import (
    Conversation,
    Memory,
    MemoryKind,
    MemoryScope,
    Message,
    Note,
    Role,
    WorkItem,
    utcnow,
)
from assistant.text.dates import format_date, resolve_dates
from assistant.text.lines import one_line
from assistant.text.questions import is_request
from assistant.text.speakers import PERSON, in_third_person, speaker_of

log = logging.getLogger("assistant.mind")

CONVERSATION_KIND = "consolidate_conversation"
NOTE_KIND = "digest_note"
#: Most tokens of source text in one model call, and chunks done per work item.
CHUNK_TOKENS = 600
MAX_CHUNKS_PER_ITEM = 3
MAX_LINE_CHARS = 800
DIGEST_CHARS = 900

TokenCounter = Callable[[str], int]


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _parse_when(value: object) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


# -- chunks ------------------------------------------------------------------------------

def _speaker(message: Message) -> str:
    return "User" if message.role == Role.USER else "Reverie"


def message_line(message: Message) -> str:
    """'User (Monday 16 November 2026): ...' with its relative dates resolved."""
    content = one_line(resolve_dates(message.content, message.created_at))
    if len(content) > MAX_LINE_CHARS:
        content = content[:MAX_LINE_CHARS].rsplit(" ", 1)[0] + " …"
    if message.role == Role.USER:
        return f"User ({format_date(message.created_at.date())}): {content}"
    return f"{_speaker(message)}: {content}"


def chunk_messages(messages: Sequence[Message], count: TokenCounter,
                   budget: int = CHUNK_TOKENS) -> list[list[Message]]:
    """Consecutive chunks whose lines fit ``budget`` tokens (a long message is alone)."""
    chunks: list[list[Message]] = []
    current: list[Message] = []
    used = 0
    for message in messages:
        cost = count(message_line(message)) + 1
        if current and used + cost > budget:
            chunks.append(current)
            current, used = [], 0
        current.append(message)
        used += cost
    if current:
        chunks.append(current)
    return chunks


@dataclass
class ChunkResult:
    message_ids: list[int]
    day: date
    said_at: datetime
    summary: str
    facts: list[Fact]
    model_said: str = ""
    dropped: list[str] = field(default_factory=list)


def _extract(ctx: WorkContext, document: str) -> tuple[Extraction, str]:
    result = ctx.generate(extraction_request(ctx.engine.info.prompt_style, document))
    return parse_extraction(result.text), result.text


def _facts_for(extraction: Extraction, sources: list[SourceLine], fallback_subject: str,
               when: datetime) -> list[Fact]:
    """Grounded model facts and extractive ones, with absolute dates, told of who said
    them and dated (`attribute`)."""
    # A request to Reverie ("List one hundred fruits") says nothing of the person's life.
    facts = [f for f in ground(extraction.facts, sources) if not is_request(f.text)]
    facts += extractive_facts(sources, [f.text for f in facts], fallback_subject)
    facts = [Fact(f.subject, one_line(resolve_dates(f.text, when)), f.confidence, f.source_ids)
             for f in facts]
    return attribute(facts, sources)


# -- digests -----------------------------------------------------------------------------

def _week_key(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _replace_digest(s: Session, scope: MemoryScope, subject: str, body: str,
                    sources: dict[str, list[int]], counters: Counters) -> Memory | None:
    """Write the digest ``subject`` unless it is unchanged; the old one is superseded."""
    old = s.exec(select(Memory).where(Memory.kind == MemoryKind.DIGEST.value,
                                      Memory.scope == scope.value, Memory.subject == subject,
                                      col(Memory.superseded_by).is_(None))).first()
    if old is not None and (old.text == body or old.pinned or old.edited):
        return old
    digest = new_memory(MemoryKind.DIGEST, scope, subject, body, sources)
    s.add(digest)
    s.flush()
    counters.memories_added += 1
    if old is not None:
        old.superseded_by = digest.id
        s.add(old)
        counters.memories_superseded += 1
    return digest


def _summary_days(s: Session) -> dict[date, list[Memory]]:
    """Active conversation summaries by the day of their first source message."""
    rows = list(s.connection().execute(text("""
        SELECT mem.id, min(msg.created_at) FROM memory mem, json_each(mem.sources, '$.messages') j
        JOIN message msg ON msg.id = j.value
        WHERE mem.kind = 'summary' AND mem.scope = 'conversation' AND mem.superseded_by IS NULL
        GROUP BY mem.id""")))
    by_id = {m.id: m for m in s.exec(select(Memory).where(
        col(Memory.id).in_([r[0] for r in rows])))}
    days: dict[date, list[Memory]] = {}
    for mem_id, first in rows:
        days.setdefault(_parse_when(first).date(), []).append(by_id[mem_id])
    return days


def _clip(body: str) -> str:
    return body if len(body) <= DIGEST_CHARS else body[:DIGEST_CHARS].rsplit(" ", 1)[0] + " …"


def refresh_digests(s: Session, touched: set[date], counters: Counters) -> None:
    """Rebuild the day digests of ``touched`` days and the digests of their weeks."""
    days = _summary_days(s)
    weeks = {_week_key(d) for d in touched}
    day_digests: dict[str, list[Memory]] = {}
    for day in sorted(days):
        summaries = sorted(days[day], key=lambda m: m.id or 0)
        if day in touched:
            body = _clip(f"{format_date(day)}: " + " ".join(
                m.text.rstrip(".") + "." for m in summaries))
            digest = _replace_digest(s, MemoryScope.DAY, f"day {day.isoformat()}", body,
                                     {"memories": [m.id or 0 for m in summaries]}, counters)
        else:
            digest = s.exec(select(Memory).where(
                Memory.kind == MemoryKind.DIGEST.value, Memory.subject == f"day {day}",
                col(Memory.superseded_by).is_(None))).first()
        if digest is not None:
            day_digests.setdefault(_week_key(day), []).append(digest)
    for week in sorted(weeks):
        parts = day_digests.get(week, [])
        if not parts:
            continue
        monday = datetime.strptime(week + "-1", "%G-W%V-%u").date()
        body = _clip(f"Week of {format_date(monday)}: " + " ".join(
            p.text.split(": ", 1)[-1] for p in parts))
        _replace_digest(s, MemoryScope.WEEK, f"week {week}", body,
                        {"memories": [p.id or 0 for p in parts]}, counters)


# -- conversations -----------------------------------------------------------------------

class ConsolidateConversationHandler:
    """Summaries and facts of a conversation's new turns (target: the conversation id)."""

    kind = CONVERSATION_KIND

    def __init__(self, chunk_tokens: int = CHUNK_TOKENS,
                 max_chunks: int = MAX_CHUNKS_PER_ITEM) -> None:
        self._chunk_tokens = chunk_tokens
        self._max_chunks = max_chunks

    def describe(self, item: WorkItem, db: Database) -> str:
        with db.session() as s:
            conv = s.get(Conversation, int(item.target)) if item.target.isdigit() else None
        return f'new turns of "{conv.title}"' if conv is not None else "a conversation"

    def run(self, item: WorkItem, ctx: WorkContext) -> WorkOutcome:
        conv_id = int(item.target)
        with ctx.db.session() as s:
            conv = s.get(Conversation, conv_id)
            messages = list(s.exec(select(Message).where(
                Message.conversation_id == conv_id, col(Message.consolidated_at).is_(None))
                .order_by(col(Message.created_at), col(Message.id))))
        if conv is None:
            return WorkOutcome("Skipped a conversation that was deleted.")
        title = conv.title or "a chat"
        messages = [m for m in messages if m.content.strip()]
        chunks = chunk_messages(messages, ctx.engine.count_tokens,
                                min(self._chunk_tokens, ctx.engine.info.n_ctx // 4))
        results: list[ChunkResult] = []
        for chunk in chunks[: self._max_chunks]:
            lines = [SourceLine(m.id or 0, resolve_dates(m.content, m.created_at),
                                m.role == Role.USER,
                                speaker_of(m.content, is_person=m.role == Role.USER),
                                m.created_at) for m in chunk]
            document = "Conversation:\n" + "\n".join(message_line(m) for m in chunk)
            extraction, raw = _extract(ctx, document)
            when = chunk[0].created_at
            facts = _facts_for(extraction, lines, title, when)
            summary = in_third_person(extraction.summary or fallback_summary(title, lines),
                                      PERSON)
            results.append(ChunkResult([m.id or 0 for m in chunk], when.date(), when, summary,
                                       facts, raw, extraction.dropped))
        done_ids = [i for r in results for i in r.message_ids]
        outcome = WorkOutcome("", details={"conversation_id": conv_id,
                                           "messages": len(done_ids),
                                           "dropped_lines": sum(len(r.dropped)
                                                                for r in results)})

        def apply(s: Session) -> None:
            for r in results:
                summary = new_memory(MemoryKind.SUMMARY, MemoryScope.CONVERSATION, title,
                                     r.summary, {"messages": r.message_ids}, said_at=r.said_at)
                s.add(summary)
                outcome.counters.memories_added += 1
                for fact in r.facts:
                    reconcile(s, fact, {"messages": list(fact.source_ids or r.message_ids)},
                              outcome.counters)
            s.flush()
            refresh_digests(s, {r.day for r in results}, outcome.counters)
            now = utcnow()
            for message in s.exec(select(Message).where(col(Message.id).in_(done_ids))):
                message.consolidated_at = now
                s.add(message)

        outcome.apply = apply
        n_facts = sum(len(r.facts) for r in results)
        outcome.summary = (f'Went over {len(done_ids)} new messages of "{title}": '
                           f"{n_facts} fact{'s' if n_facts != 1 else ''} to remember.")
        return outcome


# -- notes -------------------------------------------------------------------------------

def note_lines(note: Note) -> list[SourceLine]:
    """The note's non-empty lines (a line is the unit of grounding for a note)."""
    assert note.id is not None
    # Undated: a note says how things stand now, and an imported one was "written" at
    # import time, which would be a false date for "When did ...?".
    return [SourceLine(note.id, one_line(line)) for line in note.body.splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


class DigestNoteHandler:
    """Summary and key facts of a changed note (target: the note id)."""

    kind = NOTE_KIND

    def describe(self, item: WorkItem, db: Database) -> str:
        with db.session() as s:
            note = s.get(Note, int(item.target)) if item.target.isdigit() else None
        return f'the note "{note.title}"' if note is not None else "a note"

    def run(self, item: WorkItem, ctx: WorkContext) -> WorkOutcome:
        note_id = int(item.target)
        with ctx.db.session() as s:
            note = s.get(Note, note_id)
        if note is None:
            return WorkOutcome("Skipped a note that was deleted.")
        digested_hash = note.content_hash
        if note.consolidated_hash == digested_hash:
            return WorkOutcome(f'The note "{note.title}" has not changed.')
        body = note.body
        if ctx.engine.count_tokens(body) > min(CHUNK_TOKENS, ctx.engine.info.n_ctx // 4) * 2:
            body = body[: CHUNK_TOKENS * 4]
        document = f'Note "{one_line(note.title)}":\n{body.strip()}'
        extraction, raw = _extract(ctx, document)
        lines = note_lines(note)
        # Line-level extraction: every durable line of the note, grounded to the note.
        # A note's own lines are its facts; the model adds only what they do not say.
        facts = extractive_facts(lines, [], note.title, every_line=True)
        facts += [f for f in ground(extraction.facts, lines)
                  if not is_covered(f.text, [x.text for x in facts])]
        facts = attribute([Fact(f.subject, one_line(resolve_dates(f.text, note.updated_at)),
                                f.confidence) for f in facts], lines)
        summary_text = extraction.summary or fallback_summary(note.title, lines)
        outcome = WorkOutcome(f'Digested the note "{note.title}": {len(facts)} facts.',
                              details={"note_id": note_id, "model_said": raw,
                                       "dropped_lines": len(extraction.dropped)})

        def apply(s: Session) -> None:
            current = s.get(Note, note_id)
            if current is None:
                return
            summary = new_memory(MemoryKind.SUMMARY, MemoryScope.GLOBAL, note.title,
                                 summary_text, {"notes": [note_id]})
            s.add(summary)
            s.flush()
            outcome.counters.memories_added += 1
            for old in memories_of_note(s, note_id):
                if old.id == summary.id or old.pinned or old.edited:
                    continue
                old.superseded_by = summary.id
                old.updated_at = utcnow()
                s.add(old)
                outcome.counters.memories_superseded += 1
            for fact in facts:
                reconcile(s, fact, {"notes": [note_id]}, outcome.counters)
            if current.content_hash == digested_hash:
                current.consolidated_hash = digested_hash
                s.add(current)

        outcome.apply = apply
        return outcome


def memories_of_note(s: Session, note_id: int) -> list[Memory]:
    """Active memories that cite the note ``note_id``."""
    ids = [r[0] for r in s.connection().execute(text(
        "SELECT mem.id FROM memory mem, json_each(mem.sources, '$.notes') j "
        "WHERE j.value = :n AND mem.superseded_by IS NULL"), {"n": note_id})]
    return list(s.exec(select(Memory).where(col(Memory.id).in_(ids)))) if ids else []


