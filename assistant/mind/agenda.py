"""The persisted sleep-time agenda (the ``work_item`` table) and its state changes.

States: pending -> running -> done | failed, and running -> pending when an item is
interrupted. ``attempts`` is counted when an item starts, so an item that makes the
process crash every time still reaches the limit; an interruption (the person came
back) hands the attempt back. After `MAX_ATTEMPTS` failed attempts an item is
``failed`` for good: the agenda never hands it out again.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from sqlalchemy import bindparam, func, insert, text, update
from sqlmodel import Session, col, select

from assistant.store.db import Database
from assistant.store.models import WorkItem, WorkState, utcnow

log = logging.getLogger("assistant.mind")

MAX_ATTEMPTS = 3
#: Longest error text kept on an item.
MAX_ERROR_CHARS = 500


@dataclass(frozen=True)
class Proposal:
    """Work the planner thinks is worth doing: ``kind`` on ``target``, higher priority first.

    ``once``: never enqueue the same (kind, target) again after it was done or failed
    (for work whose result does not go stale, like a conversation title).
    """

    kind: str
    target: str
    priority: float = 0.0
    once: bool = False


_OPEN_SQL = text("SELECT id, kind, target, state, priority FROM work_item "
                 "WHERE state IN ('pending', 'running', 'failed')")
#: One look-up in ix_work_item_kind_target per proposed (kind, target).
_DONE_SQL = text("SELECT w.kind, w.target FROM json_each(:pairs) j CROSS JOIN work_item w "
                 "ON w.kind = json_extract(j.value, '$[0]') "
                 "AND w.target = json_extract(j.value, '$[1]') WHERE w.state = 'done'")
#: A pending item's priority is refreshed when a new proposal differs by more than this.
_PRIORITY_EPSILON = 1e-6


def enqueue_proposals(session: Session, proposals: Iterable[Proposal]) -> int:
    """Add the proposals that are new, in a fixed number of statements whatever their
    count; returns how many were added.

    A proposal is skipped when the same (kind, target) is pending, running or failed (or,
    with ``once``, exists at all): a failed item stays the last word until
    `Agenda.retry_failed`, so failing work never loops. A pending item takes the priority
    of the newest proposal for it, so the order follows the data (an item planned a month
    ago does not outrank today's). Call inside a write transaction, which serialises
    writers, so two planners cannot both add one."""
    wanted: dict[tuple[str, str], Proposal] = {}
    for proposal in proposals:
        wanted.setdefault((proposal.kind, proposal.target), proposal)
    if not wanted:
        return 0
    con = session.connection()
    repriced = []
    for item_id, kind, target, state, priority in con.execute(_OPEN_SQL):
        key = (str(kind), str(target))
        fresh = wanted.pop(key) if key in wanted else None
        if (fresh is not None and state == WorkState.PENDING.value
                and abs(float(priority) - fresh.priority) > _PRIORITY_EPSILON):
            repriced.append({"item_id": item_id, "new_priority": fresh.priority})
    once = [key for key, proposal in wanted.items() if proposal.once]
    if once:
        for kind, target in con.execute(_DONE_SQL, {"pairs": json.dumps(once)}):
            wanted.pop((str(kind), str(target)), None)
    now = utcnow()
    if repriced:
        con.execute(update(WorkItem).where(col(WorkItem.id) == bindparam("item_id"))
                    .values(priority=bindparam("new_priority"), updated_at=now), repriced)
    if wanted:
        con.execute(insert(WorkItem), [
            {"kind": p.kind, "target": p.target, "priority": p.priority,
             "state": WorkState.PENDING.value, "attempts": 0, "created_at": now,
             "updated_at": now} for p in wanted.values()])
    return len(wanted)


class Agenda:
    """Reads and changes work items; every change is its own short transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def enqueue_all(self, proposals: Iterable[Proposal]) -> int:
        """Enqueue several proposals in one transaction; returns how many were new."""
        with self._db.write() as s:
            return enqueue_proposals(s, proposals)

    def get(self, item_id: int) -> WorkItem | None:
        with self._db.session() as s:
            return s.get(WorkItem, item_id)

    def next_pending(self, kinds: Collection[str], skip: Collection[int] = ()) -> WorkItem | None:
        """The pending item of one of ``kinds`` with the highest priority (oldest first)."""
        if not kinds:
            return None
        with self._db.session() as s:
            query = (select(WorkItem)
                     .where(WorkItem.state == WorkState.PENDING, col(WorkItem.kind).in_(kinds))
                     .order_by(col(WorkItem.priority).desc(), col(WorkItem.id)))
            if skip:
                query = query.where(col(WorkItem.id).not_in(skip))
            return s.exec(query.limit(1)).first()

    def claim(self, item_id: int) -> WorkItem | None:
        """pending -> running and count the attempt; None if it is no longer pending."""
        with self._db.write() as s:
            item = s.get(WorkItem, item_id)
            if item is None or item.state != WorkState.PENDING:
                return None
            item.state = WorkState.RUNNING
            item.attempts += 1
            item.updated_at = utcnow()
            s.add(item)
            s.flush()
            s.refresh(item)
            return item

    def release(self, item_id: int) -> None:
        """running -> pending after an interruption; the attempt is given back."""
        with self._db.write() as s:
            item = s.get(WorkItem, item_id)
            if item is None or item.state != WorkState.RUNNING:
                return
            item.state = WorkState.PENDING
            item.attempts = max(0, item.attempts - 1)
            item.updated_at = utcnow()
            s.add(item)

    def record_failure(self, item_id: int, error: str) -> WorkItem | None:
        """running -> pending, or -> failed once it has used up its attempts."""
        with self._db.write() as s:
            item = s.get(WorkItem, item_id)
            if item is None:
                return None
            item.last_error = error[:MAX_ERROR_CHARS]
            item.state = (WorkState.FAILED if item.attempts >= MAX_ATTEMPTS
                          else WorkState.PENDING)
            item.updated_at = utcnow()
            s.add(item)
            s.flush()
            s.refresh(item)
            return item

    def recover_interrupted(self) -> list[WorkItem]:
        """Items left ``running`` by a process that died: back to pending, or failed if that
        was their last attempt. Returns the items changed."""
        changed = []
        with self._db.write() as s:
            for item in s.exec(select(WorkItem).where(WorkItem.state == WorkState.RUNNING)):
                if item.attempts >= MAX_ATTEMPTS:
                    item.state = WorkState.FAILED
                    item.last_error = (f"Reverie stopped unexpectedly {item.attempts} times "
                                       "while working on this.")
                else:
                    item.state = WorkState.PENDING
                item.updated_at = utcnow()
                s.add(item)
                changed.append(item)
        for item in changed:
            log.warning("work item %s (%s %s) was left running by a crash; now %s",
                        item.id, item.kind, item.target, item.state)
        return changed

    def retry_failed(self, kind: str | None = None) -> int:
        """Give failed items (of ``kind``, or all) a fresh start, e.g. after a model change."""
        with self._db.write() as s:
            query = select(WorkItem).where(WorkItem.state == WorkState.FAILED)
            if kind is not None:
                query = query.where(WorkItem.kind == kind)
            failed = list(s.exec(query))
            for item in failed:
                item.state = WorkState.PENDING
                item.attempts = 0
                item.updated_at = utcnow()
                s.add(item)
            return len(failed)

    def counts(self) -> dict[str, int]:
        """How many items are in each state."""
        with self._db.session() as s:
            rows = s.exec(select(WorkItem.state, func.count()).group_by(WorkItem.state))
            return {str(state): int(n) for state, n in rows}
