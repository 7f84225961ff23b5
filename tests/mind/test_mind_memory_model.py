"""Acceptance on the real bundled model: the fixture slept on once per module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from assistant.app import Reverie
from assistant.bench.recall import fixture_dir
from assistant.mind.runner import SessionReport
from assistant.store.importers import import_chats, import_notes
from assistant.store.memories import MemoryRepository
from assistant.store.models import Anticipation, Memory, Message

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def slept(bundled_model: Path, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[tuple[Reverie, SessionReport]]:
    app = Reverie.open(tmp_path_factory.mktemp("slept"))
    app.save_settings(app.settings.replace("model", path=str(bundled_model)))
    import_chats(fixture_dir() / "chats.jsonl", app.chats)
    import_notes(fixture_dir() / "notes", app.notes)
    engine = app.start_engine()
    assert engine.wait_ready()
    report = app.sleep_runner(engine).run_session()
    yield app, report
    app.close()


def test_memories_with_sources_and_a_bounded_profile(slept: tuple[Reverie, SessionReport]
                                                     ) -> None:
    app, report = slept
    assert report.stopped_because == "done" and report.items_failed == 0
    repo = MemoryRepository(app.db)
    facts = repo.list(kind="fact")
    assert len(facts) >= 20
    assert all(f.text.strip() and (f.sources.get("messages") or f.sources.get("notes"))
               for f in facts)
    assert len({f.text for f in facts}) == len(facts)
    with app.db.session() as s:
        messages = list(s.exec(select(Message)))
    assert all(m.consolidated_at is not None for m in messages)
    cited = {i for f in facts for i in f.sources.get("messages", [])}
    assert cited <= {m.id for m in messages}
    assert repo.list(kind="summary") and {d.scope for d in repo.list(kind="digest")} == {
        "day", "week"}
    profile = repo.list(kind="profile")
    assert len(profile) == 1 and profile[0].text.strip()
    engine = app.engine
    assert engine is not None
    assert engine.count_tokens(profile[0].text) <= app.settings.memory.profile_tokens
    assert report.counters.memories_added >= len(facts)


def test_a_second_sleep_does_no_work(slept: tuple[Reverie, SessionReport]) -> None:
    app, _ = slept
    assert app.engine is not None
    again = app.sleep_runner(app.engine).run_session()
    assert (again.items_done, again.usage.prompt_tokens, again.usage.completion_tokens) == (
        0, 0, 0)


def test_editing_a_note_redigests_only_that_note(slept: tuple[Reverie, SessionReport]
                                                 ) -> None:
    app, _ = slept
    assert app.engine is not None
    notes = {n.title: n for n in app.notes.all()}
    home, heron = notes["Home"], notes["Heron project"]
    repo = MemoryRepository(app.db)

    def of_note(note_id: int | None) -> list[Memory]:
        return [m for m in repo.list() if m.sources.get("notes") == [note_id]]

    home_before, heron_before = of_note(home.id), of_note(heron.id)
    assert home_before and heron_before
    with app.db.write() as s:
        s.add(Anticipation(question="plumber?", answer="Marc Petit",
                           sources={"memories": [m.id or 0 for m in home_before]}))
        s.add(Anticipation(question="deadline?", answer="30 November",
                           sources={"memories": [m.id or 0 for m in heron_before]}))
    app.notes.update(home.id or 0, body=home.body.replace("Marc Petit", "Luc Blanc"))
    report = app.sleep_runner(app.engine).run_session()
    kinds = [e for e in report.to_json()]  # the report is well formed
    assert kinds and report.items_done >= 1
    for m in home_before:
        row = repo.get(m.id or 0)
        assert row is not None and row.superseded_by is not None
    assert [m.id for m in of_note(heron.id)] == [m.id for m in heron_before]
    assert any("Luc Blanc" in m.text for m in of_note(home.id))
    with app.db.session() as s:
        status = {a.question: a.status for a in s.exec(select(Anticipation))
                  if a.question in ("plumber?", "deadline?")}
    assert status == {"plumber?": "stale", "deadline?": "ready"}
    stored = app.notes.get(home.id or 0)
    assert stored is not None and stored.consolidated_hash == stored.content_hash
