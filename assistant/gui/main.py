"""``reverie`` without a command: the desktop window.

Start-up order: check there is a display (Qt would abort the process otherwise),
create the QApplication, open the profile (fast), show the window, and only then
start the model in the background. Shut-down order: the window stops the answer and
joins its threads, then the profile closes (engine first, then the database).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading

from assistant.app import Reverie
from assistant.doctor import has_display
from assistant.paths import APP_NAME

log = logging.getLogger("assistant.gui")

ORGANIZATION = "Reverie"
ORGANIZATION_DOMAIN = "reverie.app"


def run_gui(data_dir: str | None, tray: bool = False) -> int:
    """Open the main window on the profile in ``data_dir``; returns the exit code."""
    if not has_display():
        print("reverie: no display found (DISPLAY/WAYLAND_DISPLAY are unset); start Reverie "
              "from a desktop session, or use a command such as `reverie ask`.",
              file=sys.stderr)
        return 1

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QSystemTrayIcon

    from assistant.gui.main_window import MainWindow
    from assistant.gui.theme import app_icon, apply_theme

    qapp = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "reverie"])
    assert isinstance(qapp, QApplication)
    qapp.setApplicationName(APP_NAME)
    qapp.setOrganizationName(ORGANIZATION)
    qapp.setOrganizationDomain(ORGANIZATION_DOMAIN)
    qapp.setDesktopFileName("reverie")
    qapp.setWindowIcon(app_icon())
    app = Reverie.open(data_dir)
    try:
        apply_theme(qapp, app.settings.ui.theme)
        if tray and not QSystemTrayIcon.isSystemTrayAvailable():
            print("reverie: this desktop has no system tray; opening the window instead.",
                  file=sys.stderr)
        elif tray:
            log.info("--tray: tray-only start is not available yet; opening the window")
        window = MainWindow(app)
        window.show()
        window.start_model()

        # Ctrl+C in the terminal quits cleanly: let Python see the signal now and then.
        previous = signal.signal(signal.SIGINT, lambda *_: qapp.quit())
        tick = QTimer()
        tick.timeout.connect(lambda: None)
        tick.start(250)
        try:
            code = qapp.exec()
        finally:
            tick.stop()
            signal.signal(signal.SIGINT, previous)
            window.shutdown()
            window.deleteLater()
        return int(code)
    finally:
        app.close()
        left = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
        if left:
            log.warning("threads still running at exit: %s", ", ".join(left))
