"""FTS5 full-text indexes kept in sync with their tables by triggers.

Each index is an external-content FTS5 table over some text columns of a base table;
insert, update and delete triggers keep it exact, so no code path has to remember to
re-index. Migrations call :func:`create_fts_sql` with the columns as they were then.
"""

from __future__ import annotations

from typing import TypeVar

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
