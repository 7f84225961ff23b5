"""Start Reverie in the tray at login: opt-in, off by default, one mechanism per OS.

- Linux and other XDG desktops: ``$XDG_CONFIG_HOME/autostart/reverie.desktop``.
- Windows: the ``Reverie`` value of ``HKCU\\Software\\Microsoft\\Windows\\CurrentVersion\\Run``.
- macOS: ``~/Library/LaunchAgents/app.reverie.plist`` (RunAtLoad).

The command always carries ``--tray`` (and ``--data-dir`` when the profile is not the
default one), so logging in never throws a window at the person. Plain Python: no Qt.
"""

from __future__ import annotations

import contextlib
import logging
import os
import plistlib
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

log = logging.getLogger("assistant.autostart")

DESKTOP_FILE = "reverie.desktop"
RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
RUN_VALUE = "Reverie"
LAUNCH_AGENT_LABEL = "app.reverie"


class AutostartError(RuntimeError):
    """Autostart could not be changed; the message says why."""


def launch_command(data_dir: str | os.PathLike[str] | None = None) -> list[str]:
    """How login starts Reverie: this interpreter running the package, in the tray."""
    frozen = getattr(sys, "frozen", False)
    command = [sys.executable] if frozen else [sys.executable, "-m", "assistant"]
    if data_dir is not None:
        command += ["--data-dir", str(Path(data_dir).expanduser().absolute())]
    return [*command, "--tray"]


def _platform(platform: str | None) -> str:
    platform = platform or sys.platform
    if platform.startswith("win"):
        return "windows"
    if platform == "darwin":
        return "macos"
    return "xdg"


# -- XDG ----------------------------------------------------------------------------------
def xdg_autostart_file(env: dict[str, str] | None = None) -> Path:
    env = dict(os.environ) if env is None else env
    config = env.get("XDG_CONFIG_HOME") or str(Path(env.get("HOME", "~")).expanduser()
                                               / ".config")
    return Path(config) / "autostart" / DESKTOP_FILE


def _desktop_exec(command: Sequence[str]) -> str:
    """The Exec= line: arguments quoted as the Desktop Entry spec asks."""
    def quote(arg: str) -> str:
        if arg and all(c.isalnum() or c in "-_./=:+," for c in arg):
            return arg
        escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`")
        return '"' + escaped.replace("$", "\\$") + '"'

    return " ".join(quote(a) for a in command).replace("%", "%%")


def desktop_entry(command: Sequence[str]) -> str:
    return "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        "Name=Reverie",
        "Comment=A private assistant that thinks while you are away",
        f"Exec={_desktop_exec(command)}",
        "Icon=reverie",
        "Terminal=false",
        "X-GNOME-Autostart-enabled=true",
        "",
    ])


# -- macOS --------------------------------------------------------------------------------
def launch_agent_file(home: Path | None = None) -> Path:
    home = home or Path.home()
    return home / "Library" / "LaunchAgents" / f"{LAUNCH_AGENT_LABEL}.plist"


def launch_agent(command: Sequence[str]) -> bytes:
    return plistlib.dumps({"Label": LAUNCH_AGENT_LABEL, "ProgramArguments": list(command),
                           "RunAtLoad": True, "ProcessType": "Interactive"})


# -- Windows ------------------------------------------------------------------------------
def _windows_command_line(command: Sequence[str]) -> str:
    import subprocess

    return subprocess.list2cmdline(list(command))


def _winreg_set(value: str | None) -> None:
    import winreg  # type: ignore[import-not-found,unused-ignore]

    with winreg.CreateKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:  # type: ignore[attr-defined,unused-ignore]
        if value is None:
            with contextlib.suppress(FileNotFoundError):
                winreg.DeleteValue(key, RUN_VALUE)  # type: ignore[attr-defined,unused-ignore]
        else:
            winreg.SetValueEx(key, RUN_VALUE, 0, winreg.REG_SZ, value)  # type: ignore[attr-defined,unused-ignore]


def _winreg_get() -> str | None:
    import winreg  # type: ignore[import-not-found,unused-ignore]

    try:
        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY) as key:  # type: ignore[attr-defined,unused-ignore]
            value, _kind = winreg.QueryValueEx(key, RUN_VALUE)  # type: ignore[attr-defined,unused-ignore]
            return str(value)
    except FileNotFoundError:
        return None


# -- the switch ---------------------------------------------------------------------------
def is_enabled(*, platform: str | None = None) -> bool:
    """Whether Reverie starts at login (reads the real file or registry value)."""
    kind = _platform(platform)
    if kind == "windows":
        return _winreg_get() is not None
    if kind == "macos":
        return launch_agent_file().is_file()
    return xdg_autostart_file().is_file()


def set_enabled(enabled: bool, data_dir: str | os.PathLike[str] | None = None, *,
                platform: str | None = None) -> Path | str:
    """Turn autostart on or off; returns the file (or registry value) it changed."""
    kind = _platform(platform)
    command = launch_command(data_dir)
    try:
        if kind == "windows":
            _winreg_set(_windows_command_line(command) if enabled else None)
            return f"HKCU\\{RUN_KEY}\\{RUN_VALUE}"
        target = launch_agent_file() if kind == "macos" else xdg_autostart_file()
        if not enabled:
            target.unlink(missing_ok=True)
            log.info("autostart off (%s removed)", target)
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        data = launch_agent(command) if kind == "macos" else desktop_entry(command).encode()
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, target)
        log.info("autostart on: %s runs %s", target, shlex.join(command))
        return target
    except OSError as exc:
        raise AutostartError(f"Could not change autostart at login: {exc}.") from exc
