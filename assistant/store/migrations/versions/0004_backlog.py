"""Indexes that let the sleep-time planner look at a year of chats in a few queries.

``ix_message_undigested`` holds only the messages not yet consolidated (a partial index,
so it shrinks as the backlog is digested) with the columns the planner groups by; the
planner's "which conversations have new turns" query reads it alone, never the message
text. ``ix_work_item_kind_target`` answers "is this (kind, target) already on the
agenda" without scanning the agenda.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_message_undigested", "message",
                    ["conversation_id", "created_at", "role", "consolidated_at"],
                    sqlite_where=sa.text("consolidated_at IS NULL"))
    op.create_index("ix_work_item_kind_target", "work_item", ["kind", "target"])


def downgrade() -> None:
    op.drop_index("ix_work_item_kind_target", "work_item")
    op.drop_index("ix_message_undigested", "message")
