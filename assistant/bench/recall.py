"""``reverie bench recall``: is the source that holds the answer among the top 5 retrieved?

The shipped fixture (a person's chats and notes with 40 answerable questions, each naming the
message or note that holds its answer) is imported into a throw-away profile, sleep
time runs on the real model, then every question is retrieved. A hit is the source
message or note itself, or a memory made from it. Retrieval is the one questions get:
words (BM25) and the configured embedder's vectors, fused. Your own profile is not touched.
"""

from __future__ import annotations

import json
import logging
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from assistant.app import EngineFactory, Reverie, default_engine_factory
from assistant.config import Settings
from assistant.mind.runner import SessionReport
from assistant.recall.retrieval import Hit, Retriever
from assistant.resources import resource
from assistant.store.db import Database
from assistant.store.importers import import_chats, import_notes
from assistant.store.models import Message, Note

log = logging.getLogger("assistant.bench")

TOP_K = 5


#: Benchmark fixtures by name: a folder of chats.jsonl, notes/ and questions.json.
FIXTURES = {"maya": (), "two_people": ("two_people",)}
DEFAULT_FIXTURE = "maya"


def fixture_dir(name: str = DEFAULT_FIXTURE) -> Path:
    """The folder of the fixture ``name`` (one of `FIXTURES`)."""
    return resource("bench", *FIXTURES[name])


def load_questions(path: Path | None = None) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((path or fixture_dir() / "questions.json").read_text(
        encoding="utf-8"))
    return data


@dataclass
class SleptProfile:
    """A throw-away profile with the fixture imported and one sleep session done."""

    app: Reverie
    report: SessionReport
    sleep_seconds: float


@contextmanager
def slept_fixture_profile(settings: Settings, *, data_dir: Path | None = None,
                          sleep: bool = True,
                          engine_factory: EngineFactory = default_engine_factory,
                          fixture: str = DEFAULT_FIXTURE,
                          budget_seconds: float | None = None,
                          ) -> Iterator[SleptProfile]:
    """Import the fixture into a temporary profile using ``settings``' model, and sleep
    (until done, or for ``budget_seconds``)."""
    with tempfile.TemporaryDirectory(prefix="reverie-bench-") as tmp:
        app = Reverie.open(data_dir or Path(tmp), engine_factory=engine_factory)
        try:
            app.save_settings(settings)
            import_chats(fixture_dir(fixture) / "chats.jsonl", app.chats)
            import_notes(fixture_dir(fixture) / "notes", app.notes)
            report = SessionReport()
            started = time.perf_counter()
            if sleep:
                engine = app.start_engine()
                if not engine.wait_ready():
                    raise RuntimeError(engine.load_error
                                       or "The model did not load.")
                report = app.sleep_runner(engine).run_session(budget_seconds)
            yield SleptProfile(app, report, time.perf_counter() - started)
        finally:
            app.close()


def source_ids(db: Database, sources: list[dict[str, str]]) -> list[tuple[str, int]]:
    """The (kind, id) of each fixture source, found by its exact snippet."""
    found: list[tuple[str, int]] = []
    with db.session() as s:
        for src in sources:
            if src["kind"] == "message":
                row = s.exec(select(Message.id).where(
                    col(Message.content).contains(src["contains"]))).first()
            else:
                row = s.exec(select(Note.id).where(
                    col(Note.body).contains(src["contains"]))).first()
            if row is not None:
                found.append((src["kind"], int(row)))
    return found


def is_hit(hits: list[Hit], wanted: list[tuple[str, int]]) -> bool:
    return any(h.cites(kind, item_id) for h in hits for kind, item_id in wanted)


@dataclass
class RecallResult:
    questions: int
    top5_hit_rate: float
    misses: list[dict[str, Any]] = field(default_factory=list)
    sleep_seconds: float = 0.0
    memories: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"questions": self.questions, "top5_hit_rate": round(self.top5_hit_rate, 3),
                "misses": self.misses, "sleep_seconds": round(self.sleep_seconds, 1),
                "memories": self.memories}


def measure_recall(db: Database, questions: list[dict[str, Any]], retriever: Retriever,
                   progress: Callable[[int, int], None] | None = None) -> RecallResult:
    hits = 0
    misses: list[dict[str, Any]] = []
    for i, q in enumerate(questions, 1):
        found = retriever.search(q["question"], TOP_K)
        wanted = source_ids(db, q["sources"])
        if not wanted:
            log.warning("question %s: its source is not in the fixture", q.get("id"))
        if is_hit(found, wanted):
            hits += 1
        else:
            misses.append({"id": q.get("id"), "question": q["question"],
                           "retrieved": [f"{h.kind}:{h.id} {h.text[:60]}" for h in found]})
        if progress is not None:
            progress(i, len(questions))
    return RecallResult(len(questions), hits / len(questions) if questions else 0.0, misses)


def run_recall_bench(settings: Settings, progress: Callable[[int, int], None] | None = None,
                     engine_factory: EngineFactory = default_engine_factory) -> RecallResult:
    from assistant.store.memories import MemoryRepository

    # A question with no answer in the data has no source to find.
    questions = [q for q in load_questions()["questions"] if q.get("answerable", True)]
    with slept_fixture_profile(settings, engine_factory=engine_factory) as slept:
        retriever = Retriever(slept.app.db, slept.app.embedder())
        result = measure_recall(slept.app.db, questions, retriever, progress)
        result.sleep_seconds = slept.sleep_seconds
        result.memories = len(MemoryRepository(slept.app.db).list())
    return result
