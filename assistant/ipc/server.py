"""The listening side, inside the running app: one thread accepts, one thread per
client runs its request.

Only a peer of the same user is served: the kernel says who connected
(``SO_PEERCRED``) and anyone else gets one ``{"refused": ...}`` frame, on top of the
socket being owner-only (0600) in an owner-only folder. A socket file left by a killed
app accepts no connection: it is removed and the bind retried; a socket that does
answer belongs to a live app, and this server then does not start.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import struct
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from assistant.ipc.protocol import CHUNK, Connection, ProtocolError

log = logging.getLogger("assistant.ipc")

#: How long a client may take to send its request once connected.
REQUEST_TIMEOUT_S = 10.0
REFUSED_OTHER_USER = ("This Reverie belongs to another user, so it does not take "
                      "commands from you; run Reverie under your own account.")


class Channel:
    """What a handler writes to and checks: output goes to the client as it is written,
    `cancelled` is set when the client pressed Ctrl-C or went away."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._lock = threading.Lock()
        self._gone = False
        self.cancelled = threading.Event()

    def _send(self, message: dict[str, Any]) -> None:
        with self._lock:
            if self._gone:
                return
            try:
                self._connection.send(message)
            except OSError:  # the client is gone: stop working for it
                self._gone = True
                self.cancelled.set()

    def stdout(self, text: str) -> None:
        for start in range(0, len(text), CHUNK):
            self._send({"stdout": text[start:start + CHUNK]})

    def stderr(self, text: str) -> None:
        for start in range(0, len(text), CHUNK):
            self._send({"stderr": text[start:start + CHUNK]})

    def exit(self, code: int) -> None:
        self._send({"exit": int(code)})


class Handler(Protocol):
    """Runs one request, writing to ``channel``; returns the exit code."""

    def __call__(self, request: dict[str, Any], channel: Channel) -> int: ...


def peer_uid(sock: socket.socket) -> int | None:
    """The user id of the process at the other end (None where the OS cannot say;
    the owner-only socket and folder still keep other users out there)."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    creds = sock.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return int(uid)


def _is_live(path: Path) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(1.0)
        probe.connect(str(path))
        return True
    except OSError:
        return False
    finally:
        probe.close()


class CommandServer:
    """Serves requests on ``path`` with ``handler`` until `close`."""

    def __init__(self, path: Path, handler: Handler, *,
                 peer_uid: Callable[[socket.socket], int | None] = peer_uid,
                 on_finished: Callable[[dict[str, Any], int], None] | None = None) -> None:
        self.path = path
        self._handler = handler
        self._peer_uid = peer_uid
        self._on_finished = on_finished
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._clients: set[threading.Thread] = set()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._inode: int | None = None

    def start(self) -> bool:
        """Listen; False (and nothing changed) when a live server already owns the path."""
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            try:
                sock.bind(str(self.path))
            except OSError:
                if _is_live(self.path):
                    log.info("another Reverie serves commands on %s", self.path)
                    sock.close()
                    return False
                log.info("removing the stale command socket %s", self.path)
                self.path.unlink(missing_ok=True)
                sock.bind(str(self.path))
            os.chmod(self.path, 0o600)
            sock.listen(16)
        except BaseException:
            sock.close()
            raise
        self._inode = self.path.stat().st_ino
        self._sock = sock
        self._thread = threading.Thread(target=self._accept_loop, name="reverie-ipc",
                                        daemon=True)
        self._thread.start()
        log.info("serving commands on %s", self.path)
        return True

    def close(self, timeout: float = 10.0) -> None:
        """Stop accepting, cancel the requests that run and wait for them (``timeout``)."""
        self._closing.set()
        sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
            with contextlib.suppress(OSError):  # only our own socket file, not a successor's
                if self.path.stat().st_ino == self._inode:
                    self.path.unlink()
        if self._thread is not None:
            self._thread.join(timeout)
        with self._lock:
            clients = list(self._clients)
        for thread in clients:
            thread.join(timeout)

    def _accept_loop(self) -> None:
        count = 0
        while not self._closing.is_set():
            sock = self._sock
            if sock is None:
                return
            try:
                client, _ = sock.accept()
            except OSError:
                if self._closing.is_set():
                    return
                log.exception("the command socket failed; commands run standalone now")
                return
            count += 1
            thread = threading.Thread(target=self._serve, args=(client,),
                                      name=f"reverie-ipc-{count}", daemon=True)
            with self._lock:
                self._clients.add(thread)
            thread.start()

    def _serve(self, client: socket.socket) -> None:
        connection = Connection(client)
        try:
            uid = self._peer_uid(client)
            if uid is not None and uid != os.getuid():
                log.warning("refused a command from user %d", uid)
                with contextlib.suppress(OSError):
                    connection.send({"refused": REFUSED_OTHER_USER})
                return
            client.settimeout(REQUEST_TIMEOUT_S)
            try:
                request = connection.receive()
            except (ProtocolError, OSError) as exc:
                log.warning("a client sent no valid request: %s", exc)
                return
            if request is None or not isinstance(request.get("argv"), list):
                log.warning("a client sent no command line")
                return
            client.settimeout(None)
            self._run(request, connection)
        finally:
            connection.close()
            with self._lock:
                self._clients.discard(threading.current_thread())

    def _run(self, request: dict[str, Any], connection: Connection) -> None:
        channel = Channel(connection)
        watcher = threading.Thread(target=self._watch, args=(connection, channel),
                                   name=f"{threading.current_thread().name}-watch",
                                   daemon=True)
        watcher.start()
        code = 1
        try:
            code = self._handler(request, channel)
        except Exception:
            log.exception("a command from the command line failed")
            channel.stderr("reverie: unexpected error in the running Reverie; details are "
                           "in its log file.\n")
        finally:
            channel.exit(code)
            with contextlib.suppress(OSError):
                connection.sock.shutdown(socket.SHUT_WR)
            if self._on_finished is not None:
                try:
                    self._on_finished(request, code)
                except Exception:
                    log.exception("reporting a finished command failed")

    def _watch(self, connection: Connection, channel: Channel) -> None:
        """Sets ``channel.cancelled`` on a cancel frame, a closed socket or garbage."""
        while True:
            try:
                message = connection.receive()
            except (ProtocolError, OSError):
                message = None
            if message is None or message.get("cancel"):
                channel.cancelled.set()
                return
