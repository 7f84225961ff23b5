"""Embedders: the built-in wordllama vectors, and llama.cpp embeddings on the engine's worker."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from assistant.llm.embedding import (
    EngineEmbedder,
    WordLlamaEmbedder,
    from_blob,
    to_blob,
)
from assistant.llm.engine import Engine, EngineError, Priority
from assistant.llm.fake import FakeEngine

TEXTS = ["The rent goes to Mr. Duval", "Mr. Duval receives the rent", "Tomatoes in May"]


def cosines(vectors: Sequence[Sequence[float]]) -> tuple[float, float]:
    a, b, c = (np.asarray(v) for v in vectors)
    return float(a @ b), float(a @ c)


def test_wordllama_loads_offline_once_and_is_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub

    def no_network(*_a: object, **_k: object) -> None:
        raise AssertionError("the embedder tried to download something")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", no_network)
    embedder = WordLlamaEmbedder()
    vectors = embedder.embed(TEXTS)
    assert len(vectors) == 3 and all(len(v) == 256 for v in vectors)
    assert all(abs(float(np.linalg.norm(v)) - 1.0) < 1e-4 for v in vectors)
    related, unrelated = cosines(vectors)
    assert related > unrelated + 0.2
    model = embedder._model
    started = time.perf_counter()
    for _ in range(100):
        embedder.embed(["When is my dentist appointment?"])
    per_question_ms = (time.perf_counter() - started) * 10
    assert embedder._model is model  # loaded once
    assert per_question_ms < 5  # tens of microseconds normally; generous on a busy machine
    assert embedder.embed([]) == []


def test_wordllama_loads_once_from_several_threads() -> None:
    embedder = WordLlamaEmbedder()
    models: list[object] = []
    barrier = threading.Barrier(3)

    def use() -> None:
        barrier.wait()
        embedder.embed(["hello"])
        models.append(embedder._model)

    threads = [threading.Thread(target=use) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(models) == 3 and all(m is models[0] for m in models)


def test_wordllama_preloads_on_a_thread_and_leaves_failures_to_embed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    embedder = WordLlamaEmbedder()
    embedder.preload_in_background().join(30)
    assert embedder._model is not None  # loaded before the first embed
    broken = WordLlamaEmbedder()

    def fail() -> object:
        raise EngineError("The built-in search vectors could not be loaded; reinstall.")

    monkeypatch.setattr(broken, "_load", fail)
    caught: list[object] = []
    monkeypatch.setattr(threading, "excepthook", caught.append)
    broken.preload_in_background().join(30)
    assert caught == []  # no traceback from the thread
    with pytest.raises(EngineError, match="reinstall"):
        broken.embed(["hello"])


def test_loading_wordllama_leaves_the_root_logger_alone() -> None:
    """wordllama calls logging.basicConfig(level=INFO) when imported; left so, every
    library's INFO lines would reach the terminal of `reverie ask`."""
    script = ("import logging\n"
              "from assistant.llm.embedding import WordLlamaEmbedder\n"
              "WordLlamaEmbedder().embed(['hello'])\n"
              "root = logging.getLogger()\n"
              "print(len(root.handlers), root.level)\n"
              "logging.getLogger('x').info('not shown')\n")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120, check=True)
    assert run.stdout.split() == ["0", str(logging.WARNING)]
    assert "not shown" not in run.stderr and "INFO" not in run.stderr


def test_blobs_round_trip() -> None:
    vector = [0.25, -1.5, 3.0]
    assert from_blob(to_blob(vector)).tolist() == vector


def test_fake_engine_is_an_engine_and_embeds_by_shared_words() -> None:
    engine = FakeEngine()
    assert isinstance(engine, Engine)
    related, unrelated = cosines(EngineEmbedder(engine, Priority.FOREGROUND).embed(TEXTS))
    assert related > unrelated


@pytest.mark.model
def test_llama_embeddings_run_on_the_engine_worker(bundled_model: Path) -> None:
    from assistant.llm.llama import LlamaEngine

    engine = LlamaEngine(bundled_model, n_ctx=1024, embedding_path=bundled_model)
    plain = LlamaEngine(bundled_model, n_ctx=1024)
    try:
        assert engine.wait_ready(60), engine.load_error
        embedder = EngineEmbedder(engine, Priority.BACKGROUND)
        vectors = embedder.embed(TEXTS)
        assert len(vectors[0]) > 100
        related, unrelated = cosines(vectors)
        assert related > unrelated
        assert plain.wait_ready(60)
        with pytest.raises(EngineError, match="no embedding model"):
            plain.embed(["hello"])
    finally:
        engine.close()
        plain.close()
