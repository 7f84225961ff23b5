"""The forget canary on the real bundled model: a note and a chat holding a unique string
go through a real sleep session (memories, digests, profile, prepared answers, a saved
KV prefix state) and the nightly backup; deleting both leaves no byte of it anywhere
under the profile folder, and no saved state made from them."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from sqlmodel import select

from assistant.app import Reverie
from assistant.llm.engine import Priority
from assistant.llm.llama import LlamaEngine
from assistant.mind.maintenance import run_maintenance
from assistant.store.models import Anticipation, Memory
from tests.mind.test_forget import CANARY, canary_hits, kv_states_touching

pytestmark = pytest.mark.model


def test_the_canary_is_gone_after_a_real_session(bundled_model: Path, tmp_path: Path) -> None:
    app = Reverie.open(tmp_path / "profile")
    handler = logging.FileHandler(app.paths.log_dir / "test-debug.log", encoding="utf-8")
    logger = logging.getLogger("assistant")
    level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        app.save_settings(app.settings.replace("model", path=str(bundled_model)))
        note = app.notes.add("Cabin", f"The cabin wifi password is {CANARY}. It is written "
                             "on the fridge door.")
        conv = app.chats.create_conversation().id or 0
        app.chats.add_message(conv, "user", f"My gym locker code is {CANARY}. I use the "
                              "locker every Monday and Thursday.")
        app.chats.add_message(conv, "assistant", f"Noted: your locker code is {CANARY}.")
        engine = app.start_engine()
        assert engine.wait_ready(60)
        report = app.sleep_runner(engine).run_session()
        assert report.stopped_because == "done", report
        run_maintenance(app.db, app.paths.backups_dir)
        with app.db.session() as s:
            holders = {m.kind for m in s.exec(select(Memory)) if CANARY in m.text}
            prepared = [a.id for a in s.exec(select(Anticipation))
                        if CANARY in f"{a.question} {a.answer}"]
        assert {"fact", "summary", "profile"} <= holders, holders
        states = list(app.paths.kv_dir.glob("*.state"))
        assert states, "the answer prefix was not warmed"
        assert canary_hits(app.paths.data_dir)
        # (whether the small model repeats the code in a prepared answer varies; when it
        # does, those answers must go too)

        gone_note = app.forgetter().delete_note(note.id or 0)
        gone_chat = app.forgetter().delete_conversation(conv)

        assert canary_hits(app.paths.data_dir) == []
        # The loaded model's context is emptied behind anything queued before it.
        assert isinstance(engine, LlamaEngine)
        engine._worker.submit(Priority.FOREGROUND, lambda _job: None).result(timeout=60)
        assert engine._llm.n_tokens == 0 and not engine._llm.input_ids.any()
        assert kv_states_touching(app.paths.kv_dir, gone_note) == []
        assert kv_states_touching(app.paths.kv_dir, gone_chat) == []
        assert not any(p.exists() for p in states)  # they held the profile with the code
        assert set(prepared) <= gone_note.anticipations | gone_chat.anticipations
        assert app.db.integrity_check() == "ok"
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        handler.close()
        app.close()
