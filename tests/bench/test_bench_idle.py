"""`reverie bench idle` on the real model: JSON keys, and trials that really stop quickly."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from assistant import cli
from assistant.bench.idle import missing_keypress_tools, virtual_display

pytestmark = pytest.mark.model


def test_bench_idle_json(bundled_model: Path, data_dir: Path,
                         capsys: pytest.CaptureFixture[str]) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "settings.toml").write_text(f'[model]\npath = "{bundled_model}"\n')
    assert cli.main(["--data-dir", str(data_dir), "bench", "idle", "--trials", "4",
                     "--keypress-trials", "3", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"trials", "stop_p50_ms", "stop_p99_ms", "keypress_to_stop_p50_ms",
            "keypress_to_stop_p99_ms", "idle_poll_cpu_percent", "load_average"} <= set(data)
    assert data["trials"] == 4
    assert 0 < data["stop_p50_ms"] <= data["stop_p99_ms"] < 1000
    if missing_keypress_tools():
        assert data["keypress_skipped"] and data["keypress_to_stop_p99_ms"] is None
        return
    assert data["keypress_skipped"] is None and data["keypress_trials"] == 3
    # The key press is dated by the X server's idle counter: seen within the poll, then
    # stopped; xdotool's own start-up comes before it.
    assert 0 <= data["keypress_to_seen_p50_ms"] <= data["keypress_to_stop_p50_ms"]
    assert data["keypress_to_stop_p99_ms"] <= data["xdotool_to_stop_p99_ms"] < 2000
    assert data["return_detection"] == "events"
    assert 0 <= data["idle_poll_cpu_percent"] < 100
    assert 0 <= data["keypress_items_rolled_back"] <= 3


def test_bench_idle_keypress_trials_must_not_be_negative(data_dir: Path,
                                                          capsys: pytest.CaptureFixture[str],
                                                          ) -> None:
    assert cli.main(["--data-dir", str(data_dir), "bench", "idle", "--keypress-trials",
                     "-1"]) == 2
    assert "--keypress-trials" in capsys.readouterr().err


def test_bench_needs_a_benchmark_name(data_dir: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["--data-dir", str(data_dir), "bench"])
    assert exc.value.code == 2


@pytest.mark.xvfb
def test_the_key_press_display_lets_every_client_in(
        clients_refused: Callable[[str], list[str]]) -> None:
    """The runner's idle backend and xdotool come and go: no reset may refuse the next."""
    with virtual_display() as display:
        assert clients_refused(display) == []
