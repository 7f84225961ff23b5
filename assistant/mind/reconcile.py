"""Reconciliation: each new fact against similar stored memories -> ADD/UPDATE/SUPERSEDE/NOOP.

Decisions are rules on subject and word similarity (mem0's four outcomes, decided
without the model): a near-identical memory is kept (NOOP) or refreshed in place
(UPDATE: wording with more detail, more sources); a memory the new fact corrects is
replaced (SUPERSEDE: the old row stays as history, linked by ``superseded_by``): a
move, an update, a cancellation or a negation, or a new value of the same kind for the
same subject (`assistant.text.corrections.classify`); a fact said *before* the memory
that corrects it (digested later: a note, an older chat) is stored as that memory's
history (OUTDATED), never over it; anything else is new (ADD). One
fact may supersede several memories (a chain of corrections ends at the last value).
Prepared answers built on a superseded memory, or on the messages and notes it came
from, go stale in the same transaction. A memory the person pinned or edited is never
overwritten: the new fact is added beside it or dropped.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import text
from sqlmodel import Session, col, select

from assistant.mind.extract import Fact
from assistant.mind.work import Counters
from assistant.store import memories
from assistant.store.fts import fts_query
from assistant.store.models import (
    Anticipation,
    AnticipationStatus,
    Memory,
    MemoryKind,
    MemoryScope,
    utcnow,
)
from assistant.text.corrections import Change, classify
from assistant.text.similarity import word_overlap
from assistant.text.words import meaning_words, normalize, numbers

log = logging.getLogger("assistant.mind")

#: At or above: the same fact (NOOP or UPDATE).
SAME = 0.75
#: At or above, with the same subject and different numbers: the fact changed.
RELATED = 0.3
CANDIDATES = 10


class Action(StrEnum):
    ADD = "add"
    UPDATE = "update"
    SUPERSEDE = "supersede"
    #: The fact was said before a stored memory that corrects it: kept as its history.
    OUTDATED = "outdated"
    NOOP = "noop"


@dataclass(frozen=True)
class Decision:
    action: Action
    #: The stored memory the decision is about (None for ADD).
    target: Memory | None = None
    similarity: float = 0.0
    #: For SUPERSEDE: further memories the same fact corrects (besides ``target``).
    also: tuple[Memory, ...] = ()


def _protected(memory: Memory) -> bool:
    return memory.pinned or memory.edited


def _same_subject(a: str, b: str) -> bool:
    return bool(normalize(a)) and normalize(a) == normalize(b)


def _said_before(fact: Fact, memory: Memory) -> bool:
    """True when ``fact`` was said strictly before ``memory`` (both dated): sleep digests
    notes, and chats in the order the backlog chose, so the later-digested of two facts
    that disagree is not always the newer one."""
    return (fact.said_at is not None and memory.said_at is not None
            and _naive(fact.said_at) < _naive(memory.said_at))


def _naive(when: datetime) -> datetime:
    return when.replace(tzinfo=None) if when.tzinfo is not None else when


def decide(fact: Fact, candidates: list[Memory], sources: dict[str, list[int]]) -> Decision:
    """The rule-based decision for ``fact`` given similar active memories."""
    scored = sorted(((word_overlap(fact.text, m.text), m) for m in candidates),
                    key=lambda x: -x[0])
    if not scored:
        return Decision(Action.ADD)
    best_sim, best = scored[0]
    if best_sim >= SAME or normalize(fact.text) == normalize(best.text):
        if _protected(best):
            return Decision(Action.NOOP, best, best_sim)
        new_words = meaning_words(fact.text) - meaning_words(best.text)
        new_sources = any(i not in (best.sources or {}).get(k, [])
                          for k, ids in sources.items() for i in ids)
        if new_words or new_sources or fact.confidence > best.confidence:
            return Decision(Action.UPDATE, best, best_sim)
        return Decision(Action.NOOP, best, best_sim)
    corrected: list[tuple[float, Memory]] = []
    protected: Memory | None = None
    for sim, memory in scored:
        same_numbers_changed = (sim >= RELATED and _same_subject(fact.subject, memory.subject)
                                and numbers(fact.text) != numbers(memory.text))
        if _said_before(fact, memory):
            # Digested late (a note, an older chat): the stored memory is the newer word,
            # so the question is whether *it* corrects the fact, not the other way round
            # ("Owen's birthday is 3 July. Don't let me forget." ends nothing of the
            # later "Last day of term for Owen today").
            if same_numbers_changed or classify(memory.text, memory.subject, fact.text,
                                                fact.subject) is not Change.NONE:
                return Decision(Action.OUTDATED, memory, sim)
            continue
        if not same_numbers_changed and classify(fact.text, fact.subject, memory.text,
                                                 memory.subject) is Change.NONE:
            continue
        if _protected(memory):
            protected = protected or memory  # beside it, never over it
        else:
            corrected.append((sim, memory))
    if corrected:
        return Decision(Action.SUPERSEDE, corrected[0][1], corrected[0][0],
                        tuple(m for _, m in corrected[1:]))
    if protected is not None:
        return Decision(Action.ADD, protected)
    return Decision(Action.ADD)


def sources_hash(sources: dict[str, list[int]]) -> str:
    return hashlib.sha256(json.dumps(sources, sort_keys=True).encode()).hexdigest()[:16]


def merge_sources(a: dict[str, list[int]], b: dict[str, list[int]]) -> dict[str, list[int]]:
    out = {k: list(v) for k, v in a.items()}
    for key, ids in b.items():
        out[key] = sorted(set(out.get(key, [])) | set(ids))
    return out


def similar_facts(s: Session, fact: Fact, limit: int = CANDIDATES) -> list[Memory]:
    """Active fact memories that share words with ``fact`` (FTS5 BM25), best first."""
    match = fts_query(" ".join(sorted(meaning_words(f"{fact.subject} {fact.text}"))))
    if not match:
        return []
    ids = [row[0] for row in s.connection().execute(text(
        "SELECT m.id FROM memory_fts JOIN memory m ON m.id = memory_fts.rowid "
        "WHERE memory_fts MATCH :q AND m.superseded_by IS NULL AND m.kind = 'fact' "
        "ORDER BY bm25(memory_fts) LIMIT :n"), {"q": match, "n": limit})]
    if not ids:
        return []
    found = {m.id: m for m in s.exec(select(Memory).where(col(Memory.id).in_(ids)))}
    return [found[i] for i in ids if i in found]


def new_memory(kind: MemoryKind, scope: MemoryScope, subject: str, text_: str,
               sources: dict[str, list[int]], confidence: float = 1.0,
               said_at: datetime | None = None) -> Memory:
    now = utcnow()
    return Memory(kind=kind.value, scope=scope.value, subject=subject, text=text_,
                  confidence=confidence, sources=sources, sources_hash=sources_hash(sources),
                  created_at=now, updated_at=now, said_at=said_at)


def reconcile(s: Session, fact: Fact, sources: dict[str, list[int]], counters: Counters
              ) -> Decision:
    """Apply the decision for ``fact`` inside the caller's transaction; counts it."""
    decision = decide(fact, similar_facts(s, fact), sources)
    target = decision.target
    if decision.action is Action.NOOP:
        return decision
    if decision.action is Action.UPDATE:
        assert target is not None
        if len(meaning_words(fact.text)) > len(meaning_words(target.text)):
            target.text = fact.text
        target.sources = merge_sources(target.sources or {}, sources)
        target.sources_hash = sources_hash(target.sources)
        target.confidence = max(target.confidence, fact.confidence)
        target.said_at = target.said_at or fact.said_at  # first said then
        target.updated_at = utcnow()
        s.add(target)
        counters.memories_updated += 1
        return decision
    memory = new_memory(MemoryKind.FACT, MemoryScope.GLOBAL, fact.subject, fact.text, sources,
                        fact.confidence, fact.said_at)
    if decision.action is Action.OUTDATED:
        assert target is not None
        memory.superseded_by = target.id  # history behind the newer memory from the start
    s.add(memory)
    s.flush()
    counters.memories_added += 1
    if decision.action is Action.OUTDATED:
        counters.memories_superseded += 1
        counters.anticipations_invalidated += stale_anticipations(s, sources)
    if decision.action is Action.SUPERSEDE:
        assert target is not None
        for old in (target, *decision.also):
            supersede(s, old, memory, counters)
    return decision


def supersede(s: Session, old: Memory, new: Memory, counters: Counters) -> None:
    """``old`` becomes history behind ``new``; its prepared answers go stale now.

    A prepared answer is stale when its sources include ``old`` itself (the 0002 trigger
    on ``superseded_by`` does that) or the messages and notes ``old`` came from: an
    answer prepared from the message "physio at 15:00" must not outlive the fact."""
    old.superseded_by = new.id
    old.updated_at = utcnow()
    s.add(old)
    s.flush()
    counters.memories_superseded += 1
    counters.anticipations_invalidated += stale_anticipations(s, old.sources or {})
    log.info("memory %s superseded by %s", old.id, new.id)


def stale_anticipations(s: Session, sources: dict[str, list[int]]) -> int:
    """Mark ready or used anticipations that share a message or note with ``sources``
    stale (in the caller's transaction); returns how many."""
    wanted = {(key, i) for key in ("messages", "notes") for i in sources.get(key, [])}
    if not wanted:
        return 0
    live = s.exec(select(Anticipation).where(col(Anticipation.status).in_(
        [AnticipationStatus.READY.value, AnticipationStatus.USED.value]))).all()
    count = 0
    for row in live:
        if wanted & {(k, i) for k, ids in (row.sources or {}).items() for i in ids}:
            row.status = AnticipationStatus.STALE.value
            s.add(row)
            count += 1
    return count


def outdated_messages(s: Session, message_ids: Iterable[int]) -> set[int]:
    """Those of ``message_ids`` whose facts were all superseded (`store.memories`)."""
    return memories.outdated_messages(s.connection(), message_ids)
