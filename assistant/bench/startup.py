"""``reverie bench startup``: process start -> main window shown, and -> model ready.

Each run launches ``python -m assistant --data-dir TMP`` under Qt's offscreen platform
with ``REVERIE_STARTUP_PROBE=1``; the app prints ``reverie-startup window_shown T`` and
``reverie-startup model_ready T`` (wall-clock seconds) and quits once the model is
ready. Times are measured from just before the process is spawned, so they include
the interpreter start and every import. The temporary profile uses the given model
file, so no run pays for preparing the bundled model.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from assistant.bench.stats import percentile

PROBE_ENV = "REVERIE_STARTUP_PROBE"
PREFIX = "reverie-startup"
RUN_TIMEOUT_SECONDS = 120.0


class StartupBenchError(RuntimeError):
    """A run did not reach the window or the model; the message says what happened."""


@dataclass
class StartupRun:
    window_shown_ms: float
    model_ready_ms: float


@dataclass
class StartupResult:
    runs: list[StartupRun] = field(default_factory=list)
    model: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "window_shown_ms": round(percentile([r.window_shown_ms for r in self.runs], 50), 1),
            "model_ready_ms": round(percentile([r.model_ready_ms for r in self.runs], 50), 1),
            "runs": [{"window_shown_ms": round(r.window_shown_ms, 1),
                      "model_ready_ms": round(r.model_ready_ms, 1)} for r in self.runs],
            "model": self.model,
            "platform": "offscreen",
        }


def run_once(data_dir: Path, timeout: float = RUN_TIMEOUT_SECONDS) -> StartupRun:
    """One cold start of the app on ``data_dir``; returns the two delays in ms."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", **{PROBE_ENV: "1"})
    env.pop("WAYLAND_DISPLAY", None)
    # The same Reverie as this one, whatever the current folder or installed copy.
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    started = time.time()
    done = subprocess.run([sys.executable, "-m", "assistant", "--data-dir", str(data_dir)],
                          env=env, cwd=root, capture_output=True, text=True,
                          timeout=timeout, check=False)
    stamps: dict[str, float] = {}
    for line in done.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == PREFIX:
            stamps[parts[1]] = float(parts[2])
    if "window_shown" not in stamps or "model_ready" not in stamps:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise StartupBenchError(f"the app exited with code {done.returncode} before the "
                                f"model was ready: {' | '.join(tail) or 'no output'}")
    return StartupRun((stamps["window_shown"] - started) * 1000,
                      (stamps["model_ready"] - started) * 1000)


def run(model: Path, runs: int = 5,
        progress: Callable[[str], None] | None = None) -> StartupResult:
    """``runs`` cold starts on a temporary profile that uses ``model``."""
    result = StartupResult(model=model.name)
    with tempfile.TemporaryDirectory(prefix="reverie-bench-startup-") as tmp:
        data_dir = Path(tmp) / "profile"
        data_dir.mkdir()
        with (data_dir / "settings.toml").open("wb") as out:
            tomli_w.dump({"model": {"path": str(model)}}, out)
        for i in range(runs):
            one = run_once(data_dir)
            result.runs.append(one)
            if progress is not None:
                progress(f"run {i + 1}/{runs}: window {one.window_shown_ms:.0f} ms, "
                         f"model {one.model_ready_ms:.0f} ms")
    return result
