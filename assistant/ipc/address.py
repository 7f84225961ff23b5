"""Where the command socket of a profile lives.

One socket per profile (a hash of the resolved data folder, so two profiles can run
side by side) in ``$XDG_RUNTIME_DIR/reverie/`` when that folder is ours, else in
``/tmp/reverie-<uid>/``. Both folders are made owner-only; a folder that exists but
belongs to someone else or is open to others is refused rather than used, since the
socket's safety rests on the folder. A socket path must fit ``sockaddr_un`` (under
108 bytes), which is why the name is a short hash and not the profile's path.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

#: ``sockaddr_un.sun_path`` is 108 bytes on Linux (104 on macOS) including the NUL.
MAX_SOCKET_PATH = 100


class AddressError(OSError):
    """No safe folder for the socket; the message is one sentence for the person."""


def _uid() -> int:
    getuid = getattr(os, "getuid", None)
    return int(getuid()) if getuid is not None else 0


def data_folder(data_dir: str | None) -> Path | None:
    """The data folder of the profile named on the command line, as
    `assistant.paths.Paths.resolve` finds it (tests/ipc keep the two equal), without
    importing it: the terminal's client must start in as little time as it can. None
    for an empty ``--data-dir`` (the command itself then says what is wrong)."""
    root = data_dir if data_dir is not None else os.environ.get("REVERIE_HOME") or None
    if root is not None:
        return Path(root).expanduser().absolute() if str(root).strip() else None
    import platformdirs

    return Path(platformdirs.user_data_dir("Reverie", appauthor=False))


def profile_key(data_dir: Path) -> str:
    """A short, stable name for the profile in ``data_dir``."""
    return hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:16]


def _private_dir(folder: Path, *, create: bool) -> Path | None:
    """``folder`` if it is (or was just made) a real folder of ours that nobody else may
    enter; None if it does not exist and ``create`` is False."""
    if create:
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            pass
        except OSError as exc:
            raise AddressError(f"The folder {folder} for Reverie's command socket cannot "
                               f"be made ({exc.strerror or exc}); check {folder.parent}."
                               ) from exc
    try:
        info = folder.lstat()
    except FileNotFoundError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != _uid() or info.st_mode & 0o077:
        raise AddressError(f"The folder {folder} for Reverie's command socket belongs to "
                           "another user or is open to others; remove it (or set "
                           "XDG_RUNTIME_DIR to a private folder) and try again.")
    return folder


def _base(create: bool) -> Path | None:
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if runtime:
        root = Path(runtime)
        try:
            info = root.stat()
            ours = stat.S_ISDIR(info.st_mode) and info.st_uid == _uid()
        except OSError:
            ours = False
        if ours and len(str(root)) < MAX_SOCKET_PATH - 30:
            return _private_dir(root / "reverie", create=create)
    tmp = os.environ.get("TMPDIR") or "/tmp"  # not tempfile: it costs 20 ms to import
    return _private_dir(Path(tmp) / f"reverie-{_uid()}", create=create)


def socket_path(data_dir: Path, *, create: bool = False) -> Path | None:
    """The command socket of the profile in ``data_dir``; its folder is made when
    ``create`` (the server), else None when the folder does not exist (no server can
    be listening). Raises AddressError when the folder is not private."""
    base = _base(create)
    return None if base is None else base / f"{profile_key(data_dir)}.sock"
