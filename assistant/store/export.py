"""Export everything the person owns as JSON and Markdown.

``conversations.jsonl`` is in Reverie's own import format (every role, with a stable
``key`` per conversation and each message's ``id``), ``notes.json`` holds the notes
with their exact text and dates, and ``memories.json`` the memories with their
sources: ``reverie import FOLDER`` reads these three back, into a fresh profile or
into the same one (where it adds nothing). Derived data (prepared answers, the
journal) is exported too, as JSON. ``notes/`` holds each note's text byte for byte.

An export never overwrites: a folder that already holds files is refused unless
``force``; every file is written under a temporary name and renamed into place, and
files and folders are owner-only (0600 / 0700).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import SQLModel, col, select

from assistant.store.db import Database
from assistant.store.files import shown
from assistant.store.importers import typed_key
from assistant.store.models import (
    Anticipation,
    Conversation,
    JournalEntry,
    Memory,
    Message,
    Note,
    SleepSession,
)

ROLE_NAMES = {"user": "You", "assistant": "Reverie", "system": "System"}
#: Characters that end a line for Python's ``str.splitlines`` (and for JavaScript) but
#: are legal raw inside a JSON string: escaped, so no reader splits a conversation.
_LINE_BREAKS = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


class ExportError(OSError):
    """The export cannot go where it was asked to; one sentence says why and what to do.
    An ``OSError``, so that callers who report failed writes report this too."""


@dataclass
class ExportReport:
    folder: Path
    conversations: int
    messages: int
    notes: int
    memories: int


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _row(obj: SQLModel) -> dict[str, Any]:
    data = obj.model_dump()
    for key, value in data.items():
        if isinstance(value, datetime):
            data[key] = _iso(value)
        elif isinstance(value, bytes):
            data[key] = None  # vectors are recomputable; keep the export readable
    return data


def _slug(text: str, ident: int | None) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()[:50] or "untitled"
    return f"{ident}-{slug}"


def jsonl_line(data: Any) -> str:
    """One JSON value on one line that every line reader keeps whole."""
    line = json.dumps(data, ensure_ascii=False)
    for char, escape in _LINE_BREAKS.items():
        line = line.replace(char, escape)  # they only occur inside strings
    return line + "\n"


def free_folder(parent: Path, name: str) -> Path:
    """``parent/name``, or ``name 2``, ``name 3``... the first that does not exist yet."""
    candidate, n = parent / name, 1
    while candidate.exists():
        n += 1
        candidate = parent / f"{name} {n}"
    return candidate


class _Writer:
    """Writes files into the export folder: temporary name, then rename; owner-only."""

    def __init__(self, out: Path) -> None:
        self.out = out

    def folder(self, relative: str) -> Path:
        path = self.out / relative
        if not path.is_dir():
            path.mkdir(mode=0o700)
            path.chmod(0o700)
        return path

    def write(self, relative: str, data: bytes) -> None:
        target = self.out / relative
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                   suffix=".part")  # created 0600
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def text(self, relative: str, text: str) -> None:
        self.write(relative, text.encode("utf-8"))


def _prepare(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise ExportError(f"{shown(out)} is a file, not a folder; give a folder path.")
    if out.is_dir():
        if not force and any(out.iterdir()):
            raise ExportError(f"{shown(out)} already holds files; give a new or empty "
                              "folder (or --force to replace files of the same name).")
        return
    if not out.parent.is_dir():
        out.parent.mkdir(parents=True, mode=0o700)
    out.mkdir(mode=0o700)
    out.chmod(0o700)


def export_all(db: Database, out: Path, *, force: bool = False) -> ExportReport:
    """Write the export into ``out`` (created if needed, owner-only). A folder that is
    not empty is refused with :class:`ExportError` unless ``force``, which replaces
    only the files of the same name."""
    _prepare(out, force)
    writer = _Writer(out)
    writer.folder("conversations")
    writer.folder("notes")
    with db.session() as s:
        convs = list(s.exec(select(Conversation).order_by(col(Conversation.id))))
        msgs = list(s.exec(select(Message).order_by(col(Message.created_at), col(Message.id))))
        notes = list(s.exec(select(Note).order_by(col(Note.id))))
        memories = list(s.exec(select(Memory).order_by(col(Memory.id))))
        anticipations = list(s.exec(select(Anticipation).order_by(col(Anticipation.id))))
        sessions = list(s.exec(select(SleepSession).order_by(col(SleepSession.id))))
        journal = list(s.exec(select(JournalEntry).order_by(col(JournalEntry.id))))
    by_conv: dict[int, list[Message]] = {}
    for m in msgs:
        by_conv.setdefault(m.conversation_id, []).append(m)
    lines = []
    for conv in convs:
        turns = by_conv.get(conv.id or 0, [])
        if not turns:  # nothing said: nothing to export (the import format needs a message)
            continue
        key = conv.import_key or typed_key(conv.id or 0, turns[0])
        lines.append(jsonl_line({
            "key": key, "title": conv.title, "created_at": _iso(conv.created_at),
            "archived": conv.archived,
            "messages": [{"id": m.id, "role": m.role, "content": m.content,
                          "created_at": _iso(m.created_at), "origin": m.origin}
                         for m in turns]}))
        md = [f"# {conv.title or 'Untitled conversation'}\n"]
        for m in turns:
            md.append(f"**{ROLE_NAMES.get(m.role, m.role)}** ({_iso(m.created_at)}):\n\n"
                      f"{m.content}\n")
        writer.text(f"conversations/{_slug(conv.title, conv.id)}.md", "\n".join(md))
    writer.text("conversations.jsonl", "".join(lines))
    for note in notes:  # the note's own text, byte for byte: its title is in notes.json
        writer.text(f"notes/{_slug(note.title, note.id)}.md", note.body)
    for name, rows in (("notes.json", notes), ("memories.json", memories),
                       ("anticipations.json", anticipations),
                       ("sleep_sessions.json", sessions), ("journal.json", journal)):
        writer.text(name, json.dumps([_row(r) for r in rows], indent=2, ensure_ascii=False))
    return ExportReport(out, len(convs), len(msgs), len(notes), len(memories))
