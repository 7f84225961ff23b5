"""Small helpers the commands share: JSON output, progress lines, starting the engine."""

from __future__ import annotations

import json
import sys
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from assistant.paths import write_private

if TYPE_CHECKING:
    from assistant.app import Reverie


#: Bidirectional controls that reorder what follows them (U+202A-202E, U+2066-2069): a
#: title could otherwise show a listing row backwards.
_REORDERING = frozenset(("LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"))


def unsafe_for_terminal(ch: str) -> bool:
    """A control character (an escape, a bell, a line break) or a bidirectional control
    that reorders what follows it."""
    return unicodedata.category(ch) == "Cc" or unicodedata.bidirectional(ch) in _REORDERING


def for_terminal(text: str) -> str:
    """``text`` as one safe terminal line: a line break or tab becomes a space and every
    other `unsafe_for_terminal` character (an escape sequence in an imported title) is
    written as its code ("\\x1b"), so stored text can neither recolour nor retitle the
    terminal nor fake a row of a listing. What is stored is unchanged."""
    return "".join(" " if ch in "\r\n\t\f\v" else
                   (f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
                   if unsafe_for_terminal(ch) else ch for ch in text)


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def write_json_lines(path: Path, rows: Iterable[Any]) -> None:
    """``rows`` to ``path``, one JSON object per line (UTF-8), replacing it atomically and
    owner-only (`write_private`: a kill leaves the old file, never half of the new)."""
    write_private(path, "".join(json.dumps(row, ensure_ascii=False, default=str) + "\n"
                                for row in rows))


def progress_printer(label: str) -> Callable[[int, int], None]:
    state = {"last": -10}

    def report(done: int, total: int) -> None:
        pct = int(done * 100 / total) if total else 100
        if pct >= state["last"] + 10 or (pct == 100 and state["last"] != 100):
            state["last"] = pct
            print(f"{label}: {pct}%", file=sys.stderr, flush=True)

    return report


def start_engine(app: Reverie) -> Any:
    from assistant.llm.engine import EngineError

    engine = app.start_engine(progress_printer("Preparing the bundled model"))
    if not engine.wait_ready():
        raise EngineError(engine.load_error or "The model did not load.")
    return engine


def print_report(data: dict[str, Any], as_json: bool, *, skip: tuple[str, ...] = ()) -> None:
    """One JSON object, or one ``key: value`` line per entry (nested values as JSON)."""
    if as_json:
        print_json(data)
        return
    for key, value in data.items():
        if key not in skip:
            shown = json.dumps(value, default=str) if isinstance(value, dict | list) else value
            print(f"{key}: {shown}")


def print_line(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def command_stdout() -> TextIO:
    """The stream this command's output goes to, to hold on to for output written from
    another thread (the model's tokens): in a running app each command sent from a
    terminal writes to its own client (see `assistant.cli.remote`)."""
    bound = getattr(sys.stdout, "for_this_thread", None)
    return bound() if callable(bound) else sys.stdout
