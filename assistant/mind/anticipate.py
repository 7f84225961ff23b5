"""Sleep-time anticipation: guess the next questions and answer them before they are asked.

Every stored fact first gets the questions it answers by rules, with its own value as
the answer (`assistant.mind.fact_questions`: "Who walks Biscuit on Wednesdays?" ->
"Alan"): no model call, so these items are cheap and run before the model's. Then for
each statement the person made and each changed note the
model proposes the questions its owner is likely to ask (vague ones, and ones whose
words or names are not in the text, are dropped); each is scored for
predictability (the model's mean per-token probability of the question given the
text, raised when similar questions were asked before); the most predictable ones
are answered with more compute than test time could spend (k samples and a
consistency vote) and stored with their sources, cost and expiry. The 0002 triggers
turn them stale the moment a source changes; a stale one is never served.

What to anticipate is learned: each kind (dated, task, topic) earns budget by its
hit rate (prepared answers that were used vs. rejected with "think again").
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import time
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from string import Template

from sqlalchemy import text
from sqlmodel import Session, col, select

from assistant.llm.engine import (
    ChatMessage,
    EngineError,
    GenerationRequest,
    Preempted,
    PromptStyle,
)
from assistant.mind.agenda import Proposal
from assistant.mind.fact_questions import (
    FactQuestion,
    known_names,
    questions_for_fact,
    values_of,
)
from assistant.mind.reconcile import outdated_messages
from assistant.mind.work import Counters, WorkContext, WorkInterrupted, WorkOutcome
from assistant.resources import read_prompt
from assistant.store.chats import handed_over
from assistant.store.db import Database
from assistant.store.models import (
    Anticipation,
    AnticipationStatus,
    Conversation,
    Memory,
    Message,
    Note,
    WorkItem,
    utcnow,
)
from assistant.text.corrections import ValueKind, read
from assistant.text.dates import dates_in
from assistant.text.handovers import asked_role
from assistant.text.lines import one_line
from assistant.text.questions import names, question_key
from assistant.text.similarity import SAME_QUESTION_THRESHOLD, question_match, question_words

log = logging.getLogger("assistant.mind")

KIND = "anticipate"
#: Anticipation runs after consolidation, the profile and prefix warming (0.01): it is
#: the longest step, and a warm prefix helps every answer when the person comes back.
BASE_PRIORITY = 0.006
#: A fact's questions need no model: they come before the model's proposals (at most
#: 0.009), the better used kinds first.
FACT_PRIORITY = 0.0092
FACT_PRIORITY_SPREAD = 0.0006
MAX_CONTEXT_CHARS = 1200
#: Only the newest user messages are considered for anticipation.
MAX_MESSAGES_CONSIDERED = 200
QUESTIONS_PER_ITEM = 2
DEFAULT_SAMPLES = 3
#: Below this, a question is not worth preparing.
MIN_PREDICTABILITY = 0.005
#: The mean token log-probability given to a question when the engine cannot score (a
#: remote server): every proposed question counts as equally likely, above the floor,
#: and earlier similar questions still raise it.
UNSCORED_LOGPROB = math.log(0.05)

_TASK_RE = re.compile(r"\b(to ?do|open tasks?|remind me|need to|have to|must)\b|- \[ \]", re.I)


def anticipation_kind(context: str, today: date) -> str:
    if any(d >= today for d in dates_in(context, today)) or re.search(
            r"\b(every|each) (monday|tuesday|wednesday|thursday|friday|saturday|sunday|day|"
            r"week|month)\b", context, re.I):
        return "dated"
    if _TASK_RE.search(context):
        return "task"
    return "topic"


def parse_questions(raw: str, limit: int = 3) -> list[str]:
    """Questions from the model's lines; anything that is not a short question is dropped."""
    out: list[str] = []
    for line in raw.splitlines():
        line = re.sub(r"^\s*(?:[-*•]|\d+[.)])\s*", "", line).strip().strip('"')
        if not line:
            if out:
                break  # a blank line ends the list
            continue
        if line.lower().startswith(("text:", "questions:", "answer:")):
            break
        if not line.endswith("?") or not 3 <= len(line.split()) <= 16:
            log.debug("dropping a garbled question line (%d chars)", len(line))
            continue
        if any(question_match(line, seen) >= 0.9 for seen in out):
            continue
        out.append(line[0].upper() + line[1:])
        if len(out) >= limit:
            break
    return out


def is_specific(question: str, context: str) -> bool:
    """The model's question is about this text: it has topic words, most of them in the
    text (a 270M model asks "What is the result?" of anything), and every name it uses
    is in the text."""
    asked = set(question_words(question))
    if not asked:
        return False
    said = _text_words(context)
    grounded = len(asked & said) / len(asked)
    context_names = {w.lower() for w in re.findall(r"[\w'’-]+", context)}
    return grounded >= 0.5 and all(n in context_names or n.split("'")[0] in context_names
                                   for n in names(question))


def is_grounded(answer: str, context: str) -> bool:
    """The model's answer says what the text says (most of its words are the text's),
    rather than a guess."""
    words = _text_words(answer)
    return bool(words) and len(words & _text_words(context)) / len(words) >= 0.6


def _text_words(text_: str) -> set[str]:
    """`question_words` of any text, without the colons of "Hotel:" labels."""
    return {w.strip(":") for w in question_words(text_)} - {""}


def quotes_superseded(db: Database, answer: str) -> bool:
    """Whether ``answer`` states a value (a date, time, amount or name) that only
    superseded memories hold: an old message answered after its correction."""
    values = {v.text.strip() for v in values_of(answer)}
    with db.session() as s:
        con = s.connection()
        for value in values:
            pattern = f"%{value}%"
            row = con.execute(text(
                "SELECT max(superseded_by IS NOT NULL), max(superseded_by IS NULL) "
                "FROM memory WHERE kind = 'fact' AND text LIKE :p"), {"p": pattern}).one()
            if row[0] and not row[1]:
                return True
    return False


def handed_over_since(db: Database, question: str, people: Collection[str],
                      said_at: datetime | None) -> bool:
    """Whether ``question`` asks who holds a role (`text.handovers.asked_role`) and one
    of ``people``, said at ``said_at`` to hold it, has handed it on since
    (`store.chats.handed_over`): "Who is the landlord?" is not prepared as "Mr. Hartley"
    once he has sold the building."""
    role = asked_role(question)
    if role is None or said_at is None or not people:
        return False
    with db.session() as s:
        con = s.connection()
        return any(handed_over(con, name, role, said_at) is not None for name in people)


def named_people(answer: str) -> frozenset[str]:
    """The people an answer names (`text.corrections.read`), as lower-case words."""
    return read(answer).values.get(ValueKind.PERSON, frozenset())


def sources_said_at(db: Database, sources: dict[str, list[int]]) -> datetime | None:
    """When the newest of the source messages was written, or the newest source note
    last changed (None without either)."""
    found: list[datetime] = []
    with db.session() as s:
        con = s.connection()
        for table, column, key in (("message", "created_at", "messages"),
                                   ("note", "updated_at", "notes")):
            ids = [int(i) for i in sources.get(key, [])]
            if ids:
                newest = con.execute(text(
                    f"SELECT max({column}) FROM {table} "
                    f"WHERE id IN ({','.join(map(str, ids))})")).scalar()
                if newest is not None:
                    found.append(datetime.fromisoformat(newest) if isinstance(newest, str)
                                 else newest)
    return max(found) if found else None


def clean_answer(raw: str) -> str:
    line = raw.strip().split("\n", 1)[0].strip()
    return re.sub(r"^(answer\s*:)\s*", "", line, flags=re.I).strip()


def vote(answers: Sequence[str]) -> tuple[str, float]:
    """The answer the samples agree on most, and the share of samples that agree with it."""
    usable = [a for a in answers if a and question_words(a)]
    if not usable:
        return "", 0.0
    words = [set(question_words(a)) for a in usable]

    def agree(i: int, j: int) -> float:
        return len(words[i] & words[j]) / max(1, len(words[i] | words[j]))

    best = max(range(len(usable)),
               key=lambda i: (sum(agree(i, j) for j in range(len(usable)) if j != i), -i))
    share = sum(1 for j in range(len(usable)) if agree(best, j) >= 0.5) / len(answers)
    return usable[best], share


def question_request(style: PromptStyle, context: str) -> GenerationRequest:
    if style is PromptStyle.CHAT:
        return GenerationRequest(messages=[
            ChatMessage("system", read_prompt("anticipate_questions_system.txt").strip()),
            ChatMessage("user", context)], max_tokens=80, temperature=0.0)
    prompt = Template(read_prompt("anticipate_questions_completion.txt")).substitute(
        context=context)
    return GenerationRequest(prompt=prompt.rstrip("\n"), max_tokens=60, temperature=0.0,
                             stop=["\n\n", "Text:"])


def answer_request(style: PromptStyle, context: str, question: str,
                   sample: int) -> GenerationRequest:
    """Sample 0 is greedy; the others sample at a moderate temperature."""
    temperature, seed = (0.0, None) if sample == 0 else (0.7, 1000 + sample)
    if style is PromptStyle.CHAT:
        return GenerationRequest(messages=[
            ChatMessage("system", read_prompt("anticipate_answer_system.txt").strip()),
            ChatMessage("user", f"Reference: {context}\n\nQuestion: {question}")],
            max_tokens=60, temperature=temperature, seed=seed)
    prompt = Template(read_prompt("anticipate_answer_completion.txt")).substitute(
        context=context, question=question)
    return GenerationRequest(prompt=prompt.rstrip("\n"), max_tokens=48,
                             temperature=temperature, seed=seed, stop=["\n"])


@dataclass(frozen=True)
class Source:
    """What one anticipation item thinks about."""

    context: str
    sources: dict[str, list[int]]
    label: str

    @property
    def sources_hash(self) -> str:
        return hashlib.sha256(self.context.encode()).hexdigest()


def kind_weights(db: Database) -> dict[str, float]:
    """Budget share per anticipation kind: the smoothed hit rate (hits+1)/(hits+misses+2).

    A prepared answer that was served and kept counts as a hit; "think again" counts
    as a miss. With no history every kind gets 0.5.
    """
    with db.session() as s:
        rows = s.connection().execute(text(
            "SELECT kind, sum(hits), sum(misses) FROM anticipation GROUP BY kind")).all()
    return {str(kind): (int(h or 0) + 1) / (int(h or 0) + int(m or 0) + 2)
            for kind, h, m in rows}


def explain_weights(weights: dict[str, float]) -> str:
    """One sentence for the insights view: how the budget is shared out, and why."""
    if not weights:
        return ("No prepared answer has been used yet, so every kind of question gets "
                "the same share of thinking time.")
    parts = ", ".join(f"{k} {w:.0%}" for k, w in sorted(weights.items(), key=lambda x: -x[1]))
    return ("Kinds of prepared answers you use get more thinking time: each kind's share "
            f"follows its hit rate ({parts}).")


def is_statement(content: str) -> bool:
    """Something the person told (worth anticipating), not a question or a one-word reply."""
    words = content.split()
    return len(words) >= 6 and not content.rstrip().endswith("?")


def propose_anticipations(db: Database) -> Iterator[Proposal]:
    """Every fact, then statements the person made and changed notes, not yet anticipated.

    Each message is its own item: a focused text gives a small model focused questions.
    A fact's items rank above the model's, so once a message is digested its facts'
    exact answers come first (and a question the model asked as a fact does goes to
    the fact: `_yield_to_newer`).
    """
    weights = kind_weights(db)
    today = utcnow().date()
    with db.session() as s:
        said = s.connection().execute(text(
            "SELECT m.id, m.content FROM message m JOIN conversation c "
            "ON c.id = m.conversation_id WHERE c.archived = 0 AND m.role = 'user' AND "
            "(c.import_key IS NULL OR c.import_key NOT LIKE 'reverie:%') "
            "ORDER BY m.created_at DESC LIMIT :n"), {"n": MAX_MESSAGES_CONSIDERED}).all()
        notes = list(s.exec(select(Note)))
        memories = list(s.exec(select(Memory).where(
            Memory.kind == "fact", col(Memory.superseded_by).is_(None))))
        outdated = outdated_messages(s, [row[0] for row in said])
    for rank, (msg_id, content) in enumerate(said):
        if not is_statement(content) or msg_id in outdated:
            continue
        kind = anticipation_kind(content, today)
        recency = 1.0 / (1 + rank / 20)  # newer things are more likely to come up
        yield Proposal(KIND, f"message:{msg_id}",
                       BASE_PRIORITY * recency * (0.5 + weights.get(kind, 0.5)), once=True)
    for note in notes:
        kind = anticipation_kind(note.body, today)
        yield Proposal(KIND, f"note:{note.id}:{note.content_hash[:12]}",
                       BASE_PRIORITY * (0.5 + weights.get(kind, 0.5)), once=True)
    for memory in memories:  # every fact: its questions come from rules, without the model
        kind = anticipation_kind(memory.text, today)
        yield Proposal(KIND, f"memory:{memory.id}:{memory.sources_hash[:12]}",
                       FACT_PRIORITY + FACT_PRIORITY_SPREAD * weights.get(kind, 0.5),
                       once=True)


def load_source(item: WorkItem, db: Database) -> Source | None:
    """The text an item thinks about, or None when it no longer exists."""
    what, _, rest = item.target.partition(":")
    head = rest.split(":", 1)[0]
    ident = int(head) if head.isdigit() else -1
    with db.session() as s:
        if what == "note":
            note = s.get(Note, ident)
            if note is None:
                return None
            body = one_line(f"{note.title}. {note.body}")
            return Source(body[:MAX_CONTEXT_CHARS], {"notes": [ident]},
                          f'the note "{note.title}"')
        if what == "memory":
            memory = s.get(Memory, ident)
            if memory is None or memory.superseded_by is not None:
                return None
            sources = {k: list(v) for k, v in (memory.sources or {}).items()
                       if k in ("messages", "notes") and v}
            return Source(one_line(memory.text), {"memories": [ident], **sources},
                          "a memory")
        message = s.get(Message, ident) if what == "message" else None
        if message is None or outdated_messages(s, [ident]):
            return None
        conv = s.get(Conversation, message.conversation_id)
    title = conv.title if conv is not None else "a chat"
    return Source(one_line(message.content)[:MAX_CONTEXT_CHARS], {"messages": [ident]},
                  f'what you said in "{title}"')


def asked_before(db: Database, question: str) -> int:
    """How many earlier user messages asked something like ``question``."""
    words = question_words(question)
    if not words:
        return 0
    from assistant.store.fts import fts_query

    with db.session() as s:
        rows = s.connection().execute(text(
            "SELECT m.content FROM message_fts f JOIN message m ON m.id = f.rowid "
            "WHERE message_fts MATCH :q AND m.role = 'user' LIMIT 50"),
            {"q": fts_query(" ".join(words))}).all()
    return sum(1 for (content,) in rows
               if "?" in content and question_match(content, question) >= 0.5)


def predictability(mean_logprob: float, seen_before: int) -> float:
    """0..1: the geometric-mean token probability, raised by earlier similar questions."""
    return min(1.0, math.exp(mean_logprob) + 0.15 * min(seen_before, 3))


class AnticipateHandler:
    """Handler for ``anticipate`` items (targets message:ID, note:ID:hash, memory:ID:hash)."""

    kind = KIND

    def __init__(self, samples: int = DEFAULT_SAMPLES,
                 questions_per_item: int = QUESTIONS_PER_ITEM) -> None:
        self.samples = max(1, samples)
        self.questions_per_item = questions_per_item

    def describe(self, item: WorkItem, db: Database) -> str:
        source = load_source(item, db)
        return f"questions you may ask about {source.label}" if source else "likely questions"

    def _score(self, ctx: WorkContext, context: str, question: str) -> float:
        if ctx.should_stop():
            raise WorkInterrupted("stop requested before scoring")
        try:
            logprobs = ctx.engine.score(f"{context}\nA question about this: ", question)
        except Preempted as exc:
            raise WorkInterrupted(str(exc), preempted=not ctx.should_stop()) from None
        except EngineError as exc:  # this engine cannot score (a remote server)
            log.debug("question not scored: %s", exc)
            return UNSCORED_LOGPROB
        return sum(logprobs) / max(1, len(logprobs))

    def run(self, item: WorkItem, ctx: WorkContext) -> WorkOutcome:
        started = time.monotonic()
        source = load_source(item, ctx.db)
        if source is None:
            return WorkOutcome("Skipped anticipating: the source is gone.")
        if item.target.startswith("memory:"):
            return self._run_fact(item, ctx, source)
        style = ctx.engine.info.prompt_style
        today = utcnow().date()
        raw = ctx.generate(question_request(style, source.context)).text
        questions = [q for q in parse_questions(raw) if is_specific(q, source.context)]
        scored = sorted(((predictability(self._score(ctx, source.context, q),
                                         asked_before(ctx.db, q)), q) for q in questions),
                        reverse=True)
        prepared: list[Anticipation] = []
        for score, question in scored[: self.questions_per_item]:
            if score < MIN_PREDICTABILITY:
                continue
            answers = [clean_answer(ctx.generate(
                answer_request(style, source.context, question, i)).text)
                for i in range(self.samples)]
            answer, agreement = vote(answers)
            if not answer or agreement < 0.5 or not is_grounded(answer, source.context):
                log.info("no consistent, grounded answer to a question (%d samples)",
                         len(answers))
                continue
            if quotes_superseded(ctx.db, answer):
                log.info("dropped a prepared answer that quotes a corrected value")
                continue
            if handed_over_since(ctx.db, question, named_people(answer),
                                 sources_said_at(ctx.db, source.sources)):
                log.info("dropped a prepared answer naming someone who has handed the "
                         "role on since")
                continue
            kind = anticipation_kind(source.context, today)
            future = [d for d in dates_in(source.context, today) if d >= today]
            expires = (datetime.combine(max(future) + timedelta(days=1), datetime.min.time(),
                                        tzinfo=UTC) if future and kind == "dated" else
                       utcnow() + timedelta(days=30))
            prepared.append(Anticipation(
                kind=kind, question=question, answer=answer, predictability=round(score, 4),
                sources=source.sources, sources_hash=source.sources_hash, expires_at=expires))
        seconds = time.monotonic() - started
        usage = ctx.usage
        for row in prepared:
            row.prompt_tokens = usage.prompt_tokens // max(1, len(prepared))
            row.completion_tokens = usage.completion_tokens // max(1, len(prepared))
            row.seconds = round(seconds / max(1, len(prepared)), 2)
        details: dict[str, object] = {"target": item.target, "model_said": raw,
                                      "questions": [q for _, q in scored]}

        with ctx.db.session() as s:
            prepared = [row for row in prepared if not _duplicate(s, row.question)]
            replaced = _stale_for(s, source)

        def apply(s: Session) -> None:
            for old_id in replaced:  # recomputed: the stale versions are dropped
                old = s.get(Anticipation, old_id)
                if old is not None and old.status == AnticipationStatus.STALE.value:
                    s.delete(old)
            for row in prepared:
                if not _duplicate(s, row.question):
                    s.add(row)

        names = "; ".join(f'"{a.question}"' for a in prepared) or "nothing new"
        return WorkOutcome(f"Prepared answers about {source.label}: {names}", apply=apply,
                           counters=Counters(anticipations_made=len(prepared),
                                             anticipations_invalidated=len(replaced)),
                           details=details)


    def _run_fact(self, item: WorkItem, ctx: WorkContext, source: Source) -> WorkOutcome:
        """A fact's own questions and values (`questions_for_fact`), without the model. A
        question another fact already answers goes to the newer fact (a correction the
        rules could not link still wins over what it corrects)."""
        today = utcnow().date()
        memory_id = source.sources["memories"][0]
        with ctx.db.session() as s:
            memory = s.get(Memory, memory_id)
            texts = [t for (t,) in s.connection().execute(text(
                "SELECT text FROM memory WHERE kind = 'fact' AND superseded_by IS NULL"))]
            replaced = _stale_for(s, source)
        if memory is None:
            return WorkOutcome("Skipped anticipating: the fact is gone.")
        said_at = memory.said_at or memory.created_at
        made = [fq for fq in questions_for_fact(memory.text, memory.subject, today,
                                                known_names(texts))
                if not handed_over_since(ctx.db, fq.question, [fq.answer], said_at)]
        kind = anticipation_kind(memory.text, today)
        rows = [self._fact_row(ctx.db, fq, kind, source, today) for fq in made]
        counters = Counters(anticipations_invalidated=len(replaced))
        kept: list[Anticipation] = []

        def apply(s: Session) -> None:
            for old_id in replaced:
                old = s.get(Anticipation, old_id)
                if old is not None and old.status == AnticipationStatus.STALE.value:
                    s.delete(old)
            for row in rows:
                if _yield_to_newer(s, row, memory_id, said_at):
                    kept.append(row)
                    s.add(row)
            counters.anticipations_made = len(kept)

        names_ = "; ".join(f'"{fq.question}"' for fq in made) or "nothing to ask"
        return WorkOutcome(f"Prepared answers from a fact: {names_}", apply=apply,
                           counters=counters,
                           details={"target": item.target,
                                    "questions": [fq.question for fq in made]})

    @staticmethod
    def _fact_row(db: Database, fq: FactQuestion, kind: str, source: Source,
                  today: date) -> Anticipation:
        future = [d for d in dates_in(fq.answer, today) if d >= today]
        expires = (datetime.combine(max(future) + timedelta(days=1), datetime.min.time(),
                                    tzinfo=UTC) if future and fq.kind == "time"
                   else utcnow() + timedelta(days=30))
        score = predictability(math.log(max(fq.predictability, 1e-6)),
                               asked_before(db, fq.question))
        return Anticipation(kind=kind, question=fq.question, answer=fq.answer,
                            predictability=round(score, 4), sources=source.sources,
                            sources_hash=source.sources_hash, expires_at=expires)


def _yield_to_newer(s: Session, row: Anticipation, memory_id: int,
                    said_at: datetime) -> bool:
    """Whether ``row`` (from the fact ``memory_id`` said at ``said_at``) is kept: a
    servable answer to the same question (`question_key`) from an older fact, or from
    the model, goes stale; one from a newer fact keeps its place and ``row`` is not
    added."""
    key = question_key(row.question)
    for other in s.exec(select(Anticipation).where(
            Anticipation.question_key == key,
            col(Anticipation.status).in_((AnticipationStatus.READY.value,
                                          AnticipationStatus.USED.value)))).all():
        other_ids = list((other.sources or {}).get("memories", []))
        if other_ids:
            mem = s.get(Memory, other_ids[0])
            when = (mem.said_at or mem.created_at) if mem is not None else None
            if when is not None and (_aware(when), other_ids[0]) > (_aware(said_at),
                                                                   memory_id):
                return False
        other.status = AnticipationStatus.STALE.value
        s.add(other)
    return True


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def _duplicate(s: Session, question: str) -> bool:
    ready = s.exec(select(Anticipation.question).where(
        Anticipation.status == AnticipationStatus.READY.value)).all()
    return any(question_match(question, q) >= max(SAME_QUESTION_THRESHOLD, 0.8) for q in ready)


def _stale_for(s: Session, source: Source) -> list[int]:
    """Stale anticipations that came from any of ``source``'s rows."""
    stale = s.exec(select(Anticipation).where(
        Anticipation.status == AnticipationStatus.STALE.value)).all()
    mine = {(k, i) for k, ids in source.sources.items() for i in ids}
    return [a.id or 0 for a in stale
            if mine & {(k, i) for k, ids in (a.sources or {}).items() for i in ids}]
