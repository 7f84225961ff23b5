"""`reverie bench idle` on the real model: JSON keys, and trials that really stop quickly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant import cli

pytestmark = pytest.mark.model


def test_bench_idle_json(bundled_model: Path, data_dir: Path,
                         capsys: pytest.CaptureFixture[str]) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "settings.toml").write_text(f'[model]\npath = "{bundled_model}"\n')
    assert cli.main(["--data-dir", str(data_dir), "bench", "idle", "--trials", "4",
                     "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"trials", "stop_p50_ms", "stop_p99_ms"} <= set(data)
    assert data["trials"] == 4
    assert 0 < data["stop_p50_ms"] <= data["stop_p99_ms"] < 1000


def test_bench_needs_a_benchmark_name(data_dir: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["--data-dir", str(data_dir), "bench"])
    assert exc.value.code == 2
