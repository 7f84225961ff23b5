"""Run blocking work off the GUI thread and hear about it on the GUI thread.

Like Picard's ``run_task`` and Anki's ``CollectionOp``: the work function runs on a
plain Python thread and must not touch widgets; its progress, result and error come
back as Qt signals delivered (queued) on the thread that created the :class:`Task`,
which is the GUI thread. Every task is joined before the window goes away, so no
thread outlives it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal, Slot

from assistant.gui.qt_compat import emit

log = logging.getLogger("assistant.gui")

THREAD_PREFIX = "reverie-gui-"


class Task(QObject):
    """One piece of background work. ``fn(task)`` runs on its own thread.

    ``fn`` may call :meth:`report` (progress, any object) and poll :meth:`cancelled`;
    whatever it returns arrives as ``succeeded``, whatever it raises as ``failed``.
    ``done`` follows either of them.
    """

    progress = Signal(object)
    succeeded = Signal(object)
    failed = Signal(object)
    done = Signal()

    def __init__(self, fn: Callable[[Task], Any], name: str,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fn = fn
        #: Delivers the signals to plain callables (set by run_task; kept alive here).
        self.callbacks: QObject | None = None
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, name=THREAD_PREFIX + name,
                                        daemon=True)

    def start(self) -> Task:
        self._thread.start()
        return self

    def report(self, value: object) -> None:
        """From the worker: deliver ``value`` to ``progress`` listeners on the GUI thread."""
        emit(self.progress, value)

    def cancel(self) -> None:
        """Ask the work to stop; it decides when (see :meth:`cancelled`)."""
        self._cancel.set()

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread to end; True when it has."""
        if self._thread.ident is not None:
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        try:
            result = self._fn(self)
        except BaseException as exc:
            if not isinstance(exc, TaskCancelled):
                log.exception("background task %s failed", self._thread.name)
            emit(self.failed, exc)
        else:
            emit(self.succeeded, result)
        finally:
            emit(self.done)


class TaskCancelled(Exception):
    """Raised inside a task's work function to end it early on request."""


class _Callbacks(QObject):
    """Receives a task's signals on the GUI thread and calls plain Python callables.

    Connecting signals to QObject slots (not to lambdas or builtins) keeps delivery
    a plain Qt queued connection, owned by the task.
    """

    def __init__(self, task: Task, on_success: Callable[[Any], None] | None,
                 on_error: Callable[[BaseException], None] | None,
                 on_progress: Callable[[Any], None] | None) -> None:
        super().__init__(task)
        self._on_success, self._on_error, self._on_progress = on_success, on_error, on_progress
        queued = Qt.ConnectionType.QueuedConnection
        task.succeeded.connect(self.succeeded, queued)
        task.failed.connect(self.failed, queued)
        task.progress.connect(self.progress, queued)

    @Slot(object)
    def succeeded(self, value: object) -> None:
        if self._on_success is not None:
            self._on_success(value)

    @Slot(object)
    def failed(self, exc: object) -> None:
        if self._on_error is not None:
            self._on_error(exc)  # type: ignore[arg-type]

    @Slot(object)
    def progress(self, value: object) -> None:
        if self._on_progress is not None:
            self._on_progress(value)


def run_task(fn: Callable[[Task], Any], *, name: str,
             on_success: Callable[[Any], None] | None = None,
             on_error: Callable[[BaseException], None] | None = None,
             on_progress: Callable[[Any], None] | None = None,
             parent: QObject | None = None) -> Task:
    """Start ``fn`` on a thread; the callbacks run later on the GUI thread.

    Call it from the GUI thread: the signals are queued to the thread that owns the
    task, which is the one that created it. Keep a reference to the task (or give it
    a ``parent``) until ``done``.
    """
    task = Task(fn, name, parent)
    task.callbacks = _Callbacks(task, on_success, on_error, on_progress)
    return task.start()
