"""The wheel and the sdist, built from this checkout the way a release is built.

``python -m build`` makes the sdist, then the wheel from the sdist, so the wheel proves
the sdist is complete too. ``packaging/check_dist.py`` (also run by ``make dist``)
compares both with the source tree. Installing the wheel into a fresh venv and asking it
a question is slower (minutes): ``.ci/run`` does that through ``packaging/smoke_test.sh``.
The build needs setuptools from the package index (or pip's cache), like any build.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LEAVE_OUT = (".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".mypy_cache",
             ".ruff_cache", ".pytest_cache", "screenshots", "bench-out")


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    """(wheel, sdist, build log), built from a copy of the checkout (it stays untouched)."""
    source = tmp_path_factory.mktemp("source") / "reverie"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(*LEAVE_OUT))
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(source)],
                          capture_output=True, text=True, timeout=900, check=False)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-4000:]
    wheels, sdists = list(out.glob("*.whl")), list(out.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(p.name for p in out.iterdir())
    return wheels[0], sdists[0], log


def test_wheel_and_sdist_carry_every_module_and_resource(dist: tuple[Path, Path, str]) -> None:
    wheel, sdist, _ = dist
    proc = subprocess.run([sys.executable, str(REPO / "packaging" / "check_dist.py"),
                           str(wheel), str(sdist)], capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert "license MIT" in proc.stdout


def test_the_build_warns_about_nothing_deprecated(dist: tuple[Path, Path, str]) -> None:
    """E.g. setuptools' warning about a license table instead of an SPDX string."""
    _, _, log = dist
    assert "deprecat" not in log.lower(), [line for line in log.splitlines()
                                           if "deprecat" in line.lower()]


def test_twine_accepts_both(dist: tuple[Path, Path, str]) -> None:
    wheel, sdist, _ = dist
    proc = subprocess.run([sys.executable, "-m", "twine", "check", "--strict", str(wheel),
                           str(sdist)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.count("PASSED") == 2
