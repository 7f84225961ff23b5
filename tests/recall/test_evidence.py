"""Current evidence only: a snippet a newer one corrects, or a message whose facts were
superseded, never reaches an answer (`assistant.recall.evidence`)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from assistant.app import Reverie
from assistant.llm.fake import FakeEngine
from assistant.recall.evidence import current_hits
from assistant.recall.extractive import EXTRACTIVE, KINDS, extractive_answer
from assistant.recall.retrieval import Hit
from assistant.store.models import Memory


def _message(ident: int, text: str, day: int) -> Hit:
    return Hit("message", ident, text, f'chat "x", you, {day} June', 1.0,
               created_at=datetime(2026, 6, day, 9, 0, tzinfo=UTC))


def test_the_older_of_two_disagreeing_snippets_goes() -> None:
    old = _message(1, "Dental check-up on 9 June at 8:40.", 1)
    new = _message(2, "The dentist moved my check-up to Tuesday 16 June at 14:10.", 5)
    other = _message(3, "Biscuit's booster is on 8 October.", 2)
    assert current_hits("When is my dental check-up?", [old, new, other]) == [new, other]
    # the newer one must be newer: the same pair the other way round keeps both
    early = _message(4, "The dentist moved my check-up to Tuesday 16 June at 14:10.", 1)
    late = _message(5, "Dental check-up on 9 June at 8:40.", 5)
    assert early in current_hits("When is my dental check-up?", [early, late]) or \
        late in current_hits("When is my dental check-up?", [early, late])


def test_unrelated_snippets_are_kept() -> None:
    a = _message(1, "Owen's birthday is on 3 July.", 1)
    b = _message(2, "Cerys's wedding is on 15 August.", 5)
    assert current_hits("When is Owen's birthday?", [a, b]) == [a, b]


def test_outdated_messages_are_left_out() -> None:
    a, b = _message(1, "Rent is £1,150.", 1), _message(2, "Biscuit weighs 14 kg.", 2)
    assert current_hits("How much is our rent?", [a, b],
                        lambda ids: {i: [] for i in {1} & set(ids)}) == [b]


def test_an_outdated_message_gives_way_to_the_facts_that_hold_now() -> None:
    old, other = _message(1, "Gym membership at Pulse is £38 a month.", 1), \
        _message(2, "Biscuit weighs 14 kg.", 2)
    new = Hit("memory", 7, "Pulse put the price up, it's £42 a month from July.", "memory",
              0.0, created_at=datetime(2026, 6, 20, 9, 0, tzinfo=UTC))
    found = current_hits("How much is my gym membership?", [old, other],
                         lambda ids: {1: [new]} if 1 in ids else {})
    assert found == [new, other]
    # a successor retrieved already is not repeated
    assert current_hits("How much is my gym membership?", [new, old, other],
                        lambda ids: {1: [new]}) == [new, other]


def test_a_superseded_fact_s_message_is_not_quoted(app: Reverie,
                                                   fake_engine: FakeEngine) -> None:
    conv = app.chats.create_conversation("Flat").id or 0
    said = datetime(2026, 5, 2, 10, 0, tzinfo=UTC)
    old = app.chats.add_message(conv, "user", "Our rent is £1,150 a month.", created_at=said)
    with app.db.write() as s:
        newer = Memory(text="The rent went up to £1,225 a month",
                       sources={"messages": []}, said_at=said)
        s.add(newer)
        s.flush()
        s.add(Memory(text="The rent is £1,150 a month", sources={"messages": [old.id]},
                     said_at=said, superseded_by=newer.id))
    ask = app.chats.create_conversation("ask").id or 0
    responder = app.responder(fake_engine)
    responder.answer_styles = dict.fromkeys(KINDS, EXTRACTIVE)
    answer = responder.ask("How much is our rent?", ask, mode="memory", today=date(2026, 6, 1))
    assert "1,150" not in answer.answer and "1,225" in answer.answer


def test_a_corrected_subject_is_still_known(app: Reverie, fake_engine: FakeEngine) -> None:
    """The old snippet is left out of the answer, but it still shows that the memory
    knows the subject: the answer comes from the correction, not "I don't know"."""
    conv = app.chats.create_conversation("Work").id or 0
    app.chats.add_message(conv, "user", "The team offsite in Bath is at the Guildhall.",
                          created_at=datetime(2026, 5, 14, 9, 0, tzinfo=UTC))
    app.chats.add_message(conv, "user", "The offsite moved to the Holburne Museum, the "
                          "Guildhall was double-booked.",
                          created_at=datetime(2026, 6, 8, 9, 0, tzinfo=UTC))
    ask = app.chats.create_conversation("ask").id or 0
    responder = app.responder(fake_engine)
    responder.answer_styles = dict.fromkeys(KINDS, EXTRACTIVE)
    answer = responder.ask("Where was the team offsite in Bath?", ask, mode="memory",
                           today=date(2026, 11, 22))
    assert answer.answer == "The Holburne Museum"


def test_a_newer_snippet_answering_again_with_another_value_wins() -> None:
    offer = _message(1, "Owen offered £5,900 for the Fabia.", 8)
    deal = _message(2, "Oh and Dafydd came back at £6,100 and Owen took it.", 11)
    asked = "How much did Owen pay for his car?"
    assert current_hits(asked, [offer, deal]) == [deal]
    # another kind of question, or a sentence about someone else, keeps both
    assert current_hits("Who sold Owen the Fabia?", [offer, deal]) == [offer, deal]
    other = _message(3, "Keiko paid £6,100 for her bike.", 11)
    assert current_hits(asked, [offer, other]) == [offer, other]


def test_a_profile_line_that_copies_an_outdated_snippet_is_left_out() -> None:
    from assistant.recall.evidence import corrected, current_profile

    old = _message(1, "Holiday: we're thinking Crete, 25 July to 1 August, near Chania.", 1)
    new = _message(2, "Holiday changed: Alghero in Sardinia, still 25 July to 1 August.", 5)
    other = _message(3, "Biscuit's booster is on 8 October.", 2)
    current = current_hits("Where did we go on our summer holiday?", [old, new, other])
    assert corrected([old, new, other], current) == [old]
    profile = ("About you:\n- Hana will take Biscuit, £25 a day.\nOngoing:\n"
               "- we're thinking Crete, 25 July 2026 to 1 August 2026, near Chania.")
    assert current_profile(profile, [old]) == (
        "About you:\n- Hana will take Biscuit, £25 a day.\nOngoing:")
    assert current_profile(profile, []) is profile
    assert current_profile(profile, [other]) == profile  # nothing it copies


def test_a_summary_corrects_nothing_and_someone_else_answers_nothing_again() -> None:
    """A summary restates its sources ("Priti Shah, the owner, rents a flat in Bristol"
    had dropped "The new flat is 14 Cotham Vale"); Keiko's move is not the person's."""
    keys = _message(1, "Owen and I got the keys! The new flat is 14 Cotham Vale, Bristol. "
                    "We move the boxes next Saturday, 9 May.", 2)
    summary = Hit("memory", 2, "Priti Shah, the owner, rents a flat in Bristol.",
                  'summary "Flat"', 1.0, created_at=datetime(2026, 10, 1, tzinfo=UTC),
                  summary=True)
    keiko = _message(3, "Keiko now moves to Glasgow on 6 September.", 20)
    asked = "When did we move into the flat?"
    assert current_hits(asked, [keys, summary, keiko]) == [keys, summary, keiko]
    moved = Hit("memory", 4, "We now move the boxes on 16 May instead.", "memory", 1.0,
                created_at=datetime(2026, 6, 5, tzinfo=UTC))
    assert current_hits(asked, [keys, moved]) == [moved]  # a fact said later corrects it


def test_a_role_handed_over_later_answers_who_has_it_now() -> None:
    old = _message(1, "The landlord is a Mr. Hartley. Rent is £1,150 a month.", 2)
    other = _message(2, "Biscuit weighs 14 kg.", 3)
    letter = _message(9, "Letter from Mr. Hartley: he's selling the building. The new owner "
                      "is a Priti Shah, from 1 September.", 25)
    asked: list[tuple[str, str, datetime]] = []

    def handovers(name: str, role: str, after: datetime) -> Hit | None:
        asked.append((name, role, after))
        if name == "Mr. Hartley":
            return replace(letter, takes_over=("Priti Shah", name))
        return None

    found = current_hits("Who is our landlord?", [old, other], None, handovers)
    assert [(h.id, h.takes_over) for h in found] == [(9, ("Priti Shah", "Mr. Hartley")),
                                                     (2, None)]
    assert asked == [("Mr. Hartley", "landlord", old.created_at)]
    assert extractive_answer("Who is our landlord?", found) == ("Priti Shah", found[0])
    # Only a question about who holds a role looks for a hand-over.
    assert current_hits("How much is our rent?", [old, other], None, handovers) == [old,
                                                                                   other]
    assert current_hits("Who walks Biscuit?", [old, other], None, handovers) == [old, other]
    # The letter retrieved already moves to the old answer's place and answers.
    found = current_hits("Who is our landlord?", [letter, old, other], None, handovers)
    assert [(h.id, h.takes_over) for h in found] == [(9, ("Priti Shah", "Mr. Hartley")),
                                                     (2, None)]


def test_a_hand_over_in_the_same_message_answers_too() -> None:
    both = _message(1, "Our landlord Mr. Hartley is selling the building. The new owner "
                    "is Priti Shah.", 2)
    found = current_hits("Who is our landlord?", [both], None, lambda n, r, a: None)
    assert found[0].takes_over == ("Priti Shah", "Mr. Hartley")
    assert extractive_answer("Who is our landlord?", found) == ("Priti Shah", found[0])


def test_no_hand_over_keeps_the_answer() -> None:
    old = _message(1, "The landlord is a Mr. Hartley.", 2)
    note = Hit("note", 3, "Landlord: Mr. Hartley", 'note "Flat"', 1.0,
               created_at=datetime(2026, 6, 1, tzinfo=UTC))
    found = current_hits("Who is our landlord?", [old, note], None,
                         lambda name, role, after: None)
    assert found == [old, note]
    assert extractive_answer("Who is our landlord?", found) == ("Mr. Hartley", old)


def _ask(app: Reverie, fake_engine: FakeEngine, question: str) -> str:
    responder = app.responder(fake_engine)
    responder.answer_styles = dict.fromkeys(KINDS, EXTRACTIVE)
    conv = app.chats.create_conversation("ask").id or 0
    return responder.ask(question, conv, mode="memory", today=date(2026, 11, 22)).answer


def _say(app: Reverie, text: str, month: int, day: int = 1) -> None:
    conv = app.chats.create_conversation("chat").id or 0
    app.chats.add_message(conv, "user", text,
                          created_at=datetime(2026, month, day, 10, 0, tzinfo=UTC))


def test_a_hand_over_in_the_chats_answers_who_holds_the_role(app: Reverie,
                                                            fake_engine: FakeEngine) -> None:
    _say(app, "The landlord is a Mr. Hartley. Rent is £1,150 a month, due on the 5th.", 5)
    _say(app, "Mr. Hartley says hello, he fixed the boiler.", 6)
    _say(app, "Letter from Mr. Hartley: he's selling the building. The new owner is a "
         "Priti Shah, from 1 September.", 8, 25)
    assert _ask(app, fake_engine, "Who is our landlord?") == "Priti Shah"
    # Something else of the same message is still said: the hand-over answers who only.
    assert "1,150" in _ask(app, fake_engine, "How much is our rent?")
    # And handed on again later: the newest holder.
    _say(app, "Priti Shah is selling the flat to Ken Ward.", 10)
    assert _ask(app, fake_engine, "Who is our landlord?") == "Ken Ward"


@pytest.mark.parametrize(("first", "later", "question", "answer"), [
    ("Sam walks the dog every morning.", "Sam is selling his car. The new owner is Jo "
     "Bell.", "Who walks the dog?", "Sam"),
    ("My dentist is Dr Patel.", "Dr Patel is leaving the choir, the new choir leader is "
     "Sam Bell.", "Who is my dentist?", "Dr Patel"),
    ("My sister Anna lives in Leeds.", "Anna is leaving Leeds next month. Her new flat is "
     "in York, the new landlord is Ken Ward.", "Who is my sister?", "Anna"),
    ("I had coffee with Tomas on Tuesday.", "Tomas is leaving the company; the new "
     "manager is Ana Lima.", "Who did I have coffee with?", "Tomas"),
    ("The landlord is a Mr. Hartley. No idea who the landlord's agent is, ask Jo.",
     "Jo is leaving the flat share on Friday and Ana takes over her room.",
     "Who is our landlord?", "Mr. Hartley"),
    ("The landlord is a Mr. Hartley.", "Told Mr. Hartley we're leaving in May; Jo Bell is "
     "taking over the lease.", "Who is our landlord?", "Mr. Hartley"),
    ("Our GP is Dr Smith.", "Jo Smith is leaving the team; Ana takes over.",
     "Who is our GP?", "Dr Smith"),
])
def test_news_that_hands_no_role_on_changes_no_answer(
        app: Reverie, fake_engine: FakeEngine, first: str, later: str, question: str,
        answer: str) -> None:
    _say(app, first, 3)
    _say(app, later, 6)
    assert answer in _ask(app, fake_engine, question)


def test_a_later_word_that_the_hand_over_fell_through_wins(app: Reverie,
                                                          fake_engine: FakeEngine) -> None:
    _say(app, "The landlord is a Mr. Hartley.", 5)
    _say(app, "Letter from Mr. Hartley: he's selling the building. The new owner is a "
         "Priti Shah, from 1 September.", 8)
    assert _ask(app, fake_engine, "Who is our landlord now?") == "Priti Shah"
    _say(app, "The sale fell through, so Mr. Hartley is still our landlord.", 10)
    assert _ask(app, fake_engine, "Who is our landlord?") == "Mr. Hartley"
