"""The tables of docs/ARCHITECTURE.md, "Data", as SQLModel classes.

What the person wrote (conversations, messages, notes) is primary data: sleep-time work
never deletes or rewrites it. Everything else (memories, anticipations, the agenda, the
journal, prefix caches) is derived data that points back to its sources.

Schema changes go through Alembic migrations (``store/migrations``); these classes
must describe the same columns.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, Index, event
from sqlalchemy import text as sql_text
from sqlmodel import Field, SQLModel

from assistant.text.questions import question_key


def utcnow() -> datetime:
    """Timestamps are timezone-aware UTC, stored as UTC."""
    return datetime.now(UTC)


class Role(StrEnum):
    USER = "user"
    ASSISTANT = "assistant"
    SYSTEM = "system"


class Origin(StrEnum):
    TYPED = "typed"
    IMPORTED = "imported"
    ANTICIPATED = "anticipated"


class MemoryKind(StrEnum):
    FACT = "fact"
    SUMMARY = "summary"
    PROFILE = "profile"
    DIGEST = "digest"


class MemoryScope(StrEnum):
    CONVERSATION = "conversation"
    DAY = "day"
    WEEK = "week"
    GLOBAL = "global"


class AnticipationStatus(StrEnum):
    READY = "ready"
    STALE = "stale"
    USED = "used"
    DISMISSED = "dismissed"


class WorkState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Conversation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    title: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow, index=True)
    archived: bool = False
    #: Identifies an imported conversation so re-importing the same file is idempotent.
    import_key: str | None = Field(default=None, unique=True)


class Message(SQLModel, table=True):
    #: The sleep-time backlog: only messages not yet consolidated (migration 0004_backlog).
    __table_args__ = (Index("ix_message_undigested", "conversation_id", "created_at", "role",
                            "consolidated_at", sqlite_where=sql_text("consolidated_at IS NULL")),)

    id: int | None = Field(default=None, primary_key=True)
    conversation_id: int = Field(foreign_key="conversation.id", ondelete="CASCADE", index=True)
    role: str = Role.USER.value
    content: str = ""
    created_at: datetime = Field(default_factory=utcnow, index=True)
    token_count: int | None = None
    origin: str = Origin.TYPED.value
    consolidated_at: datetime | None = None


class Note(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    title: str = ""
    body: str = ""
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow, index=True)
    source_path: str | None = Field(default=None, unique=True)
    content_hash: str = ""
    consolidated_hash: str | None = None
    #: float32 search vector of "title: body", made on first search (recall.retrieval).
    vector: bytes | None = None


class Memory(SQLModel, table=True):
    #: The Memory page's order (pinned first, newest change first), whole or by kind.
    __table_args__ = (Index("ix_memory_list", "superseded_by", "pinned", "updated_at"),
                      Index("ix_memory_kind_list", "kind", "superseded_by", "pinned",
                            "updated_at"))

    id: int | None = Field(default=None, primary_key=True)
    kind: str = MemoryKind.FACT.value
    scope: str = MemoryScope.GLOBAL.value
    subject: str = ""
    text: str = ""
    confidence: float = 1.0
    pinned: bool = False
    #: Set when the person edited the memory: sleep-time work never overwrites it then.
    edited: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    superseded_by: int | None = Field(default=None, foreign_key="memory.id", ondelete="SET NULL")
    #: {"messages": [ids], "notes": [ids], "memories": [ids]}
    sources: dict[str, list[int]] = Field(default_factory=dict, sa_column=Column(JSON))
    sources_hash: str = ""
    vector: bytes | None = None
    #: When the message or note the memory came from was written (None: not known).
    said_at: datetime | None = None


class Anticipation(SQLModel, table=True):
    #: The Prepared answers page's order: each status by predictability.
    __table_args__ = (Index("ix_anticipation_list", "status", "predictability"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: str = "topic"
    question: str = ""
    #: `text.questions.question_key` of ``question``, set on every ORM insert and update
    #: (see `_keep_question_key`); the indexed exact/normalised lookup.
    question_key: str | None = Field(default=None, index=True)
    answer: str = ""
    predictability: float = 0.0
    sources: dict[str, list[int]] = Field(default_factory=dict, sa_column=Column(JSON))
    sources_hash: str = ""
    status: str = Field(default=AnticipationStatus.READY.value, index=True)
    hits: int = 0
    #: Times the person asked to "think again" instead of taking the prepared answer.
    misses: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0
    vector: bytes | None = None


@event.listens_for(Anticipation, "before_insert")
@event.listens_for(Anticipation, "before_update")
def _keep_question_key(_mapper: object, _connection: object, row: Anticipation) -> None:
    row.question_key = question_key(row.question)


class SearchGeneration(SQLModel, table=True):
    """A counter per searched table (``anticipation``, ``memory``, ``note``) that triggers
    raise on every change a search cache depends on (rows added or deleted; question,
    status, expiry, text, supersession or vector changed), whichever connection or
    process made it: an in-memory index is true while its counter is unchanged."""

    __tablename__ = "search_generation"

    name: str = Field(primary_key=True)
    generation: int = 0


class WorkItem(SQLModel, table=True):
    __tablename__ = "work_item"
    __table_args__ = (Index("ix_work_item_state_priority", "state", "priority"),
                      Index("ix_work_item_kind_target", "kind", "target"))

    id: int | None = Field(default=None, primary_key=True)
    kind: str
    target: str = ""
    priority: float = 0.0
    state: str = WorkState.PENDING.value
    attempts: int = 0
    last_error: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class SleepSession(SQLModel, table=True):
    __tablename__ = "sleep_session"

    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = Field(default_factory=utcnow, index=True)
    ended_at: datetime | None = None
    stopped_because: str | None = None
    items_done: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0


class JournalEntry(SQLModel, table=True):
    __tablename__ = "journal_entry"

    id: int | None = Field(default=None, primary_key=True)
    session_id: int | None = Field(
        default=None, foreign_key="sleep_session.id", ondelete="CASCADE", index=True
    )
    created_at: datetime = Field(default_factory=utcnow)
    kind: str = ""
    summary: str = ""
    details: dict[str, object] = Field(default_factory=dict, sa_column=Column(JSON))


class PrefixCacheEntry(SQLModel, table=True):
    __tablename__ = "prefix_cache"

    key: str = Field(primary_key=True)
    file_path: str
    tokens: int
    model_sha256: str
    size_bytes: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: datetime = Field(default_factory=utcnow)
