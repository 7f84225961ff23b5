"""``reverie ask``: each question its own conversation unless ``--continue``, and an
earlier, unrelated question never changes an answer.

See docs/ARCHITECTURE.md, "Command line"."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from assistant import cli
from assistant.app import Reverie
from assistant.llm.fake import FakeEngine
from assistant.recall import extractive

Capsys = pytest.CaptureFixture[str]

#: The first answer mentions the dentist: were it evidence for the second question, the
#: second prompt would quote it.
RULES = [("When is my dentist appointment?", "On Tuesday at 10:30."),
         ("When is Anna's birthday?", "Anna's birthday is the day after the dentist visit."),
         ("dentist", "On Tuesday at 10:30.")]


def profile(data_dir: Path) -> Path:
    """A profile with two notes, the person's own data."""
    app = Reverie.open(data_dir)
    app.notes.add("dentist", "Dentist appointment with Dr. Okafor on Tuesday at 10:30.")
    app.notes.add("Anna", "Anna's birthday is on 3 December; she likes orchids.")
    app.close()
    return data_dir


@pytest.fixture
def engine(monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
    fake = FakeEngine(rules=RULES)
    monkeypatch.setattr(Reverie, "start_engine", lambda self, progress=None: fake)
    # These tests read the prompts: every kind of question is answered by the model.
    monkeypatch.setattr(extractive, "committed_styles",
                        lambda: dict.fromkeys(extractive.KINDS, extractive.GENERATED))
    return fake


def ask(capsys: Capsys, data_dir: Path, question: str, *options: str) -> dict[str, Any]:
    assert cli.main(["--data-dir", str(data_dir), "ask", question, "--json", *options]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


@pytest.mark.parametrize("mode", ["memory", "full-context", "auto"])
def test_an_unrelated_earlier_question_never_changes_the_prompt(
        tmp_path: Path, capsys: Capsys, engine: FakeEngine, mode: str) -> None:
    alone, after = profile(tmp_path / "alone"), tmp_path / "after"
    shutil.copytree(alone, after)
    ask(capsys, alone, "When is my dentist appointment?", "--mode", mode)
    prompt_alone = engine.prompts[-1]

    first = ask(capsys, after, "When is Anna's birthday?", "--mode", mode)
    assert "dentist" in first["answer"]
    second = ask(capsys, after, "When is my dentist appointment?", "--mode", mode)
    prompt = engine.prompts[-1]
    assert "When is Anna's birthday?" not in prompt and "dentist visit" not in prompt
    assert prompt == prompt_alone
    assert second["answer"] == "On Tuesday at 10:30."
    assert second["conversation_id"] != first["conversation_id"]


def test_continue_carries_on_the_last_command_line_conversation(
        tmp_path: Path, capsys: Capsys, engine: FakeEngine) -> None:
    data_dir = profile(tmp_path / "p")
    first = ask(capsys, data_dir, "When is Anna's birthday?")
    other = ask(capsys, data_dir, "When is my dentist appointment?")
    follow = ask(capsys, data_dir, "And what does she like?", "-c")
    assert follow["conversation_id"] == other["conversation_id"] != first["conversation_id"]
    prompt = engine.prompts[-1]
    assert "User: When is my dentist appointment?\nReverie: On Tuesday at 10:30." in prompt
    assert "When is Anna's birthday?" not in prompt
    again = ask(capsys, data_dir, "And the doctor's name?", "--continue")
    assert again["conversation_id"] == other["conversation_id"]
    app = Reverie.open(data_dir)
    try:
        said = [m.content for m in app.chats.messages(other["conversation_id"])]
    finally:
        app.close()
    assert said[0::2] == ["When is my dentist appointment?", "And what does she like?",
                          "And the doctor's name?"]


def test_continue_with_nothing_to_continue_starts_a_conversation(
        tmp_path: Path, capsys: Capsys, engine: FakeEngine) -> None:
    data_dir = profile(tmp_path / "p")
    assert cli.main(["--data-dir", str(data_dir), "ask", "-c", "When is my dentist "
                     "appointment?"]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == "On Tuesday at 10:30."
    assert "no earlier question to continue" in err


def test_a_question_the_memory_has_nothing_on_is_not_guessed(
        tmp_path: Path, capsys: Capsys, engine: FakeEngine) -> None:
    data_dir = profile(tmp_path / "p")
    generated = len(engine.prompts)
    data = ask(capsys, data_dir, "What is Owen's blood type?", "--mode", "memory")
    assert data["answer"] == "I don't know."
    assert data["completion_tokens"] == 0 and len(engine.prompts) == generated
    assert ask(capsys, data_dir, "Who is my dentist?")["answer"] == "On Tuesday at 10:30."


@pytest.mark.model
def test_on_the_real_model_an_earlier_question_changes_nothing(
        tmp_path: Path, capsys: Capsys, bundled_model: Path) -> None:
    settings = (f'[model]\npath = {json.dumps(str(bundled_model))}\nn_ctx = 1024\n'
                "max_answer_tokens = 24\ntemperature = 0.0\n")
    alone, after = profile(tmp_path / "alone"), tmp_path / "after"
    (alone / "settings.toml").write_text(settings, encoding="utf-8")
    shutil.copytree(alone, after)
    question = "When is my dentist appointment?"
    by_itself = ask(capsys, alone, question, "--mode", "memory")
    ask(capsys, after, "When is Anna's birthday?", "--mode", "memory")
    second = ask(capsys, after, question, "--mode", "memory")
    assert second["answer"] == by_itself["answer"] and second["answer"]
    assert second["prompt_tokens"] == by_itself["prompt_tokens"]


def test_two_continues_at_once_keep_their_turns_in_pairs(
        tmp_path: Path, capsys: Capsys, engine: FakeEngine) -> None:
    """Two `ask -c` at the same moment: one waits for the other, so the conversation
    reads question, answer, question, answer (it had read question, question, answer,
    answer, and broke every later --continue). The test holds the lock first, so both
    are sure to meet it, however slow the machine."""
    import threading

    from assistant.paths import Paths
    from assistant.profile_lock import ProfileLock

    data_dir = profile(tmp_path / "p")
    first = ask(capsys, data_dir, "When is my dentist appointment?")
    engine.token_delay = 0.05
    codes: list[int] = []

    def follow(question: str) -> None:
        codes.append(cli.main(["--data-dir", str(data_dir), "ask", question, "-c",
                               "--mode", "memory"]))

    held = ProfileLock(Paths.resolve(data_dir).continue_lock_file)
    held.acquire()
    threads = [threading.Thread(target=follow, args=(q,))
               for q in ("And the doctor's name?", "And what time?")]
    for thread in threads:
        thread.start()
    threading.Event().wait(1.0)
    assert all(thread.is_alive() for thread in threads)  # both wait for the lock
    app = Reverie.open(data_dir)
    try:
        assert len(app.chats.messages(first["conversation_id"])) == 2  # nothing added
    finally:
        app.close()
    held.release()
    for thread in threads:
        thread.join(60)
    assert codes == [0, 0]
    app = Reverie.open(data_dir)
    try:
        roles = [m.role for m in app.chats.messages(first["conversation_id"])]
    finally:
        app.close()
    assert roles == ["user", "assistant"] * 3
    assert "waiting for the other question" in capsys.readouterr().err
