"""The main window: a page list on the left (Chat, Notes, Memory, …), the page on the right.

The window is a shell: it lays out the widgets, builds each page the first time it is
shown, and connects the controllers that do the work (:mod:`assistant.gui.controllers`):
:class:`ModelStatusController` starts the model in the background (Send turns on when
it is ready), :class:`ThinkingController` then starts thinking while the person is away
and reports its status for the status bar and the tray, and :class:`ChatController`
manages conversations and streams each answer. Every service comes from the open
profile (:class:`assistant.app.Reverie`); the window constructs none.

Closing the window hides it when a tray exists (Reverie keeps thinking; the first time,
a notice says so); without a tray, closing quits. :meth:`shutdown` stops the answer,
the coordinator and every thread the window started.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QProgressBar,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from assistant.gui.banner import Banner
from assistant.gui.chat_view import ChatView
from assistant.gui.controllers.chat import ChatController
from assistant.gui.controllers.importing import ImportController
from assistant.gui.controllers.model_status import ModelStatusController
from assistant.gui.controllers.thinking import IdleProbe, ThinkingController
from assistant.gui.conversation_list import ConversationList
from assistant.gui.menus import WindowActions
from assistant.gui.pages import PAGE_KEYS, PAGES, PageStack, build_page
from assistant.gui.qt_compat import emit
from assistant.gui.tray import Tray, TrayAvailable
from assistant.gui.window_state import DEFAULT_SIZE, restore_window, save_window

if TYPE_CHECKING:
    from assistant.app import Reverie
    from assistant.gui.model_loader import ModelLoader
    from assistant.gui.quick_ask import QuickAsk
    from assistant.gui.views.away import AwayView
    from assistant.gui.views.insights import InsightsView
    from assistant.gui.views.memory import MemoryView
    from assistant.gui.views.models import ModelsView
    from assistant.gui.views.notes import NotesView
    from assistant.gui.views.prepared import PreparedView
    from assistant.gui.views.settings import SettingsView
    from assistant.llm.engine import Engine
    from assistant.paths import Paths

log = logging.getLogger("assistant.gui")


class MainWindow(QMainWindow):
    """One window on one open profile (``app``); it does not own ``app``."""

    #: Quit Reverie (from the tray menu or Ctrl+Q): run_gui ends the event loop.
    quit_requested = Signal()
    #: Restart on a fresh profile (True: after deleting all data) or the same one.
    restart_requested = Signal(bool)

    def __init__(self, app: Reverie | None, parent: QWidget | None = None, *,
                 paths: Paths | None = None, tray_available: TrayAvailable | None = None,
                 idle_probe: IdleProbe | None = None, think: bool = True) -> None:
        """``app`` may be None at first (then give ``paths``): the window shows at once
        and :meth:`attach` gives it the profile once the database layer is loaded."""
        super().__init__(parent)
        if app is not None:
            paths = app.paths
        if paths is None:
            raise ValueError("MainWindow needs an open profile or its paths")
        self._app = app
        self.paths: Paths = paths
        self.setObjectName("mainWindow")
        self.setWindowTitle("Reverie")
        self.setAccessibleName("Reverie")
        self._pending_page: str | None = None
        self._closed = False
        self._quitting = False
        self._think = think
        self._quick_ask: QuickAsk | None = None

        # -- chat page (conversation list + chat)
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
        self.splitter.setSizes([260, DEFAULT_SIZE[0] - 460])

        # -- the other pages are built the first time they are shown (a faster start)
        self.tray = Tray(tray_available, self)
        self.stack = PageStack(lambda key: build_page(self, key), self, chat=self.splitter)
        self._built = self.stack.built
        self.nav = QListWidget(self)
        self.nav.setObjectName("pageList")
        self.nav.setAccessibleName("Pages")
        self.nav.setFixedWidth(196)
        for i, (key, label) in enumerate(PAGES):
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, key)
            item.setToolTip(f"{label} (Ctrl+{i + 1})")
            self.nav.addItem(item)
        self.brand = QLabel("Reverie", self)
        self.brand.setObjectName("brand")
        nav_column = QWidget(self)
        nav_column.setObjectName("navColumn")
        nav_layout = QVBoxLayout(nav_column)
        nav_layout.setContentsMargins(10, 14, 10, 10)
        nav_layout.setSpacing(8)
        nav_layout.addWidget(self.brand)
        nav_layout.addWidget(self.nav, 1)
        central = QWidget(self)
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(nav_column)
        row.addWidget(self.stack, 1)
        self.setCentralWidget(central)
        self._build_status_bar()

        # -- controllers
        self.model = ModelStatusController(app, self)
        self.model.status_changed.connect(self._set_model_status)
        self.model.progress_changed.connect(self._on_model_progress)
        self.model.answerable_changed.connect(self.chat.composer.set_ready)
        self.model.ready.connect(self._on_model_ready)
        self.model.failed.connect(self.error_banner.show_message)
        self.thinking = ThinkingController(self, idle_probe=idle_probe)
        self.thinking.status_changed.connect(self._on_thinking_status)
        self.thinking.idle_backend_found.connect(self._on_idle_backend)
        self.conversations = ChatController(self.chat, self.sidebar, self)
        self.conversations.stats_changed.connect(self.answer_stats.setText)
        # Titles made while the person was away show when the session ends.
        self.thinking.session_ended.connect(self.conversations.refresh_conversations)
        self.conversations.answer_finished.connect(self._refresh_tray)
        self.importer = ImportController(self)

        self.menu_actions = WindowActions(self)
        self.conversations.busy_changed.connect(self.menu_actions.stop_shortcut.setEnabled)
        self.nav.currentRowChanged.connect(self._on_page_changed)
        self.tray.open_requested.connect(self.bring_to_front)
        self.tray.ask_requested.connect(self.show_quick_ask)
        self.tray.pause_requested.connect(self.pause_thinking)
        self.tray.resume_requested.connect(self.resume_thinking)
        self.tray.quit_requested.connect(self.quit_app)
        self._prepared_timer = QTimer(self)
        self._prepared_timer.setInterval(60_000)
        self._prepared_timer.timeout.connect(self._refresh_tray)
        self._prepared_timer.start()

        restore_window(self, self.splitter, self.paths.config_dir)
        self.nav.setCurrentRow(0)
        self.chat.composer.input.setFocus()
        if app is not None:
            self.attach(app)
        else:
            self.model.opening()

    def attach(self, app: Reverie) -> None:
        """Give the window its open profile: conversations, pages and the model follow."""
        self._app = app
        self.paths = app.paths
        self.model.attach(app)
        if app.settings_warning:
            self.settings_banner.show_message(app.settings_warning)
        self.conversations.attach(app)
        self.thinking.attach(app)
        if self._pending_page is not None:
            self.show_page(self._pending_page)
            self._pending_page = None

    @property
    def app(self) -> Reverie:
        """The open profile (only valid once :attr:`attached`)."""
        if self._app is None:
            raise RuntimeError("the profile is not open yet")
        return self._app

    @property
    def attached(self) -> bool:
        return self._app is not None

    @property
    def loader(self) -> ModelLoader:
        return self.model.loader

    # -- set-up -------------------------------------------------------------------------
    def _build_status_bar(self) -> None:
        self.answer_stats = QLabel(self)
        self.answer_stats.setObjectName("answerStats")
        self.answer_stats.setAccessibleName("Last answer speed")
        self.model_progress = QProgressBar(self)
        self.model_progress.setObjectName("modelProgress")
        self.model_progress.setAccessibleName("Preparing the model")
        self.model_progress.setMaximumWidth(160)
        self.model_progress.setTextVisible(False)
        self.model_progress.hide()
        self.thinking_status = QLabel(self)
        self.thinking_status.setObjectName("thinkingStatus")
        self.thinking_status.setAccessibleName("Thinking status")
        self.model_status = QLabel(self)
        self.model_status.setObjectName("modelStatus")
        self.model_status.setAccessibleName("Model status")
        status = self.statusBar()
        status.setSizeGripEnabled(False)
        status.addWidget(self.answer_stats, 1)
        status.addPermanentWidget(self.thinking_status)
        status.addPermanentWidget(self.model_progress)
        status.addPermanentWidget(self.model_status)

    # -- pages --------------------------------------------------------------------------
    @property
    def current_page(self) -> str:
        item = self.nav.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else "chat"

    @property
    def pages(self) -> dict[str, QWidget]:
        """Every page by key (building those not built yet)."""
        return {key: self.page(key) for key, _label in PAGES}

    def page(self, key: str) -> QWidget:
        """The page ``key``, built now if it was never shown."""
        return self.stack.page(key)

    # the pages by name; cast: build_page makes each key's view class
    notes_view = property(lambda self: cast("NotesView", self.page("notes")))
    memory_view = property(lambda self: cast("MemoryView", self.page("memory")))
    prepared_view = property(lambda self: cast("PreparedView", self.page("prepared")))
    away_view = property(lambda self: cast("AwayView", self.page("away")))
    insights_view = property(lambda self: cast("InsightsView", self.page("insights")))
    settings_view = property(lambda self: cast("SettingsView", self.page("settings")))
    models_view = property(lambda self: cast("ModelsView", self.page("models")))

    @property
    def quick_ask(self) -> QuickAsk:
        if self._quick_ask is None:
            from assistant.gui.quick_ask import QuickAsk

            self._quick_ask = QuickAsk(self.app.chats, lambda: self.conversations.responder,
                                       self)
            self._quick_ask.open_conversation.connect(self.show_conversation)
            self._quick_ask.answer_finished.connect(self._refresh_tray)
            # Its question made a conversation (or, refused, removed one): list it.
            self._quick_ask.answer_finished.connect(self.conversations.refresh_conversations)
        return self._quick_ask

    def show_page(self, key: str) -> QWidget:
        if self._app is None:
            self._pending_page = key
            self.nav.setCurrentRow(PAGE_KEYS.index(key))
            return self.stack.widget(PAGE_KEYS.index(key)) or self.stack
        page = self.page(key)
        index = PAGE_KEYS.index(key)
        if self.nav.currentRow() != index:
            self.nav.setCurrentRow(index)
        else:
            self._on_page_changed(index)
        return page

    def _on_page_changed(self, index: int) -> None:
        if index < 0:
            return
        if "notes" in self._built and self.stack.currentWidget() is self._built["notes"]:
            self.notes_view.save_now()
        key = PAGES[index][0]
        if self._app is None:  # the profile is still opening: show the page once it is
            self._pending_page = key
            self.stack.setCurrentIndex(index)
            return
        self.page(key)
        self.stack.setCurrentIndex(index)
        page = self.stack.currentWidget()
        refresh = getattr(page, "refresh", None)
        if refresh is not None:
            refresh()

    def focus_search(self) -> None:
        """Ctrl+F: the search field of the page on screen."""
        page = self.stack.currentWidget()
        if page is self.splitter:
            self.sidebar.search.setFocus()
            self.sidebar.search.selectAll()
            return
        focus = getattr(page, "focus_search", None)
        if focus is not None:
            focus()

    # -- window, tray, quitting ---------------------------------------------------------
    def bring_to_front(self) -> None:
        """Show and raise the window (tray "Open", or a second ``reverie`` start)."""
        if self._closed:
            return
        self.showNormal() if self.isMinimized() else self.show()
        self.raise_()
        self.activateWindow()

    def show_quick_ask(self) -> None:
        if not self._closed and self._app is not None:
            self.quick_ask.present()

    def show_conversation(self, conversation_id: int) -> None:
        self.bring_to_front()
        self.show_page("chat")
        self.conversations.show_conversation(conversation_id)

    def quit_app(self) -> None:
        """Quit for real (the tray menu's Quit, Ctrl+Q)."""
        self._quitting = True
        self.close()
        emit(self.quit_requested)

    def request_restart(self, wipe: bool) -> None:
        self._quitting = True
        self.restart_requested_wipe = wipe
        self.close()
        emit(self.restart_requested, wipe)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._quitting or self._closed or self.tray.icon is None:
            self.shutdown()
            event.accept()
            super().closeEvent(event)
            return
        event.ignore()
        if self._app is None:
            self.hide()
            return
        if "notes" in self._built:
            self.notes_view.save_now()
        self.hide()
        if not self.app.settings.ui.tray_notice_shown:
            self.tray.notify("Reverie is still running",
                             "It keeps thinking while you are away. Open it or quit it from "
                             "the tray icon.")
            with contextlib.suppress(Exception):
                self.app.save_settings(self.app.settings.replace("ui", tray_notice_shown=True))

    # -- model --------------------------------------------------------------------------
    def start_model(self) -> None:
        """Begin preparing and loading the model in the background."""
        self.model.start()

    def _set_model_status(self, text: str) -> None:
        self.model_status.setText(text)
        self.model_status.setToolTip(text)

    def _on_model_progress(self, percent: int) -> None:
        if percent < 0:
            self.model_progress.hide()
            return
        self.model_progress.setRange(0, 100)
        self.model_progress.setValue(percent)
        self.model_progress.show()

    def _on_model_ready(self, engine: Engine) -> None:
        if self._closed:
            return
        self.conversations.set_responder(self.app.responder(engine))
        self.thinking.set_engine(engine)
        if "models" in self._built:
            self.models_view.set_loaded(self.model.loader.model_name)
        if "away" in self._built:
            self.update_think_now(self.away_view)
        if self._think:
            self.thinking.start(engine)

    # -- thinking -----------------------------------------------------------------------
    def _on_thinking_status(self, text: str, reason: str) -> None:
        if self._closed:
            return
        self.thinking_status.setText(text)
        self.thinking_status.setToolTip(reason)
        self.thinking_status.setAccessibleDescription(reason)
        if "away" in self._built:
            away: AwayView = self.away_view
            self.update_think_now(away)
            if self.stack.currentWidget() is away and not away.thinking:
                away.refresh()
        self._refresh_tray()

    def _on_idle_backend(self, name: str, system_wide: bool,
                         failures: list[tuple[str, str]]) -> None:
        if "settings" in self._built:
            self.settings_view.set_idle_backend(name, system_wide, failures)

    @property
    def idle_backend_name(self) -> str:
        return self.thinking.idle_backend_name

    def update_think_now(self, away: AwayView) -> None:
        """"Think now" is offered once the model is ready and no session runs."""
        if self.thinking.thinking_now:
            away.set_session_starter(None, "Reverie is already thinking; it stops when you "
                                     "come back.")
            return
        starter = self.thinking.session_starter()
        if starter is not None:
            away.set_session_starter(starter)

    def _refresh_tray(self) -> None:
        if self._closed or self._app is None:
            return
        try:
            prepared = self._app.anticipations.count_ready()
        except Exception:  # the database is closing
            return
        state, reason = self.thinking.status or ("off", "")
        self.tray.set_status(state, reason, prepared,
                             notify_on_return=self._app.settings.ui.notify_on_return)

    def pause_thinking(self, hours: float) -> None:
        self.thinking.pause(hours)

    def resume_thinking(self) -> None:
        self.thinking.resume()

    # -- conversations (the chat controller does the work) -------------------------------
    @property
    def current_conversation_id(self) -> int | None:
        return self.conversations.current_conversation_id

    @property
    def answering(self) -> bool:
        return self.conversations.answering

    def new_chat(self) -> None:
        """Ctrl+N: the chat page, on a new conversation."""
        self.bring_to_front()
        self.show_page("chat")
        self.conversations.new_conversation()

    # -- shut-down ----------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop the answer, thinking and every worker thread of the window. Idempotent.

        The coordinator is shut down here, before ``Reverie.close()`` closes the engine
        and the database.
        """
        if self._closed:
            return
        self._closed = True
        self._prepared_timer.stop()
        if "notes" in self._built:
            self.notes_view.shutdown()
        if self._quick_ask is not None:
            self._quick_ask.stop()
            self._quick_ask.hide()
        self.importer.shutdown()
        self.conversations.shutdown()
        if "away" in self._built:
            self.away_view.stop()
        for key in ("memory", "prepared"):  # their lists load on worker threads
            if key in self._built:
                self.page(key).shutdown()  # type: ignore[attr-defined]
        if "models" in self._built:
            self.models_view.stop()
        self.model.stop()
        self.thinking.shutdown()
        self.tray.hide()
        save_window(self, self.splitter, self.paths.config_dir)
