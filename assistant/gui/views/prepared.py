"""Prepared answers: the questions Reverie expects, answered ahead of time.

Each row shows its status (ready to serve, stale because its sources changed, or
already used), how predictable the question seemed, and what preparing it cost
(tokens and seconds of sleep time). The detail pane shows the answer and its sources.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QLabel,
    QListWidget,
    QSplitter,
    QTextBrowser,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from assistant.gui.views.common import EmptyState, PageHeader, duration_text, tidy_list, when_text
from assistant.store.anticipations import SHOWN_STATUSES, AnticipationRepository
from assistant.store.memories import MemoryRepository
from assistant.store.models import Anticipation

_ID = Qt.ItemDataRole.UserRole
STATUS_LABELS = {"ready": "Ready", "stale": "Stale", "used": "Used", "dismissed": "Dismissed"}
STATUS_COLOURS = {"ready": "#16a34a", "stale": "#d97706", "used": "#6366f1"}
COLUMNS = ("Question", "Status", "Predictability", "Hits", "Cost", "Prepared")


class PreparedView(QWidget):
    def __init__(self, anticipations: AnticipationRepository, memories: MemoryRepository,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("preparedView")
        self.anticipations = anticipations
        self.memories = memories
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
        self.table = QTreeWidget(self)
        self.table.setObjectName("preparedTable")
        self.table.setAccessibleName("Prepared answers")
        self.table.setColumnCount(len(COLUMNS))
        self.table.setHeaderLabels(list(COLUMNS))
        self.table.setRootIsDecorated(False)
        self.table.setUniformRowHeights(True)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        head = self.table.header()
        head.setStretchLastSection(False)
        head.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in range(1, len(COLUMNS)):
            head.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
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
        self.table.currentItemChanged.connect(self._on_selected)

    def refresh(self) -> None:
        rows = self.anticipations.all(self.filter.currentData() or SHOWN_STATUSES)
        self.table.clear()
        for a in rows:
            item = QTreeWidgetItem([
                a.question, STATUS_LABELS.get(a.status, a.status), f"{a.predictability:.0%}",
                str(a.hits),
                f"{a.prompt_tokens + a.completion_tokens:,} tokens · {duration_text(a.seconds)}",
                when_text(a.created_at)])
            item.setData(0, _ID, a.id)
            item.setToolTip(0, a.question)
            colour = STATUS_COLOURS.get(a.status)
            if colour:
                item.setForeground(1, QColor(colour))
            for col in (2, 3):
                item.setTextAlignment(col, Qt.AlignmentFlag.AlignRight
                                      | Qt.AlignmentFlag.AlignVCenter)
            self.table.addTopLevelItem(item)
        self.splitter.setVisible(bool(rows))
        self.empty.setVisible(not rows)
        counts = {s: sum(1 for a in rows if a.status == s) for s in SHOWN_STATUSES}
        tokens = sum(a.prompt_tokens + a.completion_tokens for a in rows)
        seconds = sum(a.seconds for a in rows)
        self.summary.setText(f"{counts['ready']} ready · {counts['stale']} stale · "
                             f"{counts['used']} used · {tokens:,} tokens and "
                             f"{duration_text(seconds)} of thinking spent on these")
        first = self.table.topLevelItem(0)
        if rows and first is not None:
            self.table.setCurrentItem(first)

    def _on_selected(self, item: QTreeWidgetItem | None, _prev: object = None) -> None:
        a = self.anticipations.get(item.data(0, _ID)) if item is not None else None
        self.show_detail(a)

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
