"""Every on-disk location of a Reverie profile, decided in one place.

By default the folders come from platformdirs (app name ``Reverie``). ``--data-dir DIR``
or the ``REVERIE_HOME`` environment variable put every file of the profile under one
folder instead, which is what tests, benchmarks and portable installs use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "Reverie"
HOME_ENV = "REVERIE_HOME"
_OWNER_ONLY = 0o700


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
        if root is not None:
            base = Path(root).expanduser().absolute()
            return cls(
                config_dir=base,
                data_dir=base,
                cache_dir=base / "cache",
                log_dir=base / "logs",
            )
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
        """Create every folder of the profile, readable by its owner only."""
        for folder in self.all_dirs():
            make_private_dir(folder)
        return self


def make_private_dir(folder: Path) -> None:
    """Create ``folder`` (and parents) and restrict it to its owner."""
    folder.mkdir(parents=True, exist_ok=True, mode=_OWNER_ONLY)
    if os.name == "posix":
        os.chmod(folder, _OWNER_ONLY)
