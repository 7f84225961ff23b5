"""Drive the real Reverie window on a virtual X display (Xvfb + xdotool + ImageMagick).

Used by the ``xvfb`` tests and by ``python -m tests.gui.screenshot``. Everything here
talks to real processes: Xvfb picks a free display itself (``-displayfd``), Reverie
runs as ``python -m assistant --data-dir DIR``, keys go in through xdotool, and the
answer is read back from the profile's SQLite database.
"""

from __future__ import annotations

import os
import re
import select
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

REPO = Path(__file__).resolve().parents[2]
TOOLS = ("Xvfb", "xdotool", "import")
#: A real XEmbed system tray (trayer) and the tools that look into the window tree.
TRAY_TOOLS = ("trayer", "xwininfo", "convert")
#: An RGB pixel.
Pixel = tuple[int, int, int]
#: Qt's double-click interval (QStyleHints.mouseDoubleClickInterval; 400 ms on X11 without
#: a desktop's settings). A press this soon after the previous one, by the X server's
#: clock, is the second half of a double-click: Qt delivers it as a MouseButtonDblClick
#: only, and the tray icon opens its menu on a press, so the right-click would do nothing.
DOUBLE_CLICK_SECONDS = 0.4


class XvfbError(RuntimeError):
    """The virtual display or the app did not behave; the message says how."""


def missing_tools() -> list[str]:
    return [tool for tool in TOOLS if shutil.which(tool) is None]


def missing_tray_tools() -> list[str]:
    return [tool for tool in (*TOOLS, *TRAY_TOOLS) if shutil.which(tool) is None]


def wait_until(check, timeout: float, what: str, interval: float = 0.1):
    """Poll ``check`` until it returns something true; raise XvfbError after ``timeout``."""
    return _wait(check, timeout, what, interval)


#: Right-clicks tried before the tray menu is said not to open.
MENU_CLICKS = 3


def _wait(check, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise XvfbError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def _read_line(fd: int, timeout: float) -> str:
    data = b""
    deadline = time.monotonic() + timeout
    while not data.endswith(b"\n"):
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        chunk = os.read(fd, 64) if ready else b""
        if not chunk:
            break
        data += chunk
    return data.decode().strip()


class XvfbSession:
    """An Xvfb display for the duration of a ``with`` block."""

    def __init__(self, width: int = 1280, height: int = 800) -> None:
        self.size = (width, height)
        self.display = ""
        self._xvfb: subprocess.Popen[bytes] | None = None
        self.apps: list[subprocess.Popen[bytes]] = []
        #: time.monotonic() when the latest click had been sent (xdotool returned).
        self._clicked_at = float("-inf")

    def __enter__(self) -> XvfbSession:
        read_fd, write_fd = os.pipe()
        try:
            self._xvfb = subprocess.Popen(
                ["Xvfb", "-displayfd", str(write_fd), "-screen", "0",
                 f"{self.size[0]}x{self.size[1]}x24", "-nolisten", "tcp", "-noreset"],
                pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        finally:
            os.close(write_fd)
        try:
            number = _read_line(read_fd, timeout=15)
        finally:
            os.close(read_fd)  # only after the whole line: Xvfb dies if it cannot write
        if not number.isdigit():
            self.close()
            raise XvfbError("Xvfb did not report a display number")
        self.display = f":{number}"
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        for app in self.apps:
            if app.poll() is None:
                app.terminate()
                try:
                    app.wait(20)
                except subprocess.TimeoutExpired:
                    app.kill()
                    app.wait()
        if self._xvfb is not None and self._xvfb.poll() is None:
            self._xvfb.terminate()
            self._xvfb.wait(10)

    # -- processes on the display ---------------------------------------------------------
    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if k not in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY")}
        env.update(DISPLAY=self.display, QT_QPA_PLATFORM="xcb",
                   PYTHONPATH=os.pathsep.join(filter(None, [str(REPO),
                                                            env.get("PYTHONPATH")])))
        env.update(extra)
        return env

    def start_reverie(self, data_dir: Path, *args: str,
                      log: Path | None = None) -> subprocess.Popen[bytes]:
        """``python -m assistant --data-dir DATA_DIR ARGS`` on this display."""
        out = log.open("wb") if log is not None else subprocess.DEVNULL
        proc = subprocess.Popen([sys.executable, "-m", "assistant", "--data-dir",
                                 str(data_dir), *args], cwd=REPO, env=self.env(),
                                stdout=out, stderr=subprocess.STDOUT)
        self.apps.append(proc)
        return proc

    def xdotool(self, *args: str) -> str:
        done = subprocess.run(["xdotool", *args], env=self.env(), capture_output=True,
                              text=True, timeout=60, check=False)
        if done.returncode not in (0, 1):
            raise XvfbError(f"xdotool {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout.strip()

    def wait_for_window(self, name: str = "^Reverie$", timeout: float = 60.0) -> str:
        """The X window id of the first visible window whose title matches ``name``."""
        def find() -> str:
            found = self.xdotool("search", "--onlyvisible", "--name", name)
            return found.splitlines()[0] if found else ""

        return str(_wait(find, timeout, f"a window named {name!r}"))

    def focus(self, window: str) -> None:
        self.xdotool("windowfocus", "--sync", window)

    def type(self, text: str) -> None:
        self.xdotool("type", "--delay", "15", text)

    def key(self, *keys: str) -> None:
        self.xdotool("key", *keys)

    # -- a real system tray (XEmbed, trayer) ---------------------------------------------
    def start_trayer(self, timeout: float = 30.0) -> str:
        """Start trayer at the top right of the screen; the X window id of its panel."""
        proc = subprocess.Popen(
            ["trayer", "--edge", "top", "--align", "right", "--widthtype", "pixel",
             "--width", "160", "--height", "32", "--transparent", "false",
             "--SetDockType", "true", "--expand", "false"],
            env=self.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.apps.append(proc)

        def panel() -> str:
            if proc.poll() is not None:
                raise XvfbError(f"trayer exited with code {proc.returncode}")
            found = self.xdotool("search", "--onlyvisible", "--classname", "^panel$")
            return found.splitlines()[0] if found else ""

        return str(_wait(panel, timeout, "trayer's panel"))

    def window_tree(self, window: str = "root") -> str:
        """``xwininfo -tree`` of ``window`` (the whole screen by default)."""
        target = ["-root"] if window == "root" else ["-id", window]
        done = subprocess.run(["xwininfo", "-display", self.display, "-tree", *target],
                              capture_output=True, text=True, timeout=30, check=False)
        if done.returncode != 0:
            raise XvfbError(f"xwininfo failed: {done.stderr.strip()}")
        return done.stdout

    def mapped_windows(self, name: str) -> list[str]:
        """Ids of the mapped top-level windows titled exactly ``name``.

        Read with xwininfo rather than ``xdotool search``, which does not see Qt's
        override-redirect popups (menus) by name.
        """
        done = subprocess.run(["xwininfo", "-display", self.display, "-root", "-children"],
                              capture_output=True, text=True, timeout=30, check=True)
        ids = re.findall(r"^\s*(0x[0-9a-f]+) \"" + re.escape(name) + '"', done.stdout, re.M)
        mapped = []
        for window in ids:
            info = subprocess.run(["xwininfo", "-display", self.display, "-id", window],
                                  capture_output=True, text=True, timeout=30, check=False)
            if "Map State: IsViewable" in info.stdout:
                mapped.append(window)
        return mapped

    def single_click(self, window: str, button: str = "1") -> None:
        """Click ``button`` in ``window`` as a click of its own, never the second half of a
        double-click: a press within DOUBLE_CLICK_SECONDS of the previous click waits out
        the rest of that interval first. (Measured on the server's clock the gap is
        longer still: the previous press was sent before its xdotool returned.)"""
        wait = self._clicked_at + DOUBLE_CLICK_SECONDS - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self.xdotool("mousemove", "--window", window, "8", "8", "click", button)
        self._clicked_at = time.monotonic()

    def open_tray_menu(self, icon: str) -> str:
        """Right-click the docked ``icon``; the menu's window id once it is mapped.

        For tray mode (no main window): the menu is the top-level window titled
        "Reverie" that the click maps (a notification balloon may be mapped already).
        """
        before = set(self.mapped_windows("Reverie"))
        # A right-click right after a popup closed (Escape on the quick-ask window) is
        # sometimes lost under Xvfb with no window manager (about 1 time in 4 here): the
        # pointer grab is still being released. Click again, as a person would.
        for attempt in range(MENU_CLICKS):
            self.single_click(icon, "3")
            try:
                new = _wait(lambda: [w for w in self.mapped_windows("Reverie")
                                     if w not in before], 30 // MENU_CLICKS, "the tray menu")
            except XvfbError:
                if attempt == MENU_CLICKS - 1:
                    raise
                continue
            return str(new[0])
        raise XvfbError("the tray menu did not open")

    def root(self) -> str:
        """The root window's id, as xwininfo writes it."""
        found = re.search(r"Root window id: (0x[0-9a-f]+)", self.window_tree())
        if found is None:
            raise XvfbError("xwininfo did not name the root window")
        return found.group(1)

    def docked_icon(self, panel: str, name: str = "Reverie") -> str:
        """The id of the window named ``name`` inside the tray's panel, or "" if none.

        A docked XEmbed icon is reparented into the panel, so it is one of the panel's
        descendants in the window tree, not a child of the root window.
        """
        pattern = re.compile(r"^\s*(0x[0-9a-f]+) \"" + re.escape(name) + '"', re.M)
        found = pattern.search(self.window_tree(panel))
        return found.group(1) if found else ""

    def pixels(self, window: str = "root") -> list[Pixel]:
        """Every pixel of a screenshot of ``window``, row by row."""
        done = subprocess.run(
            ["import", "-display", self.display, "-window", window, "-depth", "8", "rgb:-"],
            capture_output=True, timeout=60, check=True, env=self.env())
        data = done.stdout
        return [(data[i], data[i + 1], data[i + 2]) for i in range(0, len(data) - 2, 3)]

    def screenshot(self, path: Path, window: str = "root",
                   crop: tuple[int, int, int, int] | None = None) -> Path:
        """``import -window WINDOW PATH`` (the whole screen by default).

        ``crop`` is (width, height, x, y) of the part to keep.
        """
        path.parent.mkdir(parents=True, exist_ok=True)
        area = ["-crop", "{}x{}+{}+{}".format(*crop)] if crop is not None else []
        subprocess.run(["import", "-display", self.display, "-window", window, *area,
                        str(path)], check=True, timeout=60, env=self.env())
        return path


def count(pixels: list[Pixel], colour: str, tolerance: int = 40) -> int:
    """How many pixels are within ``tolerance`` (per channel) of ``colour`` ("#rrggbb")."""
    want = tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return sum(1 for p in pixels
               if all(abs(a - b) <= tolerance for a, b in zip(p, want, strict=True)))


def app_icon_pixels(pixels: list[Pixel]) -> int:
    """How many pixels have the app icon's indigo (no tray background or mark has it)."""
    return sum(1 for r, g, b in pixels if b > 140 and b - g > 80 and b - r > 50)


def file_pixels(path: Path) -> list[Pixel]:
    """Every pixel of a picture file, row by row."""
    data = subprocess.run(["convert", str(path), "-depth", "8", "rgb:-"],
                          capture_output=True, timeout=60, check=True).stdout
    return [(data[i], data[i + 1], data[i + 2]) for i in range(0, len(data) - 2, 3)]


def messages(data_dir: Path) -> list[tuple[str, str]]:
    """(role, content) of every stored message, oldest first (read-only)."""
    db = data_dir / "reverie.db"
    if not db.exists():
        return []
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return list(conn.execute("SELECT role, content FROM message ORDER BY id"))
    except sqlite3.OperationalError:  # not migrated yet
        return []


def ask_in_window(session: XvfbSession, window: str, data_dir: Path, question: str, *,
                  timeout: float = 120.0) -> str:
    """Type ``question`` and press Return until it is sent; return the stored answer.

    Return does nothing while the model loads (the text stays in the box), so it is
    pressed again until the question shows up in the database.
    """
    before = len(messages(data_dir))
    session.focus(window)
    session.type(question)

    def sent() -> bool:
        if any(role == "user" and text == question for role, text in
               messages(data_dir)[before:]):
            return True
        session.key("Return")
        return False

    _wait(sent, timeout, "the question to be sent", interval=0.5)

    def answered() -> str:
        new = messages(data_dir)[before:]
        return next((text for role, text in new if role == "assistant"), "")

    return str(_wait(answered, timeout, "the answer", interval=0.2))


def wait_exit(proc: subprocess.Popen[bytes], timeout: float = 30.0) -> int:
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        raise XvfbError(f"Reverie did not exit within {timeout:.0f} s") from None
