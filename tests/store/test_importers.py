"""Imports: Reverie JSONL, ChatGPT exports and note folders; idempotent, never lossy."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from assistant.store.chats import ChatRepository
from assistant.store.importers import (
    ImportFileError,
    import_chats,
    import_notes,
    note_title,
    parse_chatgpt_export,
    parse_reverie_jsonl,
)
from assistant.store.notes import NoteRepository


def contents(chats: ChatRepository) -> dict[str, list[tuple[str, str]]]:
    """Every conversation's messages as (role, content), by title."""
    return {c.title: [(m.role, m.content) for m in chats.messages(c.id or 0)]
            for c in chats.list_conversations(include_archived=True)}


def jsonl(*conversations: dict[str, Any]) -> str:
    return "".join(json.dumps(c) + "\n" for c in conversations)


def msg(role: str, content: str, when: str) -> dict[str, str]:
    return {"role": role, "content": content, "created_at": when}


# Reverie JSONL ------------------------------------------------------------------------

def test_jsonl_imports_every_conversation(chats: ChatRepository, fixtures: Path) -> None:
    report = import_chats(fixtures / "chats.jsonl", chats)
    assert report.problems == []
    assert (report.conversations_added, report.messages_added) == (3, 7)
    got = contents(chats)
    assert got["Trip to Lisbon"][1] == (
        "assistant", "Noted: book a hotel in Lisbon before 14 March.")
    # No title: named after the first message.
    assert got["My sister Ana's birthday is on 3 June."][2] == ("user", "She likes green tea.")
    messages = chats.all_messages()
    assert {m.origin for m in messages} == {"imported"}
    # Offsets become UTC; a date without one is UTC; a number is Unix time.
    assert datetime(2025, 2, 2, 17, 30, tzinfo=UTC) in {m.created_at for m in messages}
    assert datetime(2025, 2, 3, 21, 0, tzinfo=UTC) in {m.created_at for m in messages}
    assert datetime.fromtimestamp(1738616410, UTC) in {m.created_at for m in messages}


def test_importing_the_same_file_twice_changes_nothing(chats: ChatRepository,
                                                       fixtures: Path) -> None:
    import_chats(fixtures / "chats.jsonl", chats)
    before = contents(chats)
    again = import_chats(fixtures / "chats.jsonl", chats)
    assert (again.conversations_added, again.conversations_updated,
            again.messages_added) == (0, 0, 0)
    assert "nothing new" in again.summary()
    assert contents(chats) == before
    assert chats.count_messages() == 7
    assert len(chats.list_conversations()) == 3


def test_a_longer_version_adds_only_the_new_messages(chats: ChatRepository,
                                                     tmp_path: Path) -> None:
    first = [msg("user", "Book the hotel", "2025-01-01T10:00:00Z"),
             msg("assistant", "Which dates?", "2025-01-01T10:00:02Z")]
    later = [*first, msg("user", "14 to 18 March", "2025-01-01T10:01:00Z"),
             msg("assistant", "Noted.", "2025-01-01T10:01:02Z")]
    path = tmp_path / "chat.jsonl"
    path.write_text(jsonl({"title": "Hotel", "messages": first}))
    import_chats(path, chats)
    path.write_text(jsonl({"title": "Hotel", "messages": later}))

    report = import_chats(path, chats)

    assert (report.conversations_added, report.conversations_updated,
            report.messages_added) == (0, 1, 2)
    assert [c for _, c in contents(chats)["Hotel"]] == [
        "Book the hotel", "Which dates?", "14 to 18 March", "Noted."]


def test_bad_lines_are_reported_with_their_number_and_the_rest_imports(
        chats: ChatRepository, fixtures: Path) -> None:
    report = import_chats(fixtures / "chats_with_errors.jsonl", chats)

    assert [p.split(":")[0] for p in report.problems] == ["line 2", "line 3", "line 4",
                                                           "line 5"]
    assert "not valid JSON" in report.problems[0]
    assert "messages" in report.problems[1]
    assert "role" in report.problems[2] and "wizard" in report.problems[2]
    assert "created_at" in report.problems[3] and "yesterday" in report.problems[3]
    assert set(contents(chats)) == {"Good one", "Also good"}
    assert chats.count_messages() == 3
    assert "4 skipped" in report.summary()


@pytest.mark.parametrize(("line", "reason"), [
    ('["a list"]', "object"),
    ('{"title": 3, "messages": []}', "title"),
    ('{"messages": []}', "messages"),
    ('{"messages": ["hi"]}', "message 1"),
    ('{"messages": [{"role": "user", "created_at": "2025-01-01"}]}', "content"),
    ('{"messages": [{"role": "user", "content": "x"}]}', "created_at"),
    ('{"messages": [{"role": "user", "content": "x", "created_at": true}]}', "created_at"),
    ('{"messages": [{"role": "tool", "content": "x", "created_at": "2025-01-01"}]}', "role"),
    ('{"messages": [{"role": "user", "content": "\\ud800", "created_at": "2025-01-01"}]}',
     "Unicode"),
    ('{"title": "\\udfff", "messages": [{"role": "user", "content": "x", '
     '"created_at": "2025-01-01"}]}', "title"),
    ('{"messages": [{"role": "user", "content": " ", "created_at": "2025-01-01"}]}', "empty"),
    ('[' * 100_000 + ']' * 100_000, "nested too deeply"),
    ('{"a": ' * 100_000 + '1' + '}' * 100_000, "nested too deeply"),
    ('{"messages": [{"role": "user", "content": "x", "created_at": 1e20}]}', "created_at"),
    ('{"messages": [{"role": "user", "content": "x", "created_at": -1e18}]}', "created_at"),
    ('{"messages": [{"role": "user", "content": "x", "created_at": NaN}]}', "created_at"),
    ('{"messages": [{"role": "user", "content": "x", '
     '"created_at": "9999-12-31T23:59:59-01:00"}]}', "created_at"),
])
def test_each_kind_of_bad_line_is_skipped_with_a_reason(line: str, reason: str) -> None:
    problems: list[str] = []
    good = jsonl({"messages": [msg("user", "fine", "2025-01-01T00:00:00Z")]})
    parsed = list(parse_reverie_jsonl([good, line, good], problems))
    assert len(parsed) == 2
    assert len(problems) == 1
    assert problems[0].startswith("line 2: ")
    assert reason in problems[0]


def test_nothing_already_stored_is_lost_by_a_bad_import(chats: ChatRepository,
                                                        fixtures: Path) -> None:
    conv = chats.create_conversation("Typed by hand")
    chats.add_message(conv.id or 0, "user", "My passport expires in 2027.")
    chats.add_message(conv.id or 0, "assistant", "Noted.")
    import_chats(fixtures / "chats.jsonl", chats)
    before = contents(chats)

    report = import_chats(fixtures / "chats_with_errors.jsonl", chats)

    assert report.problems
    after = contents(chats)
    for title, said in before.items():
        assert after[title] == said
    assert after["Typed by hand"] == [("user", "My passport expires in 2027."),
                                      ("assistant", "Noted.")]


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("missing.jsonl", None, "does not exist"),
    ("folder", "dir", "is a folder"),
    ("broken.json", b"[1, 2", "not valid JSON"),
    ("object.json", b'["not", "chatgpt"', "not valid JSON"),
    ("latin1.json", b'["\xe9t\xe9"]', "not UTF-8 text"),
    ("deep.json", b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    ("empty.jsonl", b"", "is empty"),
    ("blank.jsonl", b"\xef\xbb\xbf \n\r\n\t", "is empty"),
    ("binary.jsonl", bytes(range(256)) * 4, "binary data"),
    ("caf\udce9.jsonl", b"", "caf\\\\xe9.jsonl is empty"),
])
def test_an_unusable_file_raises_one_sentence(chats: ChatRepository, tmp_path: Path,
                                              name: str, content: bytes | str | None,
                                              expected: str) -> None:
    path = tmp_path / name
    if content == "dir":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    with pytest.raises(ImportFileError, match=expected) as err:
        import_chats(path, chats)
    assert "\n" not in str(err.value)


# ChatGPT export -----------------------------------------------------------------------

def test_chatgpt_follows_the_current_branch_and_skips_system_and_tool(
        chats: ChatRepository, fixtures: Path) -> None:
    report = import_chats(fixtures / "chatgpt" / "conversations.json", chats)
    assert report.problems == []
    assert report.conversations_added == 2
    assert report.branches_skipped == 1  # the regenerated answer the person moved away from
    assert "1 alternative ChatGPT branches left out" in report.summary()
    got = contents(chats)
    assert got["Bike chain slipping"] == [
        ("user", "My bike chain keeps slipping on the rear cogs."),
        ("assistant", "Check the rear derailleur's cable tension first."),
        ("user", "Thanks. Which tool do I need for that?"),
        ("assistant", "A 5 mm hex key and a barrel adjuster are enough."),
    ]
    assert got["Green tea"] == [("user", "How hot should the water be for green tea?"),
                                ("assistant", "About 70 to 80 degrees Celsius.")]
    everything = " ".join(m.content for m in chats.all_messages())
    assert "REGENERATED-AWAY" not in everything
    assert "TOOL-OUTPUT" not in everything
    assert "You are ChatGPT" not in everything
    first = chats.messages(chats.list_conversations()[-1].id or 0)[0]
    assert first.created_at == datetime.fromtimestamp(1738000010.0, UTC)


def test_chatgpt_is_idempotent_by_conversation_id(chats: ChatRepository, fixtures: Path,
                                                  tmp_path: Path) -> None:
    source = fixtures / "chatgpt" / "conversations.json"
    import_chats(source, chats)
    again = import_chats(source, chats)
    assert (again.conversations_added, again.messages_added) == (0, 0)
    assert chats.count_messages() == 6

    # The person renamed the chat and continued it: same id, so only new turns come in.
    data = json.loads(source.read_text())
    tea = data[1]
    tea["title"] = "Tea temperatures"
    tea["mapping"]["m2"]["children"] = ["m3"]
    tea["mapping"]["m3"] = {
        "id": "m3", "parent": "m2", "children": [],
        "message": {"author": {"role": "user"}, "create_time": 1738100050.0,
                    "content": {"content_type": "text", "parts": ["And for black tea?"]}},
    }
    tea["current_node"] = "m3"
    longer = tmp_path / "conversations.json"
    longer.write_text(json.dumps(data))
    report = import_chats(longer, chats)
    assert (report.conversations_added, report.conversations_updated,
            report.messages_added) == (0, 1, 1)
    assert len(chats.list_conversations()) == 2
    assert contents(chats)["Green tea"][-1] == ("user", "And for black tea?")


def test_chatgpt_without_current_node_uses_the_last_leaf(fixtures: Path) -> None:
    data = json.loads((fixtures / "chatgpt" / "conversations.json").read_text())
    bike = data[0]
    del bike["current_node"]
    problems: list[str] = []
    [parsed] = list(parse_chatgpt_export([bike], problems))
    assert parsed.messages[-1].content.startswith("A 5 mm hex key")
    assert parsed.key == "chatgpt:6790a1b2-bike-4c1e-9a7e-000000000001"


@pytest.mark.parametrize("conversation", [
    {"title": "no mapping"},
    "just a string",
    {"mapping": {"a": "not a node"}},
    {"mapping": {"a": {"message": {"author": "me", "content": {"parts": ["x"]}}}}},
    {"mapping": {"a": {"message": {"author": {"role": "user"}, "content": "text"}}}},
    {"mapping": {"a": {"message": {"author": {"role": "user"},
                                   "content": {"parts": ["x"]}, "create_time": 1e30}}}},
    {"mapping": {"a": {"message": {"author": {"role": "system"},
                                   "content": {"parts": ["only system"]}}}}},
])
def test_a_malformed_chatgpt_conversation_is_skipped_not_fatal(conversation: Any) -> None:
    good = {"id": "ok", "mapping": {"a": {"message": {
        "author": {"role": "user"}, "create_time": 1738000000,
        "content": {"parts": ["fine"]}}}}}
    problems: list[str] = []
    parsed = list(parse_chatgpt_export([good, conversation, good], problems))
    assert len(parsed) == 2
    assert len(problems) == 1 and problems[0].startswith("conversation 2: ")


def test_a_json_object_is_not_a_chatgpt_export(chats: ChatRepository, tmp_path: Path) -> None:
    path = tmp_path / "conversations.json"
    path.write_text('  {"title": "x", "messages": []}')  # starts with {: read as JSONL
    with pytest.raises(ImportFileError, match=r"holds no conversation .* the first: line 1: "
                                              r"messages must be a non-empty list"):
        import_chats(path, chats)
    with pytest.raises(ImportFileError, match="ChatGPT"):
        list(parse_chatgpt_export({"not": "a list"}, []))


# Notes folder -------------------------------------------------------------------------

@pytest.fixture
def notes_dir(fixtures: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "notes"
    shutil.copytree(fixtures / "notes", folder)
    return folder


def test_notes_folder_imports_markdown_and_text_with_titles(notes: NoteRepository,
                                                            notes_dir: Path) -> None:
    report = import_notes(notes_dir, notes)
    assert (report.notes_added, report.notes_updated, report.notes_unchanged) == (3, 0, 0)
    assert report.problems == []
    by_title = {n.title: n for n in notes.all()}
    assert set(by_title) == {"Shopping list", "project ideas", "Garden plan"}
    assert "green tea for Ana" in by_title["Shopping list"].body
    assert by_title["Garden plan"].source_path == str(
        (notes_dir / "projects" / "garden_plan.md").resolve())


def test_reimporting_notes_is_idempotent_and_picks_up_edits(notes: NoteRepository,
                                                           notes_dir: Path) -> None:
    import_notes(notes_dir, notes)
    again = import_notes(notes_dir, notes)
    assert (again.notes_added, again.notes_updated, again.notes_unchanged) == (0, 0, 3)

    (notes_dir / "groceries.md").write_text("# Shopping list\n\n- rice\n")
    edited = import_notes(notes_dir, notes)
    assert (edited.notes_added, edited.notes_updated, edited.notes_unchanged) == (0, 1, 2)
    shopping = [n for n in notes.all() if n.title == "Shopping list"]
    assert len(shopping) == 1 and "rice" in shopping[0].body
    assert len(notes.all()) == 3


def test_a_non_utf8_note_is_reported_and_skipped(notes: NoteRepository,
                                                 notes_dir: Path) -> None:
    bad = notes_dir / "latin1.txt"
    bad.write_bytes("Caf\xe9 cr\xe8me".encode("latin-1"))
    report = import_notes(notes_dir, notes)
    assert report.notes_added == 3
    assert report.problems == [f"{bad}: is not UTF-8 text (byte 4)"]
    assert "1 skipped" in report.summary()


def test_importing_notes_from_a_file_or_missing_folder_fails(notes: NoteRepository,
                                                             tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="not a folder"):
        import_notes(tmp_path / "nope", notes)


@pytest.mark.parametrize(("name", "body", "title"), [
    ("a.md", "# Heading\nbody", "Heading"),
    ("a.md", "\n\n#  Spaced heading  \n", "Spaced heading"),
    ("my_trip-plan.md", "Text first\n# Later heading", "my trip plan"),
    ("notes.txt", "#hashtag is not a heading", "notes"),
    ("b.md", "", "b"),
])
def test_note_title(name: str, body: str, title: str) -> None:
    assert note_title(Path(name), body) == title


# Defects found on 0.1 ---------------------------------------------------------------------

@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"])
def test_a_line_break_python_sees_inside_a_json_string_keeps_the_line_whole(
        chats: ChatRepository, tmp_path: Path, separator: str) -> None:
    text = f"first half{separator}second half"
    path = tmp_path / "chats.jsonl"
    line = json.dumps({"title": "t", "messages": [msg("user", text, "2025-01-01T00:00:00Z")]},
                      ensure_ascii=False)
    path.write_bytes((line + "\n").encode())
    assert separator in path.read_text(encoding="utf-8")  # raw, as JSON allows

    report = import_chats(path, chats)

    assert report.problems == []
    assert [m.content for m in chats.all_messages()] == [text]


def test_a_line_of_invalid_utf8_is_reported_by_number_and_the_rest_imports(
        chats: ChatRepository, tmp_path: Path) -> None:
    good = jsonl({"title": "Good", "messages": [msg("user", "fine", "2025-01-01T00:00:00Z")]})
    path = tmp_path / "chats.jsonl"
    path.write_bytes(good.encode() + b'{"title": "caf\xe9"}\n' + good.replace("Good", "Also")
                     .encode())

    report = import_chats(path, chats)

    assert report.problems == ["line 2: not UTF-8 text (byte 15)"]
    assert set(contents(chats)) == {"Good", "Also"}


def test_one_deeply_nested_line_is_skipped_and_the_rest_imports(
        chats: ChatRepository, tmp_path: Path) -> None:
    good = jsonl({"title": "Good", "messages": [msg("user", "fine", "2025-01-01T00:00:00Z")]})
    path = tmp_path / "chats.jsonl"
    path.write_text(good + '{"title": ' + "[" * 200_000 + "]" * 200_000 + "}\n"
                    + good.replace("Good", "Also"), encoding="utf-8")

    report = import_chats(path, chats)

    assert report.problems == ["line 2: nested too deeply to be a conversation"]
    assert set(contents(chats)) == {"Good", "Also"}


def test_a_line_longer_than_the_limit_is_skipped_without_reading_it_whole(
        chats: ChatRepository, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("assistant.store.importers.MAX_LINE_BYTES", 1024 * 1024)
    good = jsonl({"title": "Good", "messages": [msg("user", "fine", "2025-01-01T00:00:00Z")]})
    huge = jsonl({"title": "Huge", "messages": [msg("user", "x" * 3_000_000,
                                                    "2025-01-01T00:00:00Z")]})
    path = tmp_path / "chats.jsonl"
    path.write_text(good + huge + good.replace("Good", "Also"), encoding="utf-8")

    report = import_chats(path, chats)

    assert report.problems == ["line 2: longer than 1 MB"]
    assert set(contents(chats)) == {"Good", "Also"}


def test_empty_messages_are_skipped_and_reported(chats: ChatRepository, tmp_path: Path) -> None:
    path = tmp_path / "chats.jsonl"
    path.write_text(jsonl(
        {"title": "Some empty", "messages": [msg("user", "", "2025-01-01T00:00:00Z"),
                                             msg("assistant", "kept", "2025-01-01T00:00:01Z"),
                                             msg("user", " \n\u2028", "2025-01-01T00:00:02Z")]},
        {"title": "All empty", "messages": [msg("user", "", "2025-01-01T00:00:00Z")]}))

    report = import_chats(path, chats)

    assert report.problems == ["line 1, message 1: empty", "line 1, message 3: empty",
                               "line 2: every message is empty"]
    assert contents(chats) == {"Some empty": [("assistant", "kept")]}


def test_jsonl_keeps_system_messages_titles_and_conversation_dates(
        chats: ChatRepository, tmp_path: Path) -> None:
    path = tmp_path / "chats.jsonl"
    path.write_text(jsonl(
        {"title": "  spaced  ", "created_at": "2024-12-31T23:00:00Z",
         "messages": [msg("system", "Be brief.", "2025-01-01T00:00:00Z"),
                      {"role": "user", "content": "no date of its own"}]}))

    report = import_chats(path, chats)

    assert report.problems == []
    [conv] = chats.list_conversations()
    assert conv.title == "  spaced  "
    assert conv.created_at == datetime(2024, 12, 31, 23, 0, tzinfo=UTC)
    assert [(m.role, m.content, m.created_at) for m in chats.messages(conv.id or 0)] == [
        ("user", "no date of its own", datetime(2024, 12, 31, 23, 0, tzinfo=UTC)),
        ("system", "Be brief.", datetime(2025, 1, 1, tzinfo=UTC))]


def test_chatgpt_message_without_a_date_takes_its_conversations_never_1970(
        chats: ChatRepository, tmp_path: Path) -> None:
    def node(role: str, text: str, when: float | None, parent: str | None,
             children: list[str]) -> dict[str, Any]:
        return {"parent": parent, "children": children, "message": {
            "author": {"role": role}, "create_time": when,
            "content": {"content_type": "text", "parts": [text]}}}

    data = [{"id": "c1", "title": "Undated", "create_time": 1738000000.0,
             "current_node": "b", "mapping": {
                 "a": node("user", "question", None, None, ["b", "x", "y"]),
                 "b": node("assistant", "answer", None, "a", []),
                 "x": node("assistant", "first try", 1738000050.0, "a", []),
                 "y": node("assistant", "second try", 1738000060.0, "a", [])}},
            {"id": "c2", "title": "Only message dates", "mapping": {
                "a": node("user", "q", None, None, ["b"]),
                "b": node("assistant", "a", 1738000099.0, "a", [])}}]
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps(data))

    report = import_chats(path, chats)

    assert report.problems == [] and report.branches_skipped == 2
    assert contents(chats)["Undated"] == [("user", "question"), ("assistant", "answer")]
    when = {m.content: m.created_at for m in chats.all_messages()}
    assert when["question"] == when["answer"] == datetime.fromtimestamp(1738000000.0, UTC)
    assert when["q"] == datetime.fromtimestamp(1738000099.0, UTC)
    assert all(m.created_at.year > 1970 for m in chats.all_messages())


def test_a_pipe_or_a_device_is_refused_at_once(chats: ChatRepository, notes: NoteRepository,
                                               tmp_path: Path) -> None:
    fifo = tmp_path / "chats.jsonl"
    os.mkfifo(fifo)
    with pytest.raises(ImportFileError, match="not a regular file"):
        import_chats(fifo, chats)
    with pytest.raises(ImportFileError, match="not a regular file"):
        import_chats(Path("/dev/zero"), chats)
    folder = tmp_path / "notes"
    folder.mkdir()
    os.mkfifo(folder / "pipe.md")
    (folder / "real.md").write_text("a real note")
    report = import_notes(folder, notes)
    assert report.notes_added == 1
    assert report.problems == [f"{folder / 'pipe.md'}: is not a regular file (it is a pipe, "
                               "a device or a socket)"]


def test_import_notes_never_follows_links_out_of_the_folder(notes: NoteRepository,
                                                            tmp_path: Path) -> None:
    secret = tmp_path / "outside"
    secret.mkdir()
    (secret / "passwd.md").write_text("root:x:0:0")
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "mine.md").write_text("# Mine\n\nmy note")
    (folder / "passwd.md").symlink_to(secret / "passwd.md")
    (folder / "etc.md").symlink_to("/etc/passwd")
    (folder / "linked-dir").symlink_to(secret, target_is_directory=True)
    (folder / "again.md").symlink_to(folder / "mine.md")  # inside: the same note, once

    report = import_notes(folder, notes)

    assert [n.body for n in notes.all()] == ["# Mine\n\nmy note"]
    assert report.notes_added == 1
    assert sorted(report.problems) == sorted([
        f"{folder / 'etc.md'}: a link to a file outside {folder}; not followed",
        f"{folder / 'linked-dir'}: a link to a folder outside {folder}; not followed",
        f"{folder / 'passwd.md'}: a link to a file outside {folder}; not followed"])


def test_notes_keep_their_exact_text_and_empty_or_huge_ones_are_skipped(
        notes: NoteRepository, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("assistant.store.files.MAX_NOTE_BYTES", 1000)
    folder = tmp_path / "notes"
    folder.mkdir()
    exact = "  # Not a heading\r\nline two\u2028same line\r\n\n  "
    (folder / "exact.md").write_bytes(b"\xef\xbb\xbf" + exact.encode())
    (folder / "empty.md").write_text(" \n\t\n")
    (folder / "big.txt").write_text("x" * 1001)
    (folder / "caf\udce9.md").write_bytes(b"odd name")

    report = import_notes(folder, notes)

    bodies = {n.title: n for n in notes.all()}
    assert bodies["exact"].body == exact
    assert bodies["caf\\xe9"].body == "odd name"
    assert bodies["caf\\xe9"].source_path == f"{folder.resolve()}/caf\\xe9.md"
    assert sorted(report.problems) == [f"{folder / 'big.txt'}: is larger than 0.000953674 MB",
                                       f"{folder / 'empty.md'}: empty"]


def test_a_file_with_no_conversation_in_it_is_refused_in_one_sentence(
        chats: ChatRepository, tmp_path: Path) -> None:
    """A README given by mistake had been "imported" with 209 lines skipped and exit 0."""
    wrong = tmp_path / "README.md"
    wrong.write_text("# Reverie\n\nA private assistant.\n{\"title\": 1}\n", encoding="utf-8")
    with pytest.raises(ImportFileError, match=r"README\.md holds no conversation Reverie can "
                                              r"read \(3 skipped, the first: line 1: not "
                                              r"valid JSON"):
        import_chats(wrong, chats)
    assert chats.list_conversations() == []


def test_a_chatgpt_export_with_nothing_importable_is_reported_not_refused(
        chats: ChatRepository, tmp_path: Path) -> None:
    """Every conversation only system text (or images): the export is what was asked
    for, so its problems are reported, not "give ChatGPT's conversations.json"."""
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps([{"id": "only-system", "mapping": {"a": {"message": {
        "author": {"role": "system"}, "content": {"parts": ["only system"]}}}}}]),
        encoding="utf-8")
    report = import_chats(path, chats)
    assert report.conversations_added == 0
    assert [p.split(":")[0] for p in report.problems] == ["conversation 1"]
