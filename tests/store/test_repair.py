"""A damaged database page: doctor names it, `reverie repair` salvages every readable
row into a new database and keeps the damaged file, unchanged, beside it."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from assistant import cli
from assistant.app import Reverie

Capsys = pytest.CaptureFixture[str]
NOTES = 120


def damaged_profile(root: Path) -> tuple[Path, int]:
    """A profile with NOTES notes and one chat; one leaf page of the note table is
    overwritten with garbage. Returns the database path and the page size."""
    app = Reverie.open(root)
    try:
        for i in range(NOTES):
            app.notes.add(f"note {i}", f"body {i} " + "lorem ipsum " * 40)
        conv = app.chats.create_conversation("kept chat").id or 0
        app.chats.add_message(conv, "user", "a message on a healthy page")
    finally:
        app.close()
    path = root / "reverie.db"
    con = sqlite3.connect(path)
    leaves = [r[0] for r in con.execute(
        "SELECT pageno FROM dbstat WHERE name='note' AND pagetype='leaf' ORDER BY pageno")]
    page_size = con.execute("PRAGMA page_size").fetchone()[0]
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    victim = leaves[len(leaves) // 2]
    with path.open("r+b") as f:
        f.seek((victim - 1) * page_size)
        f.write(b"\xde\xad\xbe\xef" * (page_size // 4))
    return path, page_size


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_doctor_names_the_damage_and_repair_salvages_the_rest(tmp_path: Path,
                                                              capsys: Capsys) -> None:
    root = tmp_path / "profile ü"
    path, _ = damaged_profile(root)
    before = sha(path)

    code = cli.main(["--data-dir", str(root), "doctor", "--json", "--no-model"])
    out, err = capsys.readouterr()
    assert code == 1, err
    report = json.loads(out)
    assert report["ok"] is False and report["database"]["integrity"] != "ok"
    assert "repair" in report["database"]["error"]
    assert "unexpected" not in err and "Traceback" not in err

    assert cli.main(["--data-dir", str(root), "repair", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    kept = Path(result["damaged_copy"])
    assert kept.parent == root and sha(kept) == before  # untouched, beside the new one
    assert 0 < result["copied"]["note"] < NOTES
    assert result["copied"]["message"] == 1
    assert sorted(p.name for p in root.iterdir() if p.is_file()) == sorted(
        ["reverie.db", kept.name, "settings.toml", "thinking.lock"])

    assert cli.main(["--data-dir", str(root), "doctor", "--json", "--no-model"]) == 0
    healthy = json.loads(capsys.readouterr().out)
    assert healthy["database"]["integrity"] == "ok"
    assert healthy["database"]["notes"] == result["copied"]["note"]
    app = Reverie.open(root)
    try:
        assert [n.title for n in app.notes.search("lorem")][:1]  # the FTS index was rebuilt
        assert app.chats.count_messages() == 1
    finally:
        app.close()


def test_repair_of_a_file_that_is_not_a_database_changes_nothing(tmp_path: Path,
                                                                 capsys: Capsys) -> None:
    root = tmp_path / "p"
    root.mkdir()
    (root / "reverie.db").write_bytes(b"my diary\n" * 100)
    assert cli.main(["--data-dir", str(root), "repair"]) == 2
    err = capsys.readouterr().err
    assert "cannot be read" in err and "not changed" in err
    assert (root / "reverie.db").read_bytes() == b"my diary\n" * 100
    assert sorted(p.name for p in root.iterdir() if p.is_file()) == ["reverie.db",
                                                                     "thinking.lock"]
