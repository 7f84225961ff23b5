"""Length-prefixed JSON frames: 4 bytes (big-endian length), then one UTF-8 JSON object.

A client sends one request, ``{"cmd": NAME, "argv": [...], "cwd": FOLDER}``, and may
later send ``{"cancel": true}`` (Ctrl-C) or simply close the socket. The server answers
with any number of ``{"stdout": TEXT}`` and ``{"stderr": TEXT}`` frames (streamed
tokens are stdout frames), then exactly one ``{"exit": CODE}``; or, for a peer of
another user, one ``{"refused": SENTENCE}``. A frame larger than `MAX_FRAME` or one
that is not a JSON object ends the connection: a peer that sends garbage is not served.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct

TYPE_CHECKING = False  # not imported from typing: the client starts without it
if TYPE_CHECKING:
    from typing import Any

#: No honest frame comes near this (output is sent in pieces of `CHUNK` characters).
MAX_FRAME = 4 * 1024 * 1024
#: Long output is split into frames of at most this many characters.
CHUNK = 64 * 1024
_HEADER = struct.Struct(">I")


class ProtocolError(ValueError):
    """The peer broke the framing (too big, not JSON, not an object)."""


def encode(message: dict[str, Any]) -> bytes:
    """One frame holding ``message``."""
    body = json.dumps(message, ensure_ascii=False, default=str).encode("utf-8")
    if len(body) > MAX_FRAME:
        raise ProtocolError(f"a frame of {len(body)} bytes is over the {MAX_FRAME}-byte "
                            "limit")
    return _HEADER.pack(len(body)) + body


def decode(body: bytes) -> dict[str, Any]:
    try:
        message = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProtocolError(f"a frame is not UTF-8 JSON ({exc})") from None
    if not isinstance(message, dict):
        raise ProtocolError("a frame is not a JSON object")
    return message


class FrameReader:
    """Turns bytes, as they arrive in pieces of any size, into messages."""

    def __init__(self, max_frame: int = MAX_FRAME) -> None:
        self._buffer = bytearray()
        self._max = max_frame

    def feed(self, data: bytes) -> list[dict[str, Any]]:
        """The messages completed by ``data`` (none while a frame is still partial)."""
        self._buffer += data
        messages: list[dict[str, Any]] = []
        while len(self._buffer) >= _HEADER.size:
            (length,) = _HEADER.unpack_from(self._buffer)
            if length > self._max:
                raise ProtocolError(f"a frame of {length} bytes is over the "
                                    f"{self._max}-byte limit")
            end = _HEADER.size + length
            if len(self._buffer) < end:
                break
            body = bytes(self._buffer[_HEADER.size:end])
            del self._buffer[:end]
            messages.append(decode(body))
        return messages

    @property
    def pending(self) -> int:
        """Bytes of a frame not yet complete."""
        return len(self._buffer)


class Connection:
    """One end of a framed socket: `send` whole messages, `receive` them one at a time."""

    def __init__(self, sock: socket.socket, max_frame: int = MAX_FRAME) -> None:
        self.sock = sock
        self._reader = FrameReader(max_frame)
        self._ready: list[dict[str, Any]] = []

    def send(self, message: dict[str, Any]) -> None:
        self.sock.sendall(encode(message))

    def receive(self) -> dict[str, Any] | None:
        """The next message; None when the peer closed the connection between frames.
        A peer that closes in the middle of a frame raises ProtocolError."""
        while not self._ready:
            data = self.sock.recv(65536)
            if not data:
                if self._reader.pending:
                    raise ProtocolError("the connection closed in the middle of a frame")
                return None
            self._ready.extend(self._reader.feed(data))
        return self._ready.pop(0)

    def close(self) -> None:
        """Shut down first: a thread blocked in `receive` on this socket wakes up."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self.sock.close()
