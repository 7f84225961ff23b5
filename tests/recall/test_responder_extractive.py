"""Extractive answers (the evidence sentence with its speaker and date) and dated facts."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from assistant.app import Reverie
from assistant.llm.fake import FakeEngine
from assistant.recall.extractive import (
    EXTRACTIVE,
    GENERATED,
    KINDS,
    answer_phrase,
    committed_styles,
    extractive_answer,
    question_kind,
)
from assistant.recall.retrieval import Hit
from assistant.store.models import Memory

SAID = datetime(2026, 5, 9, 18, 45, tzinfo=UTC)


def seed(app: Reverie) -> None:
    conv = app.chats.create_conversation("Moving day").id or 0
    app.chats.add_message(conv, "user", "We survived the move. Biscuit hid under the bed.",
                          created_at=SAID)
    with app.db.write() as s:
        s.add(Memory(text="You survived the move into the flat", sources={"messages": [1]},
                     said_at=SAID))


def test_a_dated_fact_is_quoted_with_its_date(app: Reverie, fake_engine: FakeEngine) -> None:
    seed(app)
    conv = app.chats.create_conversation("ask").id or 0
    responder = app.responder(fake_engine)
    responder.answer_styles = dict.fromkeys(KINDS, GENERATED)  # the prompt, not a quote
    responder.ask("When did we move into the flat?", conv, mode="memory",
                  today=date(2026, 11, 22))
    # The message itself outranks the fact drawn from it (retrieval's FUSION), and both
    # are quoted with the day they were said.
    assert ('chat "Moving day", you, Saturday 9 May 2026: "We survived the move.'
            in fake_engine.prompts[-1])
    with app.db.write() as s:
        s.add(Memory(text="You moved into the flat on a Saturday", said_at=SAID))
    responder.ask("When did we move into the flat?", conv, mode="memory",
                  today=date(2026, 11, 22))
    assert 'memory, Saturday 9 May 2026: "You moved into the flat on a Saturday"' in \
        fake_engine.prompts[-1]


def test_extractive_answer_has_speaker_and_date(app: Reverie, fake_engine: FakeEngine) -> None:
    seed(app)
    conv = app.chats.create_conversation("ask").id or 0
    responder = app.responder(fake_engine)
    responder.answer_styles = dict.fromkeys(KINDS, EXTRACTIVE)
    calls = len(fake_engine.prompts)
    answer = responder.ask("When did we move into the flat?", conv, mode="memory")
    assert answer.source == "extracted" and answer.prompt_tokens == 0
    assert answer.answer == "Saturday 9 May 2026"  # "When did...?": the day it was said
    assert len(fake_engine.prompts) == calls  # no model call
    assert [m.content for m in app.chats.messages(conv)][-1] == answer.answer
    responder.answer_styles = dict.fromkeys(KINDS, GENERATED)
    assert responder.ask("When did we move into the flat?", conv, mode="memory"
                         ).source == "generated"


def test_a_message_is_quoted_in_the_third_person_with_its_speaker() -> None:
    hits = [Hit("note", 1, "Biscuit eats at 8am and 6pm.", 'note "Biscuit"', 1.0),
            Hit("message", 2, "Nice weather. My rent is £1,150 a month, due on the 5th.",
                'chat "Flat", you, Saturday 2 May 2026', 0.9,
                created_at=datetime(2026, 5, 2, 10, 20, tzinfo=UTC))]
    found = extractive_answer("How much is my rent?", hits)
    assert found is not None and found[1] is hits[1]
    assert found[0] == "£1,150 a month"  # the amount asked for, not the whole sentence
    told = extractive_answer("What did I say about my rent?", hits)
    assert told is not None
    assert told[0] == "Your rent is £1,150 a month, due on the 5th. (you, Saturday 2 May 2026)"
    assert extractive_answer("Who is the plumber?", hits) is None  # nothing shared


def test_the_committed_table_names_every_kind() -> None:
    styles = committed_styles()
    assert set(styles) == set(KINDS) and set(styles.values()) <= {GENERATED, EXTRACTIVE}
    assert question_kind("What is our address?") == "place"
    assert question_kind("What kind of dog is Biscuit?") == "other"


def test_a_note_is_quoted_undated() -> None:
    hits = [Hit("note", 1, "Vet: Highbury Vets, Gloucester Road.", 'note "Biscuit"', 1.0,
                created_at=datetime(2026, 11, 28, tzinfo=UTC))]  # when it was imported
    assert extractive_answer("Which vet does Biscuit go to?", hits) == (
        "Highbury Vets", hits[0])
    assert extractive_answer("What did I write about Biscuit's vet?", hits) == (
        "Vet: Highbury Vets, Gloucester Road.", hits[0])


def test_a_title_does_not_end_the_sentence() -> None:
    hits = [Hit("message", 3, "I booked the dentist: Tuesday 24 November at 10:30 with "
                "Dr. Okafor. Then lunch.", 'chat "Dentist", you, Monday 16 November 2026', 1.0)]
    found = extractive_answer("What about my dentist appointment?", hits)
    assert found is not None
    assert found[0] == "You booked the dentist: Tuesday 24 November at 10:30 with Dr. Okafor. (you)"
    found = extractive_answer("When is my dentist appointment?", hits)
    assert found is not None and found[0] == "Tuesday 24 November at 10:30"


@pytest.mark.parametrize(("kind", "sentence", "question", "phrase"), [
    ("time", "Biscuit's booster is on Thursday 8 October at 17:15, at Highbury Vets.",
     "When was Biscuit's booster?", "Thursday 8 October at 17:15"),
    ("time", "My train is at 07:30 from Temple Meads.", "What time was my train?", "07:30"),
    ("time", "1:1 with Folasade every other Monday at 10:00.",
     "When is my one-to-one with my manager?", "every other Monday at 10:00"),
    ("amount", "Car insurance came to £412 for the year.", "How much is the car insurance?",
     "£412 for the year"),
    ("amount", "Biscuit weighed 14.2 kg at the vet.", "How much does Biscuit weigh?",
     "14.2 kg"),
    ("person", "Alan walks Biscuit on Wednesdays.", "Who walks Biscuit on Wednesdays?",
     "Alan"),
    ("person", "My GP is Dr. Ellison at the surgery.", "Who is my GP?", "Dr. Ellison"),
    ("place", "The reception was at the Fourcroft Hotel.",
     "Where was the reception of Cerys's wedding?", "the Fourcroft Hotel"),
    ("place", "Keiko lives in Dennistoun now, in Glasgow.",
     "Which part of Glasgow does Keiko live in?", "Dennistoun"),
    ("person", "We walked along the river.", "Who walks Biscuit?", None),
    ("other", "Biscuit is a beagle cross.", "What kind of dog is Biscuit?", None),
])
def test_the_phrase_that_answers(kind: str, sentence: str, question: str,
                                 phrase: str | None) -> None:
    assert answer_phrase(kind, sentence, question) == phrase


def test_a_note_heading_is_never_the_answer() -> None:
    hits = [Hit("note", 1, "# Heron project\nOpen tasks: write the migration guide.",
                'note "Heron"', 1.0)]
    found = extractive_answer("What are the open tasks on the Heron project?", hits)
    assert found is not None and found[0] == "Open tasks: write the migration guide."


def test_of_several_names_the_one_after_the_question_s_word() -> None:
    assert answer_phrase("person", "Cerys, Owen's younger sister, is marrying Matteo from "
                         "Turin.", "Who did Cerys marry?") == "Matteo"


def test_of_several_names_the_one_nearest_the_question_s_word() -> None:
    assert answer_phrase("person", "Ravi moved to the Singapore office, so Hannah Lloyd is "
                         "the lead on the warehouse migration now.",
                         "Who leads the warehouse migration project?") == "Hannah Lloyd"


@pytest.mark.parametrize(("sentence", "question", "phrase"), [
    ("Ben didn't get on with Daniel Price. From next week his tutor is Grace Osei.",
     "Who is Ben's maths tutor?", "Grace Osei"),
    ("Ben didn\u2019t get on with Daniel Price.", "Who is Ben's tutor?", None),
    ("It isn\u2019t at Casa Lola any more, it moved to The Ivy.", "Where is the dinner?",
     "The Ivy"),
    # a denial ends with its clause
    ("Anna can't do Friday so Ben will pick up Mia.", "Who is picking up Mia?", "Ben"),
])
def test_a_denied_value_is_never_the_answer(sentence: str, question: str,
                                           phrase: str | None) -> None:
    kind = "place" if question.startswith("Where") else "person"
    assert answer_phrase(kind, sentence, question) == phrase


def test_many_names_in_one_long_sentence_are_weighed_quickly() -> None:
    import time

    from assistant.recall.extractive import extractive_answer

    text = " ".join(["Tom leads Ann and Bea"] * 2000)  # 44 KB with no full stop
    started = time.perf_counter()
    found = extractive_answer("Who leads the team?", [Hit("note", 1, text, "note", 1.0)])
    assert found is not None and time.perf_counter() - started < 10  # was minutes


def test_a_sentence_that_replaces_the_one_before_it_is_the_answer() -> None:
    from datetime import UTC, datetime

    from assistant.recall.extractive import extractive_answer
    from assistant.recall.retrieval import Hit

    hit = Hit("memory", 1, "Holiday booked: Crete flights are £380 each now, way over "
              "budget. We're going to Sardinia instead, Alghero, same dates.", "memory", 1.0,
              created_at=datetime(2026, 7, 9, tzinfo=UTC))
    found = extractive_answer("Where did we go on our summer holiday?", [hit])
    assert found is not None and "Sardinia" in found[0] and "Crete" not in found[0]


def _said(ident: int, text: str, day: int, month: int = 10) -> Hit:
    return Hit("message", ident, text, f'chat "x", you, {day} October', 1.0,
               created_at=datetime(2026, month, day, 9, tzinfo=UTC))


def test_a_date_is_not_an_amount_and_a_price_is_money() -> None:
    """"Pottery ends on 24 November" states no price; "eight weeks" is no price either;
    a question for a price takes the sentence that states one."""
    course = _said(1, "Pottery ends on 24 November with an exhibition that evening.", 9)
    weeks = _said(2, "Pottery at the Kiln Rooms, Tuesdays 18:30 to 20:30, eight weeks.", 1)
    price = _said(3, "The pottery course was £180 for the eight weeks.", 2)
    asked = "How much does the pottery course cost?"
    assert extractive_answer(asked, [course, weeks]) is None  # no price: no quote
    assert extractive_answer(asked, [course, weeks, price]) == ("£180", price)
    # another amount is still an amount, and a number may be a price
    assert extractive_answer("How many weeks is the pottery course?", [course, weeks]) == (
        "Pottery at the Kiln Rooms, Tuesdays 18:30 to 20:30, eight weeks. (you, Thursday "
        "1 October 2026)", weeks)
    rent = _said(4, "Our rent is 1,150 a month.", 2)
    assert extractive_answer("How much is our rent?", [rent]) == ("1,150 a month", rent)
    euros = _said(5, "The new sofa cost 450€ in the sale.", 2)
    assert extractive_answer("So how much did the sofa cost?", [euros]) == ("450", euros)


def test_what_it_came_to_wins_over_the_quote() -> None:
    quote = _said(1, "MOT failed on the brake pads; the quote is £180.", 1)
    final = _said(2, "The brakes came to £210 in the end, they found a worn disc too.", 8)
    asked = "How much did the brake repair on the car cost?"
    assert extractive_answer(asked, [quote, final]) == ("£210", final)
    # ... in one sentence too
    both = _said(3, "The garage quoted £500 but the repair came to £450 in the end.", 9)
    assert extractive_answer("How much did the repair cost?", [both]) == ("£450", both)
    early = _said(4, "In the end the repair was £450, though they had quoted £500.", 9)
    assert extractive_answer("How much did the repair cost?", [early]) == ("£450", early)


def test_the_one_asked_about_must_be_in_the_evidence() -> None:
    """"How old is Keiko?" is not answered by Biscuit's age; a place the question is
    asked in ("the offsite in Bath?") need not be named by the evidence."""
    dog = _said(1, "Biscuit, a six-year-old beagle cross, fed at 8am and 6pm.", 1)
    assert extractive_answer("How old is Keiko?", [dog]) is None
    assert extractive_answer("How old is Biscuit?", [dog]) is not None
    museum = _said(2, "The team offsite is at the Holburne Museum.", 3)
    assert extractive_answer("Where was the team offsite in Bath?", [museum]) is not None


def test_our_wedding_is_not_someone_else_s() -> None:
    theirs = _said(1, "Cerys's wedding is on Friday 14 August.", 1)
    assert extractive_answer("When is our wedding?", [theirs]) is None
    assert extractive_answer("When is Cerys's wedding?", [theirs]) == (
        "Friday 14 August", theirs)


def test_the_next_one_is_not_one_that_has_passed() -> None:
    past = _said(1, "Biscuit's vet appointment is on Thursday 8 October at 17:15.", 1)
    asked = "When is Biscuit's next vet appointment?"
    assert extractive_answer(asked, [past], date(2026, 11, 29)) is None
    assert extractive_answer(asked, [past], date(2026, 10, 2)) == (
        "Thursday 8 October at 17:15", past)
    # without "next", the date said is the answer
    assert extractive_answer("When was Biscuit's vet appointment?", [past],
                             date(2026, 11, 29)) == ("Thursday 8 October at 17:15", past)


def test_when_is_is_not_answered_by_a_sentence_without_a_date() -> None:
    gift = _said(1, "So the wedding gift was £200 in total.", 17)
    assert extractive_answer("When is the wedding?", [gift]) is None
    # a past "When did ...?" is answered by when it was said
    assert extractive_answer("When did we settle the wedding gift?", [gift]) == (
        "Saturday 17 October 2026", gift)


@pytest.mark.parametrize(("question", "texts", "lacks"), [
    ("How much does the pottery course cost?",
     ["Pottery at the Kiln Rooms, Tuesdays, eight weeks."], True),
    ("How much does the pottery course cost?", ["The pottery course is £180."], False),
    ("How much does the pottery course cost?", ["The climbing wall is £12 a visit."], True),
    ("When is our wedding?", ["Cerys's wedding is on Friday 14 August."], True),
    ("When is the wedding?", ["Cerys's wedding is on Friday 14 August."], False),
    ("When do we get a decision in principle?",
     ["Around £310,000; decision in principle in February."], False),
    ("When did we get the keys?", ["We got the keys!"], False),  # when it was said
    ("Who is our landlord?", ["Nothing about it."], False),  # not a price or a date
    # an age, of the one asked about
    ("How old is Keiko?", ["# Biscuit\nBeagle cross, six years old.\nSitter: Hana "
                           "(Keiko's cousin), £25 a day."], True),
    ("How old is Keiko?", ["Keiko's party is on Saturday. She turns 30!"], False),
    ("How old is Biscuit?", ["# Biscuit\nBeagle cross, six years old."], False),
    ("What is our budget for Lisbon?", ["# Lisbon trip\nBudget: 800 euros for two."], False),
    # a price may be a bare number, a date may be said without a calendar
    ("How much is Biscuit's dose?", ["Biscuit gets the 5 ml dose of Metacam daily."], False),
    ("How much is the rent?", ["The rent is 1,150 a month."], False),
    ("When is the plumber coming?", ["The plumber is coming today."], False),
    ("When is the plumber coming?", ["The plumber comes in two weeks."], False),
    ("When is the vet?", ["Need to find someone to look after Biscuit at the vet that week."],
     True),
])
def test_lacks_value(question: str, texts: list[str], lacks: bool) -> None:
    from assistant.recall.extractive import lacks_value

    assert lacks_value(question, texts) is lacks


def test_the_next_one_lacks_a_date_when_all_have_passed() -> None:
    from assistant.recall.extractive import lacks_value

    said = ["Biscuit's vet appointment: Thursday 8 October at 17:15."]
    asked = "When is Biscuit's next vet appointment?"
    assert lacks_value(asked, said, date(2026, 11, 29))
    assert not lacks_value(asked, said, date(2026, 10, 2))
    assert not lacks_value("When is Biscuit's vet appointment?", said, date(2026, 11, 29))
