"""Lines told of their speaker: "I" becomes "you" (the person) or the speaker's name."""

from __future__ import annotations

import pytest

from assistant.text.speakers import PERSON, in_third_person, speaker_of


@pytest.mark.parametrize(("text", "speaker", "told"), [
    ("I'm living my true self.", "Gina", "Gina is living Gina's true self."),
    ("Owen and I got the keys! I need to tell the bank.", PERSON,
     "Owen and you got the keys! You need to tell the bank."),
    ("My doctor there is Dr. Ellison", PERSON, "Your doctor there is Dr. Ellison"),
    ("User moved to Bristol; the user's rent is 950.", PERSON,
     "You moved to Bristol; your rent is 950."),
    ("Gina: I was a nurse.", "Gina", "Gina was a nurse."),
    ("Tell me about Mine Road.", PERSON, "Tell you about Mine Road."),  # "Mine" is a name
    ("A user of the app said so.", PERSON, "A user of the app said so."),
])
def test_first_person_is_told_of_the_speaker(text: str, speaker: str, told: str) -> None:
    assert in_third_person(text, speaker) == told


def test_speaker_of_a_line() -> None:
    assert speaker_of("Gina: Jon and I both love dance.", is_person=True) == "Gina"
    assert speaker_of("Jon and I both love dance.", is_person=True) == PERSON
    assert speaker_of("Noted: the 5th.", is_person=False) == "Reverie"
    assert speaker_of("Update: the van is booked.", is_person=True) == PERSON  # a label
