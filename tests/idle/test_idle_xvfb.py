"""The X11 backend and IdleMonitor against a real X server (Xvfb) and real input (xdotool)."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable

import pytest

from assistant.idle.backends.x11 import X11Backend
from assistant.idle.monitor import IdleMonitor

pytestmark = pytest.mark.xvfb


def wait_until(predicate: Callable[[], bool], timeout: float, step: float = 0.02) -> bool:
    """Poll `predicate` until it is true or `timeout` seconds pass; return its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


def move_mouse(xdotool: str, display: str, x: int, y: int) -> None:
    subprocess.run(
        [xdotool, "mousemove", str(x), str(y)],
        env=dict(os.environ, DISPLAY=display),
        check=True,
        timeout=10,
    )


def test_x11_idle_counts_up_and_drops_on_real_input(xvfb_display: str, xdotool: str) -> None:
    backend = X11Backend()  # reads DISPLAY, which the fixture set for this test only
    try:
        assert backend.system_wide is True
        assert backend.is_locked() is None
        assert wait_until(lambda: backend.idle_seconds() >= 1.0, timeout=10)

        move_mouse(xdotool, xvfb_display, 10, 10)
        assert backend.idle_seconds() < 0.5

        assert wait_until(lambda: backend.idle_seconds() >= 0.3, timeout=5)
        move_mouse(xdotool, xvfb_display, 200, 150)
        assert backend.idle_seconds() < 0.25
    finally:
        backend.close()


def test_monitor_on_real_x11_fires_idle_then_active_within_a_second(
    xvfb_display: str, xdotool: str
) -> None:
    backend = X11Backend(xvfb_display)
    went_idle = threading.Event()
    became_active = threading.Event()
    events: list[str] = []

    def on_went_idle() -> None:
        events.append("idle")
        went_idle.set()

    def on_became_active() -> None:
        events.append("active")
        became_active.set()

    monitor = IdleMonitor(
        backend,
        threshold_seconds=1.0,
        on_went_idle=on_went_idle,
        on_became_active=on_became_active,
    )
    try:
        move_mouse(xdotool, xvfb_display, 5, 5)
        monitor.start()
        assert went_idle.wait(timeout=5), "went_idle never fired"
        assert monitor.is_idle
        assert monitor.last_idle_seconds >= 1.0

        moved_at = time.monotonic()
        move_mouse(xdotool, xvfb_display, 300, 200)
        assert became_active.wait(timeout=2), "became_active never fired"
        assert time.monotonic() - moved_at < 1.0
        assert not monitor.is_idle
        assert events == ["idle", "active"]
    finally:
        monitor.stop()
        backend.close()
    assert not monitor.running


def press_key(xdotool: str, display: str) -> None:
    subprocess.run([xdotool, "key", "shift"], env=dict(os.environ, DISPLAY=display),
                   check=True, timeout=10)


def test_x11_input_events_wake_a_waiter_on_a_real_key_press(xvfb_display: str,
                                                            xdotool: str) -> None:
    from assistant.idle.backends.x11 import X11InputEvents

    backend = X11Backend(xvfb_display)
    events = X11InputEvents(xvfb_display)
    try:
        assert events.wait(0.05) is False  # no input: the wait times out
        threading.Timer(0.05, events.interrupt).start()
        assert events.wait(30) is False  # interrupted, no input
        woke = threading.Event()
        got: list[bool] = []

        def waiter() -> None:
            got.append(events.wait(30))
            woke.set()

        thread = threading.Thread(target=waiter)
        thread.start()
        press_key(xdotool, xvfb_display)
        assert woke.wait(10) and got == [True]
        assert backend.idle_seconds() < 0.5  # the input the event announced
        thread.join()
    finally:
        events.close()
        events.close()
        backend.close()


def test_a_key_press_stops_a_session_through_the_x11_input_events(
        xvfb_display: str, xdotool: str, tmp_path) -> None:
    """The coordinator as the app runs it, on a real X server: away after 0.5 s without
    input, a session on the FakeEngine, then a real key press ends it, seen by the
    return watch's XInput2 events (no test code polls)."""
    from sqlmodel import select

    from assistant.config import IdleSettings, Settings
    from assistant.idle.conditions import CpuSample
    from assistant.idle.coordinator import ThinkingCoordinator
    from assistant.idle.gate import Sensors, ThinkingGate
    from assistant.idle.status import Status, ThinkingState
    from assistant.llm.fake import FakeEngine
    from assistant.mind.planner import DefaultPlanner
    from assistant.mind.runner import SleepRunner
    from assistant.mind.titles import TitleConversationHandler, propose_titles
    from assistant.store.chats import ChatRepository
    from assistant.store.db import Database
    from assistant.store.models import WorkItem, WorkState

    db = Database.open(tmp_path / "reverie.db", tmp_path / "backups")
    chats = ChatRepository(db)
    conv = chats.create_conversation()
    chats.add_message(conv.id or 0, "user", "my tomato plants have yellow leaves")
    chats.add_message(conv.id or 0, "assistant", "Water them less often.")
    engine = FakeEngine(default=" ".join(["Garden"] * 400), token_delay=0.05)
    runner = SleepRunner(db, engine, DefaultPlanner(db, [propose_titles]),
                         [TitleConversationHandler()])
    settings = Settings(idle=IdleSettings(threshold_minutes=0.5 / 60))
    gate = ThinkingGate(lambda: 0.0, Sensors(battery=lambda: None,
                                             cpu=lambda: CpuSample(0.0, 0.0),
                                             fullscreen=lambda: None))
    backend = X11Backend(xvfb_display)
    coordinator = ThinkingCoordinator(backend, runner, gate, lambda: settings,
                                      lambda _s: None)
    in_item = threading.Event()

    def on_status(status: Status) -> None:
        if status.state is ThinkingState.THINKING and status.detail:
            in_item.set()

    coordinator.add_listener(on_status)
    try:
        coordinator.start()
        assert in_item.wait(30), f"no session started: {coordinator.status}"
        # The watch opens its X connection on its own thread when the person leaves.
        assert wait_until(lambda: coordinator.return_watch.uses_events, timeout=10)
        press_key(xdotool, xvfb_display)
        assert coordinator.wait_stopped(10)
        assert coordinator.last_report is not None
        assert coordinator.last_report.stopped_because == "user_returned"
        with db.session() as s:
            [item] = s.exec(select(WorkItem)).all()
        assert (item.state, item.attempts) == (WorkState.PENDING, 0)
        assert coordinator.return_watch.join(5)
    finally:
        coordinator.shutdown()
        backend.close()
        engine.close()
        db.close()


def test_the_private_display_lets_every_client_in(
        xvfb_display: str, clients_refused: Callable[[str], list[str]]) -> None:
    """The idle backend and xdotool come and go: the display must not reset between them."""
    assert clients_refused(xvfb_display) == []
