"""Nightly maintenance: a rotated backup, FTS5 index optimisation, expiry of anticipations.

Backups are copies of what the person wrote, so forgetting reaches them too:
:func:`purge_backups` deletes the forgotten rows (and what was derived from them) from
every backup that holds them, or deletes a backup that cannot be cleaned.

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
from sqlalchemy.exc import SQLAlchemyError

from assistant.mind.journal import MAINTENANCE, add_entry
from assistant.store.db import Database, backup_database, make_engine
from assistant.store.fts import FTS_TABLES, fts_name
from assistant.store.models import AnticipationStatus, utcnow
from assistant.store.purge import Forgotten, checkpoint, purge, stamps

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


def purge_backups(backups_dir: Path, gone: Forgotten) -> list[Path]:
    """Remove ``gone``'s rows, and everything derived from them, from every backup that
    holds them (matched by id and creation time); a backup that cannot be cleaned is
    deleted. Returns the backups changed or deleted."""
    touched: list[Path] = []
    if not gone.roots or not backups_dir.is_dir():
        return touched
    for backup in sorted(backups_dir.glob("*.db")):
        try:
            if _purge_backup(backup, gone):
                touched.append(backup)
        except (SQLAlchemyError, OSError, ValueError) as exc:
            log.warning("backup %s could not be cleaned (%s); deleting it", backup.name,
                        type(exc).__name__)
            for path in (backup, *(backup.with_name(backup.name + x) for x in ("-wal", "-shm"))):
                path.unlink(missing_ok=True)
            touched.append(backup)
    return touched


def _purge_backup(path: Path, gone: Forgotten) -> bool:
    engine = make_engine(path)
    try:
        with engine.begin() as con:
            found = {table: [i for i, when in stamps(con, table, rows).items()
                             if rows.get(i) == when] for table, rows in gone.roots.items()}
            if not any(found.values()):
                return False
            purge(con, conversations=found.get("conversation", ()),
                  messages=found.get("message", ()), notes=found.get("note", ()),
                  memories=found.get("memory", ()))
        checkpoint(engine, vacuum=True)
    finally:
        engine.dispose()
    log.info("removed forgotten text from backup %s", path.name)
    return True
