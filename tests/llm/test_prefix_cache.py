"""PrefixCache bookkeeping, and saved prefix states on the real bundled model."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.llm.engine import FinishReason, GenerationRequest, Preempted, Priority
from assistant.llm.llama import LlamaEngine
from assistant.llm.prefix_cache import (
    PrefixCache,
    PrefixEntry,
    forget_states,
    prefix_key,
    record_sources,
)

PREFIX = "Notes about the person. " + " ".join(
    f"Fact {i}: the person's locker number {i} holds item {i * 7}." for i in range(40))
QUESTION = "\nQuestion: What does locker number 3 hold?\nAnswer:"


def _entry(cache: PrefixCache, key: str, tokens: tuple[int, ...], size: int) -> PrefixEntry:
    cache.state_path(key).write_bytes(b"x" * size)
    entry = PrefixEntry(key, "sha", 4096, "s", "h", tokens)
    cache.add(entry)
    return entry


def test_key_depends_on_model_context_settings_and_text() -> None:
    base = prefix_key("a", 4096, "s", "text")
    assert base == prefix_key("a", 4096, "s", "text")
    assert len({base, prefix_key("b", 4096, "s", "text"), prefix_key("a", 2048, "s", "text"),
                prefix_key("a", 4096, "t", "text"), prefix_key("a", 4096, "s", "text!")}) == 5


def test_best_match_prefers_the_longest_shared_prefix(tmp_path: Path) -> None:
    cache = PrefixCache(tmp_path)
    _entry(cache, "short", (1, 2), 10)
    _entry(cache, "long", (1, 2, 3, 4), 10)
    _entry(cache, "other", (9, 9, 9, 9, 9), 10)
    found = cache.best_match([1, 2, 3, 4, 5], "sha", 4096, "s")
    assert found is not None and found[0].key == "long" and found[1] == 4
    assert cache.best_match([1, 2, 3, 4, 5], "sha", 4096, "s", better_than=4) is None
    assert cache.best_match([1, 2, 3], "other-model", 4096, "s") is None
    assert cache.best_match([1, 2, 3], "sha", 2048, "s") is None


def test_index_survives_reopening_and_drops_broken_entries(tmp_path: Path) -> None:
    cache = PrefixCache(tmp_path)
    _entry(cache, "good", (1, 2, 3), 10)
    _entry(cache, "orphan", (4, 5), 10)
    cache.state_path("orphan").unlink()
    (tmp_path / "junk.json").write_text("{not json")
    again = PrefixCache(tmp_path)
    assert [e.key for e in again.entries()] == ["good"]
    assert again.get("good") is not None and again.get("good").tokens == (1, 2, 3)  # type: ignore[union-attr]
    assert not (tmp_path / "junk.json").exists()


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_entries_are_owner_only(tmp_path: Path) -> None:
    cache = PrefixCache(tmp_path)
    _entry(cache, "k", (1, 2), 10)
    assert stat.S_IMODE(cache.state_path("k").stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "k.json").stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.json", "k.state"]
    # ... and still after its sources are recorded (it had become 644 under the umask).
    record_sources(tmp_path, "k", {"notes": [1]})
    assert stat.S_IMODE((tmp_path / "k.json").stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["k.json", "k.state"]


def test_size_bound_evicts_least_recently_used(tmp_path: Path) -> None:
    cache = PrefixCache(tmp_path, max_bytes=250)
    _entry(cache, "a", (1,), 100)
    _entry(cache, "b", (2,), 100)
    os.utime(cache.state_path("a"), (1, 1))
    os.utime(cache.state_path("b"), (2, 2))
    cache.touch("a")  # a is now the most recently used
    _entry(cache, "c", (3,), 100)
    assert {e.key for e in cache.entries()} == {"a", "c"}
    assert not cache.state_path("b").exists()
    assert cache.total_bytes() <= 250


@pytest.fixture
def engine(bundled_model: Path, tmp_path: Path) -> Iterator[LlamaEngine]:
    eng = LlamaEngine(bundled_model, n_ctx=4096, kv_dir=tmp_path / "kv")
    assert eng.wait_ready(60), eng.load_error
    yield eng
    eng.close()


def _ask(engine: LlamaEngine) -> tuple[str, int, int]:
    result = engine.generate(GenerationRequest(prompt=PREFIX + QUESTION, max_tokens=8,
                                               temperature=0.0))
    return result.text, result.prompt_tokens, result.cached_tokens


@pytest.mark.model
def test_warm_prefix_is_served_from_the_state_file(bundled_model: Path, tmp_path: Path) -> None:
    kv = tmp_path / "kv"
    cold = LlamaEngine(bundled_model, n_ctx=4096)
    assert cold.wait_ready(60)
    cold_text, cold_prompt, cold_cached = _ask(cold)
    cold.close()
    assert cold_cached == 0

    warmer = LlamaEngine(bundled_model, n_ctx=4096, kv_dir=kv)
    assert warmer.wait_ready(60)
    key = warmer.warm_prefix(PREFIX)
    assert warmer.warm_prefix(PREFIX) == key  # already saved: no work
    warmer.close()
    assert (kv / f"{key}.state").stat().st_size > 0
    if os.name == "posix":  # the state and its tokens are the person's prompt
        assert stat.S_IMODE((kv / f"{key}.state").stat().st_mode) == 0o600
        assert stat.S_IMODE((kv / f"{key}.json").stat().st_mode) == 0o600

    fresh = LlamaEngine(bundled_model, n_ctx=4096, kv_dir=kv)  # a new context: nothing in memory
    assert fresh.wait_ready(60)
    text, prompt_tokens, cached = _ask(fresh)
    fresh.close()
    prefix_tokens = len(fresh.prefix_cache.get(key).tokens)  # type: ignore[union-attr]
    assert cached >= prefix_tokens - 2
    assert prompt_tokens <= cold_prompt - prefix_tokens + 2
    assert text == cold_text  # same output as a full evaluation


@pytest.mark.model
def test_a_corrupt_state_file_is_deleted_and_recomputed(engine: LlamaEngine,
                                                         tmp_path: Path) -> None:
    key = engine.warm_prefix(PREFIX)
    path = tmp_path / "kv" / f"{key}.state"
    engine.generate(GenerationRequest(prompt="Something else entirely.", max_tokens=2))
    path.write_bytes(b"garbage" * 1000)
    text, _prompt, cached = _ask(engine)
    assert cached <= 1 and text  # at most the BOS token, shared with the last prompt
    assert not path.exists()
    assert engine.warm_prefix(PREFIX) == key  # recomputed
    assert path.exists()


@pytest.mark.model
def test_warming_is_preempted_by_foreground_work(engine: LlamaEngine) -> None:
    import threading

    errors: list[BaseException] = []

    def warm() -> None:
        try:
            engine.warm_prefix(PREFIX * 3)
        except Preempted as exc:
            errors.append(exc)

    thread = threading.Thread(target=warm)
    thread.start()
    import time

    time.sleep(0.5)
    result = engine.generate(GenerationRequest(prompt="The capital of France is",
                                               max_tokens=3, priority=Priority.FOREGROUND))
    thread.join(30)
    assert result.finish_reason in (FinishReason.STOP, FinishReason.LENGTH)
    assert errors and isinstance(errors[0], Preempted)


def test_forget_states_deletes_those_made_from_forgotten_sources(tmp_path: Path) -> None:
    cache = PrefixCache(tmp_path)
    for key in ("aaa", "bbb", "ccc"):
        cache.state_path(key).write_bytes(b"state")
        cache.add(PrefixEntry(key, "m", 512, "", key, (1, 2)))
    record_sources(tmp_path, "aaa", {"memories": [7, 3], "notes": [1]})
    record_sources(tmp_path, "bbb", {"memories": [9]})
    (tmp_path / "orphan.state").write_bytes(b"no index")  # no .json: unknown sources

    removed = forget_states(tmp_path, lambda src: 1 in src.get("notes", ()))

    assert sorted(removed) == ["aaa", "ccc", "orphan"]  # ccc: sources never recorded
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bbb.json", "bbb.state"]
    assert PrefixCache(tmp_path).get("bbb") is not None
    assert PrefixCache(tmp_path).get("bbb").sources == {"memories": [9]}  # type: ignore[union-attr]
