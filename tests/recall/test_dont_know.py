"""'I don't know.' on the benchmark fixtures: questions with no answer in the data
(``answerable: false``) are refused without generating, answerable ones rarely are.

Measured on profiles with each fixture's chats and notes imported (no sleep), memory
mode, FakeEngine (the decision is made before any generation). On both fixtures
together: idk_accuracy 5/12 = 0.42, idk_false_rate 8/115 = 0.07.
See docs/ARCHITECTURE.md, "Query flow"."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from assistant.app import Reverie
from assistant.llm.fake import FakeEngine
from assistant.resources import resource
from assistant.store.importers import import_chats, import_notes
from assistant.text.answers import DONT_KNOW


def refusals(folder: Path, data_dir: Path) -> tuple[list[bool], list[bool]]:
    """(refused?) for each unanswerable question, and for each answerable one."""
    data = json.loads((folder / "questions.json").read_text(encoding="utf-8"))
    engine = FakeEngine(default="An answer.")
    app = Reverie.open(data_dir, engine_factory=lambda *_: engine)
    try:
        import_chats(folder / "chats.jsonl", app.chats)
        import_notes(folder / "notes", app.notes)
        today = datetime.fromisoformat(data["now"]).date()
        responder = app.responder(engine)
        unanswerable: list[bool] = []
        answerable: list[bool] = []
        for q in data["questions"]:
            conv = app.chats.create_conversation("bench").id or 0
            answer = responder.ask(q["question"], conv, mode="memory", today=today)
            refused = answer.answer == DONT_KNOW
            if refused:
                assert answer.completion_tokens == 0 and answer.prompt_tokens == 0
            (answerable if q.get("answerable", True) else unanswerable).append(refused)
            app.chats.delete(conv)
    finally:
        app.close()
    return unanswerable, answerable


def test_unanswerable_questions_are_refused_and_answerable_ones_rarely(
        tmp_path: Path) -> None:
    unanswerable: list[bool] = []
    answerable: list[bool] = []
    for name in ("", "two_people"):
        folder = resource("bench") / name if name else resource("bench")
        u, a = refusals(folder, tmp_path / (name or "default"))
        unanswerable += u
        answerable += a
    idk_accuracy = sum(unanswerable) / len(unanswerable)
    idk_false_rate = sum(answerable) / len(answerable)
    print(f"idk_accuracy {sum(unanswerable)}/{len(unanswerable)} = {idk_accuracy:.2f}, "
          f"idk_false_rate {sum(answerable)}/{len(answerable)} = {idk_false_rate:.2f}")
    assert len(unanswerable) >= 10
    assert idk_false_rate <= 0.1
    assert idk_accuracy >= 0.4


@pytest.mark.parametrize(("question", "snippets", "expected"), [
    ("What is Owen's blood type?", ["Owen starts at the new school in May."], False),
    ("What is Owen's blood type?", ["Owen's blood type is O negative."], True),
    ("When is my dentist appointment?", ["Dentist on Tuesday at 10:30."], True),
    ("When is my dentist appointment?", ["Anna likes orchids."], False),
    ("What?", [], True),  # no meaning word: nothing to judge by
])
def test_has_evidence(question: str, snippets: list[str], expected: bool) -> None:
    from assistant.recall.responder import has_evidence

    assert has_evidence(question, snippets) is expected
