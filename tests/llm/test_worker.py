"""The priority worker both engines share, without a model: order, preemption, shutdown."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from assistant.llm.engine import EngineError, FinishReason, Priority
from assistant.llm.worker import Job, PriorityWorker, StopStream, held_back


@pytest.fixture
def worker() -> Iterator[PriorityWorker]:
    w = PriorityWorker("test-worker", lambda: None)
    w.start()
    assert w.started.wait(5) and w.load_error is None
    yield w
    w.close(timeout=5)


def interruptible(worker: PriorityWorker, running: threading.Event
                  ) -> Callable[[Job], FinishReason]:
    """A job that runs until the worker says it must stop, then reports why."""

    def work(job: Job) -> FinishReason:
        running.set()
        while not worker.interrupt_requested():
            threading.Event().wait(0.001)
        return worker.interrupted_reason(job)

    return work


def test_foreground_preempts_background_which_reports_aborted(worker: PriorityWorker) -> None:
    running = threading.Event()
    background = worker.submit(Priority.BACKGROUND, interruptible(worker, running))
    assert running.wait(5)
    order: list[str] = []
    foreground = worker.submit(Priority.FOREGROUND, lambda _job: order.append("fg") or "fg")
    assert background.result(5) is FinishReason.ABORTED
    assert foreground.result(5) == "fg"


def test_foreground_runs_before_queued_background(worker: PriorityWorker) -> None:
    gate = threading.Event()
    order: list[str] = []
    first = worker.submit(Priority.FOREGROUND, lambda _job: gate.wait(5))
    later_bg = worker.submit(Priority.BACKGROUND, lambda _job: order.append("bg"))
    later_fg = worker.submit(Priority.FOREGROUND, lambda _job: order.append("fg"))
    gate.set()
    for future in (first, later_bg, later_fg):
        future.result(5)
    assert order == ["fg", "bg"]


def test_abort_background_spares_foreground_and_abort_cancels(worker: PriorityWorker) -> None:
    running = threading.Event()
    fg = worker.submit(Priority.FOREGROUND, interruptible(worker, running))
    assert running.wait(5)
    worker.abort_background()  # no effect on FOREGROUND work
    assert not worker.interrupt_requested()
    worker.abort()
    assert fg.result(5) is FinishReason.CANCELLED


def test_should_stop_cancels_and_a_queued_job_can_be_withdrawn(worker: PriorityWorker) -> None:
    gate, stop, running = threading.Event(), threading.Event(), threading.Event()
    blocker = worker.submit(Priority.FOREGROUND, lambda _job: gate.wait(5))
    queued = worker.submit(Priority.BACKGROUND, lambda _job: "ran")
    assert queued.cancel()
    gate.set()
    blocker.result(5)
    stoppable = worker.submit(Priority.BACKGROUND, interruptible(worker, running), stop.is_set)
    assert running.wait(5)
    stop.set()
    assert stoppable.result(5) is FinishReason.CANCELLED


def test_close_refuses_queued_and_new_jobs() -> None:
    torn_down = threading.Event()
    w = PriorityWorker("test-worker", lambda: None, teardown=torn_down.set)
    w.start()
    running = threading.Event()
    first = w.submit(Priority.FOREGROUND, interruptible(w, running))
    queued = w.submit(Priority.BACKGROUND, lambda _job: "ran")
    assert running.wait(5)
    w.close(timeout=5)
    assert first.result(5) is FinishReason.CANCELLED
    with pytest.raises(EngineError, match="shut down"):
        queued.result(5)
    with pytest.raises(EngineError, match="shut down"):
        w.submit(Priority.FOREGROUND, lambda _job: None)
    assert torn_down.is_set()


def test_failed_setup_is_the_load_error_and_before_job_refuses() -> None:
    def setup() -> None:
        raise EngineError("The model file is missing; choose another.")

    def before() -> None:
        raise EngineError("No model loaded.")

    w = PriorityWorker("test-worker", setup, before_job=before)
    w.start()
    try:
        assert w.started.wait(5)
        assert w.load_error == "The model file is missing; choose another."
        with pytest.raises(EngineError, match="No model loaded"):
            w.submit(Priority.FOREGROUND, lambda _job: None).result(5)
    finally:
        w.close(timeout=5)


def test_stop_stream_never_passes_on_a_stop_sequence() -> None:
    pieces: list[str] = []
    stream = StopStream(["\nUser:", ""], pieces.append)
    assert not stream.add("Paris.")
    assert not stream.add("\nUs")
    assert "".join(pieces) == "Paris."
    assert stream.add("er: next")
    assert stream.finish() == "Paris."
    assert "".join(pieces) == "Paris."
    interrupted = StopStream(["\n\n"], pieces.append)
    interrupted.add("half\n")
    interrupted.interrupt()
    assert interrupted.finish() == "half"
    assert held_back("Paris.\n", ["\nUser:", "\n\n"]) == 1
