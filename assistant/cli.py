"""The ``reverie`` command line (ARCHITECTURE section 6). No business logic lives here.

Exit codes: 0 success, 1 runtime failure, 2 bad usage or bad input. Errors are one
sentence on stderr; ``--debug`` adds the traceback and verbose logging.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant import __version__
from assistant.config import SettingsError
from assistant.llm.bundled import BundledModelError
from assistant.llm.catalog import CatalogError
from assistant.llm.download import DownloadCancelled, DownloadError
from assistant.llm.engine import EngineError
from assistant.llm.library import ModelCheckError, ModelLibrary, check_model_file
from assistant.paths import Paths

if TYPE_CHECKING:
    from assistant.app import Reverie

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2

CLI_CONVERSATION_KEY = "reverie:command-line"


class UsageError(Exception):
    """Bad input from the person: exit code 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"reverie: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="reverie", description="A private assistant that thinks while "
                     "you are away. Without a command, opens the window.")
    parser.add_argument("--version", action="version", version=f"reverie {__version__}")
    parser.add_argument("--data-dir", metavar="DIR",
                        help="keep every file of this profile under DIR (also $REVERIE_HOME)")
    parser.add_argument("--debug", action="store_true", help="verbose logs and tracebacks")
    parser.add_argument("--tray", action="store_true", help="start in the system tray only")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    doctor = sub.add_parser("doctor", help="check versions, paths, database and model")
    doctor.add_argument("--json", action="store_true")
    doctor.add_argument("--no-model", action="store_true", help="skip loading the model")

    ask = sub.add_parser("ask", help="ask a question and print the answer")
    ask.add_argument("question")
    ask.add_argument("--mode", choices=("auto", "memory", "full-context"), default="auto",
                     help="auto: a prepared answer when one matches, else memory (the "
                          "default); memory: retrieved memories and the warm prefix; "
                          "full-context: the whole history and notes (a baseline)")
    ask.add_argument("--no-anticipated", action="store_true",
                     help="do not serve an answer prepared while you were away")
    ask.add_argument("--json", action="store_true", help="print one JSON object")

    memory = sub.add_parser("memory", help="see and forget what Reverie remembers")
    memory_sub = memory.add_subparsers(dest="memory_command", metavar="ACTION", required=True,
                                       parser_class=_Parser)
    mem_list = memory_sub.add_parser("list", help="the memories, newest first")
    mem_list.add_argument("--kind", choices=("fact", "summary", "digest", "profile"))
    mem_list.add_argument("--all", action="store_true", help="include superseded memories")
    mem_list.add_argument("--json", action="store_true")
    mem_show = memory_sub.add_parser("show", help="one memory, its sources and history")
    mem_show.add_argument("id", type=int)
    mem_show.add_argument("--json", action="store_true")
    mem_forget = memory_sub.add_parser("forget", help="delete a memory (and its history)")
    mem_forget.add_argument("id", type=int)

    note = sub.add_parser("note", help="work with notes")
    note_sub = note.add_subparsers(dest="note_command", metavar="ACTION", required=True,
                                   parser_class=_Parser)
    add = note_sub.add_parser("add", help="add a note from text or a file")
    add.add_argument("text", nargs="?")
    add.add_argument("--file", type=Path)
    add.add_argument("--title")

    imp = sub.add_parser("import", help="import chats or notes")
    imp_sub = imp.add_subparsers(dest="import_command", metavar="WHAT", required=True,
                                 parser_class=_Parser)
    chats = imp_sub.add_parser("chats", help="Reverie JSONL or ChatGPT conversations.json")
    chats.add_argument("file", type=Path)
    chats.add_argument("--json", action="store_true")
    notes = imp_sub.add_parser("notes", help="a folder of Markdown or text files")
    notes.add_argument("dir", type=Path)
    notes.add_argument("--json", action="store_true")

    export = sub.add_parser("export", help="export everything as JSON and Markdown")
    export.add_argument("--out", type=Path, required=True, metavar="DIR")

    ant = sub.add_parser("anticipations", help="answers prepared while you were away")
    ant_sub = ant.add_subparsers(dest="anticipations_command", metavar="ACTION", required=True,
                                 parser_class=_Parser)
    alist = ant_sub.add_parser("list", help="prepared answers (ready and used by default)")
    alist.add_argument("--all", action="store_true", help="also stale and dismissed ones")
    alist.add_argument("--json", action="store_true")

    model = sub.add_parser("model", help="list, download or choose the model")
    model_sub = model.add_subparsers(dest="model_command", metavar="ACTION", required=True,
                                     parser_class=_Parser)
    mlist = model_sub.add_parser("list", help="the catalog and what is installed")
    mlist.add_argument("--json", action="store_true")
    mdown = model_sub.add_parser("download", help="download a catalog model (resumable)")
    mdown.add_argument("name")
    mdown.add_argument("--url", help="download the same file from another address (a mirror)")
    muse = model_sub.add_parser("use", help="use a GGUF file or a downloaded catalog model")
    muse.add_argument("path", metavar="PATH|NAME|URL|bundled",
                      help="a .gguf file, a downloaded catalog model, an OpenAI-compatible "
                      "server address, or 'bundled'")
    for p in (mlist, mdown, muse):
        p.add_argument("--catalog", type=Path, help=argparse.SUPPRESS)

    sleep = sub.add_parser("sleep", help="think now: run one sleep-time session")
    sleep.add_argument("--budget-seconds", type=float, metavar="N",
                       help="stop after N seconds (default: when nothing is left; "
                            "Ctrl+C stops cleanly)")
    sleep.add_argument("--json", action="store_true", help="print one JSON object")

    bench = sub.add_parser("bench", help="measure Reverie on this machine")
    bench_sub = bench.add_subparsers(dest="bench_command", metavar="BENCHMARK", required=True,
                                     parser_class=_Parser)
    bench_idle = bench_sub.add_parser("idle", help="how fast thinking stops when you return")
    bench_idle.add_argument("--trials", type=int, default=30, metavar="N")
    bench_idle.add_argument("--json", action="store_true", help="print one JSON object")
    brecall = bench_sub.add_parser("recall", help="is the answer's source retrieved (top 5)?")
    brecall.add_argument("--json", action="store_true")
    bsleep = bench_sub.add_parser("sleep", help="test-time tokens and latency with and "
                                  "without sleep-time memory")
    bsleep.add_argument("--json", action="store_true")
    bsleep.add_argument("--limit", type=int, metavar="N", help="only the first N questions")
    bsleep.add_argument("--plot", type=Path, metavar="PNG", default=Path("bench-sleep.png"),
                        help="where to write the accuracy/tokens plot (default: %(default)s)")
    bstartup = bench_sub.add_parser("startup", help="time to the window and to the model")
    bstartup.add_argument("--runs", type=int, default=5, metavar="N")
    bstartup.add_argument("--json", action="store_true", help="print one JSON object")
    bengine = bench_sub.add_parser("engine", help="preemption latency and the prefix cache")
    bengine.add_argument("--json", action="store_true")
    bengine.add_argument("--trials", type=int, default=30)
    bengine.add_argument("--sizes", default="512,1024,2048",
                         help="prefix sizes in tokens, comma-separated")
    return parser


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def _progress_printer(label: str) -> Callable[[int, int], None]:
    state = {"last": -10}

    def report(done: int, total: int) -> None:
        pct = int(done * 100 / total) if total else 100
        if pct >= state["last"] + 10 or (pct == 100 and state["last"] != 100):
            state["last"] = pct
            print(f"{label}: {pct}%", file=sys.stderr, flush=True)

    return report


def _start_engine(app: Reverie) -> Any:
    engine = app.start_engine(_progress_printer("Preparing the bundled model"))
    if not engine.wait_ready():
        raise EngineError(getattr(engine, "load_error", None) or "The model did not load.")
    return engine


def cmd_ask(app: Reverie, args: argparse.Namespace) -> int:
    question = args.question.strip()
    if not question:
        raise UsageError("The question is empty; type a question in quotes.")
    engine = _start_engine(app)
    conv = app.chats.by_import_key(CLI_CONVERSATION_KEY) or app.chats.create_conversation(
        "Asked from the command line", import_key=CLI_CONVERSATION_KEY)
    if args.json:
        answer = app.responder(engine).ask(question, conv.id or 0, mode=args.mode,
                                           use_prepared=not args.no_anticipated)
        _print_json(answer.to_json())
    else:
        answer = app.responder(engine).ask(
            question, conv.id or 0, on_token=lambda t: print(t, end="", flush=True),
            mode=args.mode, use_prepared=not args.no_anticipated)
        print()
        if answer.source == "anticipated":
            print("(prepared while you were away; ask again with --no-anticipated to "
                  "think again)", file=sys.stderr)
    return EXIT_OK


def _memory_json(m: Any) -> dict[str, Any]:
    return {"id": m.id, "kind": m.kind, "scope": m.scope, "subject": m.subject, "text": m.text,
            "confidence": m.confidence, "pinned": m.pinned, "edited": m.edited,
            "superseded_by": m.superseded_by, "sources": m.sources,
            "created_at": m.created_at, "updated_at": m.updated_at}


def cmd_memory(app: Reverie, args: argparse.Namespace) -> int:
    from assistant.store.memories import MemoryRepository

    repo = MemoryRepository(app.db)
    if args.memory_command == "list":
        rows = repo.list(kind=args.kind, include_superseded=args.all)
        if args.json:
            _print_json([_memory_json(m) for m in rows])
        else:
            for m in rows:
                flags = "".join(f for f, on in (("*", m.pinned), ("e", m.edited),
                                                ("~", m.superseded_by is not None)) if on)
                text = " ".join(m.text.split())
                print(f"{m.id:>5} {m.kind:<8} {flags:<3} {m.subject[:20]:<20} {text[:90]}")
            if not rows:
                print("No memories yet; they are made while you are away (or: reverie sleep).")
        return EXIT_OK
    memory = repo.get(args.id)
    if memory is None:
        raise UsageError(f"There is no memory {args.id}; see `reverie memory list`.")
    if args.memory_command == "forget":
        repo.forget(args.id)
        print(f"Forgot memory {args.id}.")
        return EXIT_OK
    sources = repo.sources(args.id)
    history = repo.history(args.id)[1:]
    if args.json:
        data = _memory_json(memory)
        data["source_texts"] = {
            "messages": [{"id": m.id, "content": m.content} for m in sources.messages],
            "notes": [{"id": n.id, "title": n.title} for n in sources.notes],
            "memories": [{"id": x.id, "text": x.text} for x in sources.memories]}
        data["history"] = [_memory_json(h) for h in history]
        _print_json(data)
        return EXIT_OK
    print(f"Memory {memory.id} ({memory.kind}, {memory.scope}), about {memory.subject!r}:")
    print(f"  {memory.text}")
    print(f"  confidence {memory.confidence:.2f}" + (", pinned" if memory.pinned else "")
          + (", edited by you" if memory.edited else "")
          + (f", replaced by {memory.superseded_by}" if memory.superseded_by else ""))
    for msg in sources.messages:
        print(f"  from message {msg.id}: {' '.join(msg.content.split())[:100]}")
    for n in sources.notes:
        print(f"  from note {n.id}: {n.title}")
    for x in sources.memories:
        print(f"  from memory {x.id}: {' '.join(x.text.split())[:100]}")
    for h in history:
        print(f"  earlier (memory {h.id}): {' '.join(h.text.split())[:100]}")
    return EXIT_OK


def cmd_note(app: Reverie, args: argparse.Namespace) -> int:
    if (args.text is None) == (args.file is None):
        raise UsageError("Give the note text or --file PATH (one of them).")
    if args.file is not None:
        try:
            body = args.file.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise UsageError(f"{args.file} does not exist; check the path.") from None
        except IsADirectoryError:
            raise UsageError(f"{args.file} is a folder; give a text file, or use "
                             "`reverie import notes FOLDER`.") from None
        except UnicodeDecodeError:
            raise UsageError(f"{args.file} is not a UTF-8 text file.") from None
        from assistant.store.importers import note_title

        title = args.title or note_title(args.file, body)
    else:
        from assistant.store.chats import title_from

        body = args.text
        title = args.title or title_from(body)
    if not body.strip():
        raise UsageError("The note is empty; give some text.")
    note = app.notes.add(title, body)
    print(f"Added note {note.id}: {note.title}")
    return EXIT_OK


def cmd_import(app: Reverie, args: argparse.Namespace) -> int:
    from assistant.store.importers import import_chats, import_notes

    if args.import_command == "chats":
        report = import_chats(args.file, app.chats)
    else:
        report = import_notes(args.dir, app.notes)
    for problem in report.problems:
        print(f"skipped {problem}", file=sys.stderr)
    if args.json:
        _print_json(report.__dict__)
    else:
        print(report.summary())
    return EXIT_OK


def cmd_export(app: Reverie, args: argparse.Namespace) -> int:
    from assistant.store.export import export_all

    report = export_all(app.db, args.out)
    print(f"Exported {report.conversations} conversations, {report.messages} messages, "
          f"{report.notes} notes and {report.memories} memories to {report.folder}")
    return EXIT_OK


def cmd_doctor(app: Reverie, args: argparse.Namespace) -> int:
    from assistant.doctor import run_checks

    report = run_checks(app, load_model=not args.no_model)
    if args.json:
        _print_json(report)
    else:
        for key, value in report.items():
            shown = json.dumps(value, default=str) if isinstance(value, dict | list) else value
            print(f"{key}: {shown}")
    return EXIT_OK if report["ok"] else EXIT_FAILURE


def cmd_anticipations(app: Reverie, args: argparse.Namespace) -> int:
    from assistant.store.anticipations import list_anticipations

    rows = list_anticipations(app.db, include_inactive=args.all)
    if args.json:
        _print_json([row.model_dump(exclude={"vector"}) for row in rows])
        return EXIT_OK
    if not rows:
        print("No prepared answers yet; they are made while you are away "
              "(or now with `reverie sleep`).")
    for row in rows:
        print(f"[{row.id}] {row.status:<9} {row.kind:<8} p={row.predictability:.2f}  "
              f"{row.question}\n      -> {row.answer}")
    return EXIT_OK


def _library(app: Reverie, args: argparse.Namespace) -> ModelLibrary:
    return ModelLibrary(app.paths.models_dir, args.catalog)


def cmd_model(app: Reverie, args: argparse.Namespace) -> int:
    library = _library(app, args)
    current = app.settings.model.path
    if args.model_command == "list":
        rows = []
        for row in library.rows():
            path = row.path
            active = (not current and row.entry.bundled) or (
                bool(current) and path is not None and Path(current) == path)
            rows.append({"name": row.entry.name, "display_name": row.entry.display_name,
                         "parameters": row.entry.parameters, "size_bytes": row.entry.size_bytes,
                         "ram_bytes": row.entry.ram_bytes, "license": row.entry.license,
                         "prompt_style": str(row.entry.prompt_style),
                         "installed": path is not None, "active": active,
                         "path": str(path) if path else None})
        if current and not any(r["active"] for r in rows):
            rows.append({"name": Path(current).name, "display_name": Path(current).name,
                         "installed": True, "active": True, "path": current})
        if args.json:
            _print_json(rows)
        else:
            for r in rows:
                mark = "*" if r["active"] else ("+" if r["installed"] else " ")
                size_bytes = int(str(r.get("size_bytes") or 0))
                size = f"{size_bytes / 1e9:.1f} GB" if size_bytes else ""
                print(f"{mark} {r['name']:<26} {size:>7}  {r['display_name']}")
            print("(* in use, + downloaded)")
        return EXIT_OK
    if args.model_command == "download":
        entry = library.entry(args.name)
        print(f"Downloading {entry.display_name} ({entry.size_bytes / 1e9:.1f} GB); "
              "Ctrl+C pauses, run the command again to resume.", file=sys.stderr)
        report = _progress_printer("Downloading")
        path = library.download(args.name, url=args.url,
                                progress=lambda done, total: report(done, total or 0))
        print(f"Downloaded and verified {path}. Use it with: reverie model use {entry.name}")
        return EXIT_OK
    if args.path == "bundled":
        app.save_settings(app.settings.replace("model", path="", remote_url=""))
        print("Using the bundled model.")
        return EXIT_OK
    if args.path.startswith(("http://", "https://")):
        app.save_settings(app.settings.replace("model", remote_url=args.path))
        print(f"Using the inference server at {args.path}; `reverie doctor` checks that it "
              "answers.")
        return EXIT_OK
    path = library.resolve(args.path)
    info = check_model_file(path, app.settings.model.n_ctx)
    app.save_settings(app.settings.replace("model", path=str(path), remote_url=""))
    print(f"Using {info.name or path.name} ({path}).")
    return EXIT_OK


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
    result = engine_bench.run(app.model_path(_progress_printer("Preparing the model")),
                              trials=args.trials, sizes=sizes, report=report)
    if args.json:
        _print_json(result)
    else:
        for key, value in result.items():
            print(f"{key}: {value}")
    return EXIT_OK


def cmd_sleep(app: Reverie, args: argparse.Namespace) -> int:
    budget = args.budget_seconds
    if budget is not None and not budget > 0:
        raise UsageError("--budget-seconds must be a positive number of seconds.")
    from assistant.mind.journal import Journal
    from assistant.mind.runner import SessionReport

    runner = app.sleep_runner(_start_engine(app))
    reports: list[SessionReport] = []
    worker = threading.Thread(target=lambda: reports.append(runner.run_session(budget)),
                              name="reverie-thinking", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.2)
    except KeyboardInterrupt:
        runner.request_stop("user_returned")
        worker.join()
    if not reports:
        raise RuntimeError("The thinking session could not run; details are in the log.")
    report = reports[0]
    if args.json:
        _print_json(report.to_json())
    else:
        entries = Journal(app.db).entries(report.session_id) if report.session_id else []
        for entry in reversed(entries):
            if entry.kind != "session":
                print(f"- {entry.summary}")
        print(report.sentence())
    if report.error:
        print(f"reverie: {report.error}", file=sys.stderr)
    return EXIT_FAILURE if report.stopped_because == "error" else EXIT_OK


def bench_idle(app: Reverie, args: argparse.Namespace) -> int:
    from assistant.bench.idle import run_idle_bench

    if args.trials < 1:
        raise UsageError("--trials must be at least 1.")
    model = app.model_path(_progress_printer("Preparing the bundled model"))
    result = run_idle_bench(model, trials=args.trials,
                            progress=None if args.json else _progress_printer("Trials"))
    if args.json:
        _print_json(result.to_json())
    else:
        print(f"{result.trials} trials on {result.model}: thinking stopped "
              f"{result.stop_p50_ms:.1f} ms (median), {result.stop_p99_ms:.1f} ms (p99), "
              f"{result.stop_max_ms:.1f} ms (max) after you came back.")
    return EXIT_OK


def bench_recall(app: Reverie, args: argparse.Namespace) -> int:
    from assistant.bench.recall import run_recall_bench

    app.model_path(_progress_printer("Preparing the bundled model"))
    result = run_recall_bench(_bench_settings(app),
                              progress=None if args.json else _progress_printer("Questions"))
    if args.json:
        _print_json(result.to_json())
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
    from assistant.bench.sleep import run_sleep_bench

    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1.")
    app.model_path(_progress_printer("Preparing the bundled model"))
    result = run_sleep_bench(_bench_settings(app), limit=args.limit,
                             progress=None if args.json else _progress_printer("Questions"))
    from assistant.bench.sleep import write_plot

    write_plot(result, args.plot)
    print(f"Plot written to {args.plot}", file=sys.stderr)
    if args.json:
        _print_json(result.to_json())
    else:
        for name, stats in result.to_json()["modes"].items():
            print(f"{name:>13}: accuracy {stats['accuracy']:.0%}, "
                  f"{stats['test_tokens_mean']:.0f} prompt tokens at question time, "
                  f"first token {stats['ttft_p50_ms']:.0f} ms (median), "
                  f"{stats['ttft_p95_ms']:.0f} ms (p95)")
        print(f"Sleep time spent {result.sleep_tokens} tokens "
              f"({result.sleep_seconds:.0f} s) on {result.questions} questions' context.")
    return EXIT_OK


def bench_startup(app: Reverie, args: argparse.Namespace) -> int:
    from assistant.bench.startup import run as run_startup_bench

    if args.runs < 1:
        raise UsageError("--runs must be at least 1.")
    model = app.model_path(_progress_printer("Preparing the bundled model"))
    result = run_startup_bench(model, runs=args.runs,
                               progress=None if args.json else _progress_printer_line)
    data = result.to_json()
    if args.json:
        _print_json(data)
    else:
        print(f"Median of {args.runs} starts on {data['model']}: window shown after "
              f"{data['window_shown_ms']:.0f} ms, model ready after "
              f"{data['model_ready_ms']:.0f} ms.")
    return EXIT_OK


def _progress_printer_line(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


#: ``reverie bench NAME``: one entry per benchmark.
BENCH_COMMANDS: dict[str, Callable[[Reverie, argparse.Namespace], int]] = {
    "idle": bench_idle,
    "engine": bench_engine,
    "recall": bench_recall,
    "sleep": bench_sleep,
    "startup": bench_startup,
}


def cmd_bench(app: Reverie, args: argparse.Namespace) -> int:
    return BENCH_COMMANDS[args.bench_command](app, args)


COMMANDS: dict[str, Callable[[Reverie, argparse.Namespace], int]] = {
    "ask": cmd_ask,
    "note": cmd_note,
    "import": cmd_import,
    "export": cmd_export,
    "doctor": cmd_doctor,
    "model": cmd_model,
    "anticipations": cmd_anticipations,
    "sleep": cmd_sleep,
    "memory": cmd_memory,
    "bench": cmd_bench,
}

def _bad_input() -> tuple[type[BaseException], ...]:
    """Exceptions that mean bad input (exit 2); the database ones are imported only when
    needed, so that ``reverie`` (the window) starts without loading the database layer
    before its window is on screen."""
    from assistant.store.db import DatabaseError
    from assistant.store.importers import ImportFileError

    return (*_BAD_INPUT, ImportFileError, DatabaseError)


_BAD_INPUT = (UsageError, SettingsError, BundledModelError,
              ModelCheckError, CatalogError)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        paths = Paths.resolve(args.data_dir).ensure()
        if args.command is None:
            # The window configures logging once it is on screen (see gui/main.py).
            from assistant.gui.main import run_gui  # type: ignore[import-not-found,unused-ignore]

            return int(run_gui(args.data_dir, tray=args.tray, debug=args.debug))
        from assistant.app import Reverie, configure_logging

        configure_logging(paths, debug=args.debug)
        app = Reverie.open(args.data_dir)
        try:
            if app.settings_warning:
                print(app.settings_warning, file=sys.stderr)
            return COMMANDS[args.command](app, args)
        finally:
            app.close()
    except (FileExistsError, NotADirectoryError) as exc:
        where = exc.filename or "The path"
        return _fail(UsageError(f"{where} is a file, not a folder; give a folder path."),
                     args.debug, EXIT_USAGE)
    except (KeyboardInterrupt, DownloadCancelled):
        print("Interrupted.", file=sys.stderr)
        return 130
    except DownloadError as exc:
        return _fail(exc, args.debug, EXIT_FAILURE)
    except _bad_input() as exc:
        return _fail(exc, args.debug, EXIT_USAGE)
    except (EngineError, OSError, RuntimeError) as exc:
        return _fail(exc, args.debug, EXIT_FAILURE)
    except Exception as exc:  # a bug: one sentence here, the traceback in the log
        logging.getLogger("assistant").exception("unexpected error")
        print(f"reverie: unexpected error ({type(exc).__name__}: {exc}); details are in "
              "the log file (see `reverie doctor`).", file=sys.stderr)
        if args.debug:
            traceback.print_exc()
        return EXIT_FAILURE


def _fail(exc: BaseException, debug: bool, code: int) -> int:
    if debug:
        traceback.print_exc()
    message = str(exc).strip() or type(exc).__name__
    if isinstance(exc, OSError) and exc.strerror:
        message = f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    print(f"reverie: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
