"""The two similarities: plain word overlap, and whether two questions ask the same."""

from __future__ import annotations

import pytest

from assistant.text.similarity import (
    SAME_QUESTION_THRESHOLD,
    WordWeights,
    question_match,
    question_type,
    question_words,
    word_overlap,
)


def test_word_overlap_is_symmetric_jaccard_of_meaning_words() -> None:
    a, b = "Anna's birthday is on 3 May", "The birthday of Anna: 3 May"
    assert word_overlap(a, b) == word_overlap(b, a) == 1.0
    assert word_overlap("tomato plants", "tomato soup") == pytest.approx(1 / 3)
    assert word_overlap("", "anything") == 0.0
    assert word_overlap("the and of", "the and of") == 0.0  # stop words only


def test_the_kind_of_answer_must_agree() -> None:
    assert question_type("When is my dentist appointment?") == "time"
    assert question_type("what time does it leave") == "time"
    assert question_type("Who is my dentist?") == "person"
    assert question_type("How much is the rent?") == "amount"
    assert question_type("lisbon hotel name") is None
    assert question_match("Who is my dentist?", "When is my dentist appointment?") == 0.0
    assert question_match("when's the dentist appointment",
                          "When is my dentist appointment?") > 0.9


def test_question_words_ignore_filler_and_fold_forms() -> None:
    assert question_words("What's the deadline for Heron?") == ["deadline", "heron"]
    assert question_words("When is Heron due?") == ["heron", "deadline"]
    assert question_words("I phone my mum") == ["call", "mother"]
    assert question_words("my one-on-one with Ana") == ["1:1", "ana"]


def test_the_two_ideas_differ_where_they_should() -> None:
    # Synonyms count for questions, not for plain overlap.
    assert word_overlap("phone mum", "call mother") == 0.0
    assert question_match("When do I phone mum?", "When do I call my mother?") == 1.0
    # Plain overlap is symmetric; a question must be covered by the prepared one.
    short, long = "When is the flight?", "When is the flight to Lisbon with Anna?"
    assert question_match(short, long) > question_match(long, short)


def test_questions_in_other_scripts_and_forms_still_match() -> None:
    asked = "Когда приезжает мама?"
    assert question_words(asked) == ["когда", "приезжает", "мама"]
    assert question_match(asked, "когда ПРИЕЗЖАЕТ мама") >= SAME_QUESTION_THRESHOLD
    assert question_match(asked, "Где живёт мама?") < SAME_QUESTION_THRESHOLD
    # Typographic apostrophes, decomposed accents and full-width letters fold away.
    assert question_words("Where\u2019s Zoe\u0308\u2019s party?") == ["zoë", "party"]
    assert question_match("When is Zo\u00eb's party?",
                          "when is zoe\u0308\u2019s party") == pytest.approx(1.0)
    assert question_words("\uff28\uff45\uff52\uff4f\uff4e deadline") == ["heron", "deadline"]


def test_nothing_to_compare_is_no_match() -> None:
    assert question_match("?!", "When is the dentist?") == 0.0
    assert question_match("\U0001f914\U0001f914", "\U0001f914\U0001f914") == 0.0


def test_words_shared_by_many_prepared_questions_weigh_less() -> None:
    pool = ["When is the Lisbon flight?", "Which hotel in Lisbon?", "Lisbon budget?",
            "When is the dentist?"]
    weights = WordWeights.from_questions(pool)
    assert weights.of("lisbon") < weights.of("dentist") < weights.of("unseen")
    asked, prepared = "Lisbon dentist?", "Lisbon flight?"
    assert question_match(asked, prepared, weights) < question_match(asked, prepared)
