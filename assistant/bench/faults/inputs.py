"""Every class of bad input found so far, and the check that each is answered clearly."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from assistant.bench.faults.kills import running_item_kind
from assistant.bench.faults.profile import (
    Workspace,
    count,
    db_file,
    has_traceback,
    message_lines,
    person_rows,
)


@dataclass
class Outcome:
    exit_code: int
    stderr: str
    stdout: str = ""
    problems: list[str] = field(default_factory=list)


@dataclass
class BadInput:
    """One class of bad input: what it does, which exit codes are right, how many
    lines of stderr may speak (0 for a quiet success)."""

    name: str
    run: Callable[[Workspace, Path], Outcome]
    exits: tuple[int, ...] = (2,)
    max_lines: int = 1
    needs_model: bool = False
    #: argparse's "invalid choice" is the right answer only for a wrong word; for a
    #: command that should exist it means the command is missing.
    usage_error_ok: bool = False


def _cli(ws: Workspace, profile: Path, *args: str, timeout: float = 60,
         cwd: Path | None = None) -> Outcome:
    try:
        result = ws.cli.run(profile, *args, timeout=timeout, cwd=cwd)
    except subprocess.TimeoutExpired:
        return Outcome(-1, "", problems=[f"no answer within {timeout:.0f} s"])
    return Outcome(result.returncode, result.stderr, result.stdout)


def simple(name: str, *args: str, exits: tuple[int, ...] = (2,), max_lines: int = 1,
           needs_model: bool = False, usage_error_ok: bool = False) -> BadInput:
    return BadInput(name, lambda ws, p: _cli(ws, p, *args), exits, max_lines, needs_model,
                    usage_error_ok)


def _write(path: Path, data: bytes | str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8", newline="")
    else:
        path.write_bytes(data)
    return path


def _jsonl_line(title: str, content: str, role: str = "user") -> str:
    return json.dumps({"title": title, "messages": [
        {"role": role, "content": content, "created_at": "2026-05-01T10:00:00+00:00"}]},
        ensure_ascii=False)


def _import_lines(name: str, lines: list[str], expect_messages: int,
                  exits: tuple[int, ...] = (0,), max_lines: int = 2) -> BadInput:
    """Import a file made of ``lines`` joined by "\\n"; ``expect_messages`` new messages."""

    def run(ws: Workspace, profile: Path) -> Outcome:
        before = count(db_file(profile), "SELECT count(*) FROM message")
        file = _write(profile.parent / f"{profile.name}.jsonl", "\n".join(lines) + "\n")
        outcome = _cli(ws, profile, "import", "chats", str(file))
        added = count(db_file(profile), "SELECT count(*) FROM message") - before
        if added != expect_messages:
            outcome.problems.append(f"imported {added} messages, expected {expect_messages}")
        return outcome

    return BadInput(name, run, exits, max_lines)


def _import_bytes(name: str, data: bytes, exits: tuple[int, ...] = (2,)) -> BadInput:
    def run(ws: Workspace, profile: Path) -> Outcome:
        return _cli(ws, profile, "import", "chats",
                    str(_write(profile.parent / f"{profile.name}.data", data)))

    return BadInput(name, run, exits)


def _export_roundtrip(ws: Workspace, profile: Path) -> Outcome:
    text = "line one\u2028line two\u2029para\x85nel \U0001F600 end"
    _write(profile.parent / "rt.jsonl", _jsonl_line("Round trip", text) + "\n")
    first = _cli(ws, profile, "import", "chats", str(profile.parent / "rt.jsonl"))
    out = profile.parent / f"{profile.name}-export"
    exported = _cli(ws, profile, "export", "--out", str(out))
    fresh = profile.parent / f"{profile.name}-fresh"
    result = _cli(ws, fresh, "import", "chats", str(out / "conversations.jsonl"))
    outcome = Outcome(result.exit_code, first.stderr + exported.stderr + result.stderr)
    con = sqlite3.connect(db_file(fresh))
    try:
        found = con.execute("SELECT count(*) FROM message WHERE content = ?", (text,)
                            ).fetchone()[0]
    finally:
        con.close()
    if found != 1:
        outcome.problems.append("a message with U+2028/U+2029/NEL did not survive "
                                "export -> import")
    return outcome


def _export_nonempty(ws: Workspace, profile: Path) -> Outcome:
    out = profile.parent / f"{profile.name}-out"
    mine = _write(out / "conversations.jsonl", "the person's own file\n")
    outcome = _cli(ws, profile, "export", "--out", str(out))
    if mine.read_text(encoding="utf-8") != "the person's own file\n":
        outcome.problems.append("export overwrote a file that was already there")
    return outcome


def _export_to_file(ws: Workspace, profile: Path) -> Outcome:
    target = _write(profile.parent / f"{profile.name}-file.txt", "keep me")
    outcome = _cli(ws, profile, "export", "--out", str(target))
    if target.read_text(encoding="utf-8") != "keep me":
        outcome.problems.append("export changed a file given as --out")
    return outcome


def _data_dir_empty(ws: Workspace, profile: Path) -> Outcome:
    cwd = profile.parent / f"{profile.name}-cwd"
    cwd.mkdir()
    result = ws.cli.run("", "memory", "list", cwd=cwd)
    outcome = Outcome(result.returncode, result.stderr)
    if any(cwd.iterdir()):
        outcome.problems.append("--data-dir '' wrote into the current folder")
    return outcome


def _data_dir_mode(ws: Workspace, profile: Path) -> Outcome:
    shared = profile.parent / f"{profile.name}-shared"
    shutil.copytree(profile, shared)
    shared.chmod(0o1777)
    outcome = _cli(ws, shared, "memory", "list")
    mode = shared.stat().st_mode & 0o7777
    if mode != 0o1777:
        outcome.problems.append(f"the folder's mode changed from 1777 to {mode:o}")
    return outcome


def _data_dir_file(ws: Workspace, profile: Path) -> Outcome:
    target = _write(profile.parent / f"{profile.name}-plain", "not a folder")
    return _cli(ws, target, "memory", "list")


def _settings_kept(ws: Workspace, profile: Path) -> Outcome:
    path = profile / "settings.toml"
    path.write_text(path.read_text(encoding="utf-8") + "\n# my own note\n"
                    "[my_plugin]\ncolour = \"teal\"\n", encoding="utf-8")
    outcome = _cli(ws, profile, "model", "use", str(ws.root / "same-model.gguf"))
    text = path.read_text(encoding="utf-8")
    if "# my own note" not in text or "colour = \"teal\"" not in text:
        outcome.problems.append("model use dropped a comment or an unknown key")
    return outcome


def _settings_unchanged(*args: str, exits: tuple[int, ...] = (1, 2)) -> Callable[
        [Workspace, Path], Outcome]:
    def run(ws: Workspace, profile: Path) -> Outcome:
        path = profile / "settings.toml"
        before = path.read_bytes()
        outcome = _cli(ws, profile, *args)
        if path.read_bytes() != before:
            outcome.problems.append("settings changed although the command failed")
        return outcome

    return run


def _remote_url_bad(ws: Workspace, profile: Path) -> Outcome:
    path = profile / "settings.toml"
    text = path.read_text(encoding="utf-8")
    bad = 'remote_url = "http://[::1"'
    text, found = re.subn(r"(?m)^remote_url\s*=.*$", bad, text)
    if not found:
        text = text.replace("[model]", f"[model]\n{bad}", 1)
    path.write_text(text, encoding="utf-8")
    outcome = _cli(ws, profile, "memory", "list")
    if not list(profile.glob("settings.toml.broken-*")):
        outcome.problems.append("the person's settings file was not kept")
    return outcome


def _corrupt(profile: Path) -> None:
    database = db_file(profile)
    con = sqlite3.connect(database)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    data = bytearray(database.read_bytes())
    page = 4096
    for offset in range(page * 2, min(len(data), page * 6)):
        data[offset] = 0xA5
    database.write_bytes(bytes(data))


def _corrupt_then(*args: str, exits: tuple[int, ...] = (1, 2)) -> Callable[
        [Workspace, Path], Outcome]:
    def run(ws: Workspace, profile: Path) -> Outcome:
        _corrupt(profile)
        before = db_file(profile).read_bytes()
        outcome = _cli(ws, profile, *args)
        if outcome.exit_code not in exits:
            return outcome
        text = outcome.stderr + outcome.stdout
        if "unexpected error" in text:
            outcome.problems.append("said 'unexpected error'")
        if db_file(profile).read_bytes() != before:
            outcome.problems.append("the damaged database was changed")
        return outcome

    return run


def _corrupt_then_export(ws: Workspace, profile: Path) -> Outcome:
    return _corrupt_then("export", "--out", str(profile.parent / f"{profile.name}-out"))(
        ws, profile)


def _over_long_question(ws: Workspace, profile: Path) -> Outcome:
    before = count(db_file(profile), "SELECT count(*) FROM message")
    question = "Why " + "is the sky blue and " * 5000 + "?"
    outcome = _cli(ws, profile, "ask", question)
    if count(db_file(profile), "SELECT count(*) FROM message") != before:
        outcome.problems.append("the over-long question was stored")
    follow = _cli(ws, profile, "ask", "What is the capital of France?")
    if follow.exit_code != 0:
        outcome.problems.append(f"the next question failed: {follow.stderr.strip()[:200]}")
    return outcome


def _fifo(ws: Workspace, profile: Path) -> Outcome:
    fifo = profile.parent / f"{profile.name}.fifo"
    os.mkfifo(fifo)
    return _cli(ws, profile, "note", "add", "--file", str(fifo), timeout=20)


def _symlink_out(ws: Workspace, profile: Path) -> Outcome:
    folder = profile.parent / f"{profile.name}-notes"
    _write(folder / "inside.md", "# Inside\nA note that belongs here.\n")
    secret = _write(profile.parent / f"{profile.name}-secret.md",
                    "# Secret\nOUTSIDE-THE-FOLDER-7c1f\n")
    (folder / "link.md").symlink_to(secret)
    outcome = _cli(ws, profile, "import", "notes", str(folder))
    if count(db_file(profile), "SELECT count(*) FROM note WHERE body LIKE "
                           "'%OUTSIDE-THE-FOLDER-7c1f%'"):
        outcome.problems.append("import notes followed a link out of the folder")
    return outcome


def _note_file(name: str, data: bytes, exits: tuple[int, ...] = (2,)) -> BadInput:
    def run(ws: Workspace, profile: Path) -> Outcome:
        path = _write(profile.parent / f"{profile.name}-{name}.md", data)
        return _cli(ws, profile, "note", "add", "--file", str(path))

    return BadInput(f"note_add_{name}", run, exits)


def _second_thinker(ws: Workspace, profile: Path) -> Outcome:
    first = ws.cli.start(profile, "sleep", "--budget-seconds", "60")
    try:
        deadline = time.monotonic() + 60
        while running_item_kind(profile) is None and first.poll() is None:
            if time.monotonic() > deadline:
                return Outcome(-1, "", problems=["the first sleep never started an item"])
            time.sleep(0.05)
        outcome = _cli(ws, profile, "sleep", "--budget-seconds", "2")
        if str(first.pid) not in outcome.stderr:
            outcome.problems.append("the refusal does not name the thinking process")
        return outcome
    finally:
        first.send_signal(signal.SIGINT)
        try:
            first.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            first.kill()
            first.communicate()


def _newer_schema(ws: Workspace, profile: Path) -> Outcome:
    con = sqlite3.connect(db_file(profile))
    con.execute("UPDATE alembic_version SET version_num = 'ffff_from_the_future'")
    con.commit()
    con.close()
    before = db_file(profile).read_bytes()
    outcome = _cli(ws, profile, "memory", "list")
    if db_file(profile).read_bytes() != before:
        outcome.problems.append("a newer database was changed")
    return outcome


def _corrupt_settings(ws: Workspace, profile: Path) -> Outcome:
    (profile / "settings.toml").write_text("[model\npath = ", encoding="utf-8")
    return _cli(ws, profile, "memory", "list")


def _full_disk(ws: Workspace, profile: Path) -> Outcome:
    mount = profile.parent / f"{profile.name}-tmpfs"
    mount.mkdir()
    if os.geteuid() != 0 or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount)],
            capture_output=True).returncode != 0:
        return Outcome(-2, "", problems=["cannot mount a small tmpfs here (needs root)"])
    try:
        small = mount / "profile"
        first = _cli(ws, small, "note", "add", "A note written before the disk filled up.")
        if first.exit_code != 0:
            return Outcome(first.exit_code, first.stderr, problems=["first note failed"])
        before = person_rows(db_file(small))
        filler = mount / "filler"
        with filler.open("wb") as out:
            try:
                while True:
                    out.write(b"\0" * 65536)
            except OSError:
                pass
        outcome = _cli(ws, small, "import", "chats", str(ws.chats))
        filler.unlink()
        if before - person_rows(db_file(small)):
            outcome.problems.append("rows were lost on the full disk")
        return outcome
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def _unprivileged() -> list[str] | None:
    """A command prefix that runs as ``nobody`` (root ignores file modes); None when
    that is not possible here. Empty when this process is unprivileged already."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        return None
    import grp

    group = "nogroup" if "nogroup" in {g.gr_name for g in grp.getgrall()} else "nobody"
    return ["setpriv", "--reuid=nobody", f"--regid={group}", "--clear-groups"]


def _readonly_profile(ws: Workspace, profile: Path) -> Outcome:
    """A profile the person may only read: answers work, writes say why."""
    prefix = _unprivileged()
    if prefix is None:
        return Outcome(-2, "", problems=["needs setpriv to drop root's privileges"])
    if prefix:  # the unprivileged user must reach the folder and own the profile
        profile.parent.chmod(0o755)
        for path in [profile, *profile.rglob("*")]:
            shutil.chown(path, "nobody", prefix[2].split("=")[1])
    for path in [*profile.rglob("*"), profile]:
        path.chmod(path.stat().st_mode & ~0o222)
    before = db_file(profile).read_bytes()

    def run(*args: str) -> Outcome:
        result = ws.cli.run(profile, *args, prefix=prefix, cwd=profile.parent)
        return Outcome(result.returncode, result.stderr, result.stdout)

    try:
        outcome = run("note", "add", "this cannot be saved")
        listing = run("memory", "list")
        if listing.exit_code != 0:
            outcome.problems.append("a read-only profile cannot even be read: "
                                    + listing.stderr.strip()[:200])
    finally:
        for path in [profile, *profile.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)
    if db_file(profile).read_bytes() != before:
        outcome.problems.append("the read-only database was written")
    return outcome


def bad_inputs() -> list[BadInput]:
    """Every class of bad input; the comment names the defect each one reproduces."""
    big_text = "x" * 200
    return [
        # Import splits only on "\n" (U+2028/U+2029/NEL live inside JSON strings).
        _import_lines("import_u2028_in_message", [_jsonl_line("A", "one\u2028two")], 1,
                      max_lines=1),
        _import_lines("import_u2029_and_nel", [_jsonl_line("B", "one\u2029two\x85three")], 1,
                      max_lines=1),
        BadInput("export_import_roundtrip_unicode", _export_roundtrip, (0,), max_lines=1),
        # Export never overwrites.
        BadInput("export_into_nonempty_folder", _export_nonempty),
        BadInput("export_onto_a_file", _export_to_file),
        # The person's folders and files change only on purpose.
        BadInput("data_dir_empty_string", _data_dir_empty),
        BadInput("data_dir_shared_folder_mode_kept", _data_dir_mode, (0,), max_lines=1),
        BadInput("data_dir_is_a_file", _data_dir_file),
        BadInput("read_only_profile", _readonly_profile, (1, 2), max_lines=2),
        BadInput("settings_comments_and_unknown_keys_kept", _settings_kept, (0,), 2),
        BadInput("corrupt_settings_file", _corrupt_settings, (0,), 2),
        # Forget and delete: unknown ids.
        simple("memory_forget_unknown_id", "memory", "forget", "999999"),
        simple("note_delete_unknown_id", "note", "delete", "999999"),
        simple("chats_delete_unknown_id", "chats", "delete", "999999"),
        simple("note_delete_not_a_number", "note", "delete", "seven"),
        # One thinker per profile.
        BadInput("second_sleep_on_one_profile", _second_thinker, (1,), needs_model=True),
        # Over-long and empty questions.
        BadInput("ask_100kb_question", _over_long_question, (2,), needs_model=True),
        simple("ask_empty_question", "ask", "   "),
        simple("ask_unknown_mode", "ask", "hi", "--mode", "fast", usage_error_ok=True),
        # Errors at the edges.
        BadInput("disk_full_during_import", _full_disk, (1,)),
        BadInput("corrupt_page_doctor", _corrupt_then("doctor", "--no-model"), (1,), 40),
        BadInput("corrupt_page_export", _corrupt_then_export, (1, 2)),
        simple("memory_show_huge_id", "memory", "show", "99999999999999999999"),
        simple("memory_show_negative_id", "memory", "show", "-5"),
        BadInput("bad_remote_url_in_settings", _remote_url_bad, (0, 1, 2)),
        BadInput("model_use_unreachable_server",
                 _settings_unchanged("model", "use", "http://127.0.0.1:9/v1"), (1, 2)),
        BadInput("model_use_malformed_url",
                 _settings_unchanged("model", "use", "http://[::1"), (2,)),
        BadInput("model_use_missing_file",
                 _settings_unchanged("model", "use", "/nonexistent/model.gguf"), (2,)),
        BadInput("model_use_not_gguf",
                 _settings_unchanged("model", "use", "/etc/hostname"), (2,)),
        simple("model_download_unknown_name", "model", "download", "no-such-model"),
        BadInput("newer_schema_database", _newer_schema),
        simple("sleep_zero_budget", "sleep", "--budget-seconds", "0"),
        simple("sleep_nan_budget", "sleep", "--budget-seconds", "nan"),
        simple("bench_idle_zero_trials", "bench", "idle", "--trials", "0"),
        simple("unknown_command", "teleport", usage_error_ok=True),
        # Hostile import files.
        _import_lines("import_deeply_nested_line",
                      [_jsonl_line("C", "fine"),
                       '{"title": ' + "[" * 100_000 + "]" * 100_000 + "}"], 1),
        BadInput("import_invalid_utf8_line", lambda ws, p: _invalid_utf8(ws, p), (0,), 2),
        _import_bytes("import_binary_file", bytes(range(256)) * 64),
        _import_bytes("import_chatgpt_not_a_list", b'{"mapping": 5}', (0, 2)),
        simple("import_missing_file", "import", "chats", "/nonexistent/chats.jsonl"),
        simple("import_folder_as_chats_file", "import", "chats", "/tmp"),
        _import_lines("import_empty_messages", [_jsonl_line("D", ""),
                                                _jsonl_line("E", "   \n "),
                                                _jsonl_line("F", big_text)], 1),
        # Hostile note files.
        BadInput("note_add_fifo", _fifo),
        simple("note_add_dev_zero", "note", "add", "--file", "/dev/zero"),
        BadInput("import_notes_symlink_out_of_folder", _symlink_out, (0,), 2),
        simple("note_add_empty_text", "note", "add", ""),
        simple("note_add_invisible_text", "note", "add", "\u202e\u200b\ufeff"),
        _note_file("whitespace_file", b"  \n\t\n"),
        _note_file("invalid_utf8", b"\xff\xfe\x00bad"),
        simple("note_add_missing_file", "note", "add", "--file", "/nonexistent/n.md"),
        simple("note_add_folder", "note", "add", "--file", "/tmp"),
    ]


def _invalid_utf8(ws: Workspace, profile: Path) -> Outcome:
    before = count(db_file(profile), "SELECT count(*) FROM message")
    data = (_jsonl_line("G", "good one") + "\n").encode() + b'{"title": "\xff\xfe"}\n' + (
        _jsonl_line("H", "good two") + "\n").encode()
    path = _write(profile.parent / f"{profile.name}-bad-utf8.jsonl", data)
    outcome = _cli(ws, profile, "import", "chats", str(path))
    if count(db_file(profile), "SELECT count(*) FROM message") - before != 2:
        outcome.problems.append("one bad line stopped the good lines from importing")
    if "line 2" not in outcome.stderr:
        outcome.problems.append("the bad line is not named by its number")
    return outcome


@dataclass
class BadInputReport:
    classes: list[str] = field(default_factory=list)
    clear: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    tracebacks: int = 0
    problems: list[str] = field(default_factory=list)


def run_bad_inputs(ws: Workspace, report_line: Callable[[str], None],
                   with_model: bool = True, only: set[str] | None = None) -> BadInputReport:
    report = BadInputReport()
    for case in bad_inputs():
        if (only is not None and case.name not in only) or (case.needs_model and not with_model):
            continue
        profile = ws.trial(case.name)
        before = person_rows(db_file(profile))
        outcome = case.run(ws, profile)
        if outcome.exit_code == -2:
            report.skipped[case.name] = "; ".join(outcome.problems)
            continue
        report.classes.append(case.name)
        problems = list(outcome.problems)
        if outcome.exit_code not in case.exits:
            problems.append(f"exit {outcome.exit_code}, expected {case.exits}")
        if has_traceback(outcome.stderr) or has_traceback(outcome.stdout):
            report.tracebacks += 1
            problems.append("printed a traceback")
        lines = message_lines(outcome.stderr)
        if case.exits != (0,) and not lines:
            problems.append("said nothing on stderr")
        if len(lines) > case.max_lines:
            problems.append(f"{len(lines)} lines on stderr: {lines[:3]}")
        if "unexpected error" in outcome.stderr:
            problems.append("said 'unexpected error'")
        if "invalid choice" in outcome.stderr and not case.usage_error_ok:
            problems.append("the command does not exist")
        try:
            if before - person_rows(db_file(profile)):
                problems.append("the person's rows changed")
        except sqlite3.DatabaseError:
            pass  # the case damaged the file on purpose and checks its bytes itself
        if problems:
            report.problems.append(f"{case.name}: {'; '.join(problems)}")
        else:
            report.clear.append(case.name)
        report_line(f"{case.name}: {'clear' if not problems else 'NOT CLEAR'}")
        shutil.rmtree(profile, ignore_errors=True)
    return report
