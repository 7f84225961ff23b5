"""``reverie bench cli``: the terminal's door, measured with real processes.

Every figure is the median of ``runs`` spawns of ``python -m assistant`` (this
checkout), each taking turns with a baseline ``python -c pass`` so that both see the
same load: `python_startup_ms` is that baseline.

- ``ask_prepared_wall_ms``: ``ask`` of a question asked as it was prepared, no app
  running (plain sqlite3, `assistant.recall.quick`); spawn to exit.
- ``ask_paraphrase_wall_ms``: the same with a rephrasing, matched by meaning (the
  embedder loads, the model does not); spawn to exit.
- ``ask_generated_ttft_ms_standalone``: a question nothing was prepared for, no app
  running: spawn to the first answer byte on stdout (includes loading the model).
- With the app running (``python -m assistant`` under ``QT_QPA_PLATFORM=offscreen``:
  the real window and its command socket, thinking turned off so it does not compete):
  ``ask_prepared_wall_ms_via_app`` (spawn to exit), ``ask_generated_ttft_ms_via_app``
  (spawn to the first answer byte, less `python_startup_ms`: what the command adds to
  an interpreter start; ``..._wall`` is the raw figure), ``ask_generated_ttft_ms_in_app``
  (the same question asked of the app by this process over the socket, no process
  started: request to the first answer piece, i.e. when the app's own window would show
  it; the answer cleaner holds a piece back until it is sure, so this is later than
  the model's first token) and
  ``model_copies_while_app_runs`` (the most processes seen mapping the model file,
  ``/proc/PID/maps``, while a terminal's generated answer streams).
"""

from __future__ import annotations

import io
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tomli_w

from assistant.ipc.address import socket_path
from assistant.ipc.client import send_command

PREPARED = [("When is my dentist appointment?", "On Tuesday at 10:30, with Dr. Okafor."),
            ("What is the wifi password at the cabin?", "It is on the fridge: cedar-42.")]
#: The notes they were prepared from: in the app every prepared answer has its sources,
#: and matching by meaning reads them (`recall.matching.prepared_context`).
SOURCES = ["Dentist appointment on Tuesday at 10:30 with Dr. Okafor.",
           "The wifi password at the cabin is on the fridge: cedar-42."]
#: Matches PREPARED[0] by meaning (checked at the start of the run).
PARAPHRASE = "When is my appointment with the dentist?"
GENERATED = "Name three colours of the rainbow."
APP_START_TIMEOUT_S = 180.0
RUN_TIMEOUT_S = 180.0

Report = Callable[[str], None]


class CliBenchError(RuntimeError):
    """A run did not do what it measures; the message says what happened."""


def _env() -> dict[str, str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env.pop("WAYLAND_DISPLAY", None)
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    return env


def _root() -> str:
    return str(Path(__file__).resolve().parents[2])


def _spawn(argv: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, *argv], env=_env(), cwd=_root(),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wall_ms(argv: list[str]) -> tuple[float, bytes]:
    """Spawn to exit, and what it printed; a failing run is an error."""
    started = time.perf_counter()
    proc = _spawn(argv)
    out, err = proc.communicate(timeout=RUN_TIMEOUT_S)
    elapsed = (time.perf_counter() - started) * 1000
    if proc.returncode != 0:
        raise CliBenchError(f"{' '.join(argv[-2:])} exited with {proc.returncode}: "
                            f"{err.decode(errors='replace').strip()[-300:]}")
    return elapsed, out


def first_byte_ms(argv: list[str], during: Callable[[], None] | None = None
                  ) -> tuple[float, bytes]:
    """Spawn to the first byte on stdout (``during`` runs right then), and all of it."""
    started = time.perf_counter()
    proc = _spawn(argv)
    assert proc.stdout is not None
    first = os.read(proc.stdout.fileno(), 65536)  # returns once anything is written
    elapsed = (time.perf_counter() - started) * 1000
    if during is not None:
        during()
    rest, err = proc.communicate(timeout=RUN_TIMEOUT_S)
    if proc.returncode != 0 or not first:
        raise CliBenchError(f"ask exited with {proc.returncode} before answering: "
                            f"{err.decode(errors='replace').strip()[-300:]}")
    return elapsed, first + rest


def processes_mapping(path: Path) -> list[int]:
    """The processes that map ``path`` (each loaded copy of a model maps its file)."""
    wanted = str(path.resolve())
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            maps = (entry / "maps").read_text(errors="replace")
        except OSError:
            continue
        if wanted in maps:
            found.append(int(entry.name))
    return found


def make_profile(folder: Path, model: Path) -> None:
    """A profile on ``model`` with prepared answers and thinking off."""
    from assistant.app import Reverie
    from assistant.store.models import Anticipation

    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "settings.toml").open("wb") as out:
        tomli_w.dump({"model": {"path": str(model), "max_answer_tokens": 24,
                                "temperature": 0.0},
                      "thinking": {"enabled": False}}, out)
    app = Reverie.open(folder)
    try:
        for (question, answer), source in zip(PREPARED, SOURCES, strict=True):
            note = app.notes.add(question.rstrip("?"), source)
            app.anticipations.add(Anticipation(kind="event", question=question,
                                               answer=answer, predictability=0.9,
                                               sources={"notes": [note.id or 0]}))
    finally:
        app.close()


def _ask_json(data_dir: Path, question: str) -> dict[str, Any]:
    """``ask --json`` run by the app (sent over the socket from this process)."""
    out, err = io.StringIO(), io.StringIO()
    code = send_command(socket_path(data_dir), "ask",
                        ["--data-dir", str(data_dir), "ask", question, "--json"],
                        stdout=out, stderr=err)
    if code != 0:
        raise CliBenchError(f"the app answered ask --json with {code}: {err.getvalue()}")
    data: dict[str, Any] = json.loads(out.getvalue())
    return data


class _FirstWrite(io.StringIO):
    """Remembers when the first text was written to it."""

    def __init__(self) -> None:
        super().__init__()
        self.at: float | None = None

    def write(self, text: str) -> int:
        if self.at is None and text:
            self.at = time.perf_counter()
        return super().write(text)


def in_app_first_piece_ms(data_dir: Path, question: str) -> float:
    """``ask`` sent over the socket by this process: request to the first answer piece."""
    out, err = _FirstWrite(), io.StringIO()
    started = time.perf_counter()
    code = send_command(socket_path(data_dir), "ask",
                        ["--data-dir", str(data_dir), "ask", question],
                        stdout=out, stderr=err)
    if code != 0 or out.at is None:
        raise CliBenchError(f"the app answered ask with {code}: {err.getvalue()}")
    return (out.at - started) * 1000


def _start_app(data_dir: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-m", "assistant", "--data-dir", str(data_dir)],
                            env=_env(), cwd=_root(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    deadline = time.monotonic() + APP_START_TIMEOUT_S
    while time.monotonic() < deadline:  # a bench may poll: the app is another process
        if proc.poll() is not None:
            raise CliBenchError(f"the app exited with {proc.returncode}: "
                                f"{proc.stderr.read().decode()[-300:] if proc.stderr else ''}")
        path = socket_path(data_dir)
        if path is not None and path.exists():
            try:
                _ask_json(data_dir, "Say hello.")  # waits for the model to load
                return proc
            except (CliBenchError, OSError):
                pass
        time.sleep(0.1)
    proc.kill()
    raise CliBenchError("the app did not start serving commands within "
                        f"{APP_START_TIMEOUT_S:.0f} s")


def _stop_app(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)  # the app quits cleanly on Ctrl+C
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _median(values: list[float]) -> float:
    return round(statistics.median(values), 1)


def run_cli_bench(model: Path, *, runs: int = 20, report: Report | None = None
                  ) -> dict[str, Any]:
    """Every figure of the module doc on a temporary profile that uses ``model``."""
    say = report or (lambda _line: None)
    baseline: list[float] = []
    figures: dict[str, list[float]] = {}

    def turn(key: str, measure: Callable[[], float]) -> None:
        baseline.append(wall_ms(["-c", "pass"])[0])
        figures.setdefault(key, []).append(measure())

    with tempfile.TemporaryDirectory(prefix="rv-bench-cli-", dir="/tmp") as tmp:
        data_dir = Path(tmp) / "p"
        make_profile(data_dir, model)
        ask = ["-m", "assistant", "--data-dir", str(data_dir), "ask"]
        prepared, answer = PREPARED[0]

        def prepared_ms() -> float:
            elapsed, out = wall_ms([*ask, prepared])
            if out.decode().strip() != answer:
                raise CliBenchError(f"the prepared answer was not served: {out!r}")
            return elapsed

        def paraphrase_ms() -> float:
            elapsed, out = wall_ms([*ask, PARAPHRASE, "--json"])
            if json.loads(out)["source"] != "anticipated":
                raise CliBenchError("the rephrased question did not match its prepared "
                                    "answer")
            return elapsed

        for i in range(runs):
            say(f"standalone {i + 1}/{runs}")
            turn("ask_prepared_wall_ms", prepared_ms)
            turn("ask_paraphrase_wall_ms", paraphrase_ms)
            turn("ask_generated_ttft_ms_standalone",
                 lambda: first_byte_ms([*ask, GENERATED])[0])

        say("starting the app (offscreen window)")
        app = _start_app(data_dir)
        copies: list[int] = []
        try:
            def count() -> None:
                copies.append(len(processes_mapping(model)))

            for i in range(runs):
                say(f"via the app {i + 1}/{runs}")
                turn("ask_prepared_wall_ms_via_app", prepared_ms)
                turn("ask_generated_ttft_ms_via_app_wall",
                     lambda: first_byte_ms([*ask, GENERATED], during=count)[0])
                figures.setdefault("ask_generated_ttft_ms_in_app", []).append(
                    in_app_first_piece_ms(data_dir, GENERATED))
        finally:
            _stop_app(app)

    result: dict[str, Any] = {key: _median(values) for key, values in figures.items()}
    startup = _median(baseline)
    result["python_startup_ms"] = startup
    result["ask_generated_ttft_ms_via_app"] = round(
        result["ask_generated_ttft_ms_via_app_wall"] - startup, 1)
    result["model_copies_while_app_runs"] = max(copies) if copies else 0
    result["runs"] = runs
    result["model"] = model.name
    result["app"] = "python -m assistant (window, QT_QPA_PLATFORM=offscreen)"
    result["checks"] = {
        "prepared_under_startup_plus_250":
            result["ask_prepared_wall_ms"] < startup + 250,
        "prepared_via_app_under_startup_plus_100":
            result["ask_prepared_wall_ms_via_app"] < startup + 100,
        "one_model_copy": result["model_copies_while_app_runs"] == 1,
        "ttft_via_app_within_50_of_in_app":
            abs(result["ask_generated_ttft_ms_via_app"]
                - result["ask_generated_ttft_ms_in_app"]) <= 50,
    }
    return dict(sorted(result.items()))
