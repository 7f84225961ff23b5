"""The real window on a virtual X display: start, ask, answer, screenshot, quit cleanly."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.gui.screenshot import take
from tests.gui.xvfb_session import XvfbSession, messages, missing_tools

pytestmark = [
    pytest.mark.xvfb,
    pytest.mark.model,
    pytest.mark.skipif(bool(missing_tools()),
                       reason="the real-window tests need Xvfb, xdotool and ImageMagick: "
                       "apt-get install xvfb xdotool imagemagick (README, Tests)"),
]


def test_xvfb_picks_a_free_display() -> None:
    with XvfbSession() as first, XvfbSession() as second:
        assert first.display and second.display and first.display != second.display


def test_the_window_answers_on_a_real_display(tmp_path: Path) -> None:
    """First start: the bundled model is prepared, then the typed question is answered."""
    data_dir = tmp_path / "profile"
    shot = tmp_path / "window.png"
    answer = take(shot, "What is the capital of France?", data_dir)

    assert "Paris" in answer
    assert (data_dir / "models" / "gemma-3-270m-q4_k_m.gguf").is_file()
    assert messages(data_dir)[0] == ("user", "What is the capital of France?")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 10_000  # a real picture, not a blank screen


def test_every_page_on_a_real_display(tmp_path: Path, bundled_model: Path) -> None:
    """Import the bench fixture, think briefly, then screenshot each page of the window."""
    from tests.gui.screenshots import PAGES, prepare_profile, take_all

    data_dir = tmp_path / "profile"
    prepare_profile(data_dir, model=bundled_model, budget=10, theme="light")
    shots = take_all(tmp_path / "shots", data_dir)

    assert [s.stem for s in shots] == [name for name, _key in PAGES]
    sizes = {s.stat().st_size for s in shots}
    assert all(s.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for s in shots)
    assert min(sizes) > 10_000 and len(sizes) == len(shots)  # eight different pictures
