"""bench engine on the real model, tiny: the JSON contract and that the numbers are real."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.bench import engine as engine_bench

pytestmark = pytest.mark.model


def test_engine_bench_reports_every_key(bundled_model: Path) -> None:
    lines: list[str] = []
    result = engine_bench.run(bundled_model, trials=2, sizes=(128,), repeats=1,
                              report=lines.append)
    for key in ("preempt_prefill_p99_ms", "preempt_decode_p99_ms", "fg_ttft_p99_ms_with_bg",
                "fg_ttft_p99_ms_without_bg"):
        assert isinstance(result[key], float) and result[key] >= 0, key
    assert result["preempted_trials"]["prefill"] >= 1
    assert result["preempt_prefill_p99_ms"] < 1000
    (row,) = result["prefix"]
    assert set(row) == {"prefix_tokens", "cold_ttft_ms", "warm_ttft_ms", "ratio"}
    assert row["prefix_tokens"] >= 128 and row["cold_ttft_ms"] > row["warm_ttft_ms"] > 0
    assert any("prefix" in line for line in lines)
