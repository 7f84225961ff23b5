"""Corrections win on the real bundled model, through a real sleep session.

A few patterns of the corrections fixture (a time, an amount, an "actually ... instead",
a cancellation and a chain of two corrections) are imported as dated messages, each with
a prepared answer made from its first message (quoting the old value). The session runs
until every message is consolidated (anticipating on top would take minutes on a busy
machine): the bundled model extracts facts, the rules reconcile. Afterwards the old
values are superseded, the new ones current, and no ready prepared answer quotes a
superseded value.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import select

from assistant.app import Reverie
from assistant.store.models import Anticipation, Memory, Message
from tests.mind.corrections_support import load, patterns, says, verdict

pytestmark = pytest.mark.model

CHOSEN = (1, 7, 12, 15, 24)


def test_corrections_win_in_a_real_sleep_session(bundled_model: Path, tmp_path: Path) -> None:
    app = Reverie.open(tmp_path / "profile")
    try:
        app.save_settings(app.settings.replace("model", path=str(bundled_model)))
        chosen = [p for p in patterns() if p["id"] in CHOSEN]
        for p in chosen:
            load(app, p)
        with app.db.write() as s:
            for p in chosen:
                first = s.exec(select(Message).where(
                    Message.content == p["messages"][0]["content"])).one()
                s.add(Anticipation(question=p["question"], answer=p["old"][0],
                                   sources={"messages": [first.id or 0]}))

        def consolidated() -> bool:
            with app.db.session() as s:
                return all(m.consolidated_at is not None for m in s.exec(select(Message)))

        engine = app.start_engine()
        assert engine.wait_ready()
        report = app.sleep_runner(engine).run_session(should_stop=consolidated)
        assert consolidated(), report
        assert report.counters.memories_superseded >= len(chosen)
        with app.db.session() as s:
            by_text = {m.content: m.id or 0 for m in s.exec(select(Message))}
            facts = list(s.exec(select(Memory).where(Memory.kind == "fact")))
            ready = [a for a in s.exec(select(Anticipation)) if a.status == "ready"]
        failures = {}
        for p in chosen:
            ids = {by_text[m["content"]] for m in p["messages"]}
            mine = [f for f in facts if set((f.sources or {}).get("messages", [])) & ids]
            ok, why = verdict(mine, p)
            if not ok:
                failures[p["id"]] = why
            for a in ready:
                quoted = [o for o in p["old"] if says(a.answer, o)]
                assert not quoted or any(says(a.answer, n) for n in [p["new"], *p["accept"]]
                                         ), (p["id"], a.question, a.answer)
        assert not failures, failures
    finally:
        app.close()
