"""Forget means forget: after deleting a note and a conversation, no byte of their text
is left anywhere under the profile folder (database, WAL, backups, KV states, logs).

The canary runs twice: here on the FakeEngine (fast; its warmed prefixes are written as
state files holding the prefix text, so a missed state would show), and in
`test_forget_model.py` on the real bundled model."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from assistant.app import Reverie
from assistant.config import Settings
from assistant.llm.engine import Engine
from assistant.llm.fake import FakeEngine
from assistant.llm.prefix_cache import PrefixCache, PrefixEntry
from assistant.mind.maintenance import run_maintenance
from assistant.paths import Paths
from assistant.store.models import Anticipation, JournalEntry, Memory
from assistant.store.purge import Forgotten

CANARY = "Zqxcanary4417"


def canary_hits(folder: Path, canary: str = CANARY) -> list[str]:
    """Every file under ``folder`` holding the canary's UTF-8 bytes (as written, or
    lowercased, or uppercased)."""
    needles = {v.encode() for v in (canary, canary.lower(), canary.upper())}
    return [str(p.relative_to(folder)) for p in sorted(folder.rglob("*")) if p.is_file()
            and any(n in p.read_bytes() for n in needles)]


def kv_states_touching(kv_dir: Path, gone: Forgotten) -> list[str]:
    """Saved prefix states whose recorded sources name anything in ``gone`` (or have
    none recorded)."""
    out = []
    for meta in kv_dir.glob("*.json"):
        sources = json.loads(meta.read_text()).get("sources")
        if sources is None or gone.touches(sources):
            out.append(meta.stem)
    return out


class StateWritingEngine(FakeEngine):
    """A FakeEngine whose warmed prefixes become state files in a PrefixCache, like
    LlamaEngine's (the 'tokens' here are the prefix's UTF-8 bytes)."""

    def __init__(self, kv_dir: Path) -> None:
        super().__init__(default=self.reply)
        self.cache = PrefixCache(kv_dir)

    @staticmethod
    def reply(prompt: str) -> str:
        """Repeats the canary only when the prompt holds it (like a model would)."""
        if CANARY not in prompt:
            return " A short note.\nFacts:\n"
        if prompt.rstrip().endswith("Questions:"):
            return f" What is the code {CANARY} for?\n"
        if prompt.rstrip().endswith("Answer:"):
            return f" It is the code {CANARY}.\n"
        return f" The person keeps the code {CANARY}.\nFacts:\ncode | The locker code is {CANARY}\n"

    def warm_prefix(self, text: str) -> str:
        key = super().warm_prefix(text)
        self.cache.state_path(key).write_bytes(text.encode())
        self.cache.add(PrefixEntry(key, self.info.sha256, self.info.n_ctx, "", key,
                                   tuple(text.encode())))
        return key


@pytest.fixture
def profile(tmp_path: Path) -> Iterator[tuple[Reverie, StateWritingEngine]]:
    paths = Paths.resolve(tmp_path / "profile").ensure()
    engine = StateWritingEngine(paths.kv_dir)

    def factory(_model: Path | None, _settings: Settings, _paths: Paths) -> Engine:
        return engine

    app = Reverie.open(paths.data_dir, engine_factory=factory)
    handler = logging.FileHandler(paths.log_dir / "test-debug.log", encoding="utf-8")
    logger = logging.getLogger("assistant")
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield app, engine
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        handler.close()
        app.close()


def plant(app: Reverie) -> tuple[int, int]:
    note = app.notes.add("Cabin", f"The cabin wifi password is {CANARY}, written on the "
                         "fridge.")
    conv = app.chats.create_conversation().id or 0
    app.chats.add_message(conv, "user", f"My gym locker code is {CANARY}. Remember it.")
    app.chats.add_message(conv, "assistant", f"Noted: {CANARY}.")
    return note.id or 0, conv


def test_deleting_a_note_and_a_chat_leaves_no_byte_of_them(
        profile: tuple[Reverie, StateWritingEngine]) -> None:
    app, engine = profile
    keep = app.notes.add("Garden", "The tomatoes need water every second day.")
    note_id, conv_id = plant(app)
    report = app.sleep_runner(engine).run_session()
    assert report.stopped_because == "done"
    run_maintenance(app.db, app.paths.backups_dir)
    with app.db.session() as s:  # the canary went everywhere sleep time puts text
        kinds = {m.kind for m in s.exec(select(Memory)) if CANARY in m.text}
        assert {"fact", "summary", "digest", "profile"} <= kinds
        assert any(CANARY in a.answer for a in s.exec(select(Anticipation)))
        assert any(CANARY in str(j.details) for j in s.exec(select(JournalEntry)))
    assert engine.cache.entries() and list(app.paths.backups_dir.glob("*.db"))
    assert canary_hits(app.paths.data_dir)

    assert app.start_engine() is engine and engine.forgets_loaded == 0
    gone_note = app.forgetter().delete_note(note_id)
    gone_chat = app.forgetter().delete_conversation(conv_id)

    assert engine.forgets_loaded == 2  # the loaded model's context was emptied each time
    assert canary_hits(app.paths.data_dir) == []
    assert kv_states_touching(app.paths.kv_dir, gone_note) == []
    assert kv_states_touching(app.paths.kv_dir, gone_chat) == []
    assert gone_chat.messages and gone_note.memories and gone_chat.anticipations
    assert app.notes.get(keep.id or 0) is not None  # nothing else went
    assert app.db.integrity_check() == "ok"
    # The next session rebuilds what is left; the canary does not come back.
    assert app.sleep_runner(engine).run_session().stopped_because == "done"
    with app.db.session() as s:
        assert all(CANARY not in m.text for m in s.exec(select(Memory)))


def test_forgetting_a_memory_takes_what_was_derived_from_it(
        profile: tuple[Reverie, StateWritingEngine]) -> None:
    app, engine = profile
    plant(app)
    app.sleep_runner(engine).run_session()
    with app.db.session() as s:
        fact = next(m for m in s.exec(select(Memory).where(Memory.kind == "fact"))
                    if CANARY in m.text and "locker" in m.text)
        derived = [m.id for m in s.exec(select(Memory)) if fact.id in
                   (m.sources or {}).get("memories", [])]
    assert derived  # at least the profile block quoted it
    gone = app.forgetter().forget_memory(fact.id or 0)
    assert fact.id in gone.memories and set(derived) <= gone.memories
    with app.db.session() as s:
        assert s.get(Memory, fact.id) is None
        assert all(s.get(Memory, i) is None for i in derived)
    assert kv_states_touching(app.paths.kv_dir, gone) == []


def test_forgetting_a_missing_row_is_a_key_error(
        profile: tuple[Reverie, StateWritingEngine]) -> None:
    app, _engine = profile
    with pytest.raises(KeyError):
        app.forgetter().delete_note(12345)
    with pytest.raises(KeyError):
        app.forgetter().delete_conversation(12345)
    with pytest.raises(KeyError):
        app.forgetter().forget_memory(12345)
