"""The query path: what happens between a question and its answer.

Modes (``reverie ask --mode``): ``memory`` builds the prompt from the warm prefix
(instructions + profile block), the retrieved snippets, the recent turns and the
question; ``full-context`` is the paper's test-time-only baseline (the raw history and
notes cut to the window); ``auto`` is ``memory`` for now (prepared answers will come in
front of it). A Responder made without a retriever answers from the recent turns only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from assistant.config import MemorySettings, ModelSettings
from assistant.llm.engine import (
    Engine,
    FinishReason,
    GenerationRequest,
    StopCheck,
    TokenCallback,
)
from assistant.llm.prompts import Turn, answer_request
from assistant.recall.answer_prompts import (
    full_context_request,
    memory_request,
    reference_lines,
)
from assistant.recall.retrieval import Retriever
from assistant.store.chats import ChatRepository
from assistant.store.models import Origin, Role
from assistant.store.notes import NoteRepository

MODES = ("auto", "memory", "full-context")

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
                 history_turns: int = 6, retriever: Retriever | None = None,
                 notes: NoteRepository | None = None, memory: MemorySettings | None = None,
                 profile: Callable[[], str] | None = None) -> None:
        self._engine = engine
        self._chats = chats
        self._model = model
        self._history_turns = history_turns
        self._retriever = retriever
        self._notes = notes
        self._memory = memory or MemorySettings()
        self._profile = profile or (lambda: "")

    def _memory_request(self, question: str, history: list[Turn], conversation_id: int,
                        today: date | None) -> tuple[GenerationRequest, list[int]]:
        assert self._retriever is not None
        hits = self._retriever.search(question, self._memory.retrieve_top_k,
                                      exclude_conversation=conversation_id)
        refs, used = reference_lines(hits, today, self._memory.snippet_tokens,
                                     self._engine.count_tokens)
        request = memory_request(self._engine.info.prompt_style, self._profile(), refs,
                                 history, question, max_tokens=self._model.max_answer_tokens,
                                 temperature=self._model.temperature)
        return request, [h.id for h in used if h.kind == "memory"]

    def _full_context_request(self, question: str, asked_id: int) -> GenerationRequest:
        conversations = []
        for conv in self._chats.list_conversations(include_archived=True):
            messages = [m for m in self._chats.messages(conv.id or 0)
                        if m.id != asked_id and m.content.strip()]
            conversations.append((conv.title, messages))
        notes = self._notes.all() if self._notes is not None else []
        return full_context_request(
            self._engine.info.prompt_style, conversations, notes, question,
            n_ctx=self._engine.info.n_ctx, max_tokens=self._model.max_answer_tokens,
            temperature=self._model.temperature, count=self._engine.count_tokens)

    def ask(
        self,
        question: str,
        conversation_id: int,
        *,
        on_token: TokenCallback | None = None,
        should_stop: StopCheck | None = None,
        mode: str = "auto",
        today: date | None = None,
    ) -> Answer:
        """Store the question first (it is never lost), generate, store the answer.

        ``today`` (default: the local date) is quoted to the model in memory mode."""
        if mode not in MODES:
            raise ValueError(f"unknown answer mode {mode!r}; use one of {', '.join(MODES)}")
        started = time.perf_counter()
        history = [
            Turn(m.role, m.content)
            for m in self._chats.recent_messages(self._history_turns, conversation_id)
            if m.role in (Role.USER, Role.ASSISTANT) and m.content.strip()
        ]
        asked = self._chats.add_message(conversation_id, Role.USER, question,
                                        origin=Origin.TYPED)
        memory_ids: list[int] = []
        used_mode = "memory" if mode == "auto" else mode
        if used_mode == "full-context":
            request = self._full_context_request(question, asked.id or 0)
        elif self._retriever is not None:
            request, memory_ids = self._memory_request(
                question, history, conversation_id, today or date.today())
        else:
            used_mode = mode
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
            mode=used_mode,
            ttft_ms=queued_ms + result.ttft_ms,
            total_ms=total_ms,
            prompt_tokens=result.prompt_tokens,
            cached_prefix_tokens=result.cached_tokens,
            completion_tokens=result.completion_tokens,
            anticipation_id=None,
            memory_ids=memory_ids,
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
