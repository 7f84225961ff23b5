"""Export: everything the person owns, as JSON and Markdown, importable again."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from assistant.store.chats import ChatRepository
from assistant.store.db import Database
from assistant.store.export import ExportError, export_all, free_folder
from assistant.store.importers import ImportFileError, import_chats, import_export_folder
from assistant.store.memories import MemoryRepository
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
        # Every role comes back, system messages too.
        assert conversations(ChatRepository(fresh)) == conversations(ChatRepository(db))
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
    assert ideas == "Weather station"  # the note's own text, no title added
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


def test_export_of_an_empty_profile_into_an_empty_folder(db: Database, tmp_path: Path) -> None:
    out = tmp_path / "export"
    out.mkdir()
    report = export_all(db, out)
    assert (report.conversations, report.messages, report.notes) == (0, 0, 0)
    assert (out / "conversations.jsonl").read_text() == ""
    assert json.loads((out / "notes.json").read_text()) == []


def test_export_never_overwrites_a_folder_that_holds_files(db: Database,
                                                            tmp_path: Path) -> None:
    NoteRepository(db).add("New", "new text")
    out = tmp_path / "export"
    out.mkdir()
    (out / "notes.json").write_text("my own file")
    (out / "keep.txt").write_text("unrelated")

    with pytest.raises(ExportError, match="already holds files") as err:
        export_all(db, out)

    assert "--force" in str(err.value) and "\n" not in str(err.value)
    assert (out / "notes.json").read_text() == "my own file"
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt", "notes.json"]

    export_all(db, out, force=True)  # replaces files of the same name only
    assert json.loads((out / "notes.json").read_text())[0]["body"] == "new text"
    assert (out / "keep.txt").read_text() == "unrelated"
    assert not list(out.rglob("*.part"))


def test_a_file_is_not_an_export_folder(db: Database, tmp_path: Path) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("mine")
    with pytest.raises(ExportError, match="is a file, not a folder"):
        export_all(db, a_file, force=True)
    assert a_file.read_text() == "mine"


def test_export_files_and_folders_are_owner_only(db: Database, fixtures: Path,
                                                 tmp_path: Path) -> None:
    fill(db, fixtures)
    out = tmp_path / "new" / "export"
    export_all(db, out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    for path in out.rglob("*"):
        expected = 0o700 if path.is_dir() else 0o600
        assert stat.S_IMODE(path.stat().st_mode) == expected, path
    assert not list(out.rglob("*.part"))


def test_a_failed_write_leaves_no_partial_file(db: Database, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    NoteRepository(db).add("A", "text")
    out = tmp_path / "export"

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("assistant.store.export.os.replace", broken_replace)
    with pytest.raises(OSError, match="No space left"):
        export_all(db, out)
    assert [p for p in out.rglob("*") if p.is_file()] == []


def test_free_folder_picks_a_name_not_taken(tmp_path: Path) -> None:
    assert free_folder(tmp_path, "Reverie export") == tmp_path / "Reverie export"
    (tmp_path / "Reverie export").mkdir()
    (tmp_path / "Reverie export 2").write_text("")
    assert free_folder(tmp_path, "Reverie export") == tmp_path / "Reverie export 3"


def test_exported_jsonl_escapes_what_other_line_readers_split_on(db: Database,
                                                                 tmp_path: Path) -> None:
    chats = ChatRepository(db)
    conv = chats.create_conversation("Breaks")
    text = "a\u2028b\u2029c\x85d\x0be\x1cf\rg"
    chats.add_message(conv.id or 0, "user", text)
    export_all(db, tmp_path / "export")
    raw = (tmp_path / "export" / "conversations.jsonl").read_text(encoding="utf-8")
    assert len(raw.splitlines()) == 1
    assert json.loads(raw.splitlines()[0])["messages"][0]["content"] == text


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


# Reading an export folder back -------------------------------------------------------------

def test_a_broken_file_in_an_export_folder_stores_nothing(db: Database, fixtures: Path,
                                                          tmp_path: Path) -> None:
    fill(db, fixtures)
    out = tmp_path / "export"
    export_all(db, out)
    (out / "notes.json").write_text('[{"title": "cut off', encoding="utf-8")
    fresh = Database.open(tmp_path / "fresh.db", tmp_path / "backups")
    try:
        with pytest.raises(ImportFileError, match=r"notes\.json is not valid JSON"):
            import_export_folder(out, fresh)
        assert ChatRepository(fresh).count_messages() == 0
    finally:
        fresh.close()


def test_pinned_and_edited_memories_come_back_pointing_at_their_sources(
        db: Database, tmp_path: Path) -> None:
    chats, notes = ChatRepository(db), NoteRepository(db)
    conv = chats.create_conversation("Ana")
    said = chats.add_message(conv.id or 0, "user", "Ana's birthday is on 3 June.")
    note = notes.add("Gifts", "green tea")
    with db.write() as s:
        s.add(Memory(subject="Ana", text="Birthday 3 June", pinned=True,
                     sources={"messages": [said.id or 0], "notes": [note.id or 0]}))
        s.add(Memory(subject="Ana", text="Likes tea", edited=True, sources={"notes": [999]}))
        s.add(Memory(subject="Ana", text="derived, remade while away"))
    export_all(db, tmp_path / "export")
    fresh = Database.open(tmp_path / "fresh.db", tmp_path / "backups")
    try:
        ChatRepository(fresh).create_conversation("already here")  # ids differ
        report = import_export_folder(tmp_path / "export", fresh)
        assert (report.memories_added, report.problems) == (2, [])
        memories = {m.text: m for m in MemoryRepository(fresh).list()}
        assert set(memories) == {"Birthday 3 June", "Likes tea"}
        sources = MemoryRepository(fresh).sources(memories["Birthday 3 June"].id or 0)
        assert [m.content for m in sources.messages] == ["Ana's birthday is on 3 June."]
        assert [n.body for n in sources.notes] == ["green tea"]
        assert memories["Likes tea"].sources == {}  # note 999 was never exported
    finally:
        fresh.close()


def test_a_note_from_an_export_never_replaces_a_different_note(db: Database,
                                                               tmp_path: Path) -> None:
    NoteRepository(db).upsert_from_file("/notes/plan.md", "Plan", "old text")
    export_all(db, tmp_path / "export")
    NoteRepository(db).upsert_from_file("/notes/plan.md", "Plan", "new text")

    report = import_export_folder(tmp_path / "export", db)

    assert (report.notes_added, report.notes_unchanged) == (1, 0)
    bodies = {n.body: n.source_path for n in NoteRepository(db).all()}
    assert bodies == {"new text": "/notes/plan.md", "old text": None}


@pytest.mark.parametrize(("files", "expected"), [
    ({}, "not a Reverie export"),
    ({"notes.json": '{"not": "a list"}'}, "is not a list"),
    ({"memories.json": "[" * 100_000}, "nested too deeply"),
])
def test_what_is_not_an_export_folder_says_so(db: Database, tmp_path: Path,
                                              files: dict[str, str], expected: str) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    with pytest.raises(ImportFileError, match=expected):
        import_export_folder(folder, db)
    with pytest.raises(ImportFileError, match="not a folder"):
        import_export_folder(tmp_path / "missing", db)
