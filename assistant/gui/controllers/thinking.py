"""Thinking while the person is away, as the window sees it.

:class:`ThinkingController` probes the idle backend off the GUI thread, starts the
profile's coordinator once the model is ready, turns its status (reported on worker
threads) into ``status_changed`` on the GUI thread, pauses and resumes thinking, and
offers "Think now" sessions with what is left of today's budget. Before the
coordinator runs it says whether thinking is off, paused or about to start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication

from assistant.gui.qt_compat import emit
from assistant.gui.thinking import ActivityFilter, StatusBridge, status_text
from assistant.gui.workers import Task, run_task

if TYPE_CHECKING:
    from assistant.app import Reverie
    from assistant.idle.backends.probe import ProbeResult
    from assistant.idle.status import Status
    from assistant.llm.engine import Engine

log = logging.getLogger("assistant.gui")

#: "Pause until tomorrow" lasts until this hour tomorrow (local time).
TOMORROW_HOUR = 8

#: Finds the idle backend (slow; runs on a worker thread). None: ask the profile.
IdleProbe = Callable[[], "ProbeResult"]
#: What "Think now" runs on its worker thread, given a should_stop callable.
SessionStarter = Callable[[Callable[[], bool]], object]
#: (backend name, system-wide?, [(backend, why it failed)]) for the Settings page.
IdleInfo = tuple[str, bool, list[tuple[str, str]]]


def pause_until(hours: float, now: datetime | None = None) -> datetime:
    """The end of a pause of ``hours`` (0 means until tomorrow morning)."""
    now = (now or datetime.now()).astimezone()
    if hours > 0:
        return now + timedelta(hours=hours)
    return (now + timedelta(days=1)).replace(hour=TOMORROW_HOUR, minute=0, second=0,
                                             microsecond=0)


class ThinkingController(QObject):
    """The coordinator's life in the window: start, status, pause/resume, Think now."""

    #: (label for the status bar, one sentence why) whenever the status changes.
    status_changed = Signal(str, str)
    #: The idle backend in use is known (see :data:`IdleInfo`).
    idle_backend_found = Signal(str, bool, list)
    #: A thinking session ended: what it renamed, remembered or prepared can be shown.
    session_ended = Signal()

    def __init__(self, parent: QObject | None = None, *,
                 idle_probe: IdleProbe | None = None) -> None:
        super().__init__(parent)
        self._app: Reverie | None = None
        self._idle_probe = idle_probe
        self._tasks: list[Task] = []
        self._closed = False
        self.bridge = StatusBridge(self)
        self.bridge.changed.connect(self._on_status)
        self.activity_filter: ActivityFilter | None = None
        #: (state, reason); states as in assistant.idle.status. None before the first.
        self.status: tuple[str, str] | None = None
        self.idle_info: IdleInfo | None = None
        self.engine: Engine | None = None

    def attach(self, app: Reverie) -> None:
        self._app = app
        self.show_offline_status()

    @property
    def thinking_now(self) -> bool:
        return self.status is not None and self.status[0] == "thinking"

    @property
    def idle_backend_name(self) -> str:
        return self.idle_info[0] if self.idle_info is not None else ""

    # -- starting -----------------------------------------------------------------------
    def set_engine(self, engine: Engine) -> None:
        """The model is ready: "Think now" becomes possible."""
        self.engine = engine

    def start(self, engine: Engine) -> None:
        """Probe the idle backend off the GUI thread, then start the coordinator."""
        self.engine = engine
        app = self._app
        if app is None or self._closed:
            return
        probe = self._idle_probe or app.probe_idle
        task = run_task(lambda _t: probe(), name="idle-probe", parent=self,
                        on_success=lambda result: self._attach_coordinator(engine, result),
                        on_error=lambda exc: self._set_text(
                            "Not thinking", f"Idle detection failed: {exc}"))
        self._tasks.append(task)

    def _attach_coordinator(self, engine: Engine, probe: ProbeResult) -> None:
        backend = probe.backend
        failures = list(probe.failures)
        if self._closed or self._app is None:
            backend.close()
            return
        coordinator = self._app.coordinator(engine, backend=backend)
        coordinator.add_listener(self.bridge.listener)
        used = coordinator.monitor.backend
        notice = getattr(used, "notice_activity", None)  # only the app-activity backend
        qapp = QApplication.instance()
        if notice is not None and qapp is not None:
            self.activity_filter = ActivityFilter(notice, self)
            qapp.installEventFilter(self.activity_filter)
        self.idle_info = (used.name, used.system_wide, failures)
        emit(self.idle_backend_found, *self.idle_info)
        coordinator.start()
        self._on_status(coordinator.status)

    def session_starter(self) -> SessionStarter | None:
        """What "Think now" runs on its worker thread: one session, today's budget left.

        None while the model is not ready or a session already runs.
        """
        app, engine = self._app, self.engine
        if app is None or engine is None or self.thinking_now:
            return None

        def start(should_stop: Callable[[], bool]) -> object:
            runner = app.sleep_runner(engine)
            return runner.run_session(app.think_now_budget(), should_stop=should_stop)

        return start

    # -- status -------------------------------------------------------------------------
    def _on_status(self, status: Status) -> None:
        if self._closed:
            return
        reason = status.reason
        was_thinking = self.thinking_now
        self.status = (status.state.value, reason)
        self._set_text(status_text(status), reason)
        if was_thinking and not self.thinking_now:
            emit(self.session_ended)

    def _set_text(self, text: str, reason: str) -> None:
        emit(self.status_changed, text, reason)

    def show_offline_status(self) -> None:
        """Before the coordinator runs: say whether thinking is paused or off."""
        if self._app is None:
            return
        thinking = self._app.settings.thinking
        until = thinking.paused_until_time()
        now = datetime.now().astimezone()
        if not thinking.enabled:
            text, reason, state = "Thinking off", "Thinking is turned off in Settings.", "paused"
        elif until is not None and until > now:
            when = "until resumed" if until.year >= 9999 else f"until {until:%a %H:%M}"
            text, reason, state = "Thinking paused", f"Thinking is paused {when}.", "paused"
        else:
            text, reason, state = ("Starting…", "Reverie starts watching for idle time once "
                                   "the model is ready.", "off")
        self.status = (state, reason)
        self._set_text(text, reason)

    def pause(self, hours: float) -> None:
        """Pause for ``hours`` (0: until tomorrow morning), running or not."""
        app = self._app
        if app is None:
            return
        until = pause_until(hours)
        coordinator = app.running_coordinator
        if coordinator is not None:
            coordinator.pause(until)
        else:
            app.save_settings(app.settings.replace("thinking", paused_until=until.isoformat()))
            self.show_offline_status()

    def resume(self) -> None:
        app = self._app
        if app is None:
            return
        coordinator = app.running_coordinator
        if coordinator is None:
            if app.settings.thinking.paused_until:
                app.save_settings(app.settings.replace("thinking", paused_until=""))
            self.show_offline_status()
            return
        # resume() re-checks the conditions (the CPU sample takes a moment): off the GUI
        self._tasks.append(run_task(lambda _t: coordinator.resume(), name="resume",
                                    parent=self))

    def shutdown(self) -> None:
        """Join the worker threads and stop the coordinator (before the engine closes)."""
        self._closed = True
        for task in self._tasks:
            task.join(10)
        self.bridge.close()
        coordinator = self._app.running_coordinator if self._app is not None else None
        if coordinator is not None:
            coordinator.shutdown()
        qapp = QApplication.instance()
        if self.activity_filter is not None and qapp is not None:
            qapp.removeEventFilter(self.activity_filter)


