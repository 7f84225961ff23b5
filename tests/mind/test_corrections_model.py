"""Corrections win in the answers too: each question of the corrections fixture, asked
on the real bundled model after the fixture was slept on, never quotes a value that was
corrected later (unless it gives the new one with it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.app import Reverie
from assistant.llm.llama import LlamaEngine
from assistant.recall.responder import COMMAND_LINE_KEY
from tests.mind.corrections_support import patterns, says
from tests.mind.test_corrections import run_fixture


@pytest.mark.model
def test_no_answer_quotes_a_corrected_value(app: Reverie, bundled_model: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    run_fixture(app)  # real extraction and reconciliation; every pattern passes there
    app.settings = app.settings.replace("model", temperature=0.0)
    engine = LlamaEngine(bundled_model, n_ctx=app.settings.model.n_ctx, n_threads=2)
    try:
        assert engine.wait_ready(60)
        responder = app.responder(engine)
        stale: dict[int, str] = {}
        right = 0
        for n, p in enumerate(patterns()):
            conv = app.chats.create_conversation(
                "", import_key=f"{COMMAND_LINE_KEY}:{n}").id or 0
            answer = responder.ask(p["question"], conv, mode="auto").answer
            new = [p["new"], *p["accept"]]
            gives_new = any(says(answer, v) for v in new)
            right += gives_new
            if any(says(answer, old) for old in p["old"]) and not gives_new:
                stale[p["id"]] = answer
    finally:
        engine.close()
    with capsys.disabled():
        print(f"\ncorrections answered with the new value: {right}/{len(patterns())}; "
              f"quoting an old one: {stale}")
    assert stale == {}
