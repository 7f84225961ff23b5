"""Downloads against a real HTTP server on the loopback interface."""

from __future__ import annotations

import hashlib
import os
import random
import re
import socket
import stat
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from assistant.llm.download import (
    CHUNK_BYTES,
    DISK_MARGIN_BYTES,
    DownloadCancelled,
    DownloadError,
    download,
)

PAYLOAD = random.Random(20240501).randbytes(300_000)
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()
CHUNK = 16 * 1024
PLENTY_OF_DISK = SimpleNamespace(free=10**12)


@dataclass
class Served:
    """One request as the server saw it."""

    path: str
    range: str | None
    authorization: str | None
    status: int = 0
    sent: int = 0


@dataclass
class ServerState:
    """How the test server behaves; tests change it between calls."""

    payload: bytes = PAYLOAD
    drop_after: int | None = None  # close the connection after this many body bytes
    stall_after: int | None = None  # go silent after this many body bytes
    release: threading.Event = field(default_factory=threading.Event)
    ignore_range: bool = False
    corrupt: bool = False
    status: int | None = None  # answer every request with this error status
    redirect: bool = False  # send /models/... to /cdn/... like Hugging Face does
    requests: list[Served] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        state = self.server.state
        served = Served(self.path, self.headers.get("Range"), self.headers.get("Authorization"))
        state.requests.append(served)
        if state.redirect and not self.path.startswith("/cdn/"):
            served.status = 302
            self.send_response(302)
            self.send_header("Location", "/cdn" + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if state.status is not None:
            served.status = state.status
            self.send_error(state.status)
            return
        body = state.payload
        if state.corrupt:
            middle = len(body) // 2
            body = body[:middle] + bytes([body[middle] ^ 0xFF]) + body[middle + 1 :]
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", served.range or "")
        if match and not state.ignore_range:
            start = int(match.group(1))
            if start >= len(body):
                served.status = 416
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            served.status = 206
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            served.status = 200
            self.send_response(200)
        rest = body[start:]
        self.send_header("Content-Length", str(len(rest)))
        self.end_headers()
        limit = len(rest) if state.drop_after is None else min(state.drop_after, len(rest))
        if state.stall_after is not None:
            self.wfile.write(rest[: state.stall_after])
            state.release.wait(timeout=10)
            return
        self.wfile.write(rest[:limit])
        self.wfile.flush()
        served.sent = limit
        if limit < len(rest):
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: ServerState

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up early (cancel, refusal) is expected here."""


@dataclass
class LocalServer:
    url: str
    state: ServerState


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("ALL_PROXY", raising=False)


@pytest.fixture
def server() -> Iterator[LocalServer]:
    httpd = _Server(("127.0.0.1", 0), _Handler)
    httpd.state = ServerState()
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        host, port = httpd.server_address[:2]
        yield LocalServer(f"http://{host!s}:{port}/models/tiny.gguf", httpd.state)
    finally:
        httpd.state.release.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def _get(server: LocalServer, dest: Path, **kwargs: Any) -> Path:
    kwargs.setdefault("expected_sha256", PAYLOAD_SHA)
    kwargs.setdefault("disk_usage", lambda _path: PLENTY_OF_DISK)
    kwargs.setdefault("chunk_size", CHUNK)
    kwargs.setdefault("timeout", 10.0)
    return download(server.url, dest, **kwargs)


def _part(dest: Path) -> Path:
    return dest.with_name(dest.name + ".part")


def test_full_download_is_verified_and_renamed(server: LocalServer, tmp_path: Path) -> None:
    dest = tmp_path / "models" / "tiny.gguf"
    seen: list[tuple[int, int | None]] = []

    result = _get(server, dest, expected_size=len(PAYLOAD), progress=lambda *a: seen.append(a))

    assert result == dest
    assert dest.read_bytes() == PAYLOAD
    assert os.name != "posix" or stat.S_IMODE(dest.stat().st_mode) == 0o600
    assert not _part(dest).exists()
    assert [(r.range, r.status) for r in server.state.requests] == [(None, 200)]
    assert seen[0] == (0, len(PAYLOAD))
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD))
    done = [d for d, _ in seen]
    assert done == sorted(done) and len(seen) > len(PAYLOAD) // CHUNK


def test_interrupted_download_resumes_from_the_part(server: LocalServer, tmp_path: Path) -> None:
    dest = tmp_path / "tiny.gguf"
    server.state.drop_after = 100_000

    with pytest.raises(DownloadError) as caught:
        _get(server, dest, expected_size=len(PAYLOAD))

    assert "run it again to resume" in str(caught.value)
    assert not dest.exists()
    assert _part(dest).read_bytes() == PAYLOAD[:100_000]

    server.state.drop_after = None
    seen: list[tuple[int, int | None]] = []
    _get(server, dest, expected_size=len(PAYLOAD), progress=lambda *a: seen.append(a))

    assert dest.read_bytes() == PAYLOAD
    assert not _part(dest).exists()
    resumed = server.state.requests[-1]
    assert resumed.range == "bytes=100000-"
    assert resumed.status == 206
    assert resumed.sent == len(PAYLOAD) - 100_000
    assert seen[0] == (100_000, len(PAYLOAD))


def test_resume_without_known_size_uses_the_servers_total(
    server: LocalServer, tmp_path: Path
) -> None:
    dest = tmp_path / "tiny.gguf"
    server.state.drop_after = 123_457
    with pytest.raises(DownloadError, match="stopped at"):
        _get(server, dest)
    server.state.drop_after = None
    _get(server, dest)
    assert dest.read_bytes() == PAYLOAD
    assert server.state.requests[-1].range == "bytes=123457-"


def test_server_ignoring_range_restarts_cleanly(server: LocalServer, tmp_path: Path) -> None:
    dest = tmp_path / "tiny.gguf"
    _part(dest).write_bytes(b"stale bytes from another file" * 1000)
    server.state.ignore_range = True

    _get(server, dest, expected_size=len(PAYLOAD))

    assert dest.read_bytes() == PAYLOAD
    (request,) = server.state.requests
    assert request.range == f"bytes={29 * 1000}-"
    assert (request.status, request.sent) == (200, len(PAYLOAD))


def test_complete_part_answered_with_416_is_verified(server: LocalServer, tmp_path: Path) -> None:
    dest = tmp_path / "tiny.gguf"
    _part(dest).write_bytes(PAYLOAD)

    _get(server, dest)

    assert dest.read_bytes() == PAYLOAD
    (request,) = server.state.requests
    assert (request.range, request.status, request.sent) == (f"bytes={len(PAYLOAD)}-", 416, 0)


def test_part_longer_than_the_file_starts_again(server: LocalServer, tmp_path: Path) -> None:
    dest = tmp_path / "tiny.gguf"
    _part(dest).write_bytes(PAYLOAD + b"junk")

    _get(server, dest)

    assert dest.read_bytes() == PAYLOAD
    assert [(r.range, r.status) for r in server.state.requests] == [
        (f"bytes={len(PAYLOAD) + 4}-", 416),
        (None, 200),
    ]


def test_complete_part_with_known_size_needs_no_request(
    server: LocalServer, tmp_path: Path
) -> None:
    dest = tmp_path / "tiny.gguf"
    _part(dest).write_bytes(PAYLOAD)
    _get(server, dest, expected_size=len(PAYLOAD))
    assert dest.read_bytes() == PAYLOAD
    assert server.state.requests == []


def test_corrupt_content_is_rejected_and_nothing_is_kept(
    server: LocalServer, tmp_path: Path
) -> None:
    dest = tmp_path / "tiny.gguf"
    server.state.corrupt = True

    with pytest.raises(DownloadError) as caught:
        _get(server, dest, expected_size=len(PAYLOAD))

    assert "checksum does not match" in str(caught.value)
    assert not dest.exists()
    assert not _part(dest).exists()


def test_corrupt_resumed_part_is_caught_by_the_checksum(
    server: LocalServer, tmp_path: Path
) -> None:
    """The bytes already on disk are part of the checksum, not trusted blindly."""
    dest = tmp_path / "tiny.gguf"
    damaged = bytearray(PAYLOAD[:50_000])
    damaged[10] ^= 0x01
    _part(dest).write_bytes(bytes(damaged))

    with pytest.raises(DownloadError, match="checksum does not match"):
        _get(server, dest, expected_size=len(PAYLOAD))

    assert server.state.requests[-1].range == "bytes=50000-"
    assert not dest.exists() and not _part(dest).exists()


def test_cancel_keeps_the_part_for_resuming(server: LocalServer, tmp_path: Path) -> None:
    dest = tmp_path / "tiny.gguf"
    received = 0

    def progress(done: int, _total: int | None) -> None:
        nonlocal received
        received = done

    with pytest.raises(DownloadCancelled, match="cancelled"):
        _get(
            server,
            dest,
            expected_size=len(PAYLOAD),
            progress=progress,
            should_stop=lambda: received >= 64 * 1024,
        )

    kept = _part(dest).stat().st_size
    assert 64 * 1024 <= kept < len(PAYLOAD)
    assert not dest.exists()

    _get(server, dest, expected_size=len(PAYLOAD))
    assert dest.read_bytes() == PAYLOAD
    assert server.state.requests[-1].range == f"bytes={kept}-"


def test_cancel_before_start_sends_nothing(server: LocalServer, tmp_path: Path) -> None:
    with pytest.raises(DownloadCancelled):
        _get(server, tmp_path / "tiny.gguf", should_stop=lambda: True)
    assert server.state.requests == []


def test_not_enough_disk_is_refused_before_downloading(server: LocalServer, tmp_path: Path) -> None:
    dest = tmp_path / "tiny.gguf"
    asked: list[Path] = []

    def tiny_disk(path: Path) -> SimpleNamespace:
        asked.append(path)
        return SimpleNamespace(free=1_000_000)

    with pytest.raises(DownloadError) as caught:
        _get(server, dest, expected_size=len(PAYLOAD), disk_usage=tiny_disk)

    message = str(caught.value)
    assert message.startswith("There is not enough disk space for tiny.gguf")
    assert "Free some space or choose another folder." in message
    assert asked == [tmp_path]
    assert server.state.requests == []
    assert not _part(dest).exists()


def test_not_enough_disk_for_an_unknown_size_is_refused_from_content_length(
    server: LocalServer, tmp_path: Path
) -> None:
    # Without expected_size only the server's Content-Length tells the size.
    free = SimpleNamespace(free=DISK_MARGIN_BYTES + len(PAYLOAD) // 2)
    with pytest.raises(DownloadError, match="not enough disk space"):
        _get(server, tmp_path / "tiny.gguf", disk_usage=lambda _path: free)
    assert server.state.requests[0].status == 200
    assert not _part(tmp_path / "tiny.gguf").exists()


def test_404_is_one_clear_sentence(server: LocalServer, tmp_path: Path) -> None:
    server.state.status = 404
    with pytest.raises(DownloadError) as caught:
        _get(server, tmp_path / "tiny.gguf")
    assert str(caught.value) == (
        f"tiny.gguf was not found at {server.url} (HTTP 404); the catalog entry may be out of date."
    )
    assert not _part(tmp_path / "tiny.gguf").exists()


def test_token_is_sent_and_refusal_mentions_it(server: LocalServer, tmp_path: Path) -> None:
    server.state.status = 403
    with pytest.raises(DownloadError, match="access token"):
        _get(server, tmp_path / "tiny.gguf", token="hf_secret")
    assert server.state.requests[0].authorization == "Bearer hf_secret"


def test_redirect_keeps_range_but_not_credentials(server: LocalServer, tmp_path: Path) -> None:
    dest = tmp_path / "tiny.gguf"
    _part(dest).write_bytes(PAYLOAD[:70_000])
    server.state.redirect = True

    _get(server, dest, expected_size=len(PAYLOAD), token="hf_secret")

    assert dest.read_bytes() == PAYLOAD
    first, second = server.state.requests
    assert (first.path, first.status, first.authorization) == (
        "/models/tiny.gguf",
        302,
        "Bearer hf_secret",
    )
    assert (second.path, second.status, second.authorization) == (
        "/cdn/models/tiny.gguf",
        206,
        None,
    )
    assert second.range == "bytes=70000-"
    assert second.sent == len(PAYLOAD) - 70_000


def test_extra_headers_are_sent(server: LocalServer, tmp_path: Path) -> None:
    _get(server, tmp_path / "tiny.gguf", headers={"Authorization": "Bearer from-headers"})
    assert server.state.requests[0].authorization == "Bearer from-headers"


def test_size_different_from_catalog_is_refused(server: LocalServer, tmp_path: Path) -> None:
    dest = tmp_path / "tiny.gguf"
    with pytest.raises(DownloadError, match="catalog entry may be out of date"):
        _get(server, dest, expected_size=len(PAYLOAD) + 1)
    assert not dest.exists() and not _part(dest).exists()


def test_stalled_server_times_out_and_keeps_the_part(server: LocalServer, tmp_path: Path) -> None:
    dest = tmp_path / "tiny.gguf"
    server.state.stall_after = 40_000
    with pytest.raises(DownloadError) as caught:
        _get(server, dest, expected_size=len(PAYLOAD), timeout=0.3)
    assert str(caught.value) == (
        "The connection to 127.0.0.1 timed out while downloading tiny.gguf; "
        "check the internet connection and run the download again to resume."
    )
    # Whole chunks received before the stall are kept: a prefix of the file.
    kept = _part(dest).read_bytes()
    assert CHUNK <= len(kept) <= 40_000
    assert PAYLOAD.startswith(kept)

    server.state.release.set()
    server.state.stall_after = None
    _get(server, dest, expected_size=len(PAYLOAD))
    assert dest.read_bytes() == PAYLOAD
    assert server.state.requests[-1].range == f"bytes={len(kept)}-"


def test_non_http_address_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "source.gguf"
    source.write_bytes(PAYLOAD)
    with pytest.raises(DownloadError, match="is not an http:// or https:// address"):
        download(source.as_uri(), tmp_path / "copy.gguf", expected_sha256=PAYLOAD_SHA)


def test_unreachable_server_is_one_clear_sentence(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(DownloadError) as caught:
        download(
            f"http://127.0.0.1:{port}/x.gguf",
            tmp_path / "x.gguf",
            expected_sha256=PAYLOAD_SHA,
            disk_usage=lambda _path: PLENTY_OF_DISK,
            timeout=5.0,
        )
    message = str(caught.value)
    assert message.startswith("The download of x.gguf from 127.0.0.1 failed (")
    assert message.endswith("check the internet connection and run it again to resume.")


def test_existing_verified_file_is_kept_without_a_request(
    server: LocalServer, tmp_path: Path
) -> None:
    dest = tmp_path / "tiny.gguf"
    dest.write_bytes(PAYLOAD)
    assert _get(server, dest, expected_size=len(PAYLOAD)) == dest
    assert server.state.requests == []


def test_existing_different_file_is_not_overwritten(server: LocalServer, tmp_path: Path) -> None:
    dest = tmp_path / "tiny.gguf"
    dest.write_bytes(b"my own file")
    with pytest.raises(DownloadError, match="already exists but is not the expected"):
        _get(server, dest)
    assert dest.read_bytes() == b"my own file"


def test_bad_expected_sha_is_a_programming_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="64 hexadecimal"):
        download("http://127.0.0.1:9/x", tmp_path / "x", expected_sha256="abc")


def test_cancel_on_a_stalled_server_is_noticed_at_once_with_production_chunks(
        server: LocalServer, tmp_path: Path) -> None:
    """With the real 1 MiB block size, a server that sends 40 kB and goes silent: progress
    reports what arrived, and a cancel ends the download within 200 ms, not after a
    whole block or the 30 s network timeout."""
    assert len(PAYLOAD) < CHUNK_BYTES  # the whole file is less than one block
    dest = tmp_path / "tiny.gguf"
    server.state.stall_after = 40_000
    arrived = threading.Event()
    cancel = threading.Event()
    seen: list[int] = []
    outcome: list[BaseException] = []
    finished_at: list[float] = []

    def progress(done: int, _total: int | None) -> None:
        seen.append(done)
        if done >= 40_000:
            arrived.set()

    def run() -> None:
        try:
            download(server.url, dest, expected_sha256=PAYLOAD_SHA, expected_size=len(PAYLOAD),
                     progress=progress, should_stop=cancel.is_set,
                     disk_usage=lambda _path: PLENTY_OF_DISK)
        except BaseException as exc:
            outcome.append(exc)
        finally:
            finished_at.append(time.perf_counter())

    worker = threading.Thread(target=run)
    worker.start()
    assert arrived.wait(5), seen  # progress came before the block was full (or release)
    raised = time.perf_counter()
    cancel.set()
    worker.join(10)
    assert not worker.is_alive()
    assert (finished_at[0] - raised) < 0.2
    assert len(outcome) == 1 and isinstance(outcome[0], DownloadCancelled)
    kept = _part(dest).read_bytes()
    assert len(kept) == 40_000 and PAYLOAD.startswith(kept)
    assert seen[0] == 0 and seen[-1] == 40_000

    server.state.release.set()
    server.state.stall_after = None
    download(server.url, dest, expected_sha256=PAYLOAD_SHA, expected_size=len(PAYLOAD),
             disk_usage=lambda _path: PLENTY_OF_DISK)
    assert dest.read_bytes() == PAYLOAD
    assert server.state.requests[-1].range == "bytes=40000-"
