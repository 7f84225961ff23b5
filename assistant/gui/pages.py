"""The window's pages: their order, and how each is built from the open profile.

Pages other than Chat are built the first time they are shown (a faster start);
each gets its repositories and services from :class:`assistant.app.Reverie`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QStackedWidget, QWidget

if TYPE_CHECKING:
    from assistant.gui.main_window import MainWindow

#: (key, label) of each page, in the order of the page list (Ctrl+1 … Ctrl+8).
PAGES = (
    ("chat", "Chat"),
    ("notes", "Notes"),
    ("memory", "Memory"),
    ("prepared", "Prepared answers"),
    ("away", "While you were away"),
    ("insights", "Insights"),
    ("settings", "Settings"),
    ("models", "Models"),
)
PAGE_KEYS = [key for key, _label in PAGES]


class PageStack(QStackedWidget):
    """One slot per page; a placeholder stands in until the page is first asked for."""

    def __init__(self, build: Callable[[str], QWidget], parent: QWidget | None = None,
                 **ready: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("pageStack")
        self._build = build
        #: The pages built so far, by key.
        self.built: dict[str, QWidget] = dict(ready)
        for key in PAGE_KEYS:
            self.addWidget(self.built.get(key) or QWidget(self))

    def page(self, key: str) -> QWidget:
        """The page ``key``, built now if it was never shown."""
        built = self.built.get(key)
        if built is not None:
            return built
        widget = self._build(key)
        index = PAGE_KEYS.index(key)
        placeholder = self.widget(index)
        current = self.currentIndex()
        self.insertWidget(index, widget)
        if placeholder is not None:
            self.removeWidget(placeholder)
            placeholder.deleteLater()
        self.setCurrentIndex(current)
        self.built[key] = widget
        return widget


def build_page(window: MainWindow, key: str) -> QWidget:
    """The page ``key`` of ``window`` (not Chat, which the window lays out itself)."""
    app = window.app
    if key == "notes":
        from assistant.gui.views.notes import NotesView

        return NotesView(app.notes, window)
    if key == "memory":
        from assistant.gui.views.memory import MemoryView

        return MemoryView(app.memories, app.lists, window)
    if key == "prepared":
        from assistant.gui.views.prepared import PreparedView

        return PreparedView(app.anticipations, app.memories, app.lists, window)
    if key == "away":
        from assistant.gui.views.away import AwayView

        away = AwayView(app.journal, window, backlog=app.backlog)
        window.update_think_now(away)
        # What a "Think now" session titled shows in the conversation list at once.
        away.session_finished.connect(window.conversations.refresh_conversations)
        return away
    if key == "insights":
        from assistant.gui.views.insights import InsightsView

        return InsightsView(app.anticipations, window)
    if key == "settings":
        from assistant.gui.theme import apply_current_theme
        from assistant.gui.views.settings import SettingsView

        settings = SettingsView(app, tray_available=window.tray.available, parent=window)
        settings.theme_changed.connect(apply_current_theme)
        settings.delete_all_requested.connect(lambda: window.request_restart(True))
        settings.models_requested.connect(lambda: window.show_page("models"))
        if window.thinking.idle_info is not None:
            settings.set_idle_backend(*window.thinking.idle_info)
        return settings
    if key == "models":
        from assistant.gui.views.models import ModelsView

        models = ModelsView(app, window)
        models.restart_requested.connect(lambda: window.request_restart(False))
        if window.loader.model_name:
            models.set_loaded(window.loader.model_name)
        return models
    raise KeyError(key)
