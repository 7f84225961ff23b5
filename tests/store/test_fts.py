"""The FTS5 indexes follow their tables through insert, update and delete (triggers)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlmodel import SQLModel

from assistant.store.chats import ChatRepository
from assistant.store.db import Database
from assistant.store.fts import FTS_TABLES, fts_query
from assistant.store.models import Anticipation, Memory
from assistant.store.notes import NoteRepository


def matches(db: Database, table: str, query: str) -> list[int]:
    """Row ids the index itself returns (not the content table), so stale entries show."""
    with db.engine.connect() as con:
        rows = con.execute(text(f"SELECT rowid FROM {table}_fts WHERE {table}_fts MATCH :q "
                                "ORDER BY rowid"), {"q": query})
        return [int(r[0]) for r in rows]


def assert_index_consistent(db: Database) -> None:
    """FTS5's own check; rank 1 also compares an external-content index with its table."""
    with db.engine.begin() as con:
        for table in FTS_TABLES:
            con.execute(text(f"INSERT INTO {table}_fts({table}_fts, rank) "
                             "VALUES('integrity-check', 1)"))


def test_message_index_follows_insert_update_delete(db: Database,
                                                    chats: ChatRepository) -> None:
    conv = chats.create_conversation("Pets")
    msg = chats.add_message(conv.id or 0, "user", "My parrot is called Kiwi")
    other = chats.add_message(conv.id or 0, "assistant", "Kiwi the parrot, noted.")
    assert matches(db, "message", "parrot") == [msg.id, other.id]

    with db.write() as s:
        stored = s.get(type(msg), msg.id)
        assert stored is not None
        stored.content = "My tortoise is called Mango"
        s.add(stored)
    assert matches(db, "message", "tortoise") == [msg.id]
    assert matches(db, "message", "parrot") == [other.id]
    assert_index_consistent(db)

    with db.write() as s:
        s.delete(s.get(type(msg), other.id))
    assert matches(db, "message", "parrot") == []
    assert matches(db, "message", "kiwi") == []
    assert_index_consistent(db)


def test_deleting_a_conversation_cascades_to_messages_and_their_index(
        db: Database, chats: ChatRepository) -> None:
    gone = chats.create_conversation("to delete")
    kept = chats.create_conversation("to keep")
    for word in ("alpha", "bravo", "charlie"):
        chats.add_message(gone.id or 0, "user", f"{word} walrus")
    survivor = chats.add_message(kept.id or 0, "user", "delta walrus")

    chats.delete(gone.id or 0)

    assert chats.get(gone.id or 0) is None
    assert chats.messages(gone.id or 0) == []
    assert chats.count_messages() == 1
    assert matches(db, "message", "walrus") == [survivor.id]
    assert matches(db, "message", "alpha OR bravo OR charlie") == []
    assert_index_consistent(db)


def test_note_index_follows_insert_update_delete(db: Database, notes: NoteRepository) -> None:
    note = notes.add("Garden", "Plant tomatoes in May")
    assert matches(db, "note", "tomatoes") == [note.id]
    assert matches(db, "note", "garden") == [note.id]  # the title is indexed too

    notes.update(note.id or 0, title="Balcony", body="Grow basil in pots")
    assert matches(db, "note", "tomatoes OR garden") == []
    assert matches(db, "note", "basil") == [note.id]
    assert matches(db, "note", "balcony") == [note.id]

    notes.upsert_from_file("/notes/balcony.md", "Balcony", "Peppers too")
    notes.delete(note.id or 0)
    assert matches(db, "note", "basil") == []
    assert len(matches(db, "note", "peppers")) == 1
    assert_index_consistent(db)


@pytest.mark.parametrize(("model", "table", "field", "extra"), [
    (Memory, "memory", "text", "subject"),
    (Anticipation, "anticipation", "question", "answer"),
])
def test_memory_and_anticipation_indexes_follow_their_rows(
        db: Database, model: type[SQLModel], table: str, field: str, extra: str) -> None:
    with db.write() as s:
        row = model(**{field: "The dentist appointment is on Friday", extra: "health"})
        s.add(row)
        s.flush()
        row_id = row.id  # type: ignore[attr-defined]
    assert matches(db, table, "dentist") == [row_id]
    assert matches(db, table, "health") == [row_id]

    with db.write() as s:
        stored = s.get(model, row_id)
        setattr(stored, field, "The haircut is on Monday")
        s.add(stored)
    assert matches(db, table, "dentist") == []
    assert matches(db, table, "haircut") == [row_id]

    with db.write() as s:
        s.delete(s.get(model, row_id))
    assert matches(db, table, "haircut OR health") == []
    assert_index_consistent(db)


def test_porter_stemming_and_diacritics(db: Database, notes: NoteRepository) -> None:
    note = notes.add("Café visits", "We were running late")
    assert matches(db, "note", "cafe") == [note.id]
    assert matches(db, "note", "run") == [note.id]


def test_fts_query_quotes_words_and_drops_syntax() -> None:
    assert fts_query('what is "NEAR" (the) AND cafe*?') == (
        '"what" OR "is" OR "NEAR" OR "the" OR "AND" OR "cafe"')
    assert fts_query("it's a well-known fact") == '"it\'s" OR "a" OR "well-known" OR "fact"'
    assert fts_query("  ?!  ") == ""


@pytest.mark.parametrize("query", ['"', "AND OR NOT", "(*)", "col:value", "a - b", "^start"])
def test_search_never_breaks_on_fts_syntax(chats: ChatRepository, notes: NoteRepository,
                                           query: str) -> None:
    chats.add_message(chats.create_conversation().id or 0, "user", "value start AND end")
    notes.add("t", "value start")
    chats.search(query)
    notes.search(query)


def test_search_ranks_the_best_match_first(chats: ChatRepository) -> None:
    conv = chats.create_conversation().id or 0
    chats.add_message(conv, "user", "Lisbon trip")
    best = chats.add_message(conv, "user", "Lisbon Lisbon hotel for the Lisbon trip")
    chats.add_message(conv, "user", "nothing related")
    found = chats.search("lisbon hotel")
    assert found[0].id == best.id
    assert len(found) == 2
