"""Opening the database: schema from migrations, pragmas, concurrency, refusals, backups."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import threading
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text
from sqlmodel import SQLModel

from assistant.store import db as db_module
from assistant.store.chats import ChatRepository
from assistant.store.db import (
    BUSY_TIMEOUT_MS,
    Database,
    DatabaseError,
    SchemaTooNewError,
    backup_database,
    head_revision,
    stored_revision,
)
from assistant.store.models import Anticipation, Note
from assistant.store.notes import NoteRepository

#: Every table of docs/ARCHITECTURE.md, "Data".
TABLES = {
    "conversation", "message", "note", "memory", "anticipation", "work_item",
    "sleep_session", "journal_entry", "prefix_cache",
}
FTS = {"message_fts", "note_fts", "memory_fts", "anticipation_fts"}


def _names(con: sqlite3.Connection, kind: str) -> set[str]:
    rows = con.execute("SELECT name FROM sqlite_master WHERE type = ?", (kind,))
    return {str(r[0]) for r in rows}


def _snapshot(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` with the sha256 of its bytes."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _set_revision(path: Path, revision: str) -> None:
    con = sqlite3.connect(path)
    try:
        con.execute("UPDATE alembic_version SET version_num = ?", (revision,))
        con.commit()
    finally:
        con.close()


def test_migrations_from_empty_create_every_table_and_index(db: Database) -> None:
    con = sqlite3.connect(db.path)
    try:
        tables = _names(con, "table")
        triggers = _names(con, "trigger")
        revision = con.execute("SELECT version_num FROM alembic_version").fetchone()[0]
        message_cols = {r[1] for r in con.execute("PRAGMA table_info(message)")}
    finally:
        con.close()
    assert tables >= TABLES | FTS | {"alembic_version"}
    for table in ("message", "note", "memory", "anticipation"):
        assert {f"{table}_fts_ai", f"{table}_fts_ad", f"{table}_fts_au"} <= triggers
    assert revision == head_revision()
    assert message_cols >= {"conversation_id", "role", "content", "created_at", "token_count",
                            "origin", "consolidated_at"}


def test_models_describe_the_same_schema_as_the_migrations(db: Database) -> None:
    def ours(name: str | None, type_: str, *_: Any) -> bool:
        return not (type_ == "table" and name is not None and "_fts" in name)

    with db.engine.connect() as con:
        context = MigrationContext.configure(con, opts={"include_name": ours})
        drift = compare_metadata(context, SQLModel.metadata)
    assert drift == []


def _pragmas(con: Any) -> tuple[Any, ...]:
    return tuple(con.exec_driver_sql(f"PRAGMA {name}").scalar()
                 for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous"))


def test_pragmas_are_set_on_every_pooled_connection(db: Database) -> None:
    expected = ("wal", 1, BUSY_TIMEOUT_MS, 1)
    assert BUSY_TIMEOUT_MS > 0
    with ExitStack() as stack:
        cons = [stack.enter_context(db.engine.connect()) for _ in range(4)]
        assert len({id(c.connection.dbapi_connection) for c in cons}) == 4
        for con in cons:
            assert _pragmas(con) == expected
        with db.write() as s:  # a fifth connection, through the write path
            assert _pragmas(s.connection()) == expected
        with db.session() as s:
            assert _pragmas(s.connection()) == expected


def test_foreign_keys_are_enforced(chats: ChatRepository) -> None:
    conv = chats.create_conversation("x")
    chats.add_message(conv.id or 0, "user", "hello")
    with pytest.raises(KeyError):
        chats.add_message(999, "user", "nowhere to go")
    with chats._db.engine.connect() as con, pytest.raises(Exception, match="FOREIGN KEY"):
        con.exec_driver_sql(
            "INSERT INTO message (conversation_id, role, content, created_at, origin) "
            "VALUES (999, 'user', 'x', '2025-01-01', 'typed')")


def test_a_failed_write_is_rolled_back_entirely(db: Database, notes: NoteRepository) -> None:
    with pytest.raises(RuntimeError), db.write() as s:
        s.add(Note(title="first", body="one"))
        s.flush()
        s.add(Note(title="second", body="two"))
        raise RuntimeError("boom")
    assert notes.all() == []


def test_concurrent_writers_and_a_reader_never_see_database_locked(db: Database) -> None:
    chats = ChatRepository(db)
    convs = [chats.create_conversation(f"thread {i}").id or 0 for i in range(4)]
    errors: list[BaseException] = []
    writers_done = threading.Event()
    reads = 0

    def write(n: int) -> None:
        try:
            for j in range(50):
                chats.add_message(convs[n], "user", f"writer {n} message {j} zebra")
        except BaseException as exc:
            errors.append(exc)

    def read() -> None:
        nonlocal reads
        try:
            while not writers_done.is_set():
                chats.count_messages()
                chats.search("zebra", limit=5)
                chats.list_conversations()
                reads += 1
        except BaseException as exc:
            errors.append(exc)

    reader = threading.Thread(target=read)
    writers = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    reader.start()
    for t in writers:
        t.start()
    for t in writers:
        t.join(timeout=60)
    writers_done.set()
    reader.join(timeout=60)

    assert errors == []
    assert reads > 0
    assert chats.count_messages() == 200
    for n, conv in enumerate(convs):
        said = [m.content for m in chats.messages(conv)]
        assert said == [f"writer {n} message {j} zebra" for j in range(50)]
    with db.engine.connect() as con:
        indexed = con.execute(text(
            "SELECT count(*) FROM message_fts WHERE message_fts MATCH 'zebra'")).scalar()
    assert indexed == 200


def test_a_newer_schema_is_refused_and_the_file_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "reverie.db"
    db = Database.open(path, tmp_path / "backups")
    ChatRepository(db).add_message(ChatRepository(db).create_conversation().id or 0,
                                   "user", "keep me")
    db.close()
    _set_revision(path, "9999_from_the_future")
    before = _snapshot(tmp_path)

    with pytest.raises(SchemaTooNewError) as refused:
        Database.open(path, tmp_path / "backups")

    message = str(refused.value)
    assert "newer version of Reverie" in message and str(path) in message
    assert "not changed" in message
    # Same bytes, and no -wal/-shm files or backups appeared beside it.
    assert _snapshot(tmp_path) == before


def test_a_file_that_is_not_sqlite_is_refused_with_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "reverie.db"
    path.write_bytes(b"These are my holiday plans, not a database.\n" * 100)
    before = _snapshot(tmp_path)

    with pytest.raises(DatabaseError) as refused:
        Database.open(path, tmp_path / "backups")

    assert not isinstance(refused.value, SchemaTooNewError)
    message = str(refused.value)
    assert str(path) in message and "not a Reverie database" in message
    assert "\n" not in message and message.endswith(".")
    assert _snapshot(tmp_path) == before


def test_an_up_to_date_database_is_opened_without_a_backup(tmp_path: Path) -> None:
    path, backups = tmp_path / "reverie.db", tmp_path / "backups"
    Database.open(path, backups).close()  # new: nothing to back up
    Database.open(path, backups).close()  # current: nothing to migrate
    assert not backups.exists() or list(backups.iterdir()) == []
    assert stored_revision(path) == head_revision()


def test_backup_database_copies_consistently_and_keeps_the_newest(db: Database,
                                                                   tmp_path: Path) -> None:
    chats = ChatRepository(db)
    chats.add_message(chats.create_conversation("backed up").id or 0, "user", "precious")
    backups = tmp_path / "my-backups"
    made = [backup_database(db.path, backups, keep=3) for _ in range(5)]

    kept = sorted(backups.iterdir())
    assert len(kept) == 3
    assert made[-1] in kept
    assert (made[-1].stat().st_mode & 0o777) == 0o600
    con = sqlite3.connect(made[-1])
    try:
        assert con.execute("SELECT content FROM message").fetchall() == [("precious",)]
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        con.close()


_NEXT_REVISION = '''
"""Test-only revision after the real head: adds a column to note."""
import sqlalchemy as sa
from alembic import op

revision = "9999"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("note", sa.Column("colour", sa.String(), nullable=True))


def downgrade() -> None:
    op.drop_column("note", "colour")
'''


def test_an_older_database_is_backed_up_before_it_is_migrated(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, backups = tmp_path / "reverie.db", tmp_path / "backups"
    db = Database.open(path, backups)
    NoteRepository(db).add("Old note", "written under the current schema")
    head = db_module.head_revision()
    db.close()

    newer = tmp_path / "migrations"
    shutil.copytree(db_module.MIGRATIONS_DIR, newer,
                    ignore=shutil.ignore_patterns("__pycache__"))
    (newer / "versions" / "9999_test_colour.py").write_text(
        _NEXT_REVISION.replace("{head}", head))
    monkeypatch.setattr(db_module, "MIGRATIONS_DIR", newer)

    db = Database.open(path, backups)
    try:
        assert [n.title for n in NoteRepository(db).all()] == ["Old note"]
    finally:
        db.close()

    assert stored_revision(path) == "9999"
    copies = list(backups.iterdir())
    assert len(copies) == 1
    assert stored_revision(copies[0]) == head
    con = sqlite3.connect(copies[0])
    try:
        assert "colour" not in {r[1] for r in con.execute("PRAGMA table_info(note)")}
        assert con.execute("SELECT title FROM note").fetchall() == [("Old note",)]
    finally:
        con.close()


@pytest.mark.parametrize("folder", ["hash#tag", "question?x=1", "percent%41"])
def test_a_profile_folder_with_uri_characters_works(tmp_path: Path, folder: str) -> None:
    home = tmp_path / folder
    path = home / "reverie.db"
    db = Database.open(path, home / "backups")
    ChatRepository(db).create_conversation("stored where it should be")
    db.close()

    assert [p.name for p in tmp_path.iterdir()] == [folder]
    assert path.is_file()
    assert stored_revision(path) == head_revision()
    _set_revision(path, "9999_from_the_future")
    with pytest.raises(SchemaTooNewError):
        Database.open(path, home / "backups")


def test_integrity_check_reports_ok(db: Database) -> None:
    assert db.integrity_check() == "ok"


def _ready_anticipation(db: Database, **sources: list[int]) -> int:
    from assistant.store.models import Anticipation

    with db.write() as s:
        row = Anticipation(question="q?", answer="a", sources=dict(sources))
        s.add(row)
        s.flush()
        assert row.id is not None
        return row.id


def _status(db: Database, ident: int) -> str:
    from assistant.store.models import Anticipation

    with db.session() as s:
        row = s.get(Anticipation, ident)
        assert row is not None
        return row.status


def test_changing_a_source_stales_its_anticipations_in_the_same_transaction(
        tmp_path: Path) -> None:
    from assistant.store.chats import ChatRepository
    from assistant.store.models import Memory

    db = Database.open(tmp_path / "r.db", tmp_path / "b")
    try:
        notes, chats = NoteRepository(db), ChatRepository(db)
        note, other = notes.add("Trip", "Hotel: Casa"), notes.add("Other", "x")
        conv = chats.create_conversation("c")
        msg = chats.add_message(conv.id or 0, "user", "Dentist at 10:30")
        with db.write() as s:
            mem = Memory(text="likes tea")
            s.add(mem)
            s.flush()
            mem_id = mem.id or 0
        by_note = _ready_anticipation(db, notes=[note.id or 0])
        by_other = _ready_anticipation(db, notes=[other.id or 0])
        by_msg = _ready_anticipation(db, messages=[msg.id or 0])
        by_mem = _ready_anticipation(db, memories=[mem_id])

        # A failed transaction that edits the note leaves the anticipation ready...
        with pytest.raises(RuntimeError), db.write() as s:
            from assistant.store.models import Note

            row = s.get(Note, note.id)
            assert row is not None
            row.body = "Hotel: Lumen"
            s.add(row)
            s.flush()
            raise RuntimeError("rolled back")
        assert _status(db, by_note) == "ready"
        # ...and a committed edit stales it, and only it.
        notes.update(note.id or 0, body="Hotel: Lumen")
        assert (_status(db, by_note), _status(db, by_other)) == ("stale", "ready")

        with db.write() as s:
            m = s.get(Memory, mem_id)
            assert m is not None
            m.text = "likes coffee"
            s.add(m)
        assert _status(db, by_mem) == "stale"
        chats.delete(conv.id or 0)  # deleting forgets what was made from its messages
        with db.session() as s:
            assert s.get(Anticipation, by_msg) is None
    finally:
        db.close()
