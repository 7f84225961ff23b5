"""The Planner decides what sleep time thinks about, and in which order.

`DefaultPlanner` asks each registered source for proposals, adds the new ones to the
persisted agenda (idempotently, in a fixed number of statements: see
`assistant.mind.agenda.enqueue_proposals`) and hands out pending items by priority. The
sources do the ranking; the digesting work is ranked newest first by
`assistant.mind.backlog`. Planning a year of chats (100,000 messages) takes a few
indexed queries, not one per conversation.

It also says how much is left (`backlog`) and which items a session of a given length
would get through at this machine's speed (`schedule`).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Protocol

from sqlmodel import col, select

from assistant.mind.agenda import Agenda, Proposal
from assistant.mind.backlog import (
    DEFAULT_TOKENS_PER_S,
    BacklogFigures,
    backlog_figures,
    estimate_item_tokens,
    measured_speed,
)
from assistant.store.db import Database
from assistant.store.models import WorkItem, WorkState

#: Looks at the data and proposes work (read-only; the planner does the writing).
ProposalSource = Callable[[Database], Iterable[Proposal]]


class Planner(Protocol):
    """Keeps the agenda filled and chooses the next item."""

    def plan(self) -> int:
        """Add the work worth doing now to the agenda; returns how many items are new.

        Idempotent: planning twice never duplicates a pending item.
        """
        ...

    def next_item(self, kinds: Collection[str], skip: Collection[int] = ()) -> WorkItem | None:
        """The pending item to do next among ``kinds``, leaving out the ids in ``skip``."""
        ...

    def backlog(self) -> BacklogFigures:
        """What is left to digest and how long it takes at this machine's speed."""
        ...


class DefaultPlanner:
    """Proposals from ``sources``; the highest priority, then the oldest, goes first."""

    def __init__(self, db: Database, sources: Sequence[ProposalSource]) -> None:
        self._db = db
        self._agenda = Agenda(db)
        self._sources = list(sources)

    def plan(self) -> int:
        proposals = [p for source in self._sources for p in source(self._db)]
        return self._agenda.enqueue_all(proposals) if proposals else 0

    def next_item(self, kinds: Collection[str], skip: Collection[int] = ()) -> WorkItem | None:
        return self._agenda.next_pending(kinds, skip)

    def backlog(self) -> BacklogFigures:
        return backlog_figures(self._db)

    def pending(self, kinds: Collection[str] | None = None) -> list[WorkItem]:
        """The pending items in the order `next_item` hands them out."""
        with self._db.session() as s:
            query = (select(WorkItem).where(WorkItem.state == WorkState.PENDING)
                     .order_by(col(WorkItem.priority).desc(), col(WorkItem.id)))
            if kinds is not None:
                query = query.where(col(WorkItem.kind).in_(kinds))
            return list(s.exec(query))

    def schedule(self, budget_seconds: float, tokens_per_s: float | None = None,
                 kinds: Collection[str] | None = None) -> list[WorkItem]:
        """The pending items a session of ``budget_seconds`` would finish, in order: each
        item's expected tokens (`assistant.mind.backlog.estimate_item_tokens`) at
        ``tokens_per_s`` (default: this machine's measured speed)."""
        speed = tokens_per_s or measured_speed(self._db) or DEFAULT_TOKENS_PER_S
        items = self.pending(kinds)
        spent = 0.0
        done: list[WorkItem] = []
        for item, tokens in zip(items, estimate_item_tokens(self._db, items), strict=True):
            spent += tokens / speed
            if spent > budget_seconds:
                break
            done.append(item)
        return done
