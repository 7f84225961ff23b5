"""``reverie bench idle``: how fast sleep-time thinking yields the machine when you return.

Each trial makes a scripted idle backend report "away", so the real
`ThinkingCoordinator` starts a real session (title work items on the real model), waits
a random moment, then makes the backend report "back" and measures the time from the
poll that sees the return (``became_active``) to the session thread having stopped, i.e.
the model's background request aborted, the item rolled back and the session recorded.
The idle poll period (0.2 s while away) comes on top in real use; it is not part of
what is measured. Everything runs in a throw-away profile; yours is not touched.
"""

from __future__ import annotations

import logging
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from assistant.config import Settings
from assistant.idle.conditions import CpuSample
from assistant.idle.coordinator import ThinkingCoordinator
from assistant.idle.gate import Sensors, ThinkingGate
from assistant.llm.llama import LlamaEngine
from assistant.mind.planner import DefaultPlanner
from assistant.mind.runner import SleepRunner
from assistant.mind.titles import TitleConversationHandler, propose_titles
from assistant.store.chats import ChatRepository
from assistant.store.db import Database
from assistant.store.models import Role

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


@dataclass
class IdleBenchResult:
    trials: int
    stop_p50_ms: float
    stop_p99_ms: float
    stop_max_ms: float
    items_done: int
    model: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


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


def run_idle_bench(model_path: Path, *, trials: int = 30, seed: int = 0,
                   max_delay: float = 2.5, progress: Progress | None = None) -> IdleBenchResult:
    """Run ``trials`` return-while-thinking trials on the model at ``model_path``."""
    if trials < 1:
        raise ValueError("trials must be at least 1")
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(prefix="reverie-bench-idle-") as tmp:
        root = Path(tmp)
        db = Database.open(root / "bench.db", root / "backups")
        engine = LlamaEngine(model_path, n_ctx=2048)
        try:
            if not engine.wait_ready():
                raise RuntimeError(engine.load_error or "The model did not load.")
            seed_conversations(db, count=trials + 20, rng=rng)
            runner = SleepRunner(db, engine, DefaultPlanner(db, [propose_titles]),
                                 [TitleConversationHandler()])
            backend = ScriptedIdleBackend()
            gate = ThinkingGate(lambda: 0.0, Sensors(battery=lambda: None,
                                                     cpu=lambda: CpuSample(0.0, 0.0),
                                                     fullscreen=lambda: None))
            settings = Settings()
            coordinator = ThinkingCoordinator(backend, runner, gate, lambda: settings,
                                              lambda _s: None)
            stops: list[float] = []
            items_done = 0
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
                report = coordinator.last_report
                if report is not None and report.stopped_because == "done":
                    raise RuntimeError("the benchmark ran out of work items")
                items_done += getattr(report, "items_done", 0)
                if progress is not None:
                    progress(trial + 1, trials)
            coordinator.shutdown()
        finally:
            engine.close()
            db.close()
    values = np.array(stops)
    return IdleBenchResult(
        trials=trials,
        stop_p50_ms=round(float(np.percentile(values, 50)), 2),
        stop_p99_ms=round(float(np.percentile(values, 99)), 2),
        stop_max_ms=round(float(values.max()), 2),
        items_done=items_done,
        model=engine.info.name,
    )
