"""Nightly maintenance: backup rotation, FTS optimize, expiry of anticipations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import select

from assistant.mind.journal import MAINTENANCE, Journal
from assistant.mind.maintenance import run_maintenance
from assistant.store.db import Database
from assistant.store.models import Anticipation


def test_maintenance_backs_up_optimizes_and_expires(db: Database, tmp_path: Path) -> None:
    now = datetime.now(UTC)
    with db.write() as s:
        s.add(Anticipation(question="fresh", status="ready", expires_at=now + timedelta(days=1)))
        s.add(Anticipation(question="expired", status="ready", expires_at=now - timedelta(hours=1)))
        s.add(Anticipation(question="long stale", status="stale",
                           expires_at=now - timedelta(days=60)))
        s.add(Anticipation(question="long used", status="used",
                           expires_at=now - timedelta(days=60)))
    backups = tmp_path / "nightly"
    for _ in range(7):
        report = run_maintenance(db, backups, now)
    assert len(list(backups.glob("reverie-*.db"))) == 5  # rotated
    assert Path(report.backup).exists()
    assert report.fts_optimized == ["message_fts", "note_fts", "memory_fts", "anticipation_fts"]
    with db.session() as s:
        left = {a.question: a.status for a in s.exec(select(Anticipation))}
    assert left == {"fresh": "ready", "expired": "stale", "long used": "used"}
    assert Journal(db).entries()[0].kind == MAINTENANCE
    assert db.integrity_check() == "ok"
