"""The main window: conversations on the left, the chat on the right, model state below.

It shows at once; the model starts in the background (:class:`ModelLoader`) and Send
turns on when it is ready. Each question runs as an :class:`AnswerJob` on a worker
thread. Closing the window stops the answer and joins every thread it started.
"""

from __future__ import annotations

import contextlib
import logging

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from assistant.app import Reverie
from assistant.gui.answer_job import AnswerJob
from assistant.gui.banner import Banner
from assistant.gui.chat_view import ChatView, MessageBubble
from assistant.gui.conversation_list import UNTITLED, ConversationList
from assistant.gui.model_loader import ModelLoader
from assistant.llm.engine import FinishReason
from assistant.recall.responder import Answer, Responder
from assistant.store.chats import title_from

log = logging.getLogger("assistant.gui")

DEFAULT_SIZE = (1080, 720)


class MainWindow(QMainWindow):
    """One window on one open profile (``app``); it does not own ``app``."""

    def __init__(self, app: Reverie, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.app = app
        self.setObjectName("mainWindow")
        self.setWindowTitle("Reverie")
        self.setAccessibleName("Reverie")
        self._current_id: int | None = None
        self._job: AnswerJob | None = None
        self._live_bubble: MessageBubble | None = None
        self._responder: Responder | None = None
        self._closed = False

        self.sidebar = ConversationList(self)
        self.chat = ChatView(self)
        self.settings_banner = Banner("info", self)
        self.error_banner = Banner("error", self)
        right = QWidget(self)
        right.setObjectName("chatColumn")
        column = QVBoxLayout(right)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.settings_banner)
        column.addWidget(self.error_banner)
        column.addWidget(self.chat, 1)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([270, DEFAULT_SIZE[0] - 270])
        self.setCentralWidget(self.splitter)

        self.answer_stats = QLabel(self)
        self.answer_stats.setObjectName("answerStats")
        self.answer_stats.setAccessibleName("Last answer speed")
        self.model_progress = QProgressBar(self)
        self.model_progress.setObjectName("modelProgress")
        self.model_progress.setAccessibleName("Preparing the model")
        self.model_progress.setMaximumWidth(160)
        self.model_progress.setTextVisible(False)
        self.model_progress.hide()
        self.model_status = QLabel(self)
        self.model_status.setObjectName("modelStatus")
        self.model_status.setAccessibleName("Model status")
        status = self.statusBar()
        status.setSizeGripEnabled(False)
        status.addWidget(self.answer_stats, 1)
        status.addPermanentWidget(self.model_progress)
        status.addPermanentWidget(self.model_status)

        self.loader = ModelLoader(app, self)
        self.loader.progress.connect(self._on_model_progress)
        self.loader.loading.connect(self._on_model_loading)
        self.loader.ready.connect(self._on_model_ready)
        self.loader.failed.connect(self._on_model_failed)

        self._build_actions()
        self.sidebar.selected.connect(self.open_conversation)
        self.sidebar.new_requested.connect(self.new_conversation)
        self.sidebar.rename_requested.connect(self.rename_conversation)
        self.sidebar.delete_requested.connect(self.delete_conversation)
        self.chat.composer.send_requested.connect(self.send)
        self.chat.composer.stop_requested.connect(self.stop_answer)

        self._set_model_status("Loading the model…")
        self.chat.composer.set_ready(False, "Loading the model…")
        if app.settings_warning:
            self.settings_banner.show_message(app.settings_warning)
        self._restore_geometry()
        self.refresh_conversations(select_newest=True)
        self.chat.composer.input.setFocus()

    # -- set-up -------------------------------------------------------------------------
    def _build_actions(self) -> None:
        self.new_action = QAction("&New conversation", self)
        self.new_action.setShortcut(QKeySequence.StandardKey.New)
        self.new_action.triggered.connect(self.new_conversation)
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.triggered.connect(self.close)
        menu = self.menuBar().addMenu("&Conversation")
        menu.addAction(self.new_action)
        menu.addAction(self.sidebar.rename_action)
        menu.addAction(self.sidebar.delete_action)
        menu.addSeparator()
        menu.addAction(self.quit_action)
        self.addAction(self.new_action)
        self.addAction(self.quit_action)
        self.stop_shortcut = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        self.stop_shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        self.stop_shortcut.activated.connect(self.stop_answer)
        self.stop_shortcut.setEnabled(False)

    def _window_settings(self) -> QSettings:
        path = self.app.paths.config_dir / "window.ini"
        return QSettings(str(path), QSettings.Format.IniFormat)

    def _restore_geometry(self) -> None:
        stored = self._window_settings()
        geometry = stored.value("geometry")
        if geometry is not None and self.restoreGeometry(geometry):
            splitter = stored.value("splitter")
            if splitter is not None:
                self.splitter.restoreState(splitter)
            return
        self.resize(*DEFAULT_SIZE)
        screen = QGuiApplication.primaryScreen()
        if screen is not None:
            area = screen.availableGeometry()
            width, height = min(DEFAULT_SIZE[0], area.width()), min(DEFAULT_SIZE[1],
                                                                       area.height())
            self.resize(width, height)
            self.move(area.center().x() - width // 2, area.center().y() - height // 2)

    def start_model(self) -> None:
        """Begin preparing and loading the model in the background."""
        self.loader.start()

    # -- model --------------------------------------------------------------------------
    def _set_model_status(self, text: str) -> None:
        self.model_status.setText(text)
        self.model_status.setToolTip(text)

    def _on_model_progress(self, done: int, total: int) -> None:
        percent = int(done * 100 / total) if total else 100
        self.model_progress.setRange(0, 100)
        self.model_progress.setValue(percent)
        self.model_progress.show()
        text = f"Preparing the bundled model… {percent}%"
        self._set_model_status(text)
        self.chat.composer.set_ready(False, text)

    def _on_model_loading(self) -> None:
        self.model_progress.hide()
        self._set_model_status("Loading the model…")
        self.chat.composer.set_ready(False, "Loading the model…")

    def _on_model_ready(self, name: str) -> None:
        if self._closed or self.loader.engine is None:
            return
        self._responder = self.app.responder(self.loader.engine)
        self.model_progress.hide()
        self._set_model_status(f"Ready · {name}")
        self.chat.composer.set_ready(True)

    def _on_model_failed(self, message: str) -> None:
        self.model_progress.hide()
        self._set_model_status("Model not loaded")
        self.error_banner.show_message(message)
        self.chat.composer.set_ready(False, "No model is loaded, so Reverie cannot answer.")

    # -- conversations ------------------------------------------------------------------
    @property
    def current_conversation_id(self) -> int | None:
        return self._current_id

    def refresh_conversations(self, *, select_newest: bool = False) -> None:
        conversations = self.app.chats.list_conversations()
        if select_newest:
            self._current_id = conversations[0].id if conversations else None
        self.sidebar.set_conversations(conversations, self._current_id)
        if select_newest:
            self._show_current()

    def open_conversation(self, conversation_id: int | None) -> None:
        if conversation_id == self._current_id:
            return
        self._current_id = conversation_id
        self._show_current()

    def _show_current(self) -> None:
        self._live_bubble = None
        conv = None if self._current_id is None else self.app.chats.get(self._current_id)
        if conv is None:
            self._current_id = None
            self.chat.set_title("")
            self.chat.show_messages([])
            return
        self.chat.set_title(conv.title)
        self.chat.show_messages(self.app.chats.messages(conv.id or 0))
        job = self._job
        if job is not None and job.conversation_id == conv.id:
            self._live_bubble = self.chat.begin_answer(job.text)

    def new_conversation(self) -> None:
        """Start a fresh conversation; it is saved when its first message is sent."""
        if self._current_id is not None:
            self._current_id = None
            self.sidebar.select(None)
            self._show_current()
        self.chat.composer.input.setFocus()

    def rename_conversation(self, conversation_id: int, title: str) -> None:
        with contextlib.suppress(KeyError):
            self.app.chats.rename(conversation_id, title)
        if conversation_id == self._current_id:
            self.chat.set_title(title)

    def delete_conversation(self, conversation_id: int) -> None:
        """Ask first; then stop any answer being written into it, and delete it."""
        conv = self.app.chats.get(conversation_id)
        if conv is None:
            return
        reply = QMessageBox.question(
            self, "Delete conversation",
            f"Delete “{conv.title or UNTITLED}” and all its messages? This cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        if reply != QMessageBox.StandardButton.Yes:
            return
        job = self._job
        if job is not None and job.conversation_id == conversation_id:
            job.stop()
            job.join(10)
        self.app.chats.delete(conversation_id)
        if conversation_id == self._current_id:
            self.refresh_conversations(select_newest=True)
        else:
            self.refresh_conversations()

    # -- asking -------------------------------------------------------------------------
    @property
    def answering(self) -> bool:
        return self._job is not None

    def send(self, text: str) -> None:
        """Ask ``text`` in the current conversation (created now if it is new)."""
        if self._responder is None or self._job is not None or self._closed:
            return
        if self._current_id is None:
            conv = self.app.chats.create_conversation(title_from(text))
            self._current_id = conv.id
            self.chat.set_title(conv.title)
            self.refresh_conversations()
        conv_id = self._current_id or 0
        self.chat.add_user_message(text)
        self._live_bubble = self.chat.begin_answer()
        job = AnswerJob(self._responder, text, conv_id, self)
        job.token.connect(self._on_token)
        job.answered.connect(self._on_answered)
        job.failed.connect(self._on_answer_failed)
        job.done.connect(self._on_answer_done)
        self._job = job
        self.chat.composer.set_busy(True)
        self.stop_shortcut.setEnabled(True)
        self.answer_stats.setText("")
        job.start()

    def stop_answer(self) -> None:
        if self._job is not None and not self._job.stopping:
            self._job.stop()
            self.chat.composer.hint.setText("Stopping…")

    def _live(self) -> MessageBubble | None:
        """The bubble of the running answer, if its conversation is on screen."""
        job = self._job
        if job is None or job.conversation_id != self._current_id:
            return None
        return self._live_bubble

    def _on_token(self, piece: str) -> None:
        bubble = self._live()
        if bubble is not None:
            if not bubble.text():
                bubble.set_note("")
            bubble.append(piece)

    def _on_answered(self, answer: Answer) -> None:
        bubble = self._live()
        if bubble is not None:
            bubble.set_pending(False)
            if answer.answer:
                bubble.set_text(answer.answer)
            if answer.finish_reason == FinishReason.CANCELLED.value:
                bubble.set_note("Stopped" if answer.answer else "Stopped before answering.")
            elif answer.finish_reason == FinishReason.LENGTH.value:
                bubble.set_note("Reached the answer length limit.")
            else:
                bubble.set_note("")
        self.answer_stats.setText(answer_stats_text(answer))

    def _on_answer_failed(self, message: str) -> None:
        bubble = self._live()
        if bubble is not None:
            bubble.set_pending(False)
            bubble.set_note(message)
        self.answer_stats.setText(message)

    def _on_answer_done(self) -> None:
        job = self._job
        self._job = None
        self._live_bubble = None
        if job is not None:
            job.join(5)
            job.deleteLater()
        if self._closed:
            return
        self.chat.composer.set_busy(False)
        self.stop_shortcut.setEnabled(False)
        self.refresh_conversations()
        self.chat.composer.input.setFocus()

    # -- shut-down ----------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop the answer, stop waiting for the model, join their threads. Idempotent."""
        if self._closed:
            return
        self._closed = True
        if self._job is not None:
            self._job.stop()
            if not self._job.join(15):
                log.warning("the answer did not stop in time")
        self.loader.stop()
        stored = self._window_settings()
        stored.setValue("geometry", self.saveGeometry())
        stored.setValue("splitter", self.splitter.saveState())
        stored.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.shutdown()
        event.accept()
        super().closeEvent(event)


def answer_stats_text(answer: Answer) -> str:
    """"First token 210 ms · 48.5 tokens/s · 61 tokens" for the status bar."""
    n = answer.completion_tokens
    if n == 0:
        return f"No tokens generated ({answer.total_ms:.0f} ms)"
    decode_ms = answer.total_ms - answer.ttft_ms
    rate = (n - 1) * 1000 / decode_ms if n > 1 and decode_ms > 0 else n * 1000 / max(
        answer.total_ms, 1e-3)
    tokens = "token" if n == 1 else "tokens"
    return f"First token {answer.ttft_ms:.0f} ms · {rate:.1f} tokens/s · {n} {tokens}"
