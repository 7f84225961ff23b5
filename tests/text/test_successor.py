"""`text.corrections.successor`: who takes a role over, when a later text hands it on."""

from __future__ import annotations

import time

import pytest

from assistant.text.corrections import successor


@pytest.mark.parametrize(("text", "name", "who"), [
    ("Letter from Mr. Hartley: he's selling the building. The new owner is a Priti Shah, "
     "from 1 September.", "Mr. Hartley", "Priti Shah"),
    ("Tomas is leaving at the end of the month; my new manager will be Folasade Adeyemi.",
     "Tomas", "Folasade Adeyemi"),
    ("Dr Patel retired last week. Dr Okafor takes over her patients.", "Dr Patel",
     "Dr Okafor"),
    ("Coach Mike stepped down and was replaced by Jo Bell.", "Mike", "Jo Bell"),
    ("The new owner's Priti Shah; Hartley sold up.", "Mr. Hartley", "Priti Shah"),
    ("Ms Żaneta Kowalska is retiring, the new head is Ana Sousa.", "Żaneta Kowalska",
     "Ana Sousa"),
])
def test_a_hand_over_names_who_has_the_role_now(text: str, name: str, who: str) -> None:
    assert successor(text, name) == who


@pytest.mark.parametrize(("text", "name"), [
    ("Tomas is leaving.", "Tomas"),  # no one named in their place
    ("Mr. Hartley came round to fix the boiler. The new owner is Priti.", "Mr. Hartley"),
    ("Our new neighbour is Sam; Hartley left a note.", "Hartley"),  # gives nothing up
    ("Sam is selling his bike. The new owner is Hartley.", "Hartley"),  # the buyer
    ("Dr Patel retired. The new GP is Dr Okafor.", "Tomas"),  # someone else
    ("", "Tomas"),
    ("Tomas is leaving; the new manager is Tomas.", "Tomas"),
    ("Hartley is selling the flat. The new owner is I think unknown.", ""),
    ("Tomas is leaving the meeting early; the new date is Monday.", "Tomas"),
    ("Tomas is leaving early, the new deadline is 3 May.", "Tomas"),
])
def test_no_hand_over_without_the_person_giving_up_and_a_successor(text: str,
                                                                   name: str) -> None:
    assert successor(text, name) is None


def test_a_long_text_is_read_quickly() -> None:
    """Linear: a run of 20,000 capitalised words once took seconds per thousand."""
    texts = [("Hartley " + "word " * 20_000 + "new owner is ") * 3,
             "Hartley is selling. " + "Abc " * 20_000,
             "Hartley is selling. new " + "a " * 20_000]
    started = time.perf_counter()
    assert all(successor(text, "Hartley") is None for text in texts)
    assert time.perf_counter() - started < 2.0
