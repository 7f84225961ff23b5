"""What one sleep-time work item is allowed to do, and what it hands back.

A `WorkHandler` does its model calls first, outside any database transaction, through
`WorkContext.generate` (BACKGROUND priority, interruptible). It then returns a
`WorkOutcome` whose `apply` the `SleepRunner` runs inside ONE write transaction
together with marking the item done and writing its journal entry. So an item that is
interrupted or fails leaves nothing half-applied: either all of it is in the database
or none of it is.
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlmodel import Session

from assistant.llm.engine import (
    Engine,
    FinishReason,
    GenerationRequest,
    GenerationResult,
    Priority,
    StopCheck,
)
from assistant.store.db import Database
from assistant.store.models import WorkItem

#: How often a queued (not yet running) request re-checks the stop flag.
_QUEUED_POLL_SECONDS = 0.01


class WorkInterrupted(Exception):
    """The item must stop now (the person came back, the budget ended, or foreground work
    preempted it). Not a failure: the item goes back to pending and does not count an attempt.
    """

    def __init__(self, why: str = "interrupted", *, preempted: bool = False) -> None:
        super().__init__(why)
        #: True when the engine aborted it for FOREGROUND work (nobody asked us to stop).
        self.preempted = preempted


@dataclass
class Counters:
    """What sleep-time work changed; the memory issue's handlers fill these in."""

    memories_added: int = 0
    memories_updated: int = 0
    memories_superseded: int = 0
    anticipations_made: int = 0
    anticipations_invalidated: int = 0

    def add(self, other: Counters) -> None:
        self.memories_added += other.memories_added
        self.memories_updated += other.memories_updated
        self.memories_superseded += other.memories_superseded
        self.anticipations_made += other.anticipations_made
        self.anticipations_invalidated += other.anticipations_invalidated


@dataclass
class Usage:
    """Tokens the model evaluated and produced for sleep-time work."""

    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, result: GenerationResult) -> None:
        self.prompt_tokens += result.prompt_tokens
        self.completion_tokens += result.completion_tokens


Apply = Callable[[Session], None]


@dataclass
class WorkOutcome:
    """The result of one item, applied by the runner in the item's single transaction."""

    #: One sentence for the journal ("While you were away"), e.g. 'Titled a chat "..."'.
    summary: str
    #: Writes the results; runs inside the transaction that marks the item done.
    apply: Apply | None = None
    counters: Counters = field(default_factory=Counters)
    details: dict[str, Any] = field(default_factory=dict)
    #: Tokens spent on this item (filled in by the runner from the context).
    usage: Usage = field(default_factory=Usage)


class WorkContext:
    """What a handler gets: the engine (through `generate`), the database and `should_stop`.

    `generate` runs the request at BACKGROUND priority with the runner's stop check,
    counts its tokens, and raises `WorkInterrupted` when the request was stopped, so
    handlers never see a half answer. Reading the database is fine; writing is not (put
    writes in `WorkOutcome.apply`).
    """

    def __init__(self, engine: Engine, db: Database, should_stop: StopCheck) -> None:
        self.engine = engine
        self.db = db
        self.should_stop = should_stop
        self.usage = Usage()

    def generate(self, request: GenerationRequest) -> GenerationResult:
        if self.should_stop():
            raise WorkInterrupted("stop requested before the request started")
        request.priority = Priority.BACKGROUND
        outer = request.should_stop
        request.should_stop = (self.should_stop if outer is None
                               else lambda: self.should_stop() or outer())
        result = self._run(request)
        self.usage.add(result)
        if result.finish_reason is FinishReason.ABORTED:
            raise WorkInterrupted(f"aborted ({result.progress})",
                                  preempted=not self.should_stop())
        if result.finish_reason is FinishReason.CANCELLED or self.should_stop():
            raise WorkInterrupted(f"cancelled ({result.progress})")
        return result

    def _run(self, request: GenerationRequest) -> GenerationResult:
        """Submit and wait. A request still queued (behind FOREGROUND work) is withdrawn
        at once on a stop instead of waiting for its turn; a running one stops itself
        through its ``should_stop``."""
        future: concurrent.futures.Future[GenerationResult] = self.engine.submit(request)
        done = threading.Event()
        future.add_done_callback(lambda _f: done.set())
        while not done.wait(_QUEUED_POLL_SECONDS):
            if self.should_stop() and future.cancel():
                raise WorkInterrupted("stop requested while the request was queued")
        return future.result()


class WorkHandler(Protocol):
    """Does one kind of work item (``kind`` is the work_item.kind it serves)."""

    @property
    def kind(self) -> str: ...

    def describe(self, item: WorkItem, db: Database) -> str:
        """A few words for the journal and status, e.g. 'a title for "my tomato plants"'."""
        ...

    def run(self, item: WorkItem, ctx: WorkContext) -> WorkOutcome:
        """Think about ``item`` and return what to write; raise on failure."""
        ...
