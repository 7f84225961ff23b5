"""`reverie sleep [--budget-seconds N] [--json]` through cli.main, in process."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from assistant import cli
from assistant.app import Reverie
from assistant.llm.fake import FakeEngine

CONTRACT = {"seconds": float, "stopped_because": str, "items_done": int,
            "memories_added": int, "memories_updated": int, "memories_superseded": int,
            "anticipations_made": int, "anticipations_invalidated": int,
            "prompt_tokens": int, "completion_tokens": int,
            "backlog_items": int, "backlog_tokens": int, "backlog_idle_seconds": float,
            "digested_share": float, "tokens_per_s": float, "tokens_per_s_measured": bool}
CHAT = {"title": "", "messages": [
    {"role": "user", "content": "how do I change a bicycle tyre",
     "created_at": "2026-01-02T10:00:00Z"},
    {"role": "assistant", "content": "Take the wheel off, lever the tyre out, change the tube.",
     "created_at": "2026-01-02T10:00:05Z"}]}


@pytest.fixture
def with_fake_engine(monkeypatch: pytest.MonkeyPatch) -> FakeEngine:
    engine = FakeEngine(default=" Changing a bicycle tyre")
    original: Callable[..., Reverie] = Reverie.open

    def open_with_fake(data_dir: Any = None, **_kw: Any) -> Reverie:
        return original(data_dir, engine_factory=lambda *_a: engine)

    monkeypatch.setattr(Reverie, "open", staticmethod(open_with_fake))
    return engine


def import_chat(data_dir: Path, tmp_path: Path) -> None:
    chats = tmp_path / "chats.jsonl"
    chats.write_text(json.dumps(CHAT) + "\n")
    assert cli.main(["--data-dir", str(data_dir), "import", "chats", str(chats)]) == 0


def check_contract(data: dict[str, Any]) -> None:
    assert set(data) == set(CONTRACT)
    for key, kind in CONTRACT.items():
        assert type(data[key]) is kind, key
    assert data["stopped_because"] in {"done", "budget", "user_returned", "power", "error"}


def test_sleep_json_fields_and_types(with_fake_engine: FakeEngine, data_dir: Path,
                                     tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import_chat(data_dir, tmp_path)
    capsys.readouterr()
    assert cli.main(["--data-dir", str(data_dir), "sleep", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    check_contract(data)
    # The title, the conversation's consolidation, warming the answer prefix, and the
    # search vectors of the new memories (built-in wordllama embedder).
    assert (data["stopped_because"], data["items_done"]) == ("done", 5)
    assert data["memories_added"] >= 1
    assert data["prompt_tokens"] > 0 and data["completion_tokens"] > 0
    # Everything was digested; the speed is the one this session measured.
    assert (data["backlog_items"], data["backlog_tokens"], data["digested_share"]) == (0, 0, 1.0)
    assert data["tokens_per_s_measured"] and data["tokens_per_s"] > 0


def test_sleep_json_reports_the_backlog_left(with_fake_engine: FakeEngine, data_dir: Path,
                                            tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    import_chat(data_dir, tmp_path)
    app = Reverie.open(data_dir)
    try:
        conv = app.chats.create_conversation("Trip").id or 0
        app.chats.add_message(conv, "user", "My flight to Lisbon leaves on Friday at 9:40, "
                              "seat 14C, and Ana picks me up at the airport. " * 20)
    finally:
        app.close()
    capsys.readouterr()
    # A budget too short for anything: the backlog is all still there.
    assert cli.main(["--data-dir", str(data_dir), "sleep", "--budget-seconds", "0.001",
                     "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    check_contract(data)
    assert data["stopped_because"] == "budget" and data["items_done"] == 0
    assert data["backlog_items"] >= 2 and data["backlog_tokens"] > 500
    assert data["digested_share"] == 0.0
    assert not data["tokens_per_s_measured"] and data["tokens_per_s"] == 50.0
    assert data["backlog_idle_seconds"] == round(data["backlog_tokens"] / 50.0, 1)


def test_sleep_prints_what_it_did(with_fake_engine: FakeEngine, data_dir: Path,
                                  tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import_chat(data_dir, tmp_path)
    capsys.readouterr()
    assert cli.main(["--data-dir", str(data_dir), "sleep", "--budget-seconds", "30"]) == 0
    out = capsys.readouterr().out
    assert '- Titled an untitled chat as "Changing a bicycle tyre".' in out
    assert "- Went over 2 new messages of" in out
    assert "- Made search vectors for" in out
    assert "5 items done; stopped because nothing was left to think about." in out
    assert "Everything is digested (100%)." in out


def test_sleep_rejects_a_bad_budget(with_fake_engine: FakeEngine, data_dir: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--data-dir", str(data_dir), "sleep", "--budget-seconds", "0"]) == 2
    assert "--budget-seconds must be a positive number" in capsys.readouterr().err


@pytest.mark.model
def test_sleep_json_on_the_real_model(bundled_model: Path, data_dir: Path, tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "settings.toml").write_text(f'[model]\npath = "{bundled_model}"\n')
    import_chat(data_dir, tmp_path)
    capsys.readouterr()
    assert cli.main(["--data-dir", str(data_dir), "sleep", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    check_contract(data)
    assert data["items_done"] >= 1 and data["completion_tokens"] > 0


def test_ctrl_c_stops_the_session_and_keeps_its_report(
        with_fake_engine: FakeEngine, data_dir: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Ctrl-C while thinking stops the session the way coming back does: its report is
    printed, then "Interrupted", exit 130 (a Ctrl-C that interrupted Thread.join had
    lost the report: "The thinking session could not run", exit 1)."""
    import _thread
    import threading

    import_chat(data_dir, tmp_path)
    capsys.readouterr()
    with_fake_engine.token_delay = 0.3  # each answer takes seconds: time to interrupt
    generating = threading.Event()

    def interrupt_once_generating() -> None:
        for _ in range(1200):  # up to a minute on a slow machine
            if with_fake_engine.prompts:
                generating.set()
                _thread.interrupt_main()
                return
            threading.Event().wait(0.05)

    threading.Thread(target=interrupt_once_generating, daemon=True).start()
    assert cli.main(["--data-dir", str(data_dir), "sleep", "--budget-seconds", "60"]) == 130
    out, err = capsys.readouterr()
    assert generating.is_set()
    assert "stopped because you came back" in out
    assert "Interrupted; what was thought so far is kept." in err
    assert "could not run" not in err
