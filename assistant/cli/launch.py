"""``reverie``'s first steps (`assistant.cli.main.main`), before anything heavy is
imported.

1. When a Reverie runs on the profile (window or tray), the command goes to it over
   the profile's command socket (`assistant.ipc`): one model in memory, one place that
   holds the person's data, and the window shows what happened.
2. Otherwise ``ask`` looks for an answer prepared while the person was away with plain
   sqlite3 (`assistant.recall.quick`): served in milliseconds, no model loaded.
3. Everything else runs here as before (`assistant.cli.main.run`).

Only the parser and those two small packages are imported before step 3 (not
``assistant.paths``: `assistant.ipc.address.data_folder` finds the profile).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from assistant.cli.errors import EXIT_OK

#: The commands a running app serves (``model``, ``bench``, ``repair`` and the window
#: itself always run in their own process).
ROUTED = frozenset({"ask", "note", "import", "export", "sleep", "memory", "chats",
                    "anticipations", "doctor"})


def command_of(words: Sequence[str]) -> tuple[str | None, str] | None:
    """(``--data-dir`` or None, the command) when the words name one plainly; None when
    only the full parser can tell (``--help``, ``--version``, a missing value...)."""
    data_dir: str | None = None
    i = 0
    while i < len(words):
        word = words[i]
        if word in ("--debug", "--tray"):
            i += 1
        elif word == "--data-dir" and i + 1 < len(words):
            data_dir, i = words[i + 1], i + 2
        elif word.startswith("--data-dir="):
            data_dir, i = word.partition("=")[2], i + 1
        elif word.startswith("-"):
            return None
        else:
            return data_dir, word
    return None


def via_running_app(words: list[str]) -> int | None:
    """The exit code of the command run by the app serving this profile (it parses
    the words and says what is wrong with them); None when no app serves it. Only the
    socket modules are imported: the parser is the app's."""
    named = command_of(words)
    if named is None or named[1] not in ROUTED:
        return None
    from assistant.store.files import is_storable

    if not all(is_storable(w) for w in words):
        return None  # text the socket cannot carry: the command here says what is wrong
    from assistant.ipc.address import AddressError, data_folder, socket_path
    from assistant.ipc.client import send_command

    folder = data_folder(named[0])
    try:
        path = None if folder is None else socket_path(folder)
    except AddressError:
        return None  # no app can serve it; the command runs here
    try:
        return send_command(path, named[1], words)
    except KeyboardInterrupt:  # a second Ctrl-C while the app was being told of the first
        print("Interrupted.", file=sys.stderr)
        return 130
    except BrokenPipeError:  # "reverie chats list | head -1": the reader has what it wanted
        quiet_stdout()
        return 0


def quiet_stdout() -> None:
    """Point standard output at the null device, so that Python's flush at exit does not
    complain of a reader that went away."""
    import contextlib
    import os

    with contextlib.suppress(OSError, ValueError):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def prepared_answer(args: argparse.Namespace) -> int | None:
    """``ask``: serve a prepared answer to a question asked as it was prepared."""
    if args.command != "ask" or args.mode != "auto" or args.no_anticipated:
        return None
    from assistant.store.files import is_storable

    if args.continue_last or not is_storable(args.question):
        return None  # `cmd_ask` serves it under the continue lock, or refuses the text
    from assistant.ipc.address import data_folder
    from assistant.recall.quick import DATABASE_NAME, serve_exact

    folder = data_folder(args.data_dir)
    if folder is None:
        return None
    served = serve_exact(folder / DATABASE_NAME, args.question.strip(),
                         continue_last=args.continue_last)
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
