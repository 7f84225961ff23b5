"""The main window's menus and keyboard shortcuts, in one table-like place.

Every action is also added to the window itself, so its shortcut works while the
menu bar is hidden (some desktops show menus only on Alt).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QShortcut

from assistant.gui.pages import PAGES

if TYPE_CHECKING:
    from assistant.gui.main_window import MainWindow


class WindowActions:
    """The Reverie, View and Thinking menus of ``window`` and the Escape shortcut."""

    def __init__(self, window: MainWindow) -> None:
        def action(text: str, shortcut: QKeySequence | QKeySequence.StandardKey,
                   slot: object) -> QAction:
            made = QAction(text, window)
            made.setShortcut(shortcut)
            made.triggered.connect(slot)
            window.addAction(made)
            return made

        self.new_action = action("&New conversation", QKeySequence.StandardKey.New,
                                 window.new_chat)
        self.ask_action = action("&Ask…", QKeySequence("Ctrl+K"), window.show_quick_ask)
        self.find_action = action("&Search", QKeySequence.StandardKey.Find,
                                  window.focus_search)
        self.import_action = action("&Import chats…", QKeySequence("Ctrl+Shift+I"),
                                    window.importer.choose_file)
        self.quit_action = action("&Quit", QKeySequence.StandardKey.Quit, window.quit_app)
        self.close_action = action("&Close window", QKeySequence.StandardKey.Close,
                                   window.close)
        menu = window.menuBar().addMenu("&Reverie")
        for item in (self.new_action, self.ask_action, self.find_action, self.import_action,
                     window.sidebar.rename_action, window.sidebar.delete_action):
            menu.addAction(item)
        menu.addSeparator()
        menu.addAction(self.close_action)
        menu.addAction(self.quit_action)
        view = window.menuBar().addMenu("&View")
        self.page_actions: list[QAction] = []
        for i, (key, label) in enumerate(PAGES):
            page = action(label, QKeySequence(f"Ctrl+{i + 1}"),
                          lambda _c=False, k=key: window.show_page(k))
            view.addAction(page)
            self.page_actions.append(page)
        thinking = window.menuBar().addMenu("&Thinking")
        thinking.addAction(window.tray.pause_hour_action)
        thinking.addAction(window.tray.pause_tomorrow_action)
        thinking.addAction(window.tray.resume_action)
        #: Escape stops the answer being written (enabled only while one is).
        self.stop_shortcut = QShortcut(QKeySequence(Qt.Key.Key_Escape), window)
        self.stop_shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        self.stop_shortcut.activated.connect(window.conversations.stop_answer)
        self.stop_shortcut.setEnabled(False)
