"""The sleep-time backlog: what is not digested yet, in which order, and how long it takes.

After a big import the backlog is a year of chats: at the bundled model's speed, many
hours of idle time. This module finds it, ranks it and reports it, with a cost that does
not grow with the number of conversations in queries (a few set-based statements, read
from indexes: ``ix_message_undigested`` holds only the messages not yet consolidated).

Order (`rank`): newest first. A conversation's age is the time since its newest
undigested message; a topic that comes back in other titles counts as if it were up to
`RECURRING_DAYS` newer, and one the person has been asking about (their recent
questions' words against the title) up to `ASKED_DAYS` newer. The priority falls by half
every `HALF_LIFE_DAYS` of that effective age, inside the consolidation band (above
titles, the profile and anticipation; below a due briefing).

Trivial conversations ("thanks", "ok", a one-liner of a few words, blank lines) are
*marked digested without the model*, all of them in ONE batched work item
(`TRIVIAL_KIND`, `SetAsideTrivialHandler`): the model would spend a call on each and
find nothing worth remembering. The journal says how many were set aside.

Figures (`backlog_figures`): the work items and model tokens still needed to digest
everything, the idle time that takes at this machine's measured speed (tokens per second
of recent sleep sessions, as stored in ``sleep_session``; `DEFAULT_TOKENS_PER_S` before
the first), and the share of messages and notes already digested.
"""

from __future__ import annotations

import json
import logging
import math
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text, update
from sqlalchemy.engine import Connection
from sqlmodel import Session, col

from assistant.mind.agenda import Proposal
from assistant.mind.consolidate import (
    CHUNK_TOKENS,
    CONVERSATION_KIND,
    MAX_CHUNKS_PER_ITEM,
    MAX_LINE_CHARS,
    NOTE_KIND,
)
from assistant.mind.work import WorkContext, WorkOutcome
from assistant.store.db import Database
from assistant.store.models import Message, WorkItem, WorkState, utcnow
from assistant.text.words import meaning_words

log = logging.getLogger("assistant.mind")

#: The one work item that sets trivial conversations aside (target `TRIVIAL_TARGET`).
TRIVIAL_KIND = "set_aside_trivial"
TRIVIAL_TARGET = "chats"
#: It costs no model call, so it goes first.
TRIVIAL_PRIORITY = 1.0
#: Trivial turns are at most this long (an acknowledgement and a short reply) ...
TRIVIAL_TOKENS = 150
#: ... and the person said fewer words than this beyond an acknowledgement.
TRIVIAL_MEANING_WORDS = 2
TRIVIAL_MAX_MESSAGES = 4
#: Words of an acknowledgement: nothing the person said in it is worth remembering.
_ACK_TEXT = """
thanks thank thx ty cheers ok okay k great perfect nice cool brilliant awesome good fine work
sure yes yep yeah no nope alright right got understood makes sense helped helpful works
that this it much lot appreciate appreciated welcome bye hi hello hey lol haha wow love
"""
ACK_WORDS = frozenset(_ACK_TEXT.split())

#: Priorities: the consolidation band, between a due briefing (0.9) and titles (0.1).
BAND_LOW = 0.3
BAND_HIGH = 0.85
HALF_LIFE_DAYS = 7.0
RECURRING_DAYS = 2.0
ASKED_DAYS = 5.0
#: A word in more than this share of all titles is not a topic ("help", "question").
TOPIC_MAX_SHARE = 0.05
#: The person's recent questions that steer the order.
RECENT_QUESTIONS = 100

#: Rough size of a token of English text, for estimates that must not read the text.
CHARS_PER_TOKEN = 4
#: "User (Monday 16 November 2026): " before every line of a chunk.
LINE_PREFIX_TOKENS = 10
#: What one consolidation chunk costs beyond its text: the prompt's instructions and
#: examples (consolidate_completion.txt, about 230 tokens) and the answer (up to 64).
CHUNK_OVERHEAD_TOKENS = 300
#: Tokens per item of the other kinds until the journal has measured them (items done).
DEFAULT_ITEM_TOKENS = {"title_conversation": 1000, "anticipate": 4000, "warm_prefix": 700,
                       "rebuild_profile": 0, "embed_memories": 0, "briefing": 0,
                       TRIVIAL_KIND: 0}
FALLBACK_ITEM_TOKENS = 1000
#: Before any session was measured: about the bundled model's decode speed on a 2-core
#: laptop (prefill is faster, so this errs towards "it takes longer").
DEFAULT_TOKENS_PER_S = 50.0
#: Recent sessions that set the measured speed, and the journal entries per-kind costs use.
SPEED_SESSIONS = 10
COST_ENTRIES = 500
MIN_COST_SAMPLES = 3


# -- what is undigested ---------------------------------------------------------------------

_UNDIGESTED_SQL = text("""
SELECT conversation_id, max(created_at), count(*) FROM message
WHERE consolidated_at IS NULL GROUP BY conversation_id
""")
_CHANGED_NOTES_SQL = text("""
SELECT id, title, updated_at, length(body) FROM note
WHERE consolidated_hash IS NULL OR consolidated_hash != content_hash
""")
_SMALL_TURNS_SQL = text("""
SELECT conversation_id, role, content FROM message
WHERE consolidated_at IS NULL AND conversation_id IN (SELECT value FROM json_each(:ids))
""")
_RECENT_QUESTIONS_SQL = text("""
SELECT m.content FROM message m
WHERE m.role = 'user' AND m.origin = 'typed' AND m.conversation_id IN (
    SELECT id FROM conversation WHERE import_key IS NULL OR import_key LIKE 'reverie:%')
ORDER BY m.created_at DESC LIMIT :n
""")


@dataclass(frozen=True)
class Pending:
    """Undigested material: a conversation's new turns or a changed note."""

    kind: str
    target: int
    title: str
    #: When its newest undigested part was written (UTC).
    newest: datetime
    #: Messages not yet consolidated (1 for a note).
    parts: int


def _when(value: object) -> datetime:
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _tokens(chars: int) -> int:
    return math.ceil(chars / CHARS_PER_TOKEN)


def is_trivial(turns: Sequence[tuple[str, str]]) -> bool:
    """Whether undigested ``turns`` ((role, content), a handful at most) carry nothing worth
    a model call: short, and the person said fewer than `TRIVIAL_MEANING_WORDS` words
    beyond an acknowledgement ("thanks", "ok great", "hi"), or nothing at all."""
    if len(turns) > TRIVIAL_MAX_MESSAGES:
        return False
    if _tokens(sum(len(content.strip()) for _role, content in turns)) > TRIVIAL_TOKENS:
        return False
    said: set[str] = set()
    for role, content in turns:
        if role == "user":
            said |= meaning_words(content)
    return len(said - ACK_WORDS) < TRIVIAL_MEANING_WORDS


def _trivial_conversations(con: Connection, small: Sequence[int]) -> set[int]:
    """Of the conversations ``small`` (few undigested messages), the trivial ones."""
    if not small:
        return set()
    turns: dict[int, list[tuple[str, str]]] = {}
    for conv_id, role, content in con.execute(_SMALL_TURNS_SQL, {"ids": json.dumps(small)}):
        turns.setdefault(int(conv_id), []).append((str(role), str(content or "")))
    return {conv_id for conv_id, said in turns.items() if is_trivial(said)}


@dataclass
class Undigested:
    """Everything not yet digested, read in a few statements."""

    conversations: list[Pending]
    notes: list[Pending]
    #: Conversations whose undigested turns are trivial (set aside without the model).
    trivial: list[int]
    #: Title of every conversation and note (how often a topic comes back).
    titles: list[str]
    #: The words of the person's recent questions.
    asked: Counter[str]


def read_undigested(db: Database) -> Undigested:
    """The undigested conversations and notes, the trivial ones apart (five statements)."""
    with db.session() as s:
        con = s.connection()
        groups = [(int(c), _when(last), int(n)) for c, last, n in con.execute(_UNDIGESTED_SQL)]
        titles = {int(i): str(t or "") for i, t in con.execute(
            text("SELECT id, title FROM conversation"))}
        notes = [Pending(NOTE_KIND, int(i), str(t or ""), _when(u), 1)
                 for i, t, u, _size in con.execute(_CHANGED_NOTES_SQL)]
        note_titles = [str(t or "") for (t,) in con.execute(text("SELECT title FROM note"))]
        small = [c for c, _last, n in groups if n <= TRIVIAL_MAX_MESSAGES]
        trivial = _trivial_conversations(con, small)
        asked: Counter[str] = Counter()
        for (content,) in con.execute(_RECENT_QUESTIONS_SQL, {"n": RECENT_QUESTIONS}):
            asked.update(meaning_words(str(content)))
    conversations = [Pending(CONVERSATION_KIND, c, titles.get(c, ""), last, n)
                     for c, last, n in groups if c not in trivial]
    return Undigested(conversations, notes, sorted(trivial),
                      [*titles.values(), *note_titles], asked)


def has_undigested(db: Database) -> bool:
    """Whether any message or note waits to be digested (one indexed look-up each)."""
    with db.session() as s:
        con = s.connection()
        message = con.execute(text(
            "SELECT 1 FROM message WHERE consolidated_at IS NULL LIMIT 1")).first()
        note = con.execute(text(
            "SELECT 1 FROM note WHERE consolidated_hash IS NULL "
            "OR consolidated_hash != content_hash LIMIT 1")).first()
    return message is not None or note is not None


def undigested_messages(db: Database, at_most: int) -> int:
    """How many messages wait to be digested, counted no further than ``at_most`` (the
    partial index on undigested messages keeps this a short scan)."""
    with db.session() as s:
        return int(s.connection().execute(text(
            "SELECT count(*) FROM (SELECT 1 FROM message WHERE consolidated_at IS NULL "
            "LIMIT :n)"), {"n": at_most}).scalar_one())


# -- order --------------------------------------------------------------------------------

class Ranker:
    """Priorities for undigested material: newest first, moved up by recurring topics and
    by what the person asks about (see the module doc). Built once per plan: the word
    counts over all titles are made once, so ranking N conversations costs O(N)."""

    def __init__(self, titles: Sequence[str], asked: Counter[str],
                 now: datetime | None = None) -> None:
        self._now = now or utcnow()
        self._words: dict[str, set[str]] = {}
        self._df: Counter[str] = Counter()
        for title in titles:
            self._df.update(self.words(title))
        self._topic_max = max(2, int(TOPIC_MAX_SHARE * len(titles)))
        self._asked = asked

    def words(self, title: str) -> set[str]:
        """The title's meaning words, split once per distinct title."""
        found = self._words.get(title)
        if found is None:
            found = self._words[title] = meaning_words(title)
        return found

    def recurrence(self, title: str) -> float:
        """0..1: how many other titles share this one's most repeated topic word (3+ = 1)."""
        counts = [n for w in self.words(title) if (n := self._df[w]) <= self._topic_max]
        return min(1.0, max(0, max(counts, default=1) - 1) / 3)

    def asked(self, title: str) -> float:
        """0..1: the share of the title's words that the person's recent questions used."""
        if not self._asked:
            return 0.0
        title_words = self.words(title)
        if not title_words:
            return 0.0
        return sum(1 for w in title_words if w in self._asked) / len(title_words)

    def priority(self, newest: datetime, title: str) -> float:
        age = max(0.0, (self._now - newest).total_seconds() / 86400)
        age = max(0.0, age - RECURRING_DAYS * self.recurrence(title)
                  - ASKED_DAYS * self.asked(title))
        decay: float = 0.5 ** (age / HALF_LIFE_DAYS)
        return round(BAND_LOW + (BAND_HIGH - BAND_LOW) * decay, 6)


def propose_digests(db: Database, now: datetime | None = None) -> Iterator[Proposal]:
    """A conversation with new turns, a note whose text changed, ranked newest first; and
    one batched item for the trivial conversations."""
    found = read_undigested(db)
    ranker = Ranker(found.titles, found.asked, now)
    if found.trivial:
        yield Proposal(TRIVIAL_KIND, TRIVIAL_TARGET, TRIVIAL_PRIORITY)
    # Newest first: items the decay has worn down to one priority (months-old imports
    # all sit at the band's floor) are then queued, and run, newest first too.
    for pending in sorted((*found.conversations, *found.notes),
                          key=lambda p: p.newest, reverse=True):
        yield Proposal(pending.kind, str(pending.target),
                       ranker.priority(pending.newest, pending.title))


class SetAsideTrivialHandler:
    """Marks trivial conversations' new turns digested, without the model (one batch)."""

    kind = TRIVIAL_KIND

    def describe(self, item: WorkItem, db: Database) -> str:
        return "short chats with nothing to remember"

    def run(self, item: WorkItem, ctx: WorkContext) -> WorkOutcome:
        with ctx.db.session() as s:
            con = s.connection()
            small = [int(c) for c, n in con.execute(text(
                "SELECT conversation_id, count(*) FROM message WHERE consolidated_at IS NULL "
                "GROUP BY conversation_id")) if int(n) <= TRIVIAL_MAX_MESSAGES]
            trivial = sorted(_trivial_conversations(con, small))
            ids = [int(i) for (i,) in con.execute(text(
                "SELECT id FROM message WHERE consolidated_at IS NULL AND conversation_id IN "
                "(SELECT value FROM json_each(:ids))"), {"ids": json.dumps(trivial)})]
        n = len(trivial)
        if not n:
            return WorkOutcome("No short chats were left to set aside.")
        outcome = WorkOutcome(
            f"Set aside {n} short chat{'s' if n != 1 else ''} (\"thanks\", one-liners) "
            "without reading them closely: nothing in them to remember.",
            details={"conversations": trivial[:100], "messages": len(ids)})

        def apply(s: Session) -> None:
            now = utcnow()
            for start in range(0, len(ids), 500):
                s.exec(update(Message).where(col(Message.id).in_(ids[start:start + 500]),
                                             col(Message.consolidated_at).is_(None))
                       .values(consolidated_at=now))

        outcome.apply = apply
        return outcome


# -- cost and figures -----------------------------------------------------------------------

_SIZES_SQL = text(f"""
SELECT conversation_id, count(*), sum(min(length(content), {MAX_LINE_CHARS}))
FROM message WHERE consolidated_at IS NULL GROUP BY conversation_id
""")


@dataclass(frozen=True)
class Cost:
    """What digesting one conversation's new turns (or one note) takes."""

    items: int
    tokens: int
    #: Tokens of its first item (what one work item does now).
    first_item_tokens: int


def text_cost(text_tokens: int, lines: int) -> Cost:
    """Items and model tokens to digest ``text_tokens`` tokens of text in ``lines`` lines:
    chunks of `CHUNK_TOKENS`, `MAX_CHUNKS_PER_ITEM` chunks per item, each chunk with the
    prompt's overhead."""
    body = text_tokens + lines * LINE_PREFIX_TOKENS
    chunks = max(1, math.ceil(body / CHUNK_TOKENS))
    per_item = MAX_CHUNKS_PER_ITEM * CHUNK_TOKENS
    first = min(body, per_item) + min(chunks, MAX_CHUNKS_PER_ITEM) * CHUNK_OVERHEAD_TOKENS
    return Cost(math.ceil(chunks / MAX_CHUNKS_PER_ITEM),
                body + chunks * CHUNK_OVERHEAD_TOKENS, first)


def conversation_costs(db: Database) -> dict[int, Cost]:
    """The cost of every conversation with undigested turns (reads their text's length)."""
    with db.session() as s:
        rows = list(s.connection().execute(_SIZES_SQL))
    return {int(c): text_cost(_tokens(int(chars or 0)), int(n)) for c, n, chars in rows}


def note_costs(db: Database) -> dict[int, Cost]:
    with db.session() as s:
        rows = list(s.connection().execute(_CHANGED_NOTES_SQL))
    cap = CHUNK_TOKENS * 2  # the digest handler clips a long note to about this
    return {int(i): text_cost(min(cap, _tokens(int(size or 0))), 1) for i, _t, _u, size in rows}


def item_tokens(db: Database) -> dict[str, float]:
    """Measured model tokens per done item of each kind (recent journal), else defaults."""
    with db.session() as s:
        rows = s.connection().execute(text(
            "SELECT json_extract(details, '$.kind'), count(*), "
            "avg(coalesce(json_extract(details, '$.prompt_tokens'), 0) "
            "+ coalesce(json_extract(details, '$.completion_tokens'), 0)) "
            "FROM (SELECT details FROM journal_entry WHERE kind = 'item_done' "
            "ORDER BY id DESC LIMIT :n) GROUP BY 1"), {"n": COST_ENTRIES}).all()
    costs: dict[str, float] = {k: float(v) for k, v in DEFAULT_ITEM_TOKENS.items()}
    for kind, n, avg in rows:
        if kind is not None and int(n) >= MIN_COST_SAMPLES:
            costs[str(kind)] = float(avg or 0.0)
    return costs


def measured_speed(db: Database) -> float | None:
    """Model tokens per second of the recent sleep sessions that spent any (None before
    the first): what this machine does while the person is away."""
    with db.session() as s:
        rows = s.connection().execute(text(
            "SELECT prompt_tokens + completion_tokens, started_at, ended_at FROM sleep_session "
            "WHERE ended_at IS NOT NULL AND prompt_tokens + completion_tokens > 0 "
            "ORDER BY id DESC LIMIT :n"), {"n": SPEED_SESSIONS}).all()
    tokens = sum(int(r[0]) for r in rows)
    seconds = sum(max(0.0, (_when(r[2]) - _when(r[1])).total_seconds()) for r in rows)
    return tokens / seconds if tokens and seconds > 0 else None


@dataclass(frozen=True)
class BacklogFigures:
    """How much is left to digest, and how long that takes here (``sleep --json`` keys)."""

    items: int
    tokens: int
    tokens_per_s: float
    #: False while `tokens_per_s` is the default (no session measured yet).
    speed_measured: bool
    digested_share: float
    conversations: int
    notes: int

    @property
    def idle_seconds(self) -> float:
        return self.tokens / self.tokens_per_s if self.tokens_per_s > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"backlog_items": self.items, "backlog_tokens": self.tokens,
                "backlog_idle_seconds": round(self.idle_seconds, 1),
                "digested_share": round(self.digested_share, 4),
                "tokens_per_s": round(self.tokens_per_s, 2),
                "tokens_per_s_measured": self.speed_measured}

    def sentence(self) -> str:
        """One line for the person, e.g. 'Left to digest: 12 items, ... 3% digested.'"""
        if not self.items:
            return f"Everything is digested ({self.digested_share:.0%})."
        speed = (f"{self.tokens_per_s:.0f} tokens/s measured here" if self.speed_measured
                 else f"about {self.tokens_per_s:.0f} tokens/s until a session measures it")
        return (f"Left to digest: {self.items:,} item{'s' if self.items != 1 else ''} "
                f"({self.tokens:,} tokens), about {duration(self.idle_seconds)} of idle time "
                f"at {speed}; {self.digested_share:.0%} digested so far.")


def duration(seconds: float) -> str:
    """'45 s', '12 min', '3.5 h', '2.1 days'."""
    if seconds < 60:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def backlog_figures(db: Database) -> BacklogFigures:
    """The whole backlog: digesting every undigested conversation and note (by their size),
    plus the other pending items of the agenda (titles, anticipations...) at their
    measured cost per item. Reads the length of undigested text: for reports, not for
    every plan."""
    found = read_undigested(db)
    trivial = set(found.trivial)
    convs = {c: cost for c, cost in conversation_costs(db).items() if c not in trivial}
    notes = note_costs(db)
    per_kind = item_tokens(db)
    with db.session() as s:
        con = s.connection()
        others = list(con.execute(text(
            "SELECT kind, count(*) FROM work_item WHERE state = :p AND kind NOT IN "
            f"('{CONVERSATION_KIND}', '{NOTE_KIND}', '{TRIVIAL_KIND}') GROUP BY kind"),
            {"p": WorkState.PENDING.value}))
        total_messages = int(con.execute(text("SELECT count(*) FROM message")).scalar() or 0)
        total_notes = int(con.execute(text("SELECT count(*) FROM note")).scalar() or 0)
        undigested = int(con.execute(text(
            "SELECT count(*) FROM message WHERE consolidated_at IS NULL")).scalar() or 0)
    items = sum(c.items for c in convs.values()) + len(notes) + (1 if trivial else 0)
    tokens = sum(c.tokens for c in convs.values()) + sum(c.tokens for c in notes.values())
    for kind, n in others:
        items += int(n)
        tokens += int(n * per_kind.get(str(kind), FALLBACK_ITEM_TOKENS))
    total = total_messages + total_notes
    share = (total - undigested - len(notes)) / total if total else 1.0
    speed = measured_speed(db)
    return BacklogFigures(items, tokens, speed or DEFAULT_TOKENS_PER_S, speed is not None,
                          share, len(convs), len(notes))


def estimate_item_tokens(db: Database, items: Sequence[WorkItem]) -> list[int]:
    """Model tokens each of ``items`` is expected to take (what one run of it does)."""
    convs = conversation_costs(db)
    notes = note_costs(db)
    per_kind = item_tokens(db)
    out = []
    for item in items:
        ident = int(item.target) if item.target.isdigit() else -1
        if item.kind == CONVERSATION_KIND:
            cost = convs.get(ident)
            out.append(cost.first_item_tokens if cost else 0)
        elif item.kind == NOTE_KIND:
            cost = notes.get(ident)
            out.append(cost.first_item_tokens if cost else 0)
        else:
            out.append(int(per_kind.get(item.kind, FALLBACK_ITEM_TOKENS)))
    return out
