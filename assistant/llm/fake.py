"""A deterministic, dependency-free Engine for unit tests.

It answers from a table of rules (first matching substring wins) or a default reply,
streams the answer word by word, honours stop sequences, ``max_tokens``, cancellation
and ``abort()``, and counts tokens as whitespace-separated words. Each piece can be
slowed down with ``token_delay`` so tests can interrupt it. ``submit`` runs the request
in the caller's thread and returns a finished future; ``embed`` hashes words into a
bag-of-words vector, so texts that share words are close.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future

from assistant.llm.engine import (
    ChatMessage,
    FinishReason,
    GenerationRequest,
    GenerationResult,
    ModelInfo,
    Priority,
    PromptStyle,
    TokenCallback,
)

#: Length of the FakeEngine's vectors.
EMBED_DIM = 64


def _render_messages(messages: Sequence[ChatMessage]) -> str:
    return "\n".join(f"{m.role}: {m.content}" for m in messages) + "\nassistant:"


class FakeEngine:
    def __init__(
        self,
        rules: Sequence[tuple[str, str]] = (),
        default: str | Callable[[str], str] = "This is a fake answer.",
        *,
        token_delay: float = 0.0,
        prompt_style: PromptStyle = PromptStyle.COMPLETION,
        n_ctx: int = 4096,
    ) -> None:
        self.rules = list(rules)
        self.default = default
        self.token_delay = token_delay
        self._info = ModelInfo("fake", "", "0" * 64, n_ctx, prompt_style)
        self._lock = threading.Lock()  # one request at a time, like the real engine
        self._abort = threading.Event()
        self.requests: list[GenerationRequest] = []
        self.prompts: list[str] = []
        self.warm_prefixes: dict[str, str] = {}
        #: How many times `forget_loaded` was called.
        self.forgets_loaded = 0

    @property
    def info(self) -> ModelInfo:
        return self._info

    def wait_ready(self, timeout: float | None = None) -> bool:
        return True

    @property
    def is_ready(self) -> bool:
        return True

    @property
    def load_error(self) -> str | None:
        return None

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def submit(self, request: GenerationRequest,
               on_token: TokenCallback | None = None) -> Future[GenerationResult]:
        future: Future[GenerationResult] = Future()
        future.set_running_or_notify_cancel()
        try:
            future.set_result(self.generate(request, on_token))
        except Exception as exc:
            future.set_exception(exc)
        return future

    def embed(self, texts: Sequence[str],
              priority: Priority = Priority.BACKGROUND) -> list[list[float]]:
        out = []
        for text in texts:
            vector = [0.0] * EMBED_DIM
            for word in text.lower().split():
                digest = hashlib.sha256(word.strip(".,?!:;").encode()).digest()
                vector[digest[0] % EMBED_DIM] += 1.0
            norm = math.sqrt(sum(x * x for x in vector)) or 1.0
            out.append([x / norm for x in vector])
        return out

    def abort(self) -> None:
        self._abort.set()

    def abort_background(self) -> None:
        self._abort.set()

    def forget_loaded(self) -> None:
        self.forgets_loaded += 1

    def warm_prefix(self, text: str) -> str:
        key = hashlib.sha256(text.encode()).hexdigest()[:40]
        self.warm_prefixes[key] = text
        return key

    def score(self, prompt: str, continuation: str) -> list[float]:
        """Words already in the prompt are likely (-0.5), others unlikely (-4.0)."""
        seen = {w.strip(".,?!:;").lower() for w in prompt.split()}
        return [-0.5 if w.strip(".,?!:;").lower() in seen else -4.0
                for w in continuation.split()]

    def _cached_part(self, prompt: str) -> int:
        best = max((p for p in self.warm_prefixes.values() if prompt.startswith(p)),
                   key=len, default="")
        return self.count_tokens(best)

    def close(self) -> None:
        pass

    def reply_for(self, prompt: str) -> str:
        for needle, answer in self.rules:
            if needle.lower() in prompt.lower():
                return answer
        return self.default(prompt) if callable(self.default) else self.default

    def generate(
        self, request: GenerationRequest, on_token: TokenCallback | None = None
    ) -> GenerationResult:
        with self._lock:
            self._abort.clear()
            start = time.perf_counter()
            prompt = request.prompt if request.prompt is not None else _render_messages(
                request.messages or ()
            )
            self.requests.append(request)
            self.prompts.append(prompt)
            reply = self.reply_for(prompt)
            for stop in request.stop:
                if stop and stop in reply:
                    reply = reply[: reply.index(stop)]
            words = reply.split(" ")
            text, n, ttft = "", 0, 0.0
            finish = FinishReason.STOP
            for i, word in enumerate(words):
                if self._abort.is_set():
                    finish = (FinishReason.ABORTED if request.priority is Priority.BACKGROUND
                              else FinishReason.CANCELLED)
                    break
                if request.should_stop is not None and request.should_stop():
                    finish = FinishReason.CANCELLED
                    break
                if n >= request.max_tokens:
                    finish = FinishReason.LENGTH
                    break
                if self.token_delay:
                    time.sleep(self.token_delay)
                piece = word if i == 0 else " " + word
                text += piece
                n += 1
                if n == 1:
                    ttft = (time.perf_counter() - start) * 1000
                if on_token is not None:
                    on_token(piece)
            return GenerationResult(
                text=text,
                finish_reason=finish,
                prompt_tokens=self.count_tokens(prompt) - self._cached_part(prompt),
                cached_tokens=self._cached_part(prompt),
                completion_tokens=n,
                ttft_ms=ttft,
                total_ms=(time.perf_counter() - start) * 1000,
                model=self._info.name,
            )
