"""The conversation on the right: message bubbles above, the composer below.

Bubbles are plain-text labels (selectable, word-wrapped); the person's are on the
right, Reverie's on the left. The view follows a streaming answer to the bottom
unless the person has scrolled up to read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from assistant.gui.composer import Composer

if TYPE_CHECKING:
    from assistant.store.models import Message

#: Message roles and origins (assistant.store.models), as text: the chat view must not
#: load the database layer, so the window can appear before it is imported.
USER, ASSISTANT, ANTICIPATED = "user", "assistant", "anticipated"

PREPARED_BADGE = "Prepared while you were away"


class SourcesPopover(QFrame):
    """A small popup listing where a prepared answer came from; closes on any click."""

    def __init__(self, lines: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("sourcesPopover")
        self.setAccessibleName("Sources")
        self.lines = lines
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 10, 12, 10)
        title = QLabel("Prepared from", self)
        title.setObjectName("sectionLabel")
        layout.addWidget(title)
        for line in lines or ["No sources were recorded for this answer."]:
            label = QLabel(line, self)
            label.setObjectName("sourceLine")
            label.setWordWrap(True)
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setMaximumWidth(420)
            layout.addWidget(label)


class PreparedBadge(QWidget):
    """Under a prepared answer: the badge, "Sources" (a popover) and maybe "Think again"."""

    def __init__(self, sources: Callable[[], list[str]],
                 think_again: Callable[[], None] | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("preparedBadgeRow")
        self._sources = sources
        self.popover: SourcesPopover | None = None
        self.badge = QLabel(f"✦ {PREPARED_BADGE}", self)
        self.badge.setObjectName("preparedBadge")
        self.badge.setAccessibleName(PREPARED_BADGE)
        self.sources_button = QToolButton(self)
        self.sources_button.setObjectName("linkButton")
        self.sources_button.setText("Sources")
        self.sources_button.setAccessibleName("Show the sources of this prepared answer")
        self.sources_button.clicked.connect(self.show_sources)
        self.think_button = QToolButton(self)
        self.think_button.setObjectName("linkButton")
        self.think_button.setText("Think again")
        self.think_button.setAccessibleName("Answer this question again from scratch")
        self.think_button.setVisible(think_again is not None)
        if think_again is not None:
            self.think_button.clicked.connect(think_again)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 2, 0, 0)
        row.setSpacing(8)
        row.addWidget(self.badge)
        row.addWidget(self.sources_button)
        row.addWidget(self.think_button)
        row.addStretch(1)

    def show_sources(self) -> None:
        self.popover = SourcesPopover(self._sources(), self)
        self.popover.adjustSize()
        self.popover.move(self.sources_button.mapToGlobal(
            QPoint(0, self.sources_button.height() + 2)))
        self.popover.show()

#: A bubble is at most this share of the transcript's width.
_BUBBLE_SHARE = 0.78


class MessageBubble(QFrame):
    """One message. ``role`` is a dynamic property the style sheet keys on."""

    def __init__(self, role: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.role = role
        self._max_width = 600
        self.setObjectName("bubble")
        self.setProperty("role", role)
        self.label = QLabel(self)
        self.label.setObjectName("bubbleText")
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                           | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.label.setCursor(Qt.CursorShape.IBeamCursor)
        self.label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        who = "You" if role == USER else "Reverie"
        self.setAccessibleName(f"{who} said")
        self.note = QLabel(self)
        self.note.setObjectName("bubbleNote")
        self.note.hide()
        self._box = QVBoxLayout(self)
        self._box.setContentsMargins(14, 9, 14, 9)
        self._box.setSpacing(3)
        self._box.addWidget(self.label)
        self._box.addWidget(self.note)
        self.prepared: PreparedBadge | None = None
        self.set_text(text)

    def set_prepared(self, sources: Callable[[], list[str]],
                     think_again: Callable[[], None] | None) -> PreparedBadge:
        """Mark this answer "prepared while you were away" (with sources, think again)."""
        if self.prepared is None:
            self.prepared = PreparedBadge(sources, think_again, self)
            self._box.addWidget(self.prepared)
            self.setProperty("prepared", True)
            self.style().unpolish(self)
            self.style().polish(self)
            self._fit()
        return self.prepared

    def text(self) -> str:
        return self.label.text()

    def set_text(self, text: str) -> None:
        self.label.setText(text)
        self.label.setAccessibleDescription(text)
        self._fit()

    def set_max_width(self, width: int) -> None:
        self._max_width = width
        self.setMaximumWidth(width)
        # QLabel keeps the size hints it worked out for the old width; a long message
        # added before the window had its size then reserved a column several times
        # too tall (a blank transcript). Setting word wrap again drops them.
        self.label.setWordWrap(True)
        self._fit()

    def _fit(self) -> None:
        """As wide as the text needs, up to the maximum; then wrap.

        A word-wrapped QLabel otherwise settles on a narrow width of its own choosing.
        """
        self.label.ensurePolished()
        self.note.ensurePolished()
        margins = self._box.contentsMargins()
        room = self._max_width - margins.left() - margins.right()
        widest = max((self.label.fontMetrics().horizontalAdvance(line)
                      for line in self.label.text().split("\n")), default=0)
        if self.note.isVisibleTo(self):
            widest = max(widest, self.note.fontMetrics().horizontalAdvance(self.note.text()))
        prepared = getattr(self, "prepared", None)
        if prepared is not None:
            widest = max(widest, prepared.sizeHint().width())
        self.label.setMinimumWidth(max(0, min(widest + 4, room)))

    def append(self, piece: str) -> None:
        self.set_text(self.label.text() + piece)

    def set_note(self, note: str) -> None:
        """A small line under the text (e.g. "Stopped")."""
        self.note.setText(note)
        self.note.setVisible(bool(note))
        self._fit()

    def set_pending(self, pending: bool) -> None:
        self.setProperty("pending", pending)
        self.style().unpolish(self)
        self.style().polish(self)


class Transcript(QScrollArea):
    """The scrolling column of bubbles."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("transcript")
        self.setAccessibleName("Conversation")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._column = QWidget(self)
        self._column.setObjectName("transcriptColumn")
        self._layout = QVBoxLayout(self._column)
        self._layout.setContentsMargins(20, 18, 20, 18)
        self._layout.setSpacing(12)
        self._layout.addStretch(1)
        self.empty = QLabel("Ask anything. Reverie answers on this computer, and thinks "
                            "about your conversations while you are away.", self._column)
        self.empty.setObjectName("emptyState")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._layout.insertWidget(0, self.empty)
        #: Above the bubbles when only the latest messages are shown (a long chat opens
        #: at once; the rest on request).
        self.earlier = QToolButton(self._column)
        self.earlier.setText("Show earlier messages")
        self.earlier.setObjectName("linkButton")
        self.earlier.setAccessibleName("Show earlier messages")
        self.earlier.hide()
        self._layout.insertWidget(0, self.earlier, 0, Qt.AlignmentFlag.AlignHCenter)
        self.setWidget(self._column)
        self.bubbles: list[MessageBubble] = []
        self._follow = True
        self.verticalScrollBar().valueChanged.connect(self._on_scrolled)
        self.verticalScrollBar().rangeChanged.connect(self._on_range_changed)

    def clear(self) -> None:
        for bubble in self.bubbles:
            row = bubble.parentWidget()
            if row is not None:
                self._layout.removeWidget(row)
                row.deleteLater()
        self.bubbles.clear()
        self.empty.show()
        self._follow = True

    def add(self, role: str, text: str) -> MessageBubble:
        row = QWidget(self._column)
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        bubble = MessageBubble(role, text, row)
        bubble.set_max_width(self._bubble_width())
        if role == USER:
            line.addStretch(1)
            line.addWidget(bubble)
        else:
            line.addWidget(bubble)
            line.addStretch(1)
        self._layout.insertWidget(self._layout.count() - 1, row)
        self.bubbles.append(bubble)
        self.empty.hide()
        self._follow = True
        return bubble

    def scroll_to_end(self) -> None:
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        width = self._bubble_width()
        for bubble in self.bubbles:
            bubble.set_max_width(width)

    def _bubble_width(self) -> int:
        return max(240, int(self.viewport().width() * _BUBBLE_SHARE))

    def _on_scrolled(self, value: int) -> None:
        self._follow = value >= self.verticalScrollBar().maximum() - 8

    def _on_range_changed(self, _low: int, high: int) -> None:
        if self._follow:
            self.verticalScrollBar().setValue(high)


class ChatView(QWidget):
    """Transcript plus composer; knows nothing about the database or the model."""

    #: The person asked to see the messages before the ones shown.
    earlier_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chatView")
        #: Called for each stored answer that was served from a prepared answer.
        self.decorate_prepared: Callable[[MessageBubble, Message], None] | None = None
        self.title = QLabel(self)
        self.title.setObjectName("chatTitle")
        self.title.setAccessibleName("Conversation title")
        self.transcript = Transcript(self)
        self.transcript.earlier.clicked.connect(self.earlier_requested)
        self.composer = Composer(self)
        separator = QFrame(self)
        separator.setObjectName("composerRule")
        separator.setFrameShape(QFrame.Shape.HLine)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.title)
        layout.addWidget(self.transcript, 1)
        layout.addWidget(separator)
        layout.addWidget(self.composer)
        self.set_title("")

    def set_title(self, title: str) -> None:
        self.title.setText(title or "New conversation")

    def show_messages(self, messages: Iterable[Message], *, earlier: bool = False) -> None:
        """Show ``messages``; ``earlier``: older ones exist (offer to show them)."""
        self.transcript.clear()
        self.transcript.earlier.setVisible(earlier)
        for message in messages:
            if message.role in (USER, ASSISTANT):
                bubble = self.transcript.add(message.role, message.content)
                if (message.role == ASSISTANT
                        and message.origin == ANTICIPATED
                        and self.decorate_prepared is not None):
                    self.decorate_prepared(bubble, message)
        QTimer.singleShot(0, self.transcript, self.transcript.scroll_to_end)

    def add_user_message(self, text: str) -> MessageBubble:
        return self.transcript.add(USER, text)

    def begin_answer(self, text: str = "") -> MessageBubble:
        """An assistant bubble that tokens will stream into."""
        bubble = self.transcript.add(ASSISTANT, text)
        bubble.set_pending(True)
        if not text:
            bubble.set_note("Thinking…")
        return bubble

    @property
    def bubbles(self) -> list[MessageBubble]:
        return self.transcript.bubbles
