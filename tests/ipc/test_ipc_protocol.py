"""Framing of the command socket (assistant.ipc.protocol): pieces of any size make
whole messages; oversized frames and garbage are refused."""

from __future__ import annotations

import socket
import struct

import pytest

from assistant.ipc.protocol import MAX_FRAME, Connection, FrameReader, ProtocolError, encode


def test_a_frame_fed_one_byte_at_a_time_arrives_once_whole() -> None:
    data = encode({"stdout": "Paris ✓"}) + encode({"exit": 0})
    reader = FrameReader()
    got = []
    for i in range(len(data)):
        got.extend(reader.feed(data[i:i + 1]))
        if i < len(data) - 1 and len(got) < 2:
            assert reader.pending > 0 or len(got) == 1
    assert got == [{"stdout": "Paris ✓"}, {"exit": 0}]
    assert reader.pending == 0


def test_several_frames_in_one_piece() -> None:
    data = b"".join(encode({"n": n}) for n in range(5))
    assert FrameReader().feed(data) == [{"n": n} for n in range(5)]


def test_a_frame_announcing_more_than_the_limit_is_refused_before_it_is_read() -> None:
    with pytest.raises(ProtocolError, match="over the"):
        FrameReader().feed(struct.pack(">I", MAX_FRAME + 1))
    with pytest.raises(ProtocolError, match="over the"):
        encode({"stdout": "x" * (MAX_FRAME + 1)})


@pytest.mark.parametrize("body", [b"\xff\xfe", b"not json", b"[1, 2]", b'"text"'])
def test_garbage_is_refused(body: bytes) -> None:
    with pytest.raises(ProtocolError):
        FrameReader().feed(struct.pack(">I", len(body)) + body)


def test_a_connection_closed_in_the_middle_of_a_frame_is_an_error_not_a_message() -> None:
    left, right = socket.socketpair()
    try:
        frame = encode({"stdout": "half"})
        left.sendall(encode({"exit": 0}) + frame[:5])
        left.close()
        connection = Connection(right)
        assert connection.receive() == {"exit": 0}
        with pytest.raises(ProtocolError, match="middle of a frame"):
            connection.receive()
    finally:
        right.close()


def test_a_clean_close_between_frames_is_none() -> None:
    left, right = socket.socketpair()
    left.close()
    try:
        assert Connection(right).receive() is None
    finally:
        right.close()
