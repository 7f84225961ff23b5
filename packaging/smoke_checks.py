"""The checks every packaged Reverie must pass (called by smoke_test.sh / smoke_test.ps1).

    python smoke_checks.py --exe PATH --home DIR [--gui-exe PATH] [--screenshot PNG]
    python smoke_checks.py --exe PATH --startup-trials 5 [--baseline CMD]
                                                  (time to window, median of 5)

Runs the installed app the way a person would, with a fresh HOME and nothing of the
build environment: ``--version``, ``doctor --json`` (the bundled model loads, the
database is created in the platform's data folder, an idle backend is reported), one
``ask --json`` (the answer mentions Paris), and the window under a display, with a
screenshot. Only the standard library is needed on Linux; on Windows and macOS the
screenshot uses Pillow (``pip install pillow``).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

WINDOW_TITLE = "Reverie"
LINUX = sys.platform.startswith("linux")


class SmokeFailure(Exception):
    """One check failed; the message says which and what was seen."""


def say(message: str) -> None:
    print(f"[smoke] {message}", file=sys.stderr, flush=True)


def clean_env(home: Path, display: str | None) -> dict[str, str]:
    """A fresh session: nothing of the build venv, a new HOME, the given display."""
    # Windows: platformdirs asks the shell for the known folders (not the environment),
    # so the profile goes to the runner's own, fresh, %LOCALAPPDATA%.
    keep = ("PATH", "SystemRoot", "SYSTEMROOT", "TEMP", "TMP", "WINDIR", "COMSPEC",
            "PATHEXT", "NUMBER_OF_PROCESSORS", "PROCESSOR_ARCHITECTURE", "USERPROFILE",
            "APPDATA", "LOCALAPPDATA")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env["HOME"] = str(home)
    env["LANG"] = "C.UTF-8"
    if display:
        env["DISPLAY"] = display
    return env


def expected_data_dir(home: Path) -> Path:
    if sys.platform == "win32":
        return Path(os.environ["LOCALAPPDATA"]) / "Reverie"
    if sys.platform == "darwin":
        return home / "Library" / "Application Support" / "Reverie"
    return home / ".local" / "share" / "Reverie"


def run(cmd: list[str], env: dict[str, str], timeout: float,
        ok_codes: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
    say("$ " + " ".join(shlex.quote(c) for c in cmd))
    try:
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout,
                              check=False)
    except subprocess.TimeoutExpired as exc:
        raise SmokeFailure(f"{cmd[-1]!r} did not finish within {timeout:.0f} s") from exc
    if "Traceback (most recent call last)" in proc.stderr:
        raise SmokeFailure(f"a traceback on stderr:\n{proc.stderr}")
    if proc.returncode not in ok_codes:
        raise SmokeFailure(f"exit code {proc.returncode}\nstdout: {proc.stdout}\n"
                           f"stderr: {proc.stderr}")
    return proc


def check_version(exe: list[str], env: dict[str, str], version: str | None) -> None:
    out = run([*exe, "--version"], env, 60).stdout.strip()
    if not re.fullmatch(r"reverie \S+", out) or (version and out != f"reverie {version}"):
        raise SmokeFailure(f"--version printed {out!r}, expected 'reverie {version or 'X'}'")
    say(f"version: {out}")


def check_doctor(exe: list[str], env: dict[str, str], home: Path) -> None:
    # Exit code 1 means a check failed: the report below says which one.
    out = run([*exe, "doctor", "--json"], env, 240, ok_codes=(0, 1)).stdout
    try:
        report = json.loads(out)
    except ValueError as exc:
        raise SmokeFailure(f"doctor --json did not print JSON: {out[:500]!r}") from exc
    model, db, idle, tray = (report.get(k) or {} for k in ("model", "database", "idle", "tray"))
    problems = []
    if report.get("ok") is not True:
        problems.append("ok is not true")
    if model.get("loadable") is not True:
        problems.append(f"the bundled model did not load: {model.get('error')}")
    if db.get("integrity") != "ok" or db.get("schema") != db.get("schema_expected"):
        problems.append(f"database: {db}")
    database = Path(report.get("paths", {}).get("database", ""))
    if database != expected_data_dir(home) / "reverie.db" or not database.is_file():
        problems.append(f"the database is at {database}, expected a new file in "
                        f"{expected_data_dir(home)}")
    if not idle.get("backend"):
        problems.append(f"no idle backend reported: {idle}")
    # The tray check runs `reverie -c CODE` in a child: in the bundle that must reach Qt.
    if env.get("DISPLAY") and tray.get("reason") == "Qt could not start on this display":
        problems.append(f"the tray check could not start Qt: {tray}")
    if problems:
        raise SmokeFailure("doctor: " + "; ".join(problems))
    say(f"doctor: model {model.get('name')} loaded in {model.get('load_ms')} ms, "
        f"database {db.get('schema')} at {database}, idle backend {idle.get('backend')}, "
        f"tray {tray}")


def check_ask(exe: list[str], env: dict[str, str]) -> None:
    out = run([*exe, "ask", "What is the capital of France?", "--json"], env, 240).stdout
    try:
        answer = json.loads(out)
    except ValueError as exc:
        raise SmokeFailure(f"ask --json did not print JSON: {out[:500]!r}") from exc
    text = str(answer.get("answer", ""))
    if "paris" not in text.lower():
        raise SmokeFailure(f"the answer does not mention Paris: {answer}")
    say(f"ask: {text.strip()[:120]!r} ({answer.get('source')}, "
        f"{answer.get('total_ms')} ms, model {answer.get('model')})")


# --- the window ------------------------------------------------------------------------

_XVFB: list[subprocess.Popen[bytes]] = []


class DisplayLost(SmokeFailure):
    """Our Xvfb died under the app (another program on the machine stopped it)."""


@contextmanager
def display() -> Iterator[str | None]:
    """An Xvfb display on Linux (its number chosen by Xvfb itself); the desktop elsewhere."""
    if not LINUX:
        yield None
        return
    if not shutil.which("Xvfb"):
        raise SmokeFailure("Xvfb is not installed (apt-get install xvfb xdotool imagemagick)")
    read_fd, write_fd = os.pipe()
    # -noreset: by default Xvfb resets when its last client leaves, and a client that
    # connects during the reset is refused. xdotool polling for the window is often that
    # last client, so without it the app failed "could not connect to display" (5 in 50
    # starts here, 0 in 80 with -noreset).
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0",
                             "1280x800x24", "-nolisten", "tcp", "-noreset"],
                            pass_fds=(write_fd,),
                            stderr=subprocess.DEVNULL)
    os.close(write_fd)
    try:
        with os.fdopen(read_fd) as pipe:
            number = pipe.readline().strip()
        if not number:
            raise SmokeFailure("Xvfb did not start")
        _XVFB.append(xvfb)
        yield f":{number}"
    finally:
        if xvfb in _XVFB:
            _XVFB.remove(xvfb)
        xvfb.terminate()
        xvfb.wait(10)


def find_window(proc: subprocess.Popen[bytes], env: dict[str, str]) -> bool:
    if LINUX:
        found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name",
                                f"^{WINDOW_TITLE}"], env=env, capture_output=True,
                               check=False)
        return found.returncode == 0 and bool(found.stdout.strip())
    if sys.platform == "win32":
        return _win_find_window(proc.pid)
    return _mac_find_window(proc.pid)


def _win_find_window(pid: int) -> bool:
    user32 = ctypes.windll.user32  # type: ignore[attr-defined]
    found = []
    proto = ctypes.WINFUNCTYPE(ctypes.c_bool, ctypes.c_void_p, ctypes.c_void_p)  # type: ignore[attr-defined]

    def visit(hwnd: int, _: int) -> bool:
        if user32.IsWindowVisible(hwnd):
            buf = ctypes.create_unicode_buffer(256)
            user32.GetWindowTextW(hwnd, buf, 256)
            if buf.value.startswith(WINDOW_TITLE):
                found.append(hwnd)
        return True

    user32.EnumWindows(proto(visit), 0)
    return bool(found)


def _mac_find_window(pid: int) -> bool:
    from Quartz import (  # pyobjc-framework-Quartz
        CGWindowListCopyWindowInfo,
        kCGNullWindowID,
        kCGWindowListOptionOnScreenOnly,
    )

    windows = CGWindowListCopyWindowInfo(kCGWindowListOptionOnScreenOnly, kCGNullWindowID)
    return any(int(w.get("kCGWindowOwnerPID", -1)) == pid
               and int(w.get("kCGWindowLayer", 1)) == 0 for w in windows)


def screenshot(path: Path, env: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if LINUX:
        subprocess.run(["import", "-window", "root", str(path)], env=env, check=True)
    elif sys.platform == "darwin":
        subprocess.run(["screencapture", "-x", str(path)], check=True)
    else:
        from PIL import ImageGrab

        ImageGrab.grab().save(path)


def open_window(exe: list[str], env: dict[str, str], timeout: float = 90
                ) -> tuple[subprocess.Popen[bytes], float]:
    """Start the app; return it and the seconds until its window was on screen."""
    started = time.perf_counter()
    proc = subprocess.Popen(exe, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while time.perf_counter() - started < timeout:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            if any(x.poll() is not None for x in _XVFB):
                raise DisplayLost(f"the Xvfb display went away under the app:\n{err}")
            raise SmokeFailure(f"the app exited with {proc.returncode} before its window "
                               f"appeared:\n{err}")
        if find_window(proc, env):
            return proc, time.perf_counter() - started
        time.sleep(0.05)
    proc.kill()
    raise SmokeFailure(f"no window titled {WINDOW_TITLE!r} within {timeout:.0f} s")


def close_app(proc: subprocess.Popen[bytes]) -> str:
    """Quit like Ctrl+C in a terminal (the app quits cleanly on SIGINT); return stderr."""
    if proc.poll() is None:
        if sys.platform == "win32":
            proc.terminate()
        else:
            proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise SmokeFailure("the app did not quit within 30 s of SIGINT") from None
    return err.decode(errors="replace")


def check_gui(exe: list[str], home: Path, shot: Path) -> None:
    try:
        _check_gui(exe, home, shot)
    except DisplayLost as exc:
        # Not the app's fault: say so and try once more on a new display.
        say(f"{exc}; trying again on a new display")
        _check_gui(exe, home, shot)


def _check_gui(exe: list[str], home: Path, shot: Path) -> None:
    with display() as disp:
        env = clean_env(home, disp)
        proc, seconds = open_window(exe, env)
        say(f"window on screen after {seconds:.2f} s")
        try:
            time.sleep(3)  # let the model finish loading so the screenshot shows the app ready
            screenshot(shot, env)
        finally:
            err = close_app(proc)
        if "Traceback (most recent call last)" in err:
            raise SmokeFailure(f"a traceback on the app's stderr:\n{err}")
        if sys.platform != "win32" and proc.returncode != 0:
            raise SmokeFailure(f"the app exited with {proc.returncode} after SIGINT:\n{err}")
        say(f"screenshot: {shot}")


def startup_trials(commands: dict[str, list[str]], trials: int) -> None:
    """Time to window, ``trials`` times per command, each a first start with a fresh HOME.

    The commands take turns (A, B, A, B...) so a busy machine slows them alike.
    """
    times: dict[str, list[float]] = {name: [] for name in commands}
    with display() as disp:
        for _ in range(trials):
            for name, exe in commands.items():
                with tempfile.TemporaryDirectory(prefix="reverie-start-") as tmp:
                    proc, seconds = open_window(exe, clean_env(Path(tmp), disp))
                    close_app(proc)
                times[name].append(seconds)
                say(f"{name}: window after {seconds:.3f} s")
    result = {name: {"command": commands[name], "median_s": round(statistics.median(t), 3),
                     "min_s": round(min(t), 3), "max_s": round(max(t), 3),
                     "all_s": [round(x, 3) for x in t]} for name, t in times.items()}
    if "baseline" in result:
        result["ratio"] = round(result["packaged"]["median_s"]
                                / result["baseline"]["median_s"], 2)
    print(json.dumps(result, indent=2))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--exe", required=True, help="the command-line executable (or a "
                        "command line, quoted)")
    parser.add_argument("--gui-exe", help="the windowed executable (default: --exe)")
    parser.add_argument("--home", type=Path, help="a fresh, empty HOME for the checks")
    parser.add_argument("--version", help="the version --version must print")
    parser.add_argument("--screenshot", type=Path, help="where to save the window PNG")
    parser.add_argument("--startup-trials", type=int, metavar="N",
                        help="only measure the time to window N times")
    parser.add_argument("--baseline", metavar="CMD", help="with --startup-trials: also "
                        "time this command (e.g. the development app), taking turns")
    args = parser.parse_args()
    exe = [args.exe] if Path(args.exe).exists() else shlex.split(args.exe)
    gui_exe = [args.gui_exe] if args.gui_exe else exe
    try:
        if args.startup_trials:
            commands = {"packaged": gui_exe}
            if args.baseline:
                commands["baseline"] = shlex.split(args.baseline)
            startup_trials(commands, args.startup_trials)
            return 0
        if args.home is None or args.screenshot is None:
            parser.error("--home and --screenshot are needed for the checks")
        args.home.mkdir(parents=True, exist_ok=True)
        if any(args.home.iterdir()):
            raise SmokeFailure(f"{args.home} is not empty; give a fresh HOME")
        plain = clean_env(args.home, None)
        check_version(exe, plain, args.version)
        with display() as disp:
            check_doctor(exe, clean_env(args.home, disp), args.home)
        check_ask(exe, plain)
        check_gui(gui_exe, args.home, args.screenshot)
    except SmokeFailure as exc:
        print(f"[smoke] FAILED: {exc}", file=sys.stderr, flush=True)
        return 1
    say("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
