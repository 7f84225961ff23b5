"""`text.handovers`: who holds a role now, when a later text says someone handed it on."""

from __future__ import annotations

import time

import pytest

from assistant.text.handovers import asked_role, same_role, search_word, successor


@pytest.mark.parametrize(("text", "name", "role", "who"), [
    ("Letter from Mr. Hartley: he's selling the building. The new owner is a Priti Shah, "
     "from 1 September.", "Mr. Hartley", "landlord", "Priti Shah"),
    ("Tomas is leaving at the end of the month; my new manager will be Folasade Adeyemi.",
     "Tomas", "manager", "Folasade Adeyemi"),
    ("Dr Patel retired last week. Dr Okafor takes over her patients.", "Dr Patel", "gp",
     "Dr Okafor"),
    ("Coach Mike stepped down and was replaced by Jo Bell.", "Mike", "coach", "Jo Bell"),
    ("Dr Patel has retired and Dr Okafor is our new GP.", "Dr Patel", "gp", "Dr Okafor"),
    ("Hartley sold the flat to Priti Shah.", "Hartley", "landlord", "Priti Shah"),
    ("Tomas left. Ana took over.", "Tomas", "manager", "Ana"),
    ("Tomas is leaving. Ana is the new manager.", "Tomas", "line manager", "Ana"),
    ("Hartley is selling the house. New owner: Priti Shah.", "Hartley", "owner",
     "Priti Shah"),
    ("Tomas is retiring, succeeded by Ana Lima.", "Tomas", "manager", "Ana Lima"),
    ("Tomas is retiring. His successor is Ana.", "Tomas", "boss", "Ana"),
    ("Mr. O’Neill is selling the flat; the new owner is Ann Lee.", "Mr. O'Neill",
     "landlord", "Ann Lee"),
    ("Tomas is leaving; from Monday Ana takes over.", "Tomas", "manager", "Ana"),
    ("Tomas is leaving. Then Ana takes over.", "Tomas", "manager", "Ana"),
    ("Tomas is leaving after all; the new manager is Ana.", "Tomas", "manager", "Ana"),
    ("Ms Żaneta Kowalska is retiring, the new head is Ana Sousa.", "Żaneta Kowalska",
     "head", "Ana Sousa"),
])
def test_a_hand_over_names_who_holds_the_role_now(text: str, name: str, role: str,
                                                  who: str) -> None:
    assert successor(text, name, role) == who


@pytest.mark.parametrize(("text", "name", "role"), [
    ("Tomas is leaving.", "Tomas", "manager"),  # no one named in their place
    ("Sam is selling his car. The new owner is Jo Bell.", "Sam", "landlord"),  # not a home
    ("Tomas is leaving the company; the new manager is Ana Lima.", "Tomas", "dentist"),
    ("Dr Patel is leaving the choir, the new choir leader is Sam Bell.", "Dr Patel",
     "dentist"),
    ("Anna is leaving Leeds next month. Her new flat is in York, the new landlord is Ken "
     "Ward.", "Anna", "sister"),
    ("Mr. Hartley isn't selling after all. The new boiler is Worcester Bosch.",
     "Mr. Hartley", "landlord"),
    ("Tomas is not retiring. Ana takes over the Leeds office.", "Tomas", "manager"),
    ("Is Tomas leaving? The new manager is Ana, if so.", "Tomas", "manager"),
    ("Tomas said Jo is leaving; the new manager is Ana.", "Tomas", "manager"),
    ("We are leaving Tomas's house at 6. The new restaurant is Dishoom.", "Tomas",
     "manager"),
    ("Hartley is leaving for Spain on Friday. Our new car is a Tesla.", "Hartley",
     "landlord"),
    ("Sam is leaving the party early. The new baby is Lily.", "Sam", "host"),
    ("Mr. Brown is selling the building. The new owner is Jo Bell.", "Mr", "landlord"),
    ("Mr. Brown is selling the building. The new owner is Jo Bell.", "Miss", "landlord"),
    ("Tomas is leaving; the new manager is Tomas's boss Ana.", "Tomas", "manager"),
    ("Tomas is leaving. Nobody takes over.", "Tomas", "manager"),
    ("Tomas is leaving; the new manager is TBC.", "Tomas", "manager"),
    ("Tomas is leaving; the new manager is Tomas.", "Tomas", "manager"),
    ("Tomas is leaving the meeting early; the new date is Monday.", "Tomas", "manager"),
    ("Our new neighbour is Sam; Hartley left a note.", "Hartley", "landlord"),
    ("Dr Patel retired. The new GP is Dr Okafor.", "Tomas", "gp"),  # someone else
    ("", "Tomas", "manager"),
    ("Tomas is leaving; the new manager is Ana.", "", "manager"),
    ("Tomas is leaving; the new manager is Ana.", "Tomas", ""),
])
def test_no_successor_without_a_real_hand_over_of_that_role(text: str, name: str,
                                                            role: str) -> None:
    assert successor(text, name, role) is None


def test_long_texts_are_read_in_linear_time() -> None:
    """A long run of capitals once took 20 s (each capital a new start)."""
    texts = ["Tomas is leaving the lab, here is the primer he left: " + "ACGT" * 20_000,
             "A" * 80_000, "Tomas is leaving. " + "Abc " * 20_000,
             "Tomas is leaving. new " + "a " * 20_000,
             ("Tomas " + "x " * 10 + "leaving. ") * 2_000]
    started = time.perf_counter()
    assert all(successor(text, "Tomas", "manager") is None for text in texts)
    assert time.perf_counter() - started < 5.0


@pytest.mark.parametrize(("question", "role"), [
    ("Who is our landlord?", "landlord"), ("Who's my GP?", "gp"),
    ("Who is our mortgage adviser?", "mortgage adviser"), ("Who was Owen's manager?",
                                                           "manager"),
    ("who is the new owner", "owner"), ("Who walks Biscuit?", None),
    ("Who did I meet on Tuesday?", None), ("Who is it?", None), ("Who is my manager and "
                                                                  "why?", None),
])
def test_asked_role_is_the_role_a_who_question_asks_about(question: str,
                                                          role: str | None) -> None:
    assert asked_role(question) == role


def test_roles_and_names_are_compared_by_their_last_word() -> None:
    assert same_role("line manager", "manager") and same_role("GP", "gp")
    assert not same_role("choir leader", "dentist")
    assert search_word("Mr. O’Neill") == "Neill" and search_word("Dr") == ""
