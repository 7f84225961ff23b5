"""One-line text and clipping: what prompts, the profile block and lists rely on."""

from __future__ import annotations

import pytest

from assistant.text.lines import clip, is_blank, one_line


@pytest.mark.parametrize(("raw", "line"), [
    ("  plain  text ", "plain text"),
    ("a\r\nb\n\n\tc", "a b c"),
    # No-break, em and ideographic spaces, a line and a paragraph separator.
    ("a\u00a0b\u2003c\u3000d\u2028e\u2029f", "a b c d e f"),
    ("", ""),
    (" \n\t ", ""),
])
def test_one_line_folds_every_kind_of_whitespace(raw: str, line: str) -> None:
    assert one_line(raw) == line


def test_one_line_keeps_zero_width_characters_and_emoji() -> None:
    # A zero-width joiner is not whitespace: the family emoji must stay whole.
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
    assert one_line(f"{family}\n  ok") == f"{family} ok"


def test_clip_cuts_at_a_word_and_says_so() -> None:
    assert clip("short", 10) == "short"
    assert clip("exactly10!", 10) == "exactly10!"
    assert clip("one two three four", 9) == "one two …"
    assert clip("αβγ δεζ ηθι", 6) == "αβγ …"
    assert clip("nospacesatall", 4) == "nosp …"  # no word boundary: a hard cut


def test_is_blank_sees_through_invisible_characters() -> None:
    assert is_blank("") and is_blank(" \n\t\u3000") and is_blank("\u202e\u200b\ufeff\u2060")
    assert not is_blank("\u200bx") and not is_blank("\U0001F511") and not is_blank("·")
