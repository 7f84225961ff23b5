"""Ask… : a small popup for one question, from the tray or Ctrl+K.

The question starts a new conversation (so it is kept like any other), the answer
streams into the popup, and "Open in Reverie" shows the whole conversation. Esc
closes the popup and stops an answer that is still being written.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from assistant.gui.answer_job import AnswerJob
from assistant.gui.qt_compat import emit
from assistant.recall.responder import Answer, Responder
from assistant.store.chats import ChatRepository, title_from
from assistant.text.lines import is_blank


class QuickAsk(QDialog):
    #: The conversation the question went into (the window opens it).
    open_conversation = Signal(int)
    #: An answer ended (served, stopped or failed): a prepared answer may have been used,
    #: so whoever counts the ready ones (the tray's mark) looks again.
    answer_finished = Signal()

    def __init__(self, chats: ChatRepository, responder: Callable[[], Responder | None],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("quickAsk")
        self.setWindowTitle("Ask Reverie")
        self.setAccessibleName("Ask Reverie")
        self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, True)
        self.resize(560, 300)
        self._chats = chats
        self._responder = responder
        self._job: AnswerJob | None = None
        self.conversation_id: int | None = None
        self.input = QLineEdit(self)
        self.input.setObjectName("quickAskInput")
        self.input.setPlaceholderText("Ask anything…")
        self.input.setAccessibleName("Question")
        # Qt's default cuts a paste at 32,767 characters, silently; a question too long
        # for the model is refused whole instead, and stays in the box.
        self.input.setMaxLength(2**31 - 1)
        self.answer = QTextBrowser(self)
        self.answer.setObjectName("quickAskAnswer")
        self.answer.setAccessibleName("Answer")
        self.answer.hide()
        self.status = QLabel("Enter asks · Esc closes", self)
        self.status.setObjectName("mutedLabel")
        self.status.setWordWrap(True)
        self.open_button = QPushButton("Open in Reverie", self)
        self.open_button.setObjectName("secondaryButton")
        self.open_button.setAccessibleName("Open the conversation in Reverie")
        self.open_button.setEnabled(False)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.open_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 12)
        layout.addWidget(self.input)
        layout.addWidget(self.answer, 1)
        layout.addLayout(bottom)
        self.input.returnPressed.connect(self.ask)
        self.open_button.clicked.connect(self._open)

    def present(self) -> None:
        self.input.clear()
        self.answer.clear()
        self.answer.hide()
        self.open_button.setEnabled(False)
        self.conversation_id = None
        self._update_ready()
        self.show()
        self.raise_()
        self.activateWindow()
        self.input.setFocus()

    def _update_ready(self) -> None:
        if self._responder() is None:
            self.status.setText("The model is still loading; you can type, Enter asks when "
                                "it is ready.")
        else:
            self.status.setText("Enter asks · Esc closes")

    @property
    def answering(self) -> bool:
        return self._job is not None

    def ask(self) -> None:
        question = self.input.text().strip()
        responder = self._responder()
        if is_blank(question) or self._job is not None:
            return
        if responder is None:
            self._update_ready()
            return
        conv = self._chats.create_conversation(title_from(question))
        self.conversation_id = conv.id
        self.answer.setPlainText("")
        self.answer.show()
        self.status.setText("Answering… Esc stops")
        job = AnswerJob(responder, question, conv.id or 0, self)
        job.token.connect(self._on_token)
        job.answered.connect(self._on_answered)
        job.failed.connect(self.status.setText)
        job.refused.connect(self._on_refused)
        job.done.connect(self._on_done)
        self._job = job
        job.start()

    def _on_token(self, piece: str) -> None:
        self.answer.insertPlainText(piece)

    def _on_answered(self, answer: Answer) -> None:
        self.answer.setPlainText(answer.answer or "(no answer)")
        badge = " · prepared while you were away" if answer.source == "anticipated" else ""
        self.status.setText(f"Answered in {answer.total_ms / 1000:.1f} s{badge}")

    def _on_refused(self, message: str) -> None:
        """Nothing was stored: the conversation made for the question goes, the question
        stays in the box, and the reason is shown whole."""
        if self.conversation_id is not None and not self._chats.messages(self.conversation_id):
            self._chats.delete(self.conversation_id)
        self.conversation_id = None
        self.answer.hide()
        self.status.setText(message)

    def _on_done(self) -> None:
        job, self._job = self._job, None
        if job is not None:
            job.join(5)
            job.deleteLater()
        self.open_button.setEnabled(self.conversation_id is not None)
        emit(self.answer_finished)

    def _open(self) -> None:
        if self.conversation_id is not None:
            emit(self.open_conversation, self.conversation_id)
            self.hide()

    def stop(self, timeout: float = 15.0) -> None:
        if self._job is not None:
            self._job.stop()
            self._job.join(timeout)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            if self._job is not None:
                self._job.stop()
            self.hide()
            event.accept()
            return
        super().keyPressEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._job is not None:
            self._job.stop()
        super().closeEvent(event)
