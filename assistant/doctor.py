"""``reverie doctor``: what is installed, where the files are, and whether each part works."""

from __future__ import annotations

import importlib.metadata
import platform
import sqlite3
import subprocess
import sys
import time
from typing import Any

from assistant import __version__
from assistant.app import Reverie
from assistant.display import has_display
from assistant.llm.engine import EngineError
from assistant.store.db import (
    DatabaseError,
    head_revision,
    is_storage_error,
    storage_error,
    stored_revision,
)


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def tray_check(timeout: float = 20.0) -> dict[str, Any]:
    """Ask a short-lived child process whether a system tray exists (Qt may abort)."""
    if not has_display():
        return {"available": False, "reason": "no display"}
    code = ("from assistant.gui.probe import tray_available; import sys; "
            "sys.exit(0 if tray_available() else 3)")
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return {"available": False, "reason": "the display did not answer"}
    if proc.returncode == 0:
        return {"available": True, "reason": None}
    if proc.returncode == 3:
        return {"available": False, "reason": "the desktop has no system tray"}
    return {"available": False, "reason": "Qt could not start on this display"}


def run_checks(app: Reverie, *, load_model: bool = True) -> dict[str, Any]:
    paths = app.paths
    report: dict[str, Any] = {
        "ok": True,
        "version": __version__,
        "versions": {
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "llama_cpp_python": _version("llama-cpp-python"),
            "pyside6": _version("PySide6-Essentials") or _version("PySide6"),
            "sqlmodel": _version("sqlmodel"),
            "alembic": _version("alembic"),
            "apscheduler": _version("APScheduler"),
        },
        "platform": platform.platform(),
        "paths": {
            "config": str(paths.config_dir),
            "data": str(paths.data_dir),
            "database": str(paths.database_file),
            "models": str(paths.models_dir),
            "kv_cache": str(paths.kv_dir),
            "logs": str(paths.log_dir),
        },
        "settings_warning": app.settings_warning,
    }
    try:
        integrity = app.db.integrity_check()
        report["database"] = {
            "integrity": integrity,
            "schema": stored_revision(paths.database_file),
            "schema_expected": head_revision(),
            "conversations": len(app.chats.list_conversations(include_archived=True)),
            "messages": app.chats.count_messages(),
            "notes": len(app.notes.all()),
        }
    except Exception as exc:  # a damaged database is what the doctor is for: name it
        if not is_storage_error(exc) and not isinstance(exc, DatabaseError):
            raise
        integrity = "failed"
        report["database"] = {"integrity": integrity,
                              "error": str(storage_error(exc, paths.database_file))}
    if integrity != "ok":
        report["ok"] = False
        report["database"].setdefault(
            "error", f"The integrity check found problems ({integrity}); run `reverie repair`.")
    report["model"] = _model_check(app) if load_model else {"checked": False}
    if load_model and not report["model"]["loadable"]:
        report["ok"] = False
    report["thinking"] = thinking_check(app, probe=load_model)
    report["tray"] = tray_check()
    try:
        report["idle"] = idle_check(app)
    except Exception as exc:
        if not is_storage_error(exc) and not isinstance(exc, DatabaseError):
            raise
        report["idle"] = {"error": str(storage_error(exc, paths.database_file))}
    return report


CPU_SAMPLE_SECONDS = 0.5


def idle_check(app: Reverie) -> dict[str, Any]:
    """The idle backend this machine gets, why others failed, and the thinking status.

    A running window's coordinator reports its live status; otherwise the status is what
    it would be now (paused, blocked and why, or waiting for you to go away).
    """
    from assistant.idle.conditions import PsutilCpuSampler
    from assistant.idle.gate import PAUSING, Sensors
    from assistant.idle.status import ThinkingState

    probe = app.probe_idle()
    backend = probe.backend
    info: dict[str, Any] = {
        "backend": backend.name,
        "system_wide": backend.system_wide,
        "failures": [{"backend": name, "reason": reason} for name, reason in probe.failures],
    }
    try:
        idle_seconds: float | None = backend.idle_seconds()
    except Exception as exc:
        idle_seconds = None
        info["error"] = str(exc)
    finally:
        backend.close()
    info["idle_seconds"] = None if idle_seconds is None else round(idle_seconds, 1)
    coordinator = app.running_coordinator
    if coordinator is not None:
        info["status"] = coordinator.status.to_json()
    else:
        cpu = PsutilCpuSampler()
        time.sleep(CPU_SAMPLE_SECONDS)  # a load average needs an interval
        gate = app.thinking_gate(Sensors(cpu=cpu))
        verdicts = gate.verdicts(app.settings)
        info["conditions"] = [{"condition": v.condition, "ok": v.ok, "reason": v.reason}
                              for v in verdicts]
        blocking = [v for v in verdicts if not v.ok]
        threshold = app.settings.idle.threshold_minutes
        if blocking and blocking[0].condition in PAUSING:
            state, reason = ThinkingState.PAUSED, blocking[0].reason
        elif blocking:
            state, reason = ThinkingState.BLOCKED, blocking[0].reason
        else:
            state, reason = ThinkingState.ACTIVE, (
                f"Thinking may start after {threshold:g} minutes away.")
        info["status"] = {"state": state.value, "reason": reason,
                          "watching": "not in this process (the window watches for idle time)"}
    info["agenda"] = app.agenda.counts()
    return info


#: How long the doctor waits for the thinking server to list its models.
THINKING_CHECK_SECONDS = 5.0


def thinking_check(app: Reverie, *, probe: bool = True) -> dict[str, Any]:
    """Where sleep-time thinking runs: ``local`` (the model of this computer) or on the
    server at ``thinking.remote_url``, and (``probe``) whether that server answers. An
    unreachable server does not fail the report: answers still work, and thinking
    sessions are skipped until it answers (``effect`` says so)."""
    thinking = app.settings.thinking
    if not thinking.remote_url:
        return {"where": "local"}
    info: dict[str, Any] = {"where": "server", "remote_url": thinking.remote_url,
                            "embeddings": "local"}
    if not probe:
        info["checked"] = False
        return info
    engine = app.thinking_engine()
    if engine.wait_ready(THINKING_CHECK_SECONDS):
        info.update(reachable=True, name=engine.info.name, n_ctx=engine.info.n_ctx,
                    prompt_style=engine.info.prompt_style.value)
    else:
        info.update(reachable=False,
                    error=engine.load_error or "The thinking server did not answer within "
                    f"{THINKING_CHECK_SECONDS:g} s.",
                    effect="thinking sessions are skipped until it answers")
    return info


def _model_check(app: Reverie) -> dict[str, Any]:
    info: dict[str, Any] = {"checked": True, "loadable": False}
    try:
        if app.settings.model.remote_url:
            info["remote_url"] = app.settings.model.remote_url
        else:
            path = app.model_path()
            info["path"] = str(path)
            info["size_bytes"] = path.stat().st_size
        started = time.perf_counter()
        engine = app.start_engine()
        if engine.wait_ready():
            info["loadable"] = True
            info["load_ms"] = round((time.perf_counter() - started) * 1000, 1)
            info["name"] = engine.info.name
            info["sha256"] = engine.info.sha256
            info["n_ctx"] = engine.info.n_ctx
            info["prompt_style"] = engine.info.prompt_style.value
        else:
            info["error"] = engine.load_error or "the model did not load"
    except (EngineError, OSError, RuntimeError) as exc:
        info["error"] = str(exc)
    return info
