"""``reverie bench startup``: real cold starts of the app, the JSON contract, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.bench.startup import StartupResult, StartupRun, run
from assistant.cli import main
from assistant.cli.bench import BENCH_COMMANDS


def test_median_and_keys() -> None:
    result = StartupResult([StartupRun(900, 2000), StartupRun(700, 1500),
                            StartupRun(1200, 1800)], model="m.gguf")
    data = result.to_json()
    assert data["window_shown_ms"] == 900 and data["model_ready_ms"] == 1800
    assert len(data["runs"]) == 3 and data["model"] == "m.gguf"


@pytest.mark.model
def test_two_real_starts(bundled_model: Path) -> None:
    result = run(bundled_model, runs=2)
    assert len(result.runs) == 2
    for one in result.runs:
        assert 0 < one.window_shown_ms < one.model_ready_ms < 60_000


@pytest.mark.model
def test_cli_json(tmp_path: Path, bundled_model: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert "startup" in BENCH_COMMANDS
    profile = tmp_path / "profile"
    profile.mkdir()
    (profile / "settings.toml").write_text(f'[model]\npath = "{bundled_model}"\n')
    assert main(["--data-dir", str(profile), "bench", "startup", "--runs", "1", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"window_shown_ms", "model_ready_ms"} <= data.keys()
    assert data["window_shown_ms"] < data["model_ready_ms"]


def test_bad_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--data-dir", str(tmp_path / "p"), "bench", "startup", "--runs", "0"]) == 2
    assert "--runs" in capsys.readouterr().err
