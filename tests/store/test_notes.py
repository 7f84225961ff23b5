"""NoteRepository: typed notes and notes that mirror files."""

from __future__ import annotations

import pytest

from assistant.store.db import Database
from assistant.store.notes import NoteRepository, content_hash


def test_add_and_get(notes: NoteRepository) -> None:
    note = notes.add("Groceries", "oat milk\ngreen tea")
    stored = notes.get(note.id or 0)
    assert stored is not None
    assert (stored.title, stored.body) == ("Groceries", "oat milk\ngreen tea")
    assert stored.content_hash == content_hash("Groceries", "oat milk\ngreen tea")
    assert stored.source_path is None
    assert notes.get(9999) is None


def test_update_changes_hash_and_time(notes: NoteRepository) -> None:
    note = notes.add("Plan", "v1")
    updated = notes.update(note.id or 0, body="v2")
    assert updated.title == "Plan" and updated.body == "v2"
    assert updated.content_hash == content_hash("Plan", "v2") != note.content_hash
    assert updated.updated_at >= note.updated_at
    renamed = notes.update(note.id or 0, title="Plan B")
    assert (renamed.title, renamed.body) == ("Plan B", "v2")
    with pytest.raises(KeyError):
        notes.update(4242, body="x")


def test_upsert_from_file_reports_added_unchanged_updated(notes: NoteRepository) -> None:
    first, outcome = notes.upsert_from_file("/n/a.md", "A", "body")
    assert outcome == "added"
    again, outcome = notes.upsert_from_file("/n/a.md", "A", "body")
    assert outcome == "unchanged" and again.id == first.id
    edited, outcome = notes.upsert_from_file("/n/a.md", "A", "new body")
    assert outcome == "updated" and edited.id == first.id and edited.body == "new body"
    assert len(notes.all()) == 1


def test_all_lists_most_recently_changed_first(notes: NoteRepository) -> None:
    a = notes.add("a", "1")
    b = notes.add("b", "2")
    notes.update(a.id or 0, body="changed")
    assert [n.id for n in notes.all()] == [a.id, b.id]


def test_delete_and_search(notes: NoteRepository) -> None:
    a = notes.add("Lisbon", "hotel near the river")
    b = notes.add("Porto", "train from Lisbon")
    found = [n.id for n in notes.search("lisbon")]
    assert set(found) == {a.id, b.id}
    assert notes.search("   ") == []
    notes.delete(a.id or 0)
    assert [n.id for n in notes.search("lisbon")] == [b.id]
    notes.delete(a.id or 0)  # already gone: harmless


def test_has_any_says_whether_there_is_a_note(db: Database) -> None:
    notes = NoteRepository(db)
    assert not notes.has_any()
    note = notes.add("Garden", "Tomatoes planted on 3 May.")
    assert notes.has_any()
    notes.delete(note.id or 0)
    assert not notes.has_any()
