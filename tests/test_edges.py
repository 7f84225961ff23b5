"""Errors at the edges, for real: a full disk, a damaged page, out-of-range numbers, bad
server addresses. Each ends in one sentence and exit 1 or 2, with nothing stored lost."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant import cli
from assistant.store.db import Database, storage_error

Capsys = pytest.CaptureFixture[str]


def exit_code(argv: list[str]) -> int:
    """``cli.main``'s exit code, whether returned or raised by the argument parser."""
    try:
        return cli.main(argv)
    except SystemExit as stop:
        return int(stop.code or 0)


def reverie(data_dir: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "assistant", "--data-dir", str(data_dir),
                           *argv], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).parent.parent, check=False)


def only_sentence(err: str) -> str:
    lines = [line for line in err.strip().splitlines() if line]
    assert len(lines) == 1, err
    assert "Traceback" not in err and "Logging error" not in err
    return lines[0]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 2 MB file system (tmpfs); skipped where mounting is not allowed."""
    where = tmp_path / "small disk ü"
    where.mkdir()
    if sys.platform != "linux" or shutil.which("mount") is None:
        pytest.skip("needs Linux mount")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(where)],
                          capture_output=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(folder: Path) -> Path:
    filler = folder / "filler"
    with filler.open("wb") as out:
        try:
            while True:
                out.write(b"x" * 65536)
                out.flush()
        except OSError:
            pass
    return filler


def test_a_full_disk_is_one_sentence_and_loses_nothing(small_disk: Path) -> None:
    profile = small_disk / "profile"
    assert reverie(profile, "note", "add", "kept before the disk filled").returncode == 0
    filler = fill(small_disk)
    assert shutil.disk_usage(small_disk).free < 65536

    big = "x " * 50_000
    failed = reverie(profile, "note", "add", big)
    assert failed.returncode == 1
    line = only_sentence(failed.stderr)
    assert "is full" in line and "free some space" in line

    listed = reverie(profile, "memory", "list")
    assert listed.returncode in (0, 1)
    if listed.returncode:
        line = only_sentence(listed.stderr)
        assert "damaged" not in line and "move it away" not in line and "is full" in line

    filler.unlink()
    exported = reverie(profile, "export", "--out", str(small_disk / "out"))
    assert exported.returncode == 0, exported.stderr
    assert "1 notes" in exported.stdout


def test_sqlite_full_is_named_as_a_full_disk(tmp_path: Path) -> None:
    db = Database.open(tmp_path / "reverie.db", tmp_path / "backups")
    try:
        with db.engine.connect() as con:
            pages = con.exec_driver_sql("PRAGMA page_count").scalar()
        con2 = sqlite3.connect(tmp_path / "reverie.db")
        con2.execute(f"PRAGMA max_page_count={pages}")
        with pytest.raises(sqlite3.OperationalError) as full:
            con2.execute("CREATE TABLE big(x)")
            con2.execute("INSERT INTO big VALUES (?)", ("x" * 100_000,))
        con2.close()
        sentence = str(storage_error(full.value, tmp_path / "reverie.db"))
        assert "is full" in sentence and "nothing stored was lost" in sentence
    finally:
        db.close()


def test_a_locked_database_is_named(tmp_path: Path) -> None:
    sentence = str(storage_error(sqlite3.OperationalError("database is locked"),
                                 tmp_path / "reverie.db"))
    assert "locked by another program" in sentence


@pytest.mark.parametrize("argv", [["memory", "show", "99999999999999999999"],
                                  ["memory", "forget", "-99999999999999999999"],
                                  ["memory", "show", "0"]])
def test_an_id_out_of_range_is_bad_input(tmp_path: Path, capsys: Capsys,
                                         argv: list[str]) -> None:
    code = exit_code(["--data-dir", str(tmp_path / "p"), *argv])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err and "unexpected" not in err
    assert "memory" in err.lower()


@pytest.mark.skipif(os.name != "posix", reason="POSIX")
def test_budget_out_of_range_is_bad_input(tmp_path: Path, capsys: Capsys) -> None:
    for budget in ("1e400", "nan", "-1"):
        code = exit_code(["--data-dir", str(tmp_path / "p"), "sleep", "--budget-seconds",
                          budget])
        assert code == 2
        line = only_sentence(capsys.readouterr().err)
        assert "--budget-seconds must be a positive number" in line


def test_an_over_long_question_is_bad_input_and_not_stored(
        tmp_path: Path, capsys: Capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.app import Reverie
    from assistant.llm.fake import FakeEngine

    monkeypatch.setattr(Reverie, "start_engine",
                        lambda self, progress=None: FakeEngine(n_ctx=1024))
    root = tmp_path / "p"
    assert exit_code(["--data-dir", str(root), "ask", "word " * 25_000]) == 2
    line = only_sentence(capsys.readouterr().err)
    assert "too long for the model's context window" in line
    assert exit_code(["--data-dir", str(root), "ask", "a short one?"]) == 0
    con = sqlite3.connect(root / "reverie.db")
    try:
        stored = [r[0] for r in con.execute("SELECT content FROM message WHERE role='user'")]
    finally:
        con.close()
    assert stored == ["a short one?"]


def test_an_os_error_names_its_own_file_not_the_database(tmp_path: Path) -> None:
    import errno

    denied = storage_error(PermissionError(errno.EACCES, "Permission denied",
                                           str(tmp_path / "out" / "x.json")),
                           tmp_path / "reverie.db")
    assert str(tmp_path / "out" / "x.json") in str(denied) and "reverie.db" not in str(denied)
    full = storage_error(OSError(errno.ENOSPC, "No space left on device",
                                 str(tmp_path / "out" / "x.json")), tmp_path / "reverie.db")
    assert f"The disk that holds {tmp_path / 'out'} is full" in str(full)
