"""Bringing existing chats and notes in: Reverie JSONL, ChatGPT exports, note folders.

Imports are idempotent: each imported conversation carries a stable ``import_key``
and only messages it does not have yet are added, so importing the same file twice
(or a longer version of it) never duplicates anything and never loses what is stored.
A bad line is reported as ``line N: ...`` and skipped; the rest imports.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from assistant.store.chats import ChatRepository, title_from
from assistant.store.models import Message, Origin, Role
from assistant.store.notes import NoteRepository

log = logging.getLogger("assistant.store")

NOTE_SUFFIXES = (".md", ".markdown", ".txt", ".text")


class ImportFileError(ValueError):
    """The file as a whole cannot be imported; the message says why and what to do."""


@dataclass
class ParsedMessage:
    role: str
    content: str
    created_at: datetime


@dataclass
class ParsedConversation:
    key: str
    title: str
    messages: list[ParsedMessage]


@dataclass
class ImportReport:
    conversations_added: int = 0
    conversations_updated: int = 0
    messages_added: int = 0
    notes_added: int = 0
    notes_updated: int = 0
    notes_unchanged: int = 0
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = []
        if self.conversations_added or self.conversations_updated or self.messages_added:
            parts.append(f"{self.conversations_added} conversations added, "
                         f"{self.conversations_updated} updated, "
                         f"{self.messages_added} messages added")
        if self.notes_added or self.notes_updated or self.notes_unchanged:
            parts.append(f"{self.notes_added} notes added, {self.notes_updated} updated, "
                         f"{self.notes_unchanged} unchanged")
        if not parts:
            parts.append("nothing new to import")
        if self.problems:
            parts.append(f"{len(self.problems)} skipped")
        return "; ".join(parts) + "."


def parse_timestamp(value: Any, *, where: str) -> datetime:
    """ISO-8601 text or a Unix time, as aware UTC (a date without an offset is UTC)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{where}: created_at must be an ISO-8601 date, not {value!r}")
    try:
        if not isinstance(value, str):
            return datetime.fromtimestamp(float(value), UTC)
        parsed = datetime.fromisoformat(value.strip())
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (OverflowError, OSError):
        raise ValueError(f"{where}: created_at {value!r} is out of range") from None
    except ValueError:
        raise ValueError(f"{where}: created_at {value!r} is not an ISO-8601 date") from None


def _conversation_key(prefix: str, title: str, messages: list[ParsedMessage]) -> str:
    first = messages[0] if messages else None
    seed = f"{title}\0{first.created_at.isoformat() if first else ''}\0"
    seed += first.content if first else ""
    return f"{prefix}:{hashlib.sha256(seed.encode()).hexdigest()[:32]}"


def parse_reverie_jsonl(lines: Iterable[str], problems: list[str]) -> Iterator[ParsedConversation]:
    """One conversation per line (ARCHITECTURE section 6); bad lines go to ``problems``."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield _parse_jsonl_line(line, number)
        except ValueError as exc:
            problems.append(f"line {number}: {exc}")
            log.warning("import: line %d skipped: %s", number, exc)


def _parse_jsonl_line(line: str, number: int) -> ParsedConversation:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object with title and messages")
    title = data.get("title", "")
    if not isinstance(title, str):
        raise ValueError("title must be a string")
    raw_messages = data.get("messages")
    if not isinstance(raw_messages, list) or not raw_messages:
        raise ValueError("messages must be a non-empty list")
    messages = []
    for i, raw in enumerate(raw_messages, start=1):
        where = f"message {i}"
        if not isinstance(raw, dict):
            raise ValueError(f"{where} must be an object")
        role = raw.get("role")
        if role not in ("user", "assistant"):
            raise ValueError(f"{where}: role must be 'user' or 'assistant', not {role!r}")
        content = raw.get("content")
        if not isinstance(content, str):
            raise ValueError(f"{where}: content must be a string")
        if "created_at" not in raw:
            raise ValueError(f"{where}: created_at is missing")
        messages.append(ParsedMessage(role, content,
                                      parse_timestamp(raw["created_at"], where=where)))
    title = title.strip() or title_from(messages[0].content)
    return ParsedConversation(_conversation_key("jsonl", title, messages), title, messages)


def parse_chatgpt_export(data: Any, problems: list[str]) -> Iterator[ParsedConversation]:
    """ChatGPT's ``conversations.json``: follow each conversation's current branch."""
    if not isinstance(data, list):
        raise ImportFileError("This JSON file is not a ChatGPT conversations.json export "
                              "(expected a list of conversations).")
    for number, conv in enumerate(data, start=1):
        try:
            yield _parse_chatgpt_conversation(conv)
        except (ValueError, KeyError, TypeError) as exc:
            problems.append(f"conversation {number}: {exc}")
            log.warning("import: ChatGPT conversation %d skipped: %s", number, exc)


def _parse_chatgpt_conversation(conv: Any) -> ParsedConversation:
    if not isinstance(conv, dict) or not isinstance(conv.get("mapping"), dict):
        raise ValueError("not a ChatGPT conversation (no mapping)")
    mapping = {k: v for k, v in conv["mapping"].items() if isinstance(v, dict)}
    node_id = conv.get("current_node")
    if node_id not in mapping:  # fall back to the last leaf
        leaves = [k for k, v in mapping.items() if not v.get("children")]
        node_id = leaves[-1] if leaves else None
    branch = []
    seen = set()
    while node_id is not None and node_id in mapping and node_id not in seen:
        seen.add(node_id)
        node = mapping[node_id]
        branch.append(node)
        node_id = node.get("parent")
    fallback_time = conv.get("create_time") or 0
    messages = []
    for node in reversed(branch):
        msg = node.get("message")
        if not isinstance(msg, dict):
            continue
        role = _as_dict(msg.get("author")).get("role")
        if role not in ("user", "assistant"):
            continue
        parts = _as_dict(msg.get("content")).get("parts")
        if not isinstance(parts, list):
            continue
        text = "\n".join(p for p in parts if isinstance(p, str)).strip()
        if not text:
            continue
        when = msg.get("create_time") or fallback_time
        messages.append(ParsedMessage(role, text, parse_timestamp(when, where="message")))
    if not messages:
        raise ValueError("no user or assistant messages")
    title = str(conv.get("title") or "").strip() or title_from(messages[0].content)
    ident = conv.get("conversation_id") or conv.get("id")
    key = f"chatgpt:{ident}" if ident else _conversation_key("chatgpt", title, messages)
    return ParsedConversation(key, title, messages)


def _as_dict(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one (exports are not always tidy)."""
    return value if isinstance(value, dict) else {}


def read_chat_file(path: Path, problems: list[str]) -> list[ParsedConversation]:
    """Parse a chat export, recognising its format from its content."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ImportFileError(f"{path} does not exist; check the path.") from None
    except IsADirectoryError:
        raise ImportFileError(f"{path} is a folder; give the chat export file.") from None
    except UnicodeDecodeError:
        raise ImportFileError(f"{path} is not a UTF-8 text file; export the chats as "
                              "JSONL or ChatGPT's conversations.json.") from None
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ImportFileError(f"{path} is not valid JSON (line {exc.lineno}: "
                                  f"{exc.msg}).") from None
        return list(parse_chatgpt_export(data, problems))
    return list(parse_reverie_jsonl(text.splitlines(), problems))


def import_chats(path: Path, chats: ChatRepository) -> ImportReport:
    report = ImportReport()
    for conv in read_chat_file(path, report.problems):
        _store_conversation(conv, chats, report)
    return report


def _store_conversation(conv: ParsedConversation, chats: ChatRepository,
                        report: ImportReport) -> None:
    existing = chats.by_import_key(conv.key)
    if existing is None:
        target = chats.create_conversation(conv.title, import_key=conv.key,
                                           created_at=conv.messages[0].created_at)
        have: set[tuple[str, str, datetime]] = set()
        report.conversations_added += 1
    else:
        target = existing
        have = {(m.role, m.content, m.created_at) for m in chats.messages(existing.id or 0)}
    new = [
        Message(conversation_id=target.id or 0, role=Role(m.role).value, content=m.content,
                created_at=m.created_at, origin=Origin.IMPORTED.value)
        for m in conv.messages
        if (m.role, m.content, m.created_at) not in have
    ]
    if new:
        chats.add_messages(target.id or 0, new)
        report.messages_added += len(new)
        if existing is not None:
            report.conversations_updated += 1


def note_title(path: Path, body: str) -> str:
    """The first Markdown heading, else the file name."""
    for line in body.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
        if line.strip():
            break
    return path.stem.replace("_", " ").replace("-", " ").strip() or path.name


def import_notes(folder: Path, notes: NoteRepository) -> ImportReport:
    """Every Markdown or text file under ``folder`` becomes (or updates) one note."""
    if not folder.is_dir():
        raise ImportFileError(f"{folder} is not a folder; give the folder that holds "
                              "your Markdown or text notes.")
    report = ImportReport()
    for path in sorted(p for p in folder.rglob("*") if p.suffix.lower() in NOTE_SUFFIXES):
        if not path.is_file():
            continue
        try:
            body = path.read_text(encoding="utf-8-sig")
        except (UnicodeDecodeError, OSError) as exc:
            reason = "not UTF-8 text" if isinstance(exc, UnicodeDecodeError) else str(exc)
            report.problems.append(f"{path}: {reason}")
            continue
        _, outcome = notes.upsert_from_file(str(path.resolve()), note_title(path, body), body)
        if outcome == "added":
            report.notes_added += 1
        elif outcome == "updated":
            report.notes_updated += 1
        else:
            report.notes_unchanged += 1
    return report
