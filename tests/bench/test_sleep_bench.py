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
    assert data["questions"] == 2 and set(data["modes"]) == {"full-context", "memory", "again"}
    for stats in data["modes"].values():
        assert set(stats) >= {"accuracy", "test_tokens_mean", "ttft_p50_ms", "ttft_p95_ms",
                              "total_p50_ms"}
    assert data["modes"]["memory"]["accuracy"] == 0.5  # the dentist question
    assert data["sleep_tokens"] > 0
    full, memory = data["modes"]["full-context"], data["modes"]["memory"]
    assert full["test_tokens_mean"] > 5 * memory["test_tokens_mean"]
    assert data["full_context_over_memory"]["test_tokens"] > 5


def test_correct_is_a_case_insensitive_substring_match() -> None:
    assert correct("It is at 10:30.", ["10:30"]) and correct("PIXEL", ["pixel"])
    assert not correct("no idea", ["Pixel", "cat"])
