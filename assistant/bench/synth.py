"""Synthetic histories the size of a real person's: a year of chats and years of notes.

Every figure before issue 15 came from a 3,000-token fixture. This module writes what a
real newcomer brings: N messages over 12 months in conversations of realistic lengths
(many one-line "thanks" chats, a long tail of long ones), about recurring people,
places, plans and dates, as Reverie JSONL *and* as a ChatGPT ``conversations.json``
(with the per-node metadata real exports carry), plus a folder of Markdown notes.

Everything is deterministic from ``seed`` (and ``end``), and written one conversation at
a time, so 100,000 messages and a 300+ MB export never sit in memory at once.
"""

from __future__ import annotations

import json
import math
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

PEOPLE = (
    ("Ana", "sister"), ("Tomas", "brother"), ("Marta", "manager"), ("Jonas", "colleague"),
    ("Priya", "friend"), ("Luis", "neighbour"), ("Helen", "mother"), ("Karim", "dentist"),
    ("Sofia", "daughter"), ("Ben", "partner"), ("Olga", "landlady"), ("Wei", "tutor"),
    ("Rosa", "aunt"), ("Felix", "flatmate"), ("Nadia", "doctor"), ("Sam", "running coach"),
)
PLACES = (
    "Lisbon", "the Riverside clinic", "Café Aurora", "the climbing gym", "Porto",
    "the town library", "Kew Gardens", "the office on Baker Street", "Granada",
    "the farmers' market", "Oslo", "the community pool", "the vet on Elm Road",
    "the train station", "Bologna", "the hardware shop",
)
PLANS = (
    "dentist appointment", "flight", "birthday dinner", "quarterly review", "half marathon",
    "house viewing", "parents' evening", "car service", "book club", "tax return deadline",
    "weekend trip", "piano lesson", "job interview", "wedding", "vet check-up", "team offsite",
)
TOPICS = (
    "sourdough starter", "Python decorators", "tomato seedlings", "a budget spreadsheet",
    "knee pain after running", "a cover letter", "SQL window functions", "a vegetarian lasagne",
    "learning Portuguese", "a leaking tap", "bike gears", "a reading list", "sleep routine",
    "a React component", "houseplants in winter", "a wedding speech", "Git rebasing",
    "a meal plan", "noise-cancelling headphones", "a birthday present",
)
THANKS = (
    "thanks!", "thank you", "perfect, thanks", "ok great", "got it", "that works",
    "brilliant, cheers", "thanks, that helped", "nice", "ok", "makes sense, thanks",
)
_ASSISTANT_SENTENCES = (
    "Here is a step-by-step way to approach it.",
    "The short answer is yes, with one caveat worth keeping in mind.",
    "A common mistake is to try to do everything at once; start with the smallest piece.",
    "If you want, I can turn this into a checklist you can keep.",
    "The main trade-off is time against cost, and it depends on which matters more to you.",
    "You can test this quickly before committing to it.",
    "Most people find the second option easier to keep up over several weeks.",
    "Keep a note of what you tried so that next time you can skip the dead ends.",
    "There are three things to check first: the basics, the timing and the budget.",
    "This usually takes about twenty minutes the first time and much less afterwards.",
    "If anything feels off, stop and check the previous step again.",
    "It is worth writing the date down somewhere you will see it.",
    "A simple rule of thumb: prepare the evening before and leave a margin of time.",
    "Here is an example you can adapt to your situation.",
    "The documentation describes the same idea in more detail.",
    "You do not need special tools for this; what you already have is enough.",
    "Let me know how it goes and we can adjust the plan.",
    "In short: decide, schedule it, and tell the people involved.",
    "One more tip: bring the paperwork, it saves a second trip.",
    "That sounds like a good plan overall.",
)
_USER_STATEMENTS = (
    "My {rel} {name} is coming to {place} on {date}.",
    "I have a {plan} at {place} on {date} at {time}.",
    "{name} said the {plan} moved to {date}.",
    "Remind me that {name} prefers tea to coffee and hates surprises.",
    "I'm meeting {name} at {place} on {date} to talk about the {plan}.",
    "The {plan} costs {amount} euros, {name} is paying half.",
    "We booked {place} for the {plan} on {date}, {time}.",
    "{name} ({rel}) asked me to bring the documents for the {plan}.",
)
_USER_QUESTIONS = (
    "Can you help me with {topic}?",
    "How do I get started with {topic}?",
    "What should I get {name} for the {plan}?",
    "Can you help me plan the {plan} with {name}?",
    "I keep getting stuck on {topic}, any ideas?",
    "What do I need to prepare for the {plan} at {place}?",
    "Can you explain {topic} simply?",
)
_NOTE_LINES = (
    "- call {name} about the {plan}",
    "- {plan}: {date} at {place}",
    "- ask {name} ({rel}) about {topic}",
    "- budget for the {plan}: {amount} euros",
    "- book {place} before {date}",
    "- read more about {topic}",
)
_QUESTION_TEMPLATES = (
    "When is my {plan}?",
    "Where is the {plan} with {name}?",
    "When is {name} coming to {place}?",
    "What did {name} say about the {plan}?",
    "How much does the {plan} cost?",
    "What does {name} prefer to drink?",
    "Who is {name}?",
    "What did I ask about {topic}?",
    "When am I meeting {name} at {place}?",
    "What should I bring to the {plan}?",
)
_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


@dataclass(frozen=True)
class SynthSpec:
    """What to generate: about ``messages`` messages over ``months`` months ending at ``end``."""

    messages: int
    seed: int = 15
    end: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    months: int = 12

    @property
    def start(self) -> datetime:
        return self.end - timedelta(days=round(self.months * 30.44))


@dataclass
class SynthMessage:
    role: str
    content: str
    created_at: datetime


@dataclass
class SynthConversation:
    index: int
    title: str
    messages: list[SynthMessage]


@dataclass
class SynthFiles:
    """What `write_history` wrote, with the sizes the scale bench reports."""

    jsonl: Path | None
    chatgpt: Path | None
    notes: Path | None
    conversations: int = 0
    messages: int = 0
    note_files: int = 0
    chatgpt_bytes: int = 0
    jsonl_bytes: int = 0
    newest_at: datetime | None = None


def conversation_turns(rng: random.Random) -> int:
    """Turns (a question and its answer) in one conversation: 30% one-liners, a long tail.

    The mean is about 25 turns, so 100,000 messages make about 2,000 conversations.
    """
    if rng.random() < 0.3:
        return 1
    return max(1, min(600, int(rng.lognormvariate(math.log(22), 1.0))))


def conversation_sizes(spec: SynthSpec) -> list[int]:
    """The number of messages of each conversation, summing exactly to ``spec.messages``."""
    rng = random.Random(f"{spec.seed}:lengths")
    lengths: list[int] = []
    left = spec.messages
    while left > 0:
        n = min(left, 2 * conversation_turns(rng))
        lengths.append(n)
        left -= n
    return lengths


def _start_times(spec: SynthSpec, count: int) -> list[datetime]:
    """Conversation starts over the period, a little denser towards the end, oldest first."""
    rng = random.Random(f"{spec.seed}:starts")
    span = (spec.end - spec.start).total_seconds()
    # sqrt of a uniform variable leans towards 1 (recent) without starving the past.
    offsets = sorted(span * math.sqrt(rng.random()) for _ in range(count))
    # Keep the last hours free so every message of a conversation is before ``end``.
    return [spec.start + timedelta(seconds=o * 0.995) for o in offsets]


class _Writer:
    """Makes the text of one conversation from its own seeded random source."""

    def __init__(self, spec: SynthSpec, index: int) -> None:
        self.rng = random.Random(f"{spec.seed}:conv:{index}")
        self.spec = spec

    def fill(self, template: str, when: datetime) -> str:
        rng = self.rng
        name, rel = rng.choice(PEOPLE)
        day = when + timedelta(days=rng.randint(1, 40))
        return template.format(
            name=name, rel=rel, place=rng.choice(PLACES), plan=rng.choice(PLANS),
            topic=rng.choice(TOPICS), time=f"{rng.randint(8, 19)}:{rng.choice(('00', '30'))}",
            date=f"{_weekday(day)} {day.day} {_MONTHS[day.month - 1]}",
            amount=rng.choice((40, 75, 120, 250, 600, 1200)))

    def user(self, when: datetime, first: bool) -> str:
        rng = self.rng
        if not first and rng.random() < 0.25:
            return rng.choice(THANKS)
        parts = [self.fill(rng.choice(_USER_STATEMENTS if rng.random() < 0.5
                                      else _USER_QUESTIONS), when)]
        while rng.random() < 0.45:
            parts.append(self.fill(rng.choice(_USER_STATEMENTS + _USER_QUESTIONS), when))
        return " ".join(parts)

    def assistant(self, when: datetime) -> str:
        rng = self.rng
        target = int(rng.lognormvariate(math.log(3000), 0.8))
        paragraphs: list[str] = []
        size = 0
        while size < target:
            sentences = [rng.choice(_ASSISTANT_SENTENCES) for _ in range(rng.randint(2, 5))]
            if rng.random() < 0.4:
                sentences.insert(0, self.fill(rng.choice(_USER_STATEMENTS), when)
                                 .replace("My ", "Your ").replace("I have", "You have"))
            if rng.random() < 0.3:
                sentences = ["\n".join(f"{i}. {s}" for i, s in enumerate(sentences, 1))]
            text = " ".join(sentences)
            paragraphs.append(text)
            size += len(text) + 2
        return "\n\n".join(paragraphs)


def _weekday(day: datetime) -> str:
    return ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday",
            "Sunday")[day.weekday()]


def conversations(spec: SynthSpec) -> Iterator[SynthConversation]:
    """The conversations of ``spec``, oldest first, one at a time."""
    lengths = conversation_sizes(spec)
    starts = _start_times(spec, len(lengths))
    for index, (count, start) in enumerate(zip(lengths, starts, strict=True)):
        writer = _Writer(spec, index)
        rng = writer.rng
        when = start
        # Long conversations stretch over days; short ones over minutes.
        step = 30.0 if count < 40 else 900.0
        messages: list[SynthMessage] = []
        for i in range(count):
            if i % 2 == 0:
                messages.append(SynthMessage("user", writer.user(when, i == 0), when))
            else:
                messages.append(SynthMessage("assistant", writer.assistant(when), when))
            when = min(when + timedelta(seconds=5 + rng.expovariate(1 / step)),
                       spec.end - timedelta(seconds=1))
        first = messages[0].content
        title = first if len(first) <= 48 else first[:45].rsplit(" ", 1)[0] + "..."
        yield SynthConversation(index, title, messages)


def jsonl_line(conv: SynthConversation) -> str:
    """One line of Reverie JSONL (docs/ARCHITECTURE.md, "Import and export formats")."""
    return json.dumps({"title": conv.title, "messages": [
        {"role": m.role, "content": m.content, "created_at": m.created_at.isoformat()}
        for m in conv.messages]}, ensure_ascii=False)


def _node_id(seed: int, conv: int, n: int) -> str:
    return str(uuid.UUID(int=random.Random(f"{seed}:node:{conv}:{n}").getrandbits(128),
                         version=4))


def chatgpt_conversation(conv: SynthConversation, seed: int) -> dict[str, object]:
    """One conversation as ChatGPT exports it: a node tree with a root, a hidden system
    node, the messages on the current branch, and now and then a regenerated answer left on
    a side branch (which the importer must not take)."""
    rng = random.Random(f"{seed}:chatgpt:{conv.index}")
    mapping: dict[str, dict[str, object]] = {}
    counter = iter(range(10**9))
    root = _node_id(seed, conv.index, next(counter))
    mapping[root] = {"id": root, "message": None, "parent": None, "children": []}
    created = conv.messages[0].created_at.timestamp()

    def add(parent: str, role: str, text: str, when: float | None,
            hidden: bool = False) -> str:
        node = _node_id(seed, conv.index, next(counter))
        meta: dict[str, object] = {
            "citations": [], "content_references": [], "gizmo_id": None,
            "message_type": None, "model_slug": "gpt-4o", "default_model_slug": "gpt-4o",
            "parent_id": parent, "request_id": f"{rng.getrandbits(64):016x}-LHR",
            "timestamp_": "absolute", "message_source": None,
            "serialization_metadata": {"custom_symbol_offsets": []},
        }
        if role == "assistant":
            meta.update({"finish_details": {"type": "stop", "stop_tokens": [200002]},
                         "is_complete": True, "pad": "AAAAAAAAAAAAAAAAAAAAAAAAAAAA"})
        if hidden:
            meta["is_visually_hidden_from_conversation"] = True
        mapping[node] = {
            "id": node,
            "message": {
                "id": node, "author": {"role": role, "name": None, "metadata": {}},
                "create_time": when, "update_time": None,
                "content": {"content_type": "text", "parts": [text]},
                "status": "finished_successfully", "end_turn": True if role == "assistant"
                else None, "weight": 1.0 if not hidden else 0.0, "metadata": meta,
                "recipient": "all", "channel": None,
            },
            "parent": parent, "children": [],
        }
        children = mapping[parent]["children"]
        assert isinstance(children, list)
        children.append(node)
        return node

    current = add(root, "system", "", None, hidden=True)
    for m in conv.messages:
        when = m.created_at.timestamp()
        if m.role == "assistant" and rng.random() < 0.05:
            add(current, "assistant", "(an earlier answer, regenerated) " + m.content[:400],
                when - 1)
        current = add(current, m.role, m.content, when)
    return {
        "title": conv.title, "create_time": created,
        "update_time": conv.messages[-1].created_at.timestamp(), "mapping": mapping,
        "moderation_results": [], "current_node": current, "plugin_ids": None,
        "conversation_id": _node_id(seed, conv.index, -1), "conversation_template_id": None,
        "gizmo_id": None, "gizmo_type": None, "is_archived": False, "is_starred": None,
        "safe_urls": [], "default_model_slug": "gpt-4o", "conversation_origin": None,
        "voice": None, "async_status": None, "disabled_tool_ids": [],
        "id": _node_id(seed, conv.index, -1),
    }


def note_count(messages: int) -> int:
    """Notes that go with a history of ``messages`` messages (one per 200, at least 10)."""
    return max(10, messages // 200)


def notes(spec: SynthSpec) -> Iterator[tuple[str, str, datetime]]:
    """(file name, Markdown body, date) for each note; they span three years."""
    rng = random.Random(f"{spec.seed}:notes")
    count = note_count(spec.messages)
    span = timedelta(days=3 * 365).total_seconds()
    for i in range(count):
        when = spec.end - timedelta(seconds=span * (1 - (i + 1) / count))
        writer = _Writer(spec, 10**7 + i)
        name, _rel = rng.choice(PEOPLE)
        title = f"{rng.choice(('Plans', 'Ideas', 'To do', 'Notes'))} with {name} {i}"
        lines = [f"# {title}", "", f"Written {when.date().isoformat()}.", ""]
        lines += [writer.fill(rng.choice(_NOTE_LINES), when)
                  for _ in range(int(rng.lognormvariate(math.log(8), 0.7)) + 1)]
        yield f"{when.date().isoformat()}-note-{i:05d}.md", "\n".join(lines) + "\n", when


def write_history(spec: SynthSpec, out_dir: Path, *, jsonl: bool = True, chatgpt: bool = True,
                  with_notes: bool = True) -> SynthFiles:
    """Write ``chats.jsonl``, ``conversations.json`` and ``notes/`` under ``out_dir``,
    streaming: one conversation is in memory at a time."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = SynthFiles(out_dir / "chats.jsonl" if jsonl else None,
                       out_dir / "conversations.json" if chatgpt else None,
                       out_dir / "notes" if with_notes else None)
    jf = files.jsonl.open("w", encoding="utf-8") if files.jsonl else None
    cf = files.chatgpt.open("w", encoding="utf-8") if files.chatgpt else None
    try:
        if cf is not None:
            cf.write("[")
        for conv in conversations(spec):
            if jf is not None:
                jf.write(jsonl_line(conv) + "\n")
            if cf is not None:
                cf.write(("\n" if conv.index == 0 else ",\n")
                         + json.dumps(chatgpt_conversation(conv, spec.seed),
                                      ensure_ascii=False))
            files.conversations += 1
            files.messages += len(conv.messages)
            files.newest_at = conv.messages[-1].created_at
        if cf is not None:
            cf.write("\n]\n")
    finally:
        for f in (jf, cf):
            if f is not None:
                f.close()
    if files.jsonl:
        files.jsonl_bytes = files.jsonl.stat().st_size
    if files.chatgpt:
        files.chatgpt_bytes = files.chatgpt.stat().st_size
    if files.notes is not None:
        files.notes.mkdir(exist_ok=True)
        for name, body, _when in notes(spec):
            (files.notes / name).write_text(body, encoding="utf-8")
            files.note_files += 1
    return files


def questions(spec: SynthSpec, count: int = 200) -> list[str]:
    """Questions a person would ask about this history (people, places, plans, dates)."""
    writer = _Writer(spec, -1)
    return [writer.fill(writer.rng.choice(_QUESTION_TEMPLATES), spec.end)
            for _ in range(count)]


def anticipations(spec: SynthSpec, count: int) -> Iterator[tuple[str, str]]:
    """(question, answer) pairs like the ones sleep time prepares, ``count`` of them."""
    writer = _Writer(spec, -2)
    for i in range(count):
        question = writer.fill(writer.rng.choice(_QUESTION_TEMPLATES), spec.end)
        answer = writer.fill(writer.rng.choice(_USER_STATEMENTS), spec.end)
        yield question, f"{answer} (prepared #{i})"
