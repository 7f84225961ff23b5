"""Export everything the person owns as JSON and Markdown.

``conversations.jsonl`` is in Reverie's own import format, so an export can be
imported again into a fresh profile. Derived data (memories, prepared answers, the
journal) is exported too, with its sources, as JSON.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import SQLModel, col, select

from assistant.store.db import Database
from assistant.store.models import (
    Anticipation,
    Conversation,
    JournalEntry,
    Memory,
    Message,
    Note,
    SleepSession,
)


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


def export_all(db: Database, out: Path) -> ExportReport:
    """Write the export into ``out`` (created if needed); existing files are replaced."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "conversations").mkdir(exist_ok=True)
    (out / "notes").mkdir(exist_ok=True)
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
    with (out / "conversations.jsonl").open("w", encoding="utf-8") as fh:
        for conv in convs:
            turns = [m for m in by_conv.get(conv.id or 0, []) if m.role in ("user", "assistant")]
            if turns:  # the import format needs at least one message per line
                line = {"title": conv.title, "created_at": _iso(conv.created_at),
                        "messages": [{"role": m.role, "content": m.content,
                                      "created_at": _iso(m.created_at), "origin": m.origin}
                                     for m in turns]}
                fh.write(json.dumps(line, ensure_ascii=False) + "\n")
            md = [f"# {conv.title or 'Untitled conversation'}\n"]
            for m in turns:
                md.append(f"**{'You' if m.role == 'user' else 'Reverie'}** "
                          f"({_iso(m.created_at)}):\n\n{m.content}\n")
            (out / "conversations" / f"{_slug(conv.title, conv.id)}.md").write_text(
                "\n".join(md), encoding="utf-8")
    for note in notes:
        (out / "notes" / f"{_slug(note.title, note.id)}.md").write_text(
            note.body if note.body.lstrip().startswith("#") else f"# {note.title}\n\n{note.body}",
            encoding="utf-8")
    for name, rows in (("notes.json", notes), ("memories.json", memories),
                       ("anticipations.json", anticipations),
                       ("sleep_sessions.json", sessions), ("journal.json", journal)):
        (out / name).write_text(json.dumps([_row(r) for r in rows], indent=2,
                                           ensure_ascii=False), encoding="utf-8")
    return ExportReport(out, len(convs), len(msgs), len(notes), len(memories))
