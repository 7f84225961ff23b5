"""``reverie bench idle``: how fast sleep-time thinking yields the machine when you return.

Two parts, both on the real model with the real `ThinkingCoordinator` and `SleepRunner`
(title work items), in a throw-away profile (yours is not touched):

1. From the poll that sees the return (``stop_*``): a scripted idle backend says "away",
   a session starts, and after a random moment it says "back"; measured from that poll
   to the session thread having stopped (the model's background request aborted, the
   item rolled back, the session recorded). Poll periods are not part of it.
2. From a real key press (``keypress_*``): an Xvfb server of its own, the X11 backend the
   app uses (XScreenSaver idle time, XInput2 events), the coordinator started as in the
   app (its scheduler notices the person leaving, its `ReturnWatch` the return). After a
   random moment into a work item, ``xdotool key shift``. ``keypress_to_stop_*`` runs
   from the key press as the X server recorded it (the moment of the reading that saw
   the return minus the idle time it read, in ms) to the model's request aborted and the
   work item rolled back (committed as pending again; when the press came between two
   items, to the session thread having stopped); ``keypress_to_session_end_*`` goes on
   until the session thread has also recorded the session and ended;
   ``keypress_to_seen_*`` is the part until the coordinator asked the session to stop.
   ``xdotool_to_stop_*`` starts earlier, just before xdotool is started, so it includes
   xdotool's own start-up (``keypress_tool_p50_ms``). ``idle_poll_cpu_percent`` is the
   CPU time of the watch's thread over the time it watched (sessions, nearly all of it),
   without the model's work; ``return_detection`` says whether it waited on input
   events or polled (every ``idle_poll_period_ms`` in both cases: the fallback period
   with events, the period itself without). Skipped, with the reason in
   ``keypress_skipped``, without Xvfb or xdotool.

``load_average`` is the machine's 1-minute load at the start and at the end: on a shared
machine every figure here grows with it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import select
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.config import IdleSettings, Settings
from assistant.idle.backends.x11 import X11Backend
from assistant.idle.conditions import CpuSample
from assistant.idle.coordinator import SessionReportLike, ThinkingCoordinator
from assistant.idle.gate import Sensors, ThinkingGate
from assistant.idle.status import Status, ThinkingState
from assistant.idle.watch import EVENTS_FALLBACK_SECONDS, THINKING_POLL_SECONDS
from assistant.llm.llama import LlamaEngine
from assistant.mind.planner import DefaultPlanner
from assistant.mind.runner import SleepRunner
from assistant.mind.titles import TitleConversationHandler, propose_titles
from assistant.store.chats import ChatRepository
from assistant.store.db import Database
from assistant.store.models import Role, WorkItem, WorkState

log = logging.getLogger("assistant.bench")

Progress = Callable[[int, int], None]

_TOPICS = ["the garden", "a trip to Lisbon", "the tax return", "learning the piano",
           "a birthday party", "the new bicycle", "a job interview", "the leaking roof",
           "baking sourdough", "a chess opening", "the school play", "a marathon plan"]
_SENTENCES = [
    "I keep thinking about {t} and I am not sure where to start.",
    "Yesterday I wrote down everything I know about {t}, which took most of the evening.",
    "My friend said that {t} is easier if you make a list first and do one thing a day.",
    "Could you help me plan {t} step by step, with the most important parts first?",
    "The budget for {t} is small, so I want to avoid anything expensive or complicated.",
    "Last year {t} went badly because I left everything until the final week.",
]


class ScriptedIdleBackend:
    """An idle backend whose idle time the benchmark sets."""

    name = "scripted"
    system_wide = True

    def __init__(self) -> None:
        self.idle = 0.0

    def idle_seconds(self) -> float:
        return self.idle

    def is_locked(self) -> bool | None:
        return False

    def close(self) -> None:
        pass


#: How long without input counts as away in the key-press part. Shorter than the settings
#: allow (6 s), so that 100 trials take minutes; the return path does not depend on it.
KEYPRESS_THRESHOLD_SECONDS = 0.5
#: The key pressed: it types nothing anywhere.
KEYPRESS_KEY = "shift"


@dataclass
class IdleBenchResult:
    trials: int
    stop_p50_ms: float
    stop_p99_ms: float
    stop_max_ms: float
    items_done: int
    model: str
    keypress_trials: int = 0
    keypress_to_stop_p50_ms: float | None = None
    keypress_to_stop_p99_ms: float | None = None
    keypress_to_stop_max_ms: float | None = None
    keypress_to_session_end_p50_ms: float | None = None
    keypress_to_session_end_p99_ms: float | None = None
    keypress_to_seen_p50_ms: float | None = None
    keypress_to_seen_p99_ms: float | None = None
    xdotool_to_stop_p50_ms: float | None = None
    xdotool_to_stop_p99_ms: float | None = None
    keypress_tool_p50_ms: float | None = None
    #: Trials whose key press came while a work item ran: each was rolled back (pending).
    keypress_items_rolled_back: int = 0
    idle_poll_cpu_percent: float | None = None
    #: "events" (XInput2) or "poll".
    return_detection: str | None = None
    idle_poll_period_ms: float | None = None
    #: Why the key-press part did not run (None when it did).
    keypress_skipped: str | None = None
    load_average: tuple[float, float] | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class KeypressFigures:
    """The key-press part's measurements, in milliseconds."""

    stops: list[float]
    session_ends: list[float]
    seen: list[float]
    from_tool: list[float]
    tool: list[float]
    rolled_back: int
    cpu_percent: float
    events: bool


def _ms(values: list[float], q: float) -> float:
    return round(float(np.percentile(np.array(values), q)), 2)


def seed_conversations(db: Database, count: int, rng: random.Random) -> None:
    """Conversations long enough (about 600 tokens) that titling one takes seconds."""
    chats = ChatRepository(db)
    for i in range(count):
        topic = _TOPICS[i % len(_TOPICS)]
        conv = chats.create_conversation()
        assert conv.id is not None
        for turn in range(6):
            role = Role.USER if turn % 2 == 0 else Role.ASSISTANT
            text = " ".join(rng.choice(_SENTENCES).format(t=topic) for _ in range(4))
            chats.add_message(conv.id, role, text)


def run_idle_bench(model_path: Path, *, trials: int = 30, keypress_trials: int = 100,
                   seed: int = 0, max_delay: float = 2.5,
                   progress: Progress | None = None) -> IdleBenchResult:
    """Run ``trials`` scripted and ``keypress_trials`` key-press return-while-thinking
    trials on the model at ``model_path`` (``keypress_trials=0`` skips the second part)."""
    if trials < 1 or keypress_trials < 0:
        raise ValueError("trials must be at least 1 and keypress_trials not negative")
    rng = random.Random(seed)
    load_before = os.getloadavg()[0]
    skipped = missing_keypress_tools() if keypress_trials else "not asked for"
    total = trials + (0 if skipped else keypress_trials)

    def step(done: int) -> None:
        if progress is not None:
            progress(done, total)

    with tempfile.TemporaryDirectory(prefix="reverie-bench-idle-") as tmp:
        root = Path(tmp)
        db = Database.open(root / "bench.db", root / "backups")
        engine = LlamaEngine(model_path, n_ctx=2048)
        try:
            if not engine.wait_ready():
                raise RuntimeError(engine.load_error or "The model did not load.")
            seed_conversations(db, count=total + 20, rng=rng)
            runner = SleepRunner(db, engine, DefaultPlanner(db, [propose_titles]),
                                 [TitleConversationHandler()])
            stops, items_done = _scripted_trials(runner, trials, rng, max_delay, step)
            keypress = None
            if not skipped:
                keypress = _keypress_trials(db, runner, keypress_trials, rng, max_delay,
                                            lambda done: step(trials + done))
        finally:
            engine.close()
            db.close()
    result = IdleBenchResult(
        trials=trials, stop_p50_ms=_ms(stops, 50), stop_p99_ms=_ms(stops, 99),
        stop_max_ms=round(max(stops), 2), items_done=items_done, model=engine.info.name,
        keypress_skipped=skipped or None,
        load_average=(round(load_before, 2), round(os.getloadavg()[0], 2)))
    if keypress is not None:
        result.keypress_trials = len(keypress.stops)
        result.keypress_to_stop_p50_ms = _ms(keypress.stops, 50)
        result.keypress_to_stop_p99_ms = _ms(keypress.stops, 99)
        result.keypress_to_stop_max_ms = round(max(keypress.stops), 2)
        result.keypress_to_session_end_p50_ms = _ms(keypress.session_ends, 50)
        result.keypress_to_session_end_p99_ms = _ms(keypress.session_ends, 99)
        result.keypress_to_seen_p50_ms = _ms(keypress.seen, 50)
        result.keypress_to_seen_p99_ms = _ms(keypress.seen, 99)
        result.xdotool_to_stop_p50_ms = _ms(keypress.from_tool, 50)
        result.xdotool_to_stop_p99_ms = _ms(keypress.from_tool, 99)
        result.keypress_tool_p50_ms = _ms(keypress.tool, 50)
        result.keypress_items_rolled_back = keypress.rolled_back
        result.idle_poll_cpu_percent = round(keypress.cpu_percent, 3)
        result.return_detection = "events" if keypress.events else "poll"
        result.idle_poll_period_ms = 1000 * (EVENTS_FALLBACK_SECONDS if keypress.events
                                             else THINKING_POLL_SECONDS)
    return result


def _bench_gate() -> ThinkingGate:
    """Conditions that always allow thinking (mains power, a quiet CPU, no full screen)."""
    return ThinkingGate(lambda: 0.0, Sensors(battery=lambda: None,
                                             cpu=lambda: CpuSample(0.0, 0.0),
                                             fullscreen=lambda: None))


def _check_report(trial: int, report: SessionReportLike | None) -> None:
    if report is not None and report.stopped_because == "done":
        raise RuntimeError("the benchmark ran out of work items")
    if report is not None and report.stopped_because == "error":
        raise RuntimeError(f"trial {trial}: the session failed: {report.error}")


def _scripted_trials(runner: SleepRunner, trials: int, rng: random.Random, max_delay: float,
                     step: Callable[[int], None]) -> tuple[list[float], int]:
    """Part 1: from the poll that sees the return to the session stopped, in ms."""
    backend = ScriptedIdleBackend()
    settings = Settings()
    coordinator = ThinkingCoordinator(backend, runner, _bench_gate(), lambda: settings,
                                      lambda _s: None)
    stops: list[float] = []
    items_done = 0
    try:
        for trial in range(trials):
            coordinator.last_report = None
            backend.idle = 1e6
            coordinator.poll_idle()
            if not coordinator.thinking:
                raise RuntimeError(f"trial {trial}: no session started "
                                   f"({coordinator.status.reason})")
            time.sleep(rng.uniform(0.0, max_delay))
            backend.idle = 0.0
            returned = time.perf_counter()
            coordinator.poll_idle()
            if not coordinator.wait_stopped(10.0):
                raise RuntimeError(f"trial {trial}: the session did not stop in 10 s")
            stops.append((time.perf_counter() - returned) * 1000)
            _check_report(trial, coordinator.last_report)
            items_done += getattr(coordinator.last_report, "items_done", 0)
            step(trial + 1)
    finally:
        coordinator.shutdown()
    return stops, items_done


class _StopClock:
    """The runner as the coordinator sees it, noting when a stop was first asked for."""

    def __init__(self, runner: SleepRunner, idle_read: Callable[[], float]) -> None:
        self._runner = runner
        self._idle_read = idle_read
        self.asked_at: float | None = None
        #: When the item running at the stop was rolled back (None: none was running).
        self.released_at: float | None = None
        #: The idle seconds read by the poll that saw the return.
        self.idle_then = 0.0

    @property
    def running(self) -> bool:
        return self._runner.running

    def has_work(self) -> bool:
        return self._runner.has_work()

    def request_stop(self, reason: str = "user_returned") -> None:
        if self.asked_at is None and self._runner.running:
            self.asked_at = time.perf_counter()
            self.idle_then = self._idle_read()
        self._runner.request_stop(reason)

    def run_session(self, budget_seconds: float | None = None,
                    should_stop: Callable[[], bool] | None = None,
                    on_item: Callable[[str | None], None] | None = None) -> SessionReportLike:
        def noted(what: str | None) -> None:
            # The runner reports "no item" right after an interrupted item's rollback
            # has been committed.
            if what is None and self.asked_at is not None and self.released_at is None:
                self.released_at = time.perf_counter()
            if on_item is not None:
                on_item(what)

        return self._runner.run_session(budget_seconds, should_stop, noted)


def missing_keypress_tools() -> str:
    """Why the key-press part cannot run here ("" when it can)."""
    missing = [tool for tool in ("Xvfb", "xdotool") if shutil.which(tool) is None]
    if missing:
        return (f"{' and '.join(missing)} not installed (apt-get install xvfb xdotool "
                "libxss1)")
    return ""


@contextlib.contextmanager
def virtual_display(timeout: float = 15.0) -> Iterator[str]:
    """An Xvfb server on a free display (``-displayfd``) for the duration; yields ":N"."""
    read_fd, write_fd = os.pipe()
    try:
        proc = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0",
                                 "640x480x24", "-nolisten", "tcp", "-noreset"],
                                pass_fds=(write_fd,),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    finally:
        os.close(write_fd)
    try:
        number = b""
        deadline = time.monotonic() + timeout
        while not number.endswith(b"\n") and time.monotonic() < deadline:
            ready, _, _ = select.select([read_fd], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(read_fd, 16) if ready else b""
            if not chunk:
                break
            number += chunk
        if not number.strip().isdigit():
            raise RuntimeError("Xvfb did not start (it reported no display number)")
        yield f":{number.decode().strip()}"
    finally:
        os.close(read_fd)
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _keypress_trials(db: Database, runner: SleepRunner, trials: int, rng: random.Random,
                     max_delay: float, step: Callable[[int], None]) -> KeypressFigures:
    """Part 2: from a real key press on Xvfb to the session stopped, in ms."""
    stops: list[float] = []
    session_ends: list[float] = []
    seen: list[float] = []
    from_tool: list[float] = []
    tool: list[float] = []
    rolled_back = 0
    events = True
    settings = Settings(idle=IdleSettings(threshold_minutes=KEYPRESS_THRESHOLD_SECONDS / 60,
                                          max_cpu_percent=100))
    in_item = threading.Event()

    def on_status(status: Status) -> None:
        if status.state is ThinkingState.THINKING and status.detail:
            in_item.set()

    with virtual_display() as display:
        env = dict(os.environ, DISPLAY=display)
        backend = X11Backend(display)
        coordinator: ThinkingCoordinator | None = None

        def idle_read() -> float:
            return coordinator.monitor.last_idle_seconds if coordinator is not None else 0.0

        clock = _StopClock(runner, idle_read)
        coordinator = ThinkingCoordinator(backend, clock, _bench_gate(), lambda: settings,
                                          lambda _s: None)
        coordinator.add_listener(on_status)
        try:
            coordinator.start()
            watched = coordinator.return_watch.usage()
            for trial in range(trials):
                if not in_item.wait(120):
                    raise RuntimeError(f"trial {trial}: no work item started within 2 minutes "
                                       f"({coordinator.status.reason})")
                time.sleep(rng.uniform(0.05, max_delay))  # a random moment into the item
                working = runner.current_item is not None
                events = events and coordinator.return_watch.uses_events
                clock.asked_at = None
                clock.released_at = None
                pressed = time.perf_counter()
                subprocess.run(["xdotool", "key", KEYPRESS_KEY], env=env, check=True,
                               timeout=30, stdout=subprocess.DEVNULL)
                sent = time.perf_counter()
                if not coordinator.wait_stopped(10.0):
                    raise RuntimeError(f"trial {trial}: the session did not stop in 10 s")
                stopped = time.perf_counter()
                in_item.clear()
                if clock.asked_at is None:
                    raise RuntimeError(f"trial {trial}: the session ended before the key "
                                       "press was seen")
                _check_report(trial, coordinator.last_report)
                if working:
                    if _running_items(db):
                        raise RuntimeError(f"trial {trial}: a work item stayed running")
                    rolled_back += 1
                key_at = clock.asked_at - clock.idle_then  # by the X server's idle counter
                if not pressed - 0.005 <= key_at <= sent + 0.005:
                    raise RuntimeError(f"trial {trial}: the idle time read does not date a "
                                       "key press made by xdotool")
                released = clock.released_at if clock.released_at is not None else stopped
                stops.append((released - key_at) * 1000)
                session_ends.append((stopped - key_at) * 1000)
                seen.append(clock.idle_then * 1000)
                from_tool.append((released - pressed) * 1000)
                tool.append((sent - pressed) * 1000)
                step(trial + 1)
        finally:
            coordinator.shutdown()
            backend.close()
        used = coordinator.return_watch.usage().since(watched)
    return KeypressFigures(stops, session_ends, seen, from_tool, tool, rolled_back,
                           used.cpu_percent, events)


def _running_items(db: Database) -> int:
    from sqlmodel import select as sql_select

    with db.session() as s:
        return len(list(s.exec(sql_select(WorkItem).where(WorkItem.state == WorkState.RUNNING))))
