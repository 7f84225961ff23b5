"""FTS5 full-text indexes kept in sync with their tables by triggers.

Each index is an external-content FTS5 table over some text columns of a base table;
insert, update and delete triggers keep it exact, so no code path has to remember to
re-index. Migrations call :func:`create_fts_sql` with the columns as they were then.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeVar

import numpy as np
from sqlalchemy import Connection, text
from sqlmodel import Session, SQLModel, col, select

RowT = TypeVar("RowT", bound=SQLModel)

#: (base table, indexed text columns) as of the latest schema.
FTS_TABLES: dict[str, tuple[str, ...]] = {
    "message": ("content",),
    "note": ("title", "body"),
    "memory": ("subject", "text"),
    "anticipation": ("question", "answer"),
}


def fts_name(table: str) -> str:
    return f"{table}_fts"


def create_fts_sql(table: str, columns: tuple[str, ...]) -> list[str]:
    """The statements that create ``<table>_fts`` and its three sync triggers."""
    fts = fts_name(table)
    cols = ", ".join(columns)
    new = ", ".join(f"new.{c}" for c in columns)
    old = ", ".join(f"old.{c}" for c in columns)
    delete_old = (
        f"INSERT INTO {fts}({fts}, rowid, {cols}) VALUES ('delete', old.id, {old});"
    )
    insert_new = f"INSERT INTO {fts}(rowid, {cols}) VALUES (new.id, {new});"
    return [
        f"CREATE VIRTUAL TABLE {fts} USING fts5({cols}, content='{table}', "
        f"content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')",
        f"CREATE TRIGGER {table}_fts_ai AFTER INSERT ON {table} BEGIN {insert_new} END",
        f"CREATE TRIGGER {table}_fts_ad AFTER DELETE ON {table} BEGIN {delete_old} END",
        f"CREATE TRIGGER {table}_fts_au AFTER UPDATE OF {cols} ON {table} "
        f"BEGIN {delete_old} {insert_new} END",
    ]


def drop_fts_sql(table: str) -> list[str]:
    fts = fts_name(table)
    return [
        *(f"DROP TRIGGER IF EXISTS {table}_fts_{s}" for s in ("ai", "ad", "au")),
        f"DROP TABLE IF EXISTS {fts}",
    ]


def fts_query(text: str) -> str:
    """Turn free text into a safe FTS5 query: any of its words, as quoted terms."""
    words = []
    for raw in text.replace('"', " ").split():
        word = "".join(ch for ch in raw if ch.isalnum() or ch in "-'_")
        word = word.strip("-'_")
        if word:
            words.append(f'"{word}"')
    return " OR ".join(words)


def search_rows(session: Session, model: type[RowT], table: str, query: str, limit: int, *,
                where: str = "") -> list[RowT]:
    """Rows of ``model`` (stored in ``table``) matching free-text ``query``, best BM25
    rank first. ``where`` adds SQL conditions on the base table, aliased ``t``."""
    match = fts_query(query)
    if not match:
        return []
    fts = fts_name(table)
    ids = [row[0] for row in session.connection().execute(text(
        f"SELECT t.id FROM {fts} JOIN {table} t ON t.id = {fts}.rowid "
        f"WHERE {fts} MATCH :q {where} ORDER BY bm25({fts}) LIMIT :n"),
        {"q": match, "n": limit})]
    key = col(model.id)  # type: ignore[attr-defined]
    found = {row.id: row for row in session.exec(select(model).where(key.in_(ids)))}  # type: ignore[attr-defined]
    return [found[i] for i in ids if i in found]


def search_generation(connection: Connection, table: str) -> int:
    """The change counter of ``table`` (``anticipation``, ``memory`` or ``note``; see
    `store.models.SearchGeneration`): an in-memory search index built when it read N is
    still true while it reads N."""
    value = connection.execute(text("SELECT generation FROM search_generation WHERE name = :t"),
                               {"t": table}).scalar()
    return int(value or 0)


#: Newest rows read per query word from an index where the word is common.
NEWEST_PER_WORD = 500
#: Up to this many matching rows in all, FTS5's own ``bm25()`` ranks them. Above it, it
#: is too slow: it reads every matching row's size and each word's whole posting list.
EXACT_BM25_ROWS = 1000
_K1, _B = 1.2, 0.75


def _varints(blob: bytes) -> list[int]:
    """SQLite's variable-length integers, as FTS5 stores sizes and token counts (their
    nine-byte form, for values above 2**56, never occurs there)."""
    out, value, i = [], 0, 0
    while i < len(blob):
        byte = blob[i]
        value = (value << 7) | (byte & 0x7F)
        i += 1
        if not byte & 0x80:
            out.append(value)
            value = 0
    return out


def ranked_ids(connection: Connection, table: str, words: Sequence[str], limit: int, *,
               where: str = "", params: dict[str, object] | None = None
               ) -> list[tuple[int, float]]:
    """The ``limit`` rows of ``table`` that best match any of ``words`` (each a plain
    word, quoted here), as (id, score) with the lower (more negative) score better, as
    FTS5's ``bm25()`` gives it. ``where`` adds conditions on the base table ``t``.

    The posting list of each word is read newest first and at most `NEWEST_PER_WORD`
    rows deep (one indexed, LIMITed query per word). When every list is complete and
    short (`EXACT_BM25_ROWS` rows in all) FTS5's ``bm25()`` ranks the matches in SQL, as
    it always did. Otherwise the rows are ranked by BM25 computed here from what was
    read: each word's document frequency (exact for a short list, estimated from how
    far back the newest `NEWEST_PER_WORD` reach for a long one), a term frequency of one,
    and each candidate's length from the index's own size table. A common word is thus
    counted over the newest rows that hold it, a rare one over the whole history."""
    fts = fts_name(table)
    quoted = list(dict.fromkeys(q for w in words if (q := fts_query(w))))
    if not quoted:
        return []
    raw = connection.connection.dbapi_connection
    assert raw is not None
    postings = [np.array(raw.execute(
        f"SELECT rowid FROM {fts} WHERE {fts} MATCH ? ORDER BY rowid DESC LIMIT ?",
        (term, NEWEST_PER_WORD)).fetchall(), dtype=np.int64).reshape(-1) for term in quoted]
    extra = dict(params or {})
    if all(len(p) < NEWEST_PER_WORD for p in postings) and sum(
            len(p) for p in postings) <= EXACT_BM25_ROWS:
        return [(int(r[0]), float(r[1])) for r in connection.execute(text(
            f"SELECT t.id, bm25({fts}) FROM {fts} JOIN {table} t ON t.id = {fts}.rowid "
            f"WHERE {fts} MATCH :q {where} ORDER BY bm25({fts}) LIMIT :n"),
            {"q": " OR ".join(quoted), "n": limit, **extra})]
    return _ranked_by_postings(connection, table, postings, limit, where, extra)


def _ranked_by_postings(connection: Connection, table: str, postings: list[np.ndarray],
                        limit: int, where: str, params: dict[str, object]
                        ) -> list[tuple[int, float]]:
    fts = fts_name(table)
    raw = connection.connection.dbapi_connection
    assert raw is not None
    averages = raw.execute(f"SELECT block FROM {fts}_data WHERE id = 1").fetchone()
    totals = _varints(bytes(averages[0])) if averages else []
    rows = max(1, totals[0] if totals else 1)
    avg_len = max(1.0, sum(totals[1:]) / rows)
    newest = max((int(p[0]) for p in postings if len(p)), default=0)
    idfs = []
    for posting in postings:
        if len(posting) < NEWEST_PER_WORD:
            df = float(len(posting))
        else:  # the newest rows reach back to posting[-1]: assume the same density before
            df = min(float(rows), len(posting) * rows / max(1, newest - int(posting[-1]) + 1))
        idfs.append(np.full(len(posting), math.log(1.0 + (rows - df + 0.5) / (df + 0.5))))
    ids, inverse = np.unique(np.concatenate(postings), return_inverse=True)
    weights = np.bincount(inverse, weights=np.concatenate(idfs))
    # Lengths are read only for the rows that can still rank: the best by words alone
    # (newest first among equals).
    order = np.lexsort((-ids, -weights))[: max(50, limit * 10)]
    shortlist = [int(i) for i in ids[order]]
    best = dict(zip(shortlist, (float(w) for w in weights[order]), strict=True))
    marks = ",".join("?" * len(shortlist))
    sizes = {int(i): sum(_varints(bytes(sz))) for i, sz in raw.execute(
        f"SELECT id, sz FROM {fts}_docsize WHERE id IN ({marks})", shortlist)}
    scored = []
    for rowid in shortlist:
        norm = _K1 * (1 - _B + _B * sizes.get(rowid, avg_len) / avg_len)
        scored.append((rowid, -best[rowid] * (_K1 + 1) / (1 + norm)))
    scored.sort(key=lambda rs: (rs[1], -rs[0]))
    if not where:
        return scored[:limit]
    ids_sql = ",".join(str(r) for r in shortlist)
    kept = {int(r[0]) for r in connection.execute(text(
        f"SELECT t.id FROM {table} t WHERE t.id IN ({ids_sql}) {where}"), params)}
    return [rs for rs in scored if rs[0] in kept][:limit]
