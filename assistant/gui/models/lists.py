"""The window's three long lists as :class:`PagedModel` subclasses: conversations (the
chat sidebar), memories (the Memory page) and prepared answers (a table).

Each takes its queries from `assistant.store.listing.ListQueries` and says how a row
looks. A row is a :class:`Shown`: the stored row and its text, made on the worker thread
when the page loads (formatting dates for every cell on every paint stalled the table).
The views own the selection, the menus and the detail panes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QSize, Qt, Signal
from PySide6.QtGui import QColor

from assistant.gui.models.paged import DISPLAY, PagedModel, single_batch
from assistant.gui.qt_compat import emit
from assistant.gui.views.common import duration_text, when_text
from assistant.store.listing import ListQueries
from assistant.store.models import Anticipation, Conversation, Memory, MemoryKind

UNTITLED = "New conversation"
KIND_LABELS = {
    MemoryKind.FACT.value: "Fact",
    MemoryKind.SUMMARY.value: "Summary",
    MemoryKind.PROFILE.value: "Profile",
    MemoryKind.DIGEST.value: "Note digest",
}
STATUS_LABELS = {"ready": "Ready", "stale": "Stale", "used": "Used", "dismissed": "Dismissed"}
STATUS_COLOURS = {"ready": "#16a34a", "stale": "#d97706", "used": "#6366f1"}
_RIGHT = int((Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter).value)
_TOOLTIP = Qt.ItemDataRole.ToolTipRole
_EDIT = Qt.ItemDataRole.EditRole
_FOREGROUND = Qt.ItemDataRole.ForegroundRole
_ALIGNMENT = Qt.ItemDataRole.TextAlignmentRole
_SIZE = Qt.ItemDataRole.SizeHintRole
_COLOURS = {status: QColor(colour) for status, colour in STATUS_COLOURS.items()}

ItemT = TypeVar("ItemT", Conversation, Memory, Anticipation)


@dataclass
class Shown(Generic[ItemT]):
    """A stored row and the text of its cells."""

    item: ItemT
    cells: tuple[str, ...]

    @property
    def id(self) -> int:
        return self.item.id or 0


def snippet(text: str, limit: int = 110) -> str:
    """One line of at most ``limit`` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


class ConversationListModel(PagedModel[Shown[Conversation]]):
    """Conversations, most recently active first (or those matching a filter); titles
    can be edited in place (``rename_requested``)."""

    #: (conversation id, new title) after an in-place edit that changed the title.
    rename_requested = Signal(int, str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__("conversations", self._rows_of, parent)
        self._lists: ListQueries | None = None
        self.filter_text = ""
        #: Every row's size: narrow, so that rows take the list's width and long titles
        #: end in "…" instead of widening the list (set by the view from its font).
        self.row_size = QSize(1, 32)

    def attach(self, lists: ListQueries) -> None:
        self._lists = lists
        self.set_filter(self.filter_text)

    def set_filter(self, typed: str) -> None:
        """Every conversation, or those whose title or messages match ``typed``."""
        self.filter_text = typed
        lists = self._lists
        if lists is None:
            return
        if typed.strip():
            self.set_query(lambda stop: lists.conversation_matches(typed, stop))
        else:
            self.set_query(single_batch(lists.conversation_ids))

    def _rows_of(self, ids: Sequence[int]) -> list[Shown[Conversation]]:
        if self._lists is None:
            return []
        return [Shown(c, (c.title or UNTITLED,)) for c in self._lists.conversations(ids)]

    def row_id(self, row: Shown[Conversation]) -> int:
        return row.id

    def cell(self, row: Shown[Conversation], column: int, role: int) -> Any:
        if role in (DISPLAY, _TOOLTIP, _EDIT):
            return row.cells[0]
        if role == _SIZE:
            return self.row_size
        return None

    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        return super().flags(index) | Qt.ItemFlag.ItemIsEditable

    def setData(self, index: QModelIndex | QPersistentModelIndex, value: Any,
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        """An in-place rename: blank or unchanged keeps the title; otherwise the row shows
        the new title at once and ``rename_requested`` asks for it to be stored."""
        row = self.row(index.row()) if index.isValid() else None
        if row is None or role != Qt.ItemDataRole.EditRole:
            return False
        title = " ".join(str(value).split())
        if not title or title == row.cells[0]:
            return False
        row.item.title = title  # a detached row: the store changes on rename_requested
        self.replace_row(index.row(), Shown(row.item, (title,)))
        emit(self.rename_requested, row.id, title)
        return True


class MemoryListModel(PagedModel[Shown[Memory]]):
    """Current memories: pinned first, then most recently changed; or those matching a
    filter (newest first), of every kind or one."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__("memories", self._rows_of, parent)
        self._lists: ListQueries | None = None

    def attach(self, lists: ListQueries) -> None:
        self._lists = lists

    def set_filter(self, typed: str, kind: str | None) -> None:
        lists = self._lists
        if lists is None:
            return
        if typed.strip():
            self.set_query(lambda stop: lists.memory_matches(typed, kind, stop),
                           lists.memory_count)
        else:
            self.set_query(single_batch(lambda: lists.memory_ids(kind)), lists.memory_count)

    def _rows_of(self, ids: Sequence[int]) -> list[Shown[Memory]]:
        if self._lists is None:
            return []
        return [Shown(m, (memory_text(m),)) for m in self._lists.memories(ids)]

    def row_id(self, row: Shown[Memory]) -> int:
        return row.id

    def cell(self, row: Shown[Memory], column: int, role: int) -> Any:
        if role == DISPLAY:
            return row.cells[0]
        if role == _TOOLTIP:
            return row.item.text
        return None


def memory_text(memory: Memory) -> str:
    """Three lines: the subject (or kind), the text, the kind and flags."""
    kind = KIND_LABELS.get(memory.kind, memory.kind)
    flags = "".join([" · pinned" if memory.pinned else "",
                     " · edited by you" if memory.edited else ""])
    head = f"{memory.subject}" if memory.subject else kind
    return f"{head}\n{snippet(memory.text)}\n{kind}{flags}"


class PreparedTableModel(PagedModel[Shown[Anticipation]]):
    """Prepared answers of some statuses: each status in turn, most predictable first."""

    headers = ("Question", "Status", "Predictability", "Hits", "Cost", "Prepared")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__("prepared", self._rows_of, parent)
        self._lists: ListQueries | None = None

    def attach(self, lists: ListQueries) -> None:
        self._lists = lists

    def set_statuses(self, statuses: tuple[str, ...]) -> None:
        lists = self._lists
        if lists is not None:
            self.set_query(single_batch(lambda: lists.anticipation_ids(statuses)),
                           lambda: lists.anticipation_totals(statuses))

    def _rows_of(self, ids: Sequence[int]) -> list[Shown[Anticipation]]:
        if self._lists is None:
            return []
        return [Shown(a, prepared_cells(a)) for a in self._lists.anticipations(ids)]

    def row_id(self, row: Shown[Anticipation]) -> int:
        return row.id

    def cell(self, row: Shown[Anticipation], column: int, role: int) -> Any:
        if role == DISPLAY:
            return row.cells[column]
        if role == _TOOLTIP:
            return row.item.question if column == 0 else None
        if role == _FOREGROUND:
            return _COLOURS.get(row.item.status) if column == 1 else None
        if role == _ALIGNMENT:
            return _RIGHT if column in (2, 3) else None
        return None


def prepared_cells(a: Anticipation) -> tuple[str, ...]:
    return (a.question, STATUS_LABELS.get(a.status, a.status), f"{a.predictability:.0%}",
            str(a.hits),
            f"{a.prompt_tokens + a.completion_tokens:,} tokens · {duration_text(a.seconds)}",
            when_text(a.created_at))
