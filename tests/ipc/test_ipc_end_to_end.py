"""A real ``python -m assistant`` process against a running Reverie (the command server
over an app.Reverie on the FakeEngine, in this process): streamed output, the exchange
in the database, exit codes, relative paths, Ctrl-C cancelling the generation."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from assistant.app import Reverie
from assistant.cli.remote import RemoteCommands
from assistant.config import Settings
from assistant.ipc.address import socket_path
from assistant.ipc.server import CommandServer
from assistant.llm.engine import Engine
from assistant.llm.fake import FakeEngine
from assistant.paths import Paths

REPO = Path(__file__).resolve().parents[2]
PARIS = "The capital of France is Paris, on the Seine, and it has been for centuries."
LONG = " ".join(f"word{i}" for i in range(3000))


@dataclass
class Running:
    app: Reverie
    engine: FakeEngine
    server: CommandServer
    finished: list[tuple[str, int]] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)


@pytest.fixture
def running(runtime_dir: Path, data_dir: Path) -> Iterator[Running]:
    engine = FakeEngine(rules=[("capital of France", PARIS)], default=LONG,
                        token_delay=0.01)

    def factory(_model: Path | None, _settings: Settings, _paths: Paths) -> Engine:
        return engine

    app = Reverie.open(data_dir, engine_factory=factory)
    app.settings = app.settings.replace("model", path=str(data_dir / "fake.gguf"))
    handler = RemoteCommands()
    handler.attach(app)
    path = socket_path(app.paths.data_dir, create=True)
    assert path is not None
    state: Running

    def on_finished(request: dict[str, Any], code: int) -> None:
        state.finished.append((str(request["cmd"]), code))
        state.done.set()

    server = CommandServer(path, handler, on_finished=on_finished)
    state = Running(app, engine, server)
    assert server.start()
    yield state
    server.close()
    handler.close()
    app.close()


def reverie(data_dir: Path, *argv: str, cwd: Path = REPO) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "assistant", "--data-dir", str(data_dir),
                             *argv], cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def test_ask_streams_from_the_running_app_and_lands_in_its_database(
        running: Running, data_dir: Path) -> None:
    proc = reverie(data_dir, "ask", "What is the capital of France?")
    assert proc.stdout is not None
    first = proc.stdout.read1(4096)  # the first token, while the answer still streams
    assert first and PARIS.startswith(first.decode().rstrip())
    assert proc.poll() is None
    rest, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert (first + rest).decode() == PARIS + "\n"
    assert running.engine.prompts, "the app's engine answered"
    messages = running.app.chats.all_messages()
    assert [(m.role, m.content) for m in messages] == [
        ("user", "What is the capital of France?"), ("assistant", PARIS)]
    assert running.done.wait(10) and running.finished == [("ask", 0)]


def test_bad_input_exits_2_with_one_sentence(running: Running, data_dir: Path) -> None:
    proc = reverie(data_dir, "ask", "   ")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2 and out == b""
    assert err.decode().strip() == "reverie: The question is empty; type a question in quotes."
    assert running.done.wait(10) and running.finished == [("ask", 2)]


def test_a_relative_file_means_the_terminals_folder(running: Running, data_dir: Path,
                                                    tmp_path: Path) -> None:
    folder = tmp_path / "here"
    folder.mkdir()
    (folder / "plan.txt").write_text("Water the tomatoes on Sunday.", encoding="utf-8")
    proc = reverie(data_dir, "note", "add", "--file", "plan.txt", cwd=folder)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out.decode().startswith("Added note ")
    assert [n.body for n in running.app.notes.all()] == ["Water the tomatoes on Sunday."]


def test_ctrl_c_cancels_the_generation_in_the_app(running: Running, data_dir: Path) -> None:
    proc = reverie(data_dir, "ask", "Tell me everything.")
    assert proc.stdout is not None
    assert proc.stdout.read1(4096)  # generating: 3000 words would take 30 s
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Interrupted." in err.decode()
    assert running.done.wait(10) and running.finished == [("ask", 130)]
    said = [m.content for m in running.app.chats.all_messages() if m.role == "assistant"]
    assert len(said) == 1 and 0 < len(said[0].split()) < 3000


def test_without_a_running_app_the_command_runs_on_its_own(runtime_dir: Path,
                                                           data_dir: Path) -> None:
    proc = reverie(data_dir, "note", "add", "standalone note")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert out.decode().startswith("Added note 1")


@pytest.mark.model
def test_the_real_engine_streams_to_the_terminal_not_to_the_apps_stdout(
        runtime_dir: Path, data_dir: Path, bundled_model: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The real engine calls back on its own thread: the tokens must still reach the
    client that asked (cmd_ask holds on to `command_stdout`)."""
    import io

    from assistant.ipc.client import send_command

    app = Reverie.open(data_dir)
    app.settings = app.settings.replace("model", path=str(bundled_model),
                                        max_answer_tokens=16, temperature=0.0)
    handler = RemoteCommands()
    handler.attach(app)
    server = CommandServer(socket_path(app.paths.data_dir, create=True) or Path(), handler)
    assert server.start()
    try:
        out, err = io.StringIO(), io.StringIO()
        code = send_command(server.path, "ask", ["ask", "What is the capital of France?"],
                            stdout=out, stderr=err)
    finally:
        server.close()
        handler.close()
    said = [m.content for m in app.chats.all_messages() if m.role == "assistant"]
    app.close()
    assert code == 0, err.getvalue()
    assert said and out.getvalue() == said[0] + "\n"
    assert said[0] not in capsys.readouterr().out
