"""A Qt model over a long, ordered SQL result that never makes the GUI thread wait.

:class:`PagedModel` shows a *query*: a function that yields the ordered ids of what the
list shows, in one or more batches (`assistant.store.listing`), and a function that
loads the rows of some ids. Both run on a worker thread of the model's own
(:class:`ListWorker`); the GUI thread only swaps in what arrived. The first page of
rows comes with the first batch of ids, in one delivery, so a new query replaces the
old rows at once (no empty flash); further pages load when the view asks for them
(``canFetchMore``/``fetchMore``, that is, when the person scrolls near the end).

A newer query (a key typed into a filter) makes every older job moot: jobs carry the
generation they were made for, a streaming query stops as soon as its generation is
old, and anything that still arrives for an old generation is dropped.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
    Slot,
)

from assistant.gui.qt_compat import emit
from assistant.gui.workers import THREAD_PREFIX

log = logging.getLogger("assistant.gui")

RowT = TypeVar("RowT")
#: Yields ordered ids in batches; stops early when its argument returns True.
IdQuery = Callable[[Callable[[], bool]], Iterator[list[int]]]
#: Loads the rows of some ids, in the order given (ids that are gone are left out).
RowLoader = Callable[[Sequence[int]], Sequence[Any]]
Index = QModelIndex | QPersistentModelIndex

#: Qt's roles, looked up once (each lookup of a Qt enum member costs a call).
DISPLAY = Qt.ItemDataRole.DisplayRole
ID_ROLE = Qt.ItemDataRole.UserRole

PAGE_SIZE = 50
#: At most this many rows are loaded again when a query is re-run (to keep the place).
KEEP_ROWS = 1000


class ListWorker:
    """Runs jobs one after another on a thread that exists only while there is work.

    A list that is not loading costs no thread; :meth:`stop` waits for the current job
    (each job is short or stops when its generation is old).
    """

    def __init__(self, name: str) -> None:
        self._name = THREAD_PREFIX + "list-" + name
        self._jobs: deque[Callable[[], None]] = deque()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stopped = False

    def submit(self, job: Callable[[], None]) -> None:
        with self._lock:
            if self._stopped:
                return
            self._jobs.append(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name,
                                                daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._jobs or self._stopped:
                    self._thread = None
                    return
                job = self._jobs.popleft()
            try:
                job()
            except Exception:  # a job reports its own failures; this is a last resort
                log.exception("a list job failed")

    @property
    def busy(self) -> bool:
        with self._lock:
            return self._thread is not None

    def stop(self, timeout: float = 10.0) -> None:
        """Drop queued jobs, wait for the running one, accept no more. Idempotent."""
        with self._lock:
            self._stopped = True
            self._jobs.clear()
            thread = self._thread
        if thread is not None:
            thread.join(timeout)


@dataclass
class _Arrival:
    """What a job hands to the GUI thread."""

    generation: int
    kind: str  # "reset" | "ids" | "rows" | "done" | "failed"
    ids: list[int] = field(default_factory=list)
    rows: Sequence[Any] = ()
    extra: object = None
    error: str = ""


class _Delivery(QObject):
    arrived = Signal(object)


class PagedModel(QAbstractTableModel, Generic[RowT]):
    """Rows of a query, loaded a page at a time off the GUI thread.

    Subclasses say how a row looks (:meth:`cell`), its id (:meth:`row_id`) and their
    columns (:attr:`headers`). ``loaded`` follows each new query's first rows, with
    what the query's ``extra`` function returned (counts for a label, say);
    ``finished`` follows once every id of the query is known (the total);
    ``failed`` carries one sentence.
    """

    loaded = Signal(object)
    finished = Signal(int)
    failed = Signal(str)

    headers: tuple[str, ...] = ("",)

    def __init__(self, name: str, rows: RowLoader, parent: QObject | None = None, *,
                 page_size: int = PAGE_SIZE) -> None:
        super().__init__(parent)
        self._load_rows = rows
        self._page_size = page_size
        self._worker = ListWorker(name)
        self._delivery = _Delivery(self)
        self._delivery.arrived.connect(self._on_arrived, Qt.ConnectionType.QueuedConnection)
        self._generation = 0
        self._query: IdQuery | None = None
        self._extra: Callable[[], object] | None = None
        self._ids: list[int] = []
        self._rows: list[RowT] = []
        self._complete = True
        self._fetching = False
        self._pending = False

    # -- the query ------------------------------------------------------------------------
    def set_query(self, query: IdQuery, extra: Callable[[], object] | None = None) -> None:
        """Show what ``query`` yields instead (the rows on screen stay until then)."""
        self._query = query
        self._extra = extra
        self._run(self._page_size)

    def reload(self) -> None:
        """Run the current query again (the data changed); as many rows as are loaded now
        are loaded again (up to ``KEEP_ROWS``), so the place in the list and the
        selection can be kept."""
        self._run(min(max(self._page_size, len(self._rows)), KEEP_ROWS))

    def _run(self, want: int) -> None:
        query = self._query
        if query is None:
            return
        self._generation += 1
        self._pending = True
        self._fetching = False
        generation = self._generation
        extra = self._extra
        self._worker.submit(lambda: self._run_query(generation, query, want, extra))

    def _stale(self, generation: int) -> bool:
        return generation != self._generation

    def _send(self, arrival: _Arrival) -> None:
        with contextlib.suppress(RuntimeError):  # the model was deleted meanwhile
            emit(self._delivery.arrived, arrival)

    def _run_query(self, generation: int, query: IdQuery, want: int,
                   extra: Callable[[], object] | None) -> None:
        try:
            first = True
            for batch in query(lambda: self._stale(generation)):
                if self._stale(generation):
                    return
                if first:
                    rows = self._load_rows(batch[:want])
                    self._send(_Arrival(generation, "reset", batch, rows,
                                        extra() if extra is not None else None))
                    first = False
                elif batch:
                    self._send(_Arrival(generation, "ids", batch))
            if self._stale(generation):
                return
            if first:
                self._send(_Arrival(generation, "reset", [], [],
                                    extra() if extra is not None else None))
            self._send(_Arrival(generation, "done"))
        except Exception as exc:
            log.exception("a list query failed")
            self._send(_Arrival(generation, "failed", error=str(exc)))

    def _run_rows(self, generation: int, ids: list[int]) -> None:
        try:
            rows = self._load_rows(ids)
        except Exception as exc:
            log.exception("loading list rows failed")
            self._send(_Arrival(generation, "failed", error=str(exc)))
            return
        self._send(_Arrival(generation, "rows", ids, rows))

    @Slot(object)
    def _on_arrived(self, arrival: _Arrival) -> None:
        if arrival.generation != self._generation:
            return
        if arrival.kind == "reset" and self._same_rows(arrival.rows):
            # Same rows in the same order (a reload after an edit, mostly): update them in
            # place, so the selection, the scroll position and an open editor stay.
            self._ids = list(arrival.ids)
            self._complete = False
            self._fetching = False
            self._pending = False
            self._update_in_place(list(arrival.rows))
            emit(self.loaded, arrival.extra)
        elif arrival.kind == "reset":
            self.beginResetModel()
            self._ids = list(arrival.ids)
            self._rows = list(arrival.rows)
            self._complete = False
            self._fetching = False
            self.endResetModel()
            self._pending = False
            emit(self.loaded, arrival.extra)
        elif arrival.kind == "ids":
            self._ids.extend(arrival.ids)
            if len(self._rows) < self._page_size:
                self.fetchMore(QModelIndex())
        elif arrival.kind == "rows":
            self._fetching = False
            rows = list(arrival.rows)
            if rows:
                start = len(self._rows)
                self.beginInsertRows(QModelIndex(), start, start + len(rows) - 1)
                self._rows.extend(rows)
                self.endInsertRows()
            if len(rows) < len(arrival.ids):  # some were deleted meanwhile: skip them
                gone = set(arrival.ids) - {self.row_id(r) for r in rows}
                self._ids = [i for i in self._ids if i not in gone]
        elif arrival.kind == "done":
            self._complete = True
            emit(self.finished, len(self._ids))
        elif arrival.kind == "failed":
            self._pending = False
            self._fetching = False
            self._complete = True
            emit(self.failed, arrival.error)

    def _same_rows(self, rows: Sequence[RowT]) -> bool:
        return bool(rows) and len(rows) == len(self._rows) and all(
            self.row_id(a) == self.row_id(b) for a, b in zip(rows, self._rows, strict=True))

    def _update_in_place(self, rows: list[RowT]) -> None:
        role = Qt.ItemDataRole.DisplayRole
        columns = range(self.columnCount())
        old, self._rows = self._rows, rows
        for i, (before, after) in enumerate(zip(old, rows, strict=True)):
            if any(self.cell(before, c, role) != self.cell(after, c, role) for c in columns):
                emit(self.dataChanged, self.index(i, 0), self.index(i, len(columns) - 1))

    # -- state for views and tests --------------------------------------------------------
    @property
    def busy(self) -> bool:
        """A query or a page is on its way."""
        return self._pending or self._fetching or not self._complete

    @property
    def pending(self) -> bool:
        """The latest query has not shown its first rows yet."""
        return self._pending

    @property
    def total(self) -> int:
        """Ids known so far (all of them once ``finished`` was emitted)."""
        return len(self._ids)

    @property
    def ids(self) -> list[int]:
        """The ids of the rows loaded so far, in order."""
        return [self.row_id(r) for r in self._rows]

    def row(self, row: int) -> RowT | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, row_id: int) -> int:
        """The row showing ``row_id`` (-1 when it is not loaded)."""
        for i, r in enumerate(self._rows):
            if self.row_id(r) == row_id:
                return i
        return -1

    def replace_row(self, row: int, value: RowT) -> None:
        """Show ``value`` in ``row`` (an edit made here, before the next reload)."""
        if 0 <= row < len(self._rows):
            self._rows[row] = value
            emit(self.dataChanged, self.index(row, 0),
                 self.index(row, self.columnCount() - 1))

    def shutdown(self) -> None:
        """Stop loading; wait for the job in progress. Idempotent."""
        self._generation += 1
        self._worker.stop()

    # -- Qt model -------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.headers)

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and len(self._rows) < len(self._ids)

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self._fetching or not self.canFetchMore(parent):
            return
        self._fetching = True
        generation = self._generation
        start = len(self._rows)
        ids = self._ids[start:start + self._page_size]
        self._worker.submit(lambda: self._run_rows(generation, ids))

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole
                and 0 <= section < len(self.headers)):
            return self.headers[section]
        return None

    def data(self, index: Index, role: int = DISPLAY) -> Any:
        """Called for every visible cell and role on each paint: kept cheap (rows carry
        their text ready-made, see :mod:`assistant.gui.models.lists`)."""
        i = index.row()
        if not 0 <= i < len(self._rows):
            return None
        row = self._rows[i]
        if role == ID_ROLE:
            return self.row_id(row)
        return self.cell(row, index.column(), role)

    # -- for subclasses -------------------------------------------------------------------
    def row_id(self, row: RowT) -> int:
        raise NotImplementedError

    def cell(self, row: RowT, column: int, role: int) -> Any:
        raise NotImplementedError


def single_batch(load: Callable[[], list[int]]) -> IdQuery:
    """A query whose ids come in one piece (an ordered index scan)."""

    def query(_should_stop: Callable[[], bool]) -> Iterator[list[int]]:
        yield load()

    return query
