"""The tray icon: Reverie's state at a glance, and its menu.

The icon is the app icon with a small mark: none while the person is active, a blue
dot while thinking, a grey pause mark while paused, an amber dot when prepared answers
are waiting. Everything is reachable from the menu (Open, Ask…, Pause, Resume, Quit):
single-click activation differs between desktops and is only a shortcut to Open.

When the person comes back (the state goes from away, that is thinking, idle or blocked,
to active) and answers were prepared meanwhile, an opt-in notification says so:
"While you were away: N answers prepared" (setting ``ui.notify_on_return``, off by
default).

Whether a tray exists is asked through an injectable function, so the "tray exists"
path can be tested on the offscreen platform (where there is none).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QColor, QIcon, QPainter
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from assistant.gui.qt_compat import emit
from assistant.gui.theme import app_icon

log = logging.getLogger("assistant.gui")

TrayAvailable = Callable[[], bool]

#: ThinkingState values (as text) that mean the person is away.
AWAY_STATES = frozenset({"thinking", "idle", "blocked"})

MARK_COLOURS = {
    "thinking": "#38bdf8",
    "prepared": "#f59e0b",
    "paused": "#9ca3af",
    "blocked": "#9ca3af",
}


def system_tray_available() -> bool:
    return bool(QSystemTrayIcon.isSystemTrayAvailable())


def _default_available() -> TrayAvailable:
    """Looked up at call time, so tests can replace ``system_tray_available``."""
    return system_tray_available


def state_icon(mark: str | None, size: int = 64) -> QIcon:
    """The app icon with ``mark`` (a MARK_COLOURS key, or None) in its corner."""
    pixmap = app_icon().pixmap(size, size)
    if mark is None:
        return QIcon(pixmap)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    d = size * 0.42
    rect = QRectF(size - d - 1, size - d - 1, d, d)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor("#ffffff"))
    painter.drawEllipse(rect.adjusted(-2, -2, 2, 2))
    painter.setBrush(QColor(MARK_COLOURS[mark]))
    painter.drawEllipse(rect)
    if mark == "paused":
        painter.setBrush(QColor("#ffffff"))
        w, h = d * 0.14, d * 0.46
        cx, cy = rect.center().x(), rect.center().y()
        painter.drawRect(QRectF(cx - w * 1.8, cy - h / 2, w, h))
        painter.drawRect(QRectF(cx + w * 0.8, cy - h / 2, w, h))
    painter.end()
    return QIcon(pixmap)


def return_message(prepared_while_away: int) -> str:
    """The notification text when the person comes back."""
    plural = "s" if prepared_while_away != 1 else ""
    return f"While you were away: {prepared_while_away} answer{plural} prepared"


def mark_for(state: str, prepared: int) -> str | None:
    """``state`` is a ThinkingState value (assistant.idle.status), compared as text so
    the tray does not import the idle package at start-up."""
    if state == "thinking":
        return "thinking"
    if state == "paused":
        return "paused"
    if prepared > 0:
        return "prepared"
    return None


class Tray(QObject):
    """The tray icon and its menu, or nothing at all when the desktop has no tray."""

    open_requested = Signal()
    ask_requested = Signal()
    #: Pause for this many hours (0 means until tomorrow morning).
    pause_requested = Signal(float)
    resume_requested = Signal()
    quit_requested = Signal()

    def __init__(self, available: TrayAvailable | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.available = bool((available or _default_available())())
        self.icon: QSystemTrayIcon | None = None
        self.mark: str | None = None
        self.tooltip = "Reverie"
        #: Ready prepared answers when the person left (None while they are here).
        self._prepared_when_left: int | None = None
        self.menu = QMenu()
        self.menu.setObjectName("trayMenu")
        self.open_action = self._add("Open Reverie", self.open_requested)
        self.ask_action = self._add("Ask…", self.ask_requested)
        self.menu.addSeparator()
        self.pause_hour_action = QAction("Pause thinking for 1 hour", self.menu)
        self.pause_hour_action.triggered.connect(lambda: emit(self.pause_requested, 1.0))
        self.pause_tomorrow_action = QAction("Pause thinking until tomorrow", self.menu)
        self.pause_tomorrow_action.triggered.connect(lambda: emit(self.pause_requested, 0.0))
        self.menu.addAction(self.pause_hour_action)
        self.menu.addAction(self.pause_tomorrow_action)
        self.resume_action = self._add("Resume thinking", self.resume_requested)
        self.menu.addSeparator()
        self.quit_action = self._add("Quit Reverie", self.quit_requested)
        self.set_status("off", "", 0)
        if self.available:
            self.icon = QSystemTrayIcon(state_icon(None), self)
            self.icon.setContextMenu(self.menu)
            self.icon.setToolTip(self.tooltip)
            self.icon.activated.connect(self._on_activated)
            self.icon.show()

    def _add(self, text: str, signal: object) -> QAction:
        action = QAction(text, self.menu)
        action.triggered.connect(lambda: emit(signal))  # type: ignore[arg-type]
        self.menu.addAction(action)
        return action

    def set_status(self, state: str, reason: str, prepared: int, *,
                   notify_on_return: bool = False) -> None:
        """Show the thinking state (and why) and the number of prepared answers waiting.

        With ``notify_on_return``, coming back (away to ``active``) after answers were
        prepared shows "While you were away: N answers prepared" once.
        """
        self._notice_return(state, prepared, notify_on_return)
        paused = state == "paused"
        self.pause_hour_action.setVisible(not paused)
        self.pause_tomorrow_action.setVisible(not paused)
        self.resume_action.setVisible(paused)
        self.mark = mark_for(state, prepared)
        lines = ["Reverie"]
        if reason:
            lines.append(reason)
        if prepared:
            lines.append(f"{prepared} prepared answer{'s' if prepared != 1 else ''} waiting")
        self.tooltip = "\n".join(lines)
        if self.icon is not None:
            self.icon.setIcon(state_icon(self.mark))
            self.icon.setToolTip(self.tooltip)

    def _notice_return(self, state: str, prepared: int, notify: bool) -> None:
        if state in AWAY_STATES:
            if self._prepared_when_left is None:
                self._prepared_when_left = prepared
            return
        left, self._prepared_when_left = self._prepared_when_left, None
        if state != "active" or left is None:
            return  # paused or off: the person acted, nothing to announce
        made = prepared - left
        if notify and made > 0:
            self.notify("Reverie", return_message(made))

    def notify(self, title: str, text: str) -> None:
        """A desktop notification from the tray icon (nothing without a tray)."""
        log.info("tray notification: %s: %s", title, text)
        if self.icon is not None and QSystemTrayIcon.supportsMessages():
            self.icon.showMessage(title, text, state_icon(None), 8000)

    def hide(self) -> None:
        if self.icon is not None:
            self.icon.hide()

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger,
                      QSystemTrayIcon.ActivationReason.DoubleClick):
            emit(self.open_requested)
