"""The profile block: a bounded text ("About you", "Ongoing") rebuilt from memories.

It is assembled by rules from the active facts (pinned first, then confidence, then the
newest), cut to a token limit, stored as a memory of kind profile (scope global; the
previous one superseded) and placed at the start of every memory-mode answer prompt,
right after the instructions. That prefix (`llm.prompts.answer_prefix`) is warmed into a saved KV
state at the end of a session (``warm_prefix`` item, last in priority), so a question
evaluates only its retrieved snippets and itself. After a big import, whose backlog takes
days of idle time, the prefix answers use meanwhile is warmed first instead: under a
second of work that every answer until the backlog is done saves.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from pathlib import Path

from sqlmodel import Session, col, select

from assistant.llm.engine import Engine, EngineError, Preempted, PromptStyle
from assistant.llm.prefix_cache import record_sources
from assistant.llm.prompts import answer_prefix
from assistant.mind.agenda import Proposal
from assistant.mind.backlog import has_undigested, undigested_messages
from assistant.mind.reconcile import new_memory
from assistant.mind.work import WorkContext, WorkInterrupted, WorkOutcome
from assistant.store.db import Database
from assistant.store.models import Memory, MemoryKind, MemoryScope, WorkItem
from assistant.text.dates import mentions_date
from assistant.text.lines import clip, one_line
from assistant.text.words import normalize

log = logging.getLogger("assistant.mind")

PROFILE_KIND = "rebuild_profile"
WARM_KIND = "warm_prefix"
PROFILE_PRIORITY = 0.05
WARM_PRIORITY = 0.01
#: Above every digest (`mind.backlog` ranks them at most 1.0): a big backlog's first item.
WARM_EARLY_PRIORITY = 2.0
#: A backlog of at least this many undigested messages is more than one idle session
#: digests on a laptop (about 20 s per conversation of some 50 messages).
BIG_BACKLOG_MESSAGES = 2000
ABOUT = "About you:"
ONGOING = "Ongoing:"
MAX_LINE_CHARS = 160

TokenCounter = Callable[[str], int]


def _rank(memory: Memory) -> tuple[int, float, float, int]:
    return (0 if memory.pinned else 1, -memory.confidence,
            -memory.updated_at.timestamp(), -(memory.id or 0))


def _line(memory: Memory) -> str:
    return f"- {clip(one_line(memory.text).rstrip('.'), MAX_LINE_CHARS)}."


def build_profile(facts: list[Memory], limit_tokens: int, count: TokenCounter) -> str:
    """The block from ``facts``: dated or recurring ones under "Ongoing", the rest under
    "About you", alternating so both get room; never more than ``limit_tokens``."""
    about = [m for m in sorted(facts, key=_rank) if not mentions_date(m.text)]
    ongoing = [m for m in sorted(facts, key=_rank) if mentions_date(m.text)]
    chosen_about: list[str] = []
    chosen_ongoing: list[str] = []
    seen: set[str] = set()

    def render() -> str:
        parts = []
        if chosen_about:
            parts.append("\n".join([ABOUT, *chosen_about]))
        if chosen_ongoing:
            parts.append("\n".join([ONGOING, *chosen_ongoing]))
        return "\n".join(parts)

    queues = [(about, chosen_about), (ongoing, chosen_ongoing)]
    full = [False, False]
    index = [0, 0]
    while not all(full):
        for q, (source, chosen) in enumerate(queues):
            if full[q]:
                continue
            if index[q] >= len(source):
                full[q] = True
                continue
            memory = source[index[q]]
            index[q] += 1
            line = _line(memory)
            key = normalize(line)
            if key in seen:
                continue
            chosen.append(line)
            if count(render()) > limit_tokens:
                chosen.pop()
                full[q] = True
            else:
                seen.add(key)
    return render()


def active_facts(s: Session) -> list[Memory]:
    return list(s.exec(select(Memory).where(Memory.kind == MemoryKind.FACT.value,
                                            col(Memory.superseded_by).is_(None))))


def current_profile(s: Session) -> Memory | None:
    return s.exec(select(Memory).where(Memory.kind == MemoryKind.PROFILE.value,
                                       col(Memory.superseded_by).is_(None))
                  .order_by(col(Memory.id).desc())).first()


def profile_text(db: Database) -> str:
    """The current profile block ('' when there is none yet)."""
    with db.session() as s:
        memory = current_profile(s)
    return memory.text if memory is not None else ""


def profile_sources(db: Database) -> dict[str, list[int]]:
    """Every memory, message and note the current profile block owes its text to
    (transitively); recorded with a warmed prefix so forgetting any of them finds it."""
    out: dict[str, set[int]] = {"memories": set(), "messages": set(), "notes": set()}
    with db.session() as s:
        profile = current_profile(s)
        frontier = [profile.id] if profile is not None and profile.id is not None else []
        while frontier:
            memory = s.get(Memory, frontier.pop())
            if memory is None or memory.id in out["memories"]:
                continue
            out["memories"].add(memory.id or 0)
            src = memory.sources or {}
            out["messages"].update(src.get("messages", []))
            out["notes"].update(src.get("notes", []))
            frontier.extend(i for i in src.get("memories", []) if i not in out["memories"])
    return {k: sorted(v) for k, v in out.items()}


class ProfileHandler:
    """Rewrites the profile block from the active facts (target: "global")."""

    kind = PROFILE_KIND

    def __init__(self, limit_tokens: Callable[[], int]) -> None:
        self._limit = limit_tokens

    def describe(self, item: WorkItem, db: Database) -> str:
        return "the profile block"

    def run(self, item: WorkItem, ctx: WorkContext) -> WorkOutcome:
        with ctx.db.session() as s:
            facts = active_facts(s)
            old = current_profile(s)
        text_ = build_profile(facts, self._limit(), ctx.engine.count_tokens)
        if old is not None and old.text == text_:
            return WorkOutcome("The profile block is up to date.")
        used = sorted({m.id or 0 for m in facts if _line(m) in text_.split("\n")})
        outcome = WorkOutcome(f"Rewrote the profile block ({len(used)} facts).",
                              details={"tokens": ctx.engine.count_tokens(text_)})

        def apply(s: Session) -> None:
            profile = new_memory(MemoryKind.PROFILE, MemoryScope.GLOBAL, "profile", text_,
                                 {"memories": used})
            s.add(profile)
            s.flush()
            outcome.counters.memories_added += 1
            previous = current_profile_except(s, profile.id or 0)
            for row in previous:
                row.superseded_by = profile.id
                s.add(row)
                outcome.counters.memories_superseded += 1

        outcome.apply = apply
        return outcome


def current_profile_except(s: Session, keep: int) -> list[Memory]:
    return list(s.exec(select(Memory).where(Memory.kind == MemoryKind.PROFILE.value,
                                            col(Memory.superseded_by).is_(None),
                                            Memory.id != keep)))


def profile_source(engine: Engine, limit_tokens: Callable[[], int]
                   ) -> Callable[[Database], Iterator[Proposal]]:
    """Propose a rewrite when the block built now differs from the stored one."""

    def propose(db: Database) -> Iterator[Proposal]:
        with db.session() as s:
            facts = active_facts(s)
            old = current_profile(s)
        if not facts and old is None:
            return
        built = build_profile(facts, limit_tokens(), engine.count_tokens)
        if old is None or old.text != built:
            yield Proposal(PROFILE_KIND, "global", PROFILE_PRIORITY)

    return propose


def _warm_target(engine: Engine, db: Database) -> str:
    with db.session() as s:
        profile = current_profile(s)
    prefix = answer_prefix(engine.info.prompt_style, profile.text if profile else "")
    digest = hashlib.sha256(f"{engine.info.sha256}\0{engine.info.n_ctx}\0{prefix}".encode())
    return f"{profile.id if profile else 0}:{digest.hexdigest()[:16]}"


def warm_source(engine: Engine, limit_tokens: Callable[[], int]
                ) -> Callable[[Database], Iterator[Proposal]]:
    """Warm the answer prefix once per (profile, model, prompt) version, last of all,
    or first of all while a big backlog waits (`BIG_BACKLOG_MESSAGES`).

    Only completion-style prompts start with plain prefix text; a chat template renders
    the system message itself, so chat models are not warmed here."""

    def propose(db: Database) -> Iterator[Proposal]:
        if engine.info.prompt_style is not PromptStyle.COMPLETION:
            return
        if undigested_messages(db, BIG_BACKLOG_MESSAGES) >= BIG_BACKLOG_MESSAGES:
            # Days of digesting ahead: the prefix of today's profile serves until then
            # (the profile is rebuilt after the backlog; that prefix is warmed again).
            yield Proposal(WARM_KIND, _warm_target(engine, db), WARM_EARLY_PRIORITY,
                           once=True)
            return
        # Warm only what will be used: not while memory or the profile is about to change.
        if has_undigested(db):
            return
        if next(iter(profile_source(engine, limit_tokens)(db)), None) is not None:
            return
        yield Proposal(WARM_KIND, _warm_target(engine, db), WARM_PRIORITY, once=True)

    return propose


class WarmPrefixHandler:
    """Evaluates the answer prefix and saves its KV state (target: profile id + hash).

    With ``kv_dir`` (the engine's prefix cache folder) it records the state's sources,
    so that forgetting a memory, message or note also deletes the state made from it."""

    kind = WARM_KIND

    def __init__(self, kv_dir: Path | None = None) -> None:
        self._kv_dir = kv_dir

    def describe(self, item: WorkItem, db: Database) -> str:
        return "the answer prompt's prefix (for fast answers)"

    def run(self, item: WorkItem, ctx: WorkContext) -> WorkOutcome:
        if ctx.should_stop():
            raise WorkInterrupted("stop requested before warming")
        sources = profile_sources(ctx.db)
        prefix = answer_prefix(ctx.engine.info.prompt_style, profile_text(ctx.db))
        try:
            key = ctx.engine.warm_prefix(prefix)
        except Preempted as exc:
            raise WorkInterrupted(str(exc), preempted=not ctx.should_stop()) from exc
        except EngineError as exc:
            return WorkOutcome(f"Could not prepare the answer prefix: {exc}")
        if self._kv_dir is not None and (self._kv_dir / f"{key}.json").is_file():
            record_sources(self._kv_dir, key, sources)
        tokens = ctx.engine.count_tokens(prefix)
        ctx.usage.prompt_tokens += tokens
        return WorkOutcome(f"Prepared the answer prompt ({tokens} tokens) for fast answers.",
                           details={"prefix_key": key, "prefix_tokens": tokens})
