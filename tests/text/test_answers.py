"""The answer cleaner on real bad outputs of the bundled 270M model."""

from __future__ import annotations

import pytest

from assistant.text.answers import AnswerCleaner, clean_answer

CASES = [
    # surrounding quotes (the model quotes the snippet it read)
    ('"Tuesday 24 November at 10:30."', "Tuesday 24 November at 10:30."),
    ("\u201cIt will cost 640 euros.\u201d", "It will cost 640 euros."),
    ('"She turns 35 this year.', "She turns 35 this year."),
    # speaker prefixes, also stacked
    ("Reverie: Gina: Jon and I both have a love for dance.",
     "Jon and I both have a love for dance."),
    ('Reverie: "It will cost 640 euros."', "It will cost 640 euros."),
    ("Assistant: The rent is 950 euros.", "The rent is 950 euros."),
    # the dialogue continued: cut at the next speaker's turn
    (" The dentist is on Tuesday.\nUser: thanks\nReverie: ok", "The dentist is on Tuesday."),
    ("Jon: I am going to the studio.\nGina: me too", "I am going to the studio."),
    ("I think so.\n\nGina: no", "I think so."),
    # loops
    ("It is at 10:30. It is at 10:30. It is at 10:30.", "It is at 10:30."),
    ("It is at 10:30. It is at 10:30. It is at 1", "It is at 10:30."),
    ("at 10:30 at 10:30 at 10:30 at 10:", "at 10:30"),
    ("See you at the cafe at the cafe at the", "See you at the cafe"),
    # odd Unicode: zero-width and byte-order marks, decomposed accents
    ("Assistant: \u200bThe rent is 950 euros.\ufeff", "The rent is 950 euros."),
    ("Cafe\u0301 Lumie\u0300re.", "Caf\u00e9 Lumi\u00e8re."),
    # empty
    ("", ""),
    ("  \n ", ""),
    ('""', ""),
]

KEPT = [
    '"Paris" is the capital.',
    "Meeting at 10:30: bring notes.",
    "See https://example.org for it.",
    "Yes. No.",
    "The plan is very very good.",
]


@pytest.mark.parametrize(("raw", "clean"), CASES)
def test_clean_answer(raw: str, clean: str) -> None:
    assert clean_answer(raw) == clean


@pytest.mark.parametrize("raw", KEPT)
def test_a_clean_answer_is_kept(raw: str) -> None:
    assert clean_answer(raw) == raw


@pytest.mark.parametrize(("raw", "clean"), CASES + [(k, k) for k in KEPT])
@pytest.mark.parametrize("piece", [1, 3, 7])
def test_streamed_pieces_add_up_to_the_clean_answer(raw: str, clean: str, piece: int) -> None:
    cleaner = AnswerCleaner()
    shown = "".join(cleaner.feed(raw[i:i + piece]) for i in range(0, len(raw), piece))
    shown += cleaner.finish()
    assert cleaner.text == clean
    assert shown == clean


def test_done_when_a_new_turn_starts_or_the_model_loops() -> None:
    turn = AnswerCleaner()
    turn.feed("The dentist is on Tuesday.\n")
    assert not turn.done
    turn.feed("User: thanks")
    assert turn.done
    loop = AnswerCleaner()
    loop.feed("It is at 10:30. It is at 10:30.")
    assert loop.done


def test_an_echo_of_the_prompt_layout_ends_the_answer() -> None:
    assert clean_answer('"Paris."\n(nothing yet)') == "Paris."
    assert clean_answer("Paris.\nReference:\n[1] today") == "Paris."
    assert clean_answer("Milk\n- eggs") == "Milk\n- eggs"
    steps = "The steps:\n[1] Preheat the oven.\n[2] Bake."
    assert clean_answer(steps) == steps  # a numbered list of the answer's own
    assert clean_answer('Paris.\n[2] chat "Evenings", you, Monday: "Choir"') == "Paris."
