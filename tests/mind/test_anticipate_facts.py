"""Questions from stored facts: by rules, answered with the fact's value, newest wins."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from assistant.app import Reverie
from assistant.bench.prepared import prepared_coverage
from assistant.llm.fake import FakeEngine
from assistant.mind.anticipate import is_grounded, is_specific
from assistant.mind.fact_questions import acceptable, known_names, questions_for_fact
from assistant.mind.reconcile import new_memory
from assistant.recall.prepared import PreparedAnswers
from assistant.store.models import Anticipation, Memory, MemoryKind, MemoryScope

TODAY = date(2026, 11, 22)
NAMES = frozenset({"Alan", "Biscuit", "Keiko", "Roisin", "Hana"})


def asked(text: str, names: frozenset[str] = NAMES) -> dict[str, str]:
    return {q.question: q.answer for q in questions_for_fact(text, "", TODAY, names)}


@pytest.mark.parametrize(("fact", "question", "answer"), [
    ("Alan downstairs walks Biscuit on Wednesdays.",
     "When does Alan downstairs walk Biscuit?", "Wednesdays"),
    ("Alan downstairs walks Biscuit on Wednesdays.", "Who downstairs walks Biscuit?", "Alan"),
    ("Huw's knee operation is on 22 December 2026.", "When is Huw's knee operation?",
     "22 December 2026"),
    # A label over sentences of its own, and the second sentence of a fact.
    ("Christmas change: Gwen and Huw can't come on Christmas Day after all, Huw's knee "
     "operation is on 22 December 2026. We'll drive to Cardiff on the 27th.",
     "When is Huw's knee operation?", "22 December 2026"),
    ("Gwen and Huw can't come on Christmas Day. Huw's knee operation is on 22 December "
     "2026.", "When is Huw's knee operation?", "22 December 2026"),
    # A modal verb leads the question.
    ("We'll drive to Cardiff on the 27th instead of Boxing Day.",
     "When will we drive to Cardiff instead of Boxing Day?", "the 27th"),
    ("Owen will be head of science from January.", "When will Owen be head of science?",
     "January"),
    ("Graham's leaving drinks are on 30 July 2026 but we'll be away.",
     "When are Graham's leaving drinks?", "30 July 2026"),
    # What a verb is done to, asked back.
    ("Owen takes cetirizine, 10 mg, one in the morning.", "What does Owen take?",
     "cetirizine"),
    ("You take cetirizine for hay fever.", "What do I take for hay fever?", "cetirizine"),
    ("Keiko wants a proper cycling helmet for Christmas.",
     "What does Keiko want for Christmas?", "a proper cycling helmet"),
    ("Keiko and Roisin arrive on 23 December 2026 and stay with us.",
     "When do Keiko and Roisin arrive and stay with us?", "23 December 2026"),
    ("Your rent is £1,225 a month.", "How much is my rent?", "£1,225 a month"),
    ("Hana charges £25 a day to look after Biscuit.",
     "How much does Hana charge to look after Biscuit?", "£25 a day"),
    ("The plumber is Luc Blanc.", "Who is the plumber?", "Luc Blanc"),
    ("You booked the dentist for 2 December 2026 at 10:30 with Dr. Okafor.",
     "Who did I book the dentist with?", "Dr. Okafor"),
    ("Your train home is the 18:25 from Bath Spa.", "When is my train home from Bath Spa?",
     "18:25"),
    ("Manager: Folasade Adeyemi, head of research.", "Who is my manager?",
     "Folasade Adeyemi, head of research"),
    ("Bring: three months of payslips, the last two bank statements.",
     "What do I need to bring?", "three months of payslips, the last two bank statements"),
    ("Cerys's wedding is confirmed: 15 August 2026 in Tenby, at St Mary's church.",
     "When is Cerys's wedding?", "15 August 2026"),
    ("We ate at Ox and Finch twice.", "Where did we eat twice?", "Ox and Finch"),
    ("Saved so far: £24,000.", "How much have I saved so far?", "£24,000"),
    ("You booked the dentist: Tuesday 24 November 2026 at 10:30.", "When is my dentist?",
     "Tuesday 24 November 2026 at 10:30"),
    ("Our cat Pixel has her vaccination on Friday 27 November 2026 at 9:00.",
     "When does our cat Pixel have her vaccination?", "Friday 27 November 2026 at 9:00"),
    ("To do: buy a travel adapter, download offline maps.", "What do I need to do?",
     "buy a travel adapter, download offline maps"),
    ("You started a pottery class at the Kiln Rooms: Tuesdays 18:30 to 20:30.",
     "When is my pottery class?", "Tuesdays 18:30 to 20:30"),
    ("The rent of 950 euros goes to Mr. Duval on the first of every month.",
     "Who does the rent go on the first of every month to?", "Mr. Duval"),
])
def test_a_fact_answers_the_questions_made_of_it_with_its_value(
        fact: str, question: str, answer: str) -> None:
    made = asked(fact)
    assert made.get(question) == answer, made


def test_a_date_to_come_is_not_the_date_of_the_booking() -> None:
    made = asked("You booked the dentist for 2 December 2026 at 10:30.")
    assert not any(q.startswith("When did") for q in made)
    assert made["When is the dentist?"] == "2 December 2026 at 10:30"
    gone_by = asked("Tobias started on 9 November 2026.", NAMES | {"Tobias"})
    assert gone_by["When did Tobias start?"] == "9 November 2026"


@pytest.mark.parametrize("fact", [
    "She is cycling again already, which scares you.",  # whom? no question can say
    "Her first day at the archive is 14 September 2026.",
    "Ingrid: a ceramic teapot.",  # a name as a label: not "What is my ingrid?"
    "It's about three hours.",
    "You take it for hay fever.",  # what "it" is, the fact does not say
    "You signed up for the Lyon half marathon.",  # "Lyon" names the race, not a place
])
def test_facts_that_give_no_sensible_question_give_none(fact: str) -> None:
    assert asked(fact) == {}


def test_questions_are_bounded_ranked_and_whole() -> None:
    made = questions_for_fact("Keiko and Roisin arrive on 23 December 2026 and stay with us.",
                              "", TODAY, NAMES)
    assert 1 <= len(made) <= 4
    assert made[0].kind == "time"  # a date to come is the most predictable
    assert [q.predictability for q in made] == sorted((q.predictability for q in made),
                                                      reverse=True)
    assert all(acceptable(q.question) for q in made)
    assert not acceptable("When is my train home the from Bath Spa?")
    assert not acceptable("When is the visit (Monday)?")
    assert not acceptable("Who is she?")


def test_names_are_the_capitalised_words_met_inside_sentences() -> None:
    names = known_names(["The neighbour downstairs, Alan, walks him.", "Pottery finishes."])
    assert "Alan" in names and "Pottery" not in names


def test_the_models_vague_or_ungrounded_questions_and_answers_are_dropped() -> None:
    context = "Lisbon trip. Hotel: Casa do Barão, check-in on the 12th."
    assert is_specific("Which hotel are we staying at in Lisbon?", context)
    assert not is_specific("What is the result?", context)
    assert not is_specific("When is Owen's flight to Lisbon?", context)  # not in the text
    assert is_grounded("Casa do Barão.", context)
    assert not is_grounded("The Ritz in Porto.", context)


def _fact(app: Reverie, text: str, said_at: datetime) -> Memory:
    with app.db.write() as s:
        memory = new_memory(MemoryKind.FACT, MemoryScope.GLOBAL, "", text, {},
                            said_at=said_at)
        s.add(memory)
        s.flush()
        s.refresh(memory)
        s.expunge(memory)
    return memory


def test_a_session_prepares_a_facts_questions_without_the_model(app: Reverie) -> None:
    _fact(app, "Your pottery class is on Tuesdays at 18:30.",
          datetime.now(UTC) - timedelta(days=2))
    engine = FakeEngine()
    report = app.sleep_runner(engine).run_session()
    assert report.error is None and report.counters.anticipations_made >= 1
    assert engine.prompts == []  # no model call for a fact's own questions
    found = PreparedAnswers(app.db).lookup("When is my pottery class?")
    assert found is not None and found.answer == "Tuesdays at 18:30"
    assert found.sources["memories"]


def test_the_newer_fact_answers_a_question_two_facts_ask(app: Reverie) -> None:
    now = datetime.now(UTC)
    old = _fact(app, "Your rent is £1,150 a month.", now - timedelta(days=60))
    app.sleep_runner(FakeEngine()).run_session()
    new = _fact(app, "Your rent is £1,225 a month.", now - timedelta(days=5))
    app.sleep_runner(FakeEngine()).run_session()
    found = PreparedAnswers(app.db).lookup("How much is my rent?")
    assert found is not None and found.answer == "£1,225 a month"
    with app.db.session() as s:
        rows = list(s.exec(select(Anticipation)))
    assert {r.status for r in rows if r.sources["memories"] == [old.id]} == {"stale"}
    assert {r.status for r in rows if r.sources["memories"] == [new.id]} == {"ready"}


def test_a_superseded_fact_leaves_no_servable_answer(app: Reverie) -> None:
    fact = _fact(app, "Your rent is £1,150 a month.", datetime.now(UTC))
    app.sleep_runner(FakeEngine()).run_session()
    assert PreparedAnswers(app.db).lookup("How much is my rent?") is not None
    newer = _fact(app, "Your rent went up.", datetime.now(UTC))
    with app.db.write() as s:
        row = s.get(Memory, fact.id)
        assert row is not None
        from assistant.mind.reconcile import supersede
        from assistant.mind.work import Counters

        supersede(s, row, newer, Counters())
    assert PreparedAnswers(app.db).lookup("How much is my rent?") is None


def test_coverage_scores_what_auto_mode_would_serve(app: Reverie) -> None:
    _fact(app, "Your rent is £1,225 a month.", datetime.now(UTC))
    app.sleep_runner(FakeEngine()).run_session()
    questions = [
        {"id": 1, "question": "How much is our rent?", "accept": ["1,225"],
         "superseded": ["1,150"], "predictable": True},
        {"id": 2, "question": "Who is our landlord?", "accept": ["Priti"],
         "predictable": True},
        {"id": 3, "question": "How much is the rent?", "accept": ["900"],
         "predictable": False},
    ]
    coverage = prepared_coverage(app.db, questions)
    data = coverage.to_json()
    assert data["prepared"] >= 1 and data["served"] == 2
    assert coverage.hit_rate(True) == 0.5 and coverage.hit_rate(True, 1) == 1.0
    assert coverage.hit_rate(False) == 0.0
    assert coverage.false_serves == 1 and coverage.stale_served == 0


def test_an_answer_that_quotes_only_a_corrected_value_is_refused(app: Reverie) -> None:
    from assistant.mind.anticipate import quotes_superseded
    from assistant.mind.reconcile import supersede
    from assistant.mind.work import Counters

    old = _fact(app, "Your rent is £1,150 a month.", datetime.now(UTC) - timedelta(days=60))
    new = _fact(app, "Your rent is £1,225 a month.", datetime.now(UTC))
    assert not quotes_superseded(app.db, "The monthly rent is £1,150.")  # not corrected yet
    with app.db.write() as s:
        row = s.get(Memory, old.id)
        assert row is not None
        supersede(s, row, new, Counters())
    assert quotes_superseded(app.db, "The monthly rent is £1,150.")
    assert not quotes_superseded(app.db, "The monthly rent is £1,225.")
    assert not quotes_superseded(app.db, "It is a flat.")



def test_a_role_handed_over_since_is_not_prepared(app: Reverie) -> None:
    now = datetime.now(UTC)
    _fact(app, "The landlord is a Mr. Hartley.", now - timedelta(days=90))
    _fact(app, "The plumber is a Mr. Jones.", now - timedelta(days=90))
    conv = app.chats.create_conversation("New owner").id or 0
    app.chats.add_message(conv, "user", "Letter from Mr. Hartley: he's selling the "
                          "building. The new owner is a Priti Shah, from 1 September.",
                          created_at=now - timedelta(days=30))
    app.sleep_runner(FakeEngine()).run_session()
    with app.db.session() as s:
        answers = {r.question: r.answer for r in s.exec(select(Anticipation))}
    assert "Mr. Hartley" not in answers.values()
    assert answers.get("Who is the plumber?") == "Mr. Jones"  # no hand-over for him


def test_a_hand_over_written_before_the_fact_changes_nothing(app: Reverie) -> None:
    from assistant.mind.anticipate import handed_over_since, named_people

    now = datetime.now(UTC)
    conv = app.chats.create_conversation("Old news").id or 0
    app.chats.add_message(conv, "user", "Mr. Hartley is selling the flat; the new owner is "
                          "Ann Lee.", created_at=now - timedelta(days=100))
    asked = "Who is the landlord?"
    assert named_people("It is Mr. Hartley, I think.") == {"hartley"}
    assert not handed_over_since(app.db, asked, ["Mr. Hartley"], now - timedelta(days=90))
    assert handed_over_since(app.db, asked, ["Mr. Hartley"], now - timedelta(days=200))
    assert handed_over_since(app.db, asked, named_people("Mr. Hartley"),
                             now - timedelta(days=200))
    assert not handed_over_since(app.db, "Who walks the dog?", ["Mr. Hartley"],
                                 now - timedelta(days=200))
    assert not handed_over_since(app.db, asked, [], now - timedelta(days=200))
    assert not handed_over_since(app.db, asked, ["Mr. Hartley"], None)
