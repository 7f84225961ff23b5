"""Anticipations go stale in the same transaction as a change to any of their sources.

Triggers on message, note and memory mark every ready or used anticipation whose ``sources``
JSON names the changed row as ``stale``, so a prepared answer can never outlive the
text it was prepared from, whatever code path made the change. Also records how
often a prepared answer was rejected ("think again") next to how often it was used.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

#: (table, key in anticipation.sources, columns whose change invalidates)
_SOURCES = (
    ("message", "messages", "content"),
    ("note", "notes", "title, body"),
    ("memory", "memories", "subject, text, superseded_by"),
)


def _mark_stale(key: str, row: str) -> str:
    return (
        "UPDATE anticipation SET status = 'stale' WHERE status IN ('ready', 'used') AND EXISTS "
        f"(SELECT 1 FROM json_each(anticipation.sources, '$.{key}') AS src "
        f"WHERE src.value = {row}.id);"
    )


def upgrade() -> None:
    with op.batch_alter_table("anticipation") as batch:
        batch.add_column(sa.Column("misses", sa.Integer(), nullable=False,
                                   server_default="0"))
    for table, key, columns in _SOURCES:
        op.execute(f"CREATE TRIGGER {table}_stales_anticipations_au AFTER UPDATE OF {columns} "
                   f"ON {table} BEGIN {_mark_stale(key, 'new')} END")
        op.execute(f"CREATE TRIGGER {table}_stales_anticipations_ad AFTER DELETE ON {table} "
                   f"BEGIN {_mark_stale(key, 'old')} END")


def downgrade() -> None:
    for table, _key, _columns in _SOURCES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_stales_anticipations_au")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_stales_anticipations_ad")
    with op.batch_alter_table("anticipation") as batch:
        batch.drop_column("misses")
