"""Build hook: the wheel carries the top-level ``resources/`` folder as ``assistant/_resources``.

Everything else is declared in pyproject.toml. ``resources/`` stays at the top of the
repository (the PyInstaller spec and the source checkout read it there); a wheel has no
place outside its packages, so ``build_py`` copies the folder into the built package,
where `assistant.resources.resource_dir` looks second. An editable install reads the
checkout's folder directly and copies nothing. MANIFEST.in puts the folder in the sdist,
so a wheel built from the sdist carries it too.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

RESOURCES = Path(__file__).resolve().parent / "resources"
TARGET = Path("assistant", "_resources")


class BuildPyWithResources(build_py):
    """`build_py` that also copies ``resources/`` to ``<build_lib>/assistant/_resources``."""

    def run(self) -> None:
        super().run()
        if self.editable_mode:
            return
        if not (RESOURCES / "prompts").is_dir():
            raise SystemExit(f"{RESOURCES} has no prompts/ folder; the wheel would not run. "
                             "Build from a complete checkout or sdist.")
        self.copy_tree(str(RESOURCES), str(Path(self.build_lib) / TARGET))


setup(cmdclass={"build_py": BuildPyWithResources})
