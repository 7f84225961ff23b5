"""The one place that hides differences and bugs between PySide6 versions.

PySide6 6.12.0's ``SignalInstance.emit()`` returns ``True`` without taking a
reference to it, so every emit made from Python drops the refcount of ``True`` by
one; after some ten thousand emits (a few long streamed answers) CPython aborts with
"bool_dealloc: deallocating True or False". :func:`emit` gives the reference back
when, and only when, the running PySide6 has that bug (checked once, at import).
"""

from __future__ import annotations

import ctypes
import sys
from typing import Any

from PySide6.QtCore import QObject, Signal, SignalInstance

_PROBE_EMITS = 64


class _Probe(QObject):
    fired = Signal()


def _emit_steals_true() -> bool:
    probe = _Probe()
    before = sys.getrefcount(True)
    for _ in range(_PROBE_EMITS):
        probe.fired.emit()
    lost = before - sys.getrefcount(True)
    if lost > _PROBE_EMITS // 2:
        for _ in range(lost):
            ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))
        return True
    return False


EMIT_STEALS_TRUE = _emit_steals_true()


def emit(signal: SignalInstance, *args: Any) -> None:
    """``signal.emit(*args)``, safe on every supported PySide6 version and thread."""
    signal.emit(*args)
    if EMIT_STEALS_TRUE:
        ctypes.pythonapi.Py_IncRef(ctypes.py_object(True))
