"""Screenshots of every page of the real window, on real data (``make screenshots``).

    python -m tests.gui.screenshots OUT_DIR [--data-dir DIR] [--model FILE.gguf]
                                            [--budget-seconds N] [--theme light|dark]

In a fresh temporary profile (unless --data-dir is given): import the bench fixture
(``resources/bench/chats.jsonl`` and ``resources/bench/notes/``) and run
``reverie sleep --budget-seconds N`` on the real model, all through the command line.
Then start ``reverie`` on Xvfb, ask one question (a prepared one when sleep made
any), visit each page with its Ctrl+digit shortcut, save ``OUT_DIR/NN-page.png``, and
quit with Ctrl+Q, checking the exit code. Last, start ``reverie --tray`` next to a
real system tray (trayer) and save the docked icon (``OUT_DIR/09-tray.png``) and its
open menu (``OUT_DIR/10-tray-menu.png``). Needs Xvfb, xdotool, ImageMagick, x11-utils
and trayer.
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.gui.xvfb_session import (
    REPO,
    XvfbError,
    XvfbSession,
    app_icon_pixels,
    ask_in_window,
    missing_tools,
    missing_tray_tools,
    wait_exit,
    wait_until,
)

#: (file name, Ctrl+digit) of each page, in the window's page order.
PAGES = (
    ("01-chat", "1"), ("02-notes", "2"), ("03-memory", "3"), ("04-prepared-answers", "4"),
    ("05-while-you-were-away", "5"), ("06-insights", "6"), ("07-settings", "7"),
    ("08-models", "8"),
)
DEFAULT_QUESTION = "When is the book club meeting?"
#: The tray shots: the top right corner of the screen, where trayer docks the icon.
TRAY_SHOTS = ("09-tray", "10-tray-menu")
TRAY_CORNER = (420, 190)


def reverie(data_dir: Path, *args: str, timeout: float = 900) -> str:
    """Run a ``reverie`` command on the profile; its stdout (raises on failure)."""
    done = subprocess.run([sys.executable, "-m", "assistant", "--data-dir", str(data_dir),
                           *args], cwd=REPO, capture_output=True, text=True,
                          timeout=timeout, check=False)
    if done.returncode != 0:
        raise XvfbError(f"reverie {' '.join(args)} failed ({done.returncode}): "
                        f"{done.stderr.strip()[-400:]}")
    return done.stdout


def prepare_profile(data_dir: Path, *, model: Path | None, budget: float,
                    theme: str) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    lines = [f'[ui]\ntheme = "{theme}"\n']
    if model is not None:
        lines.insert(0, f'[model]\npath = "{model}"\n')
    (data_dir / "settings.toml").write_text("\n".join(lines), encoding="utf-8")
    bench = REPO / "resources" / "bench"
    reverie(data_dir, "import", "chats", str(bench / "chats.jsonl"))
    reverie(data_dir, "import", "notes", str(bench / "notes"))
    reverie(data_dir, "sleep", "--budget-seconds", f"{budget:g}", "--json")


def prepared_question(data_dir: Path) -> str | None:
    """The most predictable ready prepared answer's question, if sleep made one."""
    with sqlite3.connect(f"file:{data_dir / 'reverie.db'}?mode=ro", uri=True) as conn:
        row = conn.execute("SELECT question FROM anticipation WHERE status = 'ready' "
                           "ORDER BY predictability DESC LIMIT 1").fetchone()
    return str(row[0]) if row else None


def take_all(out: Path, data_dir: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    log = data_dir / "screenshots-session.log"
    shots: list[Path] = []
    with XvfbSession(1280, 820) as session:
        app = session.start_reverie(data_dir, log=log)
        try:
            window = session.wait_for_window()
            ask_in_window(session, window, data_dir,
                          prepared_question(data_dir) or DEFAULT_QUESTION)
            for name, digit in PAGES:
                session.focus(window)
                session.key(f"ctrl+{digit}")
                time.sleep(0.8)  # let the page load and repaint
                shots.append(session.screenshot(out / f"{name}.png", window))
            session.focus(window)
            session.key("ctrl+q")
            code = wait_exit(app)
        except XvfbError as exc:
            raise XvfbError(f"{exc}; the app said:\n{_tail(log)}") from None
        if code != 0:
            raise XvfbError(f"Reverie exited with code {code}; the app said:\n{_tail(log)}")
    return shots


def take_tray(out: Path, data_dir: Path) -> list[Path]:
    """``reverie --tray`` docked in trayer: the icon, then its menu (top right corner)."""
    out.mkdir(parents=True, exist_ok=True)
    log = data_dir / "screenshots-tray.log"
    width, height = 1024, 640
    corner = (*TRAY_CORNER, width - TRAY_CORNER[0], 0)
    shots: list[Path] = []
    with XvfbSession(width, height) as session:
        panel = session.start_trayer()
        app = session.start_reverie(data_dir, "--tray", log=log)
        try:
            icon = str(wait_until(lambda: session.docked_icon(panel), 60,
                                  "the icon to dock in the tray"))
            wait_until(lambda: app_icon_pixels(session.pixels(panel)) >= 100, 30,
                       "the icon to be painted")
            shots.append(session.screenshot(out / f"{TRAY_SHOTS[0]}.png", crop=corner))
            menu = session.open_tray_menu(icon)
            shots.append(session.screenshot(out / f"{TRAY_SHOTS[1]}.png", crop=corner))
            session.key("Up", "Return")  # Quit Reverie, the menu's last item
            wait_until(lambda: menu not in session.mapped_windows("Reverie"), 30,
                       "the tray menu to close")
            code = wait_exit(app)
        except XvfbError as exc:
            raise XvfbError(f"{exc}; the app said:\n{_tail(log)}") from None
        if code != 0:
            raise XvfbError(f"Reverie exited with code {code}; the app said:\n{_tail(log)}")
    return shots


def _tail(log: Path, lines: int = 15) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no output)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.gui.screenshots",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder for the PNG files")
    parser.add_argument("--data-dir", type=Path,
                        help="use this profile as it is (no import, no sleep)")
    parser.add_argument("--model", type=Path, help="GGUF file instead of the bundled model")
    parser.add_argument("--budget-seconds", type=float, default=60.0)
    parser.add_argument("--theme", choices=("light", "dark", "system"), default="light")
    args = parser.parse_args(argv)
    missing = missing_tools()
    if missing:
        print(f"screenshots: install {', '.join(missing)} first.", file=sys.stderr)
        return 2
    no_tray = missing_tray_tools()
    if no_tray:
        print(f"screenshots: no tray shots without {', '.join(no_tray)}; install them "
              "for those.", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="reverie-shots-") as tmp:
        data_dir = args.data_dir
        try:
            if data_dir is None:
                data_dir = Path(tmp) / "profile"
                print("Importing the fixture and thinking for "
                      f"{args.budget_seconds:g} s…", file=sys.stderr)
                prepare_profile(data_dir, model=args.model, budget=args.budget_seconds,
                                theme=args.theme)
            shots = take_all(args.out, data_dir)
            if not no_tray:
                shots += take_tray(args.out, data_dir)
        except XvfbError as exc:
            print(f"screenshots: {exc}", file=sys.stderr)
            return 1
    for shot in shots:
        print(shot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
