"""Nightly maintenance: a rotated backup, FTS5 index optimisation, expiry of anticipations.

Anticipations are derived data: once past ``expires_at`` a ready one becomes ``stale``
(it is never served), and stale or dismissed ones are deleted `DROP_AFTER` after they
expired. Used ones are kept: the planner learns from which kinds were used.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text

from assistant.mind.journal import MAINTENANCE, add_entry
from assistant.store.db import Database, backup_database
from assistant.store.fts import FTS_TABLES, fts_name
from assistant.store.models import AnticipationStatus, utcnow

log = logging.getLogger("assistant.mind")

DROP_AFTER = timedelta(days=30)


@dataclass
class MaintenanceReport:
    backup: str
    fts_optimized: list[str]
    anticipations_expired: int
    anticipations_deleted: int


def _naive_utc(when: datetime) -> datetime:
    return when.astimezone(UTC).replace(tzinfo=None)


def expire_anticipations(db: Database, now: datetime | None = None) -> tuple[int, int]:
    """Ready -> stale past ``expires_at``; delete stale/dismissed long expired. One transaction."""
    now = now or utcnow()
    with db.write() as s:
        con = s.connection()
        expired = con.execute(
            text("UPDATE anticipation SET status = :stale WHERE status = :ready "
                 "AND expires_at IS NOT NULL AND expires_at <= :now"),
            {"stale": AnticipationStatus.STALE.value, "ready": AnticipationStatus.READY.value,
             "now": _naive_utc(now)}).rowcount
        deleted = con.execute(
            text("DELETE FROM anticipation WHERE status IN (:stale, :dismissed) "
                 "AND expires_at IS NOT NULL AND expires_at <= :cutoff"),
            {"stale": AnticipationStatus.STALE.value,
             "dismissed": AnticipationStatus.DISMISSED.value,
             "cutoff": _naive_utc(now - DROP_AFTER)}).rowcount
    return int(expired or 0), int(deleted or 0)


def optimize_fts(db: Database) -> list[str]:
    """Merge each FTS5 index's segments (faster searches, smaller file)."""
    done = []
    for table in FTS_TABLES:
        fts = fts_name(table)
        with db.write() as s:
            s.connection().exec_driver_sql(f"INSERT INTO {fts}({fts}) VALUES ('optimize')")
        done.append(fts)
    return done


def run_maintenance(db: Database, backups_dir: Path, now: datetime | None = None,
                    ) -> MaintenanceReport:
    """The nightly job; the journal records what it did."""
    backup = backup_database(db.path, backups_dir)
    optimized = optimize_fts(db)
    expired, deleted = expire_anticipations(db, now)
    report = MaintenanceReport(str(backup), optimized, expired, deleted)
    with db.write() as s:
        add_entry(s, None, MAINTENANCE,
                  f"Nightly care: backed up the database, tidied the search indexes, "
                  f"retired {expired} expired prepared answers.", asdict(report))
    log.info("maintenance: %s", report)
    return report
