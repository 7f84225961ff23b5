"""The Engine protocol: what the rest of Reverie needs from a language model.

Requests carry either a finished text prompt (completion style, for base models such
as the bundled Gemma 3 270M) or chat messages (for models with a chat template); the
engine renders messages with the model's own template. Every result reports the
accounting that ``reverie ask --json`` and the benchmarks print.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import Protocol, runtime_checkable


class Priority(IntEnum):
    """Lower runs first. FOREGROUND means the person is waiting."""

    FOREGROUND = 0
    BACKGROUND = 1


class PromptStyle(StrEnum):
    COMPLETION = "completion"
    CHAT = "chat"


class FinishReason(StrEnum):
    STOP = "stop"  # end of text or a stop sequence
    LENGTH = "length"  # max_tokens reached
    CANCELLED = "cancelled"  # the caller asked to stop (Stop button, Esc)
    ABORTED = "aborted"  # preempted by foreground work; the caller may re-queue it


@dataclass(frozen=True)
class ChatMessage:
    role: str  # "system" | "user" | "assistant"
    content: str


TokenCallback = Callable[[str], None]
StopCheck = Callable[[], bool]


@dataclass
class GenerationRequest:
    """One generation. Exactly one of ``prompt`` and ``messages`` is set."""

    prompt: str | None = None
    messages: Sequence[ChatMessage] | None = None
    max_tokens: int = 256
    temperature: float = 0.3
    top_p: float = 0.95
    top_k: int = 40
    repeat_penalty: float = 1.1
    stop: Sequence[str] = ()
    seed: int | None = None
    priority: Priority = Priority.FOREGROUND
    #: Polled during prefill (through llama.cpp's abort callback) and after every token.
    should_stop: StopCheck | None = None

    def __post_init__(self) -> None:
        if (self.prompt is None) == (self.messages is None):
            raise ValueError("a GenerationRequest needs exactly one of prompt or messages")


@dataclass
class GenerationResult:
    text: str
    finish_reason: FinishReason
    #: Tokens evaluated at request time (prefill work actually done now).
    prompt_tokens: int
    #: Prompt tokens served from an already evaluated or saved state.
    cached_tokens: int
    completion_tokens: int
    ttft_ms: float
    total_ms: float
    model: str
    #: For an aborted request: how far it got, e.g. "prefill 300/1200".
    progress: str = ""
    extra: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelInfo:
    name: str
    path: str
    sha256: str
    n_ctx: int
    prompt_style: PromptStyle


class EngineError(RuntimeError):
    """The model could not be loaded or failed; the message is for the person."""


class EngineUnavailable(EngineError):
    """The model cannot be reached now (a server that is down or went away): nothing is
    wrong with the request, so sleep-time work stops and retries it later."""


class Preempted(EngineError):
    """BACKGROUND work was stopped for FOREGROUND work or the person's return; retry later."""


@runtime_checkable
class Engine(Protocol):
    """A language model that serves one request at a time, in priority order."""

    @property
    def info(self) -> ModelInfo: ...

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Block until the model is loaded (True) or loading failed or timed out (False)."""
        ...

    @property
    def is_ready(self) -> bool:
        """True once the model is loaded (or the server answered)."""
        ...

    @property
    def load_error(self) -> str | None:
        """Why the model is not ready, in one sentence for the person; None while it is
        loading or once it works."""
        ...

    def submit(self, request: GenerationRequest,
               on_token: TokenCallback | None = None) -> Future[GenerationResult]:
        """Queue ``request`` and return at once; a FOREGROUND request preempts running
        BACKGROUND work. Cancelling the future withdraws a request that has not started."""
        ...

    def generate(
        self, request: GenerationRequest, on_token: TokenCallback | None = None
    ) -> GenerationResult:
        """Run ``request``, streaming text pieces to ``on_token``; thread-safe, blocking."""
        ...

    def count_tokens(self, text: str) -> int: ...

    def warm_prefix(self, text: str) -> str:
        """Evaluate ``text`` at BACKGROUND priority and save its state; returns the cache key.

        A later prompt that starts with ``text`` evaluates only what follows it. Raises
        :class:`Preempted` if foreground work or ``abort()`` interrupted it.
        """
        ...

    def score(self, prompt: str, continuation: str) -> list[float]:
        """Natural-log probability of each token of ``continuation`` after ``prompt``.

        Runs at BACKGROUND priority (sleep-time work: how predictable is a question
        from its context?); raises :class:`Preempted` when interrupted.
        """
        ...

    def embed(self, texts: Sequence[str],
              priority: Priority = Priority.BACKGROUND) -> list[list[float]]:
        """One vector per text from the engine's embedding model, queued at ``priority``.

        Raises :class:`EngineError` when the engine has no embedding model and
        :class:`Preempted` when interrupted.
        """
        ...

    def abort(self) -> None:
        """Stop the request that is running now, if any (from any thread)."""
        ...

    def abort_background(self) -> None:
        """Stop the running request if it is BACKGROUND work (the person came back)."""
        ...

    def forget_loaded(self) -> None:
        """Drop what the loaded model still holds of earlier prompts (its KV cache and
        token buffer), after the person forgot something: the text must not stay in
        memory either. Queued behind the running request; returns at once."""
        ...

    def close(self) -> None: ...
