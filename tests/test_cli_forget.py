"""`reverie note list|delete`, `reverie chats list|delete` and `reverie memory forget`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant import cli
from assistant.app import Reverie
from assistant.store.models import Memory

Capsys = pytest.CaptureFixture[str]


def run(data_dir: Path, *argv: str) -> int:
    """The exit code, whether the parser exits or main returns."""
    try:
        return cli.main(["--data-dir", str(data_dir), *argv])
    except SystemExit as exc:
        return int(exc.code or 0)


def test_note_list_and_delete(data_dir: Path, capsys: Capsys) -> None:
    assert run(data_dir, "note", "add", "The spare key is under the blue pot.") == 0
    assert run(data_dir, "note", "add", "Water the tomatoes.", "--title", "Garden") == 0
    capsys.readouterr()
    assert run(data_dir, "note", "list", "--json") == 0
    notes = json.loads(capsys.readouterr().out)
    assert [n["title"] for n in notes] == ["Garden", "The spare key is under the blue pot."]
    assert run(data_dir, "note", "delete", str(notes[1]["id"])) == 0
    assert f"Deleted note {notes[1]['id']}" in capsys.readouterr().out
    assert run(data_dir, "note", "list") == 0
    out = capsys.readouterr().out
    assert "Garden" in out and "spare key" not in out


def test_chats_list_and_delete_with_what_was_derived(data_dir: Path, capsys: Capsys) -> None:
    app = Reverie.open(data_dir)
    try:
        conv = app.chats.create_conversation("Keys").id or 0
        msg = app.chats.add_message(conv, "user", "The spare key is under the blue pot.")
        other = app.chats.create_conversation("Garden").id or 0
        app.chats.add_message(other, "user", "Water the tomatoes.")
        with app.db.write() as s:
            fact = Memory(kind="fact", text="Spare key: under the blue pot.",
                          sources={"messages": [msg.id or 0]})
            s.add(fact)
            s.flush()
            s.add(Memory(kind="digest", scope="day", text="Keys and pots.",
                         sources={"memories": [fact.id or 0]}))
    finally:
        app.close()
    assert run(data_dir, "chats", "list", "--json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["title"] for r in rows} == {"Keys", "Garden"}
    assert run(data_dir, "chats", "delete", str(conv)) == 0
    out = capsys.readouterr().out
    assert f"Deleted conversation {conv} (1 messages) and 2 derived memories" in out
    assert run(data_dir, "memory", "list", "--json") == 0
    assert json.loads(capsys.readouterr().out) == []
    assert run(data_dir, "chats", "list") == 0
    out = capsys.readouterr().out
    assert "Garden" in out and "Keys" not in out


@pytest.mark.parametrize("argv", [
    ["note", "delete", "99999999999999999999"],
    ["note", "delete", "4242"],
    ["note", "delete", "abc"],
    ["note", "delete", "0"],
    ["chats", "delete", "99999999999999999999"],
    ["chats", "delete", "4242"],
    ["chats", "delete", "-3"],
    ["memory", "forget", "99999999999999999999"],
    ["memory", "forget", "4242"],
    ["memory", "show", "x1"],
])
def test_bad_ids_are_one_sentence_and_exit_2(data_dir: Path, capsys: Capsys,
                                             argv: list[str]) -> None:
    assert run(data_dir, "note", "add", "Keep me.") == 0
    capsys.readouterr()
    assert run(data_dir, *argv) == 2
    err = capsys.readouterr().err
    message = [line for line in err.splitlines() if line.startswith("reverie:")]
    assert len(message) == 1 and "Traceback" not in err
    assert "id" in message[0] or "There is no" in message[0]
    assert run(data_dir, "note", "list") == 0
    assert "Keep me." in capsys.readouterr().out  # nothing stored was lost
