"""``LlamaEngine``: the Engine protocol on llama-cpp-python.

One ``Llama`` object is not thread-safe, so the engine owns it on one worker thread and
serves a priority queue: FOREGROUND requests (the person is waiting) run before
BACKGROUND ones (sleep-time work), and a FOREGROUND request that arrives while
BACKGROUND work runs aborts it at once. Aborting uses llama.cpp's abort callback, which
stops even a prompt in the middle of prefill, plus a check after every decoded token.

Prompt tokens already in the KV cache (the longest common prefix with what was
evaluated last) are reused, and the result reports how many were.
"""

from __future__ import annotations

import codecs
import ctypes
import hashlib
import logging
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.llm.bundled import read_verified_sha256, record_verified
from assistant.llm.download import sha256_file
from assistant.llm.engine import (
    ChatMessage,
    EngineError,
    FinishReason,
    GenerationRequest,
    GenerationResult,
    ModelInfo,
    Preempted,
    Priority,
    PromptStyle,
    TokenCallback,
)
from assistant.llm.prefix_cache import PrefixCache, PrefixEntry, prefix_key
from assistant.llm.worker import Job, PriorityWorker, QueuedEngine, StopStream

log = logging.getLogger("assistant.llm")


_llama_log = logging.getLogger("assistant.llm.llamacpp")
_log_callback: Any = None
_log_lock = threading.Lock()
# llama.cpp's backend and model loading share process-wide state: load one model at a time.
_load_lock = threading.Lock()


def route_llama_logs() -> None:
    """Send llama.cpp's own log lines to our log file instead of the terminal.

    The callback object must stay alive for the life of the process (llama.cpp keeps a
    raw pointer to it), so it is created once, under a lock.
    """
    global _log_callback
    with _log_lock:
        if _log_callback is None:
            _install_log_callback()


def _install_log_callback() -> None:
    global _log_callback
    import llama_cpp

    levels = {2: logging.INFO, 3: logging.INFO}  # aborted decodes log "errors" by design

    @llama_cpp.llama_log_callback  # type: ignore[untyped-decorator]
    def forward(level: int, text: bytes, _data: ctypes.c_void_p) -> None:
        line = text.decode("utf-8", errors="replace").rstrip()
        if line:
            _llama_log.log(levels.get(level, logging.DEBUG), "%s", line)

    _log_callback = forward
    llama_cpp.llama_log_set(forward, ctypes.c_void_p(0))


class _Interrupted(Exception):
    """Raised inside the worker when the running request must stop."""


def longest_common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


def check_gguf_magic(path: Path) -> None:
    """Refuse, in one sentence, a file that is missing or not a GGUF model."""
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except FileNotFoundError:
        raise EngineError(f"The model file {path} does not exist; choose another model "
                          "in Settings or reinstall Reverie.") from None
    except IsADirectoryError:
        raise EngineError(f"{path} is a folder, not a model file; choose a .gguf file.") from None
    if magic != b"GGUF":
        raise EngineError(f"{path.name} is not a GGUF model file; choose a .gguf file.")


class LlamaEngine(QueuedEngine):
    """A llama.cpp model served from one worker thread. Loading starts at construction.

    ``embedding_path`` names an optional embedding GGUF (the chat model's own file works
    too); it is loaded on the worker thread at its first ``embed`` call, under the same
    load lock, and its jobs share the chat model's priority queue.
    """

    def __init__(self, model_path: Path, *, n_ctx: int = 4096, n_threads: int | None = None,
                 n_batch: int = 512, seed: int = 0, kv_dir: Path | None = None,
                 kv_max_bytes: int | None = None, embedding_path: Path | None = None) -> None:
        self.model_path = Path(model_path)
        self._cache = (PrefixCache(kv_dir, **({"max_bytes": kv_max_bytes} if kv_max_bytes
                                               else {})) if kv_dir is not None else None)
        self._n_ctx = n_ctx
        self._n_threads = n_threads or max(1, os.cpu_count() or 1)
        self._n_batch = n_batch
        self._seed = seed
        self._embedding_path = embedding_path
        self._embedder: Any = None
        self._ready = False
        self._info = ModelInfo(self.model_path.stem, str(self.model_path), "", n_ctx,
                               PromptStyle.COMPLETION)
        self._llm: Any = None
        self._chat_formatter: Any = None
        # Kept referenced for as long as the context lives: llama.cpp calls it during decode.
        self._abort_cb: Any = None
        self._worker = PriorityWorker("llama-engine", self._load_or_explain,
                                      before_job=self._require_loaded, teardown=self._free)
        self._worker.start()

    # -- public API (any thread, the rest comes from QueuedEngine) ----------------------

    def warm_prefix(self, text: str) -> str:
        """Evaluate ``text`` as BACKGROUND work and save its KV state; returns the key."""
        if self._cache is None:
            raise EngineError("This engine has no prefix cache folder.")
        return self._worker.submit(Priority.BACKGROUND, lambda _job: self._warm(text)).result()

    def score(self, prompt: str, continuation: str) -> list[float]:
        """Log-probability of each continuation token after ``prompt`` (BACKGROUND)."""
        return self._worker.submit(Priority.BACKGROUND,
                                   lambda _job: self._score(prompt, continuation)).result()

    def embed(self, texts: Sequence[str],
              priority: Priority = Priority.BACKGROUND) -> list[list[float]]:
        """One normalized vector per text from the embedding model, on the worker thread."""
        if self._embedding_path is None:
            raise EngineError("This model has no embedding model configured.")
        return self._worker.submit(priority, lambda _job: self._embed(list(texts))).result()

    @property
    def prefix_cache(self) -> PrefixCache | None:
        return self._cache

    def count_tokens(self, text: str) -> int:
        if not self._ready:
            raise EngineError("The model is not loaded yet.")
        # The tokenizer reads only immutable vocabulary data: safe beside the worker.
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    # -- worker thread -----------------------------------------------------------------
    def _load_or_explain(self) -> None:
        try:
            self._load()
        except EngineError:
            raise
        except Exception as exc:  # the message is shown to the person
            raise EngineError(f"The model {self.model_path.name} could not be loaded "
                              f"({exc}); choose another model file.") from exc

    def _require_loaded(self) -> None:
        if not self._ready:
            raise EngineError(self._worker.load_error or "No model loaded.")

    def _free(self) -> None:
        for llm in (self._llm, self._embedder):
            if llm is not None:
                llm.close()
        self._llm = self._embedder = None

    def _load(self) -> None:
        check_gguf_magic(self.model_path)
        import llama_cpp

        route_llama_logs()
        started = time.perf_counter()
        with _load_lock:
            llm = llama_cpp.Llama(
                model_path=str(self.model_path), n_ctx=self._n_ctx, n_threads=self._n_threads,
                n_threads_batch=self._n_threads, n_batch=self._n_batch, seed=self._seed,
                verbose=False,
            )

        def should_abort(_data: ctypes.c_void_p) -> bool:
            return self._interrupt_requested()

        self._abort_cb = llama_cpp.ggml_abort_callback(should_abort)
        llama_cpp.llama_set_abort_callback(llm._ctx.ctx, self._abort_cb, None)
        template = llm.metadata.get("tokenizer.chat_template")
        style = PromptStyle.COMPLETION
        if template:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            eos, bos = llm.token_eos(), llm.token_bos()
            self._chat_formatter = Jinja2ChatFormatter(
                template=template,
                eos_token=llm._model.token_get_text(eos) if eos != -1 else "",
                bos_token=llm._model.token_get_text(bos) if bos != -1 else "",
            )
            style = PromptStyle.CHAT
        sha = read_verified_sha256(self.model_path)
        if sha is None:
            sha = sha256_file(self.model_path)
            record_verified(self.model_path, sha)
        self._settings_key = (f"llama-cpp-python={llama_cpp.__version__};"
                              f"n_batch={self._n_batch};seq=0")
        self._llm = llm
        self._vocab = llama_cpp.llama_model_get_vocab(llm._model.model)
        self._is_eog = llama_cpp.llama_vocab_is_eog
        name = str(llm.metadata.get("general.name") or self.model_path.stem)
        self._info = ModelInfo(name, str(self.model_path), sha, llm.n_ctx(), style)
        self._ready = True
        log.info("loaded %s (%s style, n_ctx %d) in %.2f s", name, style.value, llm.n_ctx(),
                 time.perf_counter() - started)

    def _interrupt_requested(self) -> bool:
        return self._worker.interrupt_requested()

    def _render(self, request: GenerationRequest) -> tuple[str, list[str]]:
        stops = list(request.stop)
        if request.prompt is not None:
            return request.prompt, stops
        messages: Sequence[ChatMessage] = request.messages or ()
        if self._chat_formatter is None:
            text = "\n".join(f"{m.role.capitalize()}: {m.content}" for m in messages)
            return text + "\nAssistant:", [*stops, "\nUser:"]
        rendered = self._chat_formatter(
            messages=[{"role": m.role, "content": m.content} for m in messages])
        extra = rendered.stop if isinstance(rendered.stop, list) else (
            [rendered.stop] if rendered.stop else [])
        return rendered.prompt, [*stops, *extra]

    def _generate(self, job: Job, request: GenerationRequest,
                  on_token: TokenCallback | None) -> GenerationResult:
        llm = self._llm
        started = time.perf_counter()
        prompt, stops = self._render(request)
        tokens = llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
        if len(tokens) >= self._info.n_ctx:
            raise EngineError(f"The prompt has {len(tokens)} tokens, more than the model's "
                              f"context window of {self._info.n_ctx}.")
        max_tokens = min(request.max_tokens, self._info.n_ctx - len(tokens))
        reuse = self._reuse_prefix(tokens)
        to_eval = tokens[reuse:]
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        stream = StopStream(stops, on_token)
        n_out, ttft = 0, 0.0
        finish = FinishReason.LENGTH
        if request.seed is not None:
            llm.set_seed(request.seed)
        gen = llm.generate(
            to_eval, top_k=request.top_k, top_p=request.top_p, temp=request.temperature,
            repeat_penalty=request.repeat_penalty, reset=False,
        )
        try:
            for token in gen:
                if n_out == 0:
                    ttft = (time.perf_counter() - started) * 1000
                if self._interrupt_requested():
                    raise _Interrupted
                if self._is_eog(self._vocab, token):
                    finish = FinishReason.STOP
                    break
                n_out += 1
                if stream.add(decoder.decode(llm.detokenize([token]))):
                    finish = FinishReason.STOP
                    break
                if n_out >= max_tokens:
                    break
            else:
                finish = FinishReason.STOP
        except (_Interrupted, RuntimeError) as exc:
            if isinstance(exc, RuntimeError) and not self._interrupt_requested():
                raise
            stream.interrupt()
            finish = self._worker.interrupted_reason(job)
            if n_out == 0:
                ttft = 0.0
        finally:
            gen.close()
        text = stream.finish()
        interrupted = finish in (FinishReason.CANCELLED, FinishReason.ABORTED)
        prefilled = len(to_eval) if n_out or not interrupted else max(0, llm.n_tokens - reuse)
        return GenerationResult(
            text=text,
            finish_reason=finish,
            prompt_tokens=prefilled,
            cached_tokens=reuse,
            completion_tokens=n_out,
            ttft_ms=ttft,
            total_ms=(time.perf_counter() - started) * 1000,
            model=self._info.name,
            progress=f"prefill {min(llm.n_tokens, len(tokens))}/{len(tokens)}, "
                     f"decoded {n_out}",
        )

    def _reuse_prefix(self, tokens: list[int]) -> int:
        """Keep the evaluated tokens shared with ``tokens`` (from memory, or from a saved
        prefix state when that shares more); at least one token is left to evaluate."""
        llm = self._llm
        common = longest_common_prefix(llm.input_ids[: llm.n_tokens].tolist(), tokens)
        if self._cache is not None:
            match = self._cache.best_match(tokens, self._info.sha256, self._info.n_ctx,
                                           self._settings_key, better_than=common)
            if match is not None and self._load_state(match[0]):
                common = match[1]
        return self._truncate_to(min(common, len(tokens) - 1))

    def _drop_loaded(self) -> None:
        """Empty the context's KV cache and overwrite the token buffer (worker thread)."""
        self._truncate_to(0)
        self._llm.input_ids.fill(0)

    def _truncate_to(self, n: int) -> int:
        llm = self._llm
        if n > 0 and llm._ctx.kv_cache_seq_rm(-1, n, -1):
            llm.n_tokens = n
            return n
        llm.reset()
        llm._ctx.kv_cache_seq_rm(-1, 0, -1)
        return 0

    def _load_state(self, entry: PrefixEntry) -> bool:
        """Load a saved prefix into sequence 0; a bad file is deleted, never fatal."""
        import llama_cpp

        assert self._cache is not None
        llm = self._llm
        path = self._cache.state_path(entry.key)
        started = time.perf_counter()
        self._truncate_to(0)
        capacity = self._info.n_ctx
        out = (llama_cpp.llama_token * capacity)()
        count = ctypes.c_size_t(0)
        read = llama_cpp.llama_state_seq_load_file(
            llm._ctx.ctx, str(path).encode(), 0, out, capacity, ctypes.byref(count))
        loaded = tuple(out[: count.value])
        if not read or loaded != entry.tokens:
            log.warning("prefix cache file %s is unusable; deleting it", path.name)
            self._cache.remove(entry.key)
            self._truncate_to(0)
            return False
        llm.input_ids[: len(loaded)] = loaded
        llm.n_tokens = len(loaded)
        self._cache.touch(entry.key)
        log.debug("loaded %d prefix tokens from %s in %.1f ms", len(loaded), path.name,
                  (time.perf_counter() - started) * 1000)
        return True

    def _score(self, prompt: str, continuation: str) -> list[float]:
        """Evaluate the prompt, then read each continuation token's log-probability from
        the logits before evaluating it (one token at a time: logits_all would cost
        n_ctx x vocabulary floats of memory)."""
        import numpy as np

        llm = self._llm
        context = llm.tokenize(prompt.encode("utf-8"), add_bos=True, special=True)
        following = llm.tokenize(continuation.encode("utf-8"), add_bos=False, special=False)
        if len(context) + len(following) >= self._info.n_ctx:
            raise EngineError("The text to score is longer than the model's context window.")
        scores: list[float] = []
        n_vocab = llm.n_vocab()
        try:
            reuse = self._reuse_prefix(context)
            llm.eval(context[reuse:])
            for token in following:
                if self._interrupt_requested():
                    raise _Interrupted
                logits = np.ctypeslib.as_array(llm._ctx.get_logits_ith(-1), shape=(n_vocab,))
                top = float(logits.max())
                log_norm = top + float(np.log(np.exp(logits - top).sum()))
                scores.append(float(logits[token]) - log_norm)
                llm.eval([token])
        except (_Interrupted, RuntimeError) as exc:
            if isinstance(exc, RuntimeError) and not self._interrupt_requested():
                raise
            raise Preempted(f"scoring stopped after {len(scores)}/{len(following)} tokens"
                            ) from None
        return scores

    def _warm(self, text: str) -> str:
        """Evaluate the prefix (abortable) and save its state file atomically."""
        import llama_cpp

        assert self._cache is not None
        llm = self._llm
        tokens = llm.tokenize(text.encode("utf-8"), add_bos=True, special=True)
        if len(tokens) >= self._info.n_ctx:
            raise EngineError(f"The prefix has {len(tokens)} tokens, more than the model's "
                              f"context window of {self._info.n_ctx}.")
        key = prefix_key(self._info.sha256, self._info.n_ctx, self._settings_key,
                         text)
        if self._cache.get(key) is not None:
            self._cache.touch(key)
            return key
        common = longest_common_prefix(llm.input_ids[: llm.n_tokens].tolist(), tokens)
        if common < len(tokens):
            match = self._cache.best_match(tokens, self._info.sha256, self._info.n_ctx,
                                           self._settings_key, better_than=common)
            if match is not None and self._load_state(match[0]):
                common = match[1]
        done = self._truncate_to(min(common, len(tokens)))
        try:
            if done < len(tokens):
                llm.eval(tokens[done:])
        except RuntimeError as exc:
            if self._interrupt_requested():
                raise Preempted(f"warming stopped at {llm.n_tokens}/{len(tokens)} tokens"
                                ) from None
            raise EngineError(f"Evaluating the prefix failed ({exc}).") from exc
        if self._interrupt_requested():
            raise Preempted("warming stopped after evaluation")
        path = self._cache.state_path(key)
        tmp = path.with_name(path.name + ".tmp")
        arr = (llama_cpp.llama_token * len(tokens))(*tokens)
        written = llama_cpp.llama_state_seq_save_file(llm._ctx.ctx, str(tmp).encode(), 0, arr,
                                                      len(tokens))
        if not written:
            tmp.unlink(missing_ok=True)
            raise EngineError(f"Could not save the prefix state to {path.parent}; "
                              "check free disk space.")
        os.replace(tmp, path)
        prefix_hash = hashlib.sha256(text.encode("utf-8")).hexdigest()
        self._cache.add(PrefixEntry(key, self._info.sha256, self._info.n_ctx,
                                    self._settings_key, prefix_hash, tuple(tokens)))
        return key

    def _embed(self, texts: list[str]) -> list[list[float]]:
        """Mean-pooled, normalized vectors; the embedding model loads on first use."""
        if self._embedder is None:
            import llama_cpp

            assert self._embedding_path is not None
            check_gguf_magic(self._embedding_path)
            with _load_lock:
                self._embedder = llama_cpp.Llama(
                    str(self._embedding_path), embedding=True, n_ctx=512,
                    n_threads=self._n_threads, pooling_type=llama_cpp.LLAMA_POOLING_TYPE_MEAN,
                    verbose=False)
        out: list[list[float]] = []
        for text in texts:
            if self._interrupt_requested():
                raise Preempted(f"embedding stopped after {len(out)}/{len(texts)} texts")
            vector = self._embedder.embed(text[: 512 * 3], normalize=True, truncate=True)
            out.append([float(x) for x in vector])
        return out
