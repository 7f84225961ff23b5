"""Export and import are exact inverses, over arbitrary text (a property test).

Whatever the person owns (conversations with every role, notes, memories they pinned
or edited) comes back exactly from ``reverie export`` + ``reverie import FOLDER`` into
an empty profile, and importing a profile's own export into it adds nothing.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text as sql
from sqlmodel import col, select

from assistant.store.db import Database
from assistant.store.export import export_all
from assistant.store.importers import ImportReport, import_export_folder
from assistant.store.memories import MemoryRepository
from assistant.store.models import Conversation, Memory, Message, Note
from assistant.store.notes import content_hash
from assistant.text.lines import is_blank

CHARS = st.characters(blacklist_categories=("Cs",))  # every code point a str can store
SPECIAL = ["\u2028", "\u2029", "\x85", "\n", "\r", "\r\n", "\x0b", "\x1c", "\x00", "\ufeff",
           "\t", "🌱", "👩‍👩‍👧", "é", "\u0301", '"', "\\", "{", "}", "#"]
ANY_TEXT = st.one_of(
    st.text(CHARS, max_size=30),
    st.lists(st.one_of(st.text(CHARS, max_size=8), st.sampled_from(SPECIAL)),
             max_size=10).map("".join),
)
LONG_TEXT = st.builds(lambda unit, n: unit * n, st.sampled_from(["x", "é", "🌱", "\u2028x"]),
                      st.integers(1_000, 20_000))
#: What the person said or wrote: anything with at least one visible character (empty
#: messages and notes are skipped on import, and reported).
CONTENT = st.one_of(ANY_TEXT, ANY_TEXT, ANY_TEXT, LONG_TEXT).filter(lambda s: not is_blank(s))
WHEN = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30),
                    timezones=st.just(UTC))
ROLE = st.sampled_from(["user", "assistant", "system"])

MESSAGES = st.lists(st.tuples(ROLE, CONTENT, WHEN), min_size=0, max_size=3)
CONVERSATIONS = st.lists(
    st.tuples(ANY_TEXT, WHEN, st.booleans(), st.one_of(st.none(), st.uuids().map(str)),
              MESSAGES), max_size=3)
NOTES = st.lists(st.tuples(ANY_TEXT, CONTENT, WHEN, WHEN,
                           st.one_of(st.none(), st.uuids().map(lambda u: f"/notes/{u}.md"))),
                 max_size=3)
MEMORIES = st.lists(st.tuples(
    st.sampled_from(["fact", "summary", "profile", "digest"]),
    st.sampled_from(["conversation", "day", "week", "global"]),
    ANY_TEXT, CONTENT, st.floats(0.0, 1.0), st.booleans(), st.booleans(), WHEN, WHEN,
    st.lists(st.integers(0, 20), max_size=3), st.lists(st.integers(0, 5), max_size=2),
    st.booleans()), max_size=3)


@dataclass
class Profiles:
    source: Database
    target: Database


#: Files in memory when the system offers it: 500 examples write ~10,000 small files.
RAM = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None


@pytest.fixture(scope="module")
def profiles() -> Iterator[Profiles]:
    """Two databases made once (migrations take ~0.1 s); each example empties them."""
    with tempfile.TemporaryDirectory(dir=RAM, prefix="reverie-roundtrip-") as tmp:
        root = Path(tmp)
        source = Database.open(root / "source.db", root / "source-backups")
        target = Database.open(root / "target.db", root / "target-backups")
        yield Profiles(source, target)
        source.close()
        target.close()


def empty(db: Database) -> None:
    with db.write() as s:
        for table in ("memory", "message", "conversation", "note"):
            s.connection().execute(sql(f"DELETE FROM {table}"))


def fill(db: Database, conversations: list[Any], notes: list[Any],
         memories: list[Any]) -> None:
    with db.write() as s:
        message_ids: list[int] = []
        for title, created, archived, key, messages in conversations:
            conv = Conversation(title=title, created_at=created, updated_at=created,
                                archived=archived, import_key=key)
            s.add(conv)
            s.flush()
            for role, content, when in messages:
                msg = Message(conversation_id=conv.id or 0, role=role, content=content,
                              created_at=when)
                s.add(msg)
                s.flush()
                message_ids.append(msg.id or 0)
        note_ids: list[int] = []
        for title, body, created, updated, source in notes:
            note = Note(title=title, body=body, created_at=created, updated_at=updated,
                        source_path=source, content_hash=content_hash(title, body))
            s.add(note)
            s.flush()
            note_ids.append(note.id or 0)
        for (kind, scope, subject, text, confidence, pinned, edited, created, updated,
             msg_refs, note_refs, superseded) in memories:
            sources: dict[str, list[int]] = {}
            if message_ids and msg_refs:
                sources["messages"] = sorted({message_ids[i % len(message_ids)]
                                              for i in msg_refs})
            if note_ids and note_refs:
                sources["notes"] = sorted({note_ids[i % len(note_ids)] for i in note_refs})
            memory = Memory(kind=kind, scope=scope, subject=subject, text=text,
                            confidence=confidence, pinned=pinned, edited=edited,
                            created_at=created, updated_at=updated, sources=sources)
            s.add(memory)
            s.flush()
            if superseded:  # an older version, superseded by a newer one
                newer = Memory(kind=kind, subject=subject, text=text + " (newer)",
                               created_at=updated, updated_at=updated)
                s.add(newer)
                s.flush()
                memory.superseded_by = newer.id
                s.add(memory)


def everything(db: Database) -> dict[str, Any]:
    """What the person owns, independent of row ids (which differ between profiles)."""
    with db.session() as s:
        convs = list(s.exec(select(Conversation)))
        msgs = list(s.exec(select(Message).order_by(col(Message.created_at), col(Message.id))))
        notes = list(s.exec(select(Note)))
        memories = [m for m in s.exec(select(Memory))
                    if (m.pinned or m.edited) and m.superseded_by is None]
    by_conv: dict[int, list[tuple[str, str, datetime]]] = {}
    for m in msgs:
        by_conv.setdefault(m.conversation_id, []).append((m.role, m.content, m.created_at))
    repo = MemoryRepository(db)

    def sources(memory: Memory) -> tuple[Any, ...]:
        found = repo.sources_for(memory.sources or {})
        return (tuple(sorted((m.role, m.content, m.created_at) for m in found.messages)),
                tuple(sorted((n.title, n.body) for n in found.notes)))

    return {
        "conversations": sorted(
            (c.title, c.created_at, c.archived, tuple(by_conv[c.id or 0]))
            for c in convs if by_conv.get(c.id or 0)),
        "notes": sorted((n.title, n.body, n.created_at, n.updated_at, n.source_path or "")
                        for n in notes),
        "memories": sorted((m.kind, m.scope, m.subject, m.text, m.confidence, m.pinned,
                            m.edited, m.created_at, m.updated_at, sources(m))
                           for m in memories),
    }


def added_nothing(report: ImportReport) -> bool:
    return (report.conversations_added, report.conversations_updated, report.messages_added,
            report.notes_added, report.notes_updated, report.memories_added) == (0,) * 6


@settings(max_examples=500, deadline=None)
@given(conversations=CONVERSATIONS, notes=NOTES, memories=MEMORIES)
def test_export_then_import_reproduces_everything(profiles: Profiles, conversations: list[Any],
                                                  notes: list[Any],
                                                  memories: list[Any]) -> None:
    empty(profiles.source)
    empty(profiles.target)
    fill(profiles.source, conversations, notes, memories)
    original = everything(profiles.source)
    with tempfile.TemporaryDirectory(dir=RAM) as tmp:
        out = Path(tmp) / "export"
        export_all(profiles.source, out)

        first = import_export_folder(out, profiles.target)
        assert first.problems == []
        assert everything(profiles.target) == original

        again = import_export_folder(out, profiles.target)
        assert added_nothing(again) and again.problems == []

        own = import_export_folder(out, profiles.source)
        assert added_nothing(own) and own.problems == []
        assert everything(profiles.source) == original
