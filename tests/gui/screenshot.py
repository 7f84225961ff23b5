"""Screenshot of the real window answering a question on the real bundled model.

    python -m tests.gui.screenshot OUT.png [--question TEXT] [--data-dir DIR]
                                           [--model FILE.gguf] [--window]

Starts Xvfb, runs ``python -m assistant --data-dir DIR`` (a fresh temporary profile
unless --data-dir is given; its first start prepares the bundled model), types the
question with xdotool, waits for the answer, saves the screenshot, then quits the app
with Ctrl+Q and checks that it exited cleanly. Needs Xvfb, xdotool and ImageMagick.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from tests.gui.xvfb_session import (
    XvfbError,
    XvfbSession,
    ask_in_window,
    missing_tools,
    wait_exit,
)


def take(out: Path, question: str, data_dir: Path, *, model: Path | None = None,
         window_only: bool = False) -> str:
    """Run the whole session; returns the answer shown in the screenshot."""
    data_dir.mkdir(parents=True, exist_ok=True)
    if model is not None:
        (data_dir / "settings.toml").write_text(f'[model]\npath = "{model}"\n',
                                                encoding="utf-8")
    log = data_dir / "screenshot-session.log"
    with XvfbSession() as session:
        app = session.start_reverie(data_dir, log=log)
        try:
            window = session.wait_for_window()
            answer = ask_in_window(session, window, data_dir, question)
            time.sleep(0.5)  # let the last repaint reach the X server
            session.screenshot(out, window if window_only else "root")
            session.focus(window)
            session.key("ctrl+q")
            code = wait_exit(app)
        except XvfbError as exc:
            raise XvfbError(f"{exc}; the app said:\n{_tail(log)}") from None
        if code != 0:
            raise XvfbError(f"Reverie exited with code {code}; the app said:\n{_tail(log)}")
    return answer


def _tail(log: Path, lines: int = 15) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no output)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.gui.screenshot",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="PNG file to write")
    parser.add_argument("--question", default="What is the capital of France?")
    parser.add_argument("--data-dir", type=Path, help="profile to use (default: a fresh one)")
    parser.add_argument("--model", type=Path, help="GGUF file instead of the bundled model")
    parser.add_argument("--window", action="store_true",
                        help="capture only the Reverie window, not the whole screen")
    args = parser.parse_args(argv)
    missing = missing_tools()
    if missing:
        print(f"screenshot: install {', '.join(missing)} first.", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="reverie-shot-") as tmp:
        data_dir = args.data_dir or Path(tmp) / "profile"
        try:
            answer = take(args.out, args.question, data_dir, model=args.model,
                          window_only=args.window)
        except XvfbError as exc:
            print(f"screenshot: {exc}", file=sys.stderr)
            return 1
    print(f"{args.out}: answered {answer!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
