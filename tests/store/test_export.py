"""Export: everything the person owns, as JSON and Markdown, importable again."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from assistant.store.chats import ChatRepository
from assistant.store.db import Database
from assistant.store.export import export_all
from assistant.store.importers import import_chats
from assistant.store.models import Memory
from assistant.store.notes import NoteRepository


def conversations(chats: ChatRepository) -> list[tuple[str, list[tuple[str, str, datetime]]]]:
    return sorted(
        (c.title, [(m.role, m.content, m.created_at) for m in chats.messages(c.id or 0)])
        for c in chats.list_conversations(include_archived=True)
    )


def fill(db: Database, fixtures: Path) -> None:
    chats, notes = ChatRepository(db), NoteRepository(db)
    import_chats(fixtures / "chats.jsonl", chats)
    import_chats(fixtures / "chatgpt" / "conversations.json", chats)
    typed = chats.create_conversation()
    chats.add_message(typed.id or 0, "user", "Typed: 'quotes', \"double\" and a\nnewline")
    chats.add_message(typed.id or 0, "system", "internal system text")
    chats.add_message(typed.id or 0, "assistant", "Answer with émojis 🌱")
    notes.add("Ideas / plans", "Weather station")
    notes.add("Heading note", "# Already a heading\n\nbody")
    with db.write() as s:
        s.add(Memory(subject="Ana", text="Ana's birthday is on 3 June.",
                     sources={"messages": [3]}, vector=b"\x00\x01"))


def test_export_round_trips_into_a_fresh_profile(db: Database, fixtures: Path,
                                                  tmp_path: Path) -> None:
    fill(db, fixtures)
    out = tmp_path / "export"
    report = export_all(db, out)
    assert (report.conversations, report.notes, report.memories) == (6, 2, 1)

    fresh = Database.open(tmp_path / "fresh" / "reverie.db", tmp_path / "fresh" / "backups")
    try:
        imported = import_chats(out / "conversations.jsonl", ChatRepository(fresh))
        assert imported.problems == []
        original = conversations(ChatRepository(db))
        # System messages are not part of the import format; everything else comes back.
        original = [(t, [m for m in ms if m[0] != "system"]) for t, ms in original]
        assert conversations(ChatRepository(fresh)) == original
        again = import_chats(out / "conversations.jsonl", ChatRepository(fresh))
        assert again.messages_added == 0
    finally:
        fresh.close()


def test_export_writes_markdown_for_conversations_and_notes(db: Database, fixtures: Path,
                                                            tmp_path: Path) -> None:
    fill(db, fixtures)
    out = tmp_path / "export"
    export_all(db, out)
    md = {p.name: p.read_text(encoding="utf-8") for p in (out / "conversations").iterdir()}
    assert len(md) == 6
    lisbon = next(text for name, text in md.items() if name.endswith("trip-to-lisbon.md"))
    assert lisbon.startswith("# Trip to Lisbon\n")
    assert "**You**" in lisbon and "**Reverie**" in lisbon
    assert "book the hotel" in lisbon
    note_files = {p.name: p.read_text(encoding="utf-8") for p in (out / "notes").iterdir()}
    assert len(note_files) == 2
    ideas = next(text for name, text in note_files.items() if "ideas-plans" in name)
    assert ideas == "# Ideas / plans\n\nWeather station"
    heading = next(text for name, text in note_files.items() if "heading-note" in name)
    assert heading.startswith("# Already a heading")


def test_export_writes_notes_and_memories_as_json(db: Database, fixtures: Path,
                                                  tmp_path: Path) -> None:
    fill(db, fixtures)
    out = tmp_path / "export"
    export_all(db, out)
    notes = json.loads((out / "notes.json").read_text(encoding="utf-8"))
    assert [n["title"] for n in notes] == ["Ideas / plans", "Heading note"]
    assert datetime.fromisoformat(notes[0]["created_at"]).tzinfo is not None
    [memory] = json.loads((out / "memories.json").read_text(encoding="utf-8"))
    assert memory["text"] == "Ana's birthday is on 3 June."
    assert memory["sources"] == {"messages": [3]}
    assert memory["vector"] is None
    for name in ("anticipations.json", "sleep_sessions.json", "journal.json"):
        assert json.loads((out / name).read_text(encoding="utf-8")) == []


def test_export_of_an_empty_profile_and_into_an_existing_folder(db: Database,
                                                                tmp_path: Path) -> None:
    out = tmp_path / "export"
    out.mkdir()
    (out / "conversations.jsonl").write_text("old export\n")
    report = export_all(db, out)
    assert (report.conversations, report.messages, report.notes) == (0, 0, 0)
    assert (out / "conversations.jsonl").read_text() == ""
    assert json.loads((out / "notes.json").read_text()) == []


def test_a_conversation_without_messages_does_not_break_reimport(
        db: Database, tmp_path: Path) -> None:
    chats = ChatRepository(db)
    chats.create_conversation("Started, never used")
    said = chats.create_conversation("Used")
    chats.add_message(said.id or 0, "user", "hello", created_at=datetime(2025, 1, 1, tzinfo=UTC))
    export_all(db, tmp_path / "export")
    fresh = Database.open(tmp_path / "fresh.db", tmp_path / "backups")
    try:
        report = import_chats(tmp_path / "export" / "conversations.jsonl", ChatRepository(fresh))
    finally:
        fresh.close()
    assert report.problems == []
    assert report.conversations_added == 1
