"""One thinker per profile: the lock, across real processes, and the SleepRunner under it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from assistant import cli
from assistant.app import Reverie
from assistant.llm.fake import FakeEngine
from assistant.mind.planner import DefaultPlanner
from assistant.mind.runner import SessionBusyError, SleepRunner, ThinkerBusyError
from assistant.mind.titles import KIND, TitleConversationHandler, propose_titles
from assistant.paths import Paths
from assistant.profile_lock import ProfileBusyError, ProfileLock, holder_pid
from assistant.store.db import Database
from assistant.store.models import WorkItem, WorkState

HOLDER = """
import sys
from pathlib import Path
from assistant.profile_lock import ProfileLock
lock = ProfileLock(Path(sys.argv[1]))
lock.acquire()
print("held", flush=True)
sys.stdin.read()
"""


@pytest.fixture
def other_process_holds(tmp_path: Path) -> Iterator[tuple[Path, subprocess.Popen[str]]]:
    """A second process that holds the lock on a profile's lock file until killed."""
    path = Paths.resolve(tmp_path / "profile ü").ensure().thinking_lock_file
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, cwd=Path.cwd())
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    yield path, proc
    proc.kill()
    proc.wait()


def test_a_second_process_is_refused_with_the_holders_pid(
        other_process_holds: tuple[Path, subprocess.Popen[str]]) -> None:
    path, proc = other_process_holds
    lock = ProfileLock(path)
    with pytest.raises(ProfileBusyError) as refused:
        lock.acquire()
    assert refused.value.pid == proc.pid == holder_pid(path)
    assert f"PID {proc.pid}" in str(refused.value)
    assert not lock.try_acquire() and not lock.held


def test_a_killed_holder_leaves_no_stale_lock(
        other_process_holds: tuple[Path, subprocess.Popen[str]]) -> None:
    path, proc = other_process_holds
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with ProfileLock(path) as lock:
        assert lock.held and holder_pid(path) == os.getpid()
    assert not lock.held


def test_two_locks_in_one_process_exclude_each_other(tmp_path: Path) -> None:
    first, second = ProfileLock(tmp_path / "l"), ProfileLock(tmp_path / "l")
    first.acquire()
    assert not second.try_acquire()
    first.release()
    assert second.try_acquire()
    second.release()
    assert os.name != "posix" or (tmp_path / "l").stat().st_mode & 0o777 == 0o600


def _runner(db: Database, lock: ProfileLock) -> SleepRunner:
    return SleepRunner(db, FakeEngine(), DefaultPlanner(db, [propose_titles]),
                       [TitleConversationHandler()], lock=lock)


def test_recovery_never_takes_over_a_live_thinkers_item(
        other_process_holds: tuple[Path, subprocess.Popen[str]], tmp_path: Path) -> None:
    path, proc = other_process_holds
    db = Database.open(path.parent / "reverie.db", path.parent / "backups")
    try:
        with db.write() as s:
            s.add(WorkItem(kind=KIND, target="1", state=WorkState.RUNNING, attempts=1))
        runner = _runner(db, ProfileLock(path))
        with pytest.raises(ThinkerBusyError) as busy:
            runner.run_session()
        assert isinstance(busy.value, SessionBusyError) and busy.value.pid == proc.pid
        assert not runner.running
        with db.session() as s:
            assert [i.state for i in s.exec(select(WorkItem))] == [WorkState.RUNNING]

        os.kill(proc.pid, signal.SIGKILL)  # the thinker dies: now its item is recovered
        proc.wait()
        report = _runner(db, ProfileLock(path)).run_session()
        assert report.stopped_because == "done"
        with db.session() as s:
            assert [i.state for i in s.exec(select(WorkItem))] != [WorkState.RUNNING]
    finally:
        db.close()


def test_a_second_sleep_command_says_who_is_thinking(
        other_process_holds: tuple[Path, subprocess.Popen[str]],
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    path, proc = other_process_holds
    monkeypatch.setattr(Reverie, "start_engine", lambda self, progress=None: FakeEngine())
    assert cli.main(["--data-dir", str(path.parent), "sleep"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.splitlines() == [
        f"reverie: Another Reverie process (PID {proc.pid}) is already thinking on this "
        "profile; wait for it to finish or stop it, then try again."]
