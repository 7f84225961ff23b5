"""The priority worker both engines run on, and stop-sequence streaming.

A model serves one request at a time, so each engine owns one worker thread that
serves a priority queue: FOREGROUND jobs (the person is waiting) run before BACKGROUND
ones (sleep-time work), and a FOREGROUND job that arrives while BACKGROUND work runs
raises the abort flag at once. The engine's job functions poll
:meth:`PriorityWorker.interrupt_requested` (llama.cpp through its abort callback, the
remote engine between server events) and report ``aborted`` (preempted, the caller
may re-queue) or ``cancelled`` (the caller asked to stop) as :meth:`interrupted_reason`
says. Keeping this in one place means both engines make the same promises.
"""

from __future__ import annotations

import itertools
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from assistant.llm.engine import (
    EngineError,
    FinishReason,
    GenerationRequest,
    GenerationResult,
    ModelInfo,
    Preempted,
    Priority,
    StopCheck,
    TokenCallback,
)

log = logging.getLogger("assistant.llm")

T = TypeVar("T")
SHUT_DOWN = "The model has been shut down."


@dataclass(order=True)
class Job:
    """One queued piece of work; ``work`` runs on the worker thread with the job."""

    priority: int
    seq: int
    work: Callable[[Job], Any] | None = field(compare=False)
    should_stop: StopCheck | None = field(compare=False, default=None)
    future: Future[Any] = field(compare=False, default_factory=Future)


class PriorityWorker:
    """One thread serving jobs in priority order; see the module docstring.

    ``setup`` runs first on the thread (load the model, connect to the server); an
    exception there becomes :attr:`load_error`. ``before_job`` runs before each job and
    may raise :class:`EngineError` to refuse it (no model loaded); ``teardown`` runs when
    the worker stops, after queued jobs were refused.
    """

    def __init__(self, name: str, setup: Callable[[], None], *,
                 before_job: Callable[[], None] | None = None,
                 teardown: Callable[[], None] | None = None) -> None:
        self._setup = setup
        self._before_job = before_job
        self._teardown = teardown
        self._queue: queue.PriorityQueue[Job] = queue.PriorityQueue()
        self._seq = itertools.count()
        self._current: Job | None = None
        self._current_lock = threading.Lock()
        self._abort_current = threading.Event()
        self._closed = False
        #: Set once ``setup`` has finished, whether it worked or not.
        self.started = threading.Event()
        #: Why ``setup`` (or a later reconnect) failed, in one sentence for the person.
        self.load_error: str | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    # -- any thread ------------------------------------------------------------------
    def submit(self, priority: Priority, work: Callable[[Job], T],
               should_stop: StopCheck | None = None) -> Future[T]:
        """Queue ``work``; a FOREGROUND job preempts running BACKGROUND work."""
        if self._closed:
            raise EngineError(SHUT_DOWN)
        job = Job(int(priority), next(self._seq), work, should_stop)
        with self._current_lock:
            running = self._current
            if running is not None and job.priority < running.priority:
                self._abort_current.set()
        self._queue.put(job)
        future: Future[T] = job.future
        return future

    def abort(self) -> None:
        """Stop whatever job runs now."""
        with self._current_lock:
            if self._current is not None:
                self._abort_current.set()

    def abort_background(self) -> None:
        """Stop the running job if it is BACKGROUND work (the person came back)."""
        with self._current_lock:
            job = self._current
            if job is not None and job.priority == Priority.BACKGROUND:
                self._abort_current.set()

    def close(self, timeout: float) -> None:
        """Stop the running job, refuse the queued ones and end the thread."""
        if self._closed:
            return
        self._closed = True
        self.abort()
        self._queue.put(Job(-1, -1, None))
        if self._thread.is_alive():
            self._thread.join(timeout=timeout)

    @property
    def closed(self) -> bool:
        return self._closed

    # -- worker thread ---------------------------------------------------------------
    def interrupt_requested(self) -> bool:
        """True when the running job must stop: aborted, preempted or its should_stop."""
        job = self._current
        if job is None or job.work is None:
            return False
        if self._abort_current.is_set():
            return True
        return bool(job.should_stop is not None and job.should_stop())

    def interrupted_reason(self, job: Job) -> FinishReason:
        """ABORTED for preempted BACKGROUND work (the caller re-queues it), else CANCELLED."""
        if self._abort_current.is_set() and job.priority == Priority.BACKGROUND:
            return FinishReason.ABORTED
        return FinishReason.CANCELLED

    def _run(self) -> None:
        try:
            self._setup()
        except Exception as exc:
            self.load_error = str(exc)
            log.error("model not ready: %s", exc)
        finally:
            self.started.set()
        while True:
            job = self._queue.get()
            if job.work is None:
                break
            if not job.future.set_running_or_notify_cancel():
                continue
            try:
                if self._before_job is not None:
                    self._before_job()
            except EngineError as exc:
                job.future.set_exception(exc)
                continue
            with self._current_lock:
                self._current = job
                self._abort_current.clear()
            try:
                job.future.set_result(job.work(job))
            except Preempted as exc:
                job.future.set_exception(exc)
            except EngineError as exc:
                log.warning("model request failed: %s", exc)
                job.future.set_exception(exc)
            except Exception as exc:
                log.exception("model request failed")
                job.future.set_exception(exc)
            finally:
                with self._current_lock:
                    self._current = None
        self._drain()
        if self._teardown is not None:
            self._teardown()

    def _drain(self) -> None:
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                return
            if job.work is not None and job.future.set_running_or_notify_cancel():
                job.future.set_exception(EngineError(SHUT_DOWN))


def held_back(text: str, stops: Sequence[str]) -> int:
    """How many trailing characters of ``text`` could be the start of a stop sequence."""
    keep = 0
    for stop in stops:
        for n in range(min(len(stop) - 1, len(text)), keep, -1):
            if text.endswith(stop[:n]):
                keep = n
                break
    return keep


class StopStream:
    """Collects streamed text, cuts it at the first stop sequence and passes on only
    text that cannot turn out to be the start of one."""

    def __init__(self, stops: Sequence[str], on_token: TokenCallback | None) -> None:
        self._stops = [s for s in stops if s]
        self._on_token = on_token
        self.text = ""
        self._emitted = 0

    def add(self, piece: str) -> bool:
        """Append ``piece``; True when a stop sequence ended the text."""
        self.text += piece
        cut = min((self.text.find(s) for s in self._stops if s in self.text), default=-1)
        if cut >= 0:
            self.text = self.text[:cut]
            return True
        safe = len(self.text) - held_back(self.text, self._stops)
        if self._on_token is not None and safe > self._emitted:
            self._on_token(self.text[self._emitted:safe])
        self._emitted = max(self._emitted, safe)
        return False

    def interrupt(self) -> None:
        """Keep only what was already passed on (the request was stopped)."""
        self.text = self.text[: self._emitted]

    def finish(self) -> str:
        """Pass on the held-back tail; returns the whole text."""
        tail = self.text[self._emitted:]
        if self._on_token is not None and tail:
            self._on_token(tail)
        self._emitted = len(self.text)
        return self.text


class QueuedEngine:
    """The half of the Engine protocol that is the same for every engine on a
    :class:`PriorityWorker`: readiness, queueing, aborting, shutting down.

    A subclass sets ``_info``, ``_ready`` (True once usable) and ``_worker`` and
    implements ``_generate``; ``_close_timeout`` bounds how long ``close`` waits.
    """

    _info: ModelInfo
    _ready: bool
    _worker: PriorityWorker
    _close_timeout: float = 30.0

    @property
    def info(self) -> ModelInfo:
        return self._info

    def wait_ready(self, timeout: float | None = None) -> bool:
        self._worker.started.wait(timeout)
        return self._ready

    @property
    def is_ready(self) -> bool:
        return self._ready

    @property
    def load_error(self) -> str | None:
        return self._worker.load_error

    def submit(self, request: GenerationRequest,
               on_token: TokenCallback | None = None) -> Future[GenerationResult]:
        """Queue ``request``; a FOREGROUND request preempts running BACKGROUND work."""
        return self._worker.submit(request.priority,
                                   lambda job: self._generate(job, request, on_token),
                                   request.should_stop)

    def generate(self, request: GenerationRequest,
                 on_token: TokenCallback | None = None) -> GenerationResult:
        return self.submit(request, on_token).result()

    def abort(self) -> None:
        """Stop whatever request runs now."""
        self._worker.abort()

    def abort_background(self) -> None:
        """Stop the running request if it is BACKGROUND work (the person came back)."""
        self._worker.abort_background()

    def forget_loaded(self) -> None:
        """Queue `_drop_loaded` behind the running request (see the Engine protocol)."""
        if self._ready:
            self._worker.submit(Priority.FOREGROUND, lambda _job: self._drop_loaded())

    def _drop_loaded(self) -> None:
        """Nothing is held between requests unless a subclass says otherwise."""

    def close(self) -> None:
        """Stop the running request, refuse queued ones and end the worker."""
        self._worker.close(timeout=self._close_timeout)

    def _generate(self, job: Job, request: GenerationRequest,
                  on_token: TokenCallback | None) -> GenerationResult:
        raise NotImplementedError
