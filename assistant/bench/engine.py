"""``reverie bench engine``: preemption latency and the prompt-prefix cache, on a real model.

Preemption: BACKGROUND work (a long prefill, or a long decode) is interrupted at a
random moment by a FOREGROUND question; we time the submit -> background-stopped gap
and the foreground time to first token, against the same question asked when nothing
runs in the background (after the same background work has finished, so the KV cache
is in the same state). Prefix cache: time to first token of a short question after a
512/1,024/2,048-token prefix, evaluated in full (cold) or loaded from its saved state
(warm), on two engines over the same model file.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from assistant.bench.stats import percentile, rounded
from assistant.llm.engine import FinishReason, GenerationRequest, GenerationResult, Priority
from assistant.llm.llama import LlamaEngine
from assistant.llm.prompts import answer_request

Report = Callable[[str], None]

QUESTION = "What is the capital of France, and which river runs through that city?"
FILLER = ("The archive lists shipments, dates and places: crate {i} left the northern "
          "depot on day {i} carrying {j} boxes of tea, {k} lamps and one ledger. ")


def filler_text(engine: LlamaEngine, tokens: int, salt: int = 0) -> str:
    """Plain text of about ``tokens`` tokens; ``salt`` makes it differ from the start."""
    parts = [f"Record set {salt}. "]
    i = 0
    while True:
        text = "".join(parts)
        if engine.count_tokens(text) >= tokens:
            return text
        parts.append(FILLER.format(i=i + salt * 1000, j=(i * 7) % 50, k=(i * 3) % 11))
        i += 1


class _FirstToken:
    """Records when a request's first token arrived (called on the engine thread)."""

    def __init__(self) -> None:
        self.at: float | None = None
        self.event = threading.Event()

    def __call__(self, _piece: str) -> None:
        if self.at is None:
            self.at = time.perf_counter()
            self.event.set()


def _foreground() -> GenerationRequest:
    from assistant.llm.engine import PromptStyle

    return answer_request(PromptStyle.COMPLETION, QUESTION, max_tokens=8, temperature=0.0)


def _timed_foreground(engine: LlamaEngine) -> float:
    first = _FirstToken()
    submitted = time.perf_counter()
    engine.submit(_foreground(), first).result()
    return ((first.at or time.perf_counter()) - submitted) * 1000


def preemption_trials(engine: LlamaEngine, phase: str, trials: int, rng: random.Random,
                      report: Report) -> tuple[list[float], list[float], list[float]]:
    """(background stop times, foreground ttfts with background load, foreground ttfts
    without) in ms for ``phase`` prefill|decode. Each trial measures the foreground
    question both ways back to back, in alternating order, so that the two samples
    share the machine's conditions of the moment."""
    stops: list[float] = []
    ttfts: list[float] = []
    alone: list[float] = []
    long_prompt = filler_text(engine, 1500)
    for trial in range(trials):
        if trial % 2:
            alone.append(_baseline_ttft(engine, trial))
        if phase == "prefill":
            bg = GenerationRequest(prompt=f"Trial {trial}. " + long_prompt, max_tokens=4,
                                   priority=Priority.BACKGROUND)
            bg_first = _FirstToken()
            future: Future[GenerationResult] = engine.submit(bg, bg_first)
            time.sleep(rng.uniform(0.05, 2.0))  # prefill of ~1,500 tokens takes seconds
        else:
            bg = GenerationRequest(prompt=f"Trial {trial}. Once upon a time,", max_tokens=600,
                                   temperature=0.8, priority=Priority.BACKGROUND)
            bg_first = _FirstToken()
            future = engine.submit(bg, bg_first)
            bg_first.event.wait(30)
            time.sleep(rng.uniform(0.05, 1.5))
        stopped: dict[str, float] = {}

        def mark_stopped(_f: Future[GenerationResult], s: dict[str, float] = stopped) -> None:
            s.setdefault("at", time.perf_counter())

        future.add_done_callback(mark_stopped)
        first = _FirstToken()
        submitted = time.perf_counter()
        fg = engine.submit(_foreground(), first)
        result = future.result()
        fg.result()
        if result.finish_reason is not FinishReason.ABORTED:
            report(f"  {phase} trial {trial}: background had already finished; not counted")
            continue
        stops.append((stopped["at"] - submitted) * 1000)
        ttfts.append(((first.at or time.perf_counter()) - submitted) * 1000)
        if not trial % 2:
            alone.append(_baseline_ttft(engine, trial))
    return stops, ttfts, alone


def _baseline_ttft(engine: LlamaEngine, trial: int) -> float:
    """Foreground ttft with no background load, after the same kind of background work
    has finished (so the KV cache holds unrelated tokens, as after a preemption)."""
    engine.generate(GenerationRequest(prompt=f"Trial {trial}. Once upon a time,",
                                      max_tokens=4, priority=Priority.BACKGROUND))
    return _timed_foreground(engine)


def prefix_trials(model: Path, sizes: Sequence[int], repeats: int, n_ctx: int,
                  report: Report) -> list[dict[str, Any]]:
    rows = []
    with TemporaryDirectory(prefix="reverie-bench-kv-") as kv:
        cold = LlamaEngine(model, n_ctx=n_ctx)
        cold.wait_ready(120)
        warm = LlamaEngine(model, n_ctx=n_ctx, kv_dir=Path(kv))
        try:
            for engine in (cold, warm):
                if not engine.wait_ready(120):
                    raise RuntimeError(engine.load_error or "the model did not load")
            for size in sizes:
                prefix = filler_text(cold, size, salt=size)
                prompt = prefix + "\nQuestion: " + QUESTION + "\nAnswer:"
                warm.warm_prefix(prefix)
                cold_ms: list[float] = []
                warm_ms: list[float] = []
                for _ in range(repeats):
                    for engine, sink in ((cold, cold_ms), (warm, warm_ms)):
                        # Clear the in-memory KV so only the state file can help.
                        engine.generate(GenerationRequest(prompt="Unrelated.", max_tokens=1))
                        first = _FirstToken()
                        started = time.perf_counter()
                        engine.generate(GenerationRequest(prompt=prompt, max_tokens=4,
                                                          temperature=0.0), first)
                        sink.append(((first.at or time.perf_counter()) - started) * 1000)
                c, w = percentile(cold_ms, 50), percentile(warm_ms, 50)
                row = {"prefix_tokens": cold.count_tokens(prefix), "cold_ttft_ms": rounded(c),
                       "warm_ttft_ms": rounded(w), "ratio": rounded(c / w if w else 0.0)}
                report(f"  prefix {row['prefix_tokens']} tokens: cold {c:.0f} ms, "
                       f"warm {w:.0f} ms, ratio {row['ratio']}")
                rows.append(row)
        finally:
            cold.close()
            warm.close()
    return rows


def run(model: Path, *, trials: int = 30, sizes: Sequence[int] = (512, 1024, 2048),
        repeats: int = 3, seed: int = 1, report: Report = lambda _m: None) -> dict[str, Any]:
    rng = random.Random(seed)
    n_ctx = max(4096, max(sizes, default=0) + 512)
    engine = LlamaEngine(model, n_ctx=n_ctx)
    try:
        if not engine.wait_ready(120):
            raise RuntimeError(engine.load_error or "the model did not load")
        report(f"preemption during prefill ({trials} trials)")
        pre_stops, pre_ttfts, pre_alone = preemption_trials(engine, "prefill", trials, rng,
                                                            report)
        report(f"preemption during decoding ({trials} trials)")
        dec_stops, dec_ttfts, dec_alone = preemption_trials(engine, "decode", trials, rng,
                                                            report)
        alone = pre_alone + dec_alone
    finally:
        engine.close()
    with_bg = pre_ttfts + dec_ttfts
    result: dict[str, Any] = {
        "model": model.name,
        "trials": trials,
        "preempt_prefill_p50_ms": rounded(percentile(pre_stops, 50)),
        "preempt_prefill_p99_ms": rounded(percentile(pre_stops, 99)),
        "preempt_decode_p50_ms": rounded(percentile(dec_stops, 50)),
        "preempt_decode_p99_ms": rounded(percentile(dec_stops, 99)),
        "fg_ttft_p50_ms_with_bg": rounded(percentile(with_bg, 50)),
        "fg_ttft_p99_ms_with_bg": rounded(percentile(with_bg, 99)),
        "fg_ttft_p50_ms_without_bg": rounded(percentile(alone, 50)),
        "fg_ttft_p99_ms_without_bg": rounded(percentile(alone, 99)),
        "preempted_trials": {"prefill": len(pre_stops), "decode": len(dec_stops)},
    }
    report("prefix cache")
    result["prefix"] = prefix_trials(model, sizes, repeats, n_ctx, report)
    return result
