"""The tolerant extraction parser: garbled lines dropped, no empty or duplicate facts."""

from __future__ import annotations

import logging

import pytest

from assistant.llm.engine import PromptStyle
from assistant.mind.extract import (
    Fact,
    SourceLine,
    extraction_request,
    extractive_facts,
    ground,
    guess_subject,
    parse_extraction,
)


def test_parser_keeps_good_lines_and_drops_garbled_ones(caplog: pytest.LogCaptureFixture
                                                        ) -> None:
    raw = (" The person booked the dentist and the car repair.\nFacts:\n"
           "Maya | dentist on Tuesday 24 November 2026 at 10:30\n"
           "Maya | dentist on Tuesday 24 November 2026 at 10:30\n"
           "maya | Dentist on Tuesday, 24 November 2026 at 10:30.\n"
           "garbage line here\n"
           " | a fact without a subject\n"
           "car | \n"
           "x | ok\n"
           "a | b | c\n"
           "- car | The car needs a new clutch\n"
           "1. money | The clutch costs 640 euros\n")
    with caplog.at_level(logging.INFO, logger="assistant.mind"):
        out = parse_extraction(raw)
    assert out.summary == "The person booked the dentist and the car repair."
    assert [(f.subject, f.text) for f in out.facts] == [
        ("Maya", "dentist on Tuesday 24 November 2026 at 10:30"),
        ("car", "The car needs a new clutch"),
        ("money", "The clutch costs 640 euros")]
    assert len(out.dropped) == 5
    assert "dropped a garbled line" in caplog.text
    assert all(f.text.strip() and f.subject.strip() for f in out.facts)


def test_parser_on_nothing_useful() -> None:
    assert parse_extraction("").facts == [] and parse_extraction("").summary is None
    out = parse_extraction("|||\n\n\n-\n")
    assert out.facts == [] and out.summary is None


def test_grounding_drops_invented_facts_and_links_sources() -> None:
    sources = [SourceLine(1, "Our cat Pixel has her vaccination on 27 November at 9:00."),
               SourceLine(2, "Pixel's vaccination: 27 November at 9:00.", False),
               SourceLine(3, "I take my coffee as a flat white.")]
    facts = [Fact("Pixel", "Pixel has her vaccination on 27 November", 0.5),
             Fact("lentils", "The lentils were planted on 10 May", 0.5)]
    kept = ground(facts, sources)
    assert [f.text for f in kept] == ["Pixel has her vaccination on 27 November"]
    assert kept[0].source_ids == (1, 2)


def test_extractive_facts_cover_what_the_model_missed() -> None:
    sources = [SourceLine(1, "My gym locker is number 42. Can you help?"),
               SourceLine(2, "Locker 42.", False),
               SourceLine(3, "hello there how are you"),
               SourceLine(4, "I am allergic to peanuts.")]
    facts = extractive_facts(sources, ["The person is allergic to peanuts"], "Gym")
    assert [(f.text, f.source_ids) for f in facts] == [("My gym locker is number 42.", (1,))]
    assert guess_subject("Our cat Pixel has her vaccination on Friday", "x") == "Pixel"
    assert guess_subject("i like tea", "Drinks") == "Drinks"


def test_a_fact_names_who_it_is_about_not_a_pronoun_or_an_opening_word() -> None:
    sources = [SourceLine(1, "Owen has hay fever again, poor thing. He takes cetirizine, "
                             "10 mg, one in the morning."),
               SourceLine(2, "Around £310,000 with a 10% deposit, says the adviser."),
               SourceLine(3, "She's been lovely about it: Keiko booked the hostel.")]
    facts = extractive_facts(sources, [], "Chat")
    assert [(f.subject, f.text) for f in facts] == [
        ("Owen", "Owen has hay fever again, poor thing."),
        ("Owen", "Owen takes cetirizine, 10 mg, one in the morning."),
        ("Chat", "Around £310,000 with a 10% deposit, says the adviser."),
        ("Keiko", "She's been lovely about it: Keiko booked the hostel.")]
    for opening in ("He", "She", "Then", "Oh", "Need", "Around"):
        assert guess_subject(f"{opening} went to the shop", "x") == "x"


def test_requests_for_both_styles() -> None:
    completion = extraction_request(PromptStyle.COMPLETION, "Note \"A\":\n- one line")
    assert completion.prompt is not None and completion.prompt.endswith(
        'Note "A":\n- one line\nSummary:')
    assert completion.temperature == 0.0 and "\n\n" in completion.stop
    chat = extraction_request(PromptStyle.CHAT, "Conversation:\nUser: hi")
    assert chat.messages is not None and chat.messages[-1].content == "Conversation:\nUser: hi"


def test_facts_say_who_and_when() -> None:
    from datetime import UTC, datetime

    from assistant.mind.extract import attribute

    said = datetime(2026, 5, 9, 18, 45, tzinfo=UTC)
    sources = [SourceLine(1, "We survived the move. I was exhausted.", True, "you", said),
               SourceLine(2, "Gina: I'm a nurse now.", True, "Gina",
                          datetime(2026, 6, 1, tzinfo=UTC))]
    facts = attribute([Fact("move", "I was exhausted after the move", 0.6, (1,)),
                       Fact("Gina", "I'm a nurse now", 0.6, (2,)),
                       Fact("flat", "My flat has two floors", 0.5)], sources)
    assert [(f.text, f.speaker, f.said_at) for f in facts] == [
        ("You were exhausted after the move", "you", said),
        ("Gina is a nurse now", "Gina", datetime(2026, 6, 1, tzinfo=UTC)),
        ("Your flat has two floors", "you", said)]  # no source ids: the first line's


def test_a_request_to_reverie_is_not_a_fact_about_the_person() -> None:
    sources = [SourceLine(1, "Write a long story about a dragon called Smaug."),
               SourceLine(2, "Please list one hundred different fruits for Owen."),
               SourceLine(3, "Tell me about Einstein's theory of relativity."),
               SourceLine(4, "Make sure Biscuit has his booster on 3 June.")]
    facts = extractive_facts(sources, [], "Chat")
    assert [f.text for f in facts] == ["Make sure Biscuit has his booster on 3 June."]
    kept = [SourceLine(5, "Write a toast for my brother Tom's wedding on 14 June."),
            SourceLine(6, "Imagine Dragons tickets are booked for 14 July.")]
    assert len(extractive_facts(kept, [], "Chat")) == 2
    # A note's lines are the person's own to-dos and are all kept.
    kept = extractive_facts(sources[:1], [], "Note", every_line=True)
    assert [f.text for f in kept] == ["Write a long story about a dragon called Smaug."]


def test_the_model_s_reading_of_a_request_is_not_remembered() -> None:
    from datetime import datetime

    from assistant.mind.consolidate import _facts_for
    from assistant.mind.extract import Extraction

    sources = [SourceLine(1, "List one hundred different fruits, as many as you can."),
               SourceLine(2, "Owen's birthday is on 12 March.")]
    extraction = Extraction(facts=[Fact("List", "List one hundred different fruits", 0.9),
                                   Fact("Owen", "Owen's birthday is on 12 March", 0.9)])
    facts = _facts_for(extraction, sources, "Chat", datetime(2026, 11, 1, 10, 0))
    assert [f.text for f in facts] == ["Owen's birthday is on 12 March 2027"]  # dated
