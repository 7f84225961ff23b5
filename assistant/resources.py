"""Where the shipped resources (prompts, icons, catalog, style sheets) live.

In a source checkout and in the PyInstaller bundle they sit in ``resources/`` next to
the package; an installed wheel carries them as ``assistant/_resources``.
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path


@cache
def resource_dir() -> Path:
    here = Path(__file__).resolve().parent
    candidates = [here.parent / "resources", here / "_resources"]
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        candidates.insert(0, Path(bundle) / "resources")
    for candidate in candidates:
        if (candidate / "prompts").is_dir():
            return candidate
    raise FileNotFoundError(
        "Reverie's resources folder is missing; reinstall Reverie."
    )


def resource(*parts: str) -> Path:
    return resource_dir().joinpath(*parts)


def read_prompt(name: str) -> str:
    """The text of ``resources/prompts/<name>``."""
    return resource("prompts", name).read_text(encoding="utf-8")
