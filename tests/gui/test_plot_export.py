"""Benchmark plots render to a real PNG without a display."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QImage

from assistant.gui.plot_export import Point, scatter_png


def test_scatter_png_writes_an_image(tmp_path: Path) -> None:
    out = scatter_png([Point("full-context", 2100, 0.3), Point("auto", 0, 0.4)],
                      tmp_path / "plot.png", title="t", x_label="x", y_label="y")
    image = QImage(str(out))
    assert not image.isNull() and image.width() == 720
    # Something other than the white background was drawn in the plot area.
    colours = {image.pixelColor(x, y).name() for x in range(80, 690, 7) for y in range(50, 420, 7)}
    assert len(colours) > 3
