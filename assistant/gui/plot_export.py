"""Small PNG charts for benchmark reports, drawn with QPainter (no plotting dependency).

Benchmarks call :func:`scatter_png` (points) or :func:`curves_png` (lines) lazily;
each starts an offscreen QApplication when none exists, so it works from the command
line without a display.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # Qt is imported when a plot is drawn, not with this module
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QFont, QImage, QPainter


@dataclass(frozen=True)
class Point:
    label: str
    x: float
    y: float


def _app() -> object:
    """The running application, or a new one. A QApplication (not a bare
    QGuiApplication), so that widgets can still be made in the same process later."""
    from PySide6.QtWidgets import QApplication

    existing = QApplication.instance()
    if existing is not None:
        return existing
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    return QApplication([])


def scatter_png(points: Sequence[Point], path: Path, *, title: str, x_label: str,
                y_label: str, y_max: float = 1.0, log_x: bool = True,
                size: tuple[int, int] = (720, 480)) -> Path:
    """One labelled point per entry; x on a log scale by default (token counts)."""
    import math

    from PySide6.QtCore import QPointF, QRectF, Qt
    from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen

    _keep = _app()
    width, height = size
    image = QImage(width, height, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    left, right, top, bottom = 80, 30, 50, 60
    plot = QRectF(left, top, width - left - right, height - top - bottom)

    def fx(x: float) -> float:
        xs = [p.x for p in points] or [1.0]
        lo, hi = min(xs), max(xs)
        if log_x:
            lo, hi, x = math.log10(max(lo, 1) / 2), math.log10(max(hi, 1) * 2), \
                math.log10(max(x, 1))
        else:
            lo, hi = 0.0, hi * 1.1 or 1.0
        return plot.left() + (x - lo) / ((hi - lo) or 1) * plot.width()

    def fy(y: float) -> float:
        return plot.bottom() - (y / (y_max or 1)) * plot.height()

    painter.setPen(QPen(QColor("#333"), 1))
    painter.drawRect(plot)
    font = QFont("DejaVu Sans", 10)
    painter.setFont(font)
    for i in range(5):
        value = y_max * i / 4
        y = fy(value)
        painter.setPen(QPen(QColor("#ddd"), 1))
        painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        painter.setPen(QColor("#333"))
        painter.drawText(QRectF(0, y - 8, left - 8, 16),
                         int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                         f"{value:.2f}")
    xs = [p.x for p in points] or [1.0]
    for tick in x_ticks(min(xs), max(xs), log_x):
        x = fx(tick)
        painter.setPen(QPen(QColor("#eee"), 1))
        painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()))
        painter.setPen(QColor("#333"))
        painter.drawText(QRectF(x - 40, plot.bottom() + 4, 80, 16),
                         int(Qt.AlignmentFlag.AlignHCenter), f"{tick:g}")
    colours = ["#c0392b", "#2471a3", "#229954", "#8e44ad", "#d68910"]
    for i, p in enumerate(points):
        colour = QColor(colours[i % len(colours)])
        centre = QPointF(fx(p.x), fy(p.y))
        painter.setPen(QPen(colour, 2))
        painter.setBrush(colour)
        painter.drawEllipse(centre, 6, 6)
        label = f"{p.label} ({p.x:.0f}, {p.y:.2f})"
        if centre.x() + 230 > width:  # near the right edge: write it below, to the left
            painter.drawText(QRectF(centre.x() - 229, centre.y() + 8, 220, 18),
                             int(Qt.AlignmentFlag.AlignRight), label)
        else:
            painter.drawText(QRectF(centre.x() + 9, centre.y() - 20, 220, 18),
                             int(Qt.AlignmentFlag.AlignLeft), label)
    return _finish(painter, image, path, plot, font, (title, x_label, y_label))


def x_ticks(lo: float, hi: float, log_x: bool) -> list[float]:
    """The x values to label between the axis ends `scatter_png` draws for data from
    ``lo`` to ``hi``: 1, 2 and 5 times each power of ten on a log axis (only the powers
    when that makes more than eight), five even steps on a linear one."""
    import math

    if not log_x:
        top = (hi * 1.1) or 1.0
        return [top * i / 5 for i in range(6)]
    first, last = max(lo, 1) / 2, max(hi, 1) * 2
    decades = range(math.floor(math.log10(first)), math.ceil(math.log10(last)) + 1)
    ticks = [m * 10.0 ** d for d in decades for m in (1, 2, 5)]
    ticks = [t for t in ticks if first <= t <= last]
    return ticks if len(ticks) <= 8 else [t for t in ticks if math.log10(t).is_integer()]


@dataclass(frozen=True)
class Curve:
    """A labelled line through (x, y) points, joined in the order given (a budget
    that grows); ``dashed`` tells two families apart."""

    label: str
    points: tuple[tuple[float, float], ...]
    dashed: bool = False


def curves_png(curves: Sequence[Curve], path: Path, *, title: str, x_label: str,
               y_label: str, y_max: float = 1.0, size: tuple[int, int] = (820, 540)) -> Path:
    """Lines on linear axes with tick labels on both, and a legend on the right."""
    from PySide6.QtCore import QPointF, QRectF, Qt
    from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen

    _keep = _app()
    width, height = size
    image = QImage(width, height, QImage.Format.Format_ARGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    left, right, top, bottom = 70, 190, 50, 60
    plot = QRectF(left, top, width - left - right, height - top - bottom)
    xs = [x for c in curves for x, _ in c.points] or [1.0]
    x_hi = _nice_ceiling(max(xs))

    def fx(x: float) -> float:
        return plot.left() + x / x_hi * plot.width()

    def fy(y: float) -> float:
        return plot.bottom() - (y / (y_max or 1)) * plot.height()

    font = QFont("DejaVu Sans", 9)
    painter.setFont(font)
    painter.setPen(QPen(QColor("#333"), 1))
    painter.drawRect(plot)
    right_align = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    for i in range(6):
        y = fy(y_max * i / 5)
        x = fx(x_hi * i / 5)
        painter.setPen(QPen(QColor("#e3e3e3"), 1))
        painter.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()))
        painter.setPen(QColor("#333"))
        painter.drawText(QRectF(0, y - 8, left - 8, 16), right_align, f"{y_max * i / 5:.2f}")
        painter.drawText(QRectF(x - 40, plot.bottom() + 4, 80, 16),
                         int(Qt.AlignmentFlag.AlignHCenter), f"{x_hi * i / 5:.0f}")
    colours = ["#c0392b", "#d68910", "#229954", "#2471a3", "#8e44ad", "#555555"]
    families: dict[bool, int] = {}
    for n, curve in enumerate(curves):
        index = families.get(curve.dashed, 0)
        families[curve.dashed] = index + 1
        colour = QColor(colours[index % len(colours)])
        pen = QPen(colour, 2)
        if curve.dashed:
            pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.setBrush(colour)
        points = [QPointF(fx(x), fy(y)) for x, y in curve.points]  # in the given order
        for a, b in itertools.pairwise(points):
            painter.drawLine(a, b)
        for p in points:
            painter.drawEllipse(p, 3.5, 3.5)
        row = top + 18 * n
        painter.drawLine(QPointF(plot.right() + 14, row + 8), QPointF(plot.right() + 40, row + 8))
        painter.setPen(QColor("#222"))
        painter.drawText(QRectF(plot.right() + 46, row, right - 50, 16),
                         int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                         curve.label)
    return _finish(painter, image, path, plot, font, (title, x_label, y_label))


def _finish(painter: QPainter, image: QImage, path: Path, plot: QRectF, font: QFont,
            labels: tuple[str, str, str]) -> Path:
    """Title, axis labels, then the PNG written to ``path`` (both plots end this way)."""
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QColor, QFont

    title, x_label, y_label = labels
    width, height = image.width(), image.height()
    painter.setPen(QColor("#111"))
    painter.setFont(QFont("DejaVu Sans", 12, QFont.Weight.Bold))
    painter.drawText(QRectF(0, 10, width, 24), int(Qt.AlignmentFlag.AlignHCenter), title)
    painter.setFont(font)
    painter.drawText(QRectF(plot.left(), height - 30, plot.width(), 20),
                     int(Qt.AlignmentFlag.AlignHCenter), x_label)
    painter.save()
    painter.translate(18, plot.center().y())
    painter.rotate(-90)
    painter.drawText(QRectF(-plot.height() / 2, -10, plot.height(), 20),
                     int(Qt.AlignmentFlag.AlignHCenter), y_label)
    painter.restore()
    painter.end()
    path.parent.mkdir(parents=True, exist_ok=True)
    # PySide6's stubs want the format as bytes, but at run time only a str is accepted
    if not image.save(str(path), "PNG"):  # type: ignore[call-overload]
        raise OSError(f"Could not write the plot to {path}.")
    return path


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5 or 5 times a power of ten that is at least ``value``
    (so that five ticks fall on round numbers)."""
    import math

    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(float(m * power) for m in (1, 2, 2.5, 5, 10) if m * power >= value)
