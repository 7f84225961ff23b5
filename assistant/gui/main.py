"""``reverie`` without a command: the desktop window (or the tray, with ``--tray``).

Start-up order: check there is a display (Qt would abort the process otherwise),
create the QApplication, hand over to a Reverie already running on this profile if
there is one, show the window, then (from the event loop, once it is painted) load
the database layer, open the profile and start the model in the background; the
thinking coordinator starts once the model is ready. Importing SQLAlchemy, SQLModel
and Alembic takes most of a second on a small machine, so the window comes first.
Shut-down order: the window stops the answer, the coordinator and its threads, then
the profile closes (engine first, then the database).

"Delete all data" and "Restart" end the event loop with a restart request: the
profile is closed (and its data removed), then opened again in the same process, so
the single-instance socket is never given up in between.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import os
import shutil
import signal
import sys
import threading
import time
from typing import TYPE_CHECKING

from assistant.display import has_display
from assistant.paths import APP_NAME, Paths

if TYPE_CHECKING:
    from assistant.app import Reverie
    from assistant.gui.single_instance import CommandHandlerFactory

log = logging.getLogger("assistant.gui")

ORGANIZATION = "Reverie"
ORGANIZATION_DOMAIN = "reverie.app"
#: When set, print "reverie-startup <event> <unix time>" lines and quit once the
#: model is ready (``reverie bench startup``).
STARTUP_PROBE_ENV = "REVERIE_STARTUP_PROBE"
STARTUP_PREFIX = "reverie-startup"

#: What "Delete all data" removes from the profile's folders (downloaded models stay).
PROFILE_FILES = ("reverie.db", "reverie.db-wal", "reverie.db-shm", "settings.toml",
                 "window.ini", "kv", "backups")


def freeze_startup_objects() -> None:
    """Keep what start-up made (modules, widgets, the ORM's mappers: they live as long as
    the app) out of the cycle collector's full passes. Without this, a full pass over
    them stalled the event loop for about 150 ms while the person typed into a long
    list's filter (`reverie bench scale`, "memory: type"); new objects are collected as
    before."""
    gc.freeze()


def _probe(event: str) -> None:
    print(f"{STARTUP_PREFIX} {event} {time.time():.6f}", flush=True)


def delete_profile(paths: Paths) -> None:
    """Remove everything the person owns in the profile; downloaded models are kept."""
    for folder in {paths.config_dir, paths.data_dir}:
        for name in PROFILE_FILES:
            target = folder / name
            if target.is_dir():
                shutil.rmtree(target, ignore_errors=True)
            else:
                target.unlink(missing_ok=True)
        for broken in folder.glob("settings.toml.broken-*"):
            broken.unlink(missing_ok=True)
    for folder in (paths.cache_dir, paths.log_dir):
        if folder.is_dir():
            for child in folder.iterdir():
                if child.is_dir():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink(missing_ok=True)
    root = logging.getLogger("assistant")
    for handler in [h for h in root.handlers if getattr(h, "_reverie", False)]:
        root.removeHandler(handler)
        handler.close()
    from assistant.app import configure_logging

    configure_logging(paths.ensure())
    log.info("all data of the profile in %s was deleted", paths.data_dir)


def run_gui(data_dir: str | None, tray: bool = False, debug: bool = False,
            commands: CommandHandlerFactory | None = None) -> int:
    """Open the main window on the profile in ``data_dir``; returns the exit code.
    ``commands`` makes the handler of the terminal's commands (`TerminalCommands`)."""
    probing = bool(os.environ.get(STARTUP_PROBE_ENV))
    if not has_display():
        print("reverie: no display found (DISPLAY/WAYLAND_DISPLAY are unset); start Reverie "
              "from a desktop session, or use a command such as `reverie ask`.",
              file=sys.stderr)
        return 1

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from assistant.gui.single_instance import (
        SHOW,
        TRAY,
        SingleInstance,
        TerminalCommands,
        notify_running,
        server_name,
    )
    from assistant.gui.theme import app_icon, apply_theme

    qapp = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "reverie"])
    assert isinstance(qapp, QApplication)
    qapp.setApplicationName(APP_NAME)
    qapp.setOrganizationName(ORGANIZATION)
    qapp.setOrganizationDomain(ORGANIZATION_DOMAIN)
    qapp.setDesktopFileName("reverie")
    qapp.setWindowIcon(app_icon())

    paths = Paths.resolve(data_dir)
    name = server_name(paths.data_dir)
    instance = SingleInstance(name)
    if not probing:
        if notify_running(name, TRAY if tray else SHOW):
            print("Reverie is already running on this profile; its window was raised."
                  if not tray else "Reverie is already running on this profile.")
            return 0
        if not instance.listen() and notify_running(name, TRAY if tray else SHOW):
            return 0
    terminal = (TerminalCommands(paths.data_dir, commands())
                if commands is not None and not probing else None)
    if terminal is not None:
        terminal.start()

    from assistant.config import load_settings
    from assistant.gui.main_window import MainWindow

    code = 0
    logged = False
    try:
        while True:
            holder: dict[str, Reverie] = {}
            failure: list[BaseException] = []
            restart: dict[str, bool] = {}
            window = MainWindow(None, paths=paths)
            try:
                apply_theme(qapp, load_settings(paths.settings_file).settings.ui.theme)
                in_tray = tray and window.tray.available
                if tray and not window.tray.available:
                    print("reverie: this desktop has no system tray; opening the window "
                          "instead.", file=sys.stderr)
                qapp.setQuitOnLastWindowClosed(not window.tray.available)
                instance.activated.connect(
                    lambda command, w=window: w.bring_to_front() if command == SHOW else None)
                window.quit_requested.connect(qapp.quit)
                if terminal is not None:
                    terminal.show_in(window)

                def on_restart(wipe: bool, r: dict[str, bool] = restart) -> None:
                    r["wipe"] = wipe
                    qapp.quit()

                window.restart_requested.connect(on_restart)
                if probing:
                    def model_ready(_name: str) -> None:
                        _probe("model_ready")
                        qapp.quit()

                    def model_failed(_message: str) -> None:
                        _probe("model_failed")
                        qapp.exit(1)

                    window.loader.ready.connect(model_ready)
                    window.loader.failed.connect(model_failed)
                if not in_tray:
                    window.show()
                if probing:
                    QTimer.singleShot(0, lambda: _probe("window_shown"))

                def open_profile(w: MainWindow = window, held: dict[str, Reverie] = holder,
                                 failed: list[BaseException] = failure) -> None:
                    """From the event loop, after the window is painted."""
                    nonlocal logged
                    try:
                        from assistant.app import Reverie, configure_logging

                        if not logged:
                            configure_logging(paths.ensure(), debug=debug)
                            logged = True
                        held["app"] = Reverie.open(data_dir)
                        apply_theme(qapp, held["app"].settings.ui.theme)
                        w.attach(held["app"])
                        w.start_model()
                        if terminal is not None:
                            terminal.attach(held["app"])
                        freeze_startup_objects()
                    except BaseException as exc:  # reported by the command line
                        failed.append(exc)
                        qapp.exit(1)

                QTimer.singleShot(0, open_profile)

                # Ctrl+C in the terminal quits cleanly: let Python see the signal now and then.
                previous = signal.signal(signal.SIGINT, lambda *_: qapp.quit())
                tick = QTimer()
                tick.timeout.connect(lambda: None)
                tick.start(250)
                try:
                    code = int(qapp.exec())
                finally:
                    tick.stop()
                    signal.signal(signal.SIGINT, previous)
                    window.shutdown()
                    window.hide()
                    window.deleteLater()
                    with contextlib.suppress(RuntimeError, TypeError):
                        instance.activated.disconnect()
                    if terminal is not None:
                        terminal.attach(None)
                        terminal.show_in(None)
            finally:
                if "app" in holder:
                    holder["app"].close()
            if failure:
                raise failure[0]
            if not restart:
                break
            if restart.get("wipe"):
                delete_profile(paths)
            qapp.processEvents()
        return code
    finally:
        instance.close()
        if terminal is not None:
            terminal.close()
        left = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
        if left:
            log.warning("threads still running at exit: %s", ", ".join(left))
