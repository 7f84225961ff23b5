"""One question being answered: the Responder on a worker thread, tokens as signals.

The engine calls ``on_token`` from its own thread; the pieces are emitted as a queued
signal, so the chat view only ever changes on the GUI thread. Stopping goes through
``should_stop`` (checked during prefill and after every token); the Responder keeps
the partial answer in the conversation.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Qt, Signal

from assistant.gui.qt_compat import emit
from assistant.gui.workers import Task, run_task
from assistant.recall.answer_prompts import QuestionTooLongError
from assistant.recall.responder import Answer, Responder


class AnswerJob(QObject):
    """Ask ``question`` in ``conversation_id`` and stream the answer."""

    token = Signal(str)
    #: The finished (or stopped) answer; ``Answer.finish_reason`` says which.
    answered = Signal(object)
    #: One sentence when answering failed.
    failed = Signal(str)
    #: One sentence when the question was refused before anything was stored (too long
    #: for the model's window): the person still has it only in the box they typed in.
    refused = Signal(str)
    #: After ``answered`` or ``failed``.
    done = Signal()

    def __init__(self, responder: Responder, question: str, conversation_id: int,
                 parent: QObject | None = None, *, fresh: bool = False) -> None:
        super().__init__(parent)
        #: "Think again": answer from scratch through ``responder.think_again``.
        self.fresh = fresh
        self.question = question
        self.conversation_id = conversation_id
        #: What has streamed so far (kept on the GUI thread, for re-showing the bubble).
        self.text = ""
        self._responder = responder
        self._stop = threading.Event()
        self._pieces = _TokenBridge()
        self._pieces.piece.connect(self._on_piece, Qt.ConnectionType.QueuedConnection)
        self._task: Task | None = None

    def start(self) -> None:
        self._task = run_task(self._work, name="answer", on_success=self._on_answered,
                              on_error=self._on_failed, parent=self)

    def stop(self) -> None:
        """Ask the engine to stop after the current token; the partial answer is kept."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    @property
    def running(self) -> bool:
        return self._task is not None and self._task.running

    def join(self, timeout: float | None = None) -> bool:
        return self._task is None or self._task.join(timeout)

    # -- worker thread ------------------------------------------------------------------
    def _work(self, _task: Task) -> Answer:
        ask = self._responder.think_again if self.fresh else self._responder.ask
        return ask(self.question, self.conversation_id, on_token=self._pieces.send,
                   should_stop=self._stop.is_set)

    # -- GUI thread ---------------------------------------------------------------------
    def _on_piece(self, piece: str) -> None:
        self.text += piece
        emit(self.token, piece)

    def _on_answered(self, answer: Answer) -> None:
        emit(self.answered, answer)
        emit(self.done)

    def _on_failed(self, exc: BaseException) -> None:
        if isinstance(exc, QuestionTooLongError):
            emit(self.refused, str(exc))
            emit(self.done)
            return
        message = str(exc).strip() or type(exc).__name__
        emit(self.failed, f"The answer failed: {message}")
        emit(self.done)


class _TokenBridge(QObject):
    """Carries text pieces from the engine thread; emitting a signal is thread-safe."""

    piece = Signal(str)

    def send(self, text: str) -> None:
        emit(self.piece, text)
