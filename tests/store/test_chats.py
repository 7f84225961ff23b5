"""ChatRepository: conversations and messages kept exactly as said."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from assistant.store.chats import ChatRepository, title_from
from assistant.store.models import Message, Origin, Role

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def test_messages_are_kept_exactly_and_in_order(chats: ChatRepository) -> None:
    conv = chats.create_conversation()
    said = ["  Hello,\n  world  ", "Ünïcödé ✓ and emoji 🌱", ""]
    for i, content in enumerate(said):
        chats.add_message(conv.id or 0, Role.USER if i % 2 == 0 else Role.ASSISTANT, content,
                          created_at=T0 + timedelta(seconds=i), token_count=i)
    stored = chats.messages(conv.id or 0)
    assert [m.content for m in stored] == said
    assert [m.role for m in stored] == ["user", "assistant", "user"]
    assert [m.token_count for m in stored] == [0, 1, 2]
    assert all(m.origin == Origin.TYPED for m in stored)
    assert [m.created_at for m in stored] == [T0 + timedelta(seconds=i) for i in range(3)]
    assert stored[0].created_at.tzinfo is not None


def test_the_first_user_message_names_an_untitled_conversation(chats: ChatRepository) -> None:
    conv = chats.create_conversation()
    chats.add_message(conv.id or 0, Role.ASSISTANT, "Hi, how can I help?")
    assert (chats.get(conv.id or 0) or conv).title == ""
    chats.add_message(conv.id or 0, Role.USER, "  When is   Ana's birthday?\nThanks ")
    chats.add_message(conv.id or 0, Role.USER, "Something else")
    assert (chats.get(conv.id or 0) or conv).title == "When is Ana's birthday? Thanks"

    named = chats.create_conversation("Chosen title")
    chats.add_message(named.id or 0, Role.USER, "anything")
    assert (chats.get(named.id or 0) or named).title == "Chosen title"


def test_title_from_shortens_long_text() -> None:
    title = title_from("word " * 40)
    assert len(title) == 60 and title.endswith("…")
    assert title_from("short") == "short"


def test_conversations_are_listed_most_recently_active_first(chats: ChatRepository) -> None:
    old = chats.create_conversation("old", created_at=T0)
    new = chats.create_conversation("new", created_at=T0 + timedelta(days=1))
    assert [c.title for c in chats.list_conversations()] == ["new", "old"]
    chats.add_message(old.id or 0, "user", "bump", created_at=T0 + timedelta(days=2))
    assert [c.id for c in chats.list_conversations()] == [old.id, new.id]
    # An older imported message does not move the conversation back in time.
    chats.add_message(old.id or 0, "user", "from the past", created_at=T0 - timedelta(days=9))
    assert (chats.get(old.id or 0) or old).updated_at == T0 + timedelta(days=2)


def test_archived_conversations_are_hidden_unless_asked_for(chats: ChatRepository) -> None:
    conv = chats.create_conversation("archived")
    with chats._db.write() as s:
        stored = s.get(type(conv), conv.id)
        assert stored is not None
        stored.archived = True
        s.add(stored)
    assert chats.list_conversations() == []
    assert [c.id for c in chats.list_conversations(include_archived=True)] == [conv.id]


def test_rename_and_delete(chats: ChatRepository) -> None:
    conv = chats.create_conversation("before")
    chats.rename(conv.id or 0, "after")
    assert (chats.get(conv.id or 0) or conv).title == "after"
    with pytest.raises(KeyError):
        chats.rename(12345, "nobody")
    chats.delete(conv.id or 0)
    assert chats.get(conv.id or 0) is None
    chats.delete(conv.id or 0)  # deleting twice is harmless


def test_adding_to_a_missing_conversation_fails_and_stores_nothing(
        chats: ChatRepository) -> None:
    with pytest.raises(KeyError):
        chats.add_message(404, "user", "lost?")
    with pytest.raises(KeyError):
        chats.add_messages(404, [Message(conversation_id=404, content="lost?")])
    assert chats.count_messages() == 0


def test_add_messages_stores_a_batch_in_one_go(chats: ChatRepository) -> None:
    conv = chats.create_conversation("batch", created_at=T0)
    batch = [Message(conversation_id=0, role="user", content=f"m{i}", origin=Origin.IMPORTED,
                     created_at=T0 + timedelta(minutes=i)) for i in range(5)]
    assert chats.add_messages(conv.id or 0, batch) == 5
    stored = chats.messages(conv.id or 0)
    assert [m.content for m in stored] == [f"m{i}" for i in range(5)]
    assert {m.origin for m in stored} == {"imported"}
    assert (chats.get(conv.id or 0) or conv).updated_at == T0 + timedelta(minutes=4)


def test_recent_messages_of_one_or_all_conversations(chats: ChatRepository) -> None:
    a = chats.create_conversation("a").id or 0
    b = chats.create_conversation("b").id or 0
    for i in range(6):
        chats.add_message(a if i % 2 == 0 else b, "user", f"m{i}",
                          created_at=T0 + timedelta(minutes=i))
    assert [m.content for m in chats.recent_messages(2, a)] == ["m2", "m4"]
    assert [m.content for m in chats.recent_messages(3)] == ["m3", "m4", "m5"]
    assert [m.content for m in chats.all_messages()] == [f"m{i}" for i in range(6)]


def test_by_import_key(chats: ChatRepository) -> None:
    conv = chats.create_conversation("imported", import_key="jsonl:abc")
    found = chats.by_import_key("jsonl:abc")
    assert found is not None and found.id == conv.id
    assert chats.by_import_key("jsonl:other") is None
    with pytest.raises(Exception, match="UNIQUE"):
        chats.create_conversation("duplicate", import_key="jsonl:abc")
