"""Conversations and messages: what the person said, kept exactly as said."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Connection, text
from sqlmodel import col, select

from assistant.store.db import Database
from assistant.store.fts import fts_name, fts_query, search_rows
from assistant.store.models import Conversation, Message, Origin, Role, utcnow
from assistant.store.purge import ForgetHook, Forgotten, checkpoint, purge
from assistant.text.handovers import search_word, successor


class ChatRepository:
    """Reads and writes conversations; every write is one transaction."""

    def __init__(self, db: Database, after_delete: ForgetHook | None = None) -> None:
        self._db = db
        self._after_delete = after_delete

    @property
    def db(self) -> Database:
        """The database it writes to (an import stores its batches there directly)."""
        return self._db

    def create_conversation(self, title: str = "", *, import_key: str | None = None,
                            created_at: datetime | None = None) -> Conversation:
        now = created_at or utcnow()
        conv = Conversation(title=title, import_key=import_key, created_at=now, updated_at=now)
        with self._db.write() as s:
            s.add(conv)
            s.flush()
            s.refresh(conv)
        return conv

    def get(self, conversation_id: int) -> Conversation | None:
        with self._db.session() as s:
            return s.get(Conversation, conversation_id)

    def by_import_key(self, import_key: str) -> Conversation | None:
        with self._db.session() as s:
            return s.exec(
                select(Conversation).where(Conversation.import_key == import_key)
            ).first()

    def list_conversations(self, *, include_archived: bool = False) -> list[Conversation]:
        """Most recently active first."""
        with self._db.session() as s:
            query = select(Conversation).order_by(col(Conversation.updated_at).desc(),
                                                  col(Conversation.id).desc())
            if not include_archived:
                query = query.where(Conversation.archived == False)  # noqa: E712
            return list(s.exec(query))

    def rename(self, conversation_id: int, title: str) -> None:
        with self._db.write() as s:
            conv = s.get(Conversation, conversation_id)
            if conv is None:
                raise KeyError(conversation_id)
            conv.title = title
            s.add(conv)

    def delete(self, conversation_id: int) -> Forgotten | None:
        """Delete a conversation, its messages and everything derived from them (the
        person asked for it; see `store.purge`), then let ``after_delete`` remove the
        copies outside the database. None when there was no such conversation."""
        with self._db.write() as s:
            if s.get(Conversation, conversation_id) is None:
                return None
            gone = purge(s.connection(), conversations=[conversation_id])
        if self._after_delete is not None:
            self._after_delete(gone)
        else:
            checkpoint(self._db.engine)
        return gone

    def add_message(self, conversation_id: int, role: Role | str, content: str, *,
                    origin: Origin | str = Origin.TYPED, created_at: datetime | None = None,
                    token_count: int | None = None) -> Message:
        """Append a message and bump the conversation's activity time."""
        when = created_at or utcnow()
        msg = Message(conversation_id=conversation_id, role=str(role), content=content,
                      origin=str(origin), created_at=when, token_count=token_count)
        with self._db.write() as s:
            conv = s.get(Conversation, conversation_id)
            if conv is None:
                raise KeyError(conversation_id)
            s.add(msg)
            conv.updated_at = max(conv.updated_at, when)
            if not conv.title and Role(str(role)) is Role.USER:
                conv.title = title_from(content)
            s.add(conv)
            s.flush()
            s.refresh(msg)
        return msg

    def add_messages(self, conversation_id: int, messages: Sequence[Message]) -> int:
        """Append several messages in one transaction; returns how many."""
        with self._db.write() as s:
            conv = s.get(Conversation, conversation_id)
            if conv is None:
                raise KeyError(conversation_id)
            for msg in messages:
                msg.conversation_id = conversation_id
                s.add(msg)
                conv.updated_at = max(conv.updated_at, msg.created_at)
            s.add(conv)
        return len(messages)

    def messages(self, conversation_id: int) -> list[Message]:
        """In the order they were said."""
        with self._db.session() as s:
            return list(s.exec(
                select(Message).where(Message.conversation_id == conversation_id)
                .order_by(col(Message.created_at), col(Message.id))
            ))

    def recent_messages(self, limit: int, conversation_id: int | None = None) -> list[Message]:
        """The newest ``limit`` messages (of one conversation, or of all), oldest first."""
        with self._db.session() as s:
            query = select(Message).order_by(col(Message.created_at).desc(),
                                             col(Message.id).desc()).limit(limit)
            if conversation_id is not None:
                query = query.where(Message.conversation_id == conversation_id)
            return list(reversed(list(s.exec(query))))

    def all_messages(self) -> list[Message]:
        with self._db.session() as s:
            return list(s.exec(select(Message).order_by(col(Message.created_at),
                                                        col(Message.id))))

    def search(self, query: str, limit: int = 20) -> list[Message]:
        """Messages matching ``query`` by FTS5 BM25 rank, best first."""
        with self._db.session() as s:
            return search_rows(s, Message, "message", query, limit)

    def conversations_of(self, message_ids: Sequence[int]) -> dict[int, int]:
        """message id -> conversation id, for the given messages that exist."""
        if not message_ids:
            return {}
        with self._db.session() as s:
            rows = s.exec(select(Message.id, Message.conversation_id).where(
                col(Message.id).in_(list(message_ids))))
            return {int(mid or 0): int(cid) for mid, cid in rows}

    def count_messages(self) -> int:
        with self._db.session() as s:
            return int(s.connection().execute(text("SELECT count(*) FROM message")).scalar_one())


def title_from(content: str, limit: int = 60) -> str:
    """A short title from the first line of what the person typed."""
    line = " ".join(content.strip().split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"



#: Messages that mention a name looked at for a hand-over, the last written first.
HANDOVER_CANDIDATES = 200
#: Hand-overs followed one after another (Hartley -> Priti Shah -> Ken Ward).
MAX_HANDOVERS = 3


def handed_over(con: Connection, name: str, role: str, after: datetime
                ) -> tuple[int, str] | None:
    """The message, written at ``after`` or later, in which ``name`` (a person) hands
    ``role`` to someone else (`text.handovers.successor`: "Letter from Mr. Hartley:
    he's selling the building. The new owner is a Priti Shah"), followed on if the
    successor hands it on in turn (at most `MAX_HANDOVERS`), as (message id, who has it
    now); None if no such message. Of the `HANDOVER_CANDIDATES` messages written last
    (from ``after`` on) that hold the name, the newest hand-over counts."""
    found: tuple[int, str] | None = None
    current = name
    for _ in range(MAX_HANDOVERS):
        step = _handover(con, current, role, after)
        if step is None:
            break
        ident, current, after = step
        found = (ident, current)
    return found


def _handover(con: Connection, name: str, role: str, after: datetime
              ) -> tuple[int, str, datetime] | None:
    term = fts_query(search_word(name))
    if not term:
        return None
    if after.tzinfo is not None:
        after = after.astimezone(UTC).replace(tzinfo=None)
    fts = fts_name("message")
    rows = con.execute(text(
        f"SELECT m.id, m.content, m.created_at FROM {fts} JOIN message m ON m.id = {fts}.rowid "
        f"WHERE {fts} MATCH :term AND m.created_at >= :after "
        "ORDER BY m.created_at DESC, m.id DESC LIMIT :n"),
        {"term": term, "after": after.isoformat(" ", "microseconds"),
         "n": HANDOVER_CANDIDATES})
    for ident, content, created in rows:
        who = successor(str(content or ""), name, role)
        if who is not None:
            when = datetime.fromisoformat(created) if isinstance(created, str) else created
            return int(ident), who, when
    return None
