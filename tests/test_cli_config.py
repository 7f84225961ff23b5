"""``reverie config show|set``: a value is checked before it is saved; a bad one is one
sentence and exit code 2, and the settings file is left as it was."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant import cli
from assistant.config import load_settings
from tests.llm.openai_stub import StubServer
from tests.llm.test_remote import free_port

Capsys = pytest.CaptureFixture[str]


def config(data_dir: Path, *args: str) -> int:
    return cli.main(["--data-dir", str(data_dir), "config", *args])


@pytest.mark.parametrize(("key", "value", "says"), [
    ("thinking.remote_url", "ftp://192.168.1.10/v1", "must be an http:// or https://"),
    ("thinking.remote_url", "192.168.1.10:8080", "must be an http:// or https://"),
    ("thinking.remote_url", "http://", "must be an http:// or https://"),
    ("thinking.remote_url", "http://host:99999/v1", "must be an http:// or https://"),
    ("thinking.remote_url", "http://my host/v1", "must be an http:// or https://"),
    ("thinking.remote_prompt_style", "poem", "must be one of chat, completion"),
    ("thinking.remote_ur", "http://h/v1", "There is no setting 'thinking.remote_ur'"),
    ("idle.threshold_minutes", "soon", "must be a number"),
    ("thinking.enabled", "maybe", "must be true or false"),
])
def test_a_bad_value_is_refused_and_nothing_changes(data_dir: Path, capsys: Capsys,
                                                    key: str, value: str, says: str) -> None:
    assert config(data_dir, "set", "thinking.daily_budget_minutes", "45") == 0
    settings_file = data_dir / "settings.toml"
    before = settings_file.read_bytes()
    capsys.readouterr()
    assert config(data_dir, "set", key, value) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert settings_file.read_bytes() == before


def test_set_and_show(data_dir: Path, capsys: Capsys) -> None:
    stub = StubServer()
    try:
        assert config(data_dir, "set", "thinking.remote_url", stub.url) == 0
        out = capsys.readouterr().out
        assert "The thinking server answers (model stub-model)." in out
    finally:
        stub.close()
    assert config(data_dir, "set", "thinking.enabled", "off") == 0
    assert config(data_dir, "set", "idle.threshold_minutes", "7") == 0
    settings = load_settings(data_dir / "settings.toml").settings
    assert settings.thinking.remote_url == stub.url
    assert settings.thinking.enabled is False and settings.idle.threshold_minutes == 7.0
    capsys.readouterr()
    assert config(data_dir, "show", "--json") == 0
    rows = {r["key"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["thinking.remote_url"]["value"] == stub.url
    assert rows["thinking.remote_url"]["default"] == ""
    assert "answers stay on this computer" in rows["thinking.remote_url"]["description"]
    assert config(data_dir, "set", "thinking.remote_url", "") == 0
    assert load_settings(data_dir / "settings.toml").settings.thinking.remote_url == ""


def test_an_unreachable_server_is_saved_with_a_warning(data_dir: Path,
                                                       capsys: Capsys) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    assert config(data_dir, "set", "thinking.remote_url", url) == 0
    err = capsys.readouterr().err
    assert "connection refused" in err and "thinking sessions are skipped" in err
    assert load_settings(data_dir / "settings.toml").settings.thinking.remote_url == url
