"""SleepRunner: one sleep-time session, item by item, stoppable within 100 ms.

The runner takes items from the persisted agenda through the `Planner`, runs each with
its `WorkHandler` at BACKGROUND priority, and commits each item in one transaction
(results + item done + journal entry). `request_stop()` (any thread) raises a flag that
the engine polls during prefill and after every token, and aborts the running
BACKGROUND request, so `run_session` returns within about the time of one model step.
The interrupted item rolls back (nothing of it was written) and stays pending; the next
session resumes it. An item that fails `MAX_ATTEMPTS` times is marked failed, with its
error in the journal, and is never handed out again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

from assistant.llm.engine import Engine, EngineUnavailable, StopCheck
from assistant.mind.agenda import MAX_ATTEMPTS, Agenda
from assistant.mind.backlog import BacklogFigures
from assistant.mind.journal import ITEM_DONE, ITEM_FAILED, Journal, add_entry
from assistant.mind.planner import Planner
from assistant.mind.work import (
    Counters,
    Usage,
    WorkContext,
    WorkHandler,
    WorkInterrupted,
    WorkOutcome,
)
from assistant.profile_lock import ProfileBusyError, ProfileLock, SessionBusyError
from assistant.store.db import Database
from assistant.store.models import SleepSession, WorkItem, WorkState, utcnow

log = logging.getLogger("assistant.mind")

#: How long a session waits for a model that is still loading, polling the stop flag.
_READY_POLL_SECONDS = 0.05
#: How often one session plans again when its agenda runs empty.
_MAX_REPLANS = 5
#: A long session plans again this often, so the order follows what changed meanwhile
#: (a long conversation's next part, a new chat) instead of the order at its start.
REPLAN_SECONDS = 30.0


class StopReason(StrEnum):
    """``stopped_because`` of ``reverie sleep --json`` (docs/ARCHITECTURE.md, "Command line")."""

    DONE = "done"
    BUDGET = "budget"
    USER_RETURNED = "user_returned"
    POWER = "power"
    ERROR = "error"


_SENTENCES = {
    StopReason.DONE: "nothing was left to think about",
    StopReason.BUDGET: "the time budget ran out",
    StopReason.USER_RETURNED: "you came back",
    StopReason.POWER: "the computer went on battery",
    StopReason.ERROR: "something went wrong (see the log)",
}


@dataclass
class SessionReport:
    """What one session did; `to_json()` is the ``reverie sleep --json`` object."""

    seconds: float = 0.0
    stopped_because: str = StopReason.DONE.value
    items_done: int = 0
    counters: Counters = field(default_factory=Counters)
    usage: Usage = field(default_factory=Usage)
    #: Not part of the JSON contract; for the journal, status and human output.
    session_id: int | None = None
    items_failed: int = 0
    error: str | None = None
    #: What is left afterwards, when the caller asked (`SleepRunner.backlog`): adds the
    #: ``backlog_*`` keys to the JSON.
    backlog: BacklogFigures | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 3),
            "stopped_because": self.stopped_because,
            "items_done": self.items_done,
            **asdict(self.counters),
            "prompt_tokens": self.usage.prompt_tokens,
            "completion_tokens": self.usage.completion_tokens,
            **(self.backlog.to_json() if self.backlog is not None else {}),
        }

    def sentence(self) -> str:
        """One line for the person, e.g. 'Thought for 12 s: 2 items done; ...'."""
        items = f"{self.items_done} item{'s' if self.items_done != 1 else ''} done"
        why = _SENTENCES.get(StopReason(self.stopped_because), self.stopped_because)
        failed = f", {self.items_failed} failed" if self.items_failed else ""
        return f"Thought for {self.seconds:.1f} s: {items}{failed}; stopped because {why}."


class ThinkerBusyError(SessionBusyError):
    """Another process is thinking on this profile; ``pid`` is its process id if known."""

    def __init__(self, message: str, pid: int | None) -> None:
        super().__init__(message)
        self.pid = pid


OnItem = Callable[[str | None], None]


class SleepRunner:
    """Runs sleep-time sessions on one engine; one session at a time.

    Recovery from a crash: items left ``running`` go back to pending (or to failed, if
    that was their last attempt) and open sessions are closed. With a ``lock`` (one per
    profile, see :mod:`assistant.profile_lock`) a session runs only while holding it, and
    recovery happens only under it, so the items of a live thinker in another process
    are never taken over; without one (a single process), recovery runs at creation.
    """

    def __init__(self, db: Database, engine: Engine, planner: Planner,
                 handlers: Sequence[WorkHandler], clock: Callable[[], float] = time.monotonic,
                 lock: ProfileLock | None = None) -> None:
        self._db = db
        self._engine = engine
        self._planner = planner
        self._handlers = {h.kind: h for h in handlers}
        self._clock = clock
        self._agenda = Agenda(db)
        self._journal = Journal(db)
        self._session_lock = threading.Lock()
        self._state = threading.Lock()
        self._stop = threading.Event()
        self._reason: StopReason | None = None
        self._deadline: float | None = None
        self._external: StopCheck | None = None
        self._current: str | None = None
        self._lock = lock
        if lock is None:
            self._recover()
        elif lock.try_acquire():
            try:
                self._recover()
            finally:
                lock.release()

    def _recover(self) -> None:
        self._agenda.recover_interrupted()
        self._journal.recover_unfinished()

    # -- any thread ---------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._session_lock.locked()

    @property
    def current_item(self) -> str | None:
        """What the session is thinking about now (a few words), or None."""
        return self._current

    def request_stop(self, reason: StopReason | str = StopReason.USER_RETURNED) -> None:
        """Make the running session stop now; the first reason given wins. No effect when
        no session runs (a later session is not affected)."""
        with self._state:
            if not self.running:
                return
            if self._reason is None:
                self._reason = StopReason(reason)
            self._stop.set()
        self._engine.abort_background()

    def backlog(self) -> BacklogFigures:
        """What is left to digest, and the idle time it needs at this machine's measured
        speed (reads the whole backlog: call it after a session, not in one)."""
        return self._planner.backlog()

    def has_work(self) -> bool:
        """Plan, then say whether any item could run now."""
        self._planner.plan()
        return self._planner.next_item(self._handlers.keys()) is not None

    # -- the session thread -------------------------------------------------------------
    def run_session(self, budget_seconds: float | None = None,
                    should_stop: StopCheck | None = None,
                    on_item: OnItem | None = None) -> SessionReport:
        """Run items until none is left, the budget ends, or a stop (``request_stop`` or
        ``should_stop``); returns the report. Raises SessionBusyError if one runs already
        (``ThinkerBusyError`` when it runs in another process)."""
        started = self._clock()
        with self._state:  # so that a request_stop() from now on is never lost
            if not self._session_lock.acquire(blocking=False):
                raise SessionBusyError("A thinking session is already running.")
            if self._lock is not None:
                try:
                    self._lock.acquire()
                except ProfileBusyError as exc:
                    self._session_lock.release()
                    raise ThinkerBusyError(str(exc), exc.pid) from None
                except BaseException:
                    self._session_lock.release()
                    raise
            self._stop.clear()
            self._reason = None
            self._deadline = None if budget_seconds is None else started + budget_seconds
            self._external = should_stop
        try:
            if self._lock is not None:
                self._recover()  # whoever held the lock before is gone
            return self._session(started, on_item)
        finally:
            with self._state:
                self._external = None
                self._deadline = None
                if self._lock is not None:
                    self._lock.release()
            self._session_lock.release()

    def _should_stop(self) -> bool:
        if self._stop.is_set():
            return True
        deadline = self._deadline
        if deadline is not None and self._clock() >= deadline:
            return True
        external = self._external
        return bool(external is not None and external())

    def _reason_now(self) -> StopReason:
        if self._reason is not None:
            return self._reason
        deadline = self._deadline
        if deadline is not None and self._clock() >= deadline:
            return StopReason.BUDGET
        return StopReason.USER_RETURNED

    def _session(self, started: float, on_item: OnItem | None) -> SessionReport:
        report = SessionReport()
        row = self._journal.start_session()
        report.session_id = row.id
        assert row.id is not None
        reason: StopReason | None = None
        tried: set[int] = set()
        replans = 0
        try:
            reason = self._wait_for_engine()
            if reason is None:
                self._planner.plan()
            planned = self._clock()
            while reason is None:
                if self._should_stop():
                    reason = self._reason_now()
                    break
                if self._clock() - planned >= REPLAN_SECONDS:
                    self._planner.plan()
                    planned = self._clock()
                item = self._planner.next_item(self._handlers.keys(), tried)
                if item is None and replans < _MAX_REPLANS and self._planner.plan():
                    # Work done this session can make new work (facts -> profile -> warm).
                    replans += 1
                    continue
                if item is None:
                    reason = StopReason.DONE
                    break
                assert item.id is not None
                tried.add(item.id)
                reason = self._run_item(item, row.id, report, on_item)
        except Exception as exc:
            log.exception("sleep session failed")
            report.error = str(exc) or type(exc).__name__
            reason = StopReason.ERROR
        finally:
            report.stopped_because = (reason or StopReason.ERROR).value
            report.seconds = self._clock() - started
            self._finish(row.id, report)
        log.info("sleep session %s: %s", row.id, report.sentence())
        return report

    def _wait_for_engine(self) -> StopReason | None:
        while not self._engine.wait_ready(_READY_POLL_SECONDS):
            error = self._engine.load_error
            if error:
                raise RuntimeError(error)
            if self._should_stop():
                return self._reason_now()
        return None

    def _run_item(self, item: WorkItem, session_id: int, report: SessionReport,
                  on_item: OnItem | None) -> StopReason | None:
        """Run one item; returns a reason when the session must stop."""
        assert item.id is not None
        handler = self._handlers[item.kind]
        claimed = self._agenda.claim(item.id)
        if claimed is None:
            return None
        try:
            what = handler.describe(claimed, self._db)
        except Exception:
            what = f"{item.kind} {item.target}"
        self._current = what
        if on_item is not None:
            on_item(what)
        ctx = WorkContext(self._engine, self._db, self._should_stop)
        try:
            outcome = handler.run(claimed, ctx)
            if self._should_stop():
                raise WorkInterrupted("stop requested before the commit")
            outcome.usage = ctx.usage
            self._commit(claimed, session_id, outcome, report)
            return None
        except WorkInterrupted as exc:
            self._agenda.release(item.id)
            log.info("work item %s (%s) interrupted: %s; it stays pending", item.id, item.kind,
                     exc)
            return StopReason.USER_RETURNED if exc.preempted else self._reason_now()
        except EngineUnavailable:  # the model went away (a server): not the item's fault
            self._agenda.release(item.id)
            raise
        except Exception as exc:
            self._fail(claimed, session_id, what, exc, report)
            return None
        except BaseException:
            self._agenda.release(item.id)
            raise
        finally:
            report.usage.prompt_tokens += ctx.usage.prompt_tokens
            report.usage.completion_tokens += ctx.usage.completion_tokens
            self._current = None
            if on_item is not None:
                on_item(None)

    def _commit(self, item: WorkItem, session_id: int, outcome: WorkOutcome,
                report: SessionReport) -> None:
        """Results, item done, session progress and journal entry: one transaction."""
        with self._db.write() as s:
            if outcome.apply is not None:
                outcome.apply(s)
            row = s.get(WorkItem, item.id)
            if row is None:
                raise RuntimeError(f"work item {item.id} disappeared while it ran")
            row.state = WorkState.DONE
            row.last_error = None
            row.updated_at = utcnow()
            s.add(row)
            session = s.get(SleepSession, session_id)
            if session is not None:
                session.items_done += 1
                session.prompt_tokens += outcome.usage.prompt_tokens
                session.completion_tokens += outcome.usage.completion_tokens
                s.add(session)
            details = {"item_id": item.id, "kind": item.kind, "target": item.target,
                       "prompt_tokens": outcome.usage.prompt_tokens,
                       "completion_tokens": outcome.usage.completion_tokens,
                       **asdict(outcome.counters), **outcome.details}
            add_entry(s, session_id, ITEM_DONE, outcome.summary, details)
        report.items_done += 1
        report.counters.add(outcome.counters)

    def _fail(self, item: WorkItem, session_id: int, what: str, exc: Exception,
              report: SessionReport) -> None:
        assert item.id is not None
        error = str(exc).strip() or type(exc).__name__
        log.warning("work item %s (%s) failed (attempt %d of %d): %s", item.id, item.kind,
                    item.attempts, MAX_ATTEMPTS, error, exc_info=True)
        updated = self._agenda.record_failure(item.id, error)
        if updated is not None and updated.state == WorkState.FAILED:
            report.items_failed += 1
            with self._db.write() as s:
                add_entry(s, session_id, ITEM_FAILED,
                          f"Gave up on {what} after {updated.attempts} attempts: {error}",
                          {"item_id": item.id, "kind": item.kind, "target": item.target,
                           "error": error, "attempts": updated.attempts})

    def _finish(self, session_id: int, report: SessionReport) -> None:
        data = report.to_json()
        if report.error:
            data["error"] = report.error
        try:
            self._journal.end_session(session_id, report.stopped_because, report.sentence(),
                                      data, report.items_done, report.usage)
        except Exception:
            log.exception("could not record the end of sleep session %s", session_id)
