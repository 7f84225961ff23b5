"""Responder on the FakeEngine: what is stored when, what the model is shown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from assistant.app import Reverie
from assistant.llm.engine import GenerationRequest, GenerationResult, PromptStyle, TokenCallback
from assistant.llm.fake import FakeEngine
from assistant.recall.extractive import GENERATED, KINDS
from assistant.recall.responder import Responder

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def said(app: Reverie, conv: int) -> list[tuple[str, str]]:
    return [(m.role, m.content) for m in app.chats.messages(conv)]


def test_the_question_and_answer_are_stored(app: Reverie, fake_engine: FakeEngine) -> None:
    conv = app.chats.create_conversation().id or 0
    pieces: list[str] = []
    answer = app.responder(fake_engine).ask("What is the capital of France?", conv,
                                            on_token=pieces.append)
    assert answer.answer == "The capital of France is Paris."
    assert "".join(pieces) == answer.answer
    assert said(app, conv) == [("user", "What is the capital of France?"),
                               ("assistant", "The capital of France is Paris.")]
    stored = app.chats.messages(conv)
    assert answer.message_ids == [m.id for m in stored]
    assert stored[1].token_count == answer.completion_tokens == 6
    assert {m.origin for m in stored} == {"typed"}


def test_ask_json_contract(app: Reverie, fake_engine: FakeEngine) -> None:
    conv = app.chats.create_conversation().id or 0
    data = app.responder(fake_engine).ask("capital of France?", conv).to_json()
    assert set(data) == {"answer", "source", "mode", "ttft_ms", "total_ms", "prompt_tokens",
                         "cached_prefix_tokens", "completion_tokens", "anticipation_id",
                         "memory_ids", "model", "conversation_id"}
    assert data["conversation_id"] == conv
    assert data["source"] == "generated" and data["anticipation_id"] is None
    assert data["memory_ids"] == [] and data["model"] == "fake"
    assert isinstance(data["ttft_ms"], float) and isinstance(data["total_ms"], float)
    assert data["prompt_tokens"] > 0 and data["completion_tokens"] == 6


class FailingEngine(FakeEngine):
    def generate(self, request: GenerationRequest,
                 on_token: TokenCallback | None = None) -> GenerationResult:
        raise RuntimeError("the model crashed")


def test_the_question_is_stored_before_generation(app: Reverie) -> None:
    conv = app.chats.create_conversation().id or 0
    with pytest.raises(RuntimeError, match="crashed"):
        app.responder(FailingEngine()).ask("Will this survive?", conv)
    assert said(app, conv) == [("user", "Will this survive?")]


def test_a_cancelled_answer_keeps_its_partial_text(app: Reverie) -> None:
    engine = FakeEngine(default="one two three four five six seven eight nine ten")
    conv = app.chats.create_conversation().id or 0
    pieces: list[str] = []
    answer = app.responder(engine).ask("Count for me", conv, on_token=pieces.append,
                                       should_stop=lambda: len(pieces) >= 3)
    assert answer.finish_reason == "cancelled"
    # What was shown, plus the few words held back while the sentence was unfinished.
    assert "".join(pieces) == answer.answer == "one two three four five six seven"
    assert said(app, conv) == [("user", "Count for me"), ("assistant", answer.answer)]


def test_nothing_is_stored_for_an_answer_cancelled_before_its_first_word(app: Reverie,
                                                                         ) -> None:
    conv = app.chats.create_conversation().id or 0
    answer = app.responder(FakeEngine()).ask("Never mind", conv, should_stop=lambda: True)
    assert answer.answer == "" and answer.finish_reason == "cancelled"
    assert said(app, conv) == [("user", "Never mind")]


def test_the_conversation_history_is_in_the_prompt(app: Reverie,
                                                   fake_engine: FakeEngine) -> None:
    conv = app.chats.create_conversation().id or 0
    other = app.chats.create_conversation().id or 0
    app.chats.add_message(other, "user", "SECRET from another chat", created_at=T0)
    turns = [("user", "My sister is called Ana."), ("assistant", "Nice to know."),
             ("user", "She lives in   Porto.\nNear the river."), ("assistant", "Noted.")]
    for i, (role, content) in enumerate(turns):
        app.chats.add_message(conv, role, content, created_at=T0 + timedelta(seconds=i))

    app.responder(fake_engine).ask("Where does my sister live?", conv)

    prompt = fake_engine.prompts[-1]
    expected = ("User: My sister is called Ana.\nReverie: Nice to know.\n\n"
                "User: She lives in Porto. Near the river.\nReverie: Noted.\n\n"
                "User: Where does my sister live?\nReverie:")
    assert prompt.endswith(expected)
    assert "SECRET" not in prompt
    assert prompt.count("Where does my sister live?") == 1


def test_only_the_latest_turns_are_included(app: Reverie, fake_engine: FakeEngine) -> None:
    conv = app.chats.create_conversation().id or 0
    for i in range(10):
        app.chats.add_message(conv, "user" if i % 2 == 0 else "assistant", f"turn{i}",
                              created_at=T0 + timedelta(seconds=i))
    Responder(fake_engine, app.chats, app.settings.model, history_turns=4).ask("next?", conv)
    prompt = fake_engine.prompts[-1]
    assert [f"turn{i}" in prompt for i in range(10)] == [False] * 6 + [True] * 4


def test_chat_models_get_the_history_as_messages(app: Reverie) -> None:
    engine = FakeEngine(prompt_style=PromptStyle.CHAT)
    conv = app.chats.create_conversation().id or 0
    app.chats.add_message(conv, "user", "I like green tea.", created_at=T0)
    app.chats.add_message(conv, "assistant", "Noted.", created_at=T0 + timedelta(seconds=1))
    app.responder(engine).ask("What do I like?", conv)
    messages = engine.requests[-1].messages
    assert messages is not None
    assert [(m.role, m.content) for m in messages][1:] == [
        ("user", "I like green tea."), ("assistant", "Noted."), ("user", "What do I like?")]
    assert messages[0].role == "system"


def test_settings_limit_the_answer(app: Reverie, fake_engine: FakeEngine) -> None:
    app.settings = app.settings.replace("model", max_answer_tokens=16, temperature=0.9)
    conv = app.chats.create_conversation().id or 0
    app.responder(fake_engine).ask("hi", conv)
    request = fake_engine.requests[-1]
    assert (request.max_tokens, request.temperature) == (16, 0.9)


def test_a_memory_answer_ends_before_a_quoted_reference_line(app: Reverie) -> None:
    """The bundled model went on from "£24,000." to '\n[6] note "Mortgage": "..."'."""
    engine = FakeEngine(rules=[("deposit", '£24,000.\n[6] note "Mortgage": "We saved £24,000."')])
    conv = app.chats.create_conversation("Money").id or 0
    app.chats.add_message(conv, "user", "We have saved £24,000 for the deposit so far.")
    ask = app.chats.create_conversation("ask").id or 0
    responder = app.responder(engine)
    responder.answer_styles = dict.fromkeys(KINDS, GENERATED)  # the model's answer, cleaned
    answer = responder.ask("How much have we saved for the deposit?", ask, mode="memory")
    assert answer.source == "generated" and answer.answer == "£24,000."
