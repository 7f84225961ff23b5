"""Thinking on another machine (``thinking.remote_url``): sleep-time work runs on an
OpenAI-compatible server while answers stay on the local model; the person's return
closes the server's stream as fast as a local model stops; an unreachable server is
reported in one sentence and the session is skipped, never hung."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from assistant.app import Reverie
from assistant.config import Settings
from assistant.doctor import thinking_check
from assistant.llm.engine import Engine, EngineError
from assistant.llm.fake import FakeEngine
from assistant.llm.remote import OpenAICompatibleEngine
from assistant.mind.anticipate import UNSCORED_LOGPROB
from assistant.mind.runner import SessionReport
from assistant.paths import Paths
from assistant.store.models import Anticipation, WorkItem, WorkState
from tests.llm.openai_stub import StubServer
from tests.llm.test_remote import free_port, server_url  # noqa: F401 (a fixture)

CHAT = [("user", "My sister Ana moved to Lisbon last spring and works at the aquarium."),
        ("assistant", "That sounds like a lovely job. Do you visit her often?"),
        ("user", "I fly to Lisbon on 14 March to see her; my flight leaves at 9:40."),
        ("assistant", "Have a good trip to Lisbon.")]


def no_local_engine(model_path: Path | None, settings: Settings, paths: Paths) -> Engine:
    raise AssertionError("remote thinking must not start the local model")


def open_thinking_on(data_dir: Path, url: str, chat: Sequence[tuple[str, str]] = CHAT,
                     **thinking: Any) -> Reverie:
    app = Reverie.open(data_dir, engine_factory=no_local_engine)
    app.save_settings(app.settings.replace("thinking", remote_url=url, **thinking))
    conv = app.chats.create_conversation()
    assert conv.id is not None
    for role, text in chat:
        app.chats.add_message(conv.id, role, text)
    return app


# -- composition ------------------------------------------------------------------------
def test_the_thinking_engine_is_the_server_and_answers_stay_local(data_dir: Path) -> None:
    stub = StubServer()
    app = open_thinking_on(data_dir, stub.url)
    try:
        engine = app.thinking_engine()
        assert isinstance(engine, OpenAICompatibleEngine)
        assert engine.base_url == stub.url and app.thinking_engine() is engine
        assert app.engine is None  # nothing local was started for thinking
        assert engine.wait_ready(10) and engine.info.name == "stub-model"
        runner = app.sleep_runner()
        assert runner.has_work()
        # A new address makes a new engine; the old one is closed with the app.
        app.save_settings(app.settings.replace("thinking", remote_url=stub.url + "/"))
        assert app.thinking_engine() is engine  # the same address, normalised
        app.save_settings(app.settings.replace("thinking", remote_prompt_style="completion"))
        assert app.thinking_engine() is not engine
    finally:
        app.close()
        stub.close()


def test_without_remote_url_thinking_uses_the_local_engine(data_dir: Path,
                                                           fake_engine: Any) -> None:
    app = Reverie.open(data_dir, engine_factory=lambda *_a: fake_engine)
    try:
        assert not app.thinks_remotely
        assert app.thinking_engine() is fake_engine
        assert app.thinking_engine(fake_engine) is fake_engine
    finally:
        app.close()


# -- preemption -------------------------------------------------------------------------
def test_the_persons_return_closes_the_stream_within_100ms(data_dir: Path) -> None:
    """The engine's part (abort, close the HTTP stream, hand back the result) is held to
    the local model's 100 ms; the session's end adds the item's rollback and the journal
    (SQLite writes, the same for a local model), held to a looser bound on a busy CI."""
    stub = StubServer(pieces=("slowly ",) * 400, delay=0.05)  # a 20 s answer
    app = open_thinking_on(data_dir, stub.url)
    try:
        engine = app.thinking_engine()
        ended: list[float] = []
        submit = engine.submit

        def recording_submit(request: Any, on_token: Any = None) -> Any:
            future = submit(request, on_token)
            future.add_done_callback(lambda _f: ended.append(time.perf_counter()))
            return future

        engine.submit = recording_submit  # type: ignore[method-assign]
        runner = app.sleep_runner()
        out: list[SessionReport] = []
        thread = threading.Thread(target=lambda: out.append(runner.run_session()))
        thread.start()
        assert stub.streaming.wait(20), "the server never streamed"
        asked = time.perf_counter()
        runner.request_stop()
        thread.join(10)
        session_ms = (time.perf_counter() - asked) * 1000
        assert not thread.is_alive() and len(ended) == 1
        aborted_ms = (ended[0] - asked) * 1000
        assert aborted_ms < 100, f"the request stopped {aborted_ms:.0f} ms after the return"
        assert session_ms < 1000, f"the session ended {session_ms:.0f} ms after the return"
        assert stub.hung_up.wait(5), "the HTTP stream was not closed"
        report = out[0]
        assert (report.stopped_because, report.items_done) == ("user_returned", 0)
        with app.db.session() as s:
            items = list(s.exec(select(WorkItem)))
        assert items and all((i.state, i.attempts) == (WorkState.PENDING, 0) for i in items)
        assert app.memories.list() == []
    finally:
        app.close()
        stub.close()


# -- an unreachable server ---------------------------------------------------------------
def test_an_unreachable_server_skips_the_session_in_one_sentence(data_dir: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    app = open_thinking_on(data_dir, url)
    try:
        started = time.monotonic()
        report = app.sleep_runner().run_session()
        assert time.monotonic() - started < 10
        assert report.stopped_because == "error" and report.items_done == 0
        assert report.error is not None and "Cannot reach the inference server" in report.error
        assert app.engine is None
    finally:
        app.close()


def test_sleep_command_with_an_unreachable_server(tmp_path: Path) -> None:
    """The real command line: exit 1, one clear message, no traceback, no local model."""
    data_dir = tmp_path / "profile"
    url = f"http://127.0.0.1:{free_port()}/v1"
    app = open_thinking_on(data_dir, url)
    app.close()
    proc = subprocess.run([sys.executable, "-m", "assistant", "--data-dir", str(data_dir),
                           "sleep", "--json"], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[2])
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["stopped_because"] == "error"
    assert "Cannot reach the inference server" in proc.stderr
    assert "Thinking was skipped" in proc.stderr and "Traceback" not in proc.stderr
    assert not list((data_dir / "models").glob("*.gguf"))  # the local model was not made


def test_a_server_that_goes_away_stops_the_session_and_costs_no_attempts(
        data_dir: Path) -> None:
    stub = StubServer()
    app = open_thinking_on(data_dir, stub.url)
    conv = app.chats.create_conversation()
    app.chats.add_message(conv.id or 0, "user", "The plumber comes on Tuesday at 8.")

    def after_item(what: str | None) -> None:
        if what is None:
            stub.close()  # the server is switched off after the first item

    try:
        report = app.sleep_runner().run_session(on_item=after_item)
        assert report.stopped_because == "error" and report.items_done == 1
        assert report.error is not None and "Cannot reach the inference server" in report.error
        with app.db.session() as s:
            items = list(s.exec(select(WorkItem)))
        waiting = [i for i in items if i.state != WorkState.DONE]
        assert waiting and all((i.state, i.attempts) == (WorkState.PENDING, 0)
                               for i in waiting)
        engine = app.thinking_engine()
        assert not engine.is_ready and engine.load_error == report.error
    finally:
        app.close()


def test_a_server_that_comes_up_later_is_used(data_dir: Path) -> None:
    port = free_port()
    engine = OpenAICompatibleEngine(f"http://127.0.0.1:{port}/v1", retry_seconds=0.0)
    stub = None
    try:
        assert not engine.wait_ready(10)
        assert engine.load_error is not None and "connection refused" in engine.load_error
        stub = StubServer(port=port)
        assert engine.wait_ready(10), engine.load_error
        assert engine.load_error is None and engine.info.name == "stub-model"
    finally:
        engine.close()
        if stub is not None:
            stub.close()


def test_retries_are_spaced(data_dir: Path) -> None:
    engine = OpenAICompatibleEngine(f"http://127.0.0.1:{free_port()}/v1", retry_seconds=60)
    try:
        assert not engine.wait_ready(10)
        first = engine.load_error
        assert not engine.wait_ready(10)  # no new try yet: the same answer at once
        assert engine.load_error == first
    finally:
        engine.close()


# -- doctor -----------------------------------------------------------------------------
def test_doctor_says_where_thinking_runs(data_dir: Path) -> None:
    stub = StubServer()
    app = open_thinking_on(data_dir, stub.url)
    try:
        assert thinking_check(app) == {
            "where": "server", "remote_url": stub.url, "embeddings": "local",
            "reachable": True, "name": "stub-model", "n_ctx": stub.n_ctx,
            "prompt_style": "chat"}
        assert thinking_check(app, probe=False)["checked"] is False
    finally:
        app.close()
        stub.close()
    url = f"http://127.0.0.1:{free_port()}/v1"
    app = open_thinking_on(data_dir, url)
    try:
        info = thinking_check(app)
        assert info["reachable"] is False and "connection refused" in info["error"]
        assert info["effect"] == "thinking sessions are skipped until it answers"
        app.save_settings(app.settings.replace("thinking", remote_url=""))
        assert thinking_check(app) == {"where": "local"}
    finally:
        app.close()


# -- a thinking engine that cannot score ------------------------------------------------
class CannotScore(FakeEngine):
    def score(self, prompt: str, continuation: str) -> list[float]:
        raise EngineError("Scoring text is not available on a remote inference server.")


def test_questions_are_prepared_without_scores(data_dir: Path) -> None:
    engine = CannotScore(rules=[
        ("Question: Which seat do I have to Lisbon?", "Seat 12A."),
        ("Lisbon", "Which seat do I have to Lisbon?"),
    ])
    app = Reverie.open(data_dir, engine_factory=lambda *_a: engine)
    try:
        conv = app.chats.create_conversation("Trip")
        app.chats.add_message(conv.id or 0, "user",
                              "I fly to Lisbon on 14 March at 9:40, seat 12A.")
        report = app.sleep_runner(engine).run_session()
        assert report.error is None and report.items_failed == 0
        assert report.counters.anticipations_made >= 1
        with app.db.session() as s:  # the model's question (a fact's own need no score)
            row = next(a for a in s.exec(select(Anticipation)) if "memories" not in a.sources)
        assert row.question == "Which seat do I have to Lisbon?"
        assert row.predictability == pytest.approx(math.exp(UNSCORED_LOGPROB), abs=1e-4)
    finally:
        app.close()


# -- llama-cpp-python's own server -------------------------------------------------------
@pytest.mark.model
def test_a_real_sleep_session_on_llama_cpp_pythons_server(
        server_url: str, tmp_path: Path) -> None:  # noqa: F811 (the fixture)
    # Short: on a loaded 2-core machine this one item took 74 s (load average 18).
    app = open_thinking_on(tmp_path / "profile", server_url, chat=CHAT[:2],
                           remote_prompt_style="completion", anticipation_samples=1)
    try:
        engine = app.thinking_engine()
        assert engine.wait_ready(30), engine.load_error
        made = threading.Event()

        def after_item(what: str | None) -> None:  # stop once an item made memories
            if what is None and app.memories.list():
                made.set()

        report = app.sleep_runner().run_session(budget_seconds=600, should_stop=made.is_set,
                                                on_item=after_item)
        assert report.items_done >= 1 and report.error is None, report
        assert report.usage.prompt_tokens > 0 and report.usage.completion_tokens > 0
        assert report.counters.memories_added > 0, report
        memories = app.memories.list()
        assert any("Lisbon" in m.text for m in memories), [m.text for m in memories]
        assert app.engine is None  # the local model was never started (no_local_engine)
    finally:
        app.close()
