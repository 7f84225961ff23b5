"""packaging/smoke_checks.py's own Xvfb display (the installers' window check runs on it)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

pytestmark = pytest.mark.xvfb

SMOKE_CHECKS = Path(__file__).resolve().parents[2] / "packaging" / "smoke_checks.py"


@pytest.fixture(scope="module")
def smoke_checks() -> ModuleType:
    """The script as a module (it lives outside the package, like the other build tools)."""
    spec = importlib.util.spec_from_file_location("smoke_checks", SMOKE_CHECKS)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_display_lets_every_client_in(smoke_checks: ModuleType,
                                          clients_refused: Callable[[str], list[str]]) -> None:
    """The app connects while xdotool polls for its window: no client may be refused.

    CI once failed the tarball's window check with "could not connect to display :0"
    (Xvfb was resetting after xdotool, its last client, had left).
    """
    with smoke_checks.display() as display:
        assert display is not None
        assert clients_refused(display) == []
