"""Initial schema: every table of docs/ARCHITECTURE.md, "Data", and the FTS5 indexes.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from assistant.store.fts import create_fts_sql, drop_fts_sql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_FTS = {
    "message": ("content",),
    "note": ("title", "body"),
    "memory": ("subject", "text"),
    "anticipation": ("question", "answer"),
}


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), primary_key=True)


def _ts(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "conversation",
        _id(),
        sa.Column("title", sa.String(), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.Column("archived", sa.Boolean(), nullable=False),
        sa.Column("import_key", sa.String(), nullable=True, unique=True),
    )
    op.create_index("ix_conversation_updated_at", "conversation", ["updated_at"])
    op.create_table(
        "message",
        _id(),
        sa.Column(
            "conversation_id",
            sa.Integer(),
            sa.ForeignKey("conversation.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("role", sa.String(), nullable=False),
        sa.Column("content", sa.String(), nullable=False),
        _ts("created_at"),
        sa.Column("token_count", sa.Integer(), nullable=True),
        sa.Column("origin", sa.String(), nullable=False),
        _ts("consolidated_at", nullable=True),
    )
    op.create_index("ix_message_conversation_id", "message", ["conversation_id"])
    op.create_index("ix_message_created_at", "message", ["created_at"])
    op.create_table(
        "note",
        _id(),
        sa.Column("title", sa.String(), nullable=False),
        sa.Column("body", sa.String(), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.Column("source_path", sa.String(), nullable=True, unique=True),
        sa.Column("content_hash", sa.String(), nullable=False),
        sa.Column("consolidated_hash", sa.String(), nullable=True),
    )
    op.create_index("ix_note_updated_at", "note", ["updated_at"])
    op.create_table(
        "memory",
        _id(),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("scope", sa.String(), nullable=False),
        sa.Column("subject", sa.String(), nullable=False),
        sa.Column("text", sa.String(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("edited", sa.Boolean(), nullable=False),
        _ts("created_at"),
        _ts("updated_at"),
        sa.Column(
            "superseded_by",
            sa.Integer(),
            sa.ForeignKey("memory.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("sources", sa.JSON(), nullable=True),
        sa.Column("sources_hash", sa.String(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=True),
    )
    op.create_table(
        "anticipation",
        _id(),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("question", sa.String(), nullable=False),
        sa.Column("answer", sa.String(), nullable=False),
        sa.Column("predictability", sa.Float(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=True),
        sa.Column("sources_hash", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        _ts("created_at"),
        _ts("expires_at", nullable=True),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=True),
    )
    op.create_index("ix_anticipation_status", "anticipation", ["status"])
    op.create_table(
        "work_item",
        _id(),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("target", sa.String(), nullable=False),
        sa.Column("priority", sa.Float(), nullable=False),
        sa.Column("state", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(), nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
    )
    op.create_index("ix_work_item_state_priority", "work_item", ["state", "priority"])
    op.create_table(
        "sleep_session",
        _id(),
        _ts("started_at"),
        _ts("ended_at", nullable=True),
        sa.Column("stopped_because", sa.String(), nullable=True),
        sa.Column("items_done", sa.Integer(), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False),
        sa.Column("completion_tokens", sa.Integer(), nullable=False),
    )
    op.create_index("ix_sleep_session_started_at", "sleep_session", ["started_at"])
    op.create_table(
        "journal_entry",
        _id(),
        sa.Column(
            "session_id",
            sa.Integer(),
            sa.ForeignKey("sleep_session.id", ondelete="CASCADE"),
            nullable=True,
        ),
        _ts("created_at"),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("summary", sa.String(), nullable=False),
        sa.Column("details", sa.JSON(), nullable=True),
    )
    op.create_index("ix_journal_entry_session_id", "journal_entry", ["session_id"])
    op.create_table(
        "prefix_cache",
        sa.Column("key", sa.String(), primary_key=True),
        sa.Column("file_path", sa.String(), nullable=False),
        sa.Column("tokens", sa.Integer(), nullable=False),
        sa.Column("model_sha256", sa.String(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        _ts("created_at"),
        _ts("last_used_at"),
    )
    for table, columns in _FTS.items():
        for statement in create_fts_sql(table, columns):
            op.execute(statement)


def downgrade() -> None:
    for table in _FTS:
        for statement in drop_fts_sql(table):
            op.execute(statement)
    for table in (
        "prefix_cache",
        "journal_entry",
        "sleep_session",
        "work_item",
        "anticipation",
        "memory",
        "note",
        "message",
        "conversation",
    ):
        op.drop_table(table)
