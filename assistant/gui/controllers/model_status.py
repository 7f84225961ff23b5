"""What the window says about the model: preparing, loading, ready or failed.

:class:`ModelStatusController` owns the profile's :class:`ModelLoader` and turns its
signals into what the status bar and the composer show: a status line, a progress
percentage, and whether (and why not) the person can send a question.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from assistant.gui.model_loader import ModelLoader, ModelState
from assistant.gui.qt_compat import emit

if TYPE_CHECKING:
    from assistant.app import Reverie
    from assistant.llm.engine import Engine

OPENING = "Opening your profile…"
LOADING = "Loading the model…"
NOT_LOADED = "No model is loaded, so Reverie cannot answer."


class ModelStatusController(QObject):
    """The model's state for the status bar and the composer."""

    #: The status-bar line ("Loading the model…", "Ready · gemma-3-270m").
    status_changed = Signal(str)
    #: Percent done while the bundled model is prepared; -1 hides the progress bar.
    progress_changed = Signal(int)
    #: Whether a question can be sent now, and if not, one sentence why.
    answerable_changed = Signal(bool, str)
    #: The engine is ready (carries it); the chat and thinking controllers start here.
    ready = Signal(object)
    #: Loading failed: one sentence for the person.
    failed = Signal(str)

    def __init__(self, app: Reverie | None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.loader = ModelLoader(app, self)
        self.loader.progress.connect(self._on_progress)
        self.loader.loading.connect(self._on_loading)
        self.loader.ready.connect(self._on_ready)
        self.loader.failed.connect(self._on_failed)
        self.text = ""

    def opening(self) -> None:
        """The profile is not open yet."""
        self._say(OPENING, answerable=False)

    def attach(self, app: Reverie) -> None:
        self.loader.attach(app)
        self._say(LOADING, answerable=False)

    def start(self) -> None:
        """Begin preparing and loading the model in the background."""
        self.loader.start()

    def stop(self) -> None:
        self.loader.stop()

    @property
    def engine(self) -> Engine | None:
        return self.loader.engine

    @property
    def state(self) -> ModelState:
        return self.loader.state

    def _say(self, text: str, *, answerable: bool, why: str | None = None) -> None:
        self.text = text
        emit(self.status_changed, text)
        emit(self.answerable_changed, answerable, "" if answerable else (why or text))

    def _on_progress(self, done: int, total: int) -> None:
        percent = int(done * 100 / total) if total else 100
        emit(self.progress_changed, percent)
        self._say(f"Preparing the bundled model… {percent}%", answerable=False)

    def _on_loading(self) -> None:
        emit(self.progress_changed, -1)
        self._say(LOADING, answerable=False)

    def _on_ready(self, name: str) -> None:
        engine = self.loader.engine
        if engine is None:
            return
        emit(self.progress_changed, -1)
        self._say(f"Ready · {name}", answerable=True)
        emit(self.ready, engine)

    def _on_failed(self, message: str) -> None:
        emit(self.progress_changed, -1)
        self._say("Model not loaded", answerable=False, why=NOT_LOADED)
        emit(self.failed, message)
