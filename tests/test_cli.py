"""The ``reverie`` command line (docs/ARCHITECTURE.md, "Command line"), in process and
as a real process."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant import __version__, cli
from assistant.store.db import head_revision

REPO = Path(__file__).resolve().parents[1]

Capsys = pytest.CaptureFixture[str]


def run(data_dir: Path, *argv: str) -> int:
    return cli.main(["--data-dir", str(data_dir), *argv])


def run_json(capsys: Capsys, data_dir: Path, *argv: str) -> tuple[int, Any, str]:
    code = run(data_dir, *argv)
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def use_model(data_dir: Path, model: Path) -> None:
    """A profile whose settings point at ``model`` (short answers keep the test fast)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "settings.toml").write_text(
        f'[model]\npath = {json.dumps(str(model))}\nn_ctx = 1024\nmax_answer_tokens = 24\n'
        "temperature = 0.0\n", encoding="utf-8")


def db_rows(data_dir: Path, sql: str) -> list[tuple[Any, ...]]:
    con = sqlite3.connect(data_dir / "reverie.db")
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def one_sentence(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith("reverie: ")
    return lines[0]


# Usage ------------------------------------------------------------------------------

def test_version(capsys: Capsys) -> None:
    with pytest.raises(SystemExit) as done:
        cli.main(["--version"])
    assert done.value.code == 0
    assert capsys.readouterr().out.strip() == f"reverie {__version__}"


@pytest.mark.parametrize("argv", [
    ["frobnicate"],
    ["ask"],
    ["note"],
    ["import", "chats"],
    ["import", "pictures", "x"],
    ["export"],
    ["doctor", "--colour"],
    ["export", "--out", ""],  # an empty path would have meant the current folder
    ["model", "use", " "],
    ["import", "chats", ""],
    ["note", "add", "--file", ""],
])
def test_bad_usage_exits_2(data_dir: Path, capsys: Capsys, argv: list[str]) -> None:
    with pytest.raises(SystemExit) as done:
        run(data_dir, *argv)
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert "usage: reverie" in err and "Traceback" not in err


# doctor -----------------------------------------------------------------------------

def test_doctor_json_without_the_model(data_dir: Path, capsys: Capsys) -> None:
    code, report, _ = run_json(capsys, data_dir, "doctor", "--json", "--no-model")
    assert code == 0
    assert report["ok"] is True
    assert report["version"] == __version__
    assert report["versions"]["python"] and report["versions"]["sqlite"]
    assert report["versions"]["sqlmodel"] and report["versions"]["alembic"]
    assert report["paths"]["database"] == str(data_dir / "reverie.db")
    for where in report["paths"].values():
        assert Path(where).is_relative_to(data_dir)
    assert report["database"]["integrity"] == "ok"
    assert report["database"]["schema"] == report["database"]["schema_expected"] == \
        head_revision()
    assert report["model"] == {"checked": False}
    assert isinstance(report["tray"]["available"], bool)
    assert report["settings_warning"] is None


@pytest.mark.model
def test_doctor_json_loads_the_real_model(data_dir: Path, capsys: Capsys,
                                          bundled_model: Path) -> None:
    use_model(data_dir, bundled_model)
    code, report, _ = run_json(capsys, data_dir, "doctor", "--json")
    assert code == 0 and report["ok"] is True
    model = report["model"]
    assert model["loadable"] is True
    assert model["path"] == str(bundled_model)
    assert model["n_ctx"] == 1024 and model["load_ms"] > 0
    assert len(model["sha256"]) == 64


def test_doctor_reports_a_model_that_cannot_load(data_dir: Path, capsys: Capsys,
                                                 tmp_path: Path) -> None:
    fake = tmp_path / "broken.gguf"
    fake.write_bytes(b"GGUF but not really")
    use_model(data_dir, fake)
    code, report, _ = run_json(capsys, data_dir, "doctor", "--json")
    assert code == 1
    assert report["ok"] is False
    assert report["model"]["loadable"] is False and report["model"]["error"]


# ask on the real model ---------------------------------------------------------------

@pytest.mark.model
def test_ask_json_on_the_real_model(data_dir: Path, capsys: Capsys,
                                    bundled_model: Path) -> None:
    use_model(data_dir, bundled_model)
    code, data, _ = run_json(capsys, data_dir, "ask", "What is the capital of France?",
                             "--json")
    assert code == 0
    types = {"answer": str, "source": str, "mode": str, "ttft_ms": float, "total_ms": float,
             "prompt_tokens": int, "cached_prefix_tokens": int, "completion_tokens": int,
             "memory_ids": list, "model": str, "conversation_id": int}
    assert set(data) == {*types, "anticipation_id"}
    for key, kind in types.items():
        assert type(data[key]) is kind, key
    assert data["answer"].strip()
    assert data["source"] == "generated"
    assert data["anticipation_id"] is None
    assert data["ttft_ms"] > 0 and data["total_ms"] >= data["ttft_ms"]
    assert data["prompt_tokens"] > 0 and data["completion_tokens"] > 0
    assert data["cached_prefix_tokens"] >= 0
    assert data["model"]

    stored = db_rows(data_dir, "SELECT role, content, origin FROM message ORDER BY id")
    assert stored == [("user", "What is the capital of France?", "typed"),
                      ("assistant", data["answer"], "typed")]


@pytest.mark.model
def test_a_question_too_long_for_the_model_leaves_nothing_behind(
        data_dir: Path, capsys: Capsys, bundled_model: Path) -> None:
    use_model(data_dir, bundled_model)
    assert run(data_dir, "ask", "word " * 3000) == 2
    assert "too long for the model's context window" in one_sentence(
        capsys.readouterr().err)
    assert db_rows(data_dir, "SELECT count(*) FROM conversation") == [(0,)]
    assert db_rows(data_dir, "SELECT count(*) FROM message") == [(0,)]


@pytest.mark.parametrize("question", ["What about caf\udce9?", "\ud800"])
def test_a_question_in_another_encoding_is_bad_input(data_dir: Path, capsys: Capsys,
                                                     question: str) -> None:
    """A Latin-1 terminal's "café" reaches Python as a lone surrogate: one sentence, not
    a traceback (the prepared-answer lookup had failed to encode it), also with or
    without a database, and continuing."""
    assert run(data_dir, "ask", question) == 2
    assert "not valid Unicode" in one_sentence(capsys.readouterr().err)
    assert run(data_dir, "note", "add", "the profile has a database now") == 0
    capsys.readouterr()
    assert run(data_dir, "ask", question, "-c") == 2
    assert "not valid Unicode" in one_sentence(capsys.readouterr().err)
    assert run(data_dir, "ask", question) == 2
    err = capsys.readouterr().err
    assert "not valid Unicode" in one_sentence(err) and "Traceback" not in err


@pytest.mark.parametrize("question", ["   ", "\u200b\u200e", "\ufeff \u2060"])
def test_an_empty_question_is_bad_input(data_dir: Path, capsys: Capsys,
                                        question: str) -> None:
    assert run(data_dir, "ask", question) == 2
    assert "question is empty" in one_sentence(capsys.readouterr().err)


def test_a_model_file_that_is_not_gguf_fails_in_one_sentence(data_dir: Path, capsys: Capsys,
                                                              tmp_path: Path) -> None:
    fake = tmp_path / "notes.gguf"
    fake.write_text("these are notes, not a model")
    use_model(data_dir, fake)
    assert run(data_dir, "ask", "hello?") == 1
    assert "not a GGUF model file" in one_sentence(capsys.readouterr().err)
    assert db_rows(data_dir, "SELECT count(*) FROM message") == [(0,)]


# notes --------------------------------------------------------------------------------

def test_note_add_text_and_file(data_dir: Path, capsys: Capsys, tmp_path: Path) -> None:
    assert run(data_dir, "note", "add", "Call the plumber on Monday") == 0
    assert "Added note 1: Call the plumber on Monday" in capsys.readouterr().out
    note = tmp_path / "trip.md"
    note.write_text("# Lisbon trip\n\nHotel near the river.\n", encoding="utf-8")
    assert run(data_dir, "note", "add", "--file", str(note)) == 0
    assert "Added note 2: Lisbon trip" in capsys.readouterr().out
    assert db_rows(data_dir, "SELECT title, body FROM note ORDER BY id") == [
        ("Call the plumber on Monday", "Call the plumber on Monday"),
        ("Lisbon trip", "# Lisbon trip\n\nHotel near the river.\n"),
    ]


@pytest.mark.parametrize(("argv", "reason"), [
    (["note", "add"], "one of them"),
    (["note", "add", "text", "--file", "x.md"], "one of them"),
    (["note", "add", "--file", "does-not-exist.md"], "does not exist"),
    (["note", "add", "  "], "empty"),
    (["note", "add", "body", "--title", "T\x1b[31mX\nsecond"], "control characters"),
    (["note", "add", "body", "--title", "   "], "title is empty"),
])
def test_note_add_bad_input(data_dir: Path, capsys: Capsys, argv: list[str],
                            reason: str) -> None:
    assert run(data_dir, *argv) == 2
    assert reason in one_sentence(capsys.readouterr().err)


# import and export ----------------------------------------------------------------------

def test_import_chats_twice_is_idempotent(data_dir: Path, capsys: Capsys,
                                          fixtures: Path) -> None:
    code, first, _ = run_json(capsys, data_dir, "import", "chats",
                              str(fixtures / "chats.jsonl"), "--json")
    assert code == 0
    assert (first["conversations_added"], first["messages_added"]) == (3, 7)
    assert run(data_dir, "import", "chats", str(fixtures / "chats.jsonl")) == 0
    out, err = capsys.readouterr()
    assert "nothing new to import" in out and err == ""
    assert db_rows(data_dir, "SELECT count(*) FROM message") == [(7,)]


def test_import_chatgpt_export(data_dir: Path, capsys: Capsys, fixtures: Path) -> None:
    assert run(data_dir, "import", "chats", str(fixtures / "chatgpt" / "conversations.json")) == 0
    assert "2 conversations added" in capsys.readouterr().out
    assert db_rows(data_dir, "SELECT count(*) FROM message") == [(6,)]


def test_import_chats_with_bad_lines(data_dir: Path, capsys: Capsys, fixtures: Path) -> None:
    assert run(data_dir, "import", "chats", str(fixtures / "chats_with_errors.jsonl")) == 0
    out, err = capsys.readouterr()
    skipped = err.strip().splitlines()
    assert [line.split(":")[0] for line in skipped] == [
        "skipped line 2", "skipped line 3", "skipped line 4", "skipped line 5"]
    assert "2 conversations added" in out and "4 skipped" in out


def test_import_a_missing_file_is_bad_input(data_dir: Path, capsys: Capsys,
                                            tmp_path: Path) -> None:
    assert run(data_dir, "import", "chats", str(tmp_path / "nope.jsonl")) == 2
    assert "does not exist" in one_sentence(capsys.readouterr().err)


def test_import_notes(data_dir: Path, capsys: Capsys, fixtures: Path) -> None:
    code, report, _ = run_json(capsys, data_dir, "import", "notes", str(fixtures / "notes"),
                               "--json")
    assert code == 0 and report["notes_added"] == 3
    assert run(data_dir, "import", "notes", str(fixtures / "notes")) == 0
    assert "0 notes added, 0 updated, 3 unchanged" in capsys.readouterr().out
    assert run(data_dir, "import", "notes", str(fixtures / "chats.jsonl")) == 2
    assert "not a folder" in one_sentence(capsys.readouterr().err)


def test_export(data_dir: Path, capsys: Capsys, fixtures: Path, tmp_path: Path) -> None:
    run(data_dir, "import", "chats", str(fixtures / "chats.jsonl"))
    run(data_dir, "note", "add", "A note")
    capsys.readouterr()
    out_dir = tmp_path / "export"
    assert run(data_dir, "export", "--out", str(out_dir)) == 0
    assert "Exported 3 conversations, 7 messages, 1 notes" in capsys.readouterr().out
    assert len((out_dir / "conversations.jsonl").read_text().splitlines()) == 3
    assert len(list((out_dir / "conversations").glob("*.md"))) == 3
    assert json.loads((out_dir / "notes.json").read_text())[0]["body"] == "A note"
    # Into a fresh profile: the same conversations come back.
    assert run(tmp_path / "other", "import", "chats", str(out_dir / "conversations.jsonl")) == 0
    assert "3 conversations added, 0 updated, 7 messages added" in capsys.readouterr().out


def test_note_add_file_that_is_a_folder_says_so(data_dir: Path, capsys: Capsys,
                                                tmp_path: Path) -> None:
    assert run(data_dir, "note", "add", "--file", str(tmp_path)) == 2
    assert "folder" in one_sentence(capsys.readouterr().err)


def test_export_refuses_a_folder_that_holds_files_unless_forced(
        data_dir: Path, capsys: Capsys, tmp_path: Path) -> None:
    assert run(data_dir, "note", "add", "A note") == 0
    out_dir = tmp_path / "export"
    out_dir.mkdir()
    (out_dir / "notes.json").write_text("the person's own file")
    capsys.readouterr()

    assert run(data_dir, "export", "--out", str(out_dir)) == 2
    line = one_sentence(capsys.readouterr().err)
    assert "already holds files" in line and "--force" in line
    assert (out_dir / "notes.json").read_text() == "the person's own file"

    assert run(data_dir, "export", "--out", str(out_dir), "--force") == 0
    assert json.loads((out_dir / "notes.json").read_text())[0]["body"] == "A note"


def test_import_folder_reads_a_whole_export_back(data_dir: Path, capsys: Capsys,
                                                 fixtures: Path, tmp_path: Path) -> None:
    run(data_dir, "import", "chats", str(fixtures / "chats.jsonl"))
    run(data_dir, "note", "add", "  exact text\u2028kept  ")
    out_dir = tmp_path / "export"
    assert run(data_dir, "export", "--out", str(out_dir)) == 0
    capsys.readouterr()

    code, report, err = run_json(capsys, tmp_path / "other", "import", str(out_dir), "--json")
    assert code == 0 and err == ""
    assert (report["conversations_added"], report["messages_added"],
            report["notes_added"]) == (3, 7, 1)
    assert db_rows(tmp_path / "other", "SELECT body FROM note") == [
        ("  exact text\u2028kept  ",)]

    assert run(data_dir, "import", str(out_dir)) == 0  # its own export: nothing new
    assert capsys.readouterr().out == "0 notes added, 0 updated, 1 unchanged.\n"
    assert db_rows(data_dir, "SELECT count(*) FROM message") == [(7,)]


def test_a_message_with_a_unicode_line_separator_survives_export_and_import(
        data_dir: Path, capsys: Capsys, tmp_path: Path) -> None:
    said = tmp_path / "said.jsonl"
    said.write_text(json.dumps({"title": "Odd", "messages": [
        {"role": "user", "content": "one\u2028two\u2029three\x85four",
         "created_at": "2025-01-01T00:00:00Z"}]}, ensure_ascii=False) + "\n",
        encoding="utf-8")
    assert run(data_dir, "import", "chats", str(said)) == 0
    assert run(data_dir, "export", "--out", str(tmp_path / "export")) == 0
    capsys.readouterr()
    assert run(tmp_path / "other", "import", "chats",
               str(tmp_path / "export" / "conversations.jsonl")) == 0
    assert "1 messages added" in capsys.readouterr().out
    assert db_rows(tmp_path / "other", "SELECT content FROM message") == [
        ("one\u2028two\u2029three\x85four",)]


@pytest.mark.model
def test_asking_with_a_line_separator_then_export_and_import(
        data_dir: Path, capsys: Capsys, tmp_path: Path, bundled_model: Path) -> None:
    use_model(data_dir, bundled_model)
    assert run(data_dir, "ask", "Is this\u2028one question?", "--json") == 0
    assert run(data_dir, "export", "--out", str(tmp_path / "export")) == 0
    capsys.readouterr()
    assert run(tmp_path / "other", "import", "chats",
               str(tmp_path / "export" / "conversations.jsonl")) == 0
    assert "2 messages added" in capsys.readouterr().out
    assert db_rows(tmp_path / "other", "SELECT role, content FROM message ORDER BY id")[0] == (
        "user", "Is this\u2028one question?")


def _odd_inputs(tmp_path: Path) -> dict[str, Path]:
    folder = tmp_path / "inputs"
    folder.mkdir()
    (folder / "empty.jsonl").write_bytes(b"")
    (folder / "binary.jsonl").write_bytes(bytes(range(256)) * 64)
    (folder / "caf\udce9 \u2028.jsonl").write_bytes(b"")
    os.mkfifo(folder / "pipe.md")
    (folder / "big.md").write_bytes(b"x" * (10 * 1024 * 1024 + 1))
    return {"folder": folder, "empty": folder / "empty.jsonl",
            "binary": folder / "binary.jsonl", "odd": folder / "caf\udce9 \u2028.jsonl",
            "pipe": folder / "pipe.md", "big": folder / "big.md",
            "zero": Path("/dev/zero"), "missing": folder / "missing.jsonl"}


@pytest.mark.parametrize(("argv", "reason"), [
    (["import", "chats", "{empty}"], "is empty"),
    (["import", "chats", "{binary}"], "binary data"),
    (["import", "chats", "{folder}"], "is a folder"),
    (["import", "chats", "{odd}"], "caf\\xe9 \\u2028.jsonl is empty"),
    (["import", "chats", "{pipe}"], "not a regular file"),
    (["import", "chats", "{zero}"], "not a regular file"),
    (["import", "notes", "{empty}"], "not a folder"),
    (["import", "{empty}"], "not a folder"),
    (["import", "{folder}"], "not a Reverie export"),
    (["import", "{missing}"], "not a folder"),
    (["note", "add", "--file", "{pipe}"], "not a regular file"),
    (["note", "add", "--file", "{zero}"], "not a regular file"),
    (["note", "add", "--file", "{big}"], "larger than 10 MB; split it into smaller files"),
    (["note", "add", "--file", "{binary}"], "not UTF-8 text"),
    (["note", "add", "--file", "{odd}"], "note is empty"),
    (["note", "add", "not \udcff unicode"], "not valid Unicode"),
])
def test_odd_input_is_one_sentence_exit_2_and_nothing_is_lost(
        data_dir: Path, capsys: Capsys, tmp_path: Path, argv: list[str], reason: str) -> None:
    assert run(data_dir, "note", "add", "kept") == 0
    capsys.readouterr()
    inputs = {k: str(v) for k, v in _odd_inputs(tmp_path).items()}

    assert run(data_dir, *(a.format(**inputs) for a in argv)) == 2

    out, err = capsys.readouterr()
    assert reason in one_sentence(err) and out == ""
    assert db_rows(data_dir, "SELECT body FROM note") == [("kept",)]


def test_a_huge_line_is_skipped_and_the_rest_imports(data_dir: Path, capsys: Capsys,
                                                     tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("assistant.store.importers.MAX_LINE_BYTES", 1024 * 1024)
    good = json.dumps({"title": "Good", "messages": [
        {"role": "user", "content": "fine", "created_at": "2025-01-01T00:00:00Z"}]})
    path = tmp_path / "chats.jsonl"
    path.write_text(good + "\n" + "[" * 2_000_000 + "\n" + good.replace("Good", "More"))
    assert run(data_dir, "import", "chats", str(path)) == 0
    out, err = capsys.readouterr()
    assert err == "skipped line 2: longer than 1 MB\n"
    assert "2 conversations added" in out and "1 skipped" in out


@pytest.mark.parametrize("where", ["--data-dir", "--out"])
def test_a_file_where_a_folder_is_needed_is_bad_input(tmp_path: Path, capsys: Capsys,
                                                      where: str) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    if where == "--data-dir":
        code = run(a_file, "note", "add", "x")
    else:
        code = run(tmp_path / "profile", "export", "--out", str(a_file))
    assert code == 2
    assert "not a folder" in one_sentence(capsys.readouterr().err)


# damaged profiles ---------------------------------------------------------------------------

def test_a_corrupt_settings_file_warns_once_and_the_command_works(
        data_dir: Path, capsys: Capsys) -> None:
    data_dir.mkdir()
    (data_dir / "settings.toml").write_text("[model\npath = ", encoding="utf-8")
    assert run(data_dir, "note", "add", "still works") == 0
    out, err = capsys.readouterr()
    assert "Added note" in out
    assert err.count("settings file was not valid") == 1
    assert len(err.strip().splitlines()) == 1
    assert len(list(data_dir.glob("settings.toml.broken-*"))) == 1
    assert run(data_dir, "note", "add", "again") == 0
    assert capsys.readouterr().err == ""


def test_a_newer_schema_database_is_refused(data_dir: Path, capsys: Capsys) -> None:
    assert run(data_dir, "note", "add", "written by today's Reverie") == 0
    con = sqlite3.connect(data_dir / "reverie.db")
    con.execute("UPDATE alembic_version SET version_num = '9999_future'")
    con.commit()
    con.close()
    digest = hashlib.sha256((data_dir / "reverie.db").read_bytes()).hexdigest()
    capsys.readouterr()

    assert run(data_dir, "note", "add", "from an older Reverie") == 2
    line = one_sentence(capsys.readouterr().err)
    assert "newer version of Reverie" in line and "not changed" in line
    assert hashlib.sha256((data_dir / "reverie.db").read_bytes()).hexdigest() == digest



def test_a_database_that_is_not_sqlite_is_refused(data_dir: Path, capsys: Capsys) -> None:
    data_dir.mkdir()
    (data_dir / "reverie.db").write_bytes(b"my diary, not a database\n" * 50)
    assert run(data_dir, "doctor", "--json", "--no-model") == 2
    line = one_sentence(capsys.readouterr().err)
    assert "not a Reverie database" in line and "backups" in line
    assert (data_dir / "reverie.db").read_bytes() == b"my diary, not a database\n" * 50


# as a real process -------------------------------------------------------------------------

def reverie(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("REVERIE_HOME", None)
    return subprocess.run([sys.executable, "-m", "assistant", *argv], capture_output=True,
                          text=True, timeout=120, env=env, cwd=REPO, check=False)


def test_python_m_assistant_runs_and_fails_cleanly(data_dir: Path, tmp_path: Path,
                                                   fixtures: Path) -> None:
    ok = reverie("--data-dir", str(data_dir), "import", "chats", str(fixtures / "chats.jsonl"))
    assert ok.returncode == 0, ok.stderr
    assert "3 conversations added" in ok.stdout

    bad = reverie("--data-dir", str(data_dir), "import", "chats", str(tmp_path / "nope.jsonl"))
    assert bad.returncode == 2
    assert bad.stdout == ""
    assert "does not exist" in one_sentence(bad.stderr)

    usage = reverie("--data-dir", str(data_dir), "frobnicate")
    assert usage.returncode == 2 and "Traceback" not in usage.stderr


def test_json_lines_replace_a_file_whole_or_not_at_all(tmp_path: Path) -> None:
    """``bench sleep --answers``: a run that dies while writing leaves the old file, and
    none of its temporary files."""
    from assistant.cli.output import write_json_lines

    out = tmp_path / "answers.jsonl"
    write_json_lines(out, [{"q": "Où est Zoë ?"}, {"q": 2}])
    assert out.read_text(encoding="utf-8") == '{"q": "Où est Zoë ?"}\n{"q": 2}\n'

    def rows() -> Iterator[dict[str, int]]:
        yield {"q": 3}
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_json_lines(out, rows())
    assert out.read_text(encoding="utf-8") == '{"q": "Où est Zoë ?"}\n{"q": 2}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["answers.jsonl"]


def test_a_reader_that_stops_early_is_not_an_error(data_dir: Path, tmp_path: Path) -> None:
    """"reverie chats list | head -1": the reader has what it wanted; no "Broken pipe"
    on stderr, exit 0."""
    import subprocess
    import sys

    chats = tmp_path / "many.jsonl"
    chats.write_text("".join(
        json.dumps({"title": f"chat {i}", "messages": [
            {"role": "user", "content": f"hello {i}", "created_at": "2026-01-01T10:00:00"}]})
        + "\n" for i in range(3000)), encoding="utf-8")
    assert run(data_dir, "import", "chats", str(chats)) == 0
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "--data-dir", str(data_dir),
                             "chats", "list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().strip()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, err
    assert err == ""


def test_listings_never_pass_control_characters_to_the_terminal(
        data_dir: Path, capsys: Capsys, tmp_path: Path) -> None:
    """An imported title with escape codes and a line break (it had recoloured and
    retitled the terminal and faked a row of `chats list`) is shown escaped, on one line;
    what is stored is unchanged."""
    evil = "evil \x1b[31mRED\x1b[0m \x1b]0;pwned\x07 title\r\nfake line"
    chats = tmp_path / "evil.jsonl"
    chats.write_text(json.dumps({"title": evil, "messages": [
        {"role": "user", "content": f"note: {evil}", "created_at": "2026-01-01T10:00:00"}]})
        + "\n", encoding="utf-8")
    assert run(data_dir, "import", "chats", str(chats)) == 0
    capsys.readouterr()
    assert run(data_dir, "chats", "list") == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out and "\r" not in out
    assert out.count("\n") == 1 and "\\x1b[31mRED" in out
    assert db_rows(data_dir, "SELECT title FROM conversation") == [(evil,)]
    from assistant.cli.output import for_terminal as shown

    # A right-to-left override would show the row backwards; Hebrew and Arabic stay.
    assert shown("a\u202eevil\u2066x") == "a\\u202eevil\\u2066x"
    assert shown("שלום عربي") == "שלום عربي"


def test_words_without_quotes_are_one_question_or_one_note() -> None:
    """`reverie ask when is my dentist` (no quotes) had been refused with argparse's
    "unrecognized arguments"; the words are now the question, as typed."""
    from assistant.cli.parser import build_parser

    parser = build_parser()
    args = parser.parse_args(["ask", "when", "is", "my", "dentist?", "--json", "-c"])
    assert (args.question, args.json, args.continue_last) == ("when is my dentist?", True,
                                                              True)
    assert parser.parse_args(["ask", "  one  quoted  "]).question == "  one  quoted  "
    assert parser.parse_args(["note", "add", "Dentist", "on", "Tuesday"]).text == (
        "Dentist on Tuesday")
    assert parser.parse_args(["note", "add", "--file", "x.md"]).text is None
