"""The fast prepared-answer path (assistant.recall.quick): plain sqlite3, and rows that
read back through the ORM exactly as the responder's own."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from assistant.app import Reverie
from assistant.llm.fake import FakeEngine
from assistant.recall import responder as responder_module
from assistant.recall.prepared import PreparedAnswers
from assistant.recall.quick import (
    COMMAND_LINE_KEY,
    find_prepared,
    open_ready,
    serve_exact,
)
from assistant.recall.responder import Responder, command_line_key
from assistant.store.db import head_revision
from assistant.store.models import Anticipation, Conversation, Message, utcnow
from assistant.store.revision import expected_revision

QUESTION = "When is my dentist appointment?"
ANSWER = "Tuesday at 10:30, with Dr. Okafor."


def prepare(data_dir: Path, **fields: object) -> int:
    app = Reverie.open(data_dir)
    try:
        row = app.anticipations.add(Anticipation(
            kind="event", question=QUESTION, answer=ANSWER, predictability=0.9,
            sources={"messages": [], "notes": [], "memories": []}, **fields))
        return row.id or 0
    finally:
        app.close()


def snapshot(data_dir: Path) -> tuple[Conversation, list[Message], Anticipation]:
    app = Reverie.open(data_dir)
    try:
        conv = app.chats.list_conversations(include_archived=True)[0]
        messages = app.chats.messages(conv.id or 0)
        ant = app.anticipations.all(statuses=("ready", "used", "stale", "dismissed"))[0]
        return conv, messages, ant
    finally:
        app.close()


def test_rows_written_by_the_fast_path_read_back_like_the_responders(tmp_path: Path
                                                                     ) -> None:
    orm_dir, fast_dir = tmp_path / "orm", tmp_path / "fast"
    prepare(orm_dir)
    shutil.copytree(orm_dir, fast_dir)

    app = Reverie.open(orm_dir)
    try:  # the normal path: the responder serves the prepared answer through the ORM
        conv = app.chats.create_conversation(f"Asked: {QUESTION}",
                                             import_key=command_line_key())
        engine = FakeEngine()
        answer = Responder(engine, app.chats, app.settings.model,
                           prepared=PreparedAnswers(app.db)).ask(QUESTION, conv.id or 0)
        assert answer.source == "anticipated"
    finally:
        app.close()
    served = serve_exact(fast_dir / "reverie.db", QUESTION)
    assert served is not None and served.hit.answer == ANSWER

    (c1, m1, a1), (c2, m2, a2) = snapshot(orm_dir), snapshot(fast_dir)
    assert served.conversation_id == c2.id and served.message_ids == [m.id for m in m2]
    for a, b in ((c1, c2), *zip(m1, m2, strict=True), (a1, a2)):
        one, two = a.model_dump(), b.model_dump()
        assert one.keys() == two.keys()
        for key in one:
            if key == "import_key":
                assert str(two[key]).startswith(COMMAND_LINE_KEY + ":")
                assert len(two[key]) == len(one[key])
            elif key.endswith("_at") and one[key] is not None:
                assert type(one[key]) is type(two[key])
                assert two[key].tzinfo == one[key].tzinfo
                assert abs(two[key] - one[key]) < timedelta(minutes=5), key
            else:
                assert one[key] == two[key], key
    assert [m.origin for m in m2] == ["typed", "anticipated"]
    assert (a2.hits, a2.status) == (1, "used")
    assert c2.updated_at >= m2[-1].created_at


def test_the_command_line_key_is_the_responders() -> None:
    assert COMMAND_LINE_KEY == responder_module.COMMAND_LINE_KEY


def test_the_expected_revision_is_alembics_head() -> None:
    assert expected_revision() == head_revision()


@pytest.mark.parametrize("asked", [QUESTION, "  When is my dentist   appointment ", QUESTION
                                   + "??", "when is my dentist appointment?",
                                   "\u201cWhen is my DENTIST appointment?\u201d"])
def test_asked_as_prepared_up_to_case_spaces_and_marks(tmp_path: Path, asked: str
                                                              ) -> None:
    prepare(tmp_path)
    assert serve_exact(tmp_path / "reverie.db", asked) is not None


@pytest.mark.parametrize("asked", ["When is my dentist appointment tomorrow?",
                                   "When is the dentist appointment?"])
def test_anything_else_is_left_to_the_normal_path(tmp_path: Path, asked: str) -> None:
    prepare(tmp_path)
    assert serve_exact(tmp_path / "reverie.db", asked) is None
    app = Reverie.open(tmp_path)
    try:
        assert app.chats.list_conversations() == []  # nothing was recorded
    finally:
        app.close()


@pytest.mark.parametrize("fields", [{"status": "stale"}, {"status": "dismissed"},
                                    {"expires_at": utcnow() - timedelta(hours=1)}])
def test_stale_dismissed_or_expired_answers_are_not_served(tmp_path: Path,
                                                           fields: dict[str, object]) -> None:
    prepare(tmp_path, **fields)
    con = open_ready(tmp_path / "reverie.db")
    assert con is not None
    try:
        assert find_prepared(con, QUESTION) is None
    finally:
        con.close()


def test_an_unexpired_answer_is_served(tmp_path: Path) -> None:
    prepare(tmp_path, expires_at=utcnow() + timedelta(hours=1))
    assert serve_exact(tmp_path / "reverie.db", QUESTION) is not None


def test_continue_reuses_the_last_command_line_conversation(tmp_path: Path) -> None:
    prepare(tmp_path)
    first = serve_exact(tmp_path / "reverie.db", QUESTION, continue_last=True)
    assert first is not None and first.started_new
    second = serve_exact(tmp_path / "reverie.db", QUESTION, continue_last=True)
    third = serve_exact(tmp_path / "reverie.db", QUESTION)
    assert second is not None and third is not None and not second.started_new
    assert second.conversation_id == first.conversation_id != third.conversation_id


def test_a_database_that_needs_migrating_or_is_missing_takes_the_normal_path(
        tmp_path: Path) -> None:
    import sqlite3

    assert open_ready(tmp_path / "reverie.db") is None
    prepare(tmp_path)
    con = sqlite3.connect(tmp_path / "reverie.db")
    con.execute("UPDATE alembic_version SET version_num = '0001'")
    con.commit()
    con.close()
    assert open_ready(tmp_path / "reverie.db") is None
