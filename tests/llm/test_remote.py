"""OpenAICompatibleEngine against a real llama-cpp-python server and a recording stub."""

from __future__ import annotations

import logging
import socket
import subprocess
import sys
import threading
import time
import types
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.llm.engine import (
    ChatMessage,
    EngineError,
    FinishReason,
    GenerationRequest,
    Priority,
    PromptStyle,
)
from assistant.llm.prompts import answer_request
from assistant.llm.remote import (
    API_KEY_ENV,
    OpenAICompatibleEngine,
    estimate_tokens,
    iter_sse,
    load_api_key,
    normalize_base_url,
    store_api_key,
)
from tests.llm.openai_stub import StubServer

STORY = "Write a very long story about a dragon who learns to cook."


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def greedy(question: str, **kw: object) -> GenerationRequest:
    req = answer_request(PromptStyle.COMPLETION, question, temperature=0.0)
    for key, value in kw.items():
        setattr(req, key, value)
    return req


# -- the real server --------------------------------------------------------------------
@pytest.fixture(scope="module")
def server_url(bundled_model: Path, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[str]:
    """llama-cpp-python's own OpenAI-compatible server on the bundled model."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    with log_path.open("wb") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(bundled_model),
             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "2048",
             "--n_threads", "2"],
            stdout=log_file, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the server exited: {log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(url + "/models", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(f"the server did not start: {log_path.read_text()[-2000:]}")
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def engine(server_url: str) -> Iterator[OpenAICompatibleEngine]:
    eng = OpenAICompatibleEngine(server_url, prompt_style=PromptStyle.COMPLETION, n_ctx=2048)
    assert eng.wait_ready(10), eng.load_error
    yield eng
    eng.close()


@pytest.mark.model
def test_info_comes_from_the_server(engine: OpenAICompatibleEngine, bundled_model: Path,
                                    server_url: str) -> None:
    info = engine.info
    assert info.name == str(bundled_model)  # llama-cpp-python lists the model by its path
    assert info.path == server_url
    assert info.n_ctx == 2048  # this server does not report it: the constructor default
    assert info.prompt_style is PromptStyle.COMPLETION
    # Counted by the server's tokenizer, not the 4-characters estimate (which says 4).
    assert engine.count_tokens("a a a a a a a a") >= 8


@pytest.mark.model
def test_completion_streams_the_answer(engine: OpenAICompatibleEngine) -> None:
    pieces: list[str] = []
    request = greedy("What is the capital of France?")
    result = engine.generate(request, pieces.append)
    assert "Paris" in result.text
    assert "".join(pieces) == result.text
    assert len(pieces) >= 3
    assert result.finish_reason is FinishReason.STOP
    assert "\nUser:" not in result.text
    assert result.completion_tokens >= 3
    assert request.prompt is not None
    assert result.prompt_tokens == engine.count_tokens(request.prompt) > 50
    assert 0 < result.ttft_ms <= result.total_ms


@pytest.mark.model
def test_stop_sequences_are_honoured(engine: OpenAICompatibleEngine) -> None:
    pieces: list[str] = []
    req = GenerationRequest(prompt="Count: one, two, three,", max_tokens=20,
                            temperature=0.0, stop=[","])
    result = engine.generate(req, pieces.append)
    assert result.text.strip() == "four"
    assert "," not in "".join(pieces)
    assert result.finish_reason is FinishReason.STOP


@pytest.mark.model
def test_max_tokens_bounds_the_answer(engine: OpenAICompatibleEngine) -> None:
    req = GenerationRequest(prompt="Count: one, two, three,", max_tokens=4, temperature=0.0)
    result = engine.generate(req)
    assert result.finish_reason is FinishReason.LENGTH
    assert 1 <= result.completion_tokens <= 4


@pytest.mark.model
def test_chat_request_uses_the_chat_endpoint(engine: OpenAICompatibleEngine) -> None:
    # The base model has no chat template; the server applies a default one.
    req = GenerationRequest(messages=[ChatMessage("user", "Tell me about Paris.")],
                            max_tokens=16, temperature=0.0)
    result = engine.generate(req)
    assert isinstance(result.text, str)
    assert result.finish_reason in (FinishReason.STOP, FinishReason.LENGTH)
    assert result.prompt_tokens > 0


@pytest.mark.model
def test_should_stop_cancels_mid_stream_quickly(engine: OpenAICompatibleEngine) -> None:
    started, flag = threading.Event(), threading.Event()
    pieces: list[str] = []

    def on_token(piece: str) -> None:
        pieces.append(piece)
        started.set()

    future = engine.submit(greedy(STORY, max_tokens=400, temperature=0.7,
                                  should_stop=flag.is_set, stop=(), seed=1), on_token)
    assert started.wait(30)
    raised = time.perf_counter()
    flag.set()
    result = future.result(timeout=10)
    stopped_ms = (time.perf_counter() - raised) * 1000
    assert result.finish_reason is FinishReason.CANCELLED
    assert stopped_ms < 300
    assert result.completion_tokens < 400
    assert "".join(pieces) == result.text
    # The engine (and the server) serve the next request normally.
    assert "Paris" in engine.generate(greedy("What is the capital of France?")).text


@pytest.mark.model
def test_foreground_preempts_background(engine: OpenAICompatibleEngine) -> None:
    started = threading.Event()
    background = engine.submit(
        greedy(STORY, max_tokens=400, temperature=0.7, stop=(), seed=2,
               priority=Priority.BACKGROUND), lambda _piece: started.set())
    assert started.wait(30)
    foreground = engine.submit(greedy("What is the capital of France?"))
    bg = background.result(timeout=10)
    fg = foreground.result(timeout=30)
    assert bg.finish_reason is FinishReason.ABORTED
    assert bg.progress.startswith("decoded ")
    assert "Paris" in fg.text
    assert fg.finish_reason is FinishReason.STOP


# -- without a model --------------------------------------------------------------------
def test_an_unreachable_server_is_a_clear_error() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there any more
    eng = OpenAICompatibleEngine(url)
    try:
        assert not eng.wait_ready(10)
        assert eng.load_error == (f"Cannot reach the inference server at {url} "
                                  "(connection refused); check that it is running.")
        with pytest.raises(EngineError, match="Cannot reach"):
            eng.generate(GenerationRequest(prompt="hi"))
    finally:
        eng.close()


def test_a_bad_address_is_a_clear_error() -> None:
    eng = OpenAICompatibleEngine("localhost:8080")
    try:
        assert not eng.wait_ready(5)
        assert eng.load_error is not None
        assert "is not an http:// or https:// address" in eng.load_error
    finally:
        eng.close()


@pytest.fixture
def stub() -> Iterator[StubServer]:
    server = StubServer(api_key="sk-test-123")
    yield server
    server.close()


def test_api_key_is_sent_as_bearer_and_usage_is_read(stub: StubServer) -> None:
    eng = OpenAICompatibleEngine(stub.url, api_key="sk-test-123")
    try:
        assert eng.wait_ready(5), eng.load_error
        assert eng.info.name == "stub-model"
        assert eng.info.n_ctx == 1234  # vLLM-style max_model_len
        assert eng.info.prompt_style is PromptStyle.CHAT
        pieces: list[str] = []
        req = GenerationRequest(prompt="Say hello", max_tokens=9, temperature=0.5,
                                top_p=0.8, stop=["\n"], seed=7)
        result = eng.generate(req, pieces.append)
        assert result.text == "Hello, world."
        assert "".join(pieces) == result.text
        assert (result.prompt_tokens, result.cached_tokens, result.completion_tokens) == (
            6, 4, 4)
        assert result.extra["usage_from_server"] == 1.0
        chat = eng.generate(GenerationRequest(messages=[ChatMessage("user", "hi")]))
        assert chat.text == "Hello, world."
    finally:
        eng.close()
    assert stub.seen
    assert all(s.headers.get("Authorization") == "Bearer sk-test-123" for s in stub.seen)
    completion = next(s for s in stub.seen if s.path == "/v1/completions")
    assert completion.body is not None
    assert completion.body["stream"] is True
    assert completion.body["stream_options"] == {"include_usage": True}
    assert {k: completion.body[k] for k in
            ("model", "prompt", "max_tokens", "temperature", "top_p", "stop", "seed")} == {
        "model": "stub-model", "prompt": "Say hello", "max_tokens": 9, "temperature": 0.5,
        "top_p": 0.8, "stop": ["\n"], "seed": 7}
    chat_seen = next(s for s in stub.seen if s.path == "/v1/chat/completions")
    assert chat_seen.body is not None
    assert chat_seen.body["messages"] == [{"role": "user", "content": "hi"}]


def test_a_wrong_api_key_is_a_clear_error(stub: StubServer) -> None:
    eng = OpenAICompatibleEngine(stub.url, api_key="wrong")
    try:
        assert not eng.wait_ready(5)
        assert eng.load_error is not None
        assert "refused the API key (HTTP 401)" in eng.load_error
    finally:
        eng.close()


def test_client_side_stop_and_estimated_counts() -> None:
    server = StubServer(pieces=("Paris", ".\nUs", "er: more"))
    eng = OpenAICompatibleEngine(server.url)
    try:
        assert eng.wait_ready(5), eng.load_error
        pieces: list[str] = []
        req = GenerationRequest(prompt="Q", stop=["\nUser:"])
        result = eng.generate(req, pieces.append)
        assert result.text == "Paris."
        assert pieces == ["Paris", "."]  # "\nUs" was held back, never streamed
        assert result.finish_reason is FinishReason.STOP
        assert eng.count_tokens("abcdefgh") == 2  # no tokenize endpoint: the estimate
    finally:
        eng.close()
        server.close()


@pytest.mark.parametrize("how", ["should_stop", "abort"])
def test_cancel_while_waiting_for_the_first_byte(how: str) -> None:
    server = StubServer(hold=True)
    eng = OpenAICompatibleEngine(server.url)
    try:
        assert eng.wait_ready(5), eng.load_error
        flag = threading.Event()
        future = eng.submit(GenerationRequest(prompt="Q", should_stop=flag.is_set))
        assert server.held.wait(5)
        raised = time.perf_counter()
        if how == "abort":
            eng.abort()
        else:
            flag.set()
        result = future.result(timeout=5)
        stopped_ms = (time.perf_counter() - raised) * 1000
        assert result.finish_reason is FinishReason.CANCELLED
        assert result.text == ""
        assert result.completion_tokens == result.prompt_tokens == 0
        assert stopped_ms < 150
    finally:
        eng.close()
        server.close()


def test_background_waiting_for_the_first_byte_is_preempted() -> None:
    server = StubServer(hold=True)
    eng = OpenAICompatibleEngine(server.url)
    try:
        assert eng.wait_ready(5), eng.load_error
        background = eng.submit(GenerationRequest(prompt="bg", priority=Priority.BACKGROUND))
        assert server.held.wait(5)
        foreground = eng.submit(GenerationRequest(prompt="fg"))
        assert background.result(timeout=1).finish_reason is FinishReason.ABORTED
        server.release.set()
        assert foreground.result(timeout=5).text == "Hello, world."
    finally:
        eng.close()
        server.close()


def test_helpers() -> None:
    assert normalize_base_url("http://box:8080") == "http://box:8080/v1"
    assert normalize_base_url(" http://box:11434/v1/ ") == "http://box:11434/v1"
    assert normalize_base_url("https://gpu.lan/api/v1") == "https://gpu.lan/api/v1"
    with pytest.raises(ValueError, match="not an http"):
        normalize_base_url("ftp://box")
    assert estimate_tokens("") == 0
    assert estimate_tokens("a") == 1
    assert estimate_tokens("x" * 40) == 10
    stream = [b": ping\r\n", b"data: {\"a\": 1}\r\n", b"\r\n", b"event: x\n",
              b"data: line1\n", b"data:line2\n", b"\n", b"data: [DONE]\n"]
    assert list(iter_sse(stream)) == ['{"a": 1}', "line1\nline2", "[DONE]"]


# -- API key storage --------------------------------------------------------------------
def test_api_key_without_keyring_comes_from_the_environment(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setitem(sys.modules, "keyring", None)  # as if it were not installed
    monkeypatch.setenv(API_KEY_ENV, "sk-from-env")
    with caplog.at_level(logging.INFO, logger="assistant.llm"):
        assert store_api_key("http://box:8080/v1", "sk-secret") is False
        assert load_api_key("http://box:8080/v1") == "sk-from-env"
    assert API_KEY_ENV in caplog.text
    monkeypatch.delenv(API_KEY_ENV)
    assert load_api_key("http://box:8080/v1") is None


def test_api_key_round_trips_through_a_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    vault: dict[tuple[str, str], str] = {}

    class Backend:
        priority = 5

    fake = types.ModuleType("keyring")
    fake.get_keyring = Backend  # type: ignore[attr-defined]
    fake.set_password = lambda s, a, k: vault.__setitem__((s, a), k)  # type: ignore[attr-defined]
    fake.get_password = lambda s, a: vault.get((s, a))  # type: ignore[attr-defined]
    fake.delete_password = lambda s, a: vault.pop((s, a))  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "keyring", fake)
    monkeypatch.delenv(API_KEY_ENV, raising=False)
    assert store_api_key("http://box:8080/", "sk-secret") is True
    assert vault == {("Reverie", "http://box:8080/v1"): "sk-secret"}
    assert load_api_key("http://box:8080/v1") == "sk-secret"
    assert store_api_key("http://box:8080/v1", "") is True
    assert load_api_key("http://box:8080/v1") is None


def test_a_keyring_without_backend_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    class FailBackend:
        priority = 0

    fake = types.ModuleType("keyring")
    fake.get_keyring = FailBackend  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "keyring", fake)
    monkeypatch.setenv(API_KEY_ENV, "sk-env")
    assert store_api_key("http://box:8080/v1", "sk-secret") is False
    assert load_api_key("http://box:8080/v1") == "sk-env"
