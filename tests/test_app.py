"""The composition root: repositories and services are built lazily, once."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from assistant.app import Reverie

LIST_MEMORIES = """
import json, sys
from assistant.app import Reverie
app = Reverie.open(sys.argv[1])
rows = app.memories.list()
app.close()
heavy = [name for name in ("llama_cpp", "assistant.llm.llama", "assistant.recall.responder")
         if name in sys.modules]
print(json.dumps({"memories": len(rows), "heavy": heavy}))
"""


def test_listing_memories_does_not_import_the_model_layer(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", LIST_MEMORIES, str(tmp_path / "profile")],
                          capture_output=True, text=True, timeout=120, check=True,
                          cwd=Path(__file__).resolve().parents[1])
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result == {"memories": 0, "heavy": []}


def test_repositories_are_made_once_and_share_the_database(tmp_path: Path) -> None:
    app = Reverie.open(tmp_path / "profile")
    try:
        assert app.memories is app.memories
        assert app.chats is app.chats and app.notes is app.notes
        assert app.journal is app.journal and app.agenda is app.agenda
        conv = app.chats.create_conversation("Plans")
        app.chats.add_message(conv.id or 0, "user", "Lunch with Ana on Friday.")
        assert app.chats.count_messages() == 1
        assert app.anticipations.count_ready() == 0
        assert app.model_library().models_dir == app.paths.models_dir
    finally:
        app.close()


def test_think_now_budget_is_what_is_left_today(tmp_path: Path) -> None:
    app = Reverie.open(tmp_path / "profile")
    try:
        app.settings = app.settings.replace("thinking", daily_budget_minutes=30)
        assert app.think_now_budget() == 30 * 60  # nothing spent yet
    finally:
        app.close()
