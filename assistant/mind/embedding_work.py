"""Sleep-time work that keeps memory search vectors filled.

Vectors are float32 blobs in ``memory.vector``; an ``embed_memories`` work item fills
the missing ones in batches during sleep time with the configured embedder (see
:mod:`assistant.llm.embedding`), stopping between texts when the person comes back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from sqlmodel import Session, col, select

from assistant.llm.embedding import Embedder, to_blob
from assistant.llm.engine import Preempted
from assistant.mind.agenda import Proposal
from assistant.mind.work import WorkContext, WorkInterrupted, WorkOutcome
from assistant.store.db import Database
from assistant.store.models import Memory, MemoryKind, WorkItem

log = logging.getLogger("assistant.mind")

EMBED_KIND = "embed_memories"
EMBED_PRIORITY = 0.02
BATCH = 32
_KINDS = (MemoryKind.FACT.value, MemoryKind.SUMMARY.value)


def missing_vectors(s: Session, limit: int = BATCH) -> list[Memory]:
    return list(s.exec(select(Memory).where(
        col(Memory.superseded_by).is_(None), col(Memory.kind).in_(_KINDS),
        col(Memory.vector).is_(None)).order_by(col(Memory.id)).limit(limit)))


def embed_source(db: Database) -> Iterator[Proposal]:
    """Propose filling vectors while active memories have none."""
    with db.session() as s:
        if missing_vectors(s, 1):
            yield Proposal(EMBED_KIND, "memories", EMBED_PRIORITY)


class EmbedMemoriesHandler:
    """Computes vectors for a batch of memories that have none (target: "memories")."""

    kind = EMBED_KIND

    def __init__(self, embedder: Callable[[], Embedder]) -> None:
        self._embedder = embedder

    def describe(self, item: WorkItem, db: Database) -> str:
        return "search vectors for new memories"

    def run(self, item: WorkItem, ctx: WorkContext) -> WorkOutcome:
        with ctx.db.session() as s:
            batch = [(m.id or 0, f"{m.subject}: {m.text}") for m in missing_vectors(s)]
        if not batch:
            return WorkOutcome("Every memory already has its search vector.")
        vectors = []
        embedder = self._embedder()
        for _id, text in batch:
            if ctx.should_stop():
                raise WorkInterrupted("stop requested while embedding")
            try:
                vectors.append(to_blob(embedder.embed([text])[0]))
            except Preempted as exc:  # an engine embedder gave way to FOREGROUND work
                raise WorkInterrupted(str(exc), preempted=not ctx.should_stop()) from None

        def apply(s: Session) -> None:
            for (memory_id, _), blob in zip(batch, vectors, strict=True):
                memory = s.get(Memory, memory_id)
                if memory is not None:
                    memory.vector = blob
                    s.add(memory)

        return WorkOutcome(f"Made search vectors for {len(batch)} memories.", apply=apply)
