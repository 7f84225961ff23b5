"""Fixtures shared by every test package.

``app`` is a Reverie profile in a temporary folder wired to the deterministic
FakeEngine; ``bundled_model`` is the real Gemma 3 270M GGUF, assembled once per test
session (about a second), for the tests that must run on the real model.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from assistant.app import Reverie
from assistant.config import Settings
from assistant.llm.engine import Engine
from assistant.llm.fake import FakeEngine
from assistant.paths import Paths
from assistant.store.chats import ChatRepository
from assistant.store.db import Database
from assistant.store.notes import NoteRepository


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory,
                   monkeypatch: pytest.MonkeyPatch) -> None:
    """No test ever touches the real profile of the person running the tests."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local/share"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local/state"))
    monkeypatch.delenv("REVERIE_HOME", raising=False)


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    """``cli.main`` attaches a log file to the ``assistant`` logger once per process;
    detach it after each test so the next test's profile gets its own."""
    logger = logging.getLogger("assistant")
    level = logger.level
    yield
    for handler in [h for h in logger.handlers if getattr(h, "_reverie", False)]:
        logger.removeHandler(handler)
        handler.close()
    logger.setLevel(level)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "profile"


@pytest.fixture
def fake_engine() -> FakeEngine:
    return FakeEngine(rules=[("capital of France", "The capital of France is Paris.")])


@pytest.fixture
def app(data_dir: Path, fake_engine: FakeEngine) -> Iterator[Reverie]:
    def factory(_model: Path | None, _settings: Settings, _paths: Paths) -> Engine:
        return fake_engine

    reverie = Reverie.open(data_dir, engine_factory=factory)
    reverie.settings = reverie.settings.replace("model", path=str(data_dir / "fake.gguf"))
    yield reverie
    reverie.close()


@pytest.fixture(scope="session")
def bundled_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real bundled GGUF, assembled once per test session."""
    from assistant.llm.bundled import ensure_bundled_model

    cached = os.environ.get("REVERIE_TEST_MODEL")
    if cached and Path(cached).is_file():
        return Path(cached)
    return ensure_bundled_model(tmp_path_factory.mktemp("models"))


FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fixtures() -> Path:
    """The folder of small sample files (chat exports, a notes folder)."""
    return FIXTURES


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    """A freshly migrated database in a temporary folder."""
    database = Database.open(tmp_path / "reverie.db", tmp_path / "backups")
    yield database
    database.close()


@pytest.fixture
def chats(db: Database) -> ChatRepository:
    return ChatRepository(db)


@pytest.fixture
def notes(db: Database) -> NoteRepository:
    return NoteRepository(db)


def _clients_refused(display: str, threads: int = 3, each: int = 40) -> list[str]:
    """Connect and leave ``threads * each`` times at once; what the refused clients said.

    Without ``-noreset`` Xvfb resets whenever its last client leaves and refuses whoever
    connects meanwhile: this refused a few of 120 clients every time it was tried.
    """
    env = {**os.environ, "DISPLAY": display}
    refused: list[str] = []

    def connect() -> None:
        for _ in range(each):
            proc = subprocess.run(["xdpyinfo"], env=env, capture_output=True, check=False)
            if proc.returncode:
                refused.append(proc.stderr.decode(errors="replace").strip())

    workers = [threading.Thread(target=connect) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return refused


@pytest.fixture
def clients_refused() -> Callable[[str], list[str]]:
    """Many short X clients on a display; the errors of those it refused (skip without
    Xvfb or xdpyinfo)."""
    missing = [tool for tool in ("Xvfb", "xdpyinfo") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {' and '.join(missing)} (apt-get install xvfb x11-utils)")
    return _clients_refused
