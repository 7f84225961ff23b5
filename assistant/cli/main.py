"""``reverie`` entry point: parse, open the profile, run one command, map errors to
exit codes (0 success, 1 runtime failure, 2 bad usage or bad input). Errors are one
sentence on stderr; ``--debug`` adds the traceback and verbose logging."""

from __future__ import annotations

import argparse
import errno
import sys
from collections.abc import Callable, Sequence

from assistant.cli.errors import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError
from assistant.cli.launch import prepared_answer, quiet_stdout, via_running_app
from assistant.cli.parser import build_parser

# Not imported from typing, and logging, traceback and assistant.paths only where they
# are used: the prepared-answer path imports as little as it can (docs/ARCHITECTURE.md,
# "Command line").
TYPE_CHECKING = False
if TYPE_CHECKING:
    from assistant.app import Reverie

Command = Callable[["Reverie", argparse.Namespace], int]


def _commands() -> dict[str, Command]:
    """``COMMANDS``: built on first use, so that ``reverie`` reaches a running app or a
    prepared answer before the command modules (and the model layer) are imported."""
    from assistant.cli import commands
    from assistant.cli.bench import cmd_bench
    from assistant.cli.config import cmd_config
    from assistant.cli.model import cmd_model

    return {
        "ask": commands.cmd_ask,
        "note": commands.cmd_note,
        "import": commands.cmd_import,
        "export": commands.cmd_export,
        "doctor": commands.cmd_doctor,
        "model": cmd_model,
        "anticipations": commands.cmd_anticipations,
        "sleep": commands.cmd_sleep,
        "memory": commands.cmd_memory,
        "chats": commands.cmd_chats,
        "bench": cmd_bench,
        "config": cmd_config,
    }


def __getattr__(name: str) -> dict[str, Command]:
    if name == "COMMANDS":
        return _commands()
    raise AttributeError(name)


def _bad_input() -> tuple[type[BaseException], ...]:
    """Exceptions that mean bad input (exit 2); imported only when needed, so that
    ``reverie`` (the window) starts without loading the database layer before its
    window is on screen, and ``reverie ask`` reaches a prepared answer first."""
    from assistant.config import SettingsError
    from assistant.llm.bundled import BundledModelError
    from assistant.llm.catalog import CatalogError
    from assistant.llm.library import ModelCheckError
    from assistant.paths import PathsError
    from assistant.recall.answer_prompts import QuestionTooLongError
    from assistant.store.db import DatabaseError
    from assistant.store.importers import ImportFileError

    return (UsageError, SettingsError, BundledModelError, ModelCheckError, CatalogError,
            PathsError, ImportFileError, DatabaseError, QuestionTooLongError)


def _storage_errors() -> tuple[type[BaseException], ...]:
    """Failures of the disk or the database file (exit 1), imported only when needed."""
    import sqlite3

    from sqlalchemy.exc import DBAPIError

    from assistant.store.db import StorageError

    return (StorageError, sqlite3.Error, DBAPIError)


def _interrupted() -> tuple[type[BaseException], ...]:
    from assistant.llm.download import DownloadCancelled

    return (KeyboardInterrupt, DownloadCancelled)


def _download_failed() -> tuple[type[BaseException], ...]:
    from assistant.llm.download import DownloadError

    return (DownloadError,)


def _runtime_failures() -> tuple[type[BaseException], ...]:
    from assistant.llm.engine import EngineError

    return (EngineError, RuntimeError)


def main(argv: Sequence[str] | None = None) -> int:
    """The ``reverie`` command: the running app serves it if there is one (`launch`), a
    prepared answer is served with plain sqlite3, anything else runs here."""
    words = list(sys.argv[1:] if argv is None else argv)
    code = via_running_app(words)
    if code is not None:
        return code
    args = build_parser().parse_args(words)
    code = prepared_answer(args)
    code = code if code is not None else run(args)
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # nor may Python complain of it when it exits
        quiet_stdout()
    return code


def run(args: argparse.Namespace) -> int:
    """Run the parsed command line in this process (`assistant.cli.launch` has already
    tried the running app and the prepared answers)."""
    return guarded(args, lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    from assistant.paths import Paths

    paths = Paths.resolve(args.data_dir).ensure()
    if args.command is None:
        # The window configures logging once it is on screen (see gui/main.py).
        from assistant.cli.remote import RemoteCommands
        from assistant.gui.main import run_gui  # type: ignore[import-not-found,unused-ignore]

        return int(run_gui(args.data_dir, tray=args.tray, debug=args.debug,
                           commands=RemoteCommands))
    from assistant.app import Reverie, configure_logging

    configure_logging(paths, debug=args.debug)
    if args.command == "repair":  # the database may not open: no Reverie.open here
        from assistant.cli.repair import cmd_repair

        return cmd_repair(paths, args)
    try:
        app = Reverie.open(args.data_dir)
    except _storage_errors() as exc:
        if args.command != "doctor":
            raise
        from assistant.cli.repair import doctor_without_database

        return doctor_without_database(paths, args, _storage_sentence(exc, args.data_dir))
    try:
        for notice in (app.settings_warning, app.settings_notice):
            if notice:
                print(notice, file=sys.stderr)
        return _commands()[args.command](app, args)
    finally:
        app.close()


def _reader_gone() -> bool:
    """Whether standard output is a pipe whose reader has closed it."""
    try:
        import select

        poll = select.poll()
        poll.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & select.POLLERR for _, events in poll.poll(0))
    except (AttributeError, OSError, ValueError):  # no poll (Windows): assume it is
        return True


def guarded(args: argparse.Namespace, body: Callable[[], int]) -> int:
    """``body()``'s exit code, every failure turned into one sentence on stderr and its
    exit code (also used by the running app for commands sent to it, `cli.remote`)."""
    try:
        return body()
    except BrokenPipeError as exc:
        # The reader went away ("reverie chats list | head -1"): it has what it wanted.
        # Any other broken pipe is a failure like another.
        if _reader_gone():
            return EXIT_OK
        return _fail(exc, args.debug, EXIT_FAILURE)
    except (FileExistsError, NotADirectoryError) as exc:
        where = exc.filename or "The path"
        return _fail(UsageError(f"{where} is a file, not a folder; give a folder path."),
                     args.debug, EXIT_USAGE)
    except _interrupted():
        print("Interrupted.", file=sys.stderr)
        return 130
    except _download_failed() as exc:
        return _fail(exc, args.debug, EXIT_FAILURE)
    except _storage_errors() as exc:
        return _fail(_storage_sentence(exc, args.data_dir), args.debug, EXIT_FAILURE)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EROFS, errno.EDQUOT, errno.EACCES, errno.EPERM):
            return _fail(_storage_sentence(exc, args.data_dir), args.debug, EXIT_FAILURE)
        return _fail(exc, args.debug, EXIT_FAILURE)
    except _bad_input() as exc:
        return _fail(exc, args.debug, EXIT_USAGE)
    except _runtime_failures() as exc:
        return _fail(exc, args.debug, EXIT_FAILURE)
    except Exception as exc:  # a bug: one sentence here, the traceback in the log
        import logging

        logging.getLogger("assistant").exception("unexpected error")
        print(f"reverie: unexpected error ({type(exc).__name__}: {exc}); details are in "
              "the log file (see `reverie doctor`).", file=sys.stderr)
        if args.debug:
            import traceback

            traceback.print_exc()
        return EXIT_FAILURE


def _storage_sentence(exc: BaseException, data_dir: str | None) -> BaseException:
    from assistant.store.db import StorageError, storage_error

    if isinstance(exc, StorageError):
        return exc
    from assistant.paths import Paths, PathsError

    try:
        database = Paths.resolve(data_dir).database_file
    except PathsError:
        return exc
    return storage_error(exc, database)


def _fail(exc: BaseException, debug: bool, code: int) -> int:
    if debug:
        import traceback

        traceback.print_exc()
    message = str(exc).strip() or type(exc).__name__
    if isinstance(exc, OSError) and exc.strerror:
        message = f"{exc.strerror}: {exc.filename}" if exc.filename else exc.strerror
    print(f"reverie: {message}", file=sys.stderr)
    return code
