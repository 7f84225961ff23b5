"""Conditions built from Settings, the persisted pause setting, and the status tracker."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from assistant.config import Settings, SettingsError, settings_from_dict
from assistant.idle.conditions import CpuSample
from assistant.idle.gate import Sensors, ThinkingGate
from assistant.idle.status import Status, StatusTracker, ThinkingState


def gate(spent_seconds: float = 0.0) -> ThinkingGate:
    return ThinkingGate(lambda: spent_seconds,
                        Sensors(battery=lambda: None, cpu=lambda: CpuSample(0.0, 0.0),
                                fullscreen=lambda: None))


def test_conditions_come_from_settings() -> None:
    settings = Settings().replace("idle", min_battery_percent=80, max_cpu_percent=10)
    verdicts = gate().verdicts(settings)
    assert [v.condition for v in verdicts] == ["enabled", "pause", "budget", "power", "cpu",
                                               "fullscreen"]
    assert all(v.ok for v in verdicts)
    off = settings.replace("thinking", enabled=False)
    [blocked] = gate().blocking(off)
    assert blocked.condition == "enabled" and "turned off in Settings" in blocked.reason


def test_budget_and_remaining_seconds() -> None:
    settings = Settings().replace("thinking", daily_budget_minutes=10)
    assert gate(spent_seconds=240).remaining_budget_seconds(settings) == 360
    [blocked] = gate(spent_seconds=600).blocking(settings)
    assert blocked.condition == "budget"


def test_paused_until_is_a_validated_setting() -> None:
    until = (datetime.now().astimezone() + timedelta(hours=1)).replace(microsecond=0)
    settings = Settings().replace("thinking", paused_until=until.isoformat())
    assert settings.thinking.paused_until_time() == until
    assert gate().paused(settings) is not None
    with pytest.raises(SettingsError, match=r"thinking\.paused_until must be an ISO 8601"):
        settings_from_dict({"thinking": {"paused_until": "tomorrow"}})
    with pytest.raises(SettingsError, match="with its UTC offset"):
        settings_from_dict({"thinking": {"paused_until": "2026-01-01T10:00:00"}})
    past = Settings().replace("thinking", paused_until="2000-01-01T00:00:00+00:00")
    assert gate().paused(past) is None


def test_status_tracker_tells_listeners_only_about_changes() -> None:
    tracker = StatusTracker()
    seen: list[Status] = []

    def broken(_status: Status) -> None:
        raise RuntimeError("listener bug")

    tracker.add_listener(broken)
    tracker.add_listener(seen.append)
    tracker.set(ThinkingState.ACTIVE, "You are at the computer.")
    tracker.set(ThinkingState.ACTIVE, "You are at the computer.")
    tracker.set(ThinkingState.BLOCKED, "On battery.", "power")
    assert [(s.state, s.detail) for s in seen] == [(ThinkingState.ACTIVE, None),
                                                   (ThinkingState.BLOCKED, "power")]
    assert tracker.status.to_json()["state"] == "blocked"
