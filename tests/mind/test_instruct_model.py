"""The chat-template path on a real instruct model (SmolLM2-135M-Instruct).

The bundled Gemma is a base model and takes the completion prompts; every prompt also
has a chat form (`resources/prompts/*_system.txt`) for instruct models. Here a real
instruct GGUF drives them all: consolidation, anticipation and answering, through one
sleep session and one question, in a throw-away profile.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from assistant.app import Reverie
from assistant.config import Settings
from assistant.llm.engine import Engine, PromptStyle
from assistant.llm.llama import LlamaEngine
from assistant.paths import Paths
from assistant.store.anticipations import AnticipationRepository
from assistant.store.memories import MemoryRepository

pytestmark = [pytest.mark.model, pytest.mark.timeout(1500)]

SAID = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)


@pytest.fixture
def instruct_app(tmp_path: Path, instruct_model: Path) -> Iterator[tuple[Reverie, Engine]]:
    engines: list[Engine] = []

    def factory(model: Path | None, settings: Settings, _paths: Paths) -> Engine:
        assert model is not None
        # One thread: on a busy shared machine two threads spin at each barrier.
        engines.append(LlamaEngine(model, n_ctx=2048, n_threads=1))
        return engines[-1]

    app = Reverie.open(tmp_path / "profile", engine_factory=factory)
    settings = app.settings.replace("model", path=str(instruct_model), max_answer_tokens=60)
    app.save_settings(settings.replace("thinking", anticipation_samples=1))
    engine = app.start_engine()
    assert engine.wait_ready(60), engine.load_error
    yield app, engine
    app.close()
    for made in engines:
        made.close()


def test_chat_prompts_through_sleep_and_answer(instruct_app: tuple[Reverie, Engine]) -> None:
    app, engine = instruct_app
    assert engine.info.prompt_style is PromptStyle.CHAT  # the GGUF has a chat template
    conv = app.chats.create_conversation("Dentist").id or 0
    app.chats.add_message(conv, "user", "My dentist appointment with Dr. Okafor is on "
                          "Tuesday 24 November at 10:30.", created_at=SAID)
    app.chats.add_message(conv, "assistant", "Noted: Dr. Okafor, Tuesday 24 November, "
                          "10:30.", created_at=SAID)
    prepared_repo = AnticipationRepository(app.db)
    # Consolidation comes first, then anticipation: stop once an answer is prepared.
    report = app.sleep_runner(engine).run_session(
        budget_seconds=1300, should_stop=lambda: prepared_repo.count_ready() > 0)
    assert report.stopped_because in ("done", "user_returned"), report.stopped_because
    facts = MemoryRepository(app.db).list(kind="fact")
    dentist = [f for f in facts if "Okafor" in f.text]
    assert dentist, [f.text for f in facts]
    assert all(f.said_at is not None and f.said_at.date() == SAID.date() for f in dentist)
    assert not any(f.text.startswith(("My ", "I ")) for f in facts)  # told of "you"
    prepared = prepared_repo.all()
    assert prepared and all(a.question.strip() and a.answer.strip() for a in prepared)
    ask = app.chats.create_conversation("ask").id or 0
    responder = app.responder(engine)
    responder.answer_styles = dict.fromkeys(("time", "place", "person", "amount",
                                             "yes-no", "other"), "generated")
    answer = responder.ask("When is my dentist appointment?", ask, mode="memory",
                           today=date(2026, 11, 22))
    assert answer.source == "generated" and answer.mode == "memory"
    assert answer.answer.strip() and answer.prompt_tokens > 0
    assert not answer.answer.lower().startswith(("reverie:", "user:", '"'))
