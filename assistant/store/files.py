"""Reading the person's files safely, and naming them safely in messages.

Import and ``note add --file`` read files the person points at. A path can name a
pipe (reading it waits forever), a device such as ``/dev/zero`` (reading it never
ends), a folder, or a file far too large to be a note. :func:`read_text_file` opens
without blocking, checks what it opened, and reads at most a limit, so each of these
becomes one :class:`UnreadableFile` sentence instead of a hang or an out-of-memory.
"""

from __future__ import annotations

import codecs
import os
import stat
from pathlib import Path
from typing import IO

#: A note larger than this is not a note (a log, a dump, a book): refused, not truncated.
MAX_NOTE_BYTES = 10 * 1024 * 1024


class ImportFileError(ValueError):
    """The file as a whole cannot be imported; the message says why and what to do."""


class UnreadableFile(ImportFileError):
    """One file cannot be read as text; ``reason`` is the short form for a list of problems."""

    def __init__(self, path: Path, reason: str, advice: str = "") -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{shown(path)} {reason}" + (f"; {advice}" if advice else "") + ".")


def shown(path: Path | str) -> str:
    """``path`` as one printable line: a file name that is not valid UTF-8 (possible on
    Linux) keeps its odd bytes as ``\\xNN``, and a line break or control character in
    a name is escaped, instead of breaking the output, the one-line error or the
    database."""
    text = os.fsencode(path).decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else _escape(c) for c in text)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 \
        else f"\\U{code:08x}"


def megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g} MB"


def open_regular(path: Path, advice: str = "") -> IO[bytes]:
    """``path`` opened for binary reading, after checking that it is a regular file.

    Raises :class:`UnreadableFile` for a missing path, a folder and anything that is
    not a regular file (pipe, device, socket). The file is opened non-blocking, so a
    pipe with no writer cannot hang the open itself.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise UnreadableFile(path, "does not exist", advice or "check the path") from None
    except IsADirectoryError:
        raise UnreadableFile(path, "is a folder", advice) from None
    except OSError as exc:
        raise UnreadableFile(path, f"cannot be read ({exc.strerror or exc})", advice) from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise UnreadableFile(path, "is a folder", advice)
        if not stat.S_ISREG(mode):
            raise UnreadableFile(path, "is not a regular file (it is a pipe, a device or "
                                 "a socket)", advice or "give a text file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_bytes(path: Path, limit: int, advice: str = "") -> bytes:
    """The bytes of the regular file ``path``; a file larger than ``limit`` is refused
    (see :func:`open_regular` for what else is)."""
    # Whatever else the caller advises, a file too big only gets smaller by splitting.
    too_big = UnreadableFile(path, f"is larger than {megabytes(limit)}",
                             "split it into smaller files")
    with open_regular(path, advice) as fh:
        try:
            if os.fstat(fh.fileno()).st_size > limit:
                raise too_big
            data = fh.read(limit + 1)
        except OSError as exc:
            raise UnreadableFile(path, f"cannot be read ({exc.strerror or exc})",
                                 advice) from None
    if len(data) > limit:  # it grew while being read
        raise too_big
    return data


def decode_text(data: bytes, path: Path, advice: str = "") -> str:
    """UTF-8 text exactly as stored: a byte-order mark is dropped (it is an encoding
    marker, not text), line endings are kept as they are."""
    try:
        return data.removeprefix(codecs.BOM_UTF8).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(path, f"is not UTF-8 text (byte {exc.start + 1})",
                             advice or "save it as UTF-8 and try again") from None


def read_text_file(path: Path, limit: int | None = None, advice: str = "") -> str:
    """A UTF-8 text file of at most ``limit`` bytes (a note's size by default), exactly
    (see :func:`read_bytes`, :func:`decode_text`)."""
    size = MAX_NOTE_BYTES if limit is None else limit
    return decode_text(read_bytes(path, size, advice), path, advice)


def is_storable(text: str) -> bool:
    """False for text the database cannot hold: lone surrogates (from a ``\\udXXX``
    JSON escape or a file name in another encoding)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
