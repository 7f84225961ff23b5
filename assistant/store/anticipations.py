"""Reading prepared answers (anticipations) for the command line and the views."""

from __future__ import annotations

from sqlmodel import col, select

from assistant.store.db import Database
from assistant.store.models import Anticipation, AnticipationStatus

ACTIVE = (AnticipationStatus.READY.value, AnticipationStatus.USED.value)


def list_anticipations(db: Database, *, include_inactive: bool = False) -> list[Anticipation]:
    """Newest first; only servable ones (ready, used) unless ``include_inactive``."""
    with db.session() as s:
        query = select(Anticipation).order_by(col(Anticipation.created_at).desc(),
                                              col(Anticipation.id).desc())
        if not include_inactive:
            query = query.where(col(Anticipation.status).in_(ACTIVE))
        return list(s.exec(query))
