"""Pieces every page shares: a header, an empty state, an undo banner, time formatting."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from assistant.gui.qt_compat import emit


def local(when: datetime | None) -> datetime | None:
    """SQLite hands back naive UTC; the person reads local time."""
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone()


def when_text(when: datetime | None, now: datetime | None = None) -> str:
    """"Today 14:05", "Yesterday 09:12", "Mon 3 Nov, 18:40"."""
    shown = local(when)
    if shown is None:
        return "—"
    today = (now or datetime.now().astimezone()).date()
    clock = shown.strftime("%H:%M")
    days = (today - shown.date()).days
    if days == 0:
        return f"Today {clock}"
    if days == 1:
        return f"Yesterday {clock}"
    return f"{shown.strftime('%a')} {shown.day} {shown.strftime('%b')}, {clock}"


def duration_text(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


class PageHeader(QWidget):
    """A page title and one line saying what the page is for; room for buttons."""

    def __init__(self, title: str, subtitle: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("pageHeader")
        self.title = QLabel(title, self)
        self.title.setObjectName("pageTitle")
        self.title.setAccessibleName(title)
        self.subtitle = QLabel(subtitle, self)
        self.subtitle.setObjectName("pageSubtitle")
        self.subtitle.setWordWrap(True)
        texts = QVBoxLayout()
        texts.setSpacing(2)
        texts.addWidget(self.title)
        texts.addWidget(self.subtitle)
        self.row = QHBoxLayout(self)
        self.row.setContentsMargins(24, 18, 24, 14)
        self.row.addLayout(texts, 1)

    def add_widget(self, widget: QWidget) -> None:
        self.row.addWidget(widget, 0, Qt.AlignmentFlag.AlignVCenter)


class EmptyState(QLabel):
    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setObjectName("emptyState")
        self.setWordWrap(True)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)


class UndoBanner(QFrame):
    """"Memory forgotten — Undo" for a few seconds; ``undo`` when the button is pressed."""

    undo = Signal()
    expired = Signal()

    def __init__(self, seconds: float = 10.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("undoBanner")
        self.setAccessibleName("Undo")
        self.label = QLabel(self)
        self.label.setObjectName("undoText")
        self.button = QPushButton("Undo", self)
        self.button.setObjectName("undoButton")
        self.button.setAccessibleName("Undo")
        self.button.clicked.connect(self._on_undo)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 6, 8, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.button)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(int(seconds * 1000))
        self.timer.timeout.connect(self._on_expired)
        self.hide()

    def show_message(self, text: str) -> None:
        self.label.setText(text)
        self.show()
        self.timer.start()

    def _on_undo(self) -> None:
        self.timer.stop()
        self.hide()
        emit(self.undo)

    def _on_expired(self) -> None:
        self.hide()
        emit(self.expired)


def tidy_list(widget: QListWidget) -> QListWidget:
    """Wrapped items that follow the list's width, never a sideways scroll bar."""
    widget.setWordWrap(True)
    widget.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    widget.setResizeMode(QListView.ResizeMode.Adjust)
    widget.setTextElideMode(Qt.TextElideMode.ElideRight)
    return widget


def card(parent: QWidget | None = None, name: str = "card") -> QFrame:
    frame = QFrame(parent)
    frame.setObjectName(name)
    return frame
