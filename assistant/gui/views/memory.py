"""Memory: what Reverie remembers about you, and where each memory came from.

The list is a :class:`MemoryListModel` (tens of thousands of memories load a page at a
time, and the search runs in SQL off the GUI thread as the person types). The person
can search, filter by kind, correct a memory (it is then marked edited and
sleep-time work leaves it alone), pin it (pinned memories go into every prompt), or
forget it, with ten seconds to undo. The detail pane lists the messages and notes the
memory was drawn from, and the older versions it replaced.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from assistant.gui.models.lists import KIND_LABELS, MemoryListModel, memory_text
from assistant.gui.models.lists import snippet as _snippet
from assistant.gui.views.common import EmptyState, UndoBanner, tidy_list, when_text
from assistant.store.listing import ListQueries
from assistant.store.memories import ForgottenMemory, MemoryRepository
from assistant.store.models import Memory

_ID = Qt.ItemDataRole.UserRole
__all__ = ["KIND_LABELS", "MemoryView"]


class MemoryView(QWidget):
    def __init__(self, memories: MemoryRepository, lists: ListQueries,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("memoryView")
        self.memories = memories
        self._current: Memory | None = None
        self._forgotten: ForgottenMemory | None = None
        #: Current memories in all (for "N of M memories").
        self._all = 0

        self.search = QLineEdit(self)
        self.search.setObjectName("searchField")
        self.search.setPlaceholderText("Search memories")
        self.search.setAccessibleName("Search memories")
        self.search.setClearButtonEnabled(True)
        self.kind = QComboBox(self)
        self.kind.setObjectName("kindFilter")
        self.kind.setAccessibleName("Filter by kind")
        self.kind.addItem("All kinds", "")
        for value, label in KIND_LABELS.items():
            self.kind.addItem(label + "s" if not label.endswith("y") else label, value)
        self.model = MemoryListModel(self)
        self.model.attach(lists)
        self.list = QListView(self)
        self.list.setObjectName("itemList")
        self.list.setAccessibleName("Memories")
        self.list.setModel(self.model)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setUniformItemSizes(True)  # three lines each: sized once, not 20,000 times
        self.count_label = QLabel(self)
        self.count_label.setObjectName("mutedLabel")
        self.undo_banner = UndoBanner(parent=self)
        filters = QHBoxLayout()
        filters.addWidget(self.search, 1)
        filters.addWidget(self.kind)
        left = QWidget(self)
        left.setObjectName("listPane")
        lcol = QVBoxLayout(left)
        lcol.setContentsMargins(12, 14, 12, 10)
        lcol.setSpacing(8)
        lcol.addLayout(filters)
        lcol.addWidget(self.undo_banner)
        lcol.addWidget(self.list, 1)
        lcol.addWidget(self.count_label)

        self.kind_label = QLabel(self)
        self.kind_label.setObjectName("chip")
        self.meta = QLabel(self)
        self.meta.setObjectName("mutedLabel")
        self.meta.setWordWrap(True)
        self.subject = QLineEdit(self)
        self.subject.setObjectName("memorySubject")
        self.subject.setAccessibleName("Memory subject")
        self.subject.setPlaceholderText("Subject")
        self.text = QPlainTextEdit(self)
        self.text.setObjectName("memoryText")
        self.text.setAccessibleName("Memory text")
        self.text.setMaximumHeight(120)
        self.save_button = QPushButton("Save correction", self)
        self.save_button.setObjectName("primaryButton")
        self.save_button.setAccessibleName("Save the corrected memory")
        self.pin_button = QPushButton("Pin", self)
        self.pin_button.setObjectName("secondaryButton")
        self.pin_button.setAccessibleName("Pin memory")
        self.forget_button = QPushButton("Forget", self)
        self.forget_button.setObjectName("dangerButton")
        self.forget_button.setAccessibleName("Forget memory")
        self.sources = QListWidget(self)
        tidy_list(self.sources)
        self.sources.setObjectName("sourceList")
        self.sources.setAccessibleName("Sources of this memory")
        self.sources.setWordWrap(True)
        self.history = QListWidget(self)
        tidy_list(self.history)
        self.history.setObjectName("sourceList")
        self.history.setAccessibleName("Earlier versions of this memory")
        self.history.setWordWrap(True)
        self.history_label = QLabel("Earlier versions", self)
        self.history_label.setObjectName("sectionLabel")
        self.detail = QWidget(self)
        dcol = QVBoxLayout(self.detail)
        dcol.setContentsMargins(20, 16, 20, 12)
        dcol.setSpacing(8)
        top = QHBoxLayout()
        top.addWidget(self.kind_label)
        top.addWidget(self.meta, 1)
        dcol.addLayout(top)
        dcol.addWidget(self.subject)
        dcol.addWidget(self.text)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.pin_button)
        buttons.addStretch(1)
        buttons.addWidget(self.forget_button)
        dcol.addLayout(buttons)
        where = QLabel("Where this comes from", self)
        where.setObjectName("sectionLabel")
        dcol.addWidget(where)
        dcol.addWidget(self.sources, 2)
        dcol.addWidget(self.history_label)
        dcol.addWidget(self.history, 1)
        self.empty = EmptyState("Reverie has no memories yet. While you are away it reads "
                                "your conversations and notes and keeps what matters here.",
                                self)
        right = QWidget(self)
        right.setObjectName("detailPane")
        rcol = QVBoxLayout(right)
        rcol.setContentsMargins(0, 0, 0, 0)
        rcol.addWidget(self.detail, 1)
        rcol.addWidget(self.empty, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([330, 540])
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        self.search.textChanged.connect(lambda _t: self.refresh())
        self.kind.currentIndexChanged.connect(lambda _i: self.refresh())
        self.list.selectionModel().currentChanged.connect(self._on_selected)
        self.model.loaded.connect(self._on_loaded)
        self.model.finished.connect(self._show_count)
        self.model.failed.connect(self.count_label.setText)
        self.subject.textEdited.connect(self._on_changed)
        self.text.textChanged.connect(self._on_changed)
        self.save_button.clicked.connect(self.save_edit)
        self.pin_button.clicked.connect(self.toggle_pin)
        self.forget_button.clicked.connect(self.forget_current)
        self.undo_banner.undo.connect(self.undo_forget)
        self.undo_banner.expired.connect(self._drop_undo)
        self._show(None)

    # -- list ---------------------------------------------------------------------------
    def refresh(self) -> None:
        """Load the list for the search text and kind (off the GUI thread); the memory on
        show stays selected when it is still listed."""
        self.model.set_filter(self.search.text(), self.kind.currentData() or None)

    def _on_loaded(self, total: object) -> None:
        self._all = int(total) if isinstance(total, int) else self._all
        keep = self._current.id if self._current is not None else None
        row = -1 if keep is None else self.model.row_of(keep)
        if row >= 0:
            self._select_row(row)
            self._show(self.memories.get(keep or 0))
        elif self.model.rowCount() > 0:
            self._select_row(0)
            first = self.model.row(0)
            self._show(self.memories.get(first.id) if first is not None else None)
        else:
            self._show(None)

    def _select_row(self, row: int) -> None:
        selection = self.list.selectionModel()
        selection.blockSignals(True)
        try:
            selection.setCurrentIndex(self.model.index(row, 0),
                                      QItemSelectionModel.SelectionFlag.ClearAndSelect)
        finally:
            selection.blockSignals(False)

    def _show_count(self, shown: int) -> None:
        total = self._all
        self.count_label.setText(f"{shown:,} of {total:,} memories" if shown != total
                                 else f"{total:,} memor{'y' if total == 1 else 'ies'}")

    @staticmethod
    def _item_text(memory: Memory) -> str:
        return memory_text(memory)

    def _on_selected(self, current: QModelIndex, _prev: QModelIndex | None = None) -> None:
        memory_id = current.data(_ID) if current.isValid() else None
        self._show(self.memories.get(int(memory_id)) if memory_id is not None else None)

    def shutdown(self) -> None:
        """Stop loading (joins the list's worker thread)."""
        self.model.shutdown()

    # -- detail -------------------------------------------------------------------------
    @property
    def current(self) -> Memory | None:
        return self._current

    def _show(self, memory: Memory | None) -> None:
        self._current = memory
        self.detail.setVisible(memory is not None)
        self.empty.setVisible(memory is None)
        if memory is None:
            return
        self.kind_label.setText(KIND_LABELS.get(memory.kind, memory.kind))
        edited = " · edited by you" if memory.edited else ""
        self.meta.setText(f"{memory.scope} · confidence {memory.confidence:.0%} · updated "
                          f"{when_text(memory.updated_at)}{edited}")
        self.subject.blockSignals(True)
        self.text.blockSignals(True)
        self.subject.setText(memory.subject)
        self.text.setPlainText(memory.text)
        self.subject.blockSignals(False)
        self.text.blockSignals(False)
        self.save_button.setEnabled(False)
        self.pin_button.setText("Unpin" if memory.pinned else "Pin")
        self.pin_button.setAccessibleName("Unpin memory" if memory.pinned else "Pin memory")
        self.pin_button.setToolTip("Pinned memories go into every answer's prompt.")
        self.sources.clear()
        found = self.memories.sources_for(memory.sources or {})
        for message in found.messages:
            who = "You" if message.role == "user" else "Reverie"
            self.sources.addItem(f"{who}, {when_text(message.created_at)}: "
                                 f"{_snippet(message.content, 160)}")
        for note in found.notes:
            self.sources.addItem(f"Note “{note.title}”: {_snippet(note.body, 140)}")
        for other in found.memories:
            self.sources.addItem(f"Memory: {_snippet(other.text, 160)}")
        if self.sources.count() == 0:
            self.sources.addItem("No sources recorded (or they were deleted).")
        self.history.clear()
        for older in self.memories.history(memory.id or 0)[1:]:  # [0] is this version
            self.history.addItem(f"{when_text(older.updated_at)}: {_snippet(older.text, 160)}")
        has_history = self.history.count() > 0
        self.history.setVisible(has_history)
        self.history_label.setVisible(has_history)

    def _on_changed(self) -> None:
        memory = self._current
        if memory is not None:
            changed = (self.text.toPlainText().strip() != memory.text
                       or self.subject.text().strip() != memory.subject)
            self.save_button.setEnabled(changed and bool(self.text.toPlainText().strip()))

    def save_edit(self) -> None:
        if self._current is None or not self.text.toPlainText().strip():
            return
        self._current = self.memories.edit(self._current.id or 0,
                                           self.text.toPlainText().strip(),
                                           self.subject.text().strip())
        self._show(self._current)  # the list follows when it has loaded again
        self.refresh()

    def toggle_pin(self) -> None:
        if self._current is not None:
            self._current = self.memories.set_pinned(self._current.id or 0,
                                                     not self._current.pinned)
            self._show(self._current)
            self.refresh()

    def forget_current(self) -> None:
        if self._current is None:
            return
        self._forgotten = self.memories.forget(self._current.id or 0)
        self._show(None)
        self.undo_banner.show_message("Memory forgotten.")
        self.refresh()

    def undo_forget(self) -> None:
        if self._forgotten is None:
            return
        self._current = self.memories.restore(self._forgotten)
        self._forgotten = None
        self._show(self._current)
        self.refresh()

    def _drop_undo(self) -> None:
        self._forgotten = None

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()
