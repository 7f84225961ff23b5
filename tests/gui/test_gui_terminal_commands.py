"""A question asked from a terminal while the window runs shows in the window
(gui.single_instance.TerminalCommands over the command socket)."""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from assistant.app import Reverie
from assistant.cli.remote import RemoteCommands
from assistant.gui.main_window import MainWindow
from assistant.gui.single_instance import TerminalCommands
from assistant.ipc.client import send_command


@pytest.fixture
def runtime_dir(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="rv-", dir="/tmp"))
    folder.chmod(0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(folder))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_a_question_from_the_terminal_appears_in_the_window(
        runtime_dir: Path, app: Reverie, window: MainWindow, qtbot: QtBot) -> None:
    terminal = TerminalCommands(app.paths.data_dir, RemoteCommands())
    assert terminal.start() and terminal.server is not None
    terminal.attach(app)
    terminal.show_in(window)
    refreshed_on: list[str] = []
    refresh = window.conversations.refresh_conversations

    def recording_refresh(**kw: bool) -> None:
        refreshed_on.append(threading.current_thread().name)
        refresh(**kw)

    window.conversations.refresh_conversations = recording_refresh  # type: ignore[method-assign]
    codes: list[int | None] = []
    done = threading.Event()

    def ask() -> None:
        codes.append(send_command(terminal.server.path if terminal.server else None, "ask",
                                  ["ask", "What is the capital of France?"]))
        done.set()

    try:
        with qtbot.waitSignal(terminal.finished, timeout=20000):
            threading.Thread(target=ask, name="terminal", daemon=True).start()
        assert done.wait(20) and codes == [0]
        qtbot.waitUntil(lambda: any(t.startswith("Asked: What is the capital of France")
                                    for t in window.sidebar.titles()), timeout=5000)
        assert refreshed_on and set(refreshed_on) == {"MainThread"}
    finally:
        terminal.close()
