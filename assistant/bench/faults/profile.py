"""The throw-away profiles of ``bench faults``: the person's rows, integrity,
the ``reverie`` processes, a loopback file server and the synthetic import file."""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.resources import resource

#: The rows that belong to the person: nothing may lose or change them.
PERSON_ROWS: dict[str, str] = {
    "conversation": "SELECT id, title, created_at FROM conversation",
    "message": "SELECT id, conversation_id, role, content, created_at FROM message",
    "note": "SELECT id, title, body FROM note",
    "memory": "SELECT id, text FROM memory WHERE pinned = 1 OR edited = 1",
}

SETTINGS_COMMENT = "# kept by reverie bench faults: comments survive every save"
DOWNLOAD_BYTES = 24 * 1024 * 1024
RUN_TIMEOUT = 120.0


def db_file(profile: Path) -> Path:
    """The database of a ``--data-dir`` profile."""
    return profile / "reverie.db"


def person_rows(database: Path) -> set[tuple[str, str]]:
    """(table, sha256 of the row) for every row the person owns; empty if no file."""
    if not database.exists():
        return set()
    con = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    try:
        rows: set[tuple[str, str]] = set()
        for table, query in PERSON_ROWS.items():
            for row in con.execute(query):
                digest = hashlib.sha256(repr(tuple(row)).encode("utf-8", "surrogatepass"))
                rows.add((table, digest.hexdigest()))
        return rows
    finally:
        con.close()


def count(database: Path, query: str) -> int:
    con = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    try:
        return int(con.execute(query).fetchone()[0])
    finally:
        con.close()


def integrity_problem(database: Path) -> str | None:
    """None when the database is whole; else what ``integrity_check`` said."""
    if not database.exists():
        return None
    try:
        con = sqlite3.connect(database, timeout=30)
        try:
            result = [r[0] for r in con.execute("PRAGMA integrity_check")]
            fks = con.execute("PRAGMA foreign_key_check").fetchall()
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        return f"cannot open: {exc}"
    if result != ["ok"]:
        return "; ".join(result[:3])
    if fks:
        return f"{len(fks)} broken foreign keys"
    return None


def has_traceback(text: str) -> bool:
    return "Traceback (most recent call last)" in text or "\n  File \"" in text


#: A progress line ("Preparing the bundled model: 40%") is not a message.
PROGRESS = re.compile(r": \d{1,3}%$")


def message_lines(stderr: str) -> list[str]:
    """The lines of stderr that speak to the person (usage and progress lines aside)."""
    lines = []
    in_usage = False
    for line in stderr.splitlines():
        if line.startswith("usage:"):
            in_usage = True
            continue
        if in_usage and line.startswith(" "):
            continue
        in_usage = False
        if line.strip() and not PROGRESS.search(line):
            lines.append(line)
    return lines


@dataclass
class Reverie:
    """Runs ``python -m assistant`` as the person would, on the same code as this one."""

    env: dict[str, str]

    @classmethod
    def here(cls) -> Reverie:
        package_parent = Path(__file__).resolve().parents[2]
        env = {k: v for k, v in os.environ.items() if k != "REVERIE_HOME"}
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(package_parent), env.get("PYTHONPATH", "")) if p)
        env["QT_QPA_PLATFORM"] = "offscreen"
        env["PYTHONIOENCODING"] = "utf-8"
        return cls(env)

    def argv(self, data_dir: Path | str, *args: str) -> list[str]:
        return [sys.executable, "-m", "assistant", "--data-dir", str(data_dir), *args]

    def run(self, data_dir: Path | str, *args: str, timeout: float = RUN_TIMEOUT,
            cwd: Path | None = None, prefix: list[str] | None = None,
            ) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*(prefix or []), *self.argv(data_dir, *args)], env=self.env,
                              capture_output=True, text=True, timeout=timeout,
                              stdin=subprocess.DEVNULL, cwd=cwd, errors="replace")

    def start(self, data_dir: Path, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(self.argv(data_dir, *args), env=self.env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                stdin=subprocess.DEVNULL, text=True, errors="replace")


def checked(result: subprocess.CompletedProcess[str], what: str) -> None:
    if result.returncode != 0:
        raise RuntimeError(f"{what} failed (exit {result.returncode}): "
                           f"{result.stderr.strip()[-400:]}")




class _FileHandler(http.server.BaseHTTPRequestHandler):
    payload: bytes = b""

    def do_GET(self) -> None:
        start = 0
        header = self.headers.get("Range", "")
        if header.startswith("bytes="):
            start = int(header[6:].split("-")[0] or 0)
        body = self.payload[start:]
        self.send_response(206 if start else 200)
        if start:
            self.send_header("Content-Range",
                             f"bytes {start}-{len(self.payload) - 1}/{len(self.payload)}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            for i in range(0, len(body), 256 * 1024):
                self.wfile.write(body[i:i + 256 * 1024])
        except (BrokenPipeError, ConnectionResetError):
            pass

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def serve_bytes(payload: bytes) -> Iterator[str]:
    """A loopback HTTP server (Range-aware) serving ``payload``; yields its URL."""
    handler = type("Handler", (_FileHandler,), {"payload": payload})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/fault-model.gguf"
    finally:
        server.shutdown()
        server.server_close()




def synthetic_chats(path: Path, conversations: int, seed: int) -> int:
    """A deterministic Reverie JSONL file; returns how many messages it holds."""
    rng = random.Random(seed)
    people = ["Ana", "Bilal", "Chen", "Dóra", "Émile", "Farah", "Goran", "Hana"]
    things = ["the dentist", "rent", "the garage", "piano lessons", "a flight to Lisbon",
              "the boiler", "Mia's birthday", "the book club"]
    total = 0
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for c in range(conversations):
            day = 1 + c % 28
            messages = []
            for m in range(rng.randint(4, 16)):
                who = rng.choice(people)
                thing = rng.choice(things)
                text = (f"{who} said {thing} is on the {day}th at {rng.randint(7, 19)}:00 "
                        f"(conversation {c}, message {m}) \u2028 next line")
                messages.append({"role": "user" if m % 2 == 0 else "assistant",
                                 "content": text,
                                 "created_at": f"2026-03-{day:02d}T{8 + m % 12:02d}:"
                                               f"{m % 60:02d}:00+00:00"})
            total += len(messages)
            out.write(json.dumps({"title": f"Plans {c}", "messages": messages},
                                 ensure_ascii=False) + "\n")
    return total


@dataclass
class Workspace:
    """The throw-away folder of one benchmark run and its base profile."""

    root: Path
    model: Path
    cli: Reverie
    base: Path = field(init=False)
    chats: Path = field(init=False)
    chat_messages: int = 0
    catalog: Path = field(init=False)
    payload: bytes = b""
    download_url: str = ""
    _trial: int = 0

    def __post_init__(self) -> None:
        self.base = self.root / "base"
        self.chats = self.root / "big-chats.jsonl"
        self.catalog = self.root / "catalog.toml"

    def build(self, seed: int) -> None:
        fixture = resource("bench")
        self.root.mkdir(parents=True, exist_ok=True)
        checked(self.cli.run(self.base, "model", "use", str(self.model)), "model use")
        settings = self.base / "settings.toml"
        settings.write_text(SETTINGS_COMMENT + "\n" + settings.read_text(encoding="utf-8"),
                            encoding="utf-8")
        checked(self.cli.run(self.base, "import", "chats", str(fixture / "chats.jsonl")),
                "import chats")
        checked(self.cli.run(self.base, "import", "notes", str(fixture / "notes")),
                "import notes")
        self.chat_messages = synthetic_chats(self.chats, 400, seed)
        self.payload = random.Random(seed).randbytes(DOWNLOAD_BYTES)
        sha = hashlib.sha256(self.payload).hexdigest()
        self.catalog.write_text(
            '[[model]]\nname = "fault-model"\ndisplay_name = "Fault test model"\n'
            'repository = "local/fault"\nfile = "fault-model.gguf"\n'
            'url = "https://models.invalid/fault-model.gguf"\n'
            f"size_bytes = {len(self.payload)}\nsha256 = \"{sha}\"\n"
            f'ram_bytes = {2 * len(self.payload)}\nlicense = "MIT"\nprompt_style = "completion"\n'
            "parameters = 1\n", encoding="utf-8")

    def trial(self, name: str) -> Path:
        """A fresh copy of the base profile."""
        self._trial += 1
        target = self.root / f"{self._trial:04d}-{name}"
        shutil.copytree(self.base, target, symlinks=True)
        return target
