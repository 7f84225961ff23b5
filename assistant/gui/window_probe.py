"""Drive the real main window on a large profile and time it (run by `assistant.bench.window`).

    python -m assistant.gui.window_probe PROFILE '["Ana", "Lisbon", ...]'

Under Qt's offscreen platform: open the profile, build and show the ``MainWindow``
(no model, no thinking), then, with a :class:`StallProbe` running, scroll the
conversation list to its end, type each query into its search box one key at a time,
open the Memory page, scroll it and type into its search box, open the Prepared answers
page and scroll it. Prints one JSON object of raw timings (the last line of stdout);
`assistant.bench.window` turns them into the benchmark's figures, so that Qt stays in
gui/ and the statistics in bench/.

Waiting is done by running the event loop (never by sleeping, which would itself stall
it): a 1 ms timer checks the condition while the loop runs.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QEventLoop, QObject, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractItemView, QApplication, QLineEdit

from assistant.gui.models.paged import PagedModel
from assistant.gui.stall import StallProbe

#: Pages scrolled in the Memory and Prepared answers lists (each page: one fetch).
SCROLL_PAGES = 40


class ProbeError(RuntimeError):
    """The window did not get where the probe waited for it."""


def wait_until(condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    """Run the event loop until ``condition()`` holds (checked every millisecond)."""
    if condition():
        return
    loop = QEventLoop()
    deadline = time.perf_counter() + timeout_s
    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(1)
    failed = []

    def check() -> None:
        if condition():
            loop.quit()
        elif time.perf_counter() > deadline:
            failed.append(True)
            loop.quit()

    timer.timeout.connect(check)
    timer.start()
    loop.exec()
    timer.stop()
    if failed:
        raise ProbeError(f"timed out after {timeout_s:.0f} s waiting for the window")


class PaintClock(QObject):
    """The time of the latest paint of a widget (a list's viewport)."""

    def __init__(self, widget: QObject) -> None:
        super().__init__(widget)
        self.last = 0.0
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.last = time.perf_counter()
        return False


def type_query(field: QLineEdit, model: PagedModel[Any], query: str,
               cpu_ms: list[float] | None = None) -> list[float]:
    """Type ``query`` key by key; for each key the ms until the list model holds that
    text's first rows (the view repaints on the next frame; painting counts in the
    stalls). ``cpu_ms`` gets the CPU time the process spent on each (every thread).
    Clears the field afterwards."""
    shown: list[tuple[float, float]] = []

    def note(_extra: object) -> None:
        shown.append((time.perf_counter(), time.process_time()))

    model.loaded.connect(note)
    out = []
    for ch in query:
        pressed, cpu = time.perf_counter(), time.process_time()
        QTest.keyClicks(field, ch)
        wait_until(lambda: not model.pending)
        out.append((shown[-1][0] - pressed) * 1000)
        if cpu_ms is not None:
            cpu_ms.append((shown[-1][1] - cpu) * 1000)
    field.clear()
    wait_until(lambda: not model.pending)
    model.loaded.disconnect(note)
    return out


def scroll_to_end(view: QAbstractItemView, model: PagedModel[Any], pages: int) -> int:
    """Scroll to the bottom ``pages`` times (or until everything is loaded), waiting
    each time for the next page to arrive; returns the rows loaded."""
    for _ in range(pages):
        if not model.canFetchMore() and not model.busy:
            break
        before = model.rowCount()
        view.scrollToBottom()
        wait_until(lambda before=before: model.rowCount() > before  # type: ignore[misc]
                   or not (model.canFetchMore() or model.busy))
    return model.rowCount()


def run(profile: Path, queries: list[str]) -> dict[str, Any]:
    from assistant.app import Reverie
    from assistant.gui.main import freeze_startup_objects
    from assistant.gui.main_window import MainWindow
    from assistant.gui.theme import apply_theme

    qapp = QApplication.instance() or QApplication([])
    assert isinstance(qapp, QApplication)
    apply_theme(qapp, "light")
    app = Reverie.open(profile)
    try:
        started, started_cpu = time.perf_counter(), time.process_time()
        window = MainWindow(app, tray_available=lambda: False, think=False)
        sidebar = window.sidebar
        clock = PaintClock(sidebar.list.viewport())
        window.resize(1200, 800)
        window.show()
        wait_until(lambda: sidebar.model.rowCount() > 0 and clock.last > 0
                   and not sidebar.model.pending)
        wait_until(lambda: clock.last > 0 and sidebar.model.rowCount() > 0)
        shown_ms = (clock.last - started) * 1000
        shown_cpu_ms = (time.process_time() - started_cpu) * 1000
        freeze_startup_objects()  # as `run_gui` does once the profile is open

        probe = StallProbe()
        probe.start("conversations: scroll")
        conversations = scroll_to_end(sidebar.list, sidebar.model, 10_000)
        filter_ms: list[float] = []
        cpu_ms: list[float] = []
        probe.phase("conversations: type")
        for q in queries:
            filter_ms += type_query(sidebar.search, sidebar.model, q, cpu_ms)

        probe.phase("memory: open")
        memory = window.show_page("memory")
        view = window.memory_view
        wait_until(lambda: not view.model.busy)
        probe.phase("memory: scroll")
        memories = scroll_to_end(view.list, view.model, SCROLL_PAGES)
        probe.phase("memory: type")
        memory_filter_ms: list[float] = []
        for q in queries:
            memory_filter_ms += type_query(view.search, view.model, q, cpu_ms)
        del memory

        probe.phase("prepared: open")
        prepared = window.prepared_view
        window.show_page("prepared")
        wait_until(lambda: not prepared.model.busy)
        probe.phase("prepared: scroll")
        answers = scroll_to_end(prepared.table, prepared.model, SCROLL_PAGES)
        probe.stop()
        window.shutdown()
        window.close()
    finally:
        app.close()
    return {
        "shown_ms": shown_ms,
        "shown_cpu_ms": shown_cpu_ms,
        "conversation_filter_ms": filter_ms,
        "memory_filter_ms": memory_filter_ms,
        "filter_cpu_ms": cpu_ms,
        "stall_max_ms": probe.max_ms,
        "stall_max_ms_by_phase": probe.phases,
        "busy_max_ms": probe.busy_max_ms,
        "busy_max_ms_by_phase": probe.busy,
        "conversations_loaded": conversations,
        "memories_loaded": memories,
        "prepared_loaded": answers,
        "load_average_1min": os.getloadavg()[0],
    }


def main(argv: list[str]) -> int:
    profile, queries = Path(argv[0]), json.loads(argv[1])
    print(json.dumps(run(profile, queries)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
