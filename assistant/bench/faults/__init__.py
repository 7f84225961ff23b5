"""``reverie bench faults``: kill Reverie at random moments and feed it bad input.

Two promises are measured on real processes (``python -m assistant``), each on its
own copy of a throw-away profile that holds the shipped fixture's chats and notes:

* **Kills.** Import, note add, sleep, export, settings save and model download are
  each killed with SIGKILL at moments drawn uniformly over how long the operation
  takes on this machine (measured once, unkilled, first). After every kill the
  database passes ``PRAGMA integrity_check``, and every row the person owned before
  (conversations, messages, notes, pinned or edited memories) is still there,
  byte for byte. Running the same operation again then completes: an import adds
  exactly the rows of one clean import, a download resumes and verifies, a sleep
  session recovers the item it was doing.
* **Bad input.** Every class of hostile or unlucky input found so far gets one
  clear sentence on stderr, the right exit code, no traceback, and changes nothing
  the person owns.
"""

from __future__ import annotations

import os
import random
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.bench.faults.inputs import BadInputReport, run_bad_inputs
from assistant.bench.faults.kills import KillReport, run_kills
from assistant.bench.faults.profile import Reverie, Workspace, serve_bytes

__all__ = ["FaultResult", "run_faults_bench"]


@dataclass
class FaultResult:
    kills: KillReport
    inputs: BadInputReport
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "kills": self.kills.kills,
            "lost_rows": self.kills.lost_rows,
            "integrity_failures": self.kills.integrity_failures,
            "rerun_failures": self.kills.rerun_failures,
            "bad_inputs": len(self.inputs.classes),
            "bad_inputs_clear": len(self.inputs.clear),
            "tracebacks": self.kills.tracebacks + self.inputs.tracebacks,
            "classes": self.inputs.classes,
            "classes_skipped": self.inputs.skipped,
            "kills_per_operation": self.kills.per_operation,
            "operation_seconds": self.kills.operation_seconds,
            "sleep_items_killed": self.kills.sleep_items_killed,
            "finished_before_kill": self.kills.finished_before_kill,
            "problems": self.kills.problems + self.inputs.problems,
            "seconds": round(self.seconds, 1),
        }


def run_faults_bench(model: Path, *, kills: int = 100, seed: int = 7,
                     report_line: Callable[[str], None] = lambda line: None,
                     workspace: Path | None = None) -> FaultResult:
    """Kill Reverie ``kills`` times over six operations, then try every bad input."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="reverie-faults-",
                                     dir=workspace) as tmp:
        root = Path(tmp)
        ws = Workspace(root, model, Reverie.here())
        if _same_device(model, root):
            os.link(model, root / "same-model.gguf")
        else:
            (root / "same-model.gguf").symlink_to(model)
        ws.build(seed)
        with serve_bytes(ws.payload) as url:
            ws.download_url = url
            kill_report = run_kills(ws, kills, random.Random(seed), report_line)
        inputs = run_bad_inputs(ws, report_line)
        _unmount_leftovers(root)
    return FaultResult(kill_report, inputs, time.monotonic() - started)


def _same_device(a: Path, b: Path) -> bool:
    return a.stat().st_dev == b.stat().st_dev


def _unmount_leftovers(root: Path) -> None:
    for mount in root.glob("*-tmpfs"):
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)
