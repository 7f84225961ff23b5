"""Title work: what counts as an automatic title, cleaning the model's answer, the prompt."""

from __future__ import annotations

import pytest

from assistant.llm.engine import PromptStyle
from assistant.mind.titles import (
    MAX_TRANSCRIPT_CHARS,
    clean_title,
    has_auto_title,
    title_request,
    transcript,
)
from assistant.store.chats import title_from
from assistant.store.models import Message


@pytest.mark.parametrize(("raw", "expected"), [
    (" Yellowing tomato leaves", "Yellowing tomato leaves"),
    (' "Fixing a flat tyre."\nConversation:', "Fixing a flat tyre"),
    ("Title: **learning spanish verbs**", "Learning spanish verbs"),
    ("one two three four five six seven eight nine ten", "One two three four five six seven eight"),
    ("  ...", None),
    ("42", None),
    ("", None),
])
def test_clean_title(raw: str, expected: str | None) -> None:
    assert clean_title(raw) == expected


def test_auto_title_is_empty_or_made_from_the_first_message() -> None:
    first = "my tomato plants have yellow leaves at the bottom, what should I do about it?"
    assert has_auto_title("", first)
    assert has_auto_title(title_from(first), first)
    assert not has_auto_title("Garden", first)


def test_transcript_is_bounded_and_labelled() -> None:
    messages = [Message(conversation_id=1, role="user" if i % 2 == 0 else "assistant",
                        content="word " * 300) for i in range(40)]
    text = transcript(messages)
    assert text.startswith("User: word") and "\nReverie: word" in text
    assert len(text) <= MAX_TRANSCRIPT_CHARS + 700


def test_chat_models_get_messages_and_base_models_a_completion() -> None:
    chat = title_request(PromptStyle.CHAT, "User: hi")
    assert chat.messages is not None and chat.messages[-1].content == "User: hi"
    completion = title_request(PromptStyle.COMPLETION, "User: hi")
    assert completion.prompt is not None
    assert completion.prompt.endswith("User: hi\nTitle:")
    assert completion.stop == ["\n"] and completion.temperature == 0.0
