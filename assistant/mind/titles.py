"""Sleep-time work: give conversations a real title instead of their first words.

A conversation whose title is still the automatic one (the first line of its first
message, see `store.chats.title_from`) gets a short topic title from the model. A title
the person typed is never touched: the new title is written only if the old one is
still the automatic title at commit time.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from string import Template

from sqlalchemy import text
from sqlmodel import Session, col, select

from assistant.llm.engine import ChatMessage, GenerationRequest, PromptStyle
from assistant.mind.agenda import Proposal
from assistant.mind.work import WorkContext, WorkOutcome
from assistant.resources import read_prompt
from assistant.store.chats import title_from
from assistant.store.db import Database
from assistant.store.models import Conversation, Message, Role, WorkItem
from assistant.text.lines import clip, one_line

log = logging.getLogger("assistant.mind")

KIND = "title_conversation"
PRIORITY = 0.1
#: Longest transcript shown to the model, and longest piece of one message in it.
MAX_TRANSCRIPT_CHARS = 3000
MAX_MESSAGE_CHARS = 600
MAX_TITLE_WORDS = 8
MAX_TITLE_CHARS = 60
#: Conversations that are not the person's own topics.
_EXCLUDED_IMPORT_KEYS = ("reverie:command-line",)

_CANDIDATES_SQL = text(f"""
SELECT c.id, c.title,
       (SELECT m.content FROM message m WHERE m.conversation_id = c.id AND m.role = 'user'
        ORDER BY m.created_at, m.id LIMIT 1) AS first_user,
       (SELECT count(*) FROM message m WHERE m.conversation_id = c.id) AS n_messages
FROM conversation c
WHERE c.archived = 0
  AND (c.import_key IS NULL OR c.import_key NOT IN ({", ".join(
      f"'{k}'" for k in _EXCLUDED_IMPORT_KEYS)}))
  AND NOT EXISTS (SELECT 1 FROM work_item w
                  WHERE w.kind = '{KIND}' AND w.target = CAST(c.id AS TEXT))
ORDER BY c.updated_at DESC
""")


def has_auto_title(title: str, first_user_message: str | None) -> bool:
    """True if ``title`` is empty or is what Reverie made from the first message."""
    if not title.strip():
        return True
    return first_user_message is not None and title == title_from(first_user_message)


def propose_titles(db: Database) -> Iterator[Proposal]:
    """One proposal per conversation (with an answer in it) that still has its auto title."""
    with db.session() as s:
        rows = list(s.connection().execute(_CANDIDATES_SQL))
    for conv_id, title, first_user, n_messages in rows:
        if n_messages >= 2 and first_user and has_auto_title(title, first_user):
            yield Proposal(KIND, str(conv_id), PRIORITY, once=True)


def clean_title(raw: str) -> str | None:
    """The model's title made tidy, or None if it is not a usable title."""
    line = raw.strip().split("\n", 1)[0]
    line = re.sub(r"^\s*(title\s*:)\s*", "", line, flags=re.IGNORECASE)
    line = line.strip().strip("\"'“”‘’*_#`").strip()
    line = re.sub(r"[\s.,;:!?\-–—]+$", "", line)
    line = one_line(line)
    words = line.split(" ")
    if len(words) > MAX_TITLE_WORDS:
        line = " ".join(words[:MAX_TITLE_WORDS])
    if len(line) > MAX_TITLE_CHARS:
        line = line[:MAX_TITLE_CHARS].rsplit(" ", 1)[0]
    if len(line) < 3 or not any(ch.isalpha() for ch in line):
        return None
    return line[0].upper() + line[1:]


def transcript(messages: list[Message]) -> str:
    """The conversation as "User:/Reverie:" lines, cut to `MAX_TRANSCRIPT_CHARS`."""
    lines: list[str] = []
    used = 0
    for m in messages:
        if m.role not in (Role.USER, Role.ASSISTANT):
            continue
        content = clip(one_line(m.content), MAX_MESSAGE_CHARS)
        if not content:
            continue
        line = f"{'User' if m.role == Role.USER else 'Reverie'}: {content}"
        if lines and used + len(line) > MAX_TRANSCRIPT_CHARS:
            break
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines)


def title_request(style: PromptStyle, conversation_text: str) -> GenerationRequest:
    """Greedy, short, one line: a title is not a place for creativity."""
    if style is PromptStyle.CHAT:
        return GenerationRequest(
            messages=[ChatMessage("system", read_prompt("title_system.txt").strip()),
                      ChatMessage("user", conversation_text)],
            max_tokens=20, temperature=0.0, stop=["\n"])
    prompt = Template(read_prompt("title_completion.txt")).substitute(
        transcript=conversation_text)
    return GenerationRequest(prompt=prompt.rstrip("\n"), max_tokens=16, temperature=0.0,
                             stop=["\n"])


@dataclass(frozen=True)
class _Snapshot:
    conversation_id: int
    title: str
    messages: list[Message]


class TitleConversationHandler:
    """Handler for ``title_conversation`` items (target: the conversation id)."""

    kind = KIND

    def _snapshot(self, item: WorkItem, db: Database) -> _Snapshot | None:
        try:
            conv_id = int(item.target)
        except ValueError:
            raise ValueError(f"the target {item.target!r} is not a conversation id") from None
        with db.session() as s:
            conv = s.get(Conversation, conv_id)
            if conv is None:
                return None
            messages = list(s.exec(select(Message).where(Message.conversation_id == conv_id)
                                   .order_by(col(Message.created_at), col(Message.id))))
        return _Snapshot(conv_id, conv.title, messages)

    def describe(self, item: WorkItem, db: Database) -> str:
        with db.session() as s:
            conv = s.get(Conversation, int(item.target)) if item.target.isdigit() else None
        return f'a title for "{conv.title}"' if conv is not None else "a conversation title"

    def run(self, item: WorkItem, ctx: WorkContext) -> WorkOutcome:
        snap = self._snapshot(item, ctx.db)
        if snap is None:
            return WorkOutcome("Skipped a title: the conversation was deleted.")
        first_user = next((m.content for m in snap.messages if m.role == Role.USER), None)
        if not has_auto_title(snap.title, first_user):
            return WorkOutcome(f'Kept the title "{snap.title}" you gave.')
        text_ = transcript(snap.messages)
        if not text_:
            return WorkOutcome("Skipped a title: the conversation has no text.")
        result = ctx.generate(title_request(ctx.engine.info.prompt_style, text_))
        new_title = clean_title(result.text)
        details: dict[str, object] = {"conversation_id": snap.conversation_id,
                                      "old_title": snap.title, "model_said": result.text}
        if new_title is None or new_title == snap.title:
            return WorkOutcome(f'Kept the title "{snap.title}" (no better one came to mind).',
                               details=details)
        details["new_title"] = new_title

        def apply(s: Session) -> None:
            conv = s.get(Conversation, snap.conversation_id)
            if conv is None or conv.title != snap.title:
                log.info("conversation %s changed meanwhile; title left alone",
                         snap.conversation_id)
                return
            conv.title = new_title
            s.add(conv)

        was = f'the chat "{snap.title}"' if snap.title.strip() else "an untitled chat"
        return WorkOutcome(f'Titled {was} as "{new_title}".', apply=apply,
                           details=details)
