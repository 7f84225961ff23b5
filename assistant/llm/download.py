"""Resumable, verified, cancellable model downloads over plain HTTP(S).

A download writes ``<dest>.part`` and only renames it to ``dest`` once its
sha256 matches, so ``dest`` either does not exist or is the exact expected
file. An interrupted or cancelled download keeps the ``.part``; the next call
asks the server for the rest with an HTTP ``Range`` request and hashes the part
already on disk first, so the final checksum covers every byte.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import re
import shutil
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO, Final, NamedTuple, Protocol, cast

from assistant.llm.gguf import format_gb
from assistant.paths import open_private

__all__ = [
    "DiskUsage",
    "DownloadCancelled",
    "DownloadError",
    "ProgressCallback",
    "download",
    "sha256_file",
]

log = logging.getLogger("assistant.llm")

ProgressCallback = Callable[[int, int | None], None]
"""Called with (bytes on disk so far, total bytes or None when unknown)."""

CHUNK_BYTES: Final = 1024 * 1024
#: How often a running download checks ``should_stop`` while the server sends nothing.
CANCEL_POLL_SECONDS: Final = 0.05
# Room kept free beyond the file itself, so a download never fills the disk.
DISK_MARGIN_BYTES: Final = 64 * 1024 * 1024
USER_AGENT: Final = "Reverie/0.1 (+model download)"
_CONTENT_RANGE_RE: Final = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$")
_UNSATISFIED_RANGE_RE: Final = re.compile(r"^\s*bytes\s+\*/(\d+)\s*$")
_SHA256_RE: Final = re.compile(r"^[0-9a-f]{64}$")


class DownloadError(RuntimeError):
    """A download failed; ``str(error)`` is one sentence for the user."""


class DownloadCancelled(DownloadError):
    """``should_stop`` asked the download to stop; the ``.part`` file is kept for resuming."""


class DiskUsage(Protocol):
    """The part of :func:`shutil.disk_usage`'s result the free-space check reads."""

    @property
    def free(self) -> int: ...


class _Restart(Exception):
    """Internal: the server cannot continue the part; start again from byte 0."""


@contextmanager
def _shut_down_on_stop(response: http.client.HTTPResponse,
                       should_stop: Callable[[], bool] | None) -> Iterator[None]:
    """While the body is read, a watcher thread polls ``should_stop`` and, once it turns
    true, shuts the connection down: a read waiting on a slow or stalled server returns
    at once instead of after a whole chunk or the network timeout. ``should_stop`` is
    therefore also called from that thread."""
    if should_stop is None:
        yield
        return
    try:  # our own handle on the connection, still valid after the response is closed
        sock = socket.fromfd(response.fileno(), socket.AF_INET, socket.SOCK_STREAM)
    except (OSError, ValueError, AttributeError):
        yield
        return
    finished = threading.Event()

    def watch() -> None:
        while not finished.wait(CANCEL_POLL_SECONDS):
            if should_stop():
                with suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                return

    watcher = threading.Thread(target=watch, name="download-cancel", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        finished.set()
        watcher.join()
        sock.close()


class _Plan(NamedTuple):
    response: http.client.HTTPResponse | None
    offset: int
    total: int | None


def sha256_file(
    path: Path,
    *,
    should_stop: Callable[[], bool] | None = None,
    chunk_size: int = CHUNK_BYTES,
    progress: Callable[[int, int], None] | None = None,
) -> str:
    """Hex sha256 of a file, read in chunks; honours ``should_stop`` between chunks and
    reports (bytes hashed, file size) to ``progress``."""
    hasher = hashlib.sha256()
    total = path.stat().st_size
    with path.open("rb") as handle:
        _hash_into(hasher, handle, should_stop, chunk_size,
                   progress=(lambda done: progress(done, total)) if progress else None)
    return hasher.hexdigest()


def _hash_into(
    hasher: hashlib._Hash,
    handle: BinaryIO,
    should_stop: Callable[[], bool] | None,
    chunk_size: int,
    limit: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Feed ``handle`` (up to ``limit`` bytes from its start) into ``hasher``."""
    handle.seek(0)
    remaining = limit
    done = 0
    while remaining is None or remaining > 0:
        if should_stop is not None and should_stop():
            raise DownloadCancelled("The download was cancelled; run it again to resume.")
        size = chunk_size if remaining is None else min(chunk_size, remaining)
        chunk = handle.read(size)
        if not chunk:
            break
        hasher.update(chunk)
        done += len(chunk)
        if progress is not None:
            progress(done)
        if remaining is not None:
            remaining -= len(chunk)


def _host(url: str) -> str:
    return urllib.parse.urlsplit(url).hostname or url


def _describe_http_error(error: urllib.error.HTTPError, url: str, label: str) -> str:
    code = error.code
    if code in (401, 403):
        return (
            f"The server refused to send {label} (HTTP {code}); this model may need a "
            f"Hugging Face access token and an accepted licence on its page."
        )
    if code == 404:
        return f"{label} was not found at {url} (HTTP 404); the catalog entry may be out of date."
    if code == 429:
        return f"The server is limiting downloads of {label} (HTTP 429); try again later."
    if code >= 500:
        return f"The server for {label} had a problem (HTTP {code}); try again later."
    return f"The server refused to send {label} (HTTP {code} {error.reason})."


def _describe_network_error(error: BaseException, url: str, label: str) -> str:
    reason: object = error.reason if isinstance(error, urllib.error.URLError) else error
    if isinstance(reason, TimeoutError):
        return (
            f"The connection to {_host(url)} timed out while downloading {label}; "
            f"check the internet connection and run the download again to resume."
        )
    text = str(reason) or type(reason).__name__
    return (
        f"The download of {label} from {_host(url)} failed ({text}); check the internet "
        f"connection and run it again to resume."
    )


def _check_disk(
    directory: Path,
    needed: int,
    label: str,
    disk_usage: Callable[[Path], DiskUsage],
) -> None:
    free = disk_usage(directory).free
    if needed + DISK_MARGIN_BYTES > free:
        raise DownloadError(
            f"There is not enough disk space for {label}: it needs "
            f"{format_gb(needed + DISK_MARGIN_BYTES, rounding='up')} and "
            f"{format_gb(free, rounding='down')} is free in {directory}. "
            f"Free some space or choose another folder."
        )


def _open(
    url: str,
    offset: int,
    headers: Mapping[str, str],
    timeout: float,
    label: str,
) -> _Plan:
    """Start the request for bytes ``offset``…; decide whether the server resumes.

    Credentials are not forwarded on redirects: Hugging Face checks the token
    and then redirects to a signed CDN address that must not receive it.
    """
    request = urllib.request.Request(url)
    request.add_header("User-Agent", USER_AGENT)
    request.add_header("Accept-Encoding", "identity")
    for name, value in headers.items():
        if name.lower() == "authorization":
            request.add_unredirected_header(name, value)
        else:
            request.add_header(name, value)
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        with error:
            if error.code == 416 and offset:
                match = _UNSATISFIED_RANGE_RE.match(error.headers.get("Content-Range", ""))
                if match and int(match.group(1)) == offset:
                    log.info("server says the part of %s is already complete", label)
                    return _Plan(None, offset, offset)
                raise _Restart from None
            raise DownloadError(_describe_http_error(error, url, label)) from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as error:
        raise DownloadError(_describe_network_error(error, url, label)) from None
    except ValueError:
        raise DownloadError(f"{url} is not a valid download address.") from None

    if not isinstance(response, http.client.HTTPResponse):
        response.close()
        raise DownloadError(f"{url} is not an http:// or https:// address.")
    status = response.status
    length_header = response.headers.get("Content-Length")
    length = int(length_header) if length_header and length_header.isdigit() else None
    if status == 206:
        match = _CONTENT_RANGE_RE.match(response.headers.get("Content-Range", ""))
        if not match or int(match.group(1)) != offset:
            response.close()
            raise _Restart
        total = None if match.group(3) == "*" else int(match.group(3))
        return _Plan(response, offset, total)
    if status == 200:
        if offset:
            log.info("server ignored the range request for %s; starting again", label)
        return _Plan(response, 0, length)
    response.close()
    raise DownloadError(f"The server answered HTTP {status} for {label}; try again later.")


def download(
    url: str,
    dest: str | os.PathLike[str],
    *,
    expected_sha256: str,
    expected_size: int | None = None,
    progress: ProgressCallback | None = None,
    should_stop: Callable[[], bool] | None = None,
    headers: Mapping[str, str] | None = None,
    token: str | None = None,
    timeout: float = 30.0,
    chunk_size: int = CHUNK_BYTES,
    disk_usage: Callable[[Path], DiskUsage] = shutil.disk_usage,
) -> Path:
    """Download ``url`` to ``dest``, resuming ``dest.part`` and verifying the sha256.

    ``progress(done, total)`` is called as bytes arrive (``total`` is None when
    unknown); ``should_stop()`` is polled between chunks and, when true, stops
    with :class:`DownloadCancelled` keeping the ``.part``. ``token`` adds an
    ``Authorization: Bearer`` header (Hugging Face gated models). Returns
    ``dest``; raises :class:`DownloadError` with one sentence on any failure. A
    checksum mismatch deletes the ``.part``. An existing ``dest`` with the
    right checksum is returned as is.
    """
    expected = expected_sha256.strip().lower()
    if not _SHA256_RE.match(expected):
        raise ValueError("expected_sha256 must be 64 hexadecimal characters")
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise DownloadError(f"{url} is not an http:// or https:// address.")
    target = Path(dest)
    part = target.with_name(target.name + ".part")
    label = target.name
    request_headers = dict(headers or {})
    if token:
        request_headers["Authorization"] = f"Bearer {token}"

    def report(done: int, total: int | None) -> None:
        if progress is not None:
            progress(done, total)

    if target.exists():
        return _accept_existing(target, expected, expected_size, should_stop, report, label)

    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(
            f"The folder {target.parent} cannot be created ({exc.strerror or exc}); "
            f"choose another folder."
        ) from None

    offset = part.stat().st_size if part.exists() else 0
    if expected_size is not None and offset > expected_size:
        log.info("discarding %s: larger than the expected %d bytes", part, expected_size)
        part.unlink()
        offset = 0
    if expected_size is not None:
        _check_disk(target.parent, expected_size - offset, label, disk_usage)

    if expected_size is not None and offset == expected_size:
        log.info("%s is already complete; verifying", part)
        actual = sha256_file(part, should_stop=should_stop, chunk_size=chunk_size)
    else:
        actual = _fetch(
            url,
            part,
            offset,
            expected_size=expected_size,
            headers=request_headers,
            timeout=timeout,
            chunk_size=chunk_size,
            should_stop=should_stop,
            report=report,
            label=label,
            disk_usage=disk_usage,
        )
    if actual != expected:
        part.unlink(missing_ok=True)
        raise DownloadError(
            f"The downloaded {label} is damaged: its checksum does not match the expected one "
            f"(expected {expected[:12]}…, got {actual[:12]}…); it was deleted, try again."
        )
    os.replace(part, target)
    log.info("downloaded and verified %s", target)
    return target


def _accept_existing(
    target: Path,
    expected: str,
    expected_size: int | None,
    should_stop: Callable[[], bool] | None,
    report: ProgressCallback,
    label: str,
) -> Path:
    size = target.stat().st_size
    if (expected_size is None or size == expected_size) and sha256_file(
        target, should_stop=should_stop
    ) == expected:
        report(size, size)
        return target
    raise DownloadError(
        f"{target} already exists but is not the expected {label}; move or delete it and try again."
    )


def _fetch(
    url: str,
    part: Path,
    offset: int,
    *,
    expected_size: int | None,
    headers: Mapping[str, str],
    timeout: float,
    chunk_size: int,
    should_stop: Callable[[], bool] | None,
    report: ProgressCallback,
    label: str,
    disk_usage: Callable[[Path], DiskUsage],
) -> str:
    """Append the rest of the file to ``part`` and return the sha256 of the whole part.

    The bytes already in ``part`` are hashed from disk once the server agrees
    to continue; new bytes are hashed as they arrive. Raises on interruption
    (keeping ``part``) and on cancel.
    """
    cancelled = DownloadCancelled(f"The download of {label} was cancelled; run it again to resume.")
    if should_stop is not None and should_stop():
        raise cancelled
    try:
        plan = _open(url, offset, headers, timeout, label)
    except _Restart:
        log.info("server cannot continue the part of %s; starting again", label)
        part.unlink(missing_ok=True)
        try:
            plan = _open(url, 0, headers, timeout, label)
        except _Restart:
            raise DownloadError(
                f"The server sent a part of {label} that was not asked for; try again later."
            ) from None
    response, start, total = plan
    if expected_size is not None and total is not None and total != expected_size:
        if response is not None:
            response.close()
        part.unlink(missing_ok=True)
        raise DownloadError(
            f"The server offers {total} bytes for {label} but {expected_size} were expected; "
            f"the catalog entry may be out of date."
        )
    if response is None:
        return sha256_file(part, should_stop=should_stop, chunk_size=chunk_size)
    if expected_size is None and total is not None:
        try:
            _check_disk(part.parent, total - start, label, disk_usage)
        except DownloadError:
            response.close()
            raise

    hasher = hashlib.sha256()
    done = start
    with (
        response,
        cast(BinaryIO, open_private(part, "r+b")) as out,  # owner-only
        _shut_down_on_stop(response, should_stop),
    ):
        out.truncate(start)
        if start:
            log.info("resuming %s at byte %d", label, start)
            _hash_into(hasher, out, should_stop, chunk_size, limit=start)
        out.seek(start)
        report(done, total)
        try:
            while True:
                if should_stop is not None and should_stop():
                    log.info("download of %s cancelled at %d bytes", label, done)
                    raise cancelled
                try:
                    # Whatever has arrived, up to chunk_size: progress as data comes.
                    chunk = response.read1(chunk_size)
                except (OSError, http.client.HTTPException) as error:
                    if should_stop is not None and should_stop():
                        log.info("download of %s cancelled at %d bytes", label, done)
                        raise cancelled from None
                    log.info("download of %s interrupted at %d bytes: %r", label, done, error)
                    raise DownloadError(_describe_network_error(error, url, label)) from None
                if should_stop is not None and should_stop():
                    log.info("download of %s cancelled at %d bytes", label, done)
                    raise cancelled
                if not chunk:
                    break
                if total is not None and done + len(chunk) > total:
                    raise DownloadError(
                        f"The server sent more data than announced for {label}; try again."
                    )
                try:
                    out.write(chunk)
                except OSError as error:
                    raise DownloadError(
                        f"{label} cannot be written to {part.parent} "
                        f"({error.strerror or error}); free some space or choose another folder."
                    ) from None
                hasher.update(chunk)
                done += len(chunk)
                report(done, total)
        finally:
            out.flush()
            os.fsync(out.fileno())
    expected_total = total if total is not None else expected_size
    if expected_total is not None and done < expected_total:
        log.info("download of %s ended early at %d of %d bytes", label, done, expected_total)
        raise DownloadError(
            f"The download of {label} stopped at {done * 100 // expected_total}% "
            f"(the connection closed early); run it again to resume."
        )
    return hasher.hexdigest()
