"""`bench match` gives each prepared question the context the app would have, derived
from the fixtures, and says which prepared questions have none."""

from __future__ import annotations

from assistant.bench.match import fixture_contexts, paraphrase_contexts, separability


def test_contexts_come_from_the_fixture_answer_and_the_message_holding_the_source() -> None:
    known = fixture_contexts(["What is Owen's car called?", "Who is our landlord?",
                              "Not a fixture question?"])
    car = known.contexts["What is Owen's car called?"]
    assert car.answer == "Gerald"
    assert "registration WU18 KPX" in car.text and "Owen has named it Gerald" in car.text
    # In both fixtures: the two-person one comes first.
    assert known.contexts["Who is our landlord?"].answer == "Priti Shah"
    assert known.missing == ["Not a fixture question?"]


def test_every_paraphrase_but_two_has_a_fixture_context() -> None:
    known = paraphrase_contexts("paraphrases_calibration.json", "paraphrases_heldout.json")
    assert known.missing == ["Is Lucas allergic to eggs?", "What is the Wi-Fi password?"]
    assert len(known.contexts) >= 48
    assert all(c.answer and c.text.startswith(c.answer) for c in known.contexts.values())


def test_separability_is_the_chance_a_rephrasing_outscores_a_near_miss() -> None:
    assert separability([True, False], [0.9, 0.1]) == 1.0
    assert separability([True, False], [0.1, 0.9]) == 0.0
    assert separability([True, True, False], [0.5, 0.9, 0.5]) == 0.75
    assert separability([True], [0.3]) == 0.5  # no near-miss to compare
