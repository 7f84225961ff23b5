"""bench scale: the issue's keys, measured on a small synthetic history."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from assistant import cli
from assistant.app import Reverie
from assistant.bench import scale, synth
from assistant.paths import Paths

END = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
ISSUE_KEYS = ("messages", "import_file_mb", "import_s", "import_baseline_s",
              "import_peak_rss_mb", "db_mb", "retrieval_p50_ms", "retrieval_p99_ms",
              "lookup_p99_ms", "ask_memory_ttft_p50_ms", "ask_memory_ttft_p50_ms_empty",
              "sleep_tokens_per_s", "backlog_items", "first_session_items",
              "first_session_newest_share", "window_shown_ms", "list_filter_p99_ms",
              "event_loop_stall_max_ms")


def test_without_the_model_every_other_key_is_measured(tmp_path: Path) -> None:
    options = scale.ScaleOptions(messages=400, questions=20, end=END)
    result = scale.run_scale(options, work_dir=tmp_path)
    assert tuple(result)[:len(ISSUE_KEYS)] == ISSUE_KEYS
    assert result["messages"] == 400
    for key in ("import_file_mb", "import_s", "import_baseline_s", "import_peak_rss_mb",
                "db_mb", "retrieval_p50_ms", "retrieval_p99_ms", "lookup_p99_ms"):
        assert isinstance(result[key], float) and result[key] > 0, key
    assert result["retrieval_p50_ms"] <= result["retrieval_p99_ms"]
    assert result["backlog_items"] > 0
    for key in scale.WINDOW_KEYS:  # the window step, on a profile of its own
        assert isinstance(result[key], float) and result[key] > 0, key
    assert result["window"]["profile"]["conversations"] == result["conversations"]
    assert result["window"]["profile"]["memories"] == 80
    skipped = {item["key"] for item in result["not_measured"]}
    assert skipped == set(scale.NOT_BUILT) | set(scale.MODEL_KEYS)
    assert all(result[key] is None for key in skipped)
    assert all(item["why"] for item in result["not_measured"])
    # The real import stored every message, and the agenda it planned is persisted.
    app = Reverie.open(tmp_path / "profile")
    try:
        with app.db.session() as s:
            con = s.connection().connection
            assert con.execute("SELECT count(*) FROM message").fetchone()[0] == 400
            assert con.execute("SELECT count(*) FROM note").fetchone()[0] == 10
            pending = con.execute("SELECT count(*) FROM work_item WHERE state = 'pending'")
            # A long conversation takes several items: the backlog counts them all.
            assert 0 < pending.fetchone()[0] <= result["backlog_items"]
            assert result["backlog_tokens"] > 0 and result["digested_share"] == 0.0
            ready = con.execute("SELECT count(*) FROM anticipation WHERE status = 'ready'")
            assert ready.fetchone()[0] == result["lookup_anticipations"] == 100
    finally:
        app.close()


def test_the_baseline_inserts_the_same_rows(tmp_path: Path) -> None:
    files = synth.write_history(synth.SynthSpec(300, end=END), tmp_path, chatgpt=False,
                                with_notes=False)
    assert files.jsonl is not None
    seconds = scale.sqlite_baseline(files.jsonl, tmp_path / "plain.db")
    assert seconds > 0
    con = sqlite3.connect(tmp_path / "plain.db")
    try:
        assert con.execute("SELECT count(*) FROM message").fetchone()[0] == 300
        assert con.execute("SELECT count(*) FROM conversation").fetchone()[0] == files.conversations
    finally:
        con.close()


def test_a_failing_child_command_says_why(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="exit code 2"):
        scale.run_cli(tmp_path / "p", "import", "chats", str(tmp_path / "missing.jsonl"))


def test_the_peak_rss_is_the_child_s_own(tmp_path: Path) -> None:
    run = scale.run_cli(tmp_path / "p", "doctor", "--json")
    assert 10 < run.peak_rss_mb < 2000 and run.seconds > 0
    assert json.loads(run.stdout)


def test_newest_share_counts_what_each_item_is_about(tmp_path: Path) -> None:
    files = synth.write_history(synth.SynthSpec(300, end=END), tmp_path / "h",
                                chatgpt=False, with_notes=False)
    assert files.jsonl is not None
    assert cli.main(["--data-dir", str(tmp_path / "p"), "import", "chats",
                     str(files.jsonl)]) == 0
    app = Reverie.open(tmp_path / "p")
    try:
        items = scale.plan_backlog(app.db).pending()
        flags = scale.newest_flags(app.db, items, synth.SynthSpec(1, end=END).start)
        assert all(flags), "everything is newer than the start of the year"
        assert not any(scale.newest_flags(app.db, items, END))
    finally:
        app.close()


def test_cli_rejects_a_history_too_small(data_dir: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--data-dir", str(data_dir), "bench", "scale", "--messages", "1"]) == 2
    assert "--messages must be at least 2" in capsys.readouterr().err


def test_cli_prints_the_json(data_dir: Path, tmp_path: Path,
                             capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--data-dir", str(data_dir), "bench", "scale", "--messages", "200",
                     "--no-model", "--json", "--keep", str(tmp_path / "kept")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["messages"] == 200 and data["window_shown_ms"] > 0
    assert (tmp_path / "kept" / "history" / "conversations.json").is_file()
    own = sqlite3.connect(Paths.resolve(data_dir).database_file)
    try:
        assert own.execute("SELECT count(*) FROM message").fetchone()[0] == 0, \
            "the person's own profile is not touched"
    finally:
        own.close()


def test_the_window_step_runs_alone(data_dir: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--data-dir", str(data_dir), "bench", "scale", "--only", "window",
                     "--messages", "300", "--json", "--keep", str(tmp_path)]) == 0
    data = json.loads(capsys.readouterr().out)
    for key in scale.WINDOW_KEYS:
        assert isinstance(data[key], float) and data[key] > 0, key
    window = data["window"]
    assert window["profile"] == {"conversations": window["conversations_loaded"],
                                 "messages": 300, "memories": 60, "anticipations": 100}
    assert window["prepared_loaded"] == 100  # scrolled to the end, a page at a time
    assert window["keystrokes"] > 20 and window["event_loop_busy_max_ms"] > 0
    assert not (tmp_path / "history").exists(), "the window step alone imports nothing"
    app = Reverie.open(tmp_path / "window-profile")
    try:
        assert len(app.lists.conversation_ids()) == window["conversations_loaded"]
        assert app.lists.memory_count() == window["memories_loaded"]
    finally:
        app.close()


@pytest.mark.model
def test_with_the_model_the_first_session_and_first_tokens_are_measured(
        tmp_path: Path, bundled_model: Path) -> None:
    options = scale.ScaleOptions(messages=300, questions=10, model=bundled_model,
                                 ask_questions=1, sleep_budget_s=40.0, end=END)
    result = scale.run_scale(options, work_dir=tmp_path)
    assert result["ask_memory_ttft_p50_ms"] > 0 and result["ask_memory_ttft_p50_ms_empty"] > 0
    # What the prompts were made of is reported beside the times.
    assert sum(result["ask_memory_sources_empty"].values()) == 1
    assert result["ask_memory_prompt_tokens_mean_empty"] > 0
    assert result["sleep_tokens_per_s"] > 0
    assert 1 <= result["first_session_items"] <= result["backlog_items"]
    assert 0.0 <= result["first_session_newest_share"] <= 1.0
    assert {item["key"] for item in result["not_measured"]} == set(scale.NOT_BUILT)
