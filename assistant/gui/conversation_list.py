"""The conversations on the left, newest first: select, filter, rename in place, delete.

A :class:`QListView` over a :class:`ConversationListModel`: the list loads a page at a
time as the person scrolls, and the search box filters in SQL as they type (titles and
message text), off the GUI thread, so 2,000 conversations open and filter at once. The
list only shows and edits titles; the chat controller does the database work and asks
before deleting.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QListView,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from assistant.gui.models.lists import UNTITLED, ConversationListModel
from assistant.gui.qt_compat import emit
from assistant.store.listing import ListQueries

__all__ = ["UNTITLED", "ConversationList"]


class ConversationList(QWidget):
    """A "New conversation" button, a search box and the list of titles."""

    #: The selected conversation (None when nothing is selected).
    selected = Signal(object)
    new_requested = Signal()
    #: (conversation id, new title) after an in-place edit.
    rename_requested = Signal(int, str)
    delete_requested = Signal(int)
    #: The search text changed (the list filters itself; others may listen).
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
        self.model = ConversationListModel(self)
        self.list = QListView(self)
        self.list.setObjectName("conversationList")
        self.list.setAccessibleName("Conversations")
        self.list.setModel(self.model)
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.setUniformItemSizes(True)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        # the style sheet pads each row by 8 px above and below, with 1 px margins
        self.model.row_size.setHeight(self.list.fontMetrics().height() + 18)
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

        #: The conversation the person is on (kept while a filter hides it).
        self._current: int | None = None
        self.new_button.clicked.connect(self.new_requested)
        self.search.textChanged.connect(self._on_search)
        self.model.rename_requested.connect(self.rename_requested)
        self.model.loaded.connect(self._restore_current)
        self.list.selectionModel().currentChanged.connect(self._on_current_changed)
        self.list.customContextMenuRequested.connect(self._show_menu)

    # -- contents -----------------------------------------------------------------------
    def attach(self, lists: ListQueries, current: int | None) -> None:
        """Show the profile's conversations and select ``current`` once it is listed."""
        self._current = current
        self.model.attach(lists)

    def refresh(self, current: int | None) -> None:
        """Load the list again (a conversation was added, renamed or deleted), keeping
        the filter and the place; ``current`` is selected once it is listed."""
        self._current = current
        self.model.reload()

    def filter(self, text: str) -> None:
        """Show only the conversations whose title or messages match ``text``."""
        if self.search.text() != text:
            self.search.setText(text)  # -> _on_search
        else:
            self.model.set_filter(text)

    def _on_search(self, text: str) -> None:
        self.model.set_filter(text)
        emit(self.search_changed, text)

    def current_id(self) -> int | None:
        index = self.list.currentIndex()
        return int(index.data(Qt.ItemDataRole.UserRole)) if index.isValid() else None

    def ids(self) -> list[int]:
        """The conversations listed so far (more load as the list scrolls)."""
        return self.model.ids

    def titles(self) -> list[str]:
        return [str(self.model.index(i, 0).data()) for i in range(self.model.rowCount())]

    def select(self, conversation_id: int | None) -> None:
        """Make ``conversation_id`` current (None: nothing), quietly if it is not listed."""
        self._current = conversation_id
        row = -1 if conversation_id is None else self.model.row_of(conversation_id)
        if row < 0:
            self._set_current(QModelIndex(), quiet=True)
        else:
            self._set_current(self.model.index(row, 0), quiet=False)

    def _set_current(self, index: QModelIndex, *, quiet: bool) -> None:
        selection = self.list.selectionModel()
        if quiet:
            selection.blockSignals(True)
        try:
            if index.isValid():
                selection.setCurrentIndex(
                    index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
                self.list.scrollTo(index)
            else:
                selection.clear()
        finally:
            if quiet:
                selection.blockSignals(False)
                # The view repaints a selection on its model's signals, blocked here.
                self.list.viewport().update()

    def _restore_current(self, _extra: object = None) -> None:
        """After a (re)load: select the current conversation again, without telling
        anyone (it did not change)."""
        row = -1 if self._current is None else self.model.row_of(self._current)
        if row >= 0:
            self._set_current(self.model.index(row, 0), quiet=True)

    def shutdown(self) -> None:
        """Stop loading (joins the list's worker thread)."""
        self.model.shutdown()

    # -- actions ------------------------------------------------------------------------
    def start_rename(self) -> None:
        index = self.list.currentIndex()
        if index.isValid():
            self.list.edit(index)

    def _delete_current(self) -> None:
        conv_id = self.current_id()
        if conv_id is not None:
            emit(self.delete_requested, conv_id)

    def _show_menu(self, pos: QPoint) -> None:
        index = self.list.indexAt(pos)
        if not index.isValid():
            return
        self.list.setCurrentIndex(index)
        menu = QMenu(self)
        menu.addAction(self.rename_action)
        menu.addAction(self.delete_action)
        menu.exec(self.list.viewport().mapToGlobal(pos))

    def _on_current_changed(self, current: QModelIndex, _old: QModelIndex) -> None:
        conv_id = int(current.data(Qt.ItemDataRole.UserRole)) if current.isValid() else None
        if conv_id is not None:
            self._current = conv_id
        emit(self.selected, conv_id)
