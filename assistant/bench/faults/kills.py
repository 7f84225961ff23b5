"""Kill six kinds of work with SIGKILL at random moments; check what must hold."""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import signal
import sqlite3
import subprocess
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from assistant.bench.faults.profile import (
    SETTINGS_COMMENT,
    Workspace,
    count,
    db_file,
    has_traceback,
    integrity_problem,
    person_rows,
)


@dataclass
class Operation:
    """One kind of work that is killed: how to start it, what must hold after a kill."""

    name: str
    args: Callable[[Workspace, Path], list[str]]
    after_kill: Callable[[Workspace, Path], list[str]]
    rerun: Callable[[Workspace, Path], list[str]] | None = None


def _import_args(ws: Workspace, profile: Path) -> list[str]:
    return ["import", "chats", str(ws.chats)]


def _import_rerun(ws: Workspace, profile: Path) -> list[str]:
    before = count(db_file(ws.base), "SELECT count(*) FROM message")
    result = ws.cli.run(profile, "import", "chats", str(ws.chats))
    problems = [f"import again: exit {result.returncode}"] if result.returncode else []
    after = count(db_file(profile), "SELECT count(*) FROM message")
    if after != before + ws.chat_messages:
        problems.append(f"import again left {after} messages, one clean import gives "
                        f"{before + ws.chat_messages}")
    return problems


def _note_text(profile: Path) -> str:
    return f"Fault note for {profile.name}: the spare key is under the blue pot \U0001F511"


def _note_args(ws: Workspace, profile: Path) -> list[str]:
    return ["note", "add", _note_text(profile)]


def _note_after(ws: Workspace, profile: Path) -> list[str]:
    con = sqlite3.connect(db_file(profile))
    try:
        rows = con.execute("SELECT body FROM note WHERE body LIKE ?",
                           (f"Fault note for {profile.name}:%",)).fetchall()
    finally:
        con.close()
    if len(rows) > 1 or (rows and rows[0][0] != _note_text(profile)):
        return [f"note add left {len(rows)} partial or duplicate notes"]
    return []


def _sleep_args(ws: Workspace, profile: Path) -> list[str]:
    return ["sleep", "--budget-seconds", "6", "--json"]


def _sleep_rerun(ws: Workspace, profile: Path) -> list[str]:
    result = ws.cli.run(profile, "sleep", "--budget-seconds", "3", "--json")
    return [f"sleep after the kill: exit {result.returncode}: {result.stderr.strip()[-200:]}"
            ] if result.returncode else []


def _export_args(ws: Workspace, profile: Path) -> list[str]:
    return ["export", "--out", str(profile / "export")]


def _export_after(ws: Workspace, profile: Path) -> list[str]:
    problems = []
    for path in sorted((profile / "export").rglob("*")):
        if not path.is_file() or path.name.startswith(".") or ".tmp" in path.name:
            continue
        try:
            text = path.read_text(encoding="utf-8")
            if path.suffix == ".json":
                json.loads(text)
            elif path.suffix == ".jsonl":
                for line in text.split("\n"):
                    if line:
                        json.loads(line)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            problems.append(f"export left a half-written {path.name}: {exc}")
    return problems


def _export_rerun(ws: Workspace, profile: Path) -> list[str]:
    result = ws.cli.run(profile, "export", "--out", str(profile / "export-again"))
    return [f"export again: exit {result.returncode}"] if result.returncode else []


def _settings_args(ws: Workspace, profile: Path) -> list[str]:
    other = ws.root / "same-model.gguf"
    return ["model", "use", str(other)]


def _settings_after(ws: Workspace, profile: Path) -> list[str]:
    path = profile / "settings.toml"
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return [f"settings.toml is broken after the kill: {exc}"]
    problems = []
    used = data.get("model", {}).get("path")
    if used not in (str(ws.model), str(ws.root / "same-model.gguf")):
        problems.append(f"settings name neither model: {used!r}")
    if SETTINGS_COMMENT not in text:
        problems.append("the person's comment in settings.toml was dropped")
    return problems


def _download_args(ws: Workspace, profile: Path) -> list[str]:
    return ["model", "download", "fault-model", "--catalog", str(ws.catalog),
            "--url", ws.download_url]


def _download_after(ws: Workspace, profile: Path) -> list[str]:
    final = profile / "models" / "fault-model.gguf"
    if final.exists() and hashlib.sha256(final.read_bytes()).digest() != hashlib.sha256(
            ws.payload).digest():
        return ["an unverified model file was left under its final name"]
    return []


def _download_rerun(ws: Workspace, profile: Path) -> list[str]:
    result = ws.cli.run(profile, *_download_args(ws, profile))
    if result.returncode:
        return [f"download again: exit {result.returncode}: {result.stderr.strip()[-200:]}"]
    return _download_after(ws, profile)


OPERATIONS: list[Operation] = [
    Operation("import", _import_args, lambda ws, p: [], _import_rerun),
    Operation("note_add", _note_args, _note_after),
    Operation("sleep", _sleep_args, lambda ws, p: [], _sleep_rerun),
    Operation("export", _export_args, _export_after, _export_rerun),
    Operation("settings_save", _settings_args, _settings_after),
    Operation("model_download", _download_args, _download_after, _download_rerun),
]


@dataclass
class KillReport:
    kills: int = 0
    lost_rows: int = 0
    integrity_failures: int = 0
    rerun_failures: int = 0
    tracebacks: int = 0
    finished_before_kill: int = 0
    per_operation: dict[str, int] = field(default_factory=dict)
    operation_seconds: dict[str, float] = field(default_factory=dict)
    sleep_items_killed: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def running_item_kind(profile: Path) -> str | None:
    try:
        con = sqlite3.connect(f"file:{db_file(profile)}?mode=ro", uri=True, timeout=10)
        try:
            row = con.execute("SELECT kind FROM work_item WHERE state = 'running' "
                              "ORDER BY id DESC LIMIT 1").fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return None
    return str(row[0]) if row else None


def _kill_delay(op: Operation, profile: Path, process: subprocess.Popen[str],
                duration: float, rng: random.Random) -> float:
    """Seconds to wait before the kill. Most of a sleep session's first seconds are the
    interpreter and the model loading, so its kills are aimed inside the work items: the
    clock starts when the first item is running."""
    if op.name != "sleep":
        return rng.uniform(0.0, duration)
    deadline = time.monotonic() + duration
    while running_item_kind(profile) is None and process.poll() is None:
        if time.monotonic() > deadline:
            return 0.0
        time.sleep(0.02)  # polling another process's database: there is no event to wait on
    return rng.uniform(0.0, 3.0)


def run_kills(ws: Workspace, kills: int, rng: random.Random,
              report_line: Callable[[str], None]) -> KillReport:
    report = KillReport()
    per_op = max(1, -(-kills // len(OPERATIONS)))
    for op in OPERATIONS:
        calibration = ws.trial(f"{op.name}-calibration")
        started = time.monotonic()
        result = ws.cli.run(calibration, *op.args(ws, calibration))
        duration = time.monotonic() - started
        report.operation_seconds[op.name] = round(duration, 2)
        if result.returncode != 0:
            report.problems.append(f"{op.name} failed unkilled: {result.stderr.strip()[-300:]}")
        report.tracebacks += has_traceback(result.stderr)
        done = attempts = 0
        while done < per_op and attempts < per_op * 4:
            attempts += 1
            profile = ws.trial(op.name)
            before = person_rows(db_file(profile))
            process = ws.cli.start(profile, *op.args(ws, profile))
            try:
                process.wait(timeout=_kill_delay(op, profile, process, duration, rng))
                report.finished_before_kill += 1
                _, stderr = process.communicate()
                report.tracebacks += has_traceback(stderr)
                continue
            except subprocess.TimeoutExpired:
                if op.name == "sleep":
                    kind = running_item_kind(profile) or "(none running)"
                    report.sleep_items_killed[kind] = report.sleep_items_killed.get(kind, 0) + 1
                process.send_signal(signal.SIGKILL)
                process.communicate()
            done += 1
            problem = integrity_problem(db_file(profile))
            if problem:
                report.integrity_failures += 1
                report.problems.append(f"{op.name} kill {done}: integrity: {problem}")
            lost = len(before - person_rows(db_file(profile)))
            if lost:
                report.lost_rows += lost
                report.problems.append(f"{op.name} kill {done}: {lost} rows lost")
            trouble = op.after_kill(ws, profile)
            if op.rerun is not None and not trouble:
                trouble = op.rerun(ws, profile)
                report.rerun_failures += bool(trouble)
            report.problems.extend(f"{op.name} kill {done}: {t}" for t in trouble)
            shutil.rmtree(profile, ignore_errors=True)
        report.per_operation[op.name] = done
        report.kills += done
        report_line(f"{op.name}: {done} kills ({duration:.1f} s unkilled)")
    return report
