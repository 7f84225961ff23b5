"""An answer made clean: what the person reads, not what a small model rambled.

The bundled 270M model often answers in a participant's voice ("Gina: Jon and I both
love dance."), wraps the answer in quotation marks, prefixes it with "Reverie:" and
loops on one phrase. These rules turn such a completion into an answer: leading speaker
prefixes and surrounding quotes go, the text is cut where a new speaker turn starts,
and a sentence (or a phrase inside one) said a second time is dropped. Pure functions,
no model: `AnswerCleaner` does the same incrementally, so a streamed answer shows only
text that the final answer keeps.
"""

from __future__ import annotations

import re
import unicodedata

from assistant.text.words import normalize

#: What is answered when the memory holds nothing about the question.
DONT_KNOW = "I don't know."

#: A speaker prefix at the start of a line: one to three capitalised words, a colon.
#: (Not a time such as "10:30", not a URL such as "https://".)
_SPEAKER = re.compile(r"^[ \t]*(?:\*\*)?([^\W\d_][\w'’.-]*(?: [^\W\d_][\w'’.-]*){0,2})"
                      r"(?:\*\*)?[ \t]*:(?!//)[ \t]*", re.UNICODE)
#: Labels that look like "Name:" but introduce the answer itself.
_ANSWER_LABELS = frozenset({"answer", "a", "reply", "response", "reverie", "assistant",
                            "ai", "bot", "model"})
_QUOTES = {'"': '"', "'": "'", "“": "”", "”": "”", "‘": "’", "«": "»", "„": "“", "`": "`"}
#: Sentences end at . ! ? … (and a closing quote or bracket after them) or a line end.
_SENTENCE = re.compile(r"[^.!?…\n]*(?:[.!?…]+[\"'”’)\]]*|\n|$)")
#: Characters a small model emits that a person should not see.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad\ufffd"))
#: A phrase of at least this many words said again right after itself is a loop.
_MIN_LOOP_WORDS = 2
#: Words of an unfinished sentence held back while streaming (a loop may start there).
_HELD_WORDS = 4


def _is_speaker_line(line: str) -> str | None:
    """The speaker label that opens ``line`` ("Gina", "User"), or None."""
    m = _SPEAKER.match(line)
    if m is None:
        return None
    label = m.group(1)
    words = label.split(" ")
    if not all(w[0].isupper() for w in words) and label.casefold() not in _ANSWER_LABELS:
        return None
    return label


def _strip_prefixes(text: str) -> str:
    """``text`` without the speaker prefixes that open it ("Reverie: Gina: ...")."""
    while True:
        stripped = text.lstrip()
        label = _is_speaker_line(stripped.split("\n", 1)[0])
        if label is None:
            return stripped
        m = _SPEAKER.match(stripped)
        assert m is not None
        text = stripped[m.end():]


#: A line of the answer prompt's own layout that a small model may echo after its answer.
_SCAFFOLD = re.compile(r"\s*(\(nothing yet\)|Reference( excerpts[^:]*)?:|What Reverie knows about "
                       r"the person:)\s*|\s*\[\d+\] (today|chat|note|memory|summary)\b[^:]*: \".*")


def _cut_at_new_turn(text: str) -> tuple[str, bool]:
    """``text`` up to the first later line that starts a speaker turn or echoes the
    prompt's layout ("(nothing yet)", "Reference:"); True if cut."""
    lines = text.split("\n")
    for i, line in enumerate(lines[1:], 1):
        if _is_speaker_line(line) is not None or _SCAFFOLD.fullmatch(line):
            return "\n".join(lines[:i]), True
    return text, False


def _strip_quotes(text: str) -> str:
    """``text`` without quotation marks that wrap all of it (also an unclosed one)."""
    text = text.strip()
    while text and text[0] in _QUOTES:
        close = _QUOTES[text[0]]
        body = text[1:]
        tail = body.rstrip(".!?… ")
        if tail.endswith(close) and close not in tail[:-1]:
            text = (tail[:-1] + body[len(tail):]).strip()
        elif close not in body:
            text = body.strip()
        else:
            break
    if text and text[-1] in '"”' and sum(text.count(q) for q in '"“”') == 1:
        text = text[:-1].rstrip()
    return text


def _without_inner_loop(sentence: str) -> str:
    """``sentence`` with a phrase repeated back to back said once ("very very very good"
    stays for one word; "at 10:30 at 10:30 at 10:30" becomes "at 10:30")."""
    tokens = sentence.split(" ")
    changed = True
    while changed:
        changed = False
        for size in range(len(tokens) // 2, _MIN_LOOP_WORDS - 1, -1):
            for start in range(0, len(tokens) - 2 * size + 1):
                first = normalize(" ".join(tokens[start:start + size]))
                second = normalize(" ".join(tokens[start + size:start + 2 * size]))
                if first and first == second:
                    del tokens[start + size:start + 2 * size]
                    changed = True
                    break
            if changed:
                break
    if len(tokens) < len(sentence.split(" ")):  # a loop: a cut-off last repeat goes too
        for size in range(_MIN_LOOP_WORDS, len(tokens) // 2 + 1):
            for tail in range(size, 0, -1):
                unit = normalize(" ".join(tokens[-(tail + size):-tail]))
                rest = normalize(" ".join(tokens[-tail:]))
                if rest and unit.startswith(rest) and rest != unit:
                    return " ".join(tokens[:-tail])
    return " ".join(tokens)


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.findall(text) if s]


def _dedupe(text: str) -> tuple[str, bool]:
    """``text`` with every sentence said before dropped (and loops inside one sentence
    said once); True when a repeat was found (the model is looping)."""
    seen: set[str] = set()
    out: list[str] = []
    looped = False
    for sentence in _sentences(text):
        key = normalize(sentence)
        if not key:
            out.append(sentence)
            continue
        unfinished = not re.search(r"[.!?…\n][\"'”’)\]]*$", sentence)
        if key in seen or (unfinished and any(k.startswith(key) for k in seen)):
            looped = True
            continue
        seen.add(key)
        fixed = _without_inner_loop(sentence.strip(" "))
        if fixed != sentence.strip(" "):
            looped = True
        lead = sentence[: len(sentence) - len(sentence.lstrip(" "))]
        out.append(lead + fixed)
    return "".join(out), looped


def _tidy(text: str) -> str:
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    lines = [" ".join(line.split()) for line in text.split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def clean_answer(raw: str) -> str:
    """The answer in ``raw`` (a model's completion): no speaker prefix, no surrounding
    quotes, nothing after a line that starts another speaker's turn, no sentence or
    phrase said twice, no invisible characters. May be empty (nothing was answered)."""
    text = _tidy(raw)
    text = _strip_prefixes(text)
    text, _ = _cut_at_new_turn(text)
    text, _ = _dedupe(text)
    text = _strip_quotes(_tidy(text))
    return _strip_quotes(_strip_prefixes(text))


class AnswerCleaner:
    """`clean_answer` for a stream of pieces. `feed` returns the text that is safe to
    show now (complete sentences the final answer keeps), `finish` the rest; `done`
    turns True once the answer has ended (another speaker's turn began, or the model
    repeats itself), so generation can stop. `text` is the final clean answer."""

    def __init__(self) -> None:
        self._raw = ""
        self._shown = ""
        self.done = False
        self.text = ""

    def feed(self, piece: str) -> str:
        self._raw += piece
        tidy = _strip_prefixes(_tidy(self._raw))
        cut, ended = _cut_at_new_turn(tidy)
        deduped, looped = _dedupe(cut)
        self.done = self.done or ended or looped
        sentences = _sentences(deduped)
        if sentences and not re.search(r"[.!?…\n][\"'”’)\]]*$", sentences[-1]):
            # The last sentence may still grow, loop or turn out to be a repeat: show it
            # only up to a few words before where it stands now.
            words = sentences[-1].split(" ")
            sentences[-1] = " ".join(words[:-_HELD_WORDS]) if len(words) > _HELD_WORDS else ""
        settled = "".join(sentences)
        return self._show(_strip_quotes(settled.rstrip()) if settled.strip() else "")

    def finish(self) -> str:
        self.text = clean_answer(self._raw)
        return self._show(self.text)

    def _show(self, candidate: str) -> str:
        """The part of ``candidate`` not shown yet, if it continues what was shown."""
        if not candidate.startswith(self._shown) or len(candidate) <= len(self._shown):
            return ""
        new = candidate[len(self._shown):]
        self._shown = candidate
        return new
