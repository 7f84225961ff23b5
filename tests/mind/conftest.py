"""Helpers for the sleep-time tests: a migrated database and conversations to think about."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assistant.store.chats import ChatRepository
from assistant.store.db import Database


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.open(tmp_path / "reverie.db", tmp_path / "backups")
    yield database
    database.close()


AddChat = Callable[..., int]


@pytest.fixture
def add_chat(db: Database) -> AddChat:
    """``add_chat(question=..., answer=..., title="")``: a conversation; returns its id."""

    def add(question: str = "my tomato plants have yellow leaves, why?",
            answer: str = "Probably too much water; let the soil dry between waterings.",
            title: str = "") -> int:
        chats = ChatRepository(db)
        conv = chats.create_conversation(title)
        assert conv.id is not None
        chats.add_message(conv.id, "user", question)
        chats.add_message(conv.id, "assistant", answer)
        return conv.id

    return add
