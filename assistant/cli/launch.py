"""``reverie``'s first steps, before anything heavy is imported.

1. When a Reverie runs on the profile (window or tray), the command goes to it over
   the profile's command socket (`assistant.ipc`): one model in memory, one place that
   holds the person's data, and the window shows what happened.
2. Otherwise ``ask`` looks for an answer prepared while the person was away with plain
   sqlite3 (`assistant.recall.quick`): served in milliseconds, no model loaded.
3. Everything else runs here as before (`assistant.cli.main.run`).

Only the parser, the paths and those two small modules are imported before step 3.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from assistant.cli.errors import EXIT_OK
from assistant.cli.parser import build_parser

#: The commands a running app serves (``model``, ``bench``, ``repair`` and the window
#: itself always run in their own process).
ROUTED = frozenset({"ask", "note", "import", "export", "sleep", "memory", "chats",
                    "anticipations", "doctor"})


def main(argv: Sequence[str] | None = None) -> int:
    """The ``reverie`` command: exit code 0 success, 1 failure, 2 bad input."""
    words = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(words)
    code = via_running_app(args, words)
    if code is None:
        code = prepared_answer(args)
    if code is not None:
        return code
    import assistant.cli
    from assistant.cli.main import run

    # Importing the submodule ``assistant.cli.main`` binds that name on the package to
    # the module; the package's ``main`` is this function.
    assistant.cli.main = main
    return run(args)


def via_running_app(args: argparse.Namespace, words: list[str]) -> int | None:
    """The exit code of the command run by the app serving this profile; None when no
    app serves it."""
    if args.command not in ROUTED:
        return None
    from assistant.ipc.address import AddressError, socket_path
    from assistant.ipc.client import send_command
    from assistant.paths import Paths, PathsError

    try:
        path = socket_path(Paths.resolve(args.data_dir).data_dir)
    except (PathsError, AddressError):
        return None  # no app can serve it; the command runs here and says what is wrong
    try:
        return send_command(path, args.command, words)
    except KeyboardInterrupt:  # a second Ctrl-C while the app was being told of the first
        print("Interrupted.", file=sys.stderr)
        return 130


def prepared_answer(args: argparse.Namespace) -> int | None:
    """``ask``: serve a prepared answer to a question asked as it was prepared."""
    if args.command != "ask" or args.mode != "auto" or args.no_anticipated:
        return None
    from assistant.paths import Paths, PathsError
    from assistant.recall.quick import serve_exact

    question = args.question.strip()
    try:
        database = Paths.resolve(args.data_dir).database_file
    except PathsError:
        return None
    served = serve_exact(database, question, continue_last=args.continue_last)
    if served is None:
        return None
    show_prepared(served.to_json(), as_json=args.json, started_new=served.started_new)
    return EXIT_OK


def show_prepared(data: dict[str, object], *, as_json: bool, started_new: bool) -> None:
    """What ``ask`` prints for a served prepared answer (also used by ``cmd_ask``)."""
    from assistant.cli.output import print_json

    if started_new:
        print("(no earlier question to continue: this one starts a new conversation)",
              file=sys.stderr)
    if as_json:
        print_json(data)
        return
    print(data["answer"], flush=True)
    print("(prepared while you were away; ask again with --no-anticipated to think "
          "again)", file=sys.stderr)
