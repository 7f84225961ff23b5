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

Every mode sees the fixture's history and notes only: each question is asked in a
conversation of its own that is deleted after its answer, so no mode ever sees the
benchmark's earlier questions or answers. The full-context baseline runs on an engine
of its own whose window holds the whole fixture (``n_ctx`` raised up to the model's
training context, 32k for Gemma 3): the paper's baseline, not a truncated one.

Besides substring accuracy, every mode reports token ``f1`` against the gold answer,
``stale_served`` (answers quoting a value the fixture marks superseded, which also
makes an answer wrong), ``idk_accuracy`` (unanswerable questions answered "I don't
know") and ``idk_false_rate`` (answerable ones answered so). ``generated`` and
``extractive`` are memory mode with every kind of question generated, or answered
with the best evidence sentence (`assistant.recall.extractive`): ``answer_styles``
compares them per kind of question on the calibration half (odd question ids), picks
the better per kind, and reports that choice on the held-out half (even ids).
``--sweep`` (`run_sweep`) scales the sleep budget against the test-time budget.
``--modes`` (`pick_modes`) runs some modes only: the ~14k-token full-context baseline
can then run in a process of its own beside the others; ``--profile DIR`` keeps the
slept profile, so that a later run skips the sleep. ``--warm-full-context`` keeps the
full-context engine's evaluated fixture between questions, as a chat app that keeps
its KV cache would: only each question is evaluated, so the baseline's accuracy on
every question takes minutes, not hours (one cold prompt takes about two minutes on
the two-person fixture here). Its test tokens still count the whole prompt; its
latency is then a warm one (the mode reports ``warm_prefix``).
"""

from __future__ import annotations

import logging
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from assistant.app import EngineFactory, Reverie, default_engine_factory
from assistant.bench.recall import (
    DEFAULT_FIXTURE,
    fixture_dir,
    load_questions,
    slept_fixture_profile,
)
from assistant.bench.stats import percentile, rounded
from assistant.config import Settings
from assistant.llm.engine import Engine, GenerationRequest
from assistant.recall.extractive import EXTRACTIVE, GENERATED, KINDS, question_kind
from assistant.recall.matching import DEFAULT_THRESHOLD, load_pairs, rates
from assistant.recall.responder import Answer
from assistant.resources import resource
from assistant.text.words import words

log = logging.getLogger("assistant.bench")

#: Answers one question in one mode, in a fresh conversation of ``app``.
ModeRunner = Callable[[Reverie, Engine, str, date], Answer]


def responder_mode(mode: str, styles: str | None = None) -> ModeRunner:
    """A mode served by `Responder.ask(mode=...)`; the conversation is deleted after.
    ``styles`` (``generated`` | ``extractive``) answers every kind of question that way
    instead of by the committed table."""

    def run(app: Reverie, engine: Engine, question: str, today: date) -> Answer:
        conv = app.chats.create_conversation("bench")
        responder = app.responder(engine)
        responder.seed = zlib.crc32(question.encode("utf-8"))  # alike in every mode
        if styles is not None:
            responder.answer_styles = dict.fromkeys(KINDS, styles)
        try:
            return responder.ask(question, conv.id or 0, mode=mode, today=today)
        finally:
            app.chats.delete(conv.id or 0)

    return run


#: Mode name -> how it answers. Order matters only for the output.
MODES: dict[str, ModeRunner] = {
    "full-context": responder_mode("full-context"),
    "memory": responder_mode("memory"),
    "auto": responder_mode("auto"),
    GENERATED: responder_mode("memory", GENERATED),
    EXTRACTIVE: responder_mode("memory", EXTRACTIVE),
}
#: Question ids of this parity calibrate the answer styles; the others report them.
CALIBRATION_PARITY = 1
#: What an answer that admits it does not know contains.
_DONT_KNOW = ("don't know", "do not know", "no record", "not mentioned", "not sure")
#: The full-context engine's window: the fixture plus this, at most the model's own.
FULL_CONTEXT_MARGIN = 1024
MAX_FULL_CONTEXT = 32768

#: Test-time tokens cost this many times sleep-time tokens (latency-bound; the paper's 10x).
TEST_TOKEN_WEIGHT = 10
QUERIES_PER_CONTEXT = (1, 5, 10)


def forget_evaluated_prompt(engine: Engine) -> None:
    """Leave unrelated tokens in the model's memory, as after a sleep session, so that no
    mode reuses the prompt another mode just evaluated; saved prefix states still load."""
    engine.generate(GenerationRequest(prompt="Unrelated.", max_tokens=1))


_ORDINAL = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)\b")


def _compared(text: str) -> str:
    """``text`` as answers and gold values are compared: lower-cased, "2nd" read "2"."""
    return _ORDINAL.sub(r"\1", text.lower())


def _holds(answer: str, value: str) -> bool:
    """Whether ``value`` is in ``answer`` (both `_compared`), not inside a longer word or
    number ("2 December" is not in "12 December")."""
    value = _compared(value)
    lead = r"(?<!\w)" if value[:1].isalnum() else ""
    return re.search(lead + re.escape(value), _compared(answer)) is not None


def correct(answer: str, accept: list[str], superseded: list[str] | None = None) -> bool:
    """Any ``accept`` value (case-insensitive, "the 2nd December" holding "2 December",
    "12 December" not) is in ``answer`` and no superseded value is."""
    return (any(_holds(answer, a) for a in accept)
            and not any(_holds(answer, v) for v in superseded or []))


def stale(answer: str, superseded: list[str]) -> bool:
    return any(_holds(answer, v) for v in superseded)


def says_dont_know(answer: str) -> bool:
    low = answer.lower().replace("\u2019", "'")
    return any(p in low for p in _DONT_KNOW)


def token_f1(answer: str, gold: str) -> float:
    """SQuAD-style token F1 between ``answer`` and ``gold`` (words, case-folded)."""
    got, want = words(answer), words(gold)
    if not got or not want:
        return float(got == want)
    common = sum(min(got.count(w), want.count(w)) for w in set(got))
    if not common:
        return 0.0
    precision, recall = common / len(got), common / len(want)
    return 2 * precision * recall / (precision + recall)


@dataclass
class Scored:
    """One answer of one mode to one question, scored."""

    question: dict[str, Any]
    answer: Answer
    right: bool
    f1: float


@dataclass
class ModeStats:
    answers: list[Answer] = field(default_factory=list)
    right: int = 0
    scored: list[Scored] = field(default_factory=list)
    #: The mode kept its evaluated prompt between questions (`run_sleep_bench`'s
    #: ``warm_full_context``): its cached tokens were evaluated at test time too.
    warm: bool = False

    def add(self, question: dict[str, Any], answer: Answer) -> Scored:
        ok = correct(answer.answer, question["accept"], question.get("superseded"))
        item = Scored(question, answer, ok, token_f1(answer.answer, question["answer"]))
        self.answers.append(answer)
        self.right += ok
        self.scored.append(item)
        return item

    def to_json(self) -> dict[str, Any]:
        n = len(self.answers)
        ttft = [a.ttft_ms for a in self.answers]
        tested = [a.prompt_tokens + (a.cached_prefix_tokens if self.warm else 0)
                  for a in self.answers]
        data: dict[str, Any] = {
            "accuracy": round(self.right / n, 3) if n else 0.0,
            "test_tokens_mean": rounded(sum(tested) / n if n else 0.0),
            "ttft_p50_ms": rounded(percentile(ttft, 50)),
            "ttft_p95_ms": rounded(percentile(ttft, 95)),
            "total_p50_ms": rounded(percentile([a.total_ms for a in self.answers], 50)),
            "cached_prefix_tokens_mean": rounded(
                sum(a.cached_prefix_tokens for a in self.answers) / n if n else 0.0),
        }
        if self.warm:
            data["warm_prefix"] = True
        if self.scored:
            unanswerable = [x for x in self.scored if x.question.get("answerable") is False]
            answerable = [x for x in self.scored if x.question.get("answerable") is not False]
            data.update({
                "f1": round(sum(x.f1 for x in self.scored) / len(self.scored), 3),
                "stale_served": sum(stale(x.answer.answer, x.question.get("superseded", []))
                                    for x in self.scored),
                "idk_accuracy": _share([says_dont_know(x.answer.answer)
                                        for x in unanswerable]),
                "idk_false_rate": _share([says_dont_know(x.answer.answer)
                                          for x in answerable]),
                "sources": {src: sum(x.answer.source == src for x in self.scored)
                            for src in sorted({x.answer.source for x in self.scored})},
            })
        return data


def _share(flags: list[bool]) -> float | None:
    return round(sum(flags) / len(flags), 3) if flags else None


def _kind_scores(items: list[Scored]) -> dict[str, Any]:
    n = len(items)
    return {"n": n, "accuracy": round(sum(x.right for x in items) / n, 3) if n else None,
            "f1": round(sum(x.f1 for x in items) / n, 3) if n else None}


def answer_styles(generated: ModeStats, extractive: ModeStats) -> dict[str, Any]:
    """Per kind of question: generated against extractive on the calibration half, the
    better one chosen (accuracy, then F1; generated on a tie or with no question), and
    the choice reported on the held-out half."""
    def split(stats: ModeStats, calibration: bool) -> dict[str, list[Scored]]:
        out: dict[str, list[Scored]] = {k: [] for k in KINDS}
        for x in stats.scored:
            if (int(x.question["id"]) % 2 == CALIBRATION_PARITY) is calibration:
                out[question_kind(x.question["question"])].append(x)
        return out

    report: dict[str, Any] = {"calibration": {}, "heldout": {}, "chosen": {}}
    cal_g, cal_e = split(generated, True), split(extractive, True)
    held_g, held_e = split(generated, False), split(extractive, False)
    chosen_items: list[Scored] = []
    for kind in KINDS:
        g, e = _kind_scores(cal_g[kind]), _kind_scores(cal_e[kind])
        better = (e["n"] and (e["accuracy"], e["f1"]) > (g["accuracy"], g["f1"]))
        report["chosen"][kind] = EXTRACTIVE if better else GENERATED
        report["calibration"][kind] = {GENERATED: g, EXTRACTIVE: e}
        report["heldout"][kind] = {GENERATED: _kind_scores(held_g[kind]),
                                   EXTRACTIVE: _kind_scores(held_e[kind])}
        chosen_items += held_e[kind] if better else held_g[kind]
    every = [x for k in KINDS for x in held_g[k]]
    report["heldout_total"] = {"chosen": _kind_scores(chosen_items),
                               GENERATED: _kind_scores(every),
                               EXTRACTIVE: _kind_scores([x for k in KINDS
                                                         for x in held_e[k]])}
    return report


@dataclass
class SleepBenchResult:
    questions: int
    modes: dict[str, ModeStats]
    sleep_tokens: int
    sleep_seconds: float
    model: str = ""
    #: Per question: (predictable, served a prepared answer in auto mode, and it was right).
    auto_hits: list[tuple[bool, bool]] = field(default_factory=list)
    false_match_rate: float = 0.0
    fixture: str = DEFAULT_FIXTURE
    full_context_n_ctx: int = 0
    #: Prepared answers served that were wrong (answered another question).
    false_serves: int = 0
    heldout_paraphrases: dict[str, float] = field(default_factory=dict)
    sleep_stopped_because: str = "done"

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
        out = {"test_tokens": rounded(f["test_tokens_mean"] / max(m["test_tokens_mean"], 1))}
        if not full.warm:  # a warm baseline's latency is not the cold one compared here
            out["ttft_p50"] = rounded(f["ttft_p50_ms"] / max(m["ttft_p50_ms"], 0.1))
        return out

    def answer_rows(self) -> list[dict[str, Any]]:
        """Every answer of every mode, one row each: what `to_json` sums up."""
        return [{"mode": mode, "id": x.question.get("id"), "question": x.question["question"],
                 "gold": x.question["answer"], "answer": x.answer.answer, "correct": x.right,
                 "stale": stale(x.answer.answer, x.question.get("superseded", [])),
                 "dont_know": says_dont_know(x.answer.answer), "source": x.answer.source,
                 "prompt_tokens": x.answer.prompt_tokens, "f1": round(x.f1, 3)}
                for mode, stats in self.modes.items() for x in stats.scored]

    def to_json(self) -> dict[str, Any]:
        styles = (answer_styles(self.modes[GENERATED], self.modes[EXTRACTIVE])
                  if GENERATED in self.modes and EXTRACTIVE in self.modes else None)
        return {"fixture": self.fixture, "questions": self.questions, "model": self.model,
                "full_context_n_ctx": self.full_context_n_ctx,
                "modes": {name: stats.to_json() for name, stats in self.modes.items()},
                "sleep_tokens": self.sleep_tokens,
                "sleep_seconds": round(self.sleep_seconds, 1),
                "sleep_stopped_because": self.sleep_stopped_because,
                "full_context_over_memory": self.ratios(),
                "amortized_cost": self.amortized_cost(),
                "hit_rate_predictable": self.hit_rate(True),
                "hit_rate_unpredictable": self.hit_rate(False),
                "anticipated_p99_ms": self.anticipated_p99_ms(),
                "false_serves": self.false_serves,
                "false_serves_rate": round(self.false_serves / max(self.questions, 1), 3),
                "false_match_rate": round(self.false_match_rate, 3),
                "heldout_paraphrases": self.heldout_paraphrases,
                "answer_styles": styles}


def spread(questions: list[dict[str, Any]], limit: int | None) -> list[dict[str, Any]]:
    """``limit`` questions taken evenly across the fixture (whose questions are grouped
    by kind), so that a short run still asks every kind; all of them without a limit."""
    if not limit or limit >= len(questions):
        return questions
    return [questions[i * len(questions) // limit] for i in range(limit)]


def full_context_window(app: Reverie, engine: Engine, fixture: str) -> int:
    """A window that holds the whole fixture (every chat and note) plus room for the
    question and the answer, at most the model's training context (or 32k)."""
    folder = fixture_dir(fixture)
    text = (folder / "chats.jsonl").read_text(encoding="utf-8") + "".join(
        p.read_text(encoding="utf-8") for p in sorted((folder / "notes").iterdir()))
    wanted = engine.count_tokens(text) + FULL_CONTEXT_MARGIN
    limit = MAX_FULL_CONTEXT
    if not app.settings.model.remote_url:
        from assistant.llm.gguf import read_gguf_header

        limit = min(limit, read_gguf_header(app.model_path()).context_length or limit)
    return max(app.settings.model.n_ctx, min(limit, -(-wanted // 1024) * 1024))


def pick_modes(names: str) -> dict[str, ModeRunner]:
    """The modes named in a comma-separated list (``--modes memory,auto``), in `MODES`'
    order; ValueError (one sentence) for a name that is not a mode."""
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in MODES]
    if unknown or not wanted:
        raise ValueError(f"There is no mode {', '.join(unknown) or repr(names)}; use one or "
                         f"more of {', '.join(MODES)}, separated by commas.")
    return {name: run for name, run in MODES.items() if name in wanted}


def run_sleep_bench(settings: Settings, *, limit: int | None = None,
                    modes: dict[str, ModeRunner] | None = None,
                    progress: Callable[[int, int], None] | None = None,
                    engine_factory: EngineFactory = default_engine_factory,
                    fixture: str = DEFAULT_FIXTURE,
                    sleep_seconds: float | None = None,
                    profile: Path | None = None,
                    warm_full_context: bool = False) -> SleepBenchResult:
    """Every question in every mode after one sleep session (until done, or cut after
    ``sleep_seconds``: ``sleep_stopped_because`` then says ``budget``). With
    ``profile`` the slept profile is kept in that folder, and a later run on the same
    folder starts from it (its session only digests what is left). With
    ``warm_full_context`` the full-context engine keeps its evaluated prompt between
    questions (see the module's docstring)."""
    data = load_questions(fixture_dir(fixture) / "questions.json")
    questions = spread(data["questions"], limit)
    today = datetime.fromisoformat(data["now"]).date()
    chosen = modes or MODES
    with slept_fixture_profile(settings, engine_factory=engine_factory, fixture=fixture,
                               budget_seconds=sleep_seconds, data_dir=profile) as slept:
        app = slept.app
        engine = app.start_engine()
        n_ctx = full_context_window(app, engine, fixture)
        wide: Engine | None = None
        if "full-context" in chosen and n_ctx > engine.info.n_ctx:
            local = None if app.settings.model.remote_url else app.model_path()
            wide = engine_factory(local, app.settings.replace("model", n_ctx=n_ctx), app.paths)
            if not wide.wait_ready():
                raise RuntimeError(wide.load_error or "The full-context model did not load.")
        warm = warm_full_context and wide is not None
        stats = {name: ModeStats(warm=warm and name == "full-context") for name in chosen}
        auto_hits: list[tuple[bool, bool]] = []
        false_serves = 0
        try:
            for i, q in enumerate(questions, 1):
                for name, run in chosen.items():
                    use = wide if name == "full-context" and wide is not None else engine
                    if not stats[name].warm:
                        forget_evaluated_prompt(use)
                    answer = run(app, use, q["question"], today)
                    item = stats[name].add(q, answer)
                    if name == "auto":
                        served = answer.source == "anticipated"
                        auto_hits.append((bool(q["predictable"]), served and item.right))
                        false_serves += served and not item.right
                    log.info("bench sleep %s q%s: %s (%d tokens, ttft %.0f ms) %r", name,
                             q["id"], "right" if item.right else "wrong", answer.prompt_tokens,
                             answer.ttft_ms, answer.answer)
                if progress is not None:
                    progress(i, len(questions))
        finally:
            if wide is not None:
                wide.close()
        usage = slept.report.usage
        _hits, false_rate = rates(load_pairs(resource("bench", "paraphrases.json")),
                                  DEFAULT_THRESHOLD)
        return SleepBenchResult(len(questions), stats,
                                usage.prompt_tokens + usage.completion_tokens,
                                slept.sleep_seconds, engine.info.name, auto_hits, false_rate,
                                fixture, n_ctx if wide is not None else engine.info.n_ctx,
                                false_serves, heldout_paraphrases(app),
                                slept.report.stopped_because)


def heldout_paraphrases(app: Reverie) -> dict[str, float]:
    """The shipped matching rule on the held-out paraphrase half (`bench match`)."""
    embedder = app.embedder()
    if embedder is None:
        return {}
    from assistant.bench.match import paraphrase_contexts
    from assistant.recall.matching import MATCH_RULE, rule_rates

    contexts = paraphrase_contexts("paraphrases_heldout.json").contexts
    matched, served = rule_rates(load_pairs(resource("bench", "paraphrases_heldout.json")),
                                 embedder, MATCH_RULE, contexts)
    return {"matched": round(matched, 3), "near_misses_served": round(served, 3)}


def write_plot(result: SleepBenchResult, path: Path) -> Path:
    """Accuracy against test-time tokens, one point per mode (PNG)."""
    from assistant.gui.plot_export import Point, scatter_png

    points = [Point(name, stats.to_json()["test_tokens_mean"], stats.to_json()["accuracy"])
              for name, stats in result.modes.items()]
    scatter_png(points, path, title=f"Sleep-time compute on {result.model}",
                x_label="prompt tokens evaluated at question time (mean, log scale)",
                y_label="accuracy")
    return path


# -- the sweep: sleep-time budget against test-time budget --------------------------------

#: Sleep budgets as multiples of the default session (1x: thinking until nothing is left).
SLEEP_FACTORS = (0.25, 0.5, 1.0, 2.0)
#: Test-time budgets: (snippets quoted, most snippet tokens), smallest first.
TEST_BUDGETS = ((1, 50), (2, 100), (5, 200), (8, 400))
SWEEP_MODES = ("memory", "auto")


@dataclass(frozen=True)
class SweepPoint:
    sleep_factor: float
    top_k: int
    snippet_tokens: int
    mode: str
    accuracy: float
    f1: float
    test_tokens_mean: float


@dataclass
class SweepResult:
    fixture: str
    questions: int
    model: str
    #: Sleep factor -> (tokens spent, seconds) of its session.
    sleep: dict[float, tuple[int, float]] = field(default_factory=dict)
    points: list[SweepPoint] = field(default_factory=list)
    #: Why the 1x session ended: ``done``, or ``budget`` when cut by ``--sleep-seconds``.
    full_stopped_because: str = "done"

    def to_json(self) -> dict[str, Any]:
        return {"fixture": self.fixture, "questions": self.questions, "model": self.model,
                "sleep_factors": list(self.sleep),
                "full_session_stopped_because": self.full_stopped_because,
                "sleep": {str(f): {"tokens": t, "seconds": round(sec, 1)}
                          for f, (t, sec) in self.sleep.items()},
                "test_budgets": [{"top_k": k, "snippet_tokens": t} for k, t in TEST_BUDGETS],
                "points": [vars(p) for p in self.points]}


def sleep_settings(settings: Settings, factor: float, full_seconds: float | None
                   ) -> tuple[Settings, float | None]:
    """The settings and session budget of a sleep ``factor`` of a 1x session that took
    (or may take) ``full_seconds``: below 1x the session is cut at that share of the
    time; above 1x each prepared question samples that many times more answers (and the
    session may take that many times longer; without ``full_seconds``, until done)."""
    if factor < 1:
        return settings, factor * (full_seconds or 0.0)
    samples = max(1, round(settings.thinking.anticipation_samples * factor))
    budget = factor * full_seconds if full_seconds is not None else None
    return settings.replace("thinking", anticipation_samples=samples), budget


def run_sweep(settings: Settings, *, fixture: str = DEFAULT_FIXTURE, limit: int | None = None,
              factors: tuple[float, ...] = SLEEP_FACTORS,
              budgets: tuple[tuple[int, int], ...] = TEST_BUDGETS,
              progress: Callable[[int, int], None] | None = None,
              engine_factory: EngineFactory = default_engine_factory,
              sleep_seconds: float | None = None) -> SweepResult:
    """Accuracy against test-time tokens for each sleep budget, in memory and auto mode.
    The 1x session runs first (until done, or for ``sleep_seconds``): its length sets
    the budget of the others."""
    data = load_questions(fixture_dir(fixture) / "questions.json")
    questions = spread(data["questions"], limit)
    today = datetime.fromisoformat(data["now"]).date()
    result = SweepResult(fixture, len(questions), "")
    full_seconds: float | None = None
    steps, done = len(factors) * len(budgets), 0
    for factor in sorted(factors, key=lambda f: (f != 1.0, f)):
        chosen, budget = sleep_settings(settings, factor, full_seconds)
        if factor == 1.0:
            budget = sleep_seconds
        with slept_fixture_profile(chosen, fixture=fixture, budget_seconds=budget,
                                   engine_factory=engine_factory) as slept:
            if factor == 1.0:
                full_seconds = slept.sleep_seconds
                result.full_stopped_because = slept.report.stopped_because
            usage = slept.report.usage
            result.sleep[factor] = (usage.prompt_tokens + usage.completion_tokens,
                                    slept.sleep_seconds)
            app = slept.app
            engine = app.start_engine()
            result.model = engine.info.name
            for top_k, tokens in budgets:
                app.settings = chosen.replace("memory", retrieve_top_k=top_k,
                                              snippet_tokens=tokens)
                for mode in SWEEP_MODES:
                    stats = ModeStats()
                    for q in questions:
                        forget_evaluated_prompt(engine)
                        stats.add(q, responder_mode(mode)(app, engine, q["question"], today))
                    js = stats.to_json()
                    result.points.append(SweepPoint(factor, top_k, tokens, mode,
                                                    js["accuracy"], js["f1"],
                                                    js["test_tokens_mean"]))
                    log.info("sweep %sx top-%d/%d %s: accuracy %.2f at %.0f tokens", factor,
                             top_k, tokens, mode, js["accuracy"], js["test_tokens_mean"])
                done += 1
                if progress is not None:
                    progress(done, steps)
    result.sleep = dict(sorted(result.sleep.items()))
    return result


def write_sweep_plot(result: SweepResult, path: Path) -> Path:
    """Accuracy against test-time tokens, one curve per sleep budget and mode (PNG)."""
    from assistant.gui.plot_export import Curve, curves_png

    curves = [Curve(f"{mode} {factor:g}x sleep",
                    tuple((p.test_tokens_mean, p.accuracy) for p in result.points
                          if p.sleep_factor == factor and p.mode == mode),
                    dashed=mode == "memory")
              for mode in ("auto", "memory") for factor in result.sleep]
    return curves_png(curves, path, title=f"Scaling sleep-time compute: {result.model}, "
                      f"{result.fixture} ({result.questions} questions)",
                      x_label="prompt tokens evaluated at question time (mean)",
                      y_label="accuracy")
