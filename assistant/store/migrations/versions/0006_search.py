"""Fast prepared-answer lookup and search caches that stay true.

- ``anticipation.question_key`` (indexed): `text.questions.question_key` of the question,
  so an exact or normalised match is one indexed query instead of a read of every
  prepared question; filled here for existing rows, and on every ORM insert and update.
- ``note.vector``: notes get search vectors like memories (made on first search).
- ``search_generation``: one counter per searched table, raised by triggers on every
  change that an in-memory search index depends on (rows added or deleted, question,
  status, expiry, text, supersession or vector changed; a served answer going from
  ready to used is no change), whichever code path, connection or process made it;
  the stale-marking triggers of 0002 raise it too, since triggers fire inside triggers.
  A cache compares its counter with the stored one before use.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from assistant.text.questions import question_key

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

#: (table, columns whose change invalidates a search cache of that table)
_WATCHED = (
    ("anticipation", "question, status, expires_at, vector"),
    ("memory", "kind, subject, text, superseded_by, vector"),
    ("note", "title, body, vector"),
)


#: Serving a prepared answer moves it from ready to used (both servable, nothing a search
#: cache holds changes): that alone does not count as a change.
_UNLESS = {"anticipation": (
    "WHEN NOT (old.question IS new.question AND old.expires_at IS new.expires_at "
    "AND old.vector IS new.vector AND old.status IN ('ready', 'used') "
    "AND new.status IN ('ready', 'used'))")}


def _bump(table: str) -> str:
    return (f"UPDATE search_generation SET generation = generation + 1 "
            f"WHERE name = '{table}';")


def upgrade() -> None:
    op.add_column("anticipation", sa.Column("question_key", sa.String(), nullable=True))
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, question FROM anticipation")).fetchall()
    if rows:
        bind.execute(sa.text("UPDATE anticipation SET question_key = :k WHERE id = :i"),
                     [{"k": question_key(q or ""), "i": i} for i, q in rows])
    op.create_index("ix_anticipation_question_key", "anticipation", ["question_key"])
    op.add_column("note", sa.Column("vector", sa.LargeBinary(), nullable=True))
    op.create_table(
        "search_generation",
        sa.Column("name", sa.String(), primary_key=True),
        sa.Column("generation", sa.Integer(), nullable=False),
    )
    for table, columns in _WATCHED:
        op.execute(f"INSERT INTO search_generation (name, generation) VALUES ('{table}', 0)")
        op.execute(f"CREATE TRIGGER {table}_search_generation_ai AFTER INSERT ON {table} "
                   f"BEGIN {_bump(table)} END")
        op.execute(f"CREATE TRIGGER {table}_search_generation_ad AFTER DELETE ON {table} "
                   f"BEGIN {_bump(table)} END")
        op.execute(f"CREATE TRIGGER {table}_search_generation_au AFTER UPDATE OF {columns} "
                   f"ON {table} {_UNLESS.get(table, '')} BEGIN {_bump(table)} END")


def downgrade() -> None:
    for table, _columns in _WATCHED:
        for suffix in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_search_generation_{suffix}")
    op.drop_table("search_generation")
    op.drop_index("ix_anticipation_question_key", "anticipation")
    # Native DROP COLUMN (SQLite 3.35+): a batch copy would drop the tables' triggers.
    op.execute("ALTER TABLE note DROP COLUMN vector")
    op.execute("ALTER TABLE anticipation DROP COLUMN question_key")
