"""The command socket's server and client (assistant.ipc): output streams back, exit
codes arrive, Ctrl-C cancels, another user is refused, a stale socket blocks nothing,
garbage is not served."""

from __future__ import annotations

import io
import os
import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.ipc.address import AddressError, socket_path
from assistant.ipc.client import send_command
from assistant.ipc.protocol import Connection
from assistant.ipc.server import REFUSED_OTHER_USER, Channel, CommandServer


class Recorder:
    """A handler that echoes its command line, or waits for Ctrl-C with ``wait``."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.waiting = threading.Event()
        self.cancelled = threading.Event()

    def __call__(self, request: dict[str, Any], channel: Channel) -> int:
        self.requests.append(request)
        argv = request["argv"]
        if argv[:1] == ["wait"]:
            channel.stdout("waiting\n")
            self.waiting.set()
            if channel.cancelled.wait(30):
                self.cancelled.set()
                return 130
            return 0
        channel.stdout(" ".join(argv) + "\n")
        channel.stderr("to stderr\n")
        return int(argv[0]) if argv and argv[0].isdigit() else 0


@pytest.fixture
def served(runtime_dir: Path, tmp_path: Path) -> Iterator[tuple[CommandServer, Recorder]]:
    path = socket_path(tmp_path / "profile", create=True)
    assert path is not None
    handler = Recorder()
    server = CommandServer(path, handler)
    assert server.start()
    yield server, handler
    server.close()


def run(path: Path, *argv: str) -> tuple[int | None, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = send_command(path, "test", list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_output_and_exit_code_come_back(served: tuple[CommandServer, Recorder]) -> None:
    server, handler = served
    assert run(server.path, "2", "hello") == (2, "2 hello\n", "to stderr\n")
    assert handler.requests[0]["cwd"] == os.getcwd()


def test_the_socket_and_its_folder_are_owner_only(served: tuple[CommandServer, Recorder]
                                                   ) -> None:
    server, _ = served
    assert stat.S_IMODE(server.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(server.path.parent.stat().st_mode) == 0o700
    assert len(str(server.path).encode()) < 108


def test_no_server_means_none(runtime_dir: Path, tmp_path: Path) -> None:
    assert send_command(socket_path(tmp_path / "p"), "ask", ["ask", "x"]) is None


def test_a_stale_socket_file_blocks_nothing(runtime_dir: Path, tmp_path: Path) -> None:
    path = socket_path(tmp_path / "p", create=True)
    assert path is not None
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(path))  # a killed app leaves its socket file behind
    dead.close()
    assert path.exists()
    assert send_command(path, "ask", ["ask", "x"]) is None  # the command runs standalone
    server = CommandServer(path, Recorder())
    try:
        assert server.start()
        assert run(path, "ok")[0] == 0
    finally:
        server.close()
    assert not path.exists()


def test_a_live_server_is_not_replaced(served: tuple[CommandServer, Recorder]) -> None:
    server, _ = served
    second = CommandServer(server.path, Recorder())
    assert not second.start()
    assert run(server.path, "still", "here")[1] == "still here\n"


def test_another_user_is_refused_in_one_sentence(runtime_dir: Path, tmp_path: Path) -> None:
    path = socket_path(tmp_path / "p", create=True)
    assert path is not None
    handler = Recorder()
    server = CommandServer(path, handler, peer_uid=lambda _s: os.getuid() + 1)
    assert server.start()
    try:
        code, out, err = run(path, "ask", "x")
    finally:
        server.close()
    assert (code, out) == (1, "")
    assert err == f"reverie: {REFUSED_OTHER_USER}\n"
    assert handler.requests == []


def test_the_real_peer_credentials_are_this_user(served: tuple[CommandServer, Recorder]
                                                ) -> None:
    from assistant.ipc.server import peer_uid

    server, _ = served
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(server.path))
        assert peer_uid(sock) == os.getuid()
    finally:
        sock.close()


def test_cancel_reaches_the_handler(served: tuple[CommandServer, Recorder]) -> None:
    server, handler = served
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(str(server.path))
    connection = Connection(sock)
    try:
        connection.send({"cmd": "x", "argv": ["wait"], "cwd": "/"})
        assert connection.receive() == {"stdout": "waiting\n"}
        connection.send({"cancel": True})
        assert connection.receive() == {"exit": 130}
        assert handler.cancelled.is_set()
    finally:
        connection.close()


def test_a_client_that_goes_away_cancels_its_command(served: tuple[CommandServer, Recorder]
                                                     ) -> None:
    server, handler = served
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(str(server.path))
    Connection(sock).send({"cmd": "x", "argv": ["wait"], "cwd": "/"})
    assert handler.waiting.wait(10)
    sock.close()
    assert handler.cancelled.wait(10)


@pytest.mark.parametrize("garbage", [b"\xff\xff\xff\xff", b"\x00\x00\x00\x02[]",
                                     b"\x00\x00\x00\x02{}"])
def test_garbage_is_not_served_and_the_server_goes_on(
        served: tuple[CommandServer, Recorder], garbage: bytes) -> None:
    server, handler = served
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(str(server.path))
    try:
        sock.sendall(garbage)
        sock.shutdown(socket.SHUT_WR)
        assert sock.recv(100) == b""  # closed without an answer
    finally:
        sock.close()
    assert handler.requests == []
    assert run(server.path, "next")[0] == 0


def test_a_socket_folder_open_to_others_is_refused(runtime_dir: Path, tmp_path: Path
                                                   ) -> None:
    folder = runtime_dir / "reverie"
    folder.mkdir(mode=0o700)
    folder.chmod(0o777)
    with pytest.raises(AddressError, match="open to others"):
        socket_path(tmp_path / "p")
