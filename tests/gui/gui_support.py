"""Helpers shared by the window tests (import as ``tests.gui.gui_support``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from assistant.app import Reverie
from assistant.config import Settings
from assistant.gui.main_window import MainWindow
from assistant.gui.models.paged import PagedModel
from assistant.llm.engine import Engine
from assistant.paths import Paths


def factory_for(engine: Engine) -> Callable[[Path, Settings, Paths], Engine]:
    def factory(_model: Path, _settings: Settings, _paths: Paths) -> Engine:
        return engine

    return factory


def open_profile(data_dir: Path, engine: Engine) -> Reverie:
    """A profile like the ``app`` fixture's: ``engine`` instead of a real model file."""
    reverie = Reverie.open(data_dir, engine_factory=factory_for(engine))
    reverie.settings = reverie.settings.replace("model", path=str(data_dir / "fake.gguf"))
    return reverie


def type_and_send(qtbot: QtBot, window: MainWindow, text: str) -> None:
    box = window.chat.composer.input
    box.setFocus()
    qtbot.keyClicks(box, text)
    qtbot.keyClick(box, Qt.Key.Key_Return)


def wait_idle(qtbot: QtBot, window: MainWindow, timeout: int = 5000) -> None:
    """The answer is done and the conversation list has loaded what changed."""
    qtbot.waitUntil(lambda: not window.answering, timeout=timeout)
    wait_loaded(qtbot, window.sidebar.model, timeout)


def wait_loaded(qtbot: QtBot, model: PagedModel[Any], timeout: int = 5000) -> None:
    """A list model has shown the result of its latest query (it loads off the GUI
    thread)."""
    qtbot.waitUntil(lambda: not model.busy, timeout=timeout)


# -- real rows, written through the repositories --------------------------------------
def seed_memories(app: Reverie) -> dict[str, int]:
    """A superseded fact, its newer pinned version (with message and note sources), a
    summary and a profile block; returns their ids by name."""
    from assistant.store.memories import MemoryRepository
    from assistant.store.models import Memory

    conv = app.chats.create_conversation("Family things")
    said = app.chats.add_message(conv.id or 0, "user", "My sister Ana's birthday is 14 May.")
    note = app.notes.add("Gift ideas", "Ana: a heron print from the market.")
    memories = MemoryRepository(app.db)
    old = memories.add(Memory(kind="fact", subject="Ana's birthday",
                              text="Ana's birthday is on 12 May.",
                              sources={"messages": [said.id or 0]}))
    new = memories.add(Memory(kind="fact", subject="Ana's birthday", pinned=True,
                              text="Ana's birthday is on 14 May; she likes herons.",
                              sources={"messages": [said.id or 0], "notes": [note.id or 0]}))
    with app.db.write() as s:
        row = s.get(Memory, old.id)
        assert row is not None
        row.superseded_by = new.id
        s.add(row)
    summary = memories.add(Memory(kind="summary", scope="conversation", subject="Lisbon trip",
                                  text="Planning four days in Lisbon in June."))
    profile = memories.add(Memory(kind="profile", subject="About you",
                                  text="Works night shifts; keeps a birdwatching log."))
    return {"old": old.id or 0, "new": new.id or 0, "summary": summary.id or 0,
            "profile": profile.id or 0, "message": said.id or 0, "note": note.id or 0,
            "conversation": conv.id or 0}


def seed_anticipations(app: Reverie) -> dict[str, int]:
    from assistant.store.anticipations import AnticipationRepository
    from assistant.store.models import Anticipation

    conv = app.chats.create_conversation("Dentist")
    said = app.chats.add_message(conv.id or 0, "user", "Dentist on Tuesday at 10:30.")
    repo = AnticipationRepository(app.db)
    ready = repo.add(Anticipation(question="When is my dentist appointment?",
                                  answer="Tuesday at 10:30.", predictability=0.82,
                                  sources={"messages": [said.id or 0]}, prompt_tokens=400,
                                  completion_tokens=20, seconds=3.0))
    stale = repo.add(Anticipation(question="What is on the grocery list?", answer="Oats.",
                                  predictability=0.41, status="stale", seconds=2.0))
    used = repo.add(Anticipation(question="Which hotel in Lisbon?", answer="Casa do Barão.",
                                 predictability=0.6, status="used", hits=2, seconds=4.0))
    return {"ready": ready.id or 0, "stale": stale.id or 0, "used": used.id or 0,
            "conversation": conv.id or 0, "message": said.id or 0}


def seed_sessions(app: Reverie) -> list[int]:
    """Two finished sleep sessions with journal entries (today and yesterday, local days,
    whatever the time of day the test runs at: just after midnight, "30 minutes ago" would
    be yesterday)."""
    from datetime import datetime, timedelta

    from assistant.mind.journal import add_entry
    from assistant.store.models import SleepSession, utcnow

    now = utcnow()
    midnight = datetime.now().astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
    today_start = max(now - timedelta(minutes=30), midnight)
    ids = []
    with app.db.write() as s:
        for days, why in ((1, "budget"), (0, "user_returned")):
            start = today_start - timedelta(days=days)
            row = SleepSession(started_at=start, ended_at=start + timedelta(minutes=6),
                               stopped_because=why, items_done=2, prompt_tokens=1500,
                               completion_tokens=200)
            s.add(row)
            s.flush()
            add_entry(s, row.id, "item_done", f"Summarized “Lisbon trip” (day {days})",
                      {"memories_added": 1, "prompt_tokens": 700, "completion_tokens": 90})
            add_entry(s, row.id, "item_done", "Prepared an answer: “When is the dentist?”",
                      {"anticipations_made": 1})
            ids.append(row.id or 0)
    return ids
