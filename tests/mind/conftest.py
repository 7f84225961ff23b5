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


#: Where the tests find an instruct GGUF (a file, or a folder holding one): `.ci/run`
#: fetches SmolLM2-135M-Instruct there (`make test-models`).
INSTRUCT_MODEL_ENV = "REVERIE_TEST_INSTRUCT_MODEL"
INSTRUCT_MODEL_CACHE = Path.home() / ".cache" / "reverie-test-models"


def find_instruct_model() -> Path | None:
    """The instruct GGUF named by ``REVERIE_TEST_INSTRUCT_MODEL``, else the one in the
    test-model cache, else None."""
    import os

    # The autouse fixture points HOME elsewhere: read the real cache from the first import.
    for place in (os.environ.get(INSTRUCT_MODEL_ENV, ""), str(INSTRUCT_MODEL_CACHE)):
        path = Path(place).expanduser() if place else None
        if path is not None and path.is_file():
            return path
        if path is not None and path.is_dir():
            found = sorted(path.rglob("*.gguf"))
            if found:
                return found[0]
    return None


@pytest.fixture(scope="session")
def instruct_model() -> Path:
    """SmolLM2-135M-Instruct (or the GGUF in ``REVERIE_TEST_INSTRUCT_MODEL``); the test is
    skipped, with one line saying how to get it, when it is missing."""
    found = find_instruct_model()
    if found is None:
        pytest.skip(f"no instruct model: run `make test-models` or set {INSTRUCT_MODEL_ENV}")
    return found
