"""The conversations on the left, newest first: select, rename in place, delete.

The list only shows and edits titles; the window does the database work and asks
before deleting.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from assistant.gui.qt_compat import emit

if TYPE_CHECKING:
    from assistant.store.models import Conversation

UNTITLED = "New conversation"
_ID_ROLE = Qt.ItemDataRole.UserRole


class ConversationList(QWidget):
    """A "New conversation" button above a list of titles."""

    #: The selected conversation (None when nothing is selected).
    selected = Signal(object)
    new_requested = Signal()
    #: (conversation id, new title) after an in-place edit.
    rename_requested = Signal(int, str)
    delete_requested = Signal(int)
    #: The search text changed (the window finds the matching conversations).
    search_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sidebar")
        self.new_button = QPushButton("+  New conversation", self)
        self.new_button.setObjectName("newConversationButton")
        self.new_button.setAccessibleName("New conversation")
        self.new_button.setToolTip("New conversation (Ctrl+N)")
        self.search = QLineEdit(self)
        self.search.setObjectName("searchField")
        self.search.setPlaceholderText("Search conversations")
        self.search.setAccessibleName("Search conversations")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda text: emit(self.search_changed, text))
        self.list = QListWidget(self)
        self.list.setObjectName("conversationList")
        self.list.setAccessibleName("Conversations")
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.setUniformItemSizes(True)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 12, 10, 10)
        layout.setSpacing(10)
        layout.addWidget(self.new_button)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)

        self.rename_action = QAction("Rename", self)
        self.rename_action.setShortcut(QKeySequence(Qt.Key.Key_F2))
        self.rename_action.triggered.connect(self.start_rename)
        self.delete_action = QAction("Delete…", self)
        self.delete_action.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        self.delete_action.triggered.connect(self._delete_current)
        for action in (self.rename_action, self.delete_action):
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.list.addAction(action)

        self._titles: dict[int, str] = {}
        self.new_button.clicked.connect(self.new_requested)
        self.list.currentItemChanged.connect(self._on_current_changed)
        self.list.itemChanged.connect(self._on_item_changed)
        self.list.customContextMenuRequested.connect(self._show_menu)

    # -- contents -----------------------------------------------------------------------
    def set_conversations(self, conversations: Iterable[Conversation],
                          current: int | None) -> None:
        """Replace the list (newest first, as given) and select ``current``."""
        self.list.blockSignals(True)
        try:
            self.list.clear()
            self._titles.clear()
            for conv in conversations:
                if conv.id is None:
                    continue
                item = QListWidgetItem(conv.title or UNTITLED)
                item.setData(_ID_ROLE, conv.id)
                item.setToolTip(conv.title or UNTITLED)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
                self.list.addItem(item)
                self._titles[conv.id] = conv.title
                if conv.id == current:
                    self.list.setCurrentItem(item)
        finally:
            self.list.blockSignals(False)

    def show_only(self, ids: set[int] | None) -> None:
        """Hide the conversations not in ``ids`` (None shows them all)."""
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setHidden(ids is not None and int(item.data(_ID_ROLE)) not in ids)

    def current_id(self) -> int | None:
        item = self.list.currentItem()
        return None if item is None else int(item.data(_ID_ROLE))

    def ids(self) -> list[int]:
        return [int(self.list.item(i).data(_ID_ROLE)) for i in range(self.list.count())]

    def titles(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def item_for(self, conversation_id: int) -> QListWidgetItem | None:
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(_ID_ROLE) == conversation_id:
                return item
        return None

    def select(self, conversation_id: int | None) -> None:
        item = None if conversation_id is None else self.item_for(conversation_id)
        if item is None:
            self.list.clearSelection()
            self.list.setCurrentRow(-1)
        else:
            self.list.setCurrentItem(item)

    # -- actions ------------------------------------------------------------------------
    def start_rename(self) -> None:
        item = self.list.currentItem()
        if item is not None:
            self.list.editItem(item)

    def _delete_current(self) -> None:
        conv_id = self.current_id()
        if conv_id is not None:
            emit(self.delete_requested, conv_id)

    def _show_menu(self, pos: QPoint) -> None:
        item = self.list.itemAt(pos)
        if item is None:
            return
        self.list.setCurrentItem(item)
        menu = QMenu(self)
        menu.addAction(self.rename_action)
        menu.addAction(self.delete_action)
        menu.exec(self.list.viewport().mapToGlobal(pos))

    def _on_current_changed(self, current: QListWidgetItem | None, _old: object) -> None:
        emit(self.selected, None if current is None else int(current.data(_ID_ROLE)))

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        conv_id = int(item.data(_ID_ROLE))
        title = " ".join(item.text().split())
        old = self._titles.get(conv_id, "")
        if not title or title == (old or UNTITLED):
            self.list.blockSignals(True)
            item.setText(old or UNTITLED)
            self.list.blockSignals(False)
            return
        self._titles[conv_id] = title
        emit(self.rename_requested, conv_id, title)
