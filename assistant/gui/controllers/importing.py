"""Importing a chat export from the window: off the GUI thread, with progress and Cancel.

A year of chats takes tens of seconds to import. The work runs on a
``reverie-gui-import`` thread (:func:`assistant.gui.workers.run_task`); each committed
batch moves a progress dialog (conversations, messages, share of the file read), and
Cancel stops the import after the current conversation: what was committed stays, and
importing the same file again continues where it stopped (docs/ARCHITECTURE.md,
"Import and export formats").
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFileDialog, QProgressDialog

from assistant.gui.qt_compat import emit
from assistant.gui.workers import Task, run_task

if TYPE_CHECKING:
    from assistant.gui.main_window import MainWindow
    from assistant.store.import_batch import ImportProgress, ImportReport

log = logging.getLogger("assistant.gui")

#: The progress dialog's scale: tenths of a percent of the file read.
_STEPS = 1000


@dataclass(frozen=True)
class ImportOutcome:
    """What the window says when an import ends: the report, and whether it was stopped."""

    report: ImportReport
    stopped: bool


class ImportController(QObject):
    """Runs one import at a time for ``window`` and reports how it ended."""

    #: One sentence about how the import ended (also shown in the status bar).
    finished = Signal(str)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._window = window
        self._task: Task | None = None
        self.dialog: QProgressDialog | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and self._task.running

    def choose_file(self) -> None:
        """Ask for a ChatGPT ``conversations.json`` or a Reverie JSONL file, then import it."""
        if not self._window.attached or self.running:
            return
        name, _ = QFileDialog.getOpenFileName(
            self._window, "Import chats", str(Path.home()),
            "Chat exports (*.json *.jsonl);;All files (*)")
        if name:
            self.start(Path(name))

    def start(self, path: Path) -> Task | None:
        """Import ``path`` in the background; None when an import is already running."""
        if self.running:
            return None
        chats = self._window.app.chats

        def work(task: Task) -> ImportOutcome:
            from assistant.store.importers import ImportCancelled, import_chats

            try:
                report = import_chats(path, chats, progress=task.report,
                                      should_stop=task.cancelled)
            except ImportCancelled as stop:
                return ImportOutcome(stop.report, stopped=True)
            return ImportOutcome(report, stopped=False)

        dialog = QProgressDialog(f"Reading {path.name}…", "Cancel", 0, _STEPS, self._window)
        dialog.setObjectName("importProgress")
        dialog.setWindowTitle("Importing chats")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setMinimumDuration(0)
        dialog.setValue(0)
        dialog.show()
        self.dialog = dialog
        task = run_task(work, name="import", on_success=self._succeeded,
                        on_error=self._failed, on_progress=self._progress, parent=self)
        dialog.canceled.connect(task.cancel)
        task.done.connect(self._done)
        self._task = task
        return task

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()

    def shutdown(self, timeout: float = 30.0) -> None:
        """Stop a running import (after its current conversation) and wait for it."""
        if self._task is not None:
            self._task.cancel()
            if not self._task.join(timeout):
                log.warning("the import did not stop within %.0f s", timeout)
        self._close_dialog()

    # -- on the GUI thread ------------------------------------------------------------------
    def _progress(self, progress: ImportProgress) -> None:
        if self.dialog is None:
            return
        self.dialog.setValue(round(progress.fraction * _STEPS))
        self.dialog.setLabelText(f"{progress.conversations:,} conversations, "
                                 f"{progress.messages_added:,} messages added")

    def _succeeded(self, outcome: ImportOutcome) -> None:
        report = outcome.report
        if outcome.stopped:
            text = (f"Import stopped: {report.conversations_added} conversations and "
                    f"{report.messages_added} messages added; import the same file again "
                    "to continue (nothing is added twice).")
        else:
            text = "Import finished: " + report.summary()
        self._finish(text)

    def _failed(self, exc: BaseException) -> None:
        from assistant.store.files import ImportFileError

        if isinstance(exc, ImportFileError):
            text = str(exc)
        else:
            text = (f"The import failed ({type(exc).__name__}: {exc}); what was imported "
                    "before stays, and importing the file again continues.")
        self._window.error_banner.show_message(text)
        self._finish(text)

    def _finish(self, text: str) -> None:
        self._close_dialog()
        self._window.conversations.refresh_conversations()
        self._window.statusBar().showMessage(text, 15_000)
        emit(self.finished, text)

    def _done(self) -> None:
        self._task = None

    def _close_dialog(self) -> None:
        if self.dialog is not None:
            self.dialog.reset()
            self.dialog.hide()
            self.dialog.deleteLater()
            self.dialog = None
