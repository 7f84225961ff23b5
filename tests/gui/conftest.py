"""Fixtures for the window tests (pytest-qt, offscreen platform).

``make_window`` builds a MainWindow on a profile and closes it at teardown (which
stops its answer and joins its threads); an autouse check then fails the test if
any GUI worker thread is still alive.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from pytestqt.qtbot import QtBot

from assistant.app import Reverie
from assistant.gui.main_window import MainWindow
from assistant.gui.model_loader import ModelState
from assistant.gui.theme import apply_theme
from assistant.gui.workers import THREAD_PREFIX

WindowFactory = Callable[..., MainWindow]


def gui_threads() -> list[str]:
    return [t.name for t in threading.enumerate()
            if t.name.startswith(THREAD_PREFIX) and t.is_alive()]


@pytest.fixture(autouse=True)
def _no_threads_left() -> Iterator[None]:
    yield
    assert gui_threads() == [], "a GUI worker thread outlived its window"


@pytest.fixture
def make_window(qtbot: QtBot, qapp) -> Iterator[WindowFactory]:
    apply_theme(qapp, "light")
    windows: list[MainWindow] = []

    def make(app: Reverie, *, start: bool = True, tray: bool = False,
             think: bool = False, **kwargs) -> MainWindow:
        window = MainWindow(app, tray_available=lambda: tray, think=think, **kwargs)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        window.activateWindow()
        if start:
            window.start_model()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.shutdown()
        window.close()


@pytest.fixture
def window(app: Reverie, make_window: WindowFactory, qtbot: QtBot) -> MainWindow:
    """A window on the FakeEngine profile, model ready."""
    win = make_window(app)
    qtbot.waitUntil(lambda: win.loader.state is ModelState.READY, timeout=5000)
    return win
