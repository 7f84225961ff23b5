"""``reverie doctor`` reads everything through the open profile's services."""

from __future__ import annotations

from assistant.app import Reverie
from assistant.doctor import run_checks


def test_doctor_without_the_model_reports_the_database_and_loads_no_model(
        app: Reverie) -> None:
    conv = app.chats.create_conversation("Plans")
    app.chats.add_message(conv.id or 0, "user", "Dinner with Ana on Friday.")
    app.notes.add("Shopping", "Milk, bread.")
    report = run_checks(app, load_model=False)
    assert report["ok"] is True
    assert report["database"]["integrity"] == "ok"
    assert (report["database"]["conversations"], report["database"]["messages"],
            report["database"]["notes"]) == (1, 1, 1)
    assert report["model"] == {"checked": False} and app.engine is None
    assert report["idle"]["agenda"] == app.agenda.counts()
