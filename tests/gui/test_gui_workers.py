"""The Qt bridge for background work delivers everything on the GUI thread."""

from __future__ import annotations

import threading

from pytestqt.qtbot import QtBot

from assistant.gui.workers import Task, TaskCancelled, run_task


def test_results_and_progress_arrive_on_the_gui_thread(qtbot: QtBot) -> None:
    seen: list[tuple[str, object, bool]] = []

    def work(task: Task) -> str:
        assert threading.current_thread() is not threading.main_thread()
        task.report(1)
        task.report(2)
        return "done"

    def note(kind: str):
        return lambda value: seen.append(
            (kind, value, threading.current_thread() is threading.main_thread()))

    task = run_task(work, name="test", on_success=note("ok"), on_progress=note("progress"))
    qtbot.waitUntil(lambda: len(seen) == 3, timeout=3000)
    assert task.join(1)
    assert seen == [("progress", 1, True), ("progress", 2, True), ("ok", "done", True)]


def test_errors_and_cancellation(qtbot: QtBot) -> None:
    errors: list[BaseException] = []
    started = threading.Event()

    def work(task: Task) -> None:
        started.set()
        while not task.cancelled():
            threading.Event().wait(0.01)
        raise TaskCancelled

    task = run_task(work, name="cancel", on_error=errors.append)
    assert started.wait(2)
    task.cancel()
    assert task.join(2)
    qtbot.waitUntil(lambda: len(errors) == 1, timeout=3000)
    assert isinstance(errors[0], TaskCancelled)

    failed: list[BaseException] = []
    run_task(lambda _t: 1 / 0, name="boom", on_error=failed.append).join(2)
    qtbot.waitUntil(lambda: len(failed) == 1, timeout=3000)
    assert isinstance(failed[0], ZeroDivisionError)
