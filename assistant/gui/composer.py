"""Where the person types: Enter sends, Shift+Enter breaks the line, Stop is beside Send."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from assistant.gui.qt_compat import emit
from assistant.text.lines import is_blank

_ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class MessageInput(QPlainTextEdit):
    """A plain-text box that grows with its text (up to a limit) and submits on Enter."""

    submitted = Signal()

    MIN_LINES, MAX_LINES = 3, 8

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageInput")
        self.setAccessibleName("Message")
        self.setAccessibleDescription("Type a message. Enter sends, Shift+Enter adds a line.")
        self.setTabChangesFocus(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.document().contentsChanged.connect(self._fit_height)
        self._fit_height()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in _ENTER_KEYS:
            mods = event.modifiers()
            if mods & Qt.KeyboardModifier.ShiftModifier:
                self.insertPlainText("\n")
            elif not mods & ~Qt.KeyboardModifier.KeypadModifier:
                emit(self.submitted)
            else:
                super().keyPressEvent(event)
            event.accept()
            return
        super().keyPressEvent(event)

    def _fit_height(self) -> None:
        lines = self.document().size().height()  # in lines for a plain-text layout
        shown = max(self.MIN_LINES, min(self.MAX_LINES, int(lines)))
        margins = self.contentsMargins()
        height = (self.fontMetrics().lineSpacing() * shown + 2 * self.document().documentMargin()
                  + margins.top() + margins.bottom())
        self.setFixedHeight(int(height))


class Composer(QWidget):
    """The input box, Send and Stop, and a one-line hint when sending is not possible."""

    send_requested = Signal(str)
    stop_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("composer")
        self.input = MessageInput(self)
        self.send_button = QPushButton("Send", self)
        self.send_button.setObjectName("sendButton")
        self.send_button.setAccessibleName("Send message")
        self.send_button.setDefault(False)
        self.send_button.setAutoDefault(False)
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setObjectName("stopButton")
        self.stop_button.setAccessibleName("Stop answering")
        self.stop_button.setToolTip("Stop the answer (Esc)")
        self.hint = QLabel(self)
        self.hint.setObjectName("composerHint")
        self.hint.setAccessibleName("Sending status")
        #: Why the last message was given back (`give_back`), until the text changes.
        self.warning = QLabel(self)
        self.warning.setObjectName("composerWarning")
        self.warning.setAccessibleName("Why the message was not sent")
        self.warning.setWordWrap(True)
        self.warning.hide()

        buttons = QVBoxLayout()
        buttons.setSpacing(6)
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        row = QHBoxLayout()
        row.setSpacing(10)
        row.addWidget(self.input, 1, Qt.AlignmentFlag.AlignTop)
        row.addLayout(buttons)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 10, 16, 12)
        layout.setSpacing(4)
        layout.addWidget(self.warning)
        layout.addLayout(row)
        layout.addWidget(self.hint)

        self._ready = False
        self._busy = False
        self._blocked_reason = "The model is loading…"
        self.input.submitted.connect(self.submit)
        self.input.textChanged.connect(self._refresh)
        self.input.textChanged.connect(self._clear_warning)
        self.send_button.clicked.connect(self.submit)
        self.stop_button.clicked.connect(self.stop_requested)
        self._refresh()

    # -- state --------------------------------------------------------------------------
    def set_ready(self, ready: bool, reason: str = "") -> None:
        """Whether a model can answer; ``reason`` says why not (shown under the box)."""
        self._ready = ready
        self._blocked_reason = reason
        self._refresh()

    def set_busy(self, busy: bool) -> None:
        """An answer is streaming: Stop works, Send waits."""
        self._busy = busy
        self._refresh()

    @property
    def can_send(self) -> bool:
        return self._ready and not self._busy and not is_blank(self.text())

    def text(self) -> str:
        return self.input.toPlainText()

    def submit(self) -> None:
        """Send what was typed, if possible; otherwise keep it and say why."""
        if not self.can_send:
            return
        text = self.text().strip()
        self.input.clear()
        emit(self.send_requested, text)

    def give_back(self, text: str, why: str) -> None:
        """A sent message was refused before it was stored: put ``text`` back in the box
        (before anything typed meanwhile, which is kept too) and say ``why`` above it."""
        typed = self.text()
        self.input.setPlainText(text if is_blank(typed) else f"{text}\n\n{typed}")
        self.input.moveCursor(QTextCursor.MoveOperation.End)
        self.warning.setText(why)
        self.warning.show()

    def _clear_warning(self) -> None:
        self.warning.hide()

    def _refresh(self) -> None:
        self.send_button.setEnabled(self.can_send)
        self.stop_button.setEnabled(self._busy)
        if not self._ready:
            hint = self._blocked_reason or "The model is not ready."
            if self._blocked_reason.endswith("…"):
                hint += " You can start typing; Send turns on when it is ready."
        elif self._busy:
            hint = "Answering… Esc or Stop ends it."
        else:
            hint = "Enter sends · Shift+Enter adds a line"
        self.hint.setText(hint)
        self.send_button.setToolTip(hint if not self.can_send else "Send (Enter)")
