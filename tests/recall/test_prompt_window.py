"""A prompt never exceeds the model's window: history, snippets and the question are
trimmed to fit, oldest first; a question that alone cannot fit is refused, not stored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from assistant.app import Reverie
from assistant.config import ModelSettings
from assistant.llm.engine import (
    EngineError,
    GenerationRequest,
    GenerationResult,
    PromptStyle,
    TokenCallback,
)
from assistant.llm.fake import FakeEngine
from assistant.recall.answer_prompts import QuestionTooLongError, request_tokens
from assistant.recall.responder import Responder

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
HUGE = " ".join(f"word{i}" for i in range(25_000))  # ~100 KB, far beyond any window


class StrictEngine(FakeEngine):
    """Refuses a prompt longer than its window, as the real engine does."""

    def generate(self, request: GenerationRequest,
                 on_token: TokenCallback | None = None) -> GenerationResult:
        used = request_tokens(request, self.count_tokens)
        if used >= self.info.n_ctx:
            raise EngineError(f"The prompt has {used} tokens, more than {self.info.n_ctx}.")
        return super().generate(request, on_token)


@pytest.mark.parametrize("style", [PromptStyle.COMPLETION, PromptStyle.CHAT])
@pytest.mark.parametrize("with_retriever", [True, False])
def test_an_over_long_question_is_refused_and_not_stored(
        app: Reverie, style: PromptStyle, with_retriever: bool) -> None:
    engine = StrictEngine(prompt_style=style, n_ctx=512)
    conv = app.chats.create_conversation().id or 0
    responder = (app.responder(engine) if with_retriever
                 else Responder(engine, app.chats, app.settings.model))
    with pytest.raises(QuestionTooLongError, match="too long for the model's context window"):
        responder.ask(HUGE, conv)
    assert app.chats.messages(conv) == []
    for _ in range(3):  # the next questions are not poisoned by it
        assert responder.ask("What is the capital of France?", conv).answer


@pytest.mark.parametrize("style", [PromptStyle.COMPLETION, PromptStyle.CHAT])
def test_history_is_trimmed_oldest_first(app: Reverie, style: PromptStyle) -> None:
    engine = StrictEngine(prompt_style=style, n_ctx=512)
    conv = app.chats.create_conversation().id or 0
    # Stored by an older version: one huge turn in the recent history.
    app.chats.add_message(conv, "user", "oldest turn", created_at=T0)
    app.chats.add_message(conv, "user", " ".join(["filler"] * 300),
                          created_at=T0 + timedelta(seconds=1))
    app.chats.add_message(conv, "assistant", "newest turn", created_at=T0 + timedelta(seconds=2))
    for responder in (app.responder(engine), Responder(engine, app.chats, app.settings.model)):
        answer = responder.ask("What next?", conv)
        prompt = engine.prompts[-1]
        assert answer.answer
        assert "newest turn" in prompt and "oldest turn" not in prompt
        assert "filler" not in prompt
        limit = 512 - min(app.settings.model.max_answer_tokens, 256)
        assert request_tokens(engine.requests[-1], engine.count_tokens) <= limit


def test_snippets_are_trimmed_and_memory_ids_follow(app: Reverie) -> None:
    from assistant.store.memories import MemoryRepository
    from assistant.store.models import Memory

    repo = MemoryRepository(app.db)
    ids = [repo.add(Memory(kind="fact", subject="locker",
                           text=f"Locker {i} holds " + " ".join(["item"] * 60))).id
           for i in range(8)]
    assert all(ids)
    engine = StrictEngine(n_ctx=600)
    app.settings = app.settings.replace("memory", snippet_tokens=4000, retrieve_top_k=8)
    app.settings = app.settings.replace("model", max_answer_tokens=64)
    conv = app.chats.create_conversation().id or 0
    answer = app.responder(engine).ask("What does the locker hold?", conv)
    prompt = engine.prompts[-1]
    quoted = [i for i in range(8) if f"Locker {i} holds" in prompt]
    assert 0 < len(quoted) < 8
    assert len(answer.memory_ids) == len(quoted)
    assert request_tokens(engine.requests[-1], engine.count_tokens) <= 600 - 64


@pytest.mark.model
def test_the_real_model_answers_after_a_huge_turn(bundled_model: Path, app: Reverie) -> None:
    from assistant.llm.llama import LlamaEngine

    engine = LlamaEngine(bundled_model, n_ctx=1024)
    try:
        assert engine.wait_ready(60)
        conv = app.chats.create_conversation().id or 0
        settings = ModelSettings(max_answer_tokens=8, temperature=0.0)
        responder = Responder(engine, app.chats, settings)
        with pytest.raises(QuestionTooLongError):
            responder.ask(HUGE, conv)
        app.chats.add_message(conv, "user", HUGE[:20_000], created_at=T0)
        answer = responder.ask("Say hello.", conv)
        assert answer.prompt_tokens < 1024
        assert [m.content for m in app.chats.messages(conv)][1] == "Say hello."
    finally:
        engine.close()
