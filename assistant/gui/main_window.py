"""The main window: a page list on the left (Chat, Notes, Memory, …), the page on the right.

It shows at once; the model starts in the background (:class:`ModelLoader`) and Send
turns on when it is ready. Then the thinking coordinator starts: it watches for idle
time and thinks while the person is away; its status (from worker threads, marshalled
by :class:`StatusBridge`) shows in the status bar and the tray icon. Each question runs
as an :class:`AnswerJob` on a worker thread.

Closing the window hides it when a tray exists (Reverie keeps thinking; the first time,
a notice says so); without a tray, closing quits. :meth:`shutdown` stops the answer,
the coordinator and every thread the window started.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from assistant.gui.banner import Banner
from assistant.gui.chat_view import ChatView, MessageBubble
from assistant.gui.conversation_list import UNTITLED, ConversationList
from assistant.gui.model_loader import ModelLoader
from assistant.gui.qt_compat import emit
from assistant.gui.thinking import ActivityFilter, StatusBridge, status_text
from assistant.gui.tray import Tray, TrayAvailable
from assistant.gui.workers import Task, run_task
from assistant.llm.engine import FinishReason

if TYPE_CHECKING:
    from assistant.app import Reverie
    from assistant.gui.answer_job import AnswerJob
    from assistant.llm.engine import Engine
    from assistant.paths import Paths
    from assistant.recall.responder import Answer, Responder
    from assistant.store.models import Message

log = logging.getLogger("assistant.gui")

DEFAULT_SIZE = (1200, 760)
#: "Pause until tomorrow" lasts until this hour tomorrow (local time).
TOMORROW_HOUR = 8

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

IdleProbe = Callable[[], object]


def default_idle_probe() -> object:
    from assistant.idle.backends.probe import probe_backend

    return probe_backend()


def pause_until(hours: float, now: datetime | None = None) -> datetime:
    """The end of a pause of ``hours`` (0 means until tomorrow morning)."""
    now = (now or datetime.now()).astimezone()
    if hours > 0:
        return now + timedelta(hours=hours)
    tomorrow = (now + timedelta(days=1)).replace(hour=TOMORROW_HOUR, minute=0, second=0,
                                                 microsecond=0)
    return tomorrow


class MainWindow(QMainWindow):
    """One window on one open profile (``app``); it does not own ``app``."""

    #: Quit Reverie (from the tray menu or Ctrl+Q): run_gui ends the event loop.
    quit_requested = Signal()
    #: Restart on a fresh profile (True: after deleting all data) or the same one.
    restart_requested = Signal(bool)

    def __init__(self, app: Reverie | None, parent: QWidget | None = None, *,
                 paths: Paths | None = None, tray_available: TrayAvailable | None = None,
                 idle_probe: IdleProbe = default_idle_probe, think: bool = True) -> None:
        """``app`` may be None at first (then give ``paths``): the window shows at once
        and :meth:`attach` gives it the profile once the database layer is loaded."""
        super().__init__(parent)
        self.app: Reverie = app  # type: ignore[assignment]
        if app is None and paths is None:
            raise ValueError("MainWindow needs an open profile or its paths")
        self.paths: Paths = app.paths if app is not None else paths  # type: ignore[union-attr,assignment]
        self.setObjectName("mainWindow")
        self.setWindowTitle("Reverie")
        self.setAccessibleName("Reverie")
        self._pending_page: str | None = None
        self._current_id: int | None = None
        self._job: AnswerJob | None = None
        self._live_bubble: MessageBubble | None = None
        self._responder: Responder | None = None
        self._closed = False
        self._quitting = False
        self._think = think
        self._idle_probe = idle_probe
        self._tasks: list[Task] = []
        #: (state, reason) of thinking, for the tray; states as in assistant.idle.status.
        self._status: tuple[str, str] | None = None
        self._built: dict[str, QWidget] = {}
        self._idle_info: tuple[str, bool, list[tuple[str, str]]] | None = None
        self._quick_ask = None
        self._prepared_count = 0
        self.activity_filter: ActivityFilter | None = None
        self.idle_backend_name = ""

        # -- chat page (conversation list + chat)
        self.sidebar = ConversationList(self)
        self.chat = ChatView(self)
        self.chat.decorate_prepared = self._decorate_stored
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
        self._built["chat"] = self.splitter
        self.stack = QStackedWidget(self)
        self.stack.setObjectName("pageStack")
        self.nav = QListWidget(self)
        self.nav.setObjectName("pageList")
        self.nav.setAccessibleName("Pages")
        self.nav.setFixedWidth(196)
        for i, (key, label) in enumerate(PAGES):
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, key)
            item.setToolTip(f"{label} (Ctrl+{i + 1})")
            self.nav.addItem(item)
            self.stack.addWidget(self._built.get(key) or QWidget(self))
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

        # -- status bar
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

        self.loader = ModelLoader(app, self)  # type: ignore[arg-type]
        self.loader.progress.connect(self._on_model_progress)
        self.loader.loading.connect(self._on_model_loading)
        self.loader.ready.connect(self._on_model_ready)
        self.loader.failed.connect(self._on_model_failed)
        self.status_bridge = StatusBridge(self)
        self.status_bridge.changed.connect(self._on_status)


        self._build_actions()
        self.nav.currentRowChanged.connect(self._on_page_changed)
        self.sidebar.selected.connect(self.open_conversation)
        self.sidebar.new_requested.connect(self.new_conversation)
        self.sidebar.rename_requested.connect(self.rename_conversation)
        self.sidebar.delete_requested.connect(self.delete_conversation)
        self.sidebar.search_changed.connect(self._search_conversations)
        self.chat.composer.send_requested.connect(self.send)
        self.chat.composer.stop_requested.connect(self.stop_answer)
        self.tray.open_requested.connect(self.bring_to_front)
        self.tray.ask_requested.connect(self.show_quick_ask)
        self.tray.pause_requested.connect(self.pause_thinking)
        self.tray.resume_requested.connect(self.resume_thinking)
        self.tray.quit_requested.connect(self.quit_app)
        self._prepared_timer = QTimer(self)
        self._prepared_timer.setInterval(60_000)
        self._prepared_timer.timeout.connect(self._refresh_tray)
        self._prepared_timer.start()

        self._restore_geometry()
        self.nav.setCurrentRow(0)
        self.chat.composer.input.setFocus()
        if app is not None:
            self.attach(app)
        else:
            self._set_model_status("Opening your profile…")
            self.chat.composer.set_ready(False, "Opening your profile…")

    def attach(self, app: Reverie) -> None:
        """Give the window its open profile: conversations, pages and the model follow."""
        from assistant.store.anticipations import AnticipationRepository
        from assistant.store.memories import MemoryRepository

        self.app = app
        self.paths = app.paths
        self.loader.attach(app)
        self.memories = MemoryRepository(app.db)
        self.anticipations = AnticipationRepository(app.db)
        self._set_model_status("Loading the model…")
        self.chat.composer.set_ready(False, "Loading the model…")
        if app.settings_warning:
            self.settings_banner.show_message(app.settings_warning)
        self.refresh_conversations(select_newest=True)
        self._show_offline_status()
        if self._pending_page is not None:
            self.show_page(self._pending_page)
            self._pending_page = None

    @property
    def attached(self) -> bool:
        return self.app is not None

    # -- set-up -------------------------------------------------------------------------
    def _build_actions(self) -> None:
        self.new_action = QAction("&New conversation", self)
        self.new_action.setShortcut(QKeySequence.StandardKey.New)
        self.new_action.triggered.connect(self.new_chat)
        self.ask_action = QAction("&Ask…", self)
        self.ask_action.setShortcut(QKeySequence("Ctrl+K"))
        self.ask_action.triggered.connect(self.show_quick_ask)
        self.find_action = QAction("&Search", self)
        self.find_action.setShortcut(QKeySequence.StandardKey.Find)
        self.find_action.triggered.connect(self.focus_search)
        self.quit_action = QAction("&Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.triggered.connect(self.quit_app)
        self.close_action = QAction("&Close window", self)
        self.close_action.setShortcut(QKeySequence.StandardKey.Close)
        self.close_action.triggered.connect(self.close)
        menu = self.menuBar().addMenu("&Reverie")
        for action in (self.new_action, self.ask_action, self.find_action):
            menu.addAction(action)
        menu.addAction(self.sidebar.rename_action)
        menu.addAction(self.sidebar.delete_action)
        menu.addSeparator()
        menu.addAction(self.close_action)
        menu.addAction(self.quit_action)
        view = self.menuBar().addMenu("&View")
        self.page_actions: list[QAction] = []
        for i, (key, label) in enumerate(PAGES):
            action = QAction(label, self)
            action.setShortcut(QKeySequence(f"Ctrl+{i + 1}"))
            action.triggered.connect(lambda _c=False, k=key: self.show_page(k))
            view.addAction(action)
            self.addAction(action)
            self.page_actions.append(action)
        thinking = self.menuBar().addMenu("&Thinking")
        thinking.addAction(self.tray.pause_hour_action)
        thinking.addAction(self.tray.pause_tomorrow_action)
        thinking.addAction(self.tray.resume_action)
        for action in (self.new_action, self.ask_action, self.find_action, self.quit_action,
                       self.close_action):
            self.addAction(action)
        self.stop_shortcut = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        self.stop_shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        self.stop_shortcut.activated.connect(self.stop_answer)
        self.stop_shortcut.setEnabled(False)

    def _window_settings(self) -> QSettings:
        path = self.paths.config_dir / "window.ini"
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
        built = self._built.get(key)
        if built is not None:
            return built
        widget = self._build_page(key)
        index = [k for k, _label in PAGES].index(key)
        placeholder = self.stack.widget(index)
        current = self.stack.currentIndex()
        self.stack.insertWidget(index, widget)
        self.stack.removeWidget(placeholder)
        placeholder.deleteLater()
        self.stack.setCurrentIndex(current)
        self._built[key] = widget
        return widget

    def _build_page(self, key: str) -> QWidget:
        app = self.app
        if key == "notes":
            from assistant.gui.views.notes import NotesView

            return NotesView(app.notes, self)
        if key == "memory":
            from assistant.gui.views.memory import MemoryView

            return MemoryView(self.memories, self)
        if key == "prepared":
            from assistant.gui.views.prepared import PreparedView

            return PreparedView(self.anticipations, self.memories, self)
        if key == "away":
            from assistant.gui.views.away import AwayView
            from assistant.mind.journal import Journal

            away = AwayView(Journal(app.db), self)
            self._update_think_now(away)
            return away
        if key == "insights":
            from assistant.gui.views.insights import InsightsView

            return InsightsView(self.anticipations, self)
        if key == "settings":
            from assistant.gui.views.settings import SettingsView

            settings = SettingsView(app, tray_available=self.tray.available, parent=self)
            settings.theme_changed.connect(self._apply_theme)
            settings.delete_all_requested.connect(lambda: self.request_restart(True))
            settings.models_requested.connect(lambda: self.show_page("models"))
            if self._idle_info is not None:
                settings.set_idle_backend(*self._idle_info)
            return settings
        if key == "models":
            from assistant.gui.views.models import ModelsView

            models = ModelsView(app, self)
            models.restart_requested.connect(lambda: self.request_restart(False))
            if self.loader.model_name:
                models.set_loaded(self.loader.model_name)
            return models
        raise KeyError(key)

    notes_view = property(lambda self: self.page("notes"))
    memory_view = property(lambda self: self.page("memory"))
    prepared_view = property(lambda self: self.page("prepared"))
    away_view = property(lambda self: self.page("away"))
    insights_view = property(lambda self: self.page("insights"))
    settings_view = property(lambda self: self.page("settings"))
    models_view = property(lambda self: self.page("models"))

    @property
    def quick_ask(self):
        if self._quick_ask is None:
            from assistant.gui.quick_ask import QuickAsk

            self._quick_ask = QuickAsk(self.app.chats, lambda: self._responder, self)
            self._quick_ask.open_conversation.connect(self.show_conversation)
        return self._quick_ask

    def show_page(self, key: str) -> QWidget:
        if self.app is None:
            self._pending_page = key
            index = [k for k, _label in PAGES].index(key)
            self.nav.setCurrentRow(index)
            return self.stack.widget(index)
        page = self.page(key)
        index = [k for k, _label in PAGES].index(key)
        if self.nav.currentRow() != index:
            self.nav.setCurrentRow(index)
        else:
            self._on_page_changed(index)
        return page

    def _on_page_changed(self, index: int) -> None:
        if index < 0:
            return
        notes = self._built.get("notes")
        if notes is not None and self.stack.currentWidget() is notes:
            notes.save_now()
        key = PAGES[index][0]
        if self.app is None:  # the profile is still opening: show the page once it is
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

    def _apply_theme(self, theme: str) -> None:
        from assistant.gui.theme import apply_theme

        qapp = QApplication.instance()
        if isinstance(qapp, QApplication):
            apply_theme(qapp, theme)

    # -- window, tray, quitting ---------------------------------------------------------
    def bring_to_front(self) -> None:
        """Show and raise the window (tray "Open", or a second ``reverie`` start)."""
        if self._closed:
            return
        self.showNormal() if self.isMinimized() else self.show()
        self.raise_()
        self.activateWindow()

    def show_quick_ask(self) -> None:
        if not self._closed and self.app is not None:
            self.quick_ask.present()

    def show_conversation(self, conversation_id: int) -> None:
        self.bring_to_front()
        self.show_page("chat")
        self.refresh_conversations()
        self.sidebar.select(conversation_id)
        self.open_conversation(conversation_id)

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
        if self.app is None:
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
        engine = self.loader.engine
        self._responder = self.app.responder(engine)
        self.model_progress.hide()
        self._set_model_status(f"Ready · {name}")
        self.chat.composer.set_ready(True)
        if "models" in self._built:
            self.models_view.set_loaded(name)
        if "away" in self._built:
            self._update_think_now(self.away_view)
        if self._job is None and self.stack.currentWidget() is self.splitter:
            self._show_current()  # "Think again" buttons need the responder
        if self._think:
            self._start_thinking(engine)

    def _on_model_failed(self, message: str) -> None:
        self.model_progress.hide()
        self._set_model_status("Model not loaded")
        self.error_banner.show_message(message)
        self.chat.composer.set_ready(False, "No model is loaded, so Reverie cannot answer.")

    # -- thinking -----------------------------------------------------------------------
    def _start_thinking(self, engine: Engine) -> None:
        """Probe the idle backend off the GUI thread, then start the coordinator."""
        task = run_task(lambda _t: self._idle_probe(), name="idle-probe", parent=self,
                        on_success=lambda probe: self._attach_coordinator(engine, probe),
                        on_error=lambda exc: self._set_thinking_text(
                            "Not thinking", f"Idle detection failed: {exc}"))
        self._tasks.append(task)

    def _attach_coordinator(self, engine: Engine, probe: object) -> None:
        backend = probe.backend  # type: ignore[attr-defined]
        failures = list(getattr(probe, "failures", []))
        if self._closed:
            backend.close()
            return
        coordinator = self.app.coordinator(engine, backend=backend)
        coordinator.add_listener(self.status_bridge.listener)
        notice = getattr(coordinator.monitor.backend, "notice_activity", None)
        qapp = QApplication.instance()
        if notice is not None and qapp is not None:
            self.activity_filter = ActivityFilter(notice, self)
            qapp.installEventFilter(self.activity_filter)
        used = coordinator.monitor.backend
        self.idle_backend_name = used.name
        self._idle_info = (used.name, used.system_wide, failures)
        if "settings" in self._built:
            self.settings_view.set_idle_backend(*self._idle_info)
        coordinator.start()
        self._on_status(coordinator.status)

    def _session_starter(self, engine: Engine) -> Callable[[Callable[[], bool]], object]:
        """What "Think now" runs on its worker thread: one session, today's budget left."""
        from assistant.mind.journal import Journal

        def start(should_stop: Callable[[], bool]) -> object:
            settings = self.app.settings.thinking
            left = settings.daily_budget_minutes * 60 - Journal(self.app.db).seconds_today()
            runner = self.app.sleep_runner(engine)
            return runner.run_session(max(60.0, left), should_stop=should_stop)

        return start

    def _on_status(self, status: object) -> None:
        state = getattr(status, "state", None)
        if self._closed or state is None:
            return
        reason = str(getattr(status, "reason", ""))
        self._status = (str(state), reason)
        self._set_thinking_text(status_text(status), reason)  # type: ignore[arg-type]
        away = self._built.get("away")
        if away is not None:
            self._update_think_now(away)
            if self.stack.currentWidget() is away and not away.thinking:
                away.refresh()
        self._refresh_tray()

    def _update_think_now(self, away) -> None:
        """"Think now" is offered once the model is ready and no session runs."""
        if self._status is not None and self._status[0] == "thinking":
            away.set_session_starter(None, "Reverie is already thinking; it stops when you "
                                     "come back.")
        elif self.loader.engine is not None:
            away.set_session_starter(self._session_starter(self.loader.engine))

    def _set_thinking_text(self, text: str, reason: str) -> None:
        self.thinking_status.setText(text)
        self.thinking_status.setToolTip(reason)
        self.thinking_status.setAccessibleDescription(reason)

    def _show_offline_status(self) -> None:
        """Before the coordinator runs: say whether thinking is paused or off."""
        thinking = self.app.settings.thinking
        until = thinking.paused_until_time()
        now = datetime.now().astimezone()
        if not thinking.enabled:
            self._set_thinking_text("Thinking off", "Thinking is turned off in Settings.")
            state = "paused"
        elif until is not None and until > now:
            when = "until resumed" if until.year >= 9999 else f"until {until:%a %H:%M}"
            self._set_thinking_text("Thinking paused", f"Thinking is paused {when}.")
            state = "paused"
        else:
            self._set_thinking_text("Starting…", "Reverie starts watching for idle time "
                                    "once the model is ready.")
            state = "off"
        self._status = (state, self.thinking_status.toolTip())
        self._refresh_tray()

    def _refresh_tray(self) -> None:
        if self._closed or self.app is None:
            return
        try:
            self._prepared_count = self.anticipations.count_ready()
        except Exception:  # the database is closing
            return
        state, reason = self._status or ("off", "")
        self.tray.set_status(state, reason, self._prepared_count)

    def pause_thinking(self, hours: float) -> None:
        if self.app is None:
            return
        until = pause_until(hours)
        coordinator = self.app.running_coordinator
        if coordinator is not None:
            coordinator.pause(until)
        else:
            self.app.save_settings(self.app.settings.replace(
                "thinking", paused_until=until.isoformat()))
            self._show_offline_status()

    def resume_thinking(self) -> None:
        if self.app is None:
            return
        coordinator = self.app.running_coordinator
        if coordinator is None:
            if self.app.settings.thinking.paused_until:
                self.app.save_settings(self.app.settings.replace("thinking", paused_until=""))
            self._show_offline_status()
            return
        # resume() re-checks the conditions (the CPU sample takes a moment): off the GUI
        self._tasks.append(run_task(lambda _t: coordinator.resume(), name="resume",
                                    parent=self))

    # -- conversations ------------------------------------------------------------------
    @property
    def current_conversation_id(self) -> int | None:
        return self._current_id

    def refresh_conversations(self, *, select_newest: bool = False) -> None:
        conversations = self.app.chats.list_conversations()
        if select_newest:
            self._current_id = conversations[0].id if conversations else None
        self.sidebar.set_conversations(conversations, self._current_id)
        if self.sidebar.search.text().strip():
            self._search_conversations(self.sidebar.search.text())
        if select_newest:
            self._show_current()

    def _search_conversations(self, text: str) -> None:
        query = text.strip()
        if self.app is None:
            return
        if not query:
            self.sidebar.show_only(None)
            return
        ids = {m.conversation_id for m in self.app.chats.search(query, limit=200)}
        lowered = query.lower()
        ids |= {conv.id for conv in self.app.chats.list_conversations()
                if conv.id is not None and lowered in conv.title.lower()}
        self.sidebar.show_only(ids)

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
        self._shown_messages = self.app.chats.messages(conv.id or 0)
        self.chat.show_messages(self._shown_messages)
        job = self._job
        if job is not None and job.conversation_id == conv.id:
            self._live_bubble = self.chat.begin_answer(job.text)

    def new_chat(self) -> None:
        """Ctrl+N: the chat page, on a new conversation."""
        self.bring_to_front()
        self.show_page("chat")
        self.new_conversation()

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

    # -- prepared answers in the chat ---------------------------------------------------
    def _sources_for(self, answer_text: str, anticipation_id: int | None) -> list[str]:
        from assistant.gui.views.prepared import source_lines

        found = (self.anticipations.get(anticipation_id) if anticipation_id is not None
                 else self.anticipations.find_by_answer(answer_text))
        if found is None:
            return []
        lines = source_lines(self.memories, found.sources or {})
        return [f"Prepared {found.created_at:%d %b %H:%M} for “{found.question}”", *lines]

    def _think_again_for(self, question: str | None) -> Callable[[], None] | None:
        """"Think again" only when the Responder offers it (no dead buttons)."""
        if (question is None or self._responder is None
                or not callable(getattr(self._responder, "think_again", None))):
            return None
        return lambda: self.send(question, fresh=True)

    def _question_before(self, message: Message) -> str | None:
        previous = None
        for shown in getattr(self, "_shown_messages", []):
            if shown.id == message.id:
                return previous
            if shown.role == "user":
                previous = shown.content
        return previous

    def _decorate_stored(self, bubble: MessageBubble, message: Message) -> None:
        bubble.set_prepared(lambda: self._sources_for(message.content, None),
                            self._think_again_for(self._question_before(message)))

    # -- asking -------------------------------------------------------------------------
    @property
    def answering(self) -> bool:
        return self._job is not None

    def send(self, text: str, *, fresh: bool = False) -> None:
        """Ask ``text`` in the current conversation (created now if it is new)."""
        if self._responder is None or self._job is not None or self._closed:
            return
        from assistant.gui.answer_job import AnswerJob
        from assistant.store.chats import title_from

        if self._current_id is None:
            conv = self.app.chats.create_conversation(title_from(text))
            self._current_id = conv.id
            self.chat.set_title(conv.title)
            self.refresh_conversations()
        conv_id = self._current_id or 0
        self.chat.add_user_message(text)
        self._live_bubble = self.chat.begin_answer()
        job = AnswerJob(self._responder, text, conv_id, self, fresh=fresh)
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
                    lambda: self._sources_for(answer.answer, answer.anticipation_id),
                    self._think_again_for(question))
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
        self._refresh_tray()

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
        if self._job is not None:
            self._job.stop()
            if not self._job.join(15):
                log.warning("the answer did not stop in time")
        for key in ("away", "models"):
            if key in self._built:
                self._built[key].stop()
        self.loader.stop()
        for task in self._tasks:
            task.join(10)
        self.status_bridge.close()
        coordinator = self.app.running_coordinator if self.app is not None else None
        if coordinator is not None:
            coordinator.shutdown()
        qapp = QApplication.instance()
        if self.activity_filter is not None and qapp is not None:
            qapp.removeEventFilter(self.activity_filter)
        self.tray.hide()
        stored = self._window_settings()
        stored.setValue("geometry", self.saveGeometry())
        stored.setValue("splitter", self.splitter.saveState())
        stored.sync()


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
