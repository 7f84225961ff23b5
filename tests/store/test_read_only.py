"""A read-only profile opens read-only: lookups and answers work, nothing is written, and
whatever would write says why in one sentence. Run as an unprivileged user, since root
ignores file modes."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant import cli
from assistant.app import Reverie
from assistant.llm.fake import FakeEngine

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
REPO = Path(__file__).resolve().parent.parent.parent


def _as_user() -> list[str]:
    """A command prefix that drops root's privileges (nothing when not root)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv is needed to drop root's privileges")
    import grp

    group = "nogroup" if "nogroup" in {g.gr_name for g in grp.getgrall()} else "nobody"
    return ["setpriv", "--reuid=nobody", f"--regid={group}", "--clear-groups"]


@pytest.fixture
def profile() -> Iterator[Path]:
    """A profile with one note, owned by the unprivileged user, in a folder it can reach."""
    base = Path(tempfile.mkdtemp(prefix="reverie-ro-"))
    os.chmod(base, 0o755)
    root = base / "profile ü"
    app = Reverie.open(root)
    try:
        app.notes.add("milk", "Remember the oat milk")
    finally:
        app.close()
    if os.geteuid() == 0:
        _as_user()
        import grp

        group = "nogroup" if "nogroup" in {g.gr_name for g in grp.getgrall()} else "nobody"
        for p in [root, *root.rglob("*")]:
            shutil.chown(p, "nobody", group)
    yield root
    for p in [root, *root.rglob("*")]:
        if p.is_dir():
            os.chmod(p, 0o700)
    shutil.rmtree(base)


def run(root: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*_as_user(), sys.executable, "-m", "assistant", "--data-dir",
                           str(root), *argv], capture_output=True, text=True, cwd=REPO,
                          timeout=120, check=False, env={**os.environ, "HOME": str(root.parent)})


def snapshot(root: Path) -> dict[str, tuple[int, str]]:
    """Mode and content of every file but the log (which a writable folder may take)."""
    return {p.relative_to(root).as_posix(): (stat.S_IMODE(p.stat().st_mode),
                                             hashlib.sha256(p.read_bytes()).hexdigest())
            for p in root.rglob("*") if p.is_file() and p.parent.name != "logs"}


@pytest.mark.parametrize("how", ["file", "folder"])
def test_a_read_only_profile_is_read_but_never_written(profile: Path, how: str) -> None:
    db = profile / "reverie.db"
    if how == "file":
        os.chmod(db, 0o400)
    else:
        for folder in [profile, *(p for p in profile.rglob("*") if p.is_dir())]:
            os.chmod(folder, 0o500)
    before = snapshot(profile)

    listed = run(profile, "memory", "list")
    assert listed.returncode == 0, listed.stderr
    assert "Traceback" not in listed.stderr

    added = run(profile, "note", "add", "a new note")
    assert added.returncode == 1, added.stderr
    lines = [line for line in added.stderr.splitlines() if line.startswith("reverie: ")]
    assert lines and "may not write" in lines[-1] and "Traceback" not in added.stderr

    assert snapshot(profile) == before  # not one byte or mode changed, nothing created
    if how == "file":
        assert stat.S_IMODE(db.stat().st_mode) == 0o400


def test_ask_on_a_read_only_database_answers_and_says_it_was_not_saved(
        data_dir: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    app = Reverie.open(data_dir)
    app.notes.add("milk", "Remember the oat milk")
    app.close()
    before = hashlib.sha256((data_dir / "reverie.db").read_bytes()).hexdigest()
    monkeypatch.setattr("assistant.store.db.is_writable", lambda _path: False)
    monkeypatch.setattr(Reverie, "start_engine", lambda self, progress=None: FakeEngine(
        rules=[("milk", "Oat milk.")]))
    assert cli.main(["--data-dir", str(data_dir), "ask", "Which milk?"]) == 0
    out, err = capsys.readouterr()
    assert "Oat milk." in out and "read-only, so this question and its answer were not saved" in err
    assert cli.main(["--data-dir", str(data_dir), "note", "add", "x"]) == 1
    assert "may not write" in capsys.readouterr().err
    assert hashlib.sha256((data_dir / "reverie.db").read_bytes()).hexdigest() == before
