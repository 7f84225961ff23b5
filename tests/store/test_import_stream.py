"""Streaming import: the JSON array reader, batches, progress, cancel and bad files."""

from __future__ import annotations

import io
import json
import re
import sqlite3
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from assistant.store import import_batch
from assistant.store.chats import ChatRepository
from assistant.store.db import Database
from assistant.store.import_batch import BatchWriter, ImportReport
from assistant.store.import_stream import JsonArrayReader
from assistant.store.importers import (
    ImportCancelled,
    ImportFileError,
    ImportProgress,
    import_chats,
)

REPO = Path(__file__).resolve().parents[2]

# The JSON array reader ------------------------------------------------------------------

TRICKY = [
    {"text": "brackets ] } [ { and \"quotes\" and \\ inside", "n": 12345678901234567890},
    {"emoji": "🌱 é \u2028 \u0301 ü", "deep": {"a": [1, 2.5e-3, -0.0, True, None, [[]]]}},
    [], {}, 7, -3.25, "a string", True, None,
    {"long": "x" * 5000, "escapes": "\u00e9\n\t\"\\/"},
]


def read_all(data: bytes, chunk: int, **kw: Any) -> list[Any]:
    reader = JsonArrayReader(io.BytesIO(data), Path("c.json"), advice="fix it",
                             max_element_bytes=kw.pop("max_element_bytes", 1 << 20),
                             chunk_bytes=chunk)
    return list(reader)


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 7, 64, 1 << 20])
@pytest.mark.parametrize("indent", [None, 1])
def test_the_reader_gives_exactly_what_json_loads_gives(chunk: int, indent: int | None) -> None:
    data = b"\xef\xbb\xbf \n" + json.dumps(TRICKY, indent=indent, ensure_ascii=False).encode()
    assert read_all(data + b"\n", chunk) == json.loads(data.decode("utf-8-sig"))


@pytest.mark.parametrize("data", [b"[]", b" [ ] \n", b"[\n]"])
def test_an_empty_array_has_no_elements(data: bytes) -> None:
    assert read_all(data, 2) == []


@pytest.mark.parametrize(("data", "message"), [
    (b"[1, 2", r"line 1: Expecting ',' delimiter"),
    (b'[{"a": 1}\n {"b": 2}]', r"line 2: Expecting ',' delimiter"),
    (b"[1,\n\n]", r"line 3: Expecting value"),
    (b"[1] [2]", r"line 1: Extra data"),
    (b'[{"a": tru}]', r"line 1: Expecting value"),
    (b'[{"a": "never closed}]', r"line 1: Unterminated string"),
    (b'[{"a": "a line\nbreak"}]', r"line 1: Invalid control character"),
])
def test_a_broken_array_is_refused_with_its_line(data: bytes, message: str) -> None:
    for chunk in (1, 4, 1 << 20):
        with pytest.raises(ImportFileError, match=r"c\.json is not valid JSON \(" + message):
            read_all(data, chunk)


def test_invalid_utf8_is_refused_where_it_is_after_the_good_elements() -> None:
    data = b'[{"a": 1}, {"b": 2}, {"c": "caf\xe9"}]'
    reader = JsonArrayReader(io.BytesIO(data), Path("c.json"), advice="fix it",
                             max_element_bytes=1 << 20, chunk_bytes=1 << 20)
    got = []
    with pytest.raises(ImportFileError, match=r"not UTF-8 text \(byte 32\)"):
        for item in reader:
            got.append(item)
    assert got == [{"a": 1}, {"b": 2}]
    assert data[31:32] == b"\xe9"


def test_deep_nesting_is_refused_at_once_in_little_memory() -> None:
    data = b"[" * 100_000 + b"]" * 100_000
    tracemalloc.start()
    try:
        with pytest.raises(ImportFileError, match="nested too deeply"):
            read_all(data, 1 << 16)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2**20


def test_an_element_larger_than_the_limit_is_refused_not_read_whole() -> None:
    data = json.dumps([{"a": 1}, {"big": "x" * 50_000}, {"c": 3}]).encode()
    with pytest.raises(ImportFileError, match="conversation 2 is larger than"):
        read_all(data, 1024, max_element_bytes=10_000)


def test_memory_stays_at_a_chunk_and_an_element_whatever_the_file_size(
        tmp_path: Path) -> None:
    element = {"mapping": {"n": {"message": {"content": {"parts": ["y" * 2000]}}}}}
    path = tmp_path / "big.json"
    with path.open("w") as out:
        out.write("[" + ",".join([json.dumps(element)] * 8000) + "]")  # about 16 MB
    tracemalloc.start()
    try:
        with path.open("rb") as fh:
            reader = JsonArrayReader(fh, path, advice="", max_element_bytes=1 << 20,
                                     chunk_bytes=256 * 1024)
            count = sum(1 for _ in reader)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert count == 8000 and reader.bytes_read == path.stat().st_size
    assert peak < 3 * 2**20, f"peak {peak / 2**20:.1f} MB for a 16 MB file"


# Batches ------------------------------------------------------------------------------------

def chatgpt(conversations: int, turns: int = 3) -> list[dict[str, Any]]:
    """A small ChatGPT export: ``conversations`` chats of ``turns`` question-answer pairs."""
    out = []
    for c in range(conversations):
        mapping: dict[str, Any] = {"root": {"message": None, "parent": None, "children": []}}
        parent = "root"
        for t in range(2 * turns):
            node = f"n{t}"
            mapping[node] = {"parent": parent, "children": [], "message": {
                "author": {"role": "user" if t % 2 == 0 else "assistant"},
                "create_time": 1_700_000_000 + c * 1000 + t,
                "content": {"content_type": "text", "parts": [f"chat {c} turn {t}"]}}}
            mapping[parent]["children"].append(node)
            parent = node
        out.append({"id": f"conv-{c}", "title": f"Chat {c}", "create_time": 1_700_000_000
                    + c * 1000, "current_node": parent, "mapping": mapping})
    return out


def rows(db: Database) -> tuple[list[Any], list[Any]]:
    """Every conversation and message row, ids included, as stored."""
    con = sqlite3.connect(db.path)
    try:
        return (con.execute("SELECT * FROM conversation ORDER BY id").fetchall(),
                con.execute("SELECT * FROM message ORDER BY id").fetchall())
    finally:
        con.close()


def fts_consistent(db: Database) -> bool:
    con = sqlite3.connect(db.path)
    try:
        con.execute("INSERT INTO message_fts(message_fts, rank) VALUES ('integrity-check', 1)")
        return con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        con.close()


@pytest.fixture
def export(tmp_path: Path) -> Path:
    path = tmp_path / "conversations.json"
    path.write_text(json.dumps(chatgpt(40)))
    return path


@pytest.fixture
def clean(tmp_path: Path, export: Path) -> tuple[list[Any], list[Any]]:
    """The rows of one uninterrupted import of ``export``."""
    db = Database.open(tmp_path / "clean.db", tmp_path / "clean-backups")
    try:
        import_chats(export, ChatRepository(db))
        return rows(db)
    finally:
        db.close()


def test_batches_hold_whole_conversations(chats: ChatRepository, export: Path,
                                          monkeypatch: pytest.MonkeyPatch,
                                          clean: tuple[list[Any], list[Any]]) -> None:
    monkeypatch.setenv(import_batch.BATCH_MESSAGES_ENV, "50")
    seen: list[ImportProgress] = []
    report = import_chats(export, chats, progress=seen.append)
    assert (report.conversations_added, report.messages_added) == (40, 240)
    # 50 messages make a batch: 9 whole conversations (54 messages) each, 5 batches.
    assert [p.conversations for p in seen] == [0, 9, 18, 27, 36, 40]
    assert [p.messages_added for p in seen] == [0, 54, 108, 162, 216, 240]
    assert seen[-1].fraction == 1.0 and seen[0].fraction < seen[1].fraction
    assert rows(chats.db) == clean


def test_a_failed_batch_leaves_the_committed_ones_and_a_rerun_ends_like_one_import(
        chats: ChatRepository, export: Path, monkeypatch: pytest.MonkeyPatch,
        clean: tuple[list[Any], list[Any]]) -> None:
    monkeypatch.setenv(import_batch.BATCH_MESSAGES_ENV, "50")
    real = import_batch._insert_rows
    calls = []

    def failing(con: Any, table: str, columns: Any, batch: Any) -> None:
        calls.append(table)
        real(con, table, columns, batch)
        if len(calls) == 6:  # the messages of the third batch, inside its transaction
            raise OSError("disk full")

    monkeypatch.setattr(import_batch, "_insert_rows", failing)
    with pytest.raises(OSError):
        import_chats(export, chats)
    conversations, messages = rows(chats.db)
    assert (len(conversations), len(messages)) == (18, 108)  # two whole batches
    assert fts_consistent(chats.db)
    monkeypatch.setattr(import_batch, "_insert_rows", real)
    again = import_chats(export, chats)
    assert (again.conversations_unchanged, again.conversations_added) == (18, 22)
    assert rows(chats.db) == clean
    assert fts_consistent(chats.db)


def test_cancel_stops_between_conversations_and_the_next_run_continues(
        chats: ChatRepository, export: Path, monkeypatch: pytest.MonkeyPatch,
        clean: tuple[list[Any], list[Any]]) -> None:
    monkeypatch.setenv(import_batch.BATCH_MESSAGES_ENV, "50")
    seen: list[ImportProgress] = []
    with pytest.raises(ImportCancelled) as stopped:
        import_chats(export, chats, progress=seen.append,
                     should_stop=lambda: bool(seen) and seen[-1].conversations >= 18)
    assert stopped.value.report.conversations_added == 18
    again = import_chats(export, chats)
    assert again.conversations_added == 22 and again.messages_added == 132
    assert "18 conversations were already there" in again.summary()
    assert rows(chats.db) == clean


def test_a_file_broken_half_way_keeps_what_came_before_and_says_so(
        chats: ChatRepository, tmp_path: Path, export: Path,
        clean: tuple[list[Any], list[Any]]) -> None:
    good = export.read_text()
    cut = good.index('{"id": "conv-30"')
    broken = tmp_path / "broken.json"
    broken.write_text(good[:cut] + '{"id": oops}]')
    with pytest.raises(ImportFileError) as err:
        import_chats(broken, chats)
    assert re.fullmatch(r"\S*broken\.json is not valid JSON \(line 1: Expecting value\); "
                        r"the 30 conversations before that point were imported, and "
                        r"importing the repaired file adds only the rest\.", str(err.value))
    assert len(rows(chats.db)[0]) == 30
    import_chats(export, chats)
    assert rows(chats.db) == clean


def test_the_same_conversation_twice_in_one_file_is_merged_in_order(
        chats: ChatRepository, tmp_path: Path) -> None:
    first, second = chatgpt(1, turns=1)[0], chatgpt(1, turns=2)[0]
    path = tmp_path / "twice.json"
    path.write_text(json.dumps([first, second]))
    report = import_chats(path, chats)
    assert (report.conversations_added, report.conversations_updated,
            report.messages_added) == (1, 1, 4)
    assert [m.content for m in chats.messages(1)] == [f"chat 0 turn {t}" for t in range(4)]


def test_imported_times_are_stored_as_the_orm_stores_them(chats: ChatRepository,
                                                          export: Path) -> None:
    import_chats(export, chats)
    typed = chats.create_conversation("typed")
    first = chats.messages(1)[0]
    chats.add_message(typed.id or 0, "user", "same time", created_at=first.created_at)
    con = sqlite3.connect(chats.db.path)
    try:
        stored = dict(con.execute("SELECT content, created_at FROM message WHERE id IN "
                                  "(?, (SELECT max(id) FROM message))", (first.id,)))
    finally:
        con.close()
    assert stored["same time"] == stored[first.content]
    conversation = chats.get(1)
    assert conversation is not None
    assert conversation.updated_at == chats.messages(1)[-1].created_at


def test_the_writer_keeps_counts_out_of_the_report_until_its_batch_commits(
        db: Database) -> None:
    report = ImportReport()
    writer = BatchWriter(db, report, max_messages=1000)
    from assistant.store.importers import parse_chatgpt_export

    for conv in parse_chatgpt_export(chatgpt(3), []):
        assert writer.add(conv) is False
    assert report.conversations_added == 0
    writer.flush()
    assert (report.conversations_added, report.messages_added, writer.conversations_done) \
        == (3, 18, 3)


# The contract ------------------------------------------------------------------------------

def test_the_import_json_keys_are_documented() -> None:
    doc = (REPO / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")
    paragraph = doc.split("**`import --json`** prints one object:", 1)[1].split("\n\n", 1)[0]
    assert re.findall(r"`([a-z_]+)`", paragraph) == list(ImportReport().to_json())


def test_the_progress_line_rewrites_one_line_and_clears_it() -> None:
    from assistant.cli.progress import ImportProgressLine

    out = io.StringIO()
    line = ImportProgressLine(out)
    line.show(ImportProgress(12, 3456, 50, 200))
    line.show(ImportProgress(20, 5000, 200, 200))
    line.clear()
    assert out.getvalue() == (
        "\r\x1b[KImporting: 12 conversations, 3,456 messages added, 25% of the file read"
        "\r\x1b[KImporting: 20 conversations, 5,000 messages added, 100% of the file read"
        "\r\x1b[K")
