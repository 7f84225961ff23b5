"""ThinkingCoordinator with a fake idle backend, fake sensors and the FakeEngine."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from assistant.config import Settings, load_settings, save_settings
from assistant.idle.conditions import CpuSample
from assistant.idle.coordinator import MAINTENANCE_GRACE, ThinkingCoordinator
from assistant.idle.gate import Sensors, ThinkingGate
from assistant.idle.status import Status, ThinkingState
from assistant.llm.fake import FakeEngine
from assistant.mind.journal import Journal
from assistant.mind.planner import DefaultPlanner
from assistant.mind.runner import SleepRunner
from assistant.mind.titles import TitleConversationHandler, propose_titles
from assistant.store.chats import ChatRepository
from assistant.store.db import Database
from assistant.store.models import SleepSession, WorkItem, WorkState


class FakeBackend:
    name = "fake"
    system_wide = True

    def __init__(self) -> None:
        self.idle = 0.0

    def idle_seconds(self) -> float:
        return self.idle

    def is_locked(self) -> bool | None:
        return False

    def close(self) -> None:
        pass


@dataclass
class Battery:
    percent: float
    power_plugged: bool | None


class Env:
    """Everything around one coordinator, with knobs for the tests."""

    def __init__(self, tmp_path: Path) -> None:
        self.db = Database.open(tmp_path / "reverie.db", tmp_path / "backups")
        self.settings_file = tmp_path / "settings.toml"
        self.settings = Settings()
        self.battery: Battery | None = None
        self.cpu = CpuSample(5.0, 0.0)
        self.engine = FakeEngine(default=" ".join(["Garden"] * 50), token_delay=0.05)
        self.runner = SleepRunner(self.db, self.engine, DefaultPlanner(self.db, [propose_titles]),
                                  [TitleConversationHandler()])
        self.backend = FakeBackend()
        self.gate = ThinkingGate(Journal(self.db).seconds_today,
                                 Sensors(battery=lambda: self.battery, cpu=lambda: self.cpu,
                                         fullscreen=lambda: None))
        self.coordinator = ThinkingCoordinator(self.backend, self.runner, self.gate,
                                               lambda: self.settings, self.save,
                                               maintenance=lambda: None)
        self.statuses: list[Status] = []
        self.coordinator.add_listener(self.statuses.append)

    def save(self, settings: Settings) -> None:
        save_settings(settings, self.settings_file)
        self.settings = settings

    def add_chat(self) -> int:
        chats = ChatRepository(self.db)
        conv = chats.create_conversation()
        assert conv.id is not None
        chats.add_message(conv.id, "user", "my tomato plants have yellow leaves")
        chats.add_message(conv.id, "assistant", "Water them less often.")
        return conv.id

    def go_away(self) -> None:
        self.backend.idle = 10_000.0
        self.coordinator.poll_idle()

    def come_back(self) -> None:
        self.backend.idle = 0.0
        self.coordinator.poll_idle()

    def sessions(self) -> list[SleepSession]:
        return Journal(self.db).sessions()

    def items(self) -> list[WorkItem]:
        with self.db.session() as s:
            return list(s.exec(select(WorkItem)))


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    e = Env(tmp_path)
    yield e
    e.coordinator.shutdown()
    e.db.close()


def wait_for_state(env: Env, state: ThinkingState, timeout: float = 5.0) -> None:
    reached = threading.Event()

    def check(status: Status) -> None:
        if status.state is state:
            reached.set()

    env.coordinator.add_listener(check)
    if env.coordinator.status.state is not state:
        assert reached.wait(timeout), f"status stayed {env.coordinator.status}"


def test_went_idle_starts_thinking_and_became_active_stops_it(env: Env) -> None:
    conv_id = env.add_chat()
    env.go_away()
    assert env.coordinator.thinking
    wait_for_state(env, ThinkingState.THINKING)
    env.come_back()
    assert env.coordinator.wait_stopped(0.5)
    assert env.coordinator.status.state is ThinkingState.OFF  # not start()ed: nothing watches
    [item] = env.items()
    assert (item.state, item.attempts) == (WorkState.PENDING, 0)
    assert env.coordinator.last_report is not None
    assert env.coordinator.last_report.stopped_because == "user_returned"
    assert ChatRepository(env.db).get(conv_id).title != "Garden"  # type: ignore[union-attr]
    assert ThinkingState.THINKING in [s.state for s in env.statuses]

    env.engine.token_delay = 0.0
    env.go_away()  # the next idle period resumes the item and finishes it
    assert env.coordinator.wait_stopped(5)
    assert env.items()[0].state == WorkState.DONE
    assert env.coordinator.status.state.value == "idle"


def test_on_low_battery_nothing_starts_and_the_status_says_why(env: Env) -> None:
    env.add_chat()
    env.battery = Battery(percent=20, power_plugged=False)
    env.go_away()
    assert not env.coordinator.thinking
    status = env.coordinator.status
    assert status.state is ThinkingState.BLOCKED
    assert status.detail == "power"
    assert "battery at 20%" in status.reason and "below the 50%" in status.reason
    assert env.sessions() == []

    env.battery = Battery(percent=20, power_plugged=True)  # the charger goes in
    env.coordinator.check_now()  # the sleep-trigger job
    assert env.coordinator.thinking
    env.come_back()
    assert env.coordinator.wait_stopped(0.5)


def test_unplugging_while_thinking_stops_with_power(env: Env) -> None:
    env.add_chat()
    env.go_away()
    wait_for_state(env, ThinkingState.THINKING)
    env.battery = Battery(percent=10, power_plugged=False)
    env.coordinator.check_now()
    assert env.coordinator.wait_stopped(0.5)
    assert env.coordinator.last_report is not None
    assert env.coordinator.last_report.stopped_because == "power"
    assert env.coordinator.status.state is ThinkingState.BLOCKED
    assert env.items()[0].state == WorkState.PENDING


def test_busy_cpu_and_spent_budget_block(env: Env) -> None:
    env.add_chat()
    env.cpu = CpuSample(total_percent=90.0, own_percent=5.0)
    env.go_away()
    assert not env.coordinator.thinking
    assert env.coordinator.status.detail == "cpu"
    env.cpu = CpuSample(5.0, 0.0)
    env.settings = env.settings.replace("thinking", daily_budget_minutes=0)
    env.coordinator.check_now()
    assert not env.coordinator.thinking
    assert env.coordinator.status.detail == "budget"


def test_pause_is_persisted_blocks_and_resume_starts(env: Env) -> None:
    env.add_chat()
    until = datetime.now().astimezone() + timedelta(hours=2)
    env.coordinator.pause(until)
    stored = load_settings(env.settings_file).settings.thinking.paused_until_time()
    assert stored == until.replace(microsecond=until.microsecond)
    env.go_away()
    assert not env.coordinator.thinking
    status = env.coordinator.status
    assert status.state is ThinkingState.PAUSED
    assert status.reason.startswith("Thinking is paused until ")
    env.coordinator.resume()
    assert load_settings(env.settings_file).settings.thinking.paused_until == ""
    assert env.coordinator.thinking
    env.come_back()
    assert env.coordinator.wait_stopped(0.5)

    env.coordinator.pause()  # until resumed by hand
    assert "until you resume it" in env.coordinator.status.reason


def test_nothing_to_do_leaves_no_session_rows(env: Env) -> None:
    env.go_away()
    assert env.coordinator.wait_stopped(5)
    assert env.coordinator.status.state is ThinkingState.IDLE
    assert env.sessions() == []


def test_scheduler_jobs_survive_sleep_and_wake(env: Env) -> None:
    env.coordinator.start()
    try:
        jobs = {job.id: job for job in env.coordinator.scheduler.get_jobs()}
        assert set(jobs) == {"idle-poll", "sleep-trigger", "maintenance"}
        for job in jobs.values():
            assert job.coalesce is True  # missed runs after a wake-up run once
            assert job.max_instances == 1
        assert jobs["idle-poll"].misfire_grace_time is None
        assert jobs["sleep-trigger"].misfire_grace_time is None
        assert jobs["maintenance"].misfire_grace_time == MAINTENANCE_GRACE
        assert str(jobs["maintenance"].trigger).startswith("cron[")
        assert env.coordinator.status.state is ThinkingState.ACTIVE

        poll = env.coordinator.scheduler.get_job("idle-poll")
        assert poll.trigger.interval.total_seconds() == pytest.approx(1.0)
        assert not env.coordinator.return_watch.running
        env.go_away()  # while away, the return watch reads the idle time (0.2 s)
        assert env.coordinator.return_watch.running
        env.come_back()
        assert env.coordinator.return_watch.join(5)
        assert not env.coordinator.return_watch.running
    finally:
        env.coordinator.shutdown()
    assert env.coordinator.status.state.value == "off"


def test_a_return_during_a_session_is_seen_by_the_return_watch_alone(env: Env) -> None:
    """Nobody calls poll_idle after leaving (no scheduler either): the watch, polling
    every 20 ms while the session runs, sees the return and the item rolls back."""
    env.add_chat()
    env.go_away()
    wait_for_state(env, ThinkingState.THINKING)
    assert env.coordinator.return_watch.running
    before = env.coordinator.return_watch.usage()
    env.backend.idle = 0.0  # the person is back; only the watch reads it
    assert env.coordinator.wait_stopped(5)
    assert env.coordinator.last_report is not None
    assert env.coordinator.last_report.stopped_because == "user_returned"
    assert env.items()[0].state == WorkState.PENDING
    assert env.coordinator.return_watch.join(5)
    used = env.coordinator.return_watch.usage().since(before)
    assert used.polls >= 1 and used.wall_seconds > 0
