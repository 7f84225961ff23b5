"""Emitting signals from Python must not drain the refcount of True (PySide6 6.12.0 bug)."""

from __future__ import annotations

import gc
import sys
import threading

from PySide6.QtCore import QObject, Signal

from assistant.gui.qt_compat import emit


class _Source(QObject):
    plain = Signal()
    text = Signal(str)


def test_emit_keeps_the_refcount_of_true() -> None:
    source = _Source()
    received: list[str] = []
    source.text.connect(received.append)
    gc.collect()
    before = sys.getrefcount(True)
    for i in range(2000):
        emit(source.plain)
        emit(source.text, str(i))
    gc.collect()
    assert len(received) == 2000
    assert abs(sys.getrefcount(True) - before) < 100


def test_emit_from_another_thread_keeps_the_refcount_of_true() -> None:
    source = _Source()
    gc.collect()
    before = sys.getrefcount(True)
    worker = threading.Thread(target=lambda: [emit(source.plain) for _ in range(2000)])
    worker.start()
    worker.join()
    gc.collect()
    assert abs(sys.getrefcount(True) - before) < 100
