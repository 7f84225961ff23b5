"""Memory: what Reverie remembers about you, and where each memory came from.

The person can search, filter by kind, correct a memory (it is then marked edited and
sleep-time work leaves it alone), pin it (pinned memories go into every prompt), or
forget it, with ten seconds to undo. The detail pane lists the messages and notes the
memory was drawn from, and the older versions it replaced.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from assistant.gui.views.common import EmptyState, UndoBanner, tidy_list, when_text
from assistant.store.memories import ForgottenMemory, MemoryRepository
from assistant.store.models import Memory, MemoryKind

_ID = Qt.ItemDataRole.UserRole
KIND_LABELS = {
    MemoryKind.FACT.value: "Fact",
    MemoryKind.SUMMARY.value: "Summary",
    MemoryKind.PROFILE.value: "Profile",
    MemoryKind.DIGEST.value: "Note digest",
}


def _snippet(text: str, limit: int = 110) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


class MemoryView(QWidget):
    def __init__(self, memories: MemoryRepository, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("memoryView")
        self.memories = memories
        self._current: Memory | None = None
        self._forgotten: ForgottenMemory | None = None

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
        self.list = QListWidget(self)
        tidy_list(self.list)
        self.list.setObjectName("itemList")
        self.list.setAccessibleName("Memories")
        self.list.setWordWrap(True)
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
        self.list.currentItemChanged.connect(self._on_selected)
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
        keep = self._current.id if self._current is not None else None
        rows = self.memories.all(kind=self.kind.currentData() or None,
                                 query=self.search.text())
        self.list.blockSignals(True)
        self.list.clear()
        selected = None
        for memory in rows:
            item = QListWidgetItem(self._item_text(memory))
            item.setData(_ID, memory.id)
            item.setToolTip(memory.text)
            self.list.addItem(item)
            if memory.id == keep:
                selected = item
        self.list.blockSignals(False)
        total = self.memories.count()
        shown = len(rows)
        self.count_label.setText(f"{shown} of {total} memories" if shown != total
                                 else f"{total} memor{'y' if total == 1 else 'ies'}")
        if selected is not None:
            self.list.setCurrentItem(selected)
            self._show(self.memories.get(keep or 0))
        elif rows:
            self.list.setCurrentRow(0)
        else:
            self._show(None)

    @staticmethod
    def _item_text(memory: Memory) -> str:
        kind = KIND_LABELS.get(memory.kind, memory.kind)
        flags = "".join([" · pinned" if memory.pinned else "",
                         " · edited by you" if memory.edited else ""])
        head = f"{memory.subject}" if memory.subject else kind
        return f"{head}\n{_snippet(memory.text)}\n{kind}{flags}"

    def _on_selected(self, item: QListWidgetItem | None, _prev: object = None) -> None:
        self._show(self.memories.get(item.data(_ID)) if item is not None else None)

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
        self.refresh()

    def toggle_pin(self) -> None:
        if self._current is not None:
            self._current = self.memories.set_pinned(self._current.id or 0,
                                                     not self._current.pinned)
            self.refresh()

    def forget_current(self) -> None:
        if self._current is None:
            return
        self._forgotten = self.memories.forget(self._current.id or 0)
        self._current = None
        self.undo_banner.show_message("Memory forgotten.")
        self.refresh()

    def undo_forget(self) -> None:
        if self._forgotten is None:
            return
        self._current = self.memories.restore(self._forgotten)
        self._forgotten = None
        self.refresh()

    def _drop_undo(self) -> None:
        self._forgotten = None

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()
