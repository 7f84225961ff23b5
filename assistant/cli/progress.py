"""The import's progress line: one terminal line rewritten in place after each batch."""

from __future__ import annotations

from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from assistant.store.import_batch import ImportProgress

#: Carriage return, then "erase to the end of the line": the line is rewritten in place.
_REWRITE = "\r\x1b[K"


class ImportProgressLine:
    """Shows conversations, messages and the share of the file read, on ``out``; only
    meant for a terminal (a file or pipe gets no progress, its output stays as it was)."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._shown = False

    def show(self, progress: ImportProgress) -> None:
        self._out.write(f"{_REWRITE}Importing: {progress.conversations:,} conversations, "
                        f"{progress.messages_added:,} messages added, "
                        f"{progress.fraction:.0%} of the file read")
        self._out.flush()
        self._shown = True

    def clear(self) -> None:
        """Remove the line, so the summary (or the JSON) starts on a clean line."""
        if self._shown:
            self._out.write(_REWRITE)
            self._out.flush()
            self._shown = False
