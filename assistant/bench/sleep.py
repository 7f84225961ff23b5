"""``reverie bench sleep``: test-time cost with and without sleep-time compute.

On the shipped fixture (imported into a throw-away profile, then one sleep session on
the real model), every question is answered in each mode, the modes interleaved per
question, and before each answer the model's in-memory state is replaced by unrelated
tokens, so that no mode inherits another's evaluated prompt (saved prefix states, made
during sleep, still load). Per mode: accuracy (any
``accept`` substring, case-insensitive, in the answer), the prompt tokens evaluated at
question time, time to first token (p50, p95) and total time (p50). ``sleep_tokens`` is
what the sleep session evaluated and generated.

``auto`` serves answers prepared during sleep when a question matches one, else
answers as ``memory``: its hit rate on predictable and on unpredictable questions,
the latency of served prepared answers (p99, through the same ``Responder.ask`` path
as ``reverie ask --json``), and the paper's amortized cost (sleep tokens shared by
1, 5 or 10 queries, test-time tokens weighted 10x) are reported too, with the
false-match rate of the matcher on the shipped paraphrase fixture.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from assistant.app import EngineFactory, Reverie, default_engine_factory
from assistant.bench.recall import load_questions, slept_fixture_profile
from assistant.bench.stats import percentile, rounded
from assistant.config import Settings
from assistant.llm.engine import Engine, GenerationRequest
from assistant.recall.matching import DEFAULT_THRESHOLD, load_pairs, rates
from assistant.recall.responder import Answer
from assistant.resources import resource

log = logging.getLogger("assistant.bench")

#: Answers one question in one mode, in a fresh conversation of ``app``.
ModeRunner = Callable[[Reverie, Engine, str, date], Answer]


def responder_mode(mode: str) -> ModeRunner:
    """A mode served by `Responder.ask(mode=...)`; the conversation is deleted after."""

    def run(app: Reverie, engine: Engine, question: str, today: date) -> Answer:
        conv = app.chats.create_conversation("bench")
        try:
            return app.responder(engine).ask(question, conv.id or 0, mode=mode, today=today)
        finally:
            app.chats.delete(conv.id or 0)

    return run


#: Mode name -> how it answers. Order matters only for the output.
MODES: dict[str, ModeRunner] = {
    "full-context": responder_mode("full-context"),
    "memory": responder_mode("memory"),
    "auto": responder_mode("auto"),
}

#: Test-time tokens cost this many times sleep-time tokens (latency-bound; the paper's 10x).
TEST_TOKEN_WEIGHT = 10
QUERIES_PER_CONTEXT = (1, 5, 10)


def forget_evaluated_prompt(engine: Engine) -> None:
    """Leave unrelated tokens in the model's memory, as after a sleep session, so that no
    mode reuses the prompt another mode just evaluated; saved prefix states still load."""
    engine.generate(GenerationRequest(prompt="Unrelated.", max_tokens=1))


def correct(answer: str, accept: list[str]) -> bool:
    low = answer.lower()
    return any(a.lower() in low for a in accept)


@dataclass
class ModeStats:
    answers: list[Answer] = field(default_factory=list)
    right: int = 0

    def to_json(self) -> dict[str, Any]:
        n = len(self.answers)
        ttft = [a.ttft_ms for a in self.answers]
        return {
            "accuracy": round(self.right / n, 3) if n else 0.0,
            "test_tokens_mean": rounded(sum(a.prompt_tokens for a in self.answers) / n
                                        if n else 0.0),
            "ttft_p50_ms": rounded(percentile(ttft, 50)),
            "ttft_p95_ms": rounded(percentile(ttft, 95)),
            "total_p50_ms": rounded(percentile([a.total_ms for a in self.answers], 50)),
            "cached_prefix_tokens_mean": rounded(
                sum(a.cached_prefix_tokens for a in self.answers) / n if n else 0.0),
        }


@dataclass
class SleepBenchResult:
    questions: int
    modes: dict[str, ModeStats]
    sleep_tokens: int
    sleep_seconds: float
    model: str = ""
    #: Per question: (predictable, served a prepared answer in auto mode).
    auto_hits: list[tuple[bool, bool]] = field(default_factory=list)
    false_match_rate: float = 0.0

    def hit_rate(self, predictable: bool) -> float:
        served = [hit for pred, hit in self.auto_hits if pred is predictable]
        return round(sum(served) / len(served), 3) if served else 0.0

    def anticipated_p99_ms(self) -> float | None:
        auto = self.modes.get("auto")
        served = [a.ttft_ms for a in auto.answers if a.source == "anticipated"] if auto else []
        return rounded(percentile(served, 99)) if served else None

    def amortized_cost(self) -> dict[str, dict[str, float]]:
        """Cost per query: sleep tokens shared by n queries plus weighted test tokens."""
        full, auto = self.modes.get("full-context"), self.modes.get("auto")
        if full is None or auto is None:
            return {}
        f = full.to_json()["test_tokens_mean"]
        a = auto.to_json()["test_tokens_mean"]
        return {str(n): {"baseline": rounded(TEST_TOKEN_WEIGHT * f),
                         "sleep": rounded(self.sleep_tokens / n + TEST_TOKEN_WEIGHT * a)}
                for n in QUERIES_PER_CONTEXT}

    def ratios(self) -> dict[str, float]:
        full = self.modes.get("full-context")
        mem = self.modes.get("memory")
        if full is None or mem is None:
            return {}
        f, m = full.to_json(), mem.to_json()
        return {"test_tokens": rounded(f["test_tokens_mean"] / max(m["test_tokens_mean"], 1)),
                "ttft_p50": rounded(f["ttft_p50_ms"] / max(m["ttft_p50_ms"], 0.1))}

    def to_json(self) -> dict[str, Any]:
        return {"questions": self.questions, "model": self.model,
                "modes": {name: stats.to_json() for name, stats in self.modes.items()},
                "sleep_tokens": self.sleep_tokens,
                "sleep_seconds": round(self.sleep_seconds, 1),
                "full_context_over_memory": self.ratios(),
                "amortized_cost": self.amortized_cost(),
                "hit_rate_predictable": self.hit_rate(True),
                "hit_rate_unpredictable": self.hit_rate(False),
                "anticipated_p99_ms": self.anticipated_p99_ms(),
                "false_match_rate": round(self.false_match_rate, 3)}


def run_sleep_bench(settings: Settings, *, limit: int | None = None,
                    modes: dict[str, ModeRunner] | None = None,
                    progress: Callable[[int, int], None] | None = None,
                    engine_factory: EngineFactory = default_engine_factory) -> SleepBenchResult:
    fixture = load_questions()
    questions = fixture["questions"][:limit] if limit else fixture["questions"]
    today = datetime.fromisoformat(fixture["now"]).date()
    chosen = modes or MODES
    with slept_fixture_profile(settings, engine_factory=engine_factory) as slept:
        app = slept.app
        engine = app.start_engine()
        stats = {name: ModeStats() for name in chosen}
        auto_hits: list[tuple[bool, bool]] = []
        for i, q in enumerate(questions, 1):
            for name, run in chosen.items():
                forget_evaluated_prompt(engine)
                answer = run(app, engine, q["question"], today)
                stats[name].answers.append(answer)
                if name == "auto":
                    auto_hits.append((bool(q["predictable"]), answer.source == "anticipated"))
                ok = correct(answer.answer, q["accept"])
                stats[name].right += ok
                log.info("bench sleep %s q%s: %s (%d tokens, ttft %.0f ms) %r", name, q["id"],
                         "right" if ok else "wrong", answer.prompt_tokens, answer.ttft_ms,
                         answer.answer)
            if progress is not None:
                progress(i, len(questions))
        usage = slept.report.usage
        _hits, false_rate = rates(load_pairs(resource("bench", "paraphrases.json")),
                                  DEFAULT_THRESHOLD)
        return SleepBenchResult(len(questions), stats,
                                usage.prompt_tokens + usage.completion_tokens,
                                slept.sleep_seconds, engine.info.name, auto_hits, false_rate)


def write_plot(result: SleepBenchResult, path: Path) -> Path:
    """Accuracy against test-time tokens, one point per mode (PNG)."""
    from assistant.gui.plot_export import Point, scatter_png

    points = [Point(name, stats.to_json()["test_tokens_mean"], stats.to_json()["accuracy"])
              for name, stats in result.modes.items()]
    scatter_png(points, path, title=f"Sleep-time compute on {result.model}",
                x_label="prompt tokens evaluated at question time (mean, log scale)",
                y_label="accuracy")
    return path
