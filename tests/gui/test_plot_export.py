"""Benchmark plots render to a real PNG without a display."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from assistant.gui.plot_export import Point, scatter_png, x_ticks


def test_scatter_png_writes_an_image(tmp_path: Path) -> None:
    out = scatter_png([Point("full-context", 2100, 0.3), Point("auto", 0, 0.4)],
                      tmp_path / "plot.png", title="t", x_label="x", y_label="y")
    image = QImage(str(out))
    assert not image.isNull() and image.width() == 720
    # Something other than the white background was drawn in the plot area.
    colours = {image.pixelColor(x, y).name() for x in range(80, 690, 7) for y in range(50, 420, 7)}
    assert len(colours) > 3


def test_a_log_x_axis_is_labelled_at_round_numbers() -> None:
    assert x_ticks(51, 158, True) == [50.0, 100.0, 200.0]
    assert x_ticks(0, 2100, True) == [1.0, 10.0, 100.0, 1000.0]
    assert x_ticks(0, 100, False) == pytest.approx([0, 22, 44, 66, 88, 110])
