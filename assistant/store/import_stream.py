"""Reading a huge JSON array one element at a time, in bounded memory.

ChatGPT's ``conversations.json`` is one JSON array of several hundred MB. Loading it
whole took 1 GB of memory at 100,000 messages; :class:`JsonArrayReader` reads it in
chunks and hands out one conversation (one array element) at a time, decoded by the
standard library's C decoder (``json.JSONDecoder.raw_decode``), so memory stays at a
chunk plus the largest conversation.

Why not ``ijson``: its C backend builds the path prefix of every nesting level, so a
hostile file nested 20,000 levels deep took 970 MB and one nested 100,000 deep exhausted
memory; ``raw_decode`` refuses deep nesting with ``RecursionError`` at once. It was also
slower on a real-shaped export (1.45 s of CPU against 0.63 s for 61 MB).

A broken file is refused in one sentence (:class:`ImportFileError`) that names the
line, as before; the elements before the fault have been handed out by then.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from assistant.store.files import ImportFileError, megabytes, shown

#: Bytes read from the file at a time.
CHUNK_BYTES = 4 * 1024 * 1024
#: A decode error this close to the end of the text read so far may only mean that the
#: element goes on in the next chunk (a number or a literal cut in two).
_TAIL = 64
_SPACE = " \t\r\n"


class JsonArrayReader:
    """The elements of the JSON array in ``fh`` (opened at its start), one at a time.

    ``bytes_read`` says how far into the file the reader is (for progress). An element
    larger than ``max_element_bytes`` (in characters) is refused rather than read into
    memory whole.
    """

    def __init__(self, fh: IO[bytes], path: Path, *, advice: str,
                 max_element_bytes: int, chunk_bytes: int = CHUNK_BYTES) -> None:
        self._fh = fh
        self._path = path
        self._advice = advice
        self._max = max_element_bytes
        self._chunk = chunk_bytes
        self._decoder = codecs.getincrementaldecoder("utf-8")()
        self._json = json.JSONDecoder()
        self._buf = ""
        self._pos = 0
        self._eof = False
        self._lines_before = 0  # line breaks in the text dropped from the buffer
        self._bytes_fed = 0
        self._bad_utf8: ImportFileError | None = None
        self._first = True
        #: Elements handed out so far.
        self.count = 0

    @property
    def bytes_read(self) -> int:
        return self._bytes_fed

    def __iter__(self) -> Iterator[Any]:
        if not self._skip_space() or self._buf[self._pos] != "[":
            raise self._invalid("Expecting '['")
        self._pos += 1
        if not self._skip_space():
            raise self._invalid("Expecting value")
        if self._buf[self._pos] == "]":
            self._pos += 1
        else:
            while True:
                yield self._element()
                self.count += 1
                if not self._skip_space():
                    raise self._invalid("Expecting ',' delimiter")
                char = self._buf[self._pos]
                self._pos += 1
                if char == "]":
                    break
                if char != ",":
                    raise self._invalid("Expecting ',' delimiter", self._pos - 1)
                if not self._skip_space():
                    raise self._invalid("Expecting value")
        if self._skip_space():
            raise self._invalid("Extra data")

    # -- reading --------------------------------------------------------------------------
    def _more(self, at_least: int = 0) -> bool:
        """Append the next chunk (at least ``at_least`` bytes) to the buffer; False at
        the end of the file."""
        if self._eof:
            if self._bad_utf8 is not None:
                raise self._bad_utf8
            return False
        if self._pos:
            self._lines_before += self._buf.count("\n", 0, self._pos)
            self._buf = self._buf[self._pos:]
            self._pos = 0
        data = self._fh.read(max(self._chunk, at_least))
        pending = len(self._decoder.getstate()[0])
        offset = self._bytes_fed - pending  # file offset of what the decoder sees now
        self._bytes_fed += len(data)
        self._eof = not data
        try:
            text = self._decoder.decode(data, final=self._eof)
        except UnicodeDecodeError as exc:
            # The good text before the fault is still handed out; the fault is refused
            # when the reader reaches it.
            self._bad_utf8 = ImportFileError(
                f"{shown(self._path)} is not UTF-8 text (byte {offset + exc.start + 1}); "
                "save it as UTF-8 and try again.")
            self._eof = True
            text = bytes(exc.object[:exc.start]).decode("utf-8")
            if not text:
                raise self._bad_utf8 from None
        if self._first and text:
            self._first = False
            text = text.removeprefix("\ufeff")  # a byte-order mark is not text
        self._buf += text
        return bool(text) or not self._eof

    def _skip_space(self) -> bool:
        """Move past white space; False at the end of the file."""
        while True:
            buf, pos = self._buf, self._pos
            while pos < len(buf) and buf[pos] in _SPACE:
                pos += 1
            self._pos = pos
            if pos < len(buf):
                return True
            if not self._more():
                return False

    def _element(self) -> Any:
        while True:
            try:
                value, end = self._json.raw_decode(self._buf, self._pos)
            except json.JSONDecodeError as exc:
                incomplete = (exc.msg.startswith("Unterminated string")
                              or exc.pos >= len(self._buf) - _TAIL)
                into = exc.pos - self._pos  # reading more moves the element's start
                if not incomplete or not self._grow():
                    raise self._invalid(exc.msg, self._pos + into) from None
                continue
            except RecursionError:
                raise ImportFileError(f"{shown(self._path)} is nested too deeply to be an "
                                      f"export; {self._advice}.") from None
            if end >= len(self._buf) and self._grow():
                continue  # a number at the very end may go on in the next chunk
            self._pos = end
            return value

    def _grow(self) -> bool:
        """Read more for an element that goes on past the buffer; False at the end."""
        size = len(self._buf) - self._pos
        if size > self._max:
            raise ImportFileError(
                f"{shown(self._path)}: conversation {self.count + 1} is larger than "
                f"{megabytes(self._max)}; split the export into smaller files.")
        return self._more(at_least=size)  # doubling: a long element is decoded O(n) times

    def _invalid(self, msg: str, pos: int | None = None) -> ImportFileError:
        where = self._pos if pos is None else pos
        line = self._lines_before + self._buf.count("\n", 0, where) + 1
        return ImportFileError(f"{shown(self._path)} is not valid JSON (line {line}: {msg}).")
