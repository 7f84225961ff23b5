"""store.purge: a source and everything derived from it leave the database, in one go."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from assistant.store.chats import ChatRepository
from assistant.store.db import Database
from assistant.store.models import Anticipation, JournalEntry, Memory
from assistant.store.notes import NoteRepository
from assistant.store.purge import checkpoint, purge


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database.open(tmp_path / "reverie.db", tmp_path / "backups")
    yield database
    database.close()


def add(db: Database, **fields: object) -> int:
    with db.write() as s:
        row = Memory(**fields)  # type: ignore[arg-type]
        s.add(row)
        s.flush()
        return row.id or 0


def test_derived_memories_go_transitively_and_the_rest_stays(db: Database) -> None:
    note = NoteRepository(db).add("Cabin", "The wifi password is hunter2.").id or 0
    other = NoteRepository(db).add("Garden", "Water the tomatoes.").id or 0
    fact = add(db, kind="fact", text="Wifi: hunter2.", sources={"notes": [note]})
    unrelated = add(db, kind="fact", text="Tomatoes need water.", sources={"notes": [other]})
    day = add(db, kind="digest", scope="day", text="hunter2 and tomatoes",
              sources={"memories": [fact, unrelated]})
    week = add(db, kind="digest", scope="week", text="a week", sources={"memories": [day]})
    old_profile = add(db, kind="profile", text="- Tomatoes need water.",
                      sources={"memories": [unrelated]})
    profile = add(db, kind="profile", text="- Wifi: hunter2.",
                  sources={"memories": [fact, unrelated]})
    with db.write() as s:
        s.get(Memory, old_profile).superseded_by = profile  # type: ignore[union-attr]
        s.add(Anticipation(question="What is the wifi password?", answer="hunter2",
                           sources={"notes": [note]}))
        s.add(Anticipation(question="When to water?", answer="Every day",
                           sources={"notes": [other]}))
        s.add(JournalEntry(kind="item_done", summary='Digested the note "Cabin": 1 facts.',
                           details={"kind": "digest_note", "target": str(note)}))
        s.add(JournalEntry(kind="item_done", summary="Prepared answers",
                           details={"kind": "anticipate", "target": f"note:{note}:abc"}))
        s.add(JournalEntry(kind="item_done", summary="Rewrote the profile block (2 facts)."))

    with db.write() as s:
        gone = purge(s.connection(), notes=[note])

    assert gone.notes == {note}
    assert gone.memories == {fact, day, week, profile}
    assert gone.journal_entries == 2 and len(gone.anticipations) == 1
    with db.session() as s:
        left = {m.id: m for m in s.exec(text("SELECT id, superseded_by FROM memory"))}
        assert set(left) == {unrelated, old_profile}
        assert left[old_profile][1] is None  # the version before is current again
        assert s.execute(text("SELECT count(*) FROM anticipation")).scalar_one() == 1
        assert s.execute(text("SELECT count(*) FROM journal_entry")).scalar_one() == 1
        assert s.execute(text("SELECT count(*) FROM note_fts WHERE note_fts MATCH 'hunter2'")
                         ).scalar_one() == 0
    assert NoteRepository(db).search("tomatoes")  # the index still works


def test_a_forgotten_memory_takes_its_history_and_a_conversation_its_messages(
        db: Database) -> None:
    chats = ChatRepository(db)
    conv = chats.create_conversation("Keys").id or 0
    msg = chats.add_message(conv, "user", "The key is under the pot.").id or 0
    old = add(db, kind="fact", text="Key under the mat.")
    new = add(db, kind="fact", text="Key under the pot.", sources={"messages": [msg]})
    with db.write() as s:
        s.get(Memory, old).superseded_by = new  # type: ignore[union-attr]
    with db.write() as s:
        gone = purge(s.connection(), memories=[new])
    assert gone.memories == {new, old}
    with db.write() as s:
        gone = purge(s.connection(), conversations=[conv])
    assert gone.messages == {msg} and chats.get(conv) is None
    assert chats.search("pot") == []
    assert checkpoint(db.engine)
    assert db.path.with_name("reverie.db-wal").stat().st_size == 0
