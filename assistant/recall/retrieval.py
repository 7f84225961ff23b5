"""Retrieval: the memories, notes and messages most relevant to a question.

BM25 over the three FTS5 indexes (active facts and summaries, notes, messages; see
`store.fts.ranked_ids`, which keeps each search to a bounded number of rows however
large the history), merged into one ranking; when an embedding model is configured,
cosine similarity over memory and note vectors (a float32 matrix per table, cached in
memory until the table's ``search_generation`` moves) joins the ranking by reciprocal
rank fusion (`FUSION`: the messages themselves weigh more than the short facts
distilled from them, calibrated by `assistant.bench.fusion`). A message already covered
by a better-ranked memory is left out, and so is a memory that repeats a better-ranked
one or was drawn from better-ranked messages only, so the few snippets an answer may
quote say different things.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import Connection, text

from assistant.llm.embedding import Embedder, from_blob, to_blob
from assistant.llm.engine import EngineError
from assistant.store.chats import handed_over
from assistant.store.db import Database
from assistant.store.fts import fts_query, ranked_ids, search_generation
from assistant.store.memories import current_successors
from assistant.store.models import MemoryKind, Note
from assistant.text.dates import format_date
from assistant.text.similarity import word_overlap
from assistant.text.words import meaning_words

log = logging.getLogger("assistant.recall")

#: Candidates taken from each index before merging.
PER_INDEX = 20


@dataclass(frozen=True)
class Fusion:
    """How the indexes' rankings merge: reciprocal rank fusion with ``rrf_k``, each
    index (memory, note, message by words; vector, note_vector by meaning) counted
    with its weight."""

    rrf_k: int
    weights: tuple[tuple[str, float], ...]


#: Calibrated by `assistant.bench.fusion.fusion_sweep` on the odd questions of both
#: fixtures' slept profiles (docs/bench/fusion.json): the raw messages outweigh the
#: short facts distilled from them ("Biscuit is back with us." had outranked "Biscuit
#: is Owen's dog, a six-year-old beagle cross"), top-5 recall held out 0.62 -> 0.87
#: (two-person) and 1.0 -> 1.0 (maya).
FUSION = Fusion(20, (("memory", 0.6), ("note", 1.0), ("message", 1.3), ("vector", 0.5),
                     ("note_vector", 1.0)))
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
    #: A memory that is not a fact (a summary, the profile, a digest): it restates what
    #: its sources said and never corrects them.
    summary: bool = False
    #: (who, from whom): this text hands the role asked about on ("Mr. Hartley is
    #: selling the building. The new owner is Priti Shah": ("Priti Shah", "Mr. Hartley"));
    #: set by `Retriever.handed_over` and `recall.evidence.handed_over`.
    takes_over: tuple[str, str] | None = None

    def cites(self, kind: str, item_id: int) -> bool:
        """True if this hit is, or was made from, the message/note ``item_id``."""
        if self.kind == kind:
            return self.id == item_id
        return self.kind == "memory" and item_id in self.sources.get(f"{kind}s", [])


def query_words(question: str) -> list[str]:
    """The words searched for: the question's meaningful words, sorted (all its words
    if none are), each usable as one FTS5 term."""
    words = [w for w in sorted(meaning_words(question)) if fts_query(w)]
    return words or [w for w in question.split() if fts_query(w)]


#: A note longer than this is read through its passages about the question (`excerpt`):
#: support, evidence and the prompt never scan a whole 9 MB note for each question.
NOTE_EXCERPT_CHARS = 8000
#: A line longer than this is read in pieces of about this size (cut at spaces).
PASSAGE_CHARS = 600
_SEPARATOR = "\n"


def _passages(body: str) -> Iterator[str]:
    """The note's non-empty lines, a long one in pieces of about `PASSAGE_CHARS`."""
    for line in body.splitlines():
        start, end = 0, len(line)
        while start < end:  # by offsets: a 9 MB line is never copied piece by piece
            stop = end if end - start <= PASSAGE_CHARS else (
                line.rfind(" ", start + PASSAGE_CHARS // 2, start + PASSAGE_CHARS) + 1
                or start + PASSAGE_CHARS)
            piece = line[start:stop].strip()
            if piece:
                yield piece
            start = stop


def excerpt(body: str, words: Sequence[str], limit: int = NOTE_EXCERPT_CHARS) -> str:
    """``body`` when it is at most ``limit`` characters; else the passages (lines, or
    pieces of a long line) that say the most of ``words`` (as whole words, or with an
    ending: "appointment" finds "appointments", "car" never "care"), as many as fit in ``limit``
    characters, in the note's order; the opening when none says any (the note was found
    by meaning)."""
    if len(body) <= limit:
        return body
    wanted = sorted({w.lower() for w in words if w}, key=len, reverse=True)
    if not wanted:
        return body[:limit]
    said = re.compile(r"\b(" + "|".join(re.escape(w) for w in wanted)
                      + r")(?:s|es|d|ed|ing|'s|\u2019s)?\b", re.IGNORECASE)
    scored = []
    for order, passage in enumerate(_passages(body)):
        found = {m.lower() for m in said.findall(passage)}
        if found:
            scored.append((-len(found), order, passage))
    kept: list[tuple[int, str]] = []
    size = 0
    for _, order, passage in sorted(scored):
        cost = len(passage) + (len(_SEPARATOR) if kept else 0)
        if size + cost <= limit:
            kept.append((order, passage))
            size += cost
    return _SEPARATOR.join(p for _, p in sorted(kept)) if kept else body[:limit]


def query_terms(question: str) -> str:
    """An FTS5 query of the question's meaningful words (all words if none are)."""
    return " OR ".join(dict.fromkeys(fts_query(w) for w in query_words(question)))


@dataclass(frozen=True)
class _Vectors:
    """The search vectors of one table as of one ``search_generation``: ids and their
    rows of a float32 matrix (rows scaled to unit length, so a product is a cosine)."""

    generation: int
    ids: np.ndarray
    matrix: np.ndarray


class Retriever:
    """Searches the person's data for a question; read-only, except that notes without a
    search vector get one on first search (unless the profile is read-only).

    Vectors are read once into a matrix per table (memories, notes) and kept until the
    table's ``search_generation`` moves (triggers raise it on every change), so a search
    costs one product of that matrix with the question's vector."""

    def __init__(self, db: Database, embedder: Embedder | None = None,
                 fusion: Fusion = FUSION) -> None:
        self._db = db
        self._embedder = embedder
        self.fusion = fusion
        self._vectors: dict[str, _Vectors] = {}
        self._lock = threading.Lock()


    def _matrix(self, con: Connection, table: str, embedder: Embedder) -> _Vectors:
        """The cached vectors of ``table`` (memory: current facts and summaries; note:
        every note, missing vectors made and stored first), read again when changed."""
        generation = search_generation(con, table)
        cached = self._vectors.get(table)
        if cached is not None and cached.generation == generation:
            return cached
        if table == "memory":
            kinds = ", ".join(f"'{k}'" for k in _RETRIEVED_KINDS)
            rows = list(con.execute(text(
                "SELECT id, vector FROM memory WHERE superseded_by IS NULL AND "
                f"kind IN ({kinds}) AND vector IS NOT NULL")))
            missing: list[tuple[int, str]] = []
        else:
            rows = list(con.execute(text(
                "SELECT id, vector FROM note WHERE vector IS NOT NULL")))
            missing = [(int(i), f"{t}: {b}") for i, t, b in con.execute(text(
                "SELECT id, title, body FROM note WHERE vector IS NULL"))]
        pairs = [(int(i), from_blob(v)) for i, v in rows]
        if missing:
            made = [np.asarray(v, dtype=np.float32)
                    for v in embedder.embed([t for _, t in missing])]
            pairs += [(i, v) for (i, _), v in zip(missing, made, strict=True)]
            generation = self._store_note_vectors(missing, made, generation)
        dims = {len(v) for _, v in pairs}
        if len(dims) > 1:
            log.warning("%s vectors have %d different sizes; vectors of other sizes skipped",
                        table, len(dims))
            size = max(dims, key=lambda d: sum(1 for _, v in pairs if len(v) == d))
            pairs = [(i, v) for i, v in pairs if len(v) == size]
        ids = np.array([i for i, _ in pairs], dtype=np.int64)
        matrix = (np.stack([v for _, v in pairs]).astype(np.float32) if pairs
                  else np.zeros((0, 1), dtype=np.float32))
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        unit = (matrix / np.where(norms == 0, 1.0, norms)).astype(np.float32)
        entry = _Vectors(generation, ids, unit)
        with self._lock:
            self._vectors[table] = entry
        return entry

    def _store_note_vectors(self, missing: list[tuple[int, str]], made: list[np.ndarray],
                            generation: int) -> int:
        """Store the new note vectors; the generation the cache may keep (-1 when another
        change came in between: it is read again next time)."""
        if self._db.read_only:
            return generation
        with self._db.write() as s:
            unchanged = search_generation(s.connection(), "note") == generation
            for (note_id, _), vector in zip(missing, made, strict=True):
                note = s.get(Note, note_id)
                if note is not None and note.vector is None:
                    note.vector = to_blob(vector.tolist())
                    s.add(note)
            s.flush()
            return search_generation(s.connection(), "note") if unchanged else -1

    def _vector_ranking(self, con: Connection, question: str, table: str
                        ) -> list[tuple[int, float]]:
        if self._embedder is None:
            return []
        try:
            cached = self._matrix(con, table, self._embedder)
            if not len(cached.ids):
                return []
            query = np.asarray(self._embedder.embed([question])[0], dtype=np.float32)
        except EngineError as exc:  # no embedding model after all: search by words only
            log.warning("question not embedded (%s); vectors skipped", exc)
            return []
        if cached.matrix.shape[1] != query.shape[0]:
            log.warning("%s vectors have %d dimensions, the query %d; vectors skipped",
                        table, cached.matrix.shape[1], query.shape[0])
            return []
        scores = cached.matrix @ (query / (np.linalg.norm(query) or 1.0))
        top = min(PER_INDEX, len(scores))
        best = np.argpartition(-scores, top - 1)[:top]
        order = best[np.argsort(-scores[best], kind="stable")]
        return [(int(cached.ids[i]), float(scores[i])) for i in order]

    def search(self, question: str, limit: int = 5, *,
               exclude_conversation: int | None = None) -> list[Hit]:
        """The ``limit`` best hits for ``question``, best first."""
        words = query_words(question)
        rankings: dict[str, list[tuple[int, float]]] = {}
        with self._db.session() as s:
            con = s.connection()
            if words:
                kinds = ", ".join(f"'{k}'" for k in _RETRIEVED_KINDS)
                rankings["memory"] = ranked_ids(
                    con, "memory", words, PER_INDEX,
                    where=f"AND t.superseded_by IS NULL AND t.kind IN ({kinds})")
                rankings["note"] = ranked_ids(con, "note", words, PER_INDEX)
                # A blank message has no words, so it never matches: no filter on content.
                rankings["message"] = ranked_ids(
                    con, "message", words, PER_INDEX, where="AND t.conversation_id != :conv",
                    params={"conv": exclude_conversation if exclude_conversation is not None
                            else -1})
            rankings["vector"] = self._vector_ranking(con, question, "memory")
            # Notes by meaning only where their words missed (a vocabulary mismatch): a
            # note found both ways would otherwise outrank the memories made from it.
            by_words = {i for i, _ in rankings.get("note", [])}
            rankings["note_vector"] = [(i, score) for i, score in self._vector_ranking(
                con, question, "note") if i not in by_words]
            fused: dict[tuple[str, int], float] = {}
            weights, rrf_k = dict(self.fusion.weights), self.fusion.rrf_k
            if not any(rankings.get(index) for index in ("memory", "note", "message")):
                # No word of the question is in the data ("landlord" for "the rent goes
                # to Mr. Duval"): facts and notes are found by meaning alone, as equals.
                weights["vector"] = weights["note_vector"]
            for index, ranking in rankings.items():
                vector = index.endswith("vector")
                kind = {"vector": "memory", "note_vector": "note"}.get(index, index)
                best = -ranking[0][1] if ranking and not vector else 1.0
                for rank, (item_id, raw) in enumerate(ranking):
                    # Rank fusion, plus how close this item's BM25 is to its index's best.
                    closeness = (-raw / best) if not vector and best > 0 else raw
                    fused[(kind, item_id)] = fused.get((kind, item_id), 0.0) + weights[
                        index] * (1.0 / (rrf_k + rank) + 0.05 * max(0.0, closeness))
            ordered = sorted(fused.items(), key=lambda kv: -kv[1])
            hits = self._load(con, [key for key, _ in ordered[: limit * 4]], dict(ordered),
                              words)
        return _diverse(hits, limit)

    def outdated(self, message_ids: list[int]) -> dict[int, list[Hit]]:
        """Those of ``message_ids`` whose facts a later correction superseded, each with
        the facts that now hold in their place (`current_successors`), as hits: the
        question worded like the old message is answered from the new value."""
        with self._db.session() as s:
            con = s.connection()
            successors = current_successors(con, message_ids)
            keys = sorted({("memory", m) for ids in successors.values() for m in ids})
            loaded = {(h.kind, h.id): h for h in self._load(con, keys, dict.fromkeys(keys, 0.0))}
        return {msg: [loaded[("memory", m)] for m in ids if ("memory", m) in loaded]
                for msg, ids in successors.items()}

    def handed_over(self, name: str, role: str, after: datetime) -> Hit | None:
        """The message, written at ``after`` or later, in which ``name`` (a person) hands
        ``role`` on (`store.chats.handed_over`), as a hit whose `Hit.takes_over` says who
        has it now; None if no message says so."""
        with self._db.session() as s:
            con = s.connection()
            found = handed_over(con, name, role, after)
            if found is None:
                return None
            key = ("message", found[0])
            hits = self._load(con, [key], {key: 0.0})
        if not hits:
            return None
        hits[0].takes_over = (found[1], name)
        return hits[0]

    def _load(self, con: Connection, keys: list[tuple[str, int]],
              scores: dict[tuple[str, int], float], words: Sequence[str] = ()) -> list[Hit]:
        ids: dict[str, list[int]] = {"memory": [], "note": [], "message": []}
        for kind, item_id in keys:
            ids[kind].append(item_id)
        hits: dict[tuple[str, int], Hit] = {}

        def rows(sql: str, kind: str) -> list[Any]:
            if not ids[kind]:
                return []
            listed = ",".join(str(i) for i in ids[kind])
            return list(con.execute(text(sql.format(ids=listed))))

        for ident, kind, subject, body, sources, said in rows(
                "SELECT id, kind, subject, text, sources, said_at FROM memory "
                "WHERE id IN ({ids})", "memory"):
            fact = kind == MemoryKind.FACT.value
            label = "memory" if fact else _titled("summary", subject)
            hits[("memory", ident)] = Hit("memory", ident, body, label, 0.0,
                                          dict(json.loads(sources or "{}")),
                                          _when(said) if said else None, summary=not fact)
        for ident, title, body, updated in rows(
                "SELECT id, title, body, updated_at FROM note WHERE id IN ({ids})", "note"):
            hits[("note", ident)] = Hit("note", ident, excerpt(body, words),
                                        f'note "{title}"', 0.0, created_at=_when(updated))
        for ident, role, content, created, title in rows(
                "SELECT m.id, m.role, m.content, m.created_at, c.title FROM message m "
                "JOIN conversation c ON c.id = m.conversation_id WHERE m.id IN ({ids})",
                "message"):
            speaker = "you" if role == "user" else "Reverie"
            when = _when(created)
            label = f'{_titled("chat", title)}, {speaker}, {format_date(when.date())}'
            hits[("message", ident)] = Hit("message", ident, content, label, 0.0,
                                           created_at=when)
        out = []
        for key in keys:
            hit = hits.get(key)
            if hit is not None:
                hit.score = scores[key]
                out.append(hit)
        return out


#: A title longer than this many words or characters reads like a sentence: a message's
#: opening that named the chat, which may quote a value corrected since.
MAX_TITLE_WORDS = 6
MAX_TITLE_CHARS = 40


def _titled(label: str, title: str) -> str:
    """``label "title"`` ('chat "Weekend plans"'), or the bare label when the title is
    a sentence ("Mia's football training is at Hollis Park on Tuesdays at 17…") or
    states a number ("Rent is £1,150"): either may be a value corrected since."""
    title = title.strip().replace('"', "'")
    if (not title or len(title.split()) > MAX_TITLE_WORDS or len(title) > MAX_TITLE_CHARS
            or any(c.isdigit() for c in title)):
        return label
    return f'{label} "{title}"'


def _when(value: datetime | str) -> datetime:
    """A stored timestamp as the ORM reads it (naive UTC)."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _diverse(hits: list[Hit], limit: int) -> list[Hit]:
    chosen: list[Hit] = []
    messages: set[int] = set()
    for hit in hits:
        if hit.kind == "message" and any(c.cites("message", hit.id) for c in chosen):
            continue
        if hit.kind == "memory" and any(word_overlap(hit.text, c.text) >= 0.8 for c in chosen):
            continue
        told = set(hit.sources.get("messages", [])) if hit.kind == "memory" else set()
        if told and told <= messages:
            continue  # a fact drawn from messages already chosen says nothing more
        chosen.append(hit)
        if hit.kind == "message":
            messages.add(hit.id)
        if len(chosen) >= limit:
            break
    return chosen


EmbedderFactory = Callable[[], Embedder | None]
