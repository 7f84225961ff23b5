"""Every file of a profile lives where Paths says, private to its owner."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from assistant import cli
from assistant.app import Reverie
from assistant.paths import HOME_ENV, Paths, PathsError, open_private, write_private

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


def test_ensure_makes_the_folders_it_creates_private(tmp_path: Path) -> None:
    paths = Paths.resolve(tmp_path / "new" / "profile").ensure()
    for folder in paths.all_dirs():
        assert folder.is_dir() and mode(folder) == 0o700, folder


@pytest.mark.parametrize("existing", [0o755, 0o1777, 0o2770])
def test_an_existing_folder_keeps_its_mode(tmp_path: Path, existing: int) -> None:
    root = tmp_path / "shared"
    root.mkdir()
    os.chmod(root, existing)
    models = root / "models"
    models.mkdir()
    os.chmod(models, 0o750)
    paths = Paths.resolve(root).ensure()
    assert mode(root) == existing
    assert mode(models) == 0o750
    for folder in (paths.kv_dir, paths.backups_dir, paths.cache_dir, paths.log_dir):
        assert mode(folder) == 0o700, folder


def test_the_command_line_leaves_an_existing_folder_mode_alone(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "sticky ünï"
    root.mkdir()
    os.chmod(root, 0o1777)
    assert cli.main(["--data-dir", str(root), "note", "add", "hello"]) == 0
    assert mode(root) == 0o1777
    assert mode(root / "reverie.db") == mode(root / "settings.toml") == 0o600


@pytest.mark.parametrize("value", ["", "  "])
def test_an_empty_data_dir_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str], value: str) -> None:
    monkeypatch.chdir(tmp_path)
    assert cli.main(["--data-dir", value, "note", "add", "hello"]) == 2
    err = capsys.readouterr().err
    assert "--data-dir is empty" in err and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(PathsError):
        Paths.resolve(value)


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


def test_private_files_are_owner_only_from_the_start(tmp_path: Path) -> None:
    with open_private(tmp_path / "a.log", "a") as out:
        assert mode(tmp_path / "a.log") == 0o600
        out.write("x")
    write_private(tmp_path / "b.json", "{}")
    assert mode(tmp_path / "b.json") == 0o600
    assert (tmp_path / "b.json").read_text() == "{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.log", "b.json"]


def test_the_log_and_its_rotated_files_are_owner_only(tmp_path: Path) -> None:
    import logging

    from assistant.app import configure_logging

    paths = Paths.resolve(tmp_path / "profile").ensure()
    root = logging.getLogger("assistant")
    before = list(root.handlers)
    configure_logging(paths)
    try:
        handler = next(h for h in root.handlers if h not in before)
        assert isinstance(handler, logging.handlers.RotatingFileHandler)
        root.info("first")
        handler.doRollover()
        root.info("second")
        handler.flush()
    finally:
        for h in root.handlers[:]:
            if h not in before:
                root.removeHandler(h)
                h.close()
    logs = sorted(p.name for p in paths.log_dir.iterdir())
    assert logs == ["reverie.log", "reverie.log.1"]
    assert all(mode(paths.log_dir / name) == 0o600 for name in logs)


def test_the_verified_marker_is_owner_only(tmp_path: Path) -> None:
    from assistant.llm.bundled import read_verified_sha256, record_verified

    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    record_verified(model, "abc")
    assert mode(tmp_path / "m.gguf.verified") == 0o600
    assert read_verified_sha256(model) == "abc"
