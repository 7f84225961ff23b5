"""The Planner decides what sleep time thinks about, and in which order.

`DefaultPlanner` is deliberately simple until the memory work fills it in: it asks
each registered source for proposals, adds the new ones to the persisted agenda
(idempotently) and hands out pending items by priority.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Protocol

from assistant.mind.agenda import Agenda, Proposal
from assistant.store.db import Database
from assistant.store.models import WorkItem

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
