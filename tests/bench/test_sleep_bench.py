"""bench sleep: the JSON shape and the mode hook, on the FakeEngine (fast, no model)."""

from __future__ import annotations

from pathlib import Path

from assistant.bench.sleep import MODES, correct, responder_mode, run_sleep_bench
from assistant.config import Settings
from assistant.llm.engine import Engine
from assistant.llm.fake import FakeEngine
from assistant.paths import Paths


def test_sleep_bench_modes_and_json() -> None:
    engine = FakeEngine(rules=[("Summary:", " Notes.\nFacts:\n"),
                               ("dentist", "It is on Tuesday 24 November at 10:30.")])

    def factory(_m: Path | None, _s: Settings, _p: Paths) -> Engine:
        return engine

    result = run_sleep_bench(Settings(), limit=2, engine_factory=factory,
                             modes={**MODES, "again": responder_mode("memory")})
    data = result.to_json()
    assert data["questions"] == 2
    assert set(data["modes"]) == {"full-context", "memory", "auto", "again"}
    for stats in data["modes"].values():
        assert set(stats) >= {"accuracy", "test_tokens_mean", "ttft_p50_ms", "ttft_p95_ms",
                              "total_p50_ms"}
    assert data["modes"]["memory"]["accuracy"] == 0.5  # the dentist question
    assert data["sleep_tokens"] > 0
    full, memory = data["modes"]["full-context"], data["modes"]["memory"]
    assert full["test_tokens_mean"] > 5 * memory["test_tokens_mean"]
    assert data["full_context_over_memory"]["test_tokens"] > 5
    assert set(data["amortized_cost"]) == {"1", "5", "10"}
    for cost in data["amortized_cost"].values():
        assert set(cost) == {"baseline", "sleep"} and cost["baseline"] > 0
    assert data["amortized_cost"]["10"]["sleep"] < data["amortized_cost"]["1"]["sleep"]
    assert 0 <= data["hit_rate_predictable"] <= 1 and 0 <= data["hit_rate_unpredictable"] <= 1
    assert data["false_match_rate"] <= 0.05
    assert data["anticipated_p99_ms"] is None or data["anticipated_p99_ms"] >= 0


def test_the_plot_is_written(tmp_path: Path) -> None:
    from assistant.bench.sleep import ModeStats, SleepBenchResult, write_plot
    from assistant.recall.responder import Answer

    def answer(tokens: int) -> Answer:
        return Answer("a", "generated", "m", 1.0, 2.0, tokens, 0, 1, None, [], "fake")

    modes = {"full-context": ModeStats([answer(2000)], 0), "auto": ModeStats([answer(0)], 1)}
    out = write_plot(SleepBenchResult(1, modes, 100, 1.0, "fake"), tmp_path / "p.png")
    assert out.stat().st_size > 1000


def test_correct_is_a_case_insensitive_substring_match() -> None:
    assert correct("It is at 10:30.", ["10:30"]) and correct("PIXEL", ["pixel"])
    assert not correct("no idea", ["Pixel", "cat"])
