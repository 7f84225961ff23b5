"""What an answer may be drawn from: current evidence only.

A value corrected later (the appointment moved, the rent went up) must never reach an
answer. Superseded memories are never retrieved (`Retriever`); this module leaves out
the rest of the old value's carriers among the retrieved hits:

- a message whose facts were all superseded by sleep-time reconciliation
  (`store.memories.outdated_messages`): the facts that superseded them take its place,
  so that a question worded like the old message still finds the new value;
- a snippet that a newer retrieved snippet corrects, by the same rules reconciliation
  uses (`assistant.text.corrections.classify`: the same subject, a cue or a new value
  of the same kind), judged sentence by sentence on the sentences about the question,
  so that a correction not yet digested by sleep still wins;
- a snippet that a newer one answers again with another value of the kind the question
  asks for (`answers_again`: "Owen offered £5,900 for the Fabia", then "Dafydd came
  back at £6,100 and Owen took it", asked "How much did Owen pay for his car?"), even
  where no cue says so and the only subject word they share is a name: the question
  says what they are both about.

The profile block that opens the prompt was written at sleep time; a line of it that
copies a snippet left out here is left out of it too (`current_profile`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from assistant.recall.extractive import question_kind
from assistant.recall.retrieval import Hit
from assistant.recall.support import subject_words, terms
from assistant.text.corrections import Change, ValueKind, about_someone_else, classify, read
from assistant.text.handovers import asked_role, holder, successor
from assistant.text.lines import one_line, sentences
from assistant.text.similarity import word_overlap
from assistant.text.words import meaning_words

#: Finds, among message ids, those whose facts were all superseded, each with the hits
#: of the facts that now hold in their place.
OutdatedLookup = Callable[[list[int]], Mapping[int, Sequence[Hit]]]
#: The message from a time on in which a person hands a role on (`Retriever.handed_over`).
HandoverLookup = Callable[[str, str, datetime], Hit | None]


def _sentences(text: str) -> list[str]:
    return sentences(text) or [one_line(text)]


#: The kinds of value that answer each kind of question (`question_kind`).
_ANSWERED_BY = {"time": (ValueKind.TIME, ValueKind.DATE), "amount": (ValueKind.AMOUNT,),
                "person": (ValueKind.PERSON,), "place": (ValueKind.PLACE,)}


def answers_again(new: str, old: str, question: str) -> bool:
    """True if the sentence ``new`` answers ``question`` where ``old`` did, with another
    value: both state a value of the kind asked for and share none, ``new`` says
    every subject word of the question that ``old`` says (at least one), and ``new`` is
    not about someone else ("Keiko now moves to Glasgow on 6 September" does not answer
    "When did we move into the flat?" again after "We move the boxes on 9 May")."""
    kinds = _ANSWERED_BY.get(question_kind(question))
    if kinds is None:
        return False
    if about_someone_else(new, old):
        return False
    subject = set(subject_words(question))
    said_old, said_new = subject & set(terms(old)), subject & set(terms(new))
    if not said_old or not said_old <= said_new:
        return False
    new_read, old_read = read(new), read(old)
    new_values = {v for k in kinds for v in new_read.values.get(k, ())}
    old_values = {v for k in kinds for v in old_read.values.get(k, ())}
    return bool(new_values and old_values) and not new_values & old_values


def _corrects(newer: Hit, older: Hit, wanted: set[str], question: str) -> bool:
    """True if a sentence of ``newer`` about the question corrects one of ``older``, or
    answers the question again with another value."""
    new = [s for s in _sentences(newer.text) if wanted & meaning_words(s)]
    old = [s for s in _sentences(older.text) if wanted & meaning_words(s)]
    return any(classify(n, "", o, "") is not Change.NONE or answers_again(n, o, question)
               for n in new for o in old)


def current_hits(question: str, hits: Sequence[Hit],
                 outdated: OutdatedLookup | None = None,
                 handovers: HandoverLookup | None = None) -> list[Hit]:
    """``hits`` (in their order) with each message whose facts were superseded replaced
    by the facts that hold now (those not retrieved already), and without any hit that
    a newer hit corrects. Hits of unknown date are kept, and never taken to correct
    another; nor is a summary, which restates its sources ("Priti Shah, the owner, rents
    a flat in Bristol" corrects nothing of "The new flat is 14 Cotham Vale"). For a
    question about who holds a role, a hit naming the holder gives way to the text in
    which they hand it on (`handed_over`)."""
    gone: Mapping[int, Sequence[Hit]] = {}
    messages = [h.id for h in hits if h.kind == "message"]
    if outdated is not None and messages:
        gone = outdated(messages)
    kept: list[Hit] = []
    seen = {(h.kind, h.id) for h in hits}
    for hit in hits:
        if hit.kind != "message" or hit.id not in gone:
            kept.append(hit)
            continue
        for newer in gone[hit.id]:
            if (newer.kind, newer.id) not in seen:
                seen.add((newer.kind, newer.id))
                kept.append(newer)
    wanted = meaning_words(question)
    out = []
    for hit in kept:
        if hit.created_at is not None and hit.kind != "note" and any(
                other.created_at is not None and other.kind != "note" and not other.summary
                and other.created_at > hit.created_at
                and _corrects(other, hit, wanted, question)
                for other in kept):
            continue
        out.append(hit)
    if handovers is not None:
        return handed_over(question, out, handovers)
    return out


def handed_over(question: str, hits: Sequence[Hit], handovers: HandoverLookup) -> list[Hit]:
    """For a question about who holds a role (`text.handovers.asked_role`: "Who is our
    landlord?"), ``hits`` with each dated one that states the holder
    (`text.handovers.holder`: "The landlord is a Mr. Hartley.") replaced by the text in
    which they hand it on, its own or a later message ("Letter from Mr. Hartley: he's
    selling the building. The new owner is a Priti Shah"), with `Hit.takes_over` set,
    unless a hit newer than that text states a holder again ("the sale fell through, so
    Mr. Hartley is still our landlord"). A message retrieved already is not repeated:
    it answers from the better of the two places. Other questions: ``hits`` as they are."""
    role = asked_role(question)
    if role is None:
        return list(hits)
    holders = [_holders(hit, role) if hit.created_at is not None and not hit.summary
               else [] for hit in hits]
    stated_at = [hit.created_at for hit, names in zip(hits, holders, strict=True)
                 if names and hit.created_at is not None]
    replaced: dict[int, Hit] = {}
    looked: dict[tuple[str, datetime], Hit | None] = {}
    for index, (hit, names) in enumerate(zip(hits, holders, strict=True)):
        for name in names:
            assert hit.created_at is not None
            own = successor(hit.text, name, role)
            if own is not None:
                later: Hit | None = replace(hit, takes_over=(own, name))
            else:
                key = (name, hit.created_at)
                if key not in looked:
                    looked[key] = handovers(name, role, hit.created_at)
                later = looked[key]
            if later is not None and not any(
                    later.created_at is not None and when > later.created_at
                    for when in stated_at):
                replaced[index] = later
                break
    if not replaced:
        return list(hits)
    where = {(h.kind, h.id): i for i, h in enumerate(hits)}
    at: dict[int, Hit] = {}
    for index, later in replaced.items():  # the better place of the two
        place = min(index, where.get((later.kind, later.id), index))
        at.setdefault(place, later)
    moved = {(h.kind, h.id) for h in at.values()}
    out: list[Hit] = []
    seen: set[tuple[str, int]] = set()
    for index, hit in enumerate(hits):
        chosen = at.get(index)
        if chosen is None and (index in replaced or (hit.kind, hit.id) in moved):
            continue
        chosen = chosen or hit
        if (chosen.kind, chosen.id) not in seen:
            seen.add((chosen.kind, chosen.id))
            out.append(chosen)
    return out


def _holders(hit: Hit, role: str) -> list[str]:
    """Whom ``hit`` states to hold ``role``, a sentence at a time."""
    found = (holder(sentence, role) for sentence in _sentences(hit.text))
    return [who for who in found if who is not None]


#: A profile line this close (`word_overlap`) to a snippet left out as outdated copies it.
COPY_OVERLAP = 0.6


def corrected(retrieved: Sequence[Hit], current: Sequence[Hit]) -> list[Hit]:
    """The ``retrieved`` hits that `current_hits` left out (``current``): outdated."""
    kept = {(h.kind, h.id) for h in current}
    return [h for h in retrieved if (h.kind, h.id) not in kept]


def current_profile(profile: str, outdated: Sequence[Hit]) -> str:
    """``profile`` without its "- " lines that copy an ``outdated`` snippet or one of its
    sentences ("we're thinking Crete, 25 July to 1 August" after "Holiday changed:
    Alghero in Sardinia"); unchanged when nothing is outdated."""
    if not outdated or not profile:
        return profile
    said = [t for h in outdated for t in (h.text, *_sentences(h.text))]
    lines = profile.split("\n")
    kept = [line for line in lines if not (
        line.startswith("- ") and any(word_overlap(line[2:], t) >= COPY_OVERLAP for t in said))]
    return profile if len(kept) == len(lines) else "\n".join(kept)
