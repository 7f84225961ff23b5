"""Words of any text: splitting, stemming, stop words, numbers, duplicate keys."""

from __future__ import annotations

from assistant.text.words import meaning_words, normalize, numbers, stem, words


def test_words_keep_times_amounts_and_contractions() -> None:
    assert words("At 10:30 I'm paying 1,200 for Anna's 2 tickets.") == [
        "at", "10:30", "i'm", "paying", "1,200", "for", "anna's", "2", "tickets"]


def test_meaning_words_drop_stop_words_and_plural_endings() -> None:
    assert meaning_words("I need to water the tomato plants") == {"water", "tomato", "plant"}
    assert meaning_words("the parties at Anna's") == {"party", "anna"}
    assert meaning_words("what is it?") == set()
    assert stem("bus") == "bus" and stem("glasses") == "glass" and stem("cities") == "city"
    # "es" goes only after a hissing sound: "brakes" is "brake", as it is asked
    assert [stem(w) for w in ("brakes", "dates", "boxes", "churches", "moves", "bonus",
                              "taxis", "potatoes", "shoes", "houses")] == [
        "brake", "date", "box", "church", "move", "bonus", "taxi", "potato", "shoe", "house"]
    assert meaning_words("The brakes came to £210") & meaning_words("brake repair cost")


def test_composed_and_decomposed_letters_are_the_same_word() -> None:
    composed = "Zo\u00eb's caf\u00e9"
    decomposed = "Zoe\u0308's cafe\u0301"
    assert meaning_words(composed) == meaning_words(decomposed) == {"zoë", "café"}


def test_typographic_apostrophes_ligatures_and_full_width_forms() -> None:
    assert words("I\u2019m at Anna\u2019s") == words("I'm at Anna's")
    assert words("\ufb01le") == ["file"]  # the "fi" ligature
    assert words("\uff2e\uff4f.\uff11\uff12") == ["no", "12"]  # full-width letters, digits
    assert meaning_words("I\u2019m going") == set()  # "i'm" stays a stop word


def test_letters_of_any_script_are_words() -> None:
    assert words("Москва и 東京タワー, Ελλάδα") == ["москва", "и", "東京タワー", "ελλάδα"]
    assert words("STRASSE") == words("Straße")  # case folding, not just lower()
    assert words("\U0001f389 party \U0001f382!") == ["party"]  # emoji are not words


def test_numbers_and_duplicate_keys() -> None:
    assert numbers("Bus 42 at 7:15, costs 3.50 on \uff12\uff14") == {"42", "7:15", "3.50", "24"}
    assert normalize("  Dentist:\tTuesday,  10:30!! ") == "dentist tuesday 10:30"
    assert normalize("Dentist — Tuesday 10:30") == normalize("dentist tuesday 10:30")
    assert normalize("?!…") == ""
