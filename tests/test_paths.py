"""Every file of a profile lives where Paths says, private to its owner."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from assistant import cli
from assistant.app import Reverie
from assistant.paths import HOME_ENV, Paths

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def every_file(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def test_data_dir_puts_every_location_under_it(tmp_path: Path) -> None:
    paths = Paths.resolve(tmp_path / "profile")
    root = tmp_path / "profile"
    for location in (*paths.all_dirs(), paths.settings_file, paths.database_file,
                     paths.log_file):
        assert location.is_relative_to(root), location
    assert paths.settings_file == root / "settings.toml"
    assert paths.database_file == root / "reverie.db"
    assert not root.exists()  # resolving touches nothing


def test_reverie_home_is_used_and_data_dir_wins(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(HOME_ENV, str(tmp_path / "from-env"))
    assert Paths.resolve().data_dir == tmp_path / "from-env"
    assert Paths.resolve(tmp_path / "explicit").data_dir == tmp_path / "explicit"
    monkeypatch.setenv(HOME_ENV, "")
    assert "Reverie" in str(Paths.resolve().data_dir)


def test_defaults_follow_the_platform_folders() -> None:
    paths = Paths.resolve()
    home = Path(os.environ["HOME"])
    assert paths.config_dir == home / ".config" / "Reverie"
    assert paths.data_dir == home / ".local" / "share" / "Reverie"
    assert paths.cache_dir == home / ".cache" / "Reverie"


def test_ensure_makes_every_folder_private(tmp_path: Path) -> None:
    root = tmp_path / "profile"
    root.mkdir(mode=0o755)
    os.chmod(root, 0o755)
    paths = Paths.resolve(root).ensure()
    for folder in paths.all_dirs():
        assert folder.is_dir() and mode(folder) == 0o700, folder


def test_opening_a_profile_makes_private_settings_and_database(tmp_path: Path) -> None:
    app = Reverie.open(tmp_path / "profile")
    try:
        app.notes.add("private", "only for me")
    finally:
        app.close()
    assert mode(app.paths.settings_file) == 0o600
    assert mode(app.paths.database_file) == 0o600
    for folder in app.paths.all_dirs():
        assert mode(folder) == 0o700


@pytest.mark.parametrize("how", ["--data-dir", HOME_ENV])
def test_the_command_line_keeps_every_file_under_the_profile(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "profile"
    argv = ["note", "add", "Remember the milk"]
    if how == HOME_ENV:
        monkeypatch.setenv(HOME_ENV, str(root))
    else:
        argv = ["--data-dir", str(root), *argv]
    home = Path(os.environ["HOME"])
    assert cli.main(argv) == 0
    assert "Added note" in capsys.readouterr().out

    names = {p.relative_to(root).as_posix() for p in every_file(root)}
    assert {"settings.toml", "reverie.db", "logs/reverie.log"} <= names
    assert every_file(home) == []  # nothing went to the platform folders
    assert [p.name for p in tmp_path.iterdir()] == ["profile"]
    assert mode(root / "settings.toml") == mode(root / "reverie.db") == 0o600
