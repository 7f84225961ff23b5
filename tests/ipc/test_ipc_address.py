"""Where a profile's command socket is (assistant.ipc.address), and which words the
launcher sends to a running app without parsing them (assistant.cli.launch)."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.cli.launch import command_of
from assistant.ipc.address import data_folder, profile_key, socket_path
from assistant.paths import Paths
from assistant.recall.quick import DATABASE_NAME


@pytest.mark.parametrize("given", [None, "rel/profile", "~/p", "/abs/p"])
@pytest.mark.parametrize("home", [None, "/from/env"])
def test_the_data_folder_is_the_one_paths_resolves(monkeypatch: pytest.MonkeyPatch,
                                                   given: str | None, home: str | None
                                                   ) -> None:
    if home is None:
        monkeypatch.delenv("REVERIE_HOME", raising=False)
    else:
        monkeypatch.setenv("REVERIE_HOME", home)
    folder = data_folder(given)
    assert folder == Paths.resolve(given).data_dir
    assert folder / DATABASE_NAME == Paths.resolve(given).database_file


def test_an_empty_data_dir_is_left_to_the_command() -> None:
    assert data_folder("  ") is None


def test_two_profiles_two_sockets_under_the_runtime_folder(runtime_dir: Path,
                                                           tmp_path: Path) -> None:
    one, two = socket_path(tmp_path / "a", create=True), socket_path(tmp_path / "b")
    assert one is not None and two is not None and one != two
    assert one.parent == runtime_dir / "reverie"
    assert one.name == f"{profile_key(tmp_path / 'a')}.sock"


def test_without_a_runtime_folder_a_private_one_in_tmp(monkeypatch: pytest.MonkeyPatch,
                                                       tmp_path: Path) -> None:
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    assert socket_path(tmp_path / "p") is None  # nothing made: no server can listen
    path = socket_path(tmp_path / "p", create=True)
    assert path is not None and path.parent.name.startswith("reverie-")
    assert path.parent.stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize(("words", "named"), [
    (["ask", "q"], (None, "ask")),
    (["--data-dir", "/p", "--debug", "note", "add", "x"], ("/p", "note")),
    (["--data-dir=/p", "doctor"], ("/p", "doctor")),
    (["--version"], None),
    (["-h"], None),
    (["--data-dir"], None),
    ([], None),
])
def test_the_command_named_by_the_words(words: list[str],
                                        named: tuple[str | None, str] | None) -> None:
    assert command_of(words) == named
