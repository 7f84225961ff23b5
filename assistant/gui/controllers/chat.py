"""The chat page's work: which conversation is shown, asking, and streaming the answer.

:class:`ChatController` drives a :class:`ChatView` and a :class:`ConversationList`.
Conversations come from ``app.chats``; each question runs as an :class:`AnswerJob` on
a worker thread and its tokens stream into the live bubble while its conversation is
on screen. The window only lays the widgets out and shows ``stats_changed`` text.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox

from assistant.gui.chat_view import ChatView, MessageBubble
from assistant.gui.conversation_list import UNTITLED, ConversationList
from assistant.gui.qt_compat import emit
from assistant.llm.engine import FinishReason

if TYPE_CHECKING:
    from assistant.app import Reverie
    from assistant.gui.answer_job import AnswerJob
    from assistant.recall.responder import Answer, Responder
    from assistant.store.models import Message

log = logging.getLogger("assistant.gui")

#: Messages shown when a conversation opens (the latest); older ones on request, so a
#: chat of hundreds of long messages opens at once.
SHOWN_MESSAGES = 12

#: Asks the person (title, question) and returns whether they said yes.
Confirm = Callable[[str, str], bool]


class ChatController(QObject):
    """Conversations and the ask -> stream -> answer flow of one chat view."""

    #: One line about the last answer ("First token 210 ms · …") or its failure.
    stats_changed = Signal(str)
    #: An answer started (True) or ended (False); Escape stops it while True.
    busy_changed = Signal(bool)
    #: An answer ended and its conversation is saved (the tray's counts may change).
    answer_finished = Signal()

    def __init__(self, chat: ChatView, sidebar: ConversationList,
                 parent: QObject | None = None, *, confirm: Confirm | None = None) -> None:
        super().__init__(parent)
        self.chat = chat
        self.sidebar = sidebar
        self._confirm = confirm or self._ask_yes_no
        self._app: Reverie | None = None
        self._responder: Responder | None = None
        self._current_id: int | None = None
        self._job: AnswerJob | None = None
        self._live_bubble: MessageBubble | None = None
        self._shown_messages: list[Message] = []
        #: The conversation `send` created for the running answer (None: it existed).
        self._created_for_job: int | None = None
        self._closed = False
        chat.decorate_prepared = self._decorate_stored
        sidebar.selected.connect(self.open_conversation)
        sidebar.new_requested.connect(self.new_conversation)
        sidebar.rename_requested.connect(self.rename_conversation)
        sidebar.delete_requested.connect(self.delete_conversation)
        chat.composer.send_requested.connect(self.send)
        chat.composer.stop_requested.connect(self.stop_answer)
        chat.earlier_requested.connect(lambda: self._show_current(everything=True))

    def attach(self, app: Reverie) -> None:
        """The open profile; shows its newest conversation."""
        self._app = app
        self._current_id = app.lists.newest_conversation_id()
        self.sidebar.attach(app.lists, self._current_id)
        self._show_current()

    def set_responder(self, responder: Responder | None) -> None:
        """Answers become possible (the model is ready); "Think again" buttons appear."""
        self._responder = responder
        if self._job is None:
            self._show_current()

    @property
    def responder(self) -> Responder | None:
        return self._responder

    @property
    def current_conversation_id(self) -> int | None:
        return self._current_id

    @property
    def answering(self) -> bool:
        return self._job is not None

    # -- conversations ------------------------------------------------------------------
    def refresh_conversations(self, *, select_newest: bool = False) -> None:
        """Reload the list (it loads off the GUI thread); ``select_newest`` also shows
        the most recently active conversation."""
        if self._app is None:
            return
        if select_newest:
            self._current_id = self._app.lists.newest_conversation_id()
        self.sidebar.refresh(self._current_id)
        if select_newest:
            self._show_current()
        elif self._current_id is not None:
            current = self._app.chats.get(self._current_id)
            if current is not None:  # it may have been retitled while the person was away
                self.chat.set_title(current.title)

    def search_conversations(self, text: str) -> None:
        """Show only conversations whose messages or title contain ``text``."""
        self.sidebar.filter(text)

    def open_conversation(self, conversation_id: int | None) -> None:
        if conversation_id == self._current_id:
            return
        self._current_id = conversation_id
        self._show_current()

    def show_conversation(self, conversation_id: int) -> None:
        """Select ``conversation_id`` in the list and show it (quick-ask's "Open")."""
        self.refresh_conversations()
        self.sidebar.select(conversation_id)
        self.open_conversation(conversation_id)

    def _show_current(self, *, everything: bool = False, live: bool = True) -> None:
        self._live_bubble = None
        conv = (None if self._current_id is None or self._app is None
                else self._app.chats.get(self._current_id))
        if conv is None or self._app is None:
            self._current_id = None
            self.chat.set_title("")
            self._shown_messages = []
            self.chat.show_messages([])
            return
        self.chat.set_title(conv.title)
        if everything:
            self._shown_messages = self._app.chats.messages(conv.id or 0)
        else:
            self._shown_messages = self._app.chats.recent_messages(SHOWN_MESSAGES + 1,
                                                                   conv.id or 0)
        earlier = len(self._shown_messages) > SHOWN_MESSAGES and not everything
        if earlier:
            self._shown_messages = self._shown_messages[1:]
        self.chat.show_messages(self._shown_messages, earlier=earlier)
        job = self._job
        if live and job is not None and job.conversation_id == conv.id:
            self._live_bubble = self.chat.begin_answer(job.text)

    def new_conversation(self) -> None:
        """Start a fresh conversation; it is saved when its first message is sent."""
        if self._current_id is not None:
            self._current_id = None
            self.sidebar.select(None)
            self._show_current()
        self.chat.composer.input.setFocus()

    def rename_conversation(self, conversation_id: int, title: str) -> None:
        if self._app is None:
            return
        with contextlib.suppress(KeyError):
            self._app.chats.rename(conversation_id, title)
        if conversation_id == self._current_id:
            self.chat.set_title(title)

    def delete_conversation(self, conversation_id: int) -> None:
        """Ask first; then stop any answer being written into it, and delete it."""
        conv = None if self._app is None else self._app.chats.get(conversation_id)
        if conv is None or self._app is None:
            return
        if not self._confirm("Delete conversation",
                             f"Delete “{conv.title or UNTITLED}” and all its messages? "
                             "This cannot be undone."):
            return
        job = self._job
        if job is not None and job.conversation_id == conversation_id:
            job.stop()
            job.join(10)
        self._app.chats.delete(conversation_id)
        self.refresh_conversations(select_newest=conversation_id == self._current_id)

    def _ask_yes_no(self, title: str, question: str) -> bool:
        reply = QMessageBox.question(
            self.chat, title, question,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        return bool(reply == QMessageBox.StandardButton.Yes)

    # -- prepared answers in the chat ---------------------------------------------------
    def sources_for(self, answer_text: str, anticipation_id: int | None) -> list[str]:
        """Where a prepared answer came from, as lines for its "Sources" popup."""
        from assistant.gui.views.prepared import source_lines

        if self._app is None:
            return []
        anticipations = self._app.anticipations
        found = (anticipations.get(anticipation_id) if anticipation_id is not None
                 else anticipations.find_by_answer(answer_text))
        if found is None:
            return []
        lines = source_lines(self._app.memories, found.sources or {})
        return [f"Prepared {found.created_at:%d %b %H:%M} for “{found.question}”", *lines]

    def _think_again_for(self, question: str | None) -> Callable[[], None] | None:
        """"Think again" only when the Responder offers it (no dead buttons)."""
        if question is None or self._responder is None:
            return None
        return lambda: self.send(question, fresh=True)

    def _question_before(self, message: Message) -> str | None:
        previous = None
        for shown in self._shown_messages:
            if shown.id == message.id:
                return previous
            if shown.role == "user":
                previous = shown.content
        return previous

    def _decorate_stored(self, bubble: MessageBubble, message: Message) -> None:
        bubble.set_prepared(lambda: self.sources_for(message.content, None),
                            self._think_again_for(self._question_before(message)))

    # -- asking -------------------------------------------------------------------------
    def send(self, text: str, *, fresh: bool = False) -> None:
        """Ask ``text`` in the current conversation (created now if it is new)."""
        if self._responder is None or self._job is not None or self._closed:
            return
        if self._app is None:
            return
        from assistant.gui.answer_job import AnswerJob
        from assistant.store.chats import title_from

        created = self._current_id is None
        if self._current_id is None:
            conv = self._app.chats.create_conversation(title_from(text))
            self._current_id = conv.id
            self.chat.set_title(conv.title)
            self.refresh_conversations()
        conv_id = self._current_id or 0
        self._created_for_job = conv_id if created else None
        self.chat.add_user_message(text)
        self._live_bubble = self.chat.begin_answer()
        job = AnswerJob(self._responder, text, conv_id, self, fresh=fresh)
        job.token.connect(self._on_token)
        job.answered.connect(self._on_answered)
        job.failed.connect(self._on_answer_failed)
        job.refused.connect(self._on_refused)
        job.done.connect(self._on_answer_done)
        self._job = job
        self.chat.composer.set_busy(True)
        emit(self.busy_changed, True)
        emit(self.stats_changed, "")
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
        job = self._job
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
            if answer.source == "anticipated":
                question = job.question if job is not None else None
                bubble.set_prepared(
                    lambda: self.sources_for(answer.answer, answer.anticipation_id),
                    self._think_again_for(question))
        emit(self.stats_changed, answer_stats_text(answer))

    def _on_answer_failed(self, message: str) -> None:
        bubble = self._live()
        if bubble is not None:
            bubble.set_pending(False)
            bubble.set_note(message)
        emit(self.stats_changed, message)

    def _on_refused(self, message: str) -> None:
        """Nothing was stored: take the question off the screen, drop the conversation
        made for it if it is still empty, and give the text back to the box."""
        job = self._job
        if job is None or self._app is None:
            return
        gone = (job.conversation_id == self._created_for_job
                and not self._app.chats.messages(job.conversation_id))
        if gone:
            self._app.chats.delete(job.conversation_id)
        # Back where it was asked (the person may have moved on meanwhile), so that the
        # text given back is never sent into another conversation by mistake.
        self._current_id = None if gone else job.conversation_id
        self.sidebar.select(self._current_id)
        self._show_current(live=False)
        self.refresh_conversations()
        self.chat.composer.give_back(job.question, message)
        emit(self.stats_changed, "The message was not sent: it is too long for the model.")

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
        emit(self.busy_changed, False)
        self.refresh_conversations()
        self.chat.composer.input.setFocus()
        emit(self.answer_finished)

    def shutdown(self, timeout: float = 15.0) -> None:
        """Stop the running answer and wait for its thread. Idempotent."""
        self._closed = True
        if self._job is not None:
            self._job.stop()
            if not self._job.join(timeout):
                log.warning("the answer did not stop in time")
        self.sidebar.shutdown()


def answer_stats_text(answer: Answer) -> str:
    """"First token 210 ms · 48.5 tokens/s · 61 tokens" for the status bar; an answer
    the model did not write says where it came from."""
    n = answer.completion_tokens
    if answer.source == "anticipated":
        return f"Prepared while you were away · shown in {answer.total_ms:.0f} ms"
    if answer.source == "extracted":
        return f"Quoted from what you wrote · {answer.total_ms:.0f} ms"
    if n == 0:
        return f"No tokens generated ({answer.total_ms:.0f} ms)"
    decode_ms = answer.total_ms - answer.ttft_ms
    rate = (n - 1) * 1000 / decode_ms if n > 1 and decode_ms > 0 else n * 1000 / max(
        answer.total_ms, 1e-3)
    tokens = "token" if n == 1 else "tokens"
    return f"First token {answer.ttft_ms:.0f} ms · {rate:.1f} tokens/s · {n} {tokens}"
