"""Retrieval: the memories, notes and messages most relevant to a question.

FTS5 BM25 over the three indexes (active facts and summaries, notes, messages), merged
into one ranking; when an embedding model is configured, cosine similarity over memory
vectors (numpy brute force, fine up to ~100k rows) joins the ranking by reciprocal rank
fusion. A message already covered by a better-ranked memory is left out, and so is a
memory that repeats a better-ranked one, so the few snippets an answer may quote say
different things.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from sqlalchemy import text
from sqlmodel import col, select

from assistant.llm.embedding import Embedder, from_blob
from assistant.llm.engine import EngineError
from assistant.store.db import Database
from assistant.store.fts import fts_query
from assistant.store.models import Conversation, Memory, MemoryKind, Message, Note
from assistant.text.dates import format_date
from assistant.text.similarity import word_overlap
from assistant.text.words import meaning_words

log = logging.getLogger("assistant.recall")

#: Candidates taken from each index before merging.
PER_INDEX = 20
RRF_K = 20
#: Index weights in the merged ranking.
WEIGHTS = {"memory": 1.0, "note": 1.0, "message": 0.9, "vector": 1.0}
_RETRIEVED_KINDS = (MemoryKind.FACT.value, MemoryKind.SUMMARY.value)


@dataclass
class Hit:
    """One retrieved item: ``kind`` is memory | note | message."""

    kind: str
    id: int
    text: str
    label: str
    score: float
    sources: dict[str, list[int]] = field(default_factory=dict)
    #: When the text was written (a memory: when its source was; None if not known).
    created_at: datetime | None = None

    def cites(self, kind: str, item_id: int) -> bool:
        """True if this hit is, or was made from, the message/note ``item_id``."""
        if self.kind == kind:
            return self.id == item_id
        return self.kind == "memory" and item_id in self.sources.get(f"{kind}s", [])


def query_terms(question: str) -> str:
    """An FTS5 query of the question's meaningful words (all words if none are)."""
    words = sorted(meaning_words(question))
    return fts_query(" ".join(words)) or fts_query(question)


class Retriever:
    """Searches the person's data for a question; read-only."""

    def __init__(self, db: Database, embedder: Embedder | None = None) -> None:
        self._db = db
        self._embedder = embedder

    def _fts(self, table: str, match: str, extra: str = "", params: dict[str, object] | None
             = None) -> list[tuple[int, float]]:
        fts = f"{table}_fts"
        sql = (f"SELECT t.id, bm25({fts}) FROM {fts} JOIN {table} t ON t.id = {fts}.rowid "
               f"WHERE {fts} MATCH :q {extra} ORDER BY bm25({fts}) LIMIT :n")
        with self._db.session() as s:
            rows = s.connection().execute(text(sql), {"q": match, "n": PER_INDEX,
                                                      **(params or {})})
            return [(int(r[0]), float(r[1])) for r in rows]

    def _vector_ranking(self, question: str) -> list[tuple[int, float]]:
        if self._embedder is None:
            return []
        with self._db.session() as s:
            rows = list(s.exec(select(Memory.id, Memory.vector).where(
                col(Memory.superseded_by).is_(None), col(Memory.kind).in_(_RETRIEVED_KINDS),
                col(Memory.vector).is_not(None))))
        if not rows:
            return []
        matrix = np.stack([from_blob(v) for _, v in rows if v is not None])
        try:
            query = np.asarray(self._embedder.embed([question])[0], dtype=np.float32)
        except EngineError as exc:  # no embedding model after all: search by words only
            log.warning("question not embedded (%s); vectors skipped", exc)
            return []
        if matrix.shape[1] != query.shape[0]:
            log.warning("memory vectors have %d dimensions, the query %d; vectors skipped",
                        matrix.shape[1], query.shape[0])
            return []
        norms = np.linalg.norm(matrix, axis=1) * (np.linalg.norm(query) or 1.0)
        scores = matrix @ query / np.where(norms == 0, 1.0, norms)
        order = np.argsort(-scores)[:PER_INDEX]
        return [(int(rows[i][0] or 0), float(scores[i])) for i in order]

    def search(self, question: str, limit: int = 5, *,
               exclude_conversation: int | None = None) -> list[Hit]:
        """The ``limit`` best hits for ``question``, best first."""
        match = query_terms(question)
        rankings: dict[str, list[tuple[int, float]]] = {}
        if match:
            kinds = ", ".join(f"'{k}'" for k in _RETRIEVED_KINDS)
            rankings["memory"] = self._fts(
                "memory", match, f"AND t.superseded_by IS NULL AND t.kind IN ({kinds})")
            rankings["note"] = self._fts("note", match)
            rankings["message"] = self._fts(
                "message", match, "AND t.conversation_id != :conv AND trim(t.content) != ''",
                {"conv": exclude_conversation if exclude_conversation is not None else -1})
        rankings["vector"] = self._vector_ranking(question)
        fused: dict[tuple[str, int], float] = {}
        for index, ranking in rankings.items():
            kind = "memory" if index == "vector" else index
            best = -ranking[0][1] if ranking and index != "vector" else 1.0
            for rank, (item_id, raw) in enumerate(ranking):
                # Rank fusion, plus how close this item's BM25 is to its index's best.
                closeness = (-raw / best) if index != "vector" and best > 0 else raw
                fused[(kind, item_id)] = fused.get((kind, item_id), 0.0) + WEIGHTS[index] * (
                    1.0 / (RRF_K + rank) + 0.05 * max(0.0, closeness))
        ordered = sorted(fused.items(), key=lambda kv: -kv[1])
        hits = self._load([key for key, _ in ordered[: limit * 4]], dict(ordered))
        return _diverse(hits, limit)

    def _load(self, keys: list[tuple[str, int]], scores: dict[tuple[str, int], float]
              ) -> list[Hit]:
        ids: dict[str, list[int]] = {"memory": [], "note": [], "message": []}
        for kind, item_id in keys:
            ids[kind].append(item_id)
        hits: dict[tuple[str, int], Hit] = {}
        with self._db.session() as s:
            for m in s.exec(select(Memory).where(col(Memory.id).in_(ids["memory"]))):
                label = "memory" if m.kind == MemoryKind.FACT.value else f'summary "{m.subject}"'
                hits[("memory", m.id or 0)] = Hit("memory", m.id or 0, m.text, label, 0.0,
                                                  dict(m.sources or {}), m.said_at)
            for n in s.exec(select(Note).where(col(Note.id).in_(ids["note"]))):
                hits[("note", n.id or 0)] = Hit("note", n.id or 0, n.body, f'note "{n.title}"',
                                                0.0, created_at=n.updated_at)
            rows = s.exec(select(Message, Conversation.title).join(Conversation).where(
                col(Message.id).in_(ids["message"])))
            for msg, title in rows:
                speaker = "you" if msg.role == "user" else "Reverie"
                label = f'chat "{title}", {speaker}, {format_date(msg.created_at.date())}'
                hits[("message", msg.id or 0)] = Hit("message", msg.id or 0, msg.content,
                                                     label, 0.0, created_at=msg.created_at)
        out = []
        for key in keys:
            hit = hits.get(key)
            if hit is not None:
                hit.score = scores[key]
                out.append(hit)
        return out


def _diverse(hits: list[Hit], limit: int) -> list[Hit]:
    chosen: list[Hit] = []
    for hit in hits:
        if hit.kind == "message" and any(c.cites("message", hit.id) for c in chosen):
            continue
        if hit.kind == "memory" and any(word_overlap(hit.text, c.text) >= 0.8 for c in chosen):
            continue
        chosen.append(hit)
        if len(chosen) >= limit:
            break
    return chosen


EmbedderFactory = Callable[[], Embedder | None]
