"""Prepared answers: the questions Reverie expects, answered ahead of time.

Each row shows its status (ready to serve, stale because its sources changed, or
already used), how predictable the question seemed, and what preparing it cost
(tokens and seconds of sleep time). The detail pane shows the answer and its sources.
The table is a :class:`PreparedTableModel`: ten thousand answers load a page at a time,
off the GUI thread.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QLabel,
    QListWidget,
    QSplitter,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from assistant.gui.models.lists import STATUS_COLOURS, STATUS_LABELS, PreparedTableModel
from assistant.gui.views.common import EmptyState, PageHeader, duration_text, tidy_list, when_text
from assistant.store.anticipations import SHOWN_STATUSES, AnticipationRepository
from assistant.store.listing import ListQueries
from assistant.store.memories import MemoryRepository
from assistant.store.models import Anticipation

_ID = Qt.ItemDataRole.UserRole
COLUMNS = PreparedTableModel.headers
__all__ = ["COLUMNS", "STATUS_COLOURS", "STATUS_LABELS", "PreparedView", "source_lines"]


class PreparedView(QWidget):
    def __init__(self, anticipations: AnticipationRepository, memories: MemoryRepository,
                 lists: ListQueries, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("preparedView")
        self.anticipations = anticipations
        self.memories = memories
        self._current: int | None = None
        self.header = PageHeader(
            "Prepared answers",
            "Questions Reverie expects you to ask, answered while you were away. A ready "
            "answer is served at once; a stale one is never served.", self)
        self.filter = QComboBox(self)
        self.filter.setObjectName("statusFilter")
        self.filter.setAccessibleName("Show prepared answers with status")
        self.filter.addItem("Ready, stale and used", SHOWN_STATUSES)
        for status in SHOWN_STATUSES:
            self.filter.addItem(STATUS_LABELS[status], (status,))
        self.header.add_widget(self.filter)
        self.model = PreparedTableModel(self)
        self.model.attach(lists)
        # A table view, not a tree view: QTreeView asks for more rows on every layout,
        # so it would end up loading all of them.
        self.table = QTableView(self)
        self.table.setObjectName("preparedTable")
        self.table.setAccessibleName("Prepared answers")
        self.table.setModel(self.model)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        rows = self.table.verticalHeader()
        rows.hide()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(self.fontMetrics().height() + 10)
        head = self.table.horizontalHeader()
        head.setStretchLastSection(False)
        head.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col, width in enumerate((0, 70, 120, 50, 170, 140)):
            if col:  # fixed widths: sizing to contents would measure every loaded row
                head.setSectionResizeMode(col, QHeaderView.ResizeMode.Interactive)
                head.resizeSection(col, width)
        self.answer = QTextBrowser(self)
        self.answer.setObjectName("answerPreview")
        self.answer.setAccessibleName("Prepared answer")
        self.sources = QListWidget(self)
        tidy_list(self.sources)
        self.sources.setObjectName("sourceList")
        self.sources.setAccessibleName("Sources of the prepared answer")
        self.sources.setWordWrap(True)
        self.summary = QLabel(self)
        self.summary.setObjectName("mutedLabel")
        self.empty = EmptyState("Nothing prepared yet. While you are away, Reverie predicts "
                                "the questions likely to come next and answers them ahead "
                                "of time.", self)
        detail = QWidget(self)
        dcol = QVBoxLayout(detail)
        dcol.setContentsMargins(0, 8, 0, 0)
        label = QLabel("Answer", self)
        label.setObjectName("sectionLabel")
        dcol.addWidget(label)
        dcol.addWidget(self.answer, 2)
        label = QLabel("Sources", self)
        label.setObjectName("sectionLabel")
        dcol.addWidget(label)
        dcol.addWidget(self.sources, 1)
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(detail)
        self.splitter.setSizes([300, 260])
        body = QWidget(self)
        bcol = QVBoxLayout(body)
        bcol.setContentsMargins(24, 0, 24, 14)
        bcol.addWidget(self.splitter, 1)
        bcol.addWidget(self.empty, 1)
        bcol.addWidget(self.summary)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.header)
        layout.addWidget(body, 1)
        self.filter.currentIndexChanged.connect(lambda _i: self.refresh())
        self.table.selectionModel().currentChanged.connect(self._on_selected)
        self.model.loaded.connect(self._on_loaded)
        self.model.failed.connect(self.summary.setText)
        self._on_loaded({})

    def refresh(self) -> None:
        """Load the table for the chosen statuses (off the GUI thread)."""
        self.model.set_statuses(self.filter.currentData() or SHOWN_STATUSES)

    def _on_loaded(self, totals: object) -> None:
        counts = totals if isinstance(totals, dict) else {}
        rows = self.model.rowCount() > 0
        self.splitter.setVisible(rows)
        self.empty.setVisible(not rows)
        self.summary.setText(
            f"{int(counts.get('ready', 0)):,} ready · {int(counts.get('stale', 0)):,} stale · "
            f"{int(counts.get('used', 0)):,} used · {int(counts.get('tokens', 0)):,} tokens and "
            f"{duration_text(float(counts.get('seconds', 0.0)))} of thinking spent on these")
        row = -1 if self._current is None else self.model.row_of(self._current)
        if row < 0 and rows:
            row = 0
        if row >= 0:
            self.table.selectionModel().setCurrentIndex(
                self.model.index(row, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows)
        else:
            self.show_detail(None)

    def _on_selected(self, current: QModelIndex, _prev: QModelIndex | None = None) -> None:
        a_id = current.data(_ID) if current.isValid() else None
        self._current = None if a_id is None else int(a_id)
        self.show_detail(None if self._current is None
                         else self.anticipations.get(self._current))

    def shutdown(self) -> None:
        """Stop loading (joins the table's worker thread)."""
        self.model.shutdown()

    def show_detail(self, a: Anticipation | None) -> None:
        self.sources.clear()
        if a is None:
            self.answer.clear()
            return
        self.answer.setMarkdown(f"**{a.question}**\n\n{a.answer}")
        for line in source_lines(self.memories, a.sources or {}):
            self.sources.addItem(line)
        if self.sources.count() == 0:
            self.sources.addItem("No sources recorded.")

    def focus_search(self) -> None:
        self.filter.setFocus()


def source_lines(memories: MemoryRepository, sources: dict[str, list[int]]) -> list[str]:
    """One line per message, note or memory in a ``sources`` column."""
    found = memories.sources_for(sources)
    lines = []
    for m in found.messages:
        who = "You" if m.role == "user" else "Reverie"
        lines.append(f"{who}, {when_text(m.created_at)}: {' '.join(m.content.split())[:160]}")
    for n in found.notes:
        lines.append(f"Note “{n.title}”: {' '.join(n.body.split())[:140]}")
    for mem in found.memories:
        lines.append(f"Memory: {' '.join(mem.text.split())[:160]}")
    return lines
