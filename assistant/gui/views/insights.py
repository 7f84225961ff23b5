"""Insights: is sleep-time thinking paying off? Three small daily charts, drawn with QPainter.

- hit rate: the share of your questions answered from a prepared answer;
- time saved: prepared answers served x the average time preparing one took;
- minutes of thinking per day, from the sleep-session rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from assistant.gui.views.common import PageHeader, card, duration_text
from assistant.store.anticipations import AnticipationRepository, DayStats


class BarChart(QWidget):
    """Bars per day with the day's initial under each and the maximum on top."""

    def __init__(self, title: str, colour: str, fmt: Callable[[float], str],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("barChart")
        self.title = title
        self.colour = QColor(colour)
        self.fmt = fmt
        self.values: list[float] = []
        self.labels: list[str] = []
        self.setMinimumHeight(170)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName(title)

    def set_data(self, values: Sequence[float], labels: Sequence[str]) -> None:
        self.values = list(values)
        self.labels = list(labels)
        total = ", ".join(f"{label}: {self.fmt(v)}" for v, label in zip(values, labels,
                                                                          strict=True))
        self.setAccessibleDescription(f"{self.title} per day. {total}")
        self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        text = pal.color(QPalette.ColorRole.WindowText)
        muted = pal.color(QPalette.ColorRole.PlaceholderText)
        grid = QColor(muted)
        grid.setAlpha(60)
        font = QFont(self.font())
        font.setBold(True)
        p.setFont(font)
        p.setPen(text)
        p.drawText(QRectF(0, 0, self.width(), 20), Qt.AlignmentFlag.AlignLeft, self.title)
        small = QFont(self.font())
        small.setPointSizeF(max(6.5, small.pointSizeF() * 0.8))
        p.setFont(small)
        top, bottom, left = 40.0, self.height() - 20.0, 4.0
        width = self.width() - left - 4
        peak = max(self.values, default=0.0)
        p.setPen(muted)
        p.drawText(QRectF(0, 20, self.width(), 16), Qt.AlignmentFlag.AlignRight,
                   f"max {self.fmt(peak)}" if peak else "nothing yet")
        p.setPen(grid)
        p.drawLine(int(left), int(bottom), int(left + width), int(bottom))
        n = len(self.values)
        if n:
            slot = width / n
            bar = max(3.0, slot * 0.62)
            for i, (value, label) in enumerate(zip(self.values, self.labels, strict=True)):
                x = left + i * slot + (slot - bar) / 2
                h = 0.0 if not peak else (bottom - top) * value / peak
                if value > 0:
                    h = max(h, 2.0)
                    p.setPen(Qt.PenStyle.NoPen)
                    colour = QColor(self.colour)
                    if i != n - 1:
                        colour.setAlpha(190)
                    p.setBrush(colour)
                    p.drawRoundedRect(QRectF(x, bottom - h, bar, h), 2.5, 2.5)
                if n <= 16 or i % 2 == (n - 1) % 2:
                    p.setPen(muted)
                    p.drawText(QRectF(left + i * slot - 6, bottom + 3, slot + 12, 16),
                               Qt.AlignmentFlag.AlignHCenter, label)
        p.end()


class InsightsView(QWidget):
    DAYS = 14

    def __init__(self, anticipations: AnticipationRepository,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("insightsView")
        self.anticipations = anticipations
        self.header = PageHeader(
            "Insights", f"The last {self.DAYS} days: how often a prepared answer was ready "
            "when you asked, the time that saved, and how long Reverie thought.", self)
        self.tiles: dict[str, QLabel] = {}
        tiles = QHBoxLayout()
        tiles.setSpacing(12)
        for key, caption in (("hit", "of questions answered from prepared answers"),
                             ("saved", "of waiting saved (estimated)"),
                             ("thinking", "spent thinking while you were away")):
            frame = card(self, "tile")
            col = QVBoxLayout(frame)
            col.setContentsMargins(16, 12, 16, 12)
            value = QLabel("—", frame)
            value.setObjectName("tileValue")
            text = QLabel(caption, frame)
            text.setObjectName("mutedLabel")
            text.setWordWrap(True)
            col.addWidget(value)
            col.addWidget(text)
            self.tiles[key] = value
            value.setAccessibleName(caption)
            tiles.addWidget(frame, 1)
        self.hit_chart = BarChart("Hit rate", "#6366f1", lambda v: f"{v:.0%}", self)
        self.saved_chart = BarChart("Time saved", "#16a34a", duration_text, self)
        self.thinking_chart = BarChart("Minutes of thinking", "#38bdf8",
                                       lambda v: f"{v:.1f} min", self)
        charts = QGridLayout()
        charts.setSpacing(12)
        for i, chart in enumerate((self.hit_chart, self.saved_chart, self.thinking_chart)):
            frame = card(self)
            box = QVBoxLayout(frame)
            box.setContentsMargins(14, 12, 14, 10)
            box.addWidget(chart)
            charts.addWidget(frame, i // 2, i % 2)
        self.note = QLabel(self)
        self.note.setObjectName("mutedLabel")
        self.note.setWordWrap(True)
        body = QVBoxLayout()
        body.setContentsMargins(24, 0, 24, 16)
        body.setSpacing(12)
        body.addLayout(tiles)
        body.addLayout(charts, 1)
        body.addWidget(self.note)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.header)
        layout.addLayout(body, 1)

    def refresh(self) -> None:
        days = self.anticipations.daily_stats(self.DAYS)
        self.show_days(days)

    def show_days(self, days: list[DayStats]) -> None:
        labels = [d.day.strftime("%a")[:2] if len(days) <= 7 else str(d.day.day) for d in days]
        self.hit_chart.set_data([d.hit_rate for d in days], labels)
        self.saved_chart.set_data([d.seconds_saved for d in days], labels)
        self.thinking_chart.set_data([d.thinking_minutes for d in days], labels)
        questions = sum(d.questions for d in days)
        hits = sum(d.prepared_hits for d in days)
        self.tiles["hit"].setText(f"{hits / questions:.0%}" if questions else "—")
        self.tiles["saved"].setText(duration_text(sum(d.seconds_saved for d in days)))
        self.tiles["thinking"].setText(
            f"{sum(d.thinking_minutes for d in days):.1f} min")
        self.note.setText(f"{questions} question{'s' if questions != 1 else ''} asked, "
                          f"{hits} answered from prepared answers. Time saved counts each "
                          "prepared answer served at the average time preparing one took.")

    def focus_search(self) -> None:
        pass
