"""bench sleep: the JSON shape and the mode hook, on the FakeEngine (fast, no model)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.bench.sleep import MODES, correct, responder_mode, run_sleep_bench, stale
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
    assert set(data["modes"]) == {"full-context", "memory", "auto", "generated", "extractive",
                                  "again"}
    assert data["fixture"] == "maya" and data["full_context_n_ctx"] >= 4096
    for stats in data["modes"].values():
        assert set(stats) >= {"accuracy", "test_tokens_mean", "ttft_p50_ms", "ttft_p95_ms",
                              "total_p50_ms"}
    # The dentist question, and "How much vitamin D should I take?", an amount, quoted
    # from the evidence (resources/answer_styles.json); the model says nothing of it.
    assert data["modes"]["memory"]["accuracy"] == 1.0
    assert data["modes"]["generated"]["accuracy"] == 0.5  # the model: the dentist only
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
    for stats in data["modes"].values():
        assert 0 <= stats["f1"] <= 1 and stats["stale_served"] >= 0
    assert data["modes"]["extractive"]["sources"].get("extracted", 0) >= 1
    rows = result.answer_rows()  # what --answers writes, one JSON line each
    assert len(rows) == 2 * 6 and {r["mode"] for r in rows} == set(data["modes"])
    memory_rows = [r for r in rows if r["mode"] == "memory"]
    assert all(r["correct"] for r in memory_rows)  # accuracy 1.0 above
    assert set(rows[0]) == {"mode", "id", "question", "gold", "answer", "correct", "stale",
                            "dont_know", "source", "prompt_tokens", "f1"}
    styles = data["answer_styles"]
    assert set(styles["chosen"]) == {"time", "place", "person", "amount", "yes-no", "other"}
    assert styles["calibration"]["time"]["generated"]["n"] == 1  # question 1 (odd id)
    assert styles["heldout"]["other"]["generated"]["n"] + styles["heldout"]["place"][
        "generated"]["n"] + styles["heldout"]["time"]["generated"]["n"] >= 0


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
    assert correct("The book club meets on the 2nd December.", ["2 December"])
    assert not correct("On 12 December", ["2 December"])
    assert stale("Moved from the 3rd May", ["3 May"])


def test_scores() -> None:
    from assistant.bench.sleep import says_dont_know, stale, token_f1

    assert correct("Tuesday at 10:30", ["10:30"], ["09:00"])
    assert not correct("10:30, not 09:00 any more", ["10:30"], ["09:00"])  # quotes the old
    assert stale("moved from 09:00", ["09:00"]) and not stale("at 10:30", ["09:00"])
    assert abs(token_f1("On 9 May.", "Saturday 9 May") - 2 / 3) < 1e-9
    assert token_f1("", "x") == 0.0 and token_f1("Paris", "paris") == 1.0
    assert says_dont_know("I don’t know.") and not says_dont_know("It is 10:30.")


def test_sweep_runs_every_budget_and_draws_curves(tmp_path: Path) -> None:
    from assistant.bench.sleep import run_sweep, write_sweep_plot

    engine = FakeEngine(rules=[("Summary:", " Notes.\nFacts:\n"),
                               ("dentist", "It is on Tuesday 24 November at 10:30.")])

    def factory(_m: Path | None, _s: Settings, _p: Paths) -> Engine:
        return engine

    result = run_sweep(Settings(), limit=1, factors=(0.5, 1.0),
                       budgets=((1, 50), (5, 200)), engine_factory=factory)
    data = result.to_json()
    assert list(data["sleep"]) == ["0.5", "1.0"]
    assert len(data["points"]) == 2 * 2 * 2  # sleep budgets x test budgets x modes
    assert {p["mode"] for p in data["points"]} == {"memory", "auto"}
    small = [p for p in data["points"] if p["top_k"] == 1 and p["mode"] == "memory"]
    large = [p for p in data["points"] if p["top_k"] == 5 and p["mode"] == "memory"]
    assert small[0]["test_tokens_mean"] <= large[0]["test_tokens_mean"]
    assert write_sweep_plot(result, tmp_path / "s.png").stat().st_size > 2000


def test_two_people_fixture_runs(tmp_path: Path) -> None:
    engine = FakeEngine(rules=[("Summary:", " Notes.\nFacts:\n")])

    def factory(_m: Path | None, _s: Settings, _p: Paths) -> Engine:
        return engine

    data = run_sleep_bench(Settings(), limit=1, engine_factory=factory, fixture="two_people",
                           modes={"memory": MODES["memory"]}).to_json()
    assert data["fixture"] == "two_people" and data["questions"] == 1


def test_bad_bench_sleep_options_get_one_sentence(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from assistant.cli import main

    home = str(tmp_path / "home")
    for args, says in ((["--fixture", "nope"], "no fixture 'nope'; use one of maya, two_people"),
                       (["--model", str(tmp_path / "x.gguf")], "no model file at"),
                       (["--sleep-seconds", "0"], "--sleep-seconds must be more than 0"),
                       (["--modes", "memory,fast"], "There is no mode fast; use one or more "
                        "of full-context, memory, auto, generated, extractive"),
                       (["--answers", str(tmp_path / "no" / "a.jsonl")],
                        "give a file in a folder that exists"),
                       (["--answers", str(tmp_path)], "give a file in a folder that exists"),
                       (["--answers", str(tmp_path / "a.jsonl"), "--sweep"],
                        "--answers does not go with --sweep"),
                       (["--warm-full-context", "--sweep"],
                        "--warm-full-context does not go with --sweep"),
                       (["--warm-full-context", "--modes", "memory"],
                        "--warm-full-context needs the full-context mode")):
        assert main(["--data-dir", home, "bench", "sleep", *args]) == 2
        err = capsys.readouterr().err
        assert says in err and "Traceback" not in err


def test_modes_run_alone_and_a_kept_profile_is_reused(tmp_path: Path) -> None:
    """``--modes full-context`` can run in its own process beside the others, and
    ``--profile DIR`` keeps the slept profile so that a later run starts from it."""
    from assistant.bench.sleep import pick_modes

    assert list(pick_modes("auto, memory")) == ["memory", "auto"]
    engine = FakeEngine(rules=[("Summary:", " Notes.\nFacts:\n")])

    def factory(_m: Path | None, _s: Settings, _p: Paths) -> Engine:
        return engine

    kept = tmp_path / "profile"
    first = run_sleep_bench(Settings(), limit=1, engine_factory=factory,
                            modes=pick_modes("memory"), profile=kept)
    assert set(first.modes) == {"memory"} and (kept / "reverie.db").exists()
    again = run_sleep_bench(Settings(), limit=1, engine_factory=factory,
                            modes=pick_modes("memory"), profile=kept)
    assert again.sleep_tokens < first.sleep_tokens  # nothing left to digest


def test_every_mode_seeds_a_question_alike(tmp_path: Path) -> None:
    """Side by side: the sampler's seed is the question's, in every mode, so modes given
    the same prompt draw the same answer and differ only where their prompts differ."""
    from datetime import date

    from assistant.app import Reverie

    engine = FakeEngine(default="An answer.")
    app = Reverie.open(tmp_path / "p", engine_factory=lambda *_: engine)
    try:
        app.notes.add("Garden", "Tomatoes planted on 3 May.")
        for mode in ("memory", "generated", "full-context"):
            MODES[mode](app, engine, "What did I plant?", date(2026, 6, 1))
        MODES["memory"](app, engine, "Where is the garden?", date(2026, 6, 1))
    finally:
        app.close()
    seeds = [r.seed for r in engine.requests if r.prompt and "What did I plant?" in r.prompt]
    assert len(seeds) == 3 and len(set(seeds)) == 1 and seeds[0] is not None
    other = [r.seed for r in engine.requests if r.prompt and "Where is the garden?" in r.prompt]
    assert other and other[0] != seeds[0]


def test_a_warm_full_context_baseline_keeps_its_prompt_and_counts_it(tmp_path: Path) -> None:
    """``--warm-full-context``: the full-context engine is not made to forget the fixture
    between questions, its cached tokens still count as test-time tokens, and no latency
    ratio is drawn from its warm first tokens."""
    from assistant.bench.sleep import ModeStats
    from assistant.recall.responder import Answer

    small = FakeEngine(rules=[("Summary:", " Notes.\nFacts:\n")], n_ctx=1024)
    wides: list[FakeEngine] = []

    def factory(_m: Path | None, settings: Settings, _p: Paths) -> Engine:
        if settings.model.n_ctx == 1024:
            return small
        wides.append(FakeEngine(n_ctx=settings.model.n_ctx))
        return wides[-1]

    kept = tmp_path / "profile"
    for warm in (False, True):
        data = run_sleep_bench(Settings().replace("model", n_ctx=1024), limit=3,
                               engine_factory=factory, modes={"full-context":
                                                              MODES["full-context"]},
                               profile=kept, warm_full_context=warm).to_json()
        forgot = [p for p in wides[-1].prompts if p == "Unrelated."]
        assert len(forgot) == (0 if warm else 3)
        assert data["modes"]["full-context"].get("warm_prefix", False) is warm
    assert len(wides) == 2

    def answer(prompt: int, cached: int) -> Answer:
        return Answer("a", "generated", "m", 1.0, 2.0, prompt, cached, 1, None, [], "fake")

    assert ModeStats([answer(10, 90)], warm=True).to_json()["test_tokens_mean"] == 100
    assert ModeStats([answer(10, 90)]).to_json()["test_tokens_mean"] == 10
    full = ModeStats([answer(10, 90)], warm=True)
    memory = ModeStats([answer(5, 0)])
    from assistant.bench.sleep import SleepBenchResult
    ratios = SleepBenchResult(1, {"full-context": full, "memory": memory}, 0, 1.0,
                              "fake").ratios()
    assert ratios == {"test_tokens": 20.0}
