"""The commands a running Reverie receives from a terminal (`assistant.ipc`).

`RemoteCommands` is the server's handler: it parses the sent command line with the
same parser, makes its relative paths relative to the terminal's folder, and runs the
same command function on the app's own services (`assistant.app.Reverie`: one model,
one database), with the same exit codes and one-sentence errors. What the command
prints goes to its client and nowhere else: while the server runs, ``sys.stdout`` and
``sys.stderr`` are `_ThreadRouted`, which sends the writes of a command's thread to
that command's client. Ctrl-C in the terminal reaches the command as
``args.should_stop`` (a generation stops, a thinking session ends cleanly).
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from assistant.cli.errors import EXIT_FAILURE, EXIT_USAGE
from assistant.cli.launch import ROUTED
from assistant.cli.parser import build_parser

if TYPE_CHECKING:
    from assistant.app import Reverie
    from assistant.ipc.server import Channel

#: How long a command waits for the app to open its profile (it starts with the window).
APP_WAIT_S = 60.0

_current = threading.local()


class _ChannelWriter:
    """A text stream that writes to one client's stdout or stderr."""

    def __init__(self, write: Callable[[str], None]) -> None:
        self._write = write

    def write(self, text: str) -> int:
        self._write(text)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


class _ThreadRouted:
    """``sys.stdout``/``sys.stderr`` while commands are served: the writes of a thread
    that runs a command go to its client; every other write goes where it went."""

    def __init__(self, fallback: TextIO | None, which: str) -> None:
        self.fallback = fallback
        self._which = which

    def for_this_thread(self) -> TextIO | _ChannelWriter | None:
        channel: Channel | None = getattr(_current, "channel", None)
        if channel is None:
            return self.fallback
        return _ChannelWriter(channel.stdout if self._which == "stdout" else channel.stderr)

    def write(self, text: str) -> int:
        target = self.for_this_thread()
        return target.write(text) if target is not None else len(text)

    def flush(self) -> None:
        target = self.for_this_thread()
        if target is not None:
            target.flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.fallback, name)


@contextmanager
def _routed(channel: Channel) -> Iterator[None]:
    _current.channel = channel
    try:
        yield
    finally:
        _current.channel = None


def _absolute_paths(args: argparse.Namespace, cwd: str) -> None:
    """A relative FILE or FOLDER means the terminal's folder, not the app's."""
    for key, value in vars(args).items():
        if isinstance(value, Path) and not value.is_absolute():
            setattr(args, key, Path(cwd) / value.expanduser())


class RemoteCommands:
    """The handler of `assistant.ipc.server.CommandServer` in a running app; `attach`
    the opened profile (None while it is closed), `close` when the server has stopped."""

    def __init__(self) -> None:
        self._app: Reverie | None = None
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._closed = False

    def _route(self) -> None:
        """Route ``sys.stdout``/``sys.stderr`` by thread (again, if something replaced
        them since: a test harness does)."""
        with self._lock:
            if not isinstance(sys.stdout, _ThreadRouted):
                sys.stdout = _ThreadRouted(sys.stdout, "stdout")
            if not isinstance(sys.stderr, _ThreadRouted):
                sys.stderr = _ThreadRouted(sys.stderr, "stderr")

    def attach(self, app: Reverie | None) -> None:
        self._app = app
        if app is None:
            self._ready.clear()
        else:
            self._ready.set()

    def close(self) -> None:
        """Give ``sys.stdout``/``sys.stderr`` back."""
        with self._lock:
            self._closed = True
            if isinstance(sys.stdout, _ThreadRouted):
                sys.stdout = sys.stdout.fallback
            if isinstance(sys.stderr, _ThreadRouted):
                sys.stderr = sys.stderr.fallback

    def __call__(self, request: dict[str, Any], channel: Channel) -> int:
        if not self._closed:
            self._route()
        with _routed(channel):
            return self._run(request, channel)

    def _run(self, request: dict[str, Any], channel: Channel) -> int:
        from assistant.cli.main import _commands, guarded

        try:
            args = build_parser().parse_args([str(word) for word in request["argv"]])
        except SystemExit as done:  # the parser printed the usage error (or --help)
            return done.code if isinstance(done.code, int) else EXIT_USAGE
        if args.command not in ROUTED:
            print(f"reverie: `{args.command}` runs in its own process, not in the running "
                  "Reverie; run it again after closing Reverie.", file=sys.stderr)
            return EXIT_USAGE
        _absolute_paths(args, str(request.get("cwd") or "."))
        args.should_stop = channel.cancelled.is_set
        if not self._ready.wait(APP_WAIT_S) or self._app is None:
            print("reverie: the running Reverie has not opened its profile yet; try again "
                  "in a moment.", file=sys.stderr)
            return EXIT_FAILURE
        app = self._app
        return guarded(args, lambda: _commands()[args.command](app, args))
