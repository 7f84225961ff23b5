"""Tiny Qt checks run in a child process by ``reverie doctor`` (Qt may abort without a display)."""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QSystemTrayIcon


def tray_available() -> bool:
    app = QApplication.instance() or QApplication([])
    del app
    return bool(QSystemTrayIcon.isSystemTrayAvailable())
