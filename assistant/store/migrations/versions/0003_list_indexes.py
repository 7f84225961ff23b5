"""Indexes that give the window's long lists their order without reading every row.

The Memory page lists current memories pinned first, then most recently changed (all
of them, or one kind); the Prepared answers page lists each status by predictability.
At 20,000 memories and 10,000 prepared answers, sorting the tables took tens of
milliseconds on the GUI thread; these indexes hand out the ordered ids directly.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

#: (name, table, columns): the same as the models' ``__table_args__``.
_INDEXES = (
    ("ix_memory_list", "memory", ["superseded_by", "pinned", "updated_at"]),
    ("ix_memory_kind_list", "memory", ["kind", "superseded_by", "pinned", "updated_at"]),
    ("ix_anticipation_list", "anticipation", ["status", "predictability"]),
)


def upgrade() -> None:
    for name, table, columns in _INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in _INDEXES:
        op.drop_index(name, table_name=table)
