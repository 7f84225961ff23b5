"""``reverie repair``: salvage a damaged database into a new one, keeping the old file.

SQLite cannot fix a damaged page in place, and trying (VACUUM, writing) risks what is
still readable. So repair reads the damaged file read-only, copies every row it can read
into a freshly migrated database (the full-text indexes are rebuilt by their triggers),
then sets the damaged file aside under a new name, untouched, and puts the new database
in its place. Rows behind an unreadable page are skipped and counted, never guessed.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from assistant.store.db import Database, DatabaseError, _read_only_uri

log = logging.getLogger("assistant.store")

#: Tables managed by Alembic or by SQLite itself; FTS tables are rebuilt by triggers.
_SKIP_PREFIXES = ("sqlite_", "alembic_version")
#: After this many unreadable stretches in one table, the rest of it is given up.
_MAX_GAPS = 64


@dataclass
class RepairReport:
    """What repair did: where each file is now, and how many rows each table kept."""

    database: Path
    damaged_copy: Path
    copied: dict[str, int] = field(default_factory=dict)
    unreadable_stretches: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(self.copied.values())

    def sentence(self) -> str:
        gaps = sum(self.unreadable_stretches.values())
        lost = (f"; {gaps} unreadable stretch{'es' if gaps != 1 else ''} of rows could not "
                "be read" if gaps else "")
        return (f"Repaired: copied {self.rows} rows into a new {self.database.name}{lost}. "
                f"The damaged file was kept, unchanged, as {self.damaged_copy}.")


def _tables(con: sqlite3.Connection) -> list[str]:
    rows = con.execute("SELECT name, sql FROM sqlite_master WHERE type='table'").fetchall()
    return [name for name, sql in rows
            if not name.startswith(_SKIP_PREFIXES) and "VIRTUAL TABLE" not in (sql or "").upper()
            and not _is_fts_shadow(name, rows)]


def _is_fts_shadow(name: str, rows: list[tuple[str, str]]) -> bool:
    virtual = [n for n, sql in rows if "VIRTUAL TABLE" in (sql or "").upper()]
    return any(name.startswith(v + "_") for v in virtual)


def _columns(con: sqlite3.Connection, table: str) -> list[str]:
    return [str(r[1]) for r in con.execute(f'PRAGMA table_info("{table}")')]


def _readable_rows(con: sqlite3.Connection, table: str, columns: list[str]
                   ) -> tuple[Iterator[tuple[object, ...]], list[int]]:
    """Rows of ``table`` in rowid order, stepping over stretches that cannot be read;
    the second value counts those stretches once the iterator is exhausted."""
    gaps = [0]
    names = ", ".join(f'"{c}"' for c in columns)

    def rows() -> Iterator[tuple[object, ...]]:
        last, skip = -(2**63), 1
        while gaps[0] < _MAX_GAPS:
            try:
                cursor = con.execute(f'SELECT rowid, {names} FROM "{table}" WHERE rowid > ? '
                                     "ORDER BY rowid", (last,))
                for row in cursor:
                    last, skip = int(row[0]), 1
                    yield tuple(row[1:])
                return
            except sqlite3.DatabaseError as exc:
                gaps[0] += 1
                log.warning("repair: rows of %s after rowid %d unreadable (%s)", table, last,
                            exc)
                if last >= 2**62:
                    return
                last = max(last, 0) + skip
                skip *= 8

    return rows(), gaps


def repair_database(path: Path) -> RepairReport:
    """Salvage ``path`` into a new database at the same path (see module doc)."""
    if not path.is_file():
        raise DatabaseError(f"There is no database at {path} to repair.")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    fresh = path.with_name(f"{path.name}.repairing-{stamp}")
    damaged_copy = path.with_name(f"{path.name}.damaged-{stamp}")
    for stale in (fresh, damaged_copy):
        if stale.exists():
            raise DatabaseError(f"{stale} already exists; wait a second and run "
                                "`reverie repair` again.")
    try:
        source = sqlite3.connect(_read_only_uri(path), uri=True)
        tables = _tables(source)
    except sqlite3.DatabaseError as exc:
        raise DatabaseError(f"{path} cannot be read at all ({exc}); restore a copy from the "
                            "backups folder. The file was not changed.") from exc
    report = RepairReport(path, damaged_copy)
    try:
        Database.open(fresh, path.parent / "backups").close()
        target = sqlite3.connect(fresh)
        try:
            target.execute("PRAGMA foreign_keys=OFF")
            wanted = set(_tables(target))
            for table in tables:
                if table not in wanted:
                    log.warning("repair: table %s is not part of this version; skipped", table)
                    continue
                columns = [c for c in _columns(source, table) if c in _columns(target, table)]
                rows, gaps = _readable_rows(source, table, columns)
                marks = ", ".join("?" for _ in columns)
                names = ", ".join(f'"{c}"' for c in columns)
                cursor = target.executemany(
                    f'INSERT OR IGNORE INTO "{table}" ({names}) VALUES ({marks})', rows)
                report.copied[table] = max(cursor.rowcount, 0)
                cursor.close()  # an open statement would keep the file open after close()
                report.unreadable_stretches[table] = gaps[0]
            target.commit()
            # Everything into the main file: the new database must be whole on its own.
            check = target.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            busy = check.fetchone()
            check.close()
            if busy and busy[0]:
                raise DatabaseError(f"Could not finish writing {fresh}; try again.")
        finally:
            target.close()
        os.chmod(fresh, 0o600)
    except BaseException:
        for leftover in (fresh, fresh.with_name(fresh.name + "-wal"),
                         fresh.with_name(fresh.name + "-shm")):
            leftover.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    for suffix in ("-wal", "-shm"):  # the damaged file's journal stays with it
        journal = path.with_name(path.name + suffix)
        if journal.exists():
            os.replace(journal, damaged_copy.with_name(damaged_copy.name + suffix))
    os.replace(path, damaged_copy)
    os.replace(fresh, path)
    log.info("repaired %s: %s", path, report.sentence())
    return report
