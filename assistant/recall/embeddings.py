"""Optional embeddings through llama.cpp's embedding call, and keeping memory vectors filled.

Configured with ``[memory] embedding_model``: a separate embedding GGUF, or ``same`` for
the chat model loaded a second time with ``embedding=True`` (mean pooling). Vectors are
float32 blobs in ``memory.vector``; an ``embed_memories`` work item fills the missing
ones during sleep time, outside the item's transaction.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from assistant.mind.agenda import Proposal
from assistant.mind.work import WorkContext, WorkInterrupted, WorkOutcome
from assistant.recall.retrieval import Embedder, to_blob
from assistant.store.db import Database
from assistant.store.models import Memory, MemoryKind, WorkItem

log = logging.getLogger("assistant.recall")

EMBED_KIND = "embed_memories"
EMBED_PRIORITY = 0.02
BATCH = 32
_KINDS = (MemoryKind.FACT.value, MemoryKind.SUMMARY.value)


class LlamaEmbedder:
    """Embeddings from a GGUF through llama-cpp-python (loaded on first use, thread-safe)."""

    def __init__(self, model_path: Path, n_ctx: int = 512, n_threads: int | None = None
                 ) -> None:
        self._path = model_path
        self._n_ctx = n_ctx
        self._n_threads = n_threads
        self._llm: Any = None
        self._lock = threading.Lock()

    def _model(self) -> Any:
        if self._llm is None:
            import llama_cpp

            self._llm = llama_cpp.Llama(
                str(self._path), embedding=True, n_ctx=self._n_ctx, n_threads=self._n_threads,
                pooling_type=llama_cpp.LLAMA_POOLING_TYPE_MEAN, verbose=False)
        return self._llm

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        with self._lock:
            llm = self._model()
            out: list[list[float]] = []
            for text in texts:
                vector = llm.embed(text[: self._n_ctx * 3], normalize=True, truncate=True)
                out.append([float(x) for x in vector])
            return out

    def close(self) -> None:
        with self._lock:
            if self._llm is not None:
                self._llm.close()
                self._llm = None


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
            vectors.append(to_blob(embedder.embed([text])[0]))

        def apply(s: Session) -> None:
            for (memory_id, _), blob in zip(batch, vectors, strict=True):
                memory = s.get(Memory, memory_id)
                if memory is not None:
                    memory.vector = blob
                    s.add(memory)

        return WorkOutcome(f"Made search vectors for {len(batch)} memories.", apply=apply)
