"""LlamaEngine on the real bundled model: generate, stream, cancel, preempt, reuse."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from assistant.llm.engine import (
    EngineError,
    FinishReason,
    GenerationRequest,
    Priority,
    PromptStyle,
)
from assistant.llm.llama import LlamaEngine, longest_common_prefix
from assistant.llm.prompts import answer_request
from assistant.llm.worker import held_back

pytestmark = pytest.mark.model

LONG_PROMPT = "The quick brown fox jumps over the lazy dog. " * 250  # ~2,500 tokens


@pytest.fixture(scope="module")
def engine(bundled_model: Path) -> Iterator[LlamaEngine]:
    eng = LlamaEngine(bundled_model, n_ctx=4096)
    assert eng.wait_ready(60), eng.load_error
    yield eng
    eng.close()


def greedy(question: str, **kw: object) -> GenerationRequest:
    req = answer_request(PromptStyle.COMPLETION, question, temperature=0.0)
    for key, value in kw.items():
        setattr(req, key, value)
    return req


def test_model_info_comes_from_the_file(engine: LlamaEngine) -> None:
    info = engine.info
    assert info.prompt_style is PromptStyle.COMPLETION  # a base model: no chat template
    assert len(info.sha256) == 64
    assert info.n_ctx == 4096
    assert engine.count_tokens("Hello world") >= 2


def test_generates_and_streams(engine: LlamaEngine) -> None:
    pieces: list[str] = []
    result = engine.generate(greedy("What is the capital of France?"), pieces.append)
    assert "Paris" in result.text
    assert "".join(pieces) == result.text
    assert len(pieces) >= 3
    assert result.finish_reason is FinishReason.STOP
    assert result.completion_tokens >= 3
    assert result.prompt_tokens + result.cached_tokens > 50
    assert 0 < result.ttft_ms <= result.total_ms
    assert "\nUser:" not in result.text


def test_stop_sequence_is_never_streamed(engine: LlamaEngine) -> None:
    pieces: list[str] = []
    req = GenerationRequest(prompt="User: hi\nReverie: hello\nUser: bye\nReverie:",
                            max_tokens=40, temperature=0.0, stop=["\n"])
    result = engine.generate(req, pieces.append)
    assert "\n" not in "".join(pieces)
    assert result.finish_reason in (FinishReason.STOP, FinishReason.LENGTH)


def test_max_tokens_bounds_the_answer(engine: LlamaEngine) -> None:
    req = GenerationRequest(prompt="Count: one, two, three,", max_tokens=5, temperature=0.0)
    result = engine.generate(req)
    assert result.completion_tokens == 5
    assert result.finish_reason is FinishReason.LENGTH


def test_second_question_reuses_the_shared_prefix(engine: LlamaEngine) -> None:
    engine.generate(greedy("What is the capital of France?"))
    result = engine.generate(greedy("What is the capital of Spain?"))
    assert result.cached_tokens > 80  # the instructions and examples were already evaluated
    assert result.prompt_tokens < 20


def polled_check(flag: threading.Event) -> tuple[threading.Event, Callable[[], bool]]:
    """A should_stop that answers ``flag`` and sets the returned event once llama.cpp
    first polls it, i.e. once prefill is under way."""
    polled = threading.Event()

    def check() -> bool:
        polled.set()
        return flag.is_set()

    return polled, check


def test_cancel_during_prefill_is_fast_and_leaves_the_context_usable(
        engine: LlamaEngine) -> None:
    flag = threading.Event()
    polled, check = polled_check(flag)
    future = engine.submit(GenerationRequest(prompt=LONG_PROMPT, max_tokens=20,
                                             should_stop=check))
    assert polled.wait(30)  # the ~7 s prefill has started
    raised = time.perf_counter()
    flag.set()
    result = future.result(timeout=10)
    stopped_ms = (time.perf_counter() - raised) * 1000
    assert result.finish_reason is FinishReason.CANCELLED
    assert result.completion_tokens == 0
    assert stopped_ms < 500
    done, total = result.progress.removeprefix("prefill ").split(",")[0].split("/")
    assert int(done) < int(total)  # stopped in the middle of prefill
    after = engine.generate(greedy("What is the capital of France?"))
    assert "Paris" in after.text
    assert after.finish_reason is FinishReason.STOP


def test_foreground_preempts_background(engine: LlamaEngine) -> None:
    polled, check = polled_check(threading.Event())
    background = engine.submit(GenerationRequest(prompt=LONG_PROMPT, max_tokens=20,
                                                 priority=Priority.BACKGROUND,
                                                 should_stop=check))
    assert polled.wait(30)
    foreground = engine.submit(greedy("What is the capital of France?"))
    bg = background.result(timeout=10)
    fg = foreground.result(timeout=120)  # a loaded machine prefills slowly
    assert bg.finish_reason is FinishReason.ABORTED
    assert bg.progress.startswith("prefill ")
    assert "Paris" in fg.text


def test_abort_background_leaves_foreground_alone(engine: LlamaEngine) -> None:
    started = threading.Event()

    def on_token(_piece: str) -> None:
        started.set()

    req = greedy("Write a long story about a dragon.", max_tokens=60)
    future = engine.submit(req, on_token)
    assert started.wait(10)
    engine.abort_background()
    assert future.result(timeout=30).finish_reason in (FinishReason.STOP, FinishReason.LENGTH)


def test_a_file_that_is_not_gguf_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "model.gguf"
    bad.write_bytes(b"this is not a model" * 100)
    eng = LlamaEngine(bad)
    try:
        assert not eng.wait_ready(10)
        assert eng.load_error is not None
        assert "not a GGUF model file" in eng.load_error
        with pytest.raises(EngineError):
            eng.generate(greedy("hi"))
    finally:
        eng.close()


def test_a_truncated_gguf_is_a_clear_error(tmp_path: Path, bundled_model: Path) -> None:
    bad = tmp_path / "truncated.gguf"
    with bundled_model.open("rb") as src:
        bad.write_bytes(src.read(4096))
    eng = LlamaEngine(bad)
    try:
        assert not eng.wait_ready(30)
        assert eng.load_error is not None
        assert "could not be loaded" in eng.load_error
    finally:
        eng.close()


def test_helpers() -> None:
    assert longest_common_prefix([1, 2, 3], [1, 2, 4]) == 2
    assert longest_common_prefix([], [1]) == 0
    assert held_back("Paris.\nUs", ["\nUser:"]) == 3
    assert held_back("Paris.", ["\nUser:"]) == 0
    assert held_back("Paris.\n", ["\nUser:", "\n\n"]) == 1


def test_score_prefers_questions_that_follow_from_the_context(engine: LlamaEngine) -> None:
    context = ("Maya booked the dentist for Tuesday 24 November at 10:30.\n"
               "A question Maya is likely to ask next:")
    likely = engine.score(context, " When is my dentist appointment?")
    unlikely = engine.score(context, " What is the boiling point of tungsten?")
    assert len(likely) >= 5 and all(lp <= 0 for lp in likely + unlikely)
    assert sum(likely) / len(likely) > sum(unlikely) / len(unlikely)
