"""Opening the database: pragmas on every connection, backup, migrations, version checks.

Reads use ordinary (deferred) transactions; writes go through :meth:`Database.write`,
which starts with ``BEGIN IMMEDIATE`` so that concurrent writers queue on SQLite's
``busy_timeout`` instead of failing with "database is locked" when a read transaction
tries to upgrade.
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine
from sqlmodel import Session, create_engine

log = logging.getLogger("assistant.store")

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
BUSY_TIMEOUT_MS = 30_000
KEEP_BACKUPS = 5


class DatabaseError(RuntimeError):
    """The database cannot be used; the message is one sentence for the person."""


class SchemaTooNewError(DatabaseError):
    """The file was written by a newer Reverie; it is left untouched."""


class StorageError(DatabaseError):
    """Reading or writing the database failed for a reason outside Reverie (a full disk,
    a damaged page, a lock, a read-only file): a runtime failure, not bad input."""


#: Less free space than this on the database's disk, with an I/O error, means "disk full".
_NEARLY_FULL_BYTES = 1 << 20


def _sqlite_message(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)  # SQLAlchemy wraps the sqlite3 error
    return str(orig if orig is not None else exc).strip().lower()


def is_storage_error(exc: BaseException) -> bool:
    """Whether ``exc`` comes from SQLite or the disk (and :func:`storage_error` applies)."""
    from sqlalchemy.exc import DBAPIError

    return isinstance(exc, sqlite3.Error | DBAPIError | OSError) and not isinstance(
        exc, DatabaseError)


def _free_bytes(folder: Path) -> int | None:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def storage_error(exc: BaseException, path: Path) -> StorageError:
    """One sentence for what went wrong with the database ``path`` and what to do; none
    of the advice can lose data (nothing is deleted or overwritten)."""
    text = _sqlite_message(exc)
    errno_ = getattr(exc, "errno", None)
    if isinstance(exc, OSError) and exc.filename:  # a file other than the database
        where = Path(exc.filename)
        if errno_ in (errno.EACCES, errno.EPERM):
            return StorageError(f"Permission denied for {where} (it or its folder is "
                                "read-only or belongs to another user), so nothing was "
                                "changed; check its permissions and try again.")
        path = where
    folder = path.parent
    free = _free_bytes(folder)
    if ("full" in text or errno_ == errno.ENOSPC
            or ("i/o error" in text and free is not None and free < _NEARLY_FULL_BYTES)):
        return StorageError(f"The disk that holds {folder} is full, so the change was not "
                            "saved (nothing stored was lost); free some space and try again.")
    if "readonly" in text or "read-only" in text or errno_ in (errno.EROFS, errno.EACCES,
                                                                 errno.EPERM):
        return StorageError(f"Reverie may not write to {path} (it or its folder is read-only "
                            "or belongs to another user), so the change was not saved; "
                            "check its permissions and try again.")
    if "locked" in text or "busy" in text:
        return StorageError(f"The database {path} is locked by another program; close it "
                            "(or wait for it to finish) and try again.")
    if "malformed" in text or "not a database" in text or "corrupt" in text:
        return StorageError(f"The database {path} is damaged ({text}); run `reverie repair` "
                            "to copy every readable row into a new database (the damaged "
                            "file is kept beside it).")
    return StorageError(f"Reading or writing the database {path} failed ({text}); check the "
                        "disk and try again; `reverie doctor` checks the database.")


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def known_revisions() -> set[str]:
    return {rev.revision for rev in ScriptDirectory.from_config(_alembic_config()).walk_revisions()}


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def _read_only_uri(path: Path) -> str:
    """A URI that reads ``path`` without changing anything beside it.

    The path is percent-encoded (a folder named ``a#b`` or ``x?y`` must not cut it
    short). Without a ``-wal`` file every committed page is in the main file, so the
    file is opened ``immutable``: a read-only WAL connection would otherwise leave
    ``-wal`` and ``-shm`` files behind, even next to a database it refuses to open.
    """
    uri = f"{path.absolute().as_uri()}?mode=ro"
    if not path.with_name(path.name + "-wal").exists():
        uri += "&immutable=1"
    return uri


def stored_revision(path: Path) -> str | None:
    """The Alembic revision recorded in ``path`` (None for a new or empty database)."""
    if not path.exists() or path.stat().st_size == 0:
        return None
    try:
        con = sqlite3.connect(_read_only_uri(path), uri=True)
    except sqlite3.Error as exc:
        raise storage_error(exc, path) from exc
    try:
        has_table = con.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'"
        ).fetchone()
        if not has_table:
            return None
        row = con.execute("SELECT version_num FROM alembic_version").fetchone()
        return str(row[0]) if row else None
    except sqlite3.DatabaseError as exc:
        if "not a database" in str(exc):
            raise DatabaseError(
                f"{path} is not a Reverie database ({exc}); move it away or restore a copy "
                "from the backups folder."
            ) from exc
        raise storage_error(exc, path) from exc
    finally:
        con.close()


def backup_database(path: Path, backups_dir: Path, keep: int = KEEP_BACKUPS) -> Path:
    """Copy ``path`` consistently (SQLite backup API) and keep only the newest ``keep``."""
    backups_dir.mkdir(parents=True, exist_ok=True)
    target = backups_dir / f"reverie-{time.strftime('%Y%m%d-%H%M%S')}-{time.time_ns() % 10**9}.db"
    src = sqlite3.connect(path)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    target.chmod(0o600)
    old = sorted(backups_dir.glob("reverie-*.db"), key=lambda p: p.stat().st_mtime)
    for stale in old[:-keep]:
        stale.unlink(missing_ok=True)
    log.info("database backed up to %s", target)
    return target


def _on_connect(dbapi_con: sqlite3.Connection, _record: Any) -> None:
    dbapi_con.isolation_level = None  # SQLAlchemy's begin event decides how to BEGIN
    cur = dbapi_con.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA secure_delete=ON")  # deleted text is zeroed, not left in free pages
    cur.close()


def _on_begin(conn: Any) -> None:
    immediate = conn.get_execution_options().get("immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _on_connect_read_only(dbapi_con: sqlite3.Connection, _record: Any) -> None:
    dbapi_con.isolation_level = None
    dbapi_con.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def make_engine(path: Path, *, read_only: bool = False) -> Engine:
    """An engine on ``path``; ``read_only`` opens it with SQLite's ``mode=ro`` so that
    nothing (not even a journal) is written, and every write fails cleanly."""
    if read_only:
        uri = _read_only_uri(path)
        engine = create_engine(
            "sqlite://",
            creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False,
                                            timeout=BUSY_TIMEOUT_MS / 1000))
        event.listen(engine, "connect", _on_connect_read_only)
        event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
        return engine
    # A URL object, not "sqlite:///{path}": a folder name with ? or % must stay literal.
    engine = create_engine(
        URL.create("sqlite", database=str(path)),
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
    )
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    return engine


def is_writable(path: Path) -> bool:
    """Whether Reverie may change the database ``path``: the file (if it exists) and its
    folder (SQLite writes its journal beside it) must both be writable."""
    folder_ok = os.access(path.parent if path.parent.exists() else path.parent.parent, os.W_OK)
    return folder_ok and (not path.exists() or os.access(path, os.W_OK))


class Database:
    """One SQLite database file, migrated to the current schema and ready to use."""

    def __init__(self, path: Path, engine: Engine, *, read_only: bool = False) -> None:
        self.path = path
        self.engine = engine
        #: Opened with ``mode=ro``: lookups work, every write fails (StorageError).
        self.read_only = read_only
        self._write_engine = engine.execution_options(immediate=True)

    @classmethod
    def open(cls, path: Path, backups_dir: Path, *, read_only: bool | None = None
             ) -> Database:
        """Refuse a newer schema (file untouched), back up, then migrate to head.

        A database (or folder) Reverie may not write is opened read-only, never made
        writable; ``read_only`` forces the choice. One that is read-only and needs a
        migration is refused in one sentence."""
        current = stored_revision(path)
        if current is not None and current not in known_revisions():
            raise SchemaTooNewError(
                f"The database {path} was written by a newer version of Reverie "
                f"(schema {current}); update Reverie to open it. The file was not changed."
            )
        head = head_revision()
        if read_only is None:
            read_only = path.exists() and not is_writable(path)
        if read_only:
            if current != head:
                raise StorageError(
                    f"The database {path} is read-only and was made by an older Reverie, "
                    "which must update it before use; make it (and its folder) writable, "
                    "or open it with the version that made it. The file was not changed.")
            log.info("database %s is read-only; opening it read-only", path)
            return cls(path, make_engine(path, read_only=True), read_only=True)
        if current is not None and current != head:
            backup_database(path, backups_dir)
        created = not path.exists()
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = make_engine(path)
        if current != head:
            cfg = _alembic_config()
            with engine.begin() as connection:
                cfg.attributes["connection"] = connection
                command.upgrade(cfg, "head")
            log.info("database migrated from %s to %s", current, head)
        if created and path.exists():
            path.chmod(0o600)  # only a file Reverie made; the person's modes are theirs
        return cls(path, engine)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for reading (or small writes that cannot race); commits on success."""
        with Session(self.engine, expire_on_commit=False) as session:
            yield session
            session.commit()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction that takes the write lock up front; all or nothing."""
        with Session(self._write_engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def integrity_check(self) -> str:
        with self.engine.connect() as con:
            return str(con.exec_driver_sql("PRAGMA integrity_check").scalar())

    def close(self) -> None:
        self.engine.dispose()
