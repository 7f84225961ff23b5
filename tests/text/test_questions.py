"""The kind of answer a question asks for, and the names it is about."""

from __future__ import annotations

from assistant.text.questions import (
    about_the_person,
    answer_kind,
    asks_for_a_thing,
    concerns_time,
    is_request,
    kinds_agree,
    names,
    names_agree,
    names_someone,
    shows_clock,
    shows_day,
    tense,
    tenses_agree,
    wants_clock,
)


def test_answer_kind_from_question_words_and_nouns() -> None:
    assert answer_kind("What time does the plumber arrive?") == "time"
    assert answer_kind("Cerys and Matteo's wedding date?") == "time"
    assert answer_kind("venue of Keiko's send-off?") == "place"
    assert answer_kind("name of my line manager") == "person"
    assert answer_kind("what's the dog sitter's daily rate") == "amount"
    assert answer_kind("Are we still going climbing?") == "yes-no"
    assert answer_kind("What does Owen take for his hay fever?") is None


def test_kinds_agree_unless_both_say_and_differ() -> None:
    assert kinds_agree("When is the rent due?", "Rent due date?")
    assert kinds_agree("What is the rent?", "How much is the rent?")
    assert not kinds_agree("When was the brake repair?", "How much did the brake repair cost?")


def test_names_are_the_capitalised_words_that_are_not_question_words() -> None:
    assert names("When is Owen's birthday in March?") == {"owen"}
    assert names("What did Mr. Hartley do?") == {"hartley"}
    assert names("where do we live") == frozenset()
    assert names_agree("When is Owen's birthday?", "Owen's bday?")
    assert names_agree("When is my birthday?", "When is Owen's birthday?")
    assert not names_agree("Who is Keiko's landlord?", "Who is Owen's landlord?")


def test_tense_past_against_now_or_later() -> None:
    assert tense("When was my dental check-up?") == "past"
    assert tense("When is my next dental check-up?") == "now"
    assert tense("due date of my draft plan") is None
    assert not tenses_agree("When was my dental check-up?", "When is my next check-up?")
    assert tenses_agree("When did Tobias start?", "what was Tobias's first day")
    assert tenses_agree("last pottery session, when is it", "When does pottery finish?")


def test_question_key_ignores_only_case_spacing_apostrophes_and_end_marks() -> None:
    from assistant.text.questions import question_key

    assert question_key("  When’s my  Dentist appointment?? ") == "when's my dentist appointment"
    assert question_key("WHEN'S MY DENTIST APPOINTMENT") == "when's my dentist appointment"
    assert question_key("My dentist appointment is when?") != question_key(
        "When is my dentist appointment?")
    assert question_key("¿Dónde está?") == "dónde está"


def test_the_earliest_cue_says_the_kind_and_name_of_defers_to_it() -> None:
    assert answer_kind("Where did Owen's parents stay when they visited?") == "place"
    assert answer_kind("When did Owen's parents come to visit?") == "time"
    assert answer_kind("What did I give Owen for his birthday?") is None
    assert answer_kind("Owen's bday?") == "time"
    assert answer_kind("Name of the hotel his parents used?") == "place"
    assert answer_kind("name of my family doctor?") == "person"
    assert answer_kind("who do we pay the rent to") == "person"


def test_value_kind_is_what_the_answer_text_shows() -> None:
    from assistant.text.questions import value_kind

    assert value_kind("every other Monday at 10:00") == "time"
    assert value_kind("3 July") == "time"
    assert value_kind("£412 for the year") == "amount"
    assert value_kind("14.2 kg") == "amount"
    assert value_kind("WU18 KPX") is None
    assert value_kind("cetirizine") is None


def test_mentions_are_every_word_spelled_as_names_are() -> None:
    from assistant.text.questions import mentions

    assert mentions("Owen has named it Gerald. Keiko’s flat") >= {"owen", "gerald", "keiko",
                                                                  "named", "flat"}


def test_a_time_of_day_is_asked_and_shown_apart_from_a_date() -> None:
    assert wants_clock("What time does our flight to Lisbon leave?")
    assert wants_clock("At what time is the demo?")
    assert not wants_clock("When does our flight to Lisbon leave?")
    assert shows_clock("07:15 from Bristol") and shows_clock("at 7pm")
    assert not shows_clock("We will be flying to Lisbon on 12 December.")


def test_a_what_question_of_no_kind_asks_for_a_thing() -> None:
    assert asks_for_a_thing("What book is the book club reading?")
    assert asks_for_a_thing("What is Keiko's girlfriend called?") is False  # a name
    assert not asks_for_a_thing("What time is the demo?")  # a time
    assert not asks_for_a_thing("Who is the plumber?")


def test_a_day_is_told_apart_from_a_time_of_day() -> None:
    assert shows_day("Wednesday 25 November after 17:00") and shows_day("the 23rd")
    assert shows_day("every other Monday at 10:00") and shows_day("tomorrow at 9")
    assert not shows_day("The car is picked up at 17:00.") and not shows_day("18:25")
    assert shows_day("2026-11-25 at 17:00") and shows_day("on 25/11")


def test_concerns_time_when_the_date_could_bear_on_the_answer() -> None:
    for question in ("What day is it?", "How many weeks until the wedding?",
                     "Is the passport still valid?", "How old is Milo now?",
                     "When is the Heron deadline?", "What did I do on Saturday?",
                     "Has my passport expired?", "What did I eat yesterday?"):
        assert concerns_time(question), question
    for question in ("What is the capital of France?", "Who wrote Hamlet?",
                     "What does Owen take for his hay fever?", ""):
        assert not concerns_time(question), question


def test_about_the_person_when_only_their_own_data_can_answer() -> None:
    for question in ("When is my dentist appointment?", "Where did we go last summer?",
                     "How much is our rent?", "Have I paid the council tax?",
                     "Where do I work?", "Do I have a dentist appointment?"):
        assert about_the_person(question), question
    for question in ("How do I boil an egg?", "What is the capital of France?",
                     "What should I cook tonight?", "Are we supposed to tip in Japan?",
                     "What's the tallest mountain?", "Who wrote Hamlet?",
                     "How do I reset my password?", "Can we take the dog on the train?",
                     "What is Owen's blood type?", ""):
        assert not about_the_person(question), question
    assert names_someone("What is Owen's blood type?")
    assert names_someone("Keiko\u2019s birthday?")
    assert not names_someone("What's the time?") and not names_someone("Who is Owen?")


def test_a_price_asked_and_stated() -> None:
    from assistant.text.questions import shows_money, wants_money

    for question in ("How much does the pottery course cost?", "How much is our rent?",
                     "How much did we give Cerys as a wedding present?",
                     "How much have we saved for the deposit?", "How much is the car insurance?"):
        assert wants_money(question), question
    for question in ("How many people came?", "How old is Keiko?", "How much does Biscuit "
                     "weigh?", "How much vitamin D should I take?", "When is the rent due?"):
        assert not wants_money(question), question
    for text in ("Rent is £1,150 a month", "It came to 40 euros", "450€", "EUR 450",
                 "£1.5k", "$3.50", "fifty quid"):
        assert shows_money(text), text
    assert not shows_money("eight weeks, ends on the 5th")
    assert not shows_money("1," * 25_000)  # and at once: no backtracking over a long list


def test_an_age_asked_and_stated() -> None:
    from assistant.text.questions import shows_age, wants_age

    assert wants_age("How old is Keiko?") and wants_age("What age is Owen?")
    assert not wants_age("How much does Biscuit weigh?")
    for text in ("Beagle cross, six years old.", "a six-year-old beagle", "He'll be 34.",
                 "She turns 30 in May", "Keiko's 30 now"):
        assert shows_age(text), text
    for text in ("Hana, £25 a day", "It was 5 pm", "We were 2 people"):
        assert not shows_age(text), text


def test_a_word_a_question_opens_with_is_not_a_name() -> None:
    from assistant.text.questions import names

    assert names("So how much did the sofa cost?") == frozenset()
    assert names("Remind me, when is Keiko's party?") == {"keiko"}


def test_a_request_verb_that_opens_a_sentence_is_not_a_name() -> None:
    assert names("Write a very long essay about the history of Rome") == {"rome"}
    assert names("List one hundred different fruits") == frozenset()
    assert names("Explain what Keiko does") == {"keiko"}


def test_a_request_opens_with_its_verb() -> None:
    assert is_request("Write a poem about the sea.")
    assert is_request("please list ten fruits")
    assert is_request("Tell me about Einstein's theory of relativity")
    assert not is_request("Make sure Biscuit has his booster on 3 June.")
    assert not is_request("Owen wrote the list on Tuesday.")
    assert not is_request("")
    # Opening like a request, but news about the person's life (a reviewer's cases).
    for fact in ("Tell you what, the wedding is actually on 14 June, not 7 June.",
                 "Imagine Dragons tickets are booked for 14 July.",
                 "Imagine Dragons tickets are booked",
                 "Draft of my thesis is due on 3 March.",
                 "List price of my car was 30,000 euros.",
                 "Write a toast for my brother Tom's wedding on 14 June.",
                 "Explain to my landlord that I move out on 30 April."):
        assert not is_request(fact), fact
