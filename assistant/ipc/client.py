"""The command line's side: send one command line to the running app and relay what
comes back, as if the command had run here.

`send_command` returns None when no app serves the profile (no socket folder, no
socket, or a stale socket file from a killed app: nothing listens), and the caller runs
the command on its own. Ctrl-C sends ``{"cancel": true}`` and waits for the app to stop
(the exit code it sends, 130); a second Ctrl-C stops waiting.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import sys
from pathlib import Path

from assistant.ipc.protocol import Connection, ProtocolError

TYPE_CHECKING = False  # not imported from typing: the client starts without it
if TYPE_CHECKING:
    from typing import Any, TextIO

#: An app that accepted the connection is expected to be alive.
CONNECT_TIMEOUT_S = 2.0
EXIT_FAILURE, EXIT_INTERRUPTED = 1, 130
_NO_SERVER = (errno.ENOENT, errno.ECONNREFUSED, errno.ENOTDIR, errno.EAGAIN)


def connect(path: Path | None) -> socket.socket | None:
    """A connected socket, or None when nothing listens at ``path``."""
    if path is None or not hasattr(socket, "AF_UNIX"):
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(CONNECT_TIMEOUT_S)
    try:
        sock.connect(str(path))
    except OSError as exc:
        sock.close()
        if exc.errno in _NO_SERVER or isinstance(exc, TimeoutError):
            return None
        raise
    sock.settimeout(None)
    return sock


def send_command(path: Path | None, cmd: str, argv: list[str], *,
                 stdout: TextIO | None = None, stderr: TextIO | None = None,
                 cwd: str | None = None) -> int | None:
    """Run ``argv`` in the app listening on ``path``; its exit code, or None if no app
    listens there."""
    sock = connect(path)
    if sock is None:
        return None
    out, err = stdout or sys.stdout, stderr or sys.stderr
    connection = Connection(sock)
    try:
        connection.send({"cmd": cmd, "argv": argv, "cwd": cwd or os.getcwd()})
        return _relay(connection, out, err)
    finally:
        connection.close()


def _relay(connection: Connection, out: TextIO, err: TextIO) -> int:
    cancelled = False
    while True:
        try:
            code = _relay_one(connection, out, err)
        except KeyboardInterrupt:
            if cancelled:
                err.write("Interrupted.\n")
                return EXIT_INTERRUPTED
            cancelled = True  # the app stops the command and sends its exit code
            with contextlib.suppress(OSError):
                connection.send({"cancel": True})
            continue
        if code is not None:
            return code


def _relay_one(connection: Connection, out: TextIO, err: TextIO) -> int | None:
    """Relay one message; the exit code once it has come."""
    message = _receive(connection)
    if message is None:
        err.write("reverie: the running Reverie closed the connection before the "
                  "command finished; see its log file, or try again.\n")
        return EXIT_FAILURE
    if "stdout" in message:
        out.write(str(message["stdout"]))
        out.flush()
    elif "stderr" in message:
        err.write(str(message["stderr"]))
        err.flush()
    elif "exit" in message:
        return int(message["exit"])
    elif "refused" in message:
        err.write(f"reverie: {message['refused']}\n")
        return EXIT_FAILURE
    return None


def _receive(connection: Connection) -> dict[str, Any] | None:
    try:
        return connection.receive()
    except (ProtocolError, ConnectionResetError):
        return None
