"""Bringing existing chats and notes in: Reverie JSONL, ChatGPT exports, note folders,
and whole Reverie export folders.

Imports are idempotent: each imported conversation carries a stable ``import_key``
and only messages it does not have yet are added, so importing the same file twice
(or a longer version of it) never duplicates anything and never loses what is stored.
A bad line is reported as ``line N: ...`` and skipped; the rest imports. JSONL is
split on ``\\n`` only: U+2028, U+2029 and NEL are legal inside a JSON string.

Chat files stream: they are parsed one conversation at a time
(:mod:`assistant.store.import_stream` for ChatGPT's one big JSON array) and stored a
batch at a time (:mod:`assistant.store.import_batch`), so memory stays bounded whatever
the file's size and an interrupted import continues where it stopped when run again.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import logging
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from sqlmodel import col, select

from assistant.store.chats import ChatRepository, title_from
from assistant.store.db import Database
from assistant.store.files import (
    ImportFileError,
    UnreadableFile,
    decode_text,
    is_storable,
    megabytes,
    open_regular,
    read_bytes,
    read_text_file,
    shown,
)
from assistant.store.import_batch import (
    BatchWriter,
    ImportCancelled,
    ImportProgress,
    ImportReport,
    ParsedConversation,
    ParsedMessage,
    ProgressCallback,
    typed_key,
)
from assistant.store.import_stream import JsonArrayReader
from assistant.store.models import Memory, Note, Role
from assistant.store.notes import NoteRepository, content_hash
from assistant.text.lines import is_blank

__all__ = ["ImportCancelled", "ImportFileError", "ImportProgress", "ImportReport",
           "import_chats", "import_export_folder", "import_notes", "note_title",
           "open_chat_file", "parse_chatgpt_export", "parse_reverie_jsonl", "typed_key"]

log = logging.getLogger("assistant.store")

NOTE_SUFFIXES = (".md", ".markdown", ".txt", ".text")
#: One JSONL line (one conversation) longer than this is skipped, not read into memory.
MAX_LINE_BYTES = 64 * 1024 * 1024
#: A whole-file JSON export of an export folder (notes.json, memories.json).
MAX_JSON_BYTES = 1024 * 1024 * 1024
ROLES = {r.value for r in Role}
#: What a Reverie export folder holds that ``import_export_folder`` reads back.
EXPORT_FILES = ("conversations.jsonl", "notes.json", "memories.json")


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


# Reverie JSONL --------------------------------------------------------------------------

def iter_lines(fh: IO[bytes], problems: list[str],
               limit: int | None = None) -> Iterator[tuple[int, str]]:
    """``(line number, text)`` of a JSONL file, split on ``\\n`` only.

    A line that is not UTF-8 or longer than ``limit`` is reported and skipped (a long
    line is never read into memory whole); the other lines still come.
    """
    limit = MAX_LINE_BYTES if limit is None else limit
    number = 0
    while raw := fh.readline(limit + 1):
        number += 1
        if len(raw) > limit and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):
                raw = fh.readline(1 << 20)
            problems.append(f"line {number}: longer than {megabytes(limit)}")
            continue
        if number == 1:
            raw = raw.removeprefix(codecs.BOM_UTF8)
        try:
            yield number, raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(f"line {number}: not UTF-8 text (byte {exc.start + 1})")


def parse_reverie_jsonl(lines: Iterable[str], problems: list[str]) -> Iterator[ParsedConversation]:
    """One conversation per line (docs/ARCHITECTURE.md, "Import and export formats");
    bad lines go to ``problems``."""
    return _parse_numbered(enumerate(lines, start=1), problems)


def _parse_numbered(lines: Iterable[tuple[int, str]],
                    problems: list[str]) -> Iterator[ParsedConversation]:
    for number, line in lines:
        if not line.strip(" \t\r\n"):
            continue
        try:
            yield _parse_jsonl_line(line, number, problems)
        except ValueError as exc:
            problems.append(f"line {number}: {exc}")
            log.warning("import: line %d skipped: %s", number, exc)


def _parse_jsonl_line(line: str, number: int, problems: list[str]) -> ParsedConversation:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg})") from None
    except RecursionError:
        raise ValueError("nested too deeply to be a conversation") from None
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object with title and messages")
    title = data.get("title")
    if title is not None and (not isinstance(title, str) or not is_storable(title)):
        raise ValueError("title must be a string of valid Unicode")
    conv_time = None
    if data.get("created_at") is not None:
        conv_time = parse_timestamp(data["created_at"], where="conversation")
    raw_messages = data.get("messages")
    if not isinstance(raw_messages, list) or not raw_messages:
        raise ValueError("messages must be a non-empty list")
    messages = []
    empty = []
    for i, raw in enumerate(raw_messages, start=1):
        where = f"message {i}"
        if not isinstance(raw, dict):
            raise ValueError(f"{where} must be an object")
        role = raw.get("role")
        if role not in ROLES:
            raise ValueError(f"{where}: role must be 'user', 'assistant' or 'system', "
                             f"not {role!r}")
        content = raw.get("content")
        if not isinstance(content, str):
            raise ValueError(f"{where}: content must be a string")
        if not is_storable(content):
            raise ValueError(f"{where}: content is not valid Unicode (a lone surrogate)")
        if raw.get("created_at") is not None:
            when = parse_timestamp(raw["created_at"], where=where)
        elif conv_time is not None:
            when = conv_time  # a message without a date takes its conversation's
        else:
            raise ValueError(f"{where}: created_at is missing")
        if is_blank(content):
            empty.append(f"line {number}, {where}: empty")
            continue
        ident = raw.get("id")
        messages.append(ParsedMessage(role, content, when, ident if type(ident) is int else None))
    if not messages:
        raise ValueError("every message is empty")
    problems.extend(empty)
    if title is None:
        title = title_from(messages[0].content)
    key = data.get("key")
    if not (isinstance(key, str) and key.strip() and is_storable(key)):
        key = _conversation_key("jsonl", title, messages)
    return ParsedConversation(key, title, messages, conv_time or messages[0].created_at,
                              data.get("archived") is True)


# ChatGPT ----------------------------------------------------------------------------------

def parse_chatgpt_export(data: Any, problems: list[str],
                         report: ImportReport | None = None) -> Iterator[ParsedConversation]:
    """ChatGPT's ``conversations.json``: follow each conversation's current branch
    (``current_node`` up the ``mapping`` parents); alternative branches are counted in
    ``report.branches_skipped``."""
    if not isinstance(data, list):
        raise ImportFileError("This JSON file is not a ChatGPT conversations.json export "
                              "(expected a list of conversations).")
    return _chatgpt_conversations(data, problems, report)


def _chatgpt_conversations(items: Iterable[Any], problems: list[str],
                           report: ImportReport | None) -> Iterator[ParsedConversation]:
    for number, conv in enumerate(items, start=1):
        try:
            parsed, skipped = _parse_chatgpt_conversation(conv)
        except (ValueError, KeyError, TypeError) as exc:
            problems.append(f"conversation {number}: {exc}")
            log.warning("import: ChatGPT conversation %d skipped: %s", number, exc)
            continue
        if report is not None:
            report.branches_skipped += skipped
        yield parsed


def _parse_chatgpt_conversation(conv: Any) -> tuple[ParsedConversation, int]:
    if not isinstance(conv, dict) or not isinstance(conv.get("mapping"), dict):
        raise ValueError("not a ChatGPT conversation (no mapping)")
    mapping = {k: v for k, v in conv["mapping"].items() if isinstance(v, dict)}
    leaves = [k for k, v in mapping.items() if not _has_child(v.get("children"), mapping)]
    node_id = conv.get("current_node")
    if node_id not in mapping:  # fall back to the last leaf
        node_id = leaves[-1] if leaves else None
    branch = []
    seen: set[str] = set()
    while isinstance(node_id, str) and node_id in mapping and node_id not in seen:
        seen.add(node_id)
        node = mapping[node_id]
        branch.append(node)
        node_id = node.get("parent")
    skipped = sum(1 for leaf in leaves if leaf not in seen)
    conv_time = _chatgpt_time(conv.get("create_time"), "conversation") or _chatgpt_time(
        conv.get("update_time"), "conversation")
    pending: list[tuple[str, str, datetime | None]] = []
    for node in reversed(branch):
        msg = node.get("message")
        if not isinstance(msg, dict):
            continue
        role = _as_dict(msg.get("author")).get("role")
        if role not in ("user", "assistant"):
            continue  # ChatGPT's hidden system prompt and tool calls
        parts = _as_dict(msg.get("content")).get("parts")
        if not isinstance(parts, list):
            continue
        if len(parts) == 1 and type(parts[0]) is str:  # the usual case, without a join
            text = parts[0].strip() if is_storable(parts[0]) else ""
        else:
            text = "\n".join(p for p in parts if isinstance(p, str) and is_storable(p)).strip()
        if not text:
            continue
        pending.append((role, text, _chatgpt_time(msg.get("create_time"), "message")))
    if not pending:
        raise ValueError("no user or assistant messages")
    fallback = conv_time or next((t for _, _, t in pending if t is not None), None)
    if fallback is None:
        raise ValueError("no date on the conversation or any of its messages")
    messages = [ParsedMessage(role, text, when or fallback) for role, text, when in pending]
    raw_title = conv.get("title")
    title = (raw_title.strip() if isinstance(raw_title, str) and is_storable(raw_title)
             else "") or title_from(messages[0].content)
    ident = conv.get("conversation_id") or conv.get("id")
    key = (f"chatgpt:{ident}" if isinstance(ident, str) and is_storable(ident)
           else _conversation_key("chatgpt", title, messages))
    return ParsedConversation(key, title, messages, conv_time or messages[0].created_at), skipped


def _has_child(children: Any, mapping: dict[str, Any]) -> bool:
    """Whether a node's ``children`` name a node of ``mapping``."""
    if not children:
        return False
    try:
        return not mapping.keys().isdisjoint(children)
    except TypeError:  # an unhashable child (an object or a list): not a node id
        return any(c in mapping for c in children if isinstance(c, str))


def _chatgpt_time(value: Any, where: str) -> datetime | None:
    """ChatGPT's Unix time, or None when it is missing (null or 0)."""
    if value is None or value == 0:
        return None
    if type(value) is float:  # the usual case, without parse_timestamp's checks
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            pass  # parse_timestamp says why
    return parse_timestamp(value, where=where)


def _as_dict(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one (exports are not always tidy)."""
    return value if isinstance(value, dict) else {}


# Chat files -------------------------------------------------------------------------------

CHAT_ADVICE = "give a Reverie JSONL file or ChatGPT's conversations.json"


@dataclass
class ChatStream:
    """An open chat export: its conversations as they are read, and how far reading is."""

    fh: IO[bytes]
    path: Path
    #: A JSON list: ChatGPT's ``conversations.json``; else Reverie JSONL.
    chatgpt: bool
    size: int
    _reader: JsonArrayReader | None = None

    @property
    def bytes_read(self) -> int:
        return self._reader.bytes_read if self._reader is not None else self.fh.tell()

    def conversations(self, problems: list[str],
                      report: ImportReport | None = None) -> Iterator[ParsedConversation]:
        """The conversations in file order; bad ones go to ``problems``. A file broken
        past repair raises :class:`ImportFileError` where reading reaches the fault."""
        if not self.chatgpt:
            return _parse_numbered(iter_lines(self.fh, problems), problems)
        self._reader = JsonArrayReader(self.fh, self.path, advice=CHAT_ADVICE,
                                       max_element_bytes=MAX_LINE_BYTES)
        return _chatgpt_conversations(self._reader, problems, report)


@contextmanager
def open_chat_file(path: Path) -> Iterator[ChatStream]:
    """Open a chat export, recognising its format from its content: a JSON list is
    ChatGPT's ``conversations.json``, anything else is read as Reverie JSONL."""
    with open_regular(path, "give the chat export file, or the whole export folder with "
                      "`reverie import FOLDER`") as fh:
        start = fh.read(8192)
        body = start.removeprefix(codecs.BOM_UTF8).lstrip(b" \t\r\n")
        if not body:
            raise ImportFileError(f"{shown(path)} is empty; {CHAT_ADVICE}.")
        if b"\0" in start:
            raise ImportFileError(f"{shown(path)} is not a text file (it holds binary data); "
                                  f"{CHAT_ADVICE}.")
        fh.seek(0)
        yield ChatStream(fh, path, body.startswith(b"["), os.fstat(fh.fileno()).st_size)


def _load_json(data: bytes, path: Path, advice: str) -> Any:
    text = decode_text(data, path, advice)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportFileError(f"{shown(path)} is not valid JSON (line {exc.lineno}: "
                              f"{exc.msg}).") from None
    except RecursionError:
        raise ImportFileError(f"{shown(path)} is nested too deeply to be an export; "
                              f"{advice}.") from None


def import_chats(path: Path, chats: ChatRepository, *,
                 progress: ProgressCallback | None = None,
                 should_stop: Callable[[], bool] | None = None) -> ImportReport:
    """Import a chat export, a batch (one transaction) at a time.

    ``progress`` hears after every committed batch; ``should_stop`` is asked between
    conversations and ends the import with :class:`ImportCancelled` (what was committed
    stays; importing the file again continues). A fault that makes the rest of the file
    unreadable raises :class:`ImportFileError` after storing what came before it.
    """
    report = ImportReport()
    writer = BatchWriter(chats.db, report)
    with open_chat_file(path) as stream:
        def tell() -> None:
            if progress is not None:
                progress(ImportProgress(writer.conversations_done, report.messages_added,
                                        stream.bytes_read, stream.size))

        tell()
        parsed = 0
        try:
            for conv in stream.conversations(report.problems, report):
                if should_stop is not None and should_stop():
                    raise ImportCancelled(report)
                parsed += 1
                if writer.add(conv):
                    tell()
            writer.flush()
            if not parsed and report.problems and all(
                    p.startswith("line ") for p in report.problems):
                # Not one line of it is a conversation: not a chat file at all (a
                # ChatGPT export whose conversations are all images is reported as is).
                raise ImportFileError(
                    f"{shown(path)} holds no conversation Reverie can read "
                    f"({len(report.problems)} "
                    f"skipped, the first: {report.problems[0]}); give Reverie JSONL (one "
                    "conversation per line) or ChatGPT's conversations.json.")
        except ImportFileError as exc:
            writer.flush()
            if not writer.conversations_done:
                raise
            raise ImportFileError(
                f"{str(exc).removesuffix('.')}; the {writer.conversations_done} "
                "conversations before that point were imported, and importing the "
                "repaired file adds only the rest.") from None
        tell()
    return report


# Note folders -------------------------------------------------------------------------------

def note_title(path: Path, body: str) -> str:
    """The first Markdown heading, else the file name."""
    for line in body.splitlines():
        if line.startswith("# "):
            return line[2:].strip()
        if line.strip():
            break
    stem = shown(path.stem)
    return stem.replace("_", " ").replace("-", " ").strip() or shown(path.name)


def import_notes(folder: Path, notes: NoteRepository) -> ImportReport:
    """Every Markdown or text file under ``folder`` becomes (or updates) one note, with
    its text exactly as in the file. Links that lead out of the folder are not followed;
    pipes, devices, huge files, non-UTF-8 and empty files are reported and skipped."""
    if not folder.is_dir():
        raise ImportFileError(f"{shown(folder)} is not a folder; give the folder that holds "
                              "your Markdown or text notes.")
    report = ImportReport()
    seen: set[Path] = set()
    for path, real in _note_files(folder.resolve(), report.problems):
        if real in seen:  # a link to a note inside the folder: the same note
            continue
        seen.add(real)
        try:
            body = read_text_file(real)
        except UnreadableFile as exc:
            report.problems.append(f"{shown(path)}: {exc.reason}")
            continue
        if is_blank(body):
            report.problems.append(f"{shown(path)}: empty")
            continue
        _, outcome = notes.upsert_from_file(shown(real), note_title(path, body), body)
        if outcome == "added":
            report.notes_added += 1
        elif outcome == "updated":
            report.notes_updated += 1
        else:
            report.notes_unchanged += 1
    return report


def _note_files(root: Path, problems: list[str]) -> Iterator[tuple[Path, Path]]:
    """``(path, resolved path)`` of the note files under ``root``, in name order; links
    out of ``root`` are reported, never followed."""
    def unreadable(exc: OSError) -> None:
        problems.append(f"{shown(exc.filename or root)}: cannot be read "
                        f"({exc.strerror or exc})")

    for dirpath, dirnames, filenames in os.walk(root, onerror=unreadable):
        here = Path(dirpath)
        dirnames.sort()
        for name in list(dirnames):
            link = here / name  # os.walk does not descend into a linked folder
            if link.is_symlink() and not link.resolve().is_relative_to(root):
                problems.append(f"{shown(link)}: a link to a folder outside {shown(root)}; "
                                "not followed")
        for name in sorted(filenames):
            path = here / name
            if path.suffix.lower() not in NOTE_SUFFIXES:
                continue
            real = path.resolve()
            if not real.is_relative_to(root):
                problems.append(f"{shown(path)}: a link to a file outside {shown(root)}; "
                                "not followed")
                continue
            yield path, real


# Reverie export folders ---------------------------------------------------------------------

def import_export_folder(folder: Path, db: Database) -> ImportReport:
    """Read back a folder written by ``reverie export``: its conversations (every role),
    its notes (exact text and dates) and the memories the person pinned or edited (the
    rest is remade while they are away), with memory sources pointing at the imported
    rows. Importing a profile's own export into it adds nothing."""
    if not folder.is_dir():
        raise ImportFileError(f"{shown(folder)} is not a folder; give the folder "
                              "`reverie export` wrote, or use `reverie import chats FILE`.")
    if not any((folder / name).exists() for name in EXPORT_FILES):
        raise ImportFileError(f"{shown(folder)} is not a Reverie export (it has no "
                              f"{', '.join(EXPORT_FILES)}); for a folder of notes use "
                              "`reverie import notes FOLDER`.")
    report = ImportReport()
    # Every file is read and checked before anything is stored: a broken notes.json
    # must not leave the conversations half imported.
    conversations = _read_conversations(folder / "conversations.jsonl", report)
    notes = _json_items(folder / "notes.json", report)
    memories = _json_items(folder / "memories.json", report)
    message_ids = _store_conversations(conversations, db, report)
    note_ids = _import_notes_json(folder / "notes.json", notes, db, report)
    _import_memories_json(folder / "memories.json", memories, db, report, message_ids,
                          note_ids)
    return report


def _read_conversations(path: Path, report: ImportReport) -> list[ParsedConversation]:
    if not path.exists():
        return []
    problems: list[str] = []
    with open_regular(path, "export again with `reverie export`") as fh:
        conversations = list(_parse_numbered(iter_lines(fh, problems), problems))
    report.problems.extend(f"{path.name} {p}" for p in problems)
    return conversations


def _store_conversations(conversations: list[ParsedConversation], db: Database,
                         report: ImportReport) -> dict[int, int]:
    writer = BatchWriter(db, report)
    for conv in conversations:
        writer.add(conv)
    writer.flush()
    return writer.message_ids


def _json_items(path: Path, report: ImportReport) -> list[tuple[int, dict[str, Any]]]:
    """The objects of an exported JSON list, numbered from 1; anything else is reported."""
    if not path.exists():
        return []
    data = _load_json(read_bytes(path, MAX_JSON_BYTES), path,
                      "export again with `reverie export`")
    if not isinstance(data, list):
        raise ImportFileError(f"{shown(path)} is not a list; export again with "
                              "`reverie export`.")
    items = []
    for number, item in enumerate(data, start=1):
        if isinstance(item, dict):
            items.append((number, item))
        else:
            report.problems.append(f"{path.name} item {number}: not an object")
    return items


def _text(item: dict[str, Any], key: str, *, default: str | None = None) -> str:
    value = item.get(key, default)
    if not isinstance(value, str) or not is_storable(value):
        raise ValueError(f"{key} must be a string of valid Unicode")
    return value


def _time(item: dict[str, Any], key: str, default: datetime | None = None) -> datetime:
    value = item.get(key)
    if value is None:
        if default is None:
            raise ValueError(f"{key} is missing")
        return default
    return parse_timestamp(value, where=key)


def _import_notes_json(path: Path, items: list[tuple[int, dict[str, Any]]], db: Database,
                       report: ImportReport) -> dict[int, int]:
    """Notes by (text, creation time) as a multiset: what is already here stays, what is
    missing is added with its exported dates."""
    ids: dict[int, int] = {}
    if not items:
        return ids
    with db.session() as s:
        have: dict[tuple[str, datetime], list[int]] = defaultdict(list)
        for note in s.exec(select(Note).order_by(col(Note.id))):
            have[(note.content_hash, note.created_at)].append(note.id or 0)
    for number, item in items:
        try:
            title, body = _text(item, "title", default=""), _text(item, "body")
            created = _time(item, "created_at")
            updated = _time(item, "updated_at", created)
            source = item.get("source_path")
            if source is not None and not (isinstance(source, str) and is_storable(source)):
                raise ValueError("source_path must be a string")
        except ValueError as exc:
            report.problems.append(f"{path.name} item {number}: {exc}")
            continue
        if is_blank(body):
            report.problems.append(f"{path.name} item {number}: empty")
            continue
        digest = content_hash(title, body)
        old_id = item.get("id")
        if found := have.get((digest, created)):
            report.notes_unchanged += 1
            new_id = found.pop(0)
        else:
            with db.write() as s:
                if source and s.exec(select(Note).where(Note.source_path == source)).first():
                    source = None  # that file's note is already here: keep both texts
                note = Note(title=title, body=body, created_at=created, updated_at=updated,
                            source_path=source, content_hash=digest)
                s.add(note)
                s.flush()
                new_id = note.id or 0
            report.notes_added += 1
        if type(old_id) is int:
            ids[old_id] = new_id
    return ids


def _import_memories_json(path: Path, items: list[tuple[int, dict[str, Any]]], db: Database,
                          report: ImportReport, message_ids: dict[int, int],
                          note_ids: dict[int, int]) -> None:
    """Only current memories the person pinned or edited: they hold the person's own
    judgement; the others are derived and are remade from the imported conversations."""
    from assistant.store.models import MemoryKind, MemoryScope

    if not items:
        return
    with db.session() as s:
        have: Counter[tuple[str, str, str, datetime]] = Counter(
            (m.kind, m.subject, m.text, m.created_at) for m in s.exec(select(Memory)))
    memory_ids: dict[int, int] = {}
    kinds, scopes = {k.value for k in MemoryKind}, {k.value for k in MemoryScope}
    for number, item in items:
        if item.get("superseded_by") is not None or not (item.get("pinned") is True
                                                         or item.get("edited") is True):
            continue
        try:
            kind, scope = _text(item, "kind"), _text(item, "scope", default="global")
            if kind not in kinds or scope not in scopes:
                raise ValueError(f"kind {kind!r} or scope {scope!r} is unknown")
            subject, text = _text(item, "subject", default=""), _text(item, "text")
            created = _time(item, "created_at")
            updated = _time(item, "updated_at", created)
            confidence = item.get("confidence", 1.0)
            if isinstance(confidence, bool) or not isinstance(confidence, int | float) \
                    or not 0.0 <= confidence <= 1.0:
                raise ValueError("confidence must be a number from 0 to 1")
        except ValueError as exc:
            report.problems.append(f"{path.name} item {number}: {exc}")
            continue
        if is_blank(text):
            report.problems.append(f"{path.name} item {number}: empty")
            continue
        key = (kind, subject, text, created)
        if have[key] > 0:
            have[key] -= 1
            report.memories_unchanged += 1
            continue
        sources = _map_sources(item.get("sources"), {"messages": message_ids,
                                                     "notes": note_ids,
                                                     "memories": memory_ids})
        hash_ = item.get("sources_hash")
        memory = Memory(kind=kind, scope=scope, subject=subject, text=text,
                        confidence=float(confidence), pinned=item.get("pinned") is True,
                        edited=item.get("edited") is True, created_at=created,
                        updated_at=updated, sources=sources,
                        sources_hash=hash_ if isinstance(hash_, str) else "")
        with db.write() as s:
            s.add(memory)
            s.flush()
            if type(item.get("id")) is int and memory.id is not None:
                memory_ids[item["id"]] = memory.id
        report.memories_added += 1


def _map_sources(raw: Any, maps: dict[str, dict[int, int]]) -> dict[str, list[int]]:
    """Exported source ids -> the ids of the same rows here; ones not imported are dropped."""
    out: dict[str, list[int]] = {}
    if not isinstance(raw, dict):
        return out
    for kind, mapping in maps.items():
        ids = raw.get(kind)
        if isinstance(ids, list):
            mapped = [mapping[i] for i in ids if type(i) is int and i in mapping]
            if mapped:
                out[kind] = mapped
    return out
