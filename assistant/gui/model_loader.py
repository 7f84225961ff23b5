"""Start the model without blocking the window: assemble, load, then say so.

``Reverie.start_engine`` may first copy the bundled model (253 MB) and the engine
then loads on its own thread; both happen here off the GUI thread, and the window
hears ``progress``, then ``ready`` or ``failed``, on the GUI thread.
"""

from __future__ import annotations

import logging
import time
from enum import Enum
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from assistant.gui.qt_compat import emit
from assistant.gui.workers import Task, TaskCancelled, run_task

if TYPE_CHECKING:
    from assistant.app import Reverie
    from assistant.llm.engine import Engine

log = logging.getLogger("assistant.gui")

#: How often the loading thread checks whether the window is closing.
_POLL_SECONDS = 0.1


class ModelState(Enum):
    IDLE = "idle"
    PREPARING = "preparing"  # assembling the bundled model file
    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"


class ModelLoader(QObject):
    """Brings ``app``'s engine up in the background; one start per window."""

    #: (bytes done, bytes total) while the bundled model file is being prepared.
    progress = Signal(int, int)
    #: Loading has begun (the model file exists).
    loading = Signal()
    #: The model is ready; carries its display name.
    ready = Signal(str)
    #: Loading failed; carries one sentence for the person.
    failed = Signal(str)

    def __init__(self, app: Reverie | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._app = app
        self._task: Task | None = None
        self.state = ModelState.IDLE
        self.model_name = ""
        self.error = ""
        self.engine: Engine | None = None

    def attach(self, app: Reverie) -> None:
        """The profile whose engine to start (when the window was made before it)."""
        self._app = app

    def start(self) -> None:
        if self._task is not None or self._app is None:
            return
        self.state = ModelState.PREPARING
        self._task = run_task(self._work, name="model-loader", on_success=self._on_ready,
                              on_error=self._on_failed, on_progress=self._on_progress,
                              parent=self)

    def stop(self, timeout: float = 10.0) -> None:
        """Stop waiting (the window is closing) and join the loading thread."""
        if self._task is not None:
            self._task.cancel()
            if not self._task.join(timeout):
                log.warning("the model loader did not stop within %.0f s", timeout)

    # -- worker thread ------------------------------------------------------------------
    def _work(self, task: Task) -> Engine:
        def progress(done: int, total: int) -> None:
            if task.cancelled():
                raise TaskCancelled
            task.report((done, total))

        app = self._app
        if app is None:
            raise LoadFailed("The profile is not open yet.")
        engine = app.start_engine(progress)
        task.report("loading")
        while True:
            asked = time.monotonic()
            if engine.wait_ready(_POLL_SECONDS):
                return engine
            error = engine.load_error
            if error:
                raise LoadFailed(error)
            if task.cancelled():
                raise TaskCancelled
            if time.monotonic() - asked < _POLL_SECONDS / 2:  # it answered "no" at once
                raise LoadFailed("The model did not load; see the log file for details.")

    # -- GUI thread ---------------------------------------------------------------------
    def _on_progress(self, value: object) -> None:
        if value == "loading":
            self.state = ModelState.LOADING
            emit(self.loading)
        elif isinstance(value, tuple):
            emit(self.progress, *value)

    def _on_ready(self, engine: Engine) -> None:
        self.engine = engine
        self.model_name = engine.info.name
        self.state = ModelState.READY
        log.info("model ready: %s", self.model_name)
        emit(self.ready, self.model_name)

    def _on_failed(self, exc: BaseException) -> None:
        if isinstance(exc, TaskCancelled):
            return
        self.error = _sentence(exc)
        self.state = ModelState.FAILED
        emit(self.failed, self.error)


class LoadFailed(Exception):
    """The engine reported a load error (its message is for the person)."""


def _sentence(exc: BaseException) -> str:
    text = str(exc).strip()
    if not text:
        text = f"The model could not be started ({type(exc).__name__})."
    return text
