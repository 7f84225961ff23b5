"""While you were away: what each recent thinking session did, and "Think now".

Each session shows when it ran, how long, the tokens it spent, why it stopped, and its
journal: what it read and what changed. Above them, the backlog: what is left to digest
and the idle time it needs at this machine's measured speed (read on a worker thread:
after a big import that reads the length of a year of chats). "Think now" runs one
session on a worker thread (the same work an idle period would do); Stop ends it within
a model step.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QPushButton, QTextBrowser, QVBoxLayout, QWidget

from assistant.gui.qt_compat import emit
from assistant.gui.views.common import PageHeader, duration_text, local, plural, when_text
from assistant.gui.workers import Task, run_task
from assistant.mind.backlog import BacklogFigures
from assistant.mind.journal import Journal
from assistant.store.models import JournalEntry, SleepSession

STOP_REASONS = {
    "done": "nothing was left to think about",
    "budget": "its time budget ran out",
    "user_returned": "you came back",
    "power": "the computer went on battery",
    "error": "something went wrong",
}

COUNTER_LABELS = (
    ("memories_added", "memory added", "memories added"),
    ("memories_updated", "memory updated", "memories updated"),
    ("memories_superseded", "memory replaced", "memories replaced"),
    ("anticipations_made", "answer prepared", "answers prepared"),
    ("anticipations_invalidated", "prepared answer invalidated",
     "prepared answers invalidated"),
)

#: Builds and runs one session: (should_stop) -> report with ``sentence()``.
SessionStarter = Callable[[Callable[[], bool]], Any]
#: Reads the backlog figures (blocking; run off the GUI thread).
BacklogReader = Callable[[], BacklogFigures]


def _seconds(row: SleepSession) -> float:
    start, end = local(row.started_at), local(row.ended_at)
    return max(0.0, (end - start).total_seconds()) if start and end else 0.0


class AwayView(QWidget):
    #: A "Think now" session ended (what it titled or prepared can be shown elsewhere).
    session_finished = Signal()

    def __init__(self, journal: Journal, parent: QWidget | None = None,
                 backlog: BacklogReader | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("awayView")
        self.journal = journal
        self._backlog = backlog
        self._backlog_task: Task | None = None
        self._backlog_again = False
        #: The figures last shown (None until read).
        self.figures: BacklogFigures | None = None
        self._starter: SessionStarter | None = None
        self._task: Task | None = None
        self._busy_reason = ""
        self.header = PageHeader(
            "While you were away",
            "What Reverie thought about in its recent sessions: what it read, what it "
            "changed, and what it cost.", self)
        self.think_button = QPushButton("Think now", self)
        self.think_button.setObjectName("primaryButton")
        self.think_button.setAccessibleName("Think now")
        self.think_button.setToolTip("Run one thinking session now, while you wait")
        self.header.add_widget(self.think_button)
        self.view = QTextBrowser(self)
        self.view.setObjectName("journalView")
        self.view.setAccessibleName("Journal of recent sessions")
        self.view.setOpenLinks(False)
        self.backlog_line = QLabel("", self)
        self.backlog_line.setObjectName("backlogLine")
        self.backlog_line.setAccessibleName("What is left to digest")
        self.backlog_line.setWordWrap(True)
        self.backlog_line.setVisible(backlog is not None)
        body = QVBoxLayout()
        body.setContentsMargins(24, 0, 24, 16)
        body.addWidget(self.backlog_line)
        body.addWidget(self.view)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.header)
        layout.addLayout(body, 1)
        self.think_button.clicked.connect(self.toggle_thinking)
        self.set_session_starter(None)

    # -- thinking now -------------------------------------------------------------------
    def set_session_starter(self, starter: SessionStarter | None, reason: str = "") -> None:
        """Enable "Think now" (``starter`` runs one session), or say why it is off."""
        self._starter = starter
        self._busy_reason = reason
        self._update_button()

    @property
    def thinking(self) -> bool:
        return self._task is not None

    def _update_button(self) -> None:
        if self._task is not None:
            self.think_button.setText("Stop thinking")
            self.think_button.setEnabled(not self._task.cancelled())
            return
        self.think_button.setText("Think now")
        self.think_button.setEnabled(self._starter is not None)
        self.think_button.setToolTip(
            self._busy_reason or ("Run one thinking session now" if self._starter
                                  else "Available once the model is ready"))

    def toggle_thinking(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._update_button()
            return
        starter = self._starter
        if starter is None:
            return
        self._task = run_task(lambda task: starter(task.cancelled), name="think-now",
                              on_success=self._on_report, on_error=self._on_error,
                              parent=self)
        self._task.done.connect(self._on_done)
        self.header.subtitle.setText("Thinking now… you can keep using Reverie; Stop ends it.")
        self._update_button()

    def _on_report(self, report: Any) -> None:
        self.header.subtitle.setText(report.sentence())

    def _on_error(self, exc: BaseException) -> None:
        self.header.subtitle.setText(f"Thinking failed: {exc}")

    def _on_done(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.join(5)
        self._update_button()
        self.refresh()
        emit(self.session_finished)

    def stop(self, timeout: float = 10.0) -> None:
        """Cancel a running session and wait for its thread (the window is closing)."""
        if self._task is not None:
            self._task.cancel()
            self._task.join(timeout)
        if self._backlog_task is not None:
            self._backlog_task.join(timeout)

    # -- the backlog --------------------------------------------------------------------
    def refresh_backlog(self) -> None:
        """Read the backlog figures on a worker thread; the line updates when they come."""
        reader = self._backlog
        if reader is None:
            return
        if self._backlog_task is not None:  # read again once this one is done
            self._backlog_again = True
            return
        self._backlog_again = False
        if self.figures is None:
            self.backlog_line.setText("Measuring what is left to digest…")
        self._backlog_task = run_task(lambda _task: reader(), name="backlog",
                                      on_success=self._show_backlog,
                                      on_error=self._backlog_failed, parent=self)
        self._backlog_task.done.connect(self._backlog_done)

    def _show_backlog(self, figures: BacklogFigures) -> None:
        self.figures = figures
        self.backlog_line.setText(figures.sentence())

    def _backlog_failed(self, exc: BaseException) -> None:
        self.backlog_line.setText(f"Could not read what is left to digest: {exc}")

    def _backlog_done(self) -> None:
        task, self._backlog_task = self._backlog_task, None
        if task is not None:
            task.join(5)
        if self._backlog_again:
            self.refresh_backlog()

    # -- the journal --------------------------------------------------------------------
    def refresh(self) -> None:
        self.refresh_backlog()
        sessions = sorted(self.journal.sessions(limit=15), key=lambda r: (r.started_at, r.id or 0),
                          reverse=True)
        if not sessions:
            self.view.setHtml(
                "<p class='empty'>Reverie has not thought about anything yet. It starts "
                "after a few minutes away from the computer, or when you press "
                "<b>Think now</b>.</p>")
            return
        parts = []
        for row in sessions:
            entries = [e for e in self.journal.entries(row.id, limit=200) if e.kind != "session"]
            parts.append(self._session_html(row, list(reversed(entries))))
        self.view.setHtml("".join(parts))

    def _session_html(self, row: SleepSession, entries: list[JournalEntry]) -> str:
        seconds = _seconds(row)
        tokens = row.prompt_tokens + row.completion_tokens
        why = STOP_REASONS.get(row.stopped_because or "", row.stopped_because or "")
        state = (f"stopped because {why}" if row.ended_at is not None else "still running")
        changed = self._changes(entries)
        head = (f"<h3 style='margin:0'>{html.escape(when_text(row.started_at))}</h3>"
                f"<p style='color:#6b7280;margin:2px 0 6px 0'>{duration_text(seconds)} · "
                f"{plural(row.items_done, 'item')} done · {tokens:,} tokens "
                f"({row.prompt_tokens:,} read, {row.completion_tokens:,} written) · "
                f"{html.escape(state)}</p>")
        if changed:
            head += f"<p style='margin:0 0 4px 0'><b>Changed:</b> {html.escape(changed)}</p>"
        items = "".join(self._entry_html(e) for e in entries)
        if not items:
            items = "<li style='color:#6b7280'>No work items were finished.</li>"
        return (f"<div style='margin:6px 8px 22px 8px'>{head}"
                f"<ul style='margin:4px 0 0 0'>{items}</ul></div>")

    @staticmethod
    def _entry_html(entry: JournalEntry) -> str:
        details: dict[str, Any] = dict(entry.details or {})
        extra = []
        tokens = int(details.get("prompt_tokens", 0) or 0) + int(
            details.get("completion_tokens", 0) or 0)
        if tokens:
            extra.append(f"{tokens:,} tokens")
        read = details.get("read")
        if isinstance(read, list) and read:
            extra.append("read " + ", ".join(str(r) for r in read[:4]))
        mark = "⚠ " if entry.kind == "item_failed" else ""
        tail = (f" <span style='color:#6b7280'>({html.escape(' · '.join(extra))})</span>"
                if extra else "")
        return f"<li>{mark}{html.escape(entry.summary)}{tail}</li>"

    @staticmethod
    def _changes(entries: list[JournalEntry]) -> str:
        totals = {key: 0 for key, _one, _many in COUNTER_LABELS}
        for entry in entries:
            for key in totals:
                value = (entry.details or {}).get(key, 0)
                totals[key] += int(value) if isinstance(value, int | float) else 0
        return ", ".join(f"{n} {one if n == 1 else many}"
                         for (key, one, many) in COUNTER_LABELS if (n := totals[key]))

    def focus_search(self) -> None:
        self.view.setFocus()
