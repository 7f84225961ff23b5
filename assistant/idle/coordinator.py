"""ThinkingCoordinator: idle monitor -> conditions -> sleep-time session, and back.

It owns the `IdleMonitor`, the `ThinkingGate`, a `ReturnWatch` and an APScheduler
`BackgroundScheduler` with three jobs:

- ``idle-poll``: reads the idle backend every second, which notices the person leaving;
  their return is noticed by the `ReturnWatch`, a thread of its own that runs while they
  are away: on X11 it wakes on the first key press or mouse move (XInput2 events),
  elsewhere it reads the backend every 20 ms while a session runs (0.2 s otherwise);
- ``sleep-trigger``: every 30 s while away and not thinking, re-checks the conditions
  and starts a session when they pass (e.g. when the charger is plugged in, or at
  midnight when the daily budget renews); while thinking, stops on battery;
- ``maintenance``: nightly backup, FTS optimisation and expiry of anticipations.

Every job coalesces missed runs into one and has a misfire grace, so after the laptop
sleeps and wakes each job runs once, not a burst (the nightly job up to 12 h late).

Threads: the jobs run on the scheduler's worker threads; `went_idle` arrives on the
thread of the ``idle-poll`` job, `became_active` on the ``idle-return-watch`` thread
(or on the job's, whichever reads first). A session runs on its own
``reverie-thinking`` thread. On `became_active` the coordinator asks the runner to
stop (which also aborts the engine's BACKGROUND request) and returns at once; the
session thread ends within 100 ms. Status listeners run on whichever of these threads
changed the status: the GUI must marshal them. Nothing here imports Qt.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from apscheduler.schedulers.background import BackgroundScheduler

from assistant.config import Settings
from assistant.idle.backends.base import IdleBackend, InputEvents
from assistant.idle.backends.x11 import X11Backend
from assistant.idle.gate import PAUSING, ThinkingGate
from assistant.idle.monitor import ACTIVE_POLL_SECONDS, IdleMonitor
from assistant.idle.status import Status, StatusListener, StatusTracker, ThinkingState
from assistant.idle.watch import ReturnWatch
from assistant.profile_lock import SessionBusyError

log = logging.getLogger("assistant.idle")

TRIGGER_SECONDS = 30.0
#: After a failed session, wait this long before trying again.
ERROR_BACKOFF_SECONDS = 600.0
MAINTENANCE_HOUR, MAINTENANCE_MINUTE = 3, 30
#: Misfire grace (seconds late a run may still start) per job; None = however late.
POLL_GRACE: int | None = None
TRIGGER_GRACE: int | None = None
MAINTENANCE_GRACE = 12 * 3600
#: Pausing "until resumed" is stored as this moment.
FOREVER = datetime(9999, 12, 31, 23, 59, 59).astimezone()


class SessionReportLike(Protocol):
    """What the coordinator reads from `assistant.mind.runner.SessionReport`."""

    @property
    def stopped_because(self) -> str: ...

    @property
    def error(self) -> str | None: ...

    def sentence(self) -> str: ...


class SessionRunner(Protocol):
    """What the coordinator needs from `assistant.mind.runner.SleepRunner`."""

    @property
    def running(self) -> bool: ...

    def has_work(self) -> bool: ...

    def request_stop(self, reason: str = ...) -> None: ...

    def run_session(self, budget_seconds: float | None = ...,
                    should_stop: Callable[[], bool] | None = ...,
                    on_item: Callable[[str | None], None] | None = ...) -> SessionReportLike: ...


def input_events_for(backend: IdleBackend) -> Callable[[], InputEvents] | None:
    """How to open the input events of ``backend``'s platform, or None where it gives none
    (then the `ReturnWatch` polls). X11 has them (XInput2); the other backends poll."""
    if isinstance(backend, X11Backend):
        return backend.input_events
    return None


class ThinkingCoordinator:
    """Starts sleep-time sessions when the person is away and conditions allow; stops them
    the moment the person returns. `start()` begins watching, `shutdown()` ends it."""

    def __init__(
        self,
        backend: IdleBackend,
        runner: SessionRunner,
        gate: ThinkingGate,
        settings: Callable[[], Settings],
        save_settings: Callable[[Settings], None],
        *,
        maintenance: Callable[[], object] | None = None,
        clock: Callable[[], float] = time.monotonic,
        trigger_seconds: float = TRIGGER_SECONDS,
        error_backoff_seconds: float = ERROR_BACKOFF_SECONDS,
    ) -> None:
        self._runner = runner
        self.gate = gate
        self._settings = settings
        self._save_settings = save_settings
        self._maintenance = maintenance
        self._clock = clock
        self._trigger_seconds = trigger_seconds
        self._backoff = error_backoff_seconds
        self.tracker = StatusTracker()
        self.monitor = IdleMonitor(backend, settings().idle.threshold_minutes * 60.0,
                                   self._went_idle, self._became_active, clock=clock)
        #: Watches for the person's return while they are away (see the module doc).
        self.return_watch = ReturnWatch(self._poll_while_away, lambda: self.thinking,
                                        events=input_events_for(backend))
        self.scheduler = BackgroundScheduler(job_defaults={"coalesce": True,
                                                           "max_instances": 1})
        self._decide = threading.RLock()
        self._away = False
        self._thread: threading.Thread | None = None
        self._retry_at: float | None = None
        self._last_error: str | None = None
        self._poll_failing = False
        self._started = False
        self.last_report: SessionReportLike | None = None

    # -- public API (any thread) ---------------------------------------------------------
    @property
    def status(self) -> Status:
        return self.tracker.status

    def add_listener(self, listener: StatusListener) -> None:
        """``listener(status)`` on every change, on a worker thread (see module doc)."""
        self.tracker.add_listener(listener)

    @property
    def thinking(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def wait_stopped(self, timeout: float | None = None) -> bool:
        """Wait until no session thread runs; True if none runs by then."""
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        return not self.thinking

    def start(self) -> None:
        """Add the jobs and start the scheduler (idempotent)."""
        with self._decide:
            if self._started:
                return
            self._started = True
            self._add_jobs()
            self.scheduler.start()
            self._refresh_status()

    def _add_jobs(self) -> None:
        self.scheduler.add_job(self.poll_idle, "interval", seconds=ACTIVE_POLL_SECONDS,
                               id="idle-poll", name="read idle time",
                               misfire_grace_time=POLL_GRACE)
        self.scheduler.add_job(self.check_now, "interval", seconds=self._trigger_seconds,
                               id="sleep-trigger", name="start thinking when allowed",
                               misfire_grace_time=TRIGGER_GRACE)
        if self._maintenance is not None:
            self.scheduler.add_job(self.run_maintenance, "cron", hour=MAINTENANCE_HOUR,
                                   minute=MAINTENANCE_MINUTE, id="maintenance",
                                   name="nightly maintenance",
                                   misfire_grace_time=MAINTENANCE_GRACE)

    def shutdown(self, timeout: float = 5.0) -> None:
        """Stop the jobs and any session (waits for the session thread up to ``timeout``)."""
        with self._decide:
            started, self._started = self._started, False
            self._away = False
        if started:
            self.scheduler.shutdown(wait=False)
        self.return_watch.stop()
        self._runner.request_stop("user_returned")
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                log.warning("the thinking session did not stop within %.1f s", timeout)
        self.return_watch.join(timeout)
        self.tracker.set(ThinkingState.OFF, "Reverie is not watching for idle time.")

    def pause(self, until: datetime | None = None) -> None:
        """Pause thinking until ``until`` (None: until `resume`); kept across restarts."""
        when = FOREVER if until is None else until.astimezone()
        settings = self._settings()
        self._save_settings(settings.replace("thinking", paused_until=when.isoformat()))
        self._runner.request_stop("user_returned")
        self._refresh_status()

    def resume(self) -> None:
        settings = self._settings()
        if settings.thinking.paused_until:
            self._save_settings(settings.replace("thinking", paused_until=""))
        self.check_now()

    # -- jobs ----------------------------------------------------------------------------
    def poll_idle(self) -> None:
        """The ``idle-poll`` job: one reading; transitions call back on this thread."""
        self.monitor.threshold_seconds = self._settings().idle.threshold_minutes * 60.0
        try:
            self.monitor.poll()
        except Exception as exc:
            if not self._poll_failing:
                log.warning("idle backend %s failed: %s", self.monitor.backend.name, exc)
            self._poll_failing = True
        else:
            if self._poll_failing:
                log.info("idle backend %s answers again", self.monitor.backend.name)
            self._poll_failing = False

    def check_now(self) -> None:
        """The ``sleep-trigger`` job: start when allowed, stop on battery, refresh status."""
        settings = self._settings()
        if self.thinking:
            power = self.gate.power(settings)
            if not power.ok:
                log.info("stopping: %s", power.reason)
                self._runner.request_stop("power")
            return
        if self._away:
            self._maybe_start()
        else:
            self.gate.verdicts(settings)  # keeps the CPU baseline recent
            self._refresh_status()

    def run_maintenance(self) -> None:
        if self._maintenance is None:
            return
        try:
            self._maintenance()
        except Exception:
            log.exception("nightly maintenance failed")

    # -- idle transitions (idle-poll thread) ---------------------------------------------
    def _went_idle(self) -> None:
        with self._decide:
            self._away = True
        self.return_watch.start()
        self._maybe_start()

    def _became_active(self) -> None:
        with self._decide:
            self._away = False
        self._runner.request_stop("user_returned")
        self.return_watch.stop()
        with self._decide:
            self._refresh_status()

    # -- the return watch (idle-return-watch thread) -------------------------------------
    def _poll_while_away(self) -> bool:
        """One reading for the `ReturnWatch`; False once the person is back."""
        self.poll_idle()
        return self._away

    # -- deciding ------------------------------------------------------------------------
    def _refresh_status(self) -> None:
        """The status when no session runs (a running session sets its own)."""
        with self._decide:
            if self.thinking:
                return
            settings = self._settings()
            paused = self.gate.paused(settings)
            if paused is not None:
                self.tracker.set(ThinkingState.PAUSED, paused.reason, paused.condition)
            elif not self._started:
                self.tracker.set(ThinkingState.OFF, "Reverie is not watching for idle time.")
            elif not self._away:
                minutes = settings.idle.threshold_minutes
                self.tracker.set(ThinkingState.ACTIVE, "You are at the computer; Reverie "
                                 f"thinks after {minutes:g} minutes away.")

    def _maybe_start(self) -> bool:
        """If away, allowed and idle-handed, start a session thread; returns True if started."""
        with self._decide:
            if not self._away or self.thinking:
                return False
            settings = self._settings()
            blocking = self.gate.blocking(settings)
            paused = next((v for v in blocking if v.condition in PAUSING), None)
            if paused is not None:
                self.tracker.set(ThinkingState.PAUSED, paused.reason, paused.condition)
                return False
            if blocking:
                first = blocking[0]
                self.tracker.set(ThinkingState.BLOCKED, first.reason, first.condition)
                return False
            if self._retry_at is not None and self._clock() < self._retry_at:
                self.tracker.set(ThinkingState.BLOCKED, f"Thinking failed ({self._last_error}); "
                                 "Reverie will try again later.", "error")
                return False
            budget = self.gate.remaining_budget_seconds(settings)
            self._thread = threading.Thread(target=self._session, args=(budget,),
                                            name="reverie-thinking", daemon=True)
            self._thread.start()
            self.return_watch.start()  # (or wakes it) to poll at the session's pace
            return True

    def _person_returned(self) -> bool:
        return not self._away

    def _session(self, budget: float) -> None:
        """The ``reverie-thinking`` thread: one session, then the status it leaves."""
        try:
            if not self._runner.has_work():
                with self._decide:
                    if self._away:
                        self.tracker.set(ThinkingState.IDLE, "You are away and there is "
                                         "nothing left to think about for now.")
                return
            if not self._away:
                return
            self.tracker.set(ThinkingState.THINKING, "Thinking while you are away.")
            report = self._runner.run_session(
                budget, should_stop=self._person_returned,
                on_item=self._on_item)
            self.last_report = report
            self._after(report.stopped_because, report.error, report.sentence())
        except SessionBusyError as exc:  # another process thinks on this profile: expected
            log.info("the thinking session did not start: %s", exc)
            self._after("error", str(exc), "")
        except Exception as exc:
            log.exception("the thinking session could not run")
            self._after("error", str(exc) or type(exc).__name__, "")
        finally:
            with self._decide:
                self._thread = None
                if not self._away:
                    self._refresh_status()

    def _on_item(self, what: str | None) -> None:
        if what is not None:
            self.tracker.set(ThinkingState.THINKING, "Thinking while you are away.", what)

    def _after(self, why: str, error: str | None, sentence: str) -> None:
        """The status a finished session leaves while the person is still away."""
        with self._decide:
            if why == "error":
                self._last_error = error or "see the log"
                self._retry_at = self._clock() + self._backoff
            else:
                self._retry_at = None
            if not self._away:
                return
            if why == "error":
                self.tracker.set(ThinkingState.BLOCKED, f"Thinking failed ({self._last_error}); "
                                 "Reverie will try again later.", "error")
                return
            if why == "done":
                self.tracker.set(ThinkingState.IDLE, "You are away and there is nothing left "
                                 "to think about for now.")
                return
            blocking = [v for v in self.gate.blocking(self._settings()) if v.condition != "cpu"]
            if blocking:
                first = blocking[0]
                state = (ThinkingState.PAUSED if first.condition in PAUSING
                         else ThinkingState.BLOCKED)
                self.tracker.set(state, first.reason, first.condition)
            else:
                self.tracker.set(ThinkingState.IDLE, sentence)

    def describe(self) -> dict[str, Any]:
        """For ``doctor``: backend, whether a person's return is seen everywhere, status."""
        backend = self.monitor.backend
        return {"backend": backend.name, "system_wide": backend.system_wide,
                **self.status.to_json()}
