"""Every on-disk location of a Reverie profile, decided in one place.

By default the folders come from platformdirs (app name ``Reverie``). ``--data-dir DIR``
or the ``REVERIE_HOME`` environment variable put every file of the profile under one
folder instead, which is what tests, benchmarks and portable installs use.

A folder that already exists belongs to the person: its mode is never changed (it may
be shared, or a sticky folder such as ``/tmp``). Only the folders Reverie creates are
made owner-only, and so are the files it writes (:func:`open_private`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

APP_NAME = "Reverie"
HOME_ENV = "REVERIE_HOME"
_OWNER_ONLY = 0o700
_PRIVATE_FILE = 0o600


class PathsError(ValueError):
    """A profile location that cannot be used; the message is one sentence for the person."""


@dataclass(frozen=True)
class Paths:
    """The folders and files of one profile. Creating it touches nothing on disk."""

    config_dir: Path
    data_dir: Path
    cache_dir: Path
    log_dir: Path

    @classmethod
    def resolve(cls, data_dir: str | os.PathLike[str] | None = None) -> Paths:
        """Paths for ``data_dir``, else ``$REVERIE_HOME``, else the platform defaults."""
        root = data_dir if data_dir is not None else os.environ.get(HOME_ENV) or None
        if root is not None and not str(root).strip():
            raise PathsError("--data-dir is empty; give the folder that holds (or will "
                             "hold) the profile, e.g. --data-dir ~/reverie-profile.")
        if root is not None:
            base = Path(root).expanduser().absolute()
            return cls(
                config_dir=base,
                data_dir=base,
                cache_dir=base / "cache",
                log_dir=base / "logs",
            )
        import platformdirs  # only here: ``reverie ask`` with --data-dir never needs it

        dirs = platformdirs.PlatformDirs(APP_NAME, appauthor=False)
        return cls(
            config_dir=Path(dirs.user_config_dir),
            data_dir=Path(dirs.user_data_dir),
            cache_dir=Path(dirs.user_cache_dir),
            log_dir=Path(dirs.user_log_dir),
        )

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.toml"

    @property
    def database_file(self) -> Path:
        return self.data_dir / "reverie.db"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def kv_dir(self) -> Path:
        """Saved prompt-prefix KV states (``llama_state_*_file``)."""
        return self.data_dir / "kv"

    @property
    def backups_dir(self) -> Path:
        return self.data_dir / "backups"

    @property
    def thinking_lock_file(self) -> Path:
        """Locked by the one process that thinks on this profile (see profile_lock)."""
        return self.data_dir / "thinking.lock"

    @property
    def continue_lock_file(self) -> Path:
        """Held by the one `reverie ask --continue` answering at a time, so two of them
        never interleave their turns in the conversation they continue."""
        return self.data_dir / "continue.lock"

    @property
    def log_file(self) -> Path:
        return self.log_dir / "reverie.log"

    def all_dirs(self) -> tuple[Path, ...]:
        return (
            self.config_dir,
            self.data_dir,
            self.cache_dir,
            self.log_dir,
            self.models_dir,
            self.kv_dir,
            self.backups_dir,
        )

    def ensure(self) -> Paths:
        """Create the folders of the profile that are missing, readable by their owner only
        (folders that exist keep their mode)."""
        for folder in self.all_dirs():
            make_private_dir(folder)
        return self


def make_private_dir(folder: Path) -> None:
    """Create ``folder`` (and missing parents) owner-only; an existing folder is untouched."""
    if folder.is_dir():
        return
    folder.parent.mkdir(parents=True, exist_ok=True)
    try:
        folder.mkdir(mode=_OWNER_ONLY)
    except FileExistsError:
        if not folder.is_dir():
            raise
        return  # made by another process meanwhile: it is theirs to have set
    if os.name == "posix":
        os.chmod(folder, _OWNER_ONLY)  # mkdir's mode is filtered by the umask


def open_private(path: Path, mode: str = "w", *, encoding: str | None = None) -> IO[Any]:
    """Open ``path`` for writing; a file it creates is owner-only (0600) from the first
    byte, not made private afterwards. ``mode`` is ``w``, ``wb``, ``a``, ``ab`` or ``r+b``."""
    flags = {"w": os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
             "a": os.O_WRONLY | os.O_CREAT | os.O_APPEND,
             "r+": os.O_RDWR | os.O_CREAT}[mode.replace("b", "")]
    flags |= getattr(os, "O_BINARY", 0) if "b" in mode else 0
    fd = os.open(path, flags, _PRIVATE_FILE)
    try:
        return os.fdopen(fd, mode, encoding=None if "b" in mode else encoding or "utf-8")
    except BaseException:
        os.close(fd)
        raise


def write_private(path: Path, data: str | bytes) -> None:
    """Replace ``path`` atomically with ``data``, owner-only (a crash leaves the old file)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open_private(tmp, "wb") as out:
            out.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
