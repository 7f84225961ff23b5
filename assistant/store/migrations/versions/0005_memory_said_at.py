"""A memory says when it was said: the date of the message or note it came from.

"When did we move into the flat?" is answered from the day the person wrote "We
survived the move", not from the day sleep time digested it. Existing memories keep
no date (NULL); they get one when their source is consolidated again.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: a batch copy of the table would drop memory's FTS triggers.
    op.add_column("memory", sa.Column("said_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    op.drop_column("memory", "said_at")  # SQLite 3.35+, again without a table copy
