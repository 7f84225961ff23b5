"""What an answer may be drawn from: current evidence only.

A value corrected later (the appointment moved, the rent went up) must never reach an
answer. Superseded memories are never retrieved (`Retriever`); this module leaves out
the rest of the old value's carriers among the retrieved hits:

- a message whose facts were all superseded by sleep-time reconciliation
  (`store.memories.outdated_messages`);
- a snippet that a newer retrieved snippet corrects, by the same rules reconciliation
  uses (`assistant.text.corrections.classify`: the same subject, a cue or a new value
  of the same kind), judged sentence by sentence on the sentences about the question,
  so that a correction not yet digested by sleep still wins.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from assistant.recall.extractive import sentences
from assistant.recall.retrieval import Hit
from assistant.text.corrections import Change, classify
from assistant.text.lines import one_line
from assistant.text.words import meaning_words

#: Finds, among message ids, those whose facts were all superseded.
OutdatedLookup = Callable[[list[int]], set[int]]


def _sentences(text: str) -> list[str]:
    return sentences(text) or [one_line(text)]


def _corrects(newer: Hit, older: Hit, wanted: set[str]) -> bool:
    """True if a sentence of ``newer`` about the question corrects one of ``older``."""
    new = [s for s in _sentences(newer.text) if wanted & meaning_words(s)]
    old = [s for s in _sentences(older.text) if wanted & meaning_words(s)]
    return any(classify(n, "", o, "") is not Change.NONE for n in new for o in old)


def current_hits(question: str, hits: Sequence[Hit],
                 outdated: OutdatedLookup | None = None) -> list[Hit]:
    """``hits`` (in their order) without the messages whose facts were superseded and
    without any hit that a newer hit corrects. Hits of unknown date are kept, and never
    taken to correct another."""
    gone: set[int] = set()
    messages = [h.id for h in hits if h.kind == "message"]
    if outdated is not None and messages:
        gone = outdated(messages)
    kept = [h for h in hits if not (h.kind == "message" and h.id in gone)]
    wanted = meaning_words(question)
    out = []
    for hit in kept:
        if hit.created_at is not None and hit.kind != "note" and any(
                other.created_at is not None and other.kind != "note"
                and other.created_at > hit.created_at and _corrects(other, hit, wanted)
                for other in kept):
            continue
        out.append(hit)
    return out
