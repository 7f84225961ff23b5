"""The query path: what happens between a question and its answer.

For now an answer is generated from the recent history of the conversation plus the
question (``source: generated``). Later layers add prepared answers and memory
retrieval in front of the same interface.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from assistant.config import ModelSettings
from assistant.llm.engine import Engine, FinishReason, StopCheck, TokenCallback
from assistant.llm.prompts import Turn, answer_request
from assistant.store.chats import ChatRepository
from assistant.store.models import Origin, Role

log = logging.getLogger("assistant.recall")


@dataclass
class Answer:
    """An answer and its accounting; ``to_json()`` is the ``ask --json`` contract."""

    answer: str
    source: str
    mode: str
    ttft_ms: float
    total_ms: float
    prompt_tokens: int
    cached_prefix_tokens: int
    completion_tokens: int
    anticipation_id: int | None
    memory_ids: list[int]
    model: str
    finish_reason: str = FinishReason.STOP.value
    conversation_id: int | None = None
    message_ids: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("finish_reason", "conversation_id", "message_ids"):
            data.pop(key)
        data["ttft_ms"] = round(self.ttft_ms, 1)
        data["total_ms"] = round(self.total_ms, 1)
        return data


class Responder:
    """Answers questions, and keeps the question and the answer in the conversation."""

    def __init__(self, engine: Engine, chats: ChatRepository, model: ModelSettings, *,
                 history_turns: int = 6) -> None:
        self._engine = engine
        self._chats = chats
        self._model = model
        self._history_turns = history_turns

    def ask(
        self,
        question: str,
        conversation_id: int,
        *,
        on_token: TokenCallback | None = None,
        should_stop: StopCheck | None = None,
    ) -> Answer:
        """Store the question first (it is never lost), generate, store the answer."""
        started = time.perf_counter()
        history = [
            Turn(m.role, m.content)
            for m in self._chats.recent_messages(self._history_turns, conversation_id)
            if m.role in (Role.USER, Role.ASSISTANT) and m.content.strip()
        ]
        asked = self._chats.add_message(conversation_id, Role.USER, question,
                                        origin=Origin.TYPED)
        request = answer_request(
            self._engine.info.prompt_style, question, history,
            max_tokens=self._model.max_answer_tokens, temperature=self._model.temperature,
        )
        request.should_stop = should_stop
        queued_ms = (time.perf_counter() - started) * 1000
        result = self._engine.generate(request, _without_leading_space(on_token))
        text = result.text.strip()
        ids = [asked.id or 0]
        if text:
            said = self._chats.add_message(conversation_id, Role.ASSISTANT, text,
                                           token_count=result.completion_tokens)
            ids.append(said.id or 0)
        total_ms = (time.perf_counter() - started) * 1000
        log.info("answered in %.0f ms (%d prompt tokens, %d completion tokens, %s)",
                 total_ms, result.prompt_tokens, result.completion_tokens,
                 result.finish_reason)
        return Answer(
            answer=text,
            source="generated",
            mode="auto",
            ttft_ms=queued_ms + result.ttft_ms,
            total_ms=total_ms,
            prompt_tokens=result.prompt_tokens,
            cached_prefix_tokens=result.cached_tokens,
            completion_tokens=result.completion_tokens,
            anticipation_id=None,
            memory_ids=[],
            model=result.model,
            finish_reason=result.finish_reason.value,
            conversation_id=conversation_id,
            message_ids=ids,
        )


def _without_leading_space(on_token: TokenCallback | None) -> TokenCallback | None:
    """Completion-style answers start with a space after "Reverie:"; don't show it."""
    if on_token is None:
        return None
    started = False

    def forward(piece: str) -> None:
        nonlocal started
        if not started:
            piece = piece.lstrip()
            started = bool(piece)
        if piece:
            on_token(piece)

    return forward
