"""`doctor` reports the idle backend, why others failed, and the thinking status."""

from __future__ import annotations

from assistant.app import Reverie
from assistant.doctor import idle_check


def test_doctor_reports_backend_and_status(app: Reverie) -> None:
    info = idle_check(app)
    assert isinstance(info["backend"], str) and isinstance(info["system_wide"], bool)
    assert all(set(f) == {"backend", "reason"} for f in info["failures"])
    assert info["status"]["state"] in {"active", "blocked", "paused"}
    assert {c["condition"] for c in info["conditions"]} >= {"power", "budget", "pause"}


def test_doctor_says_when_thinking_is_paused(app: Reverie) -> None:
    app.settings = app.settings.replace("thinking", enabled=False)
    status = idle_check(app)["status"]
    assert status["state"] == "paused"
    assert "turned off" in status["reason"]
