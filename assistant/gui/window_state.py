"""Where the main window was and how its splitter was set, kept per profile.

The state lives in ``window.ini`` in the profile's config folder (a Qt INI file), so
"Delete all data" removes it with the rest of the profile.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMainWindow, QSplitter

#: The first size of the window (shrunk to fit smaller screens).
DEFAULT_SIZE = (1200, 760)


def _stored(config_dir: Path) -> QSettings:
    return QSettings(str(config_dir / "window.ini"), QSettings.Format.IniFormat)


def restore_window(window: QMainWindow, splitter: QSplitter, config_dir: Path) -> None:
    """Put the window back where it was; the first time, centre it at DEFAULT_SIZE."""
    stored = _stored(config_dir)
    geometry = stored.value("geometry")
    if geometry is not None and window.restoreGeometry(geometry):
        state = stored.value("splitter")
        if state is not None:
            splitter.restoreState(state)
        return
    window.resize(*DEFAULT_SIZE)
    screen = QGuiApplication.primaryScreen()
    if screen is not None:
        area = screen.availableGeometry()
        width, height = min(DEFAULT_SIZE[0], area.width()), min(DEFAULT_SIZE[1], area.height())
        window.resize(width, height)
        window.move(area.center().x() - width // 2, area.center().y() - height // 2)


def save_window(window: QMainWindow, splitter: QSplitter, config_dir: Path) -> None:
    stored = _stored(config_dir)
    stored.setValue("geometry", window.saveGeometry())
    stored.setValue("splitter", splitter.saveState())
    stored.sync()
