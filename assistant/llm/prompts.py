"""Turning a question and its context into a GenerationRequest, for either prompt style.

Base models (no chat template, like the bundled Gemma 3 270M) get a plain-text
completion with short examples; instruct models get chat messages. The texts live in
``resources/prompts/``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from string import Template

from assistant.llm.engine import ChatMessage, GenerationRequest, Priority, PromptStyle
from assistant.resources import read_prompt
from assistant.text.lines import one_line

#: What the profile block says before sleep time has written one.
EMPTY_PROFILE = "(nothing yet)"
#: Where a completion-style answer ends: the model starts the next turn.
COMPLETION_STOPS = ("\nUser:", "\nReverie:", "\n\n")


@dataclass(frozen=True)
class Turn:
    role: str  # "user" | "assistant"
    content: str


def answer_request(
    style: PromptStyle,
    question: str,
    history: Sequence[Turn] = (),
    *,
    max_tokens: int = 200,
    temperature: float = 0.3,
    priority: Priority = Priority.FOREGROUND,
) -> GenerationRequest:
    """The request that answers ``question`` after the earlier ``history`` turns."""
    if style is PromptStyle.CHAT:
        messages = [ChatMessage("system", read_prompt("answer_system.txt").strip())]
        messages += [ChatMessage(t.role, t.content) for t in history]
        messages.append(ChatMessage("user", question))
        return GenerationRequest(messages=messages, max_tokens=max_tokens,
                                 temperature=temperature, priority=priority)
    lines = []
    for turn in history:
        speaker = "User" if turn.role == "user" else "Reverie"
        lines.append(f"{speaker}: {one_line(turn.content)}\n")
        if turn.role != "user":
            lines.append("\n")
    history_text = "".join(lines)
    if history_text and not history_text.endswith("\n\n"):
        history_text += "\n"
    prompt = Template(read_prompt("answer_completion.txt")).substitute(
        history=history_text, question=one_line(question)
    )
    return GenerationRequest(prompt=prompt.rstrip("\n"), max_tokens=max_tokens,
                             temperature=temperature, stop=COMPLETION_STOPS,
                             priority=priority)


def answer_prefix(style: PromptStyle, profile: str) -> str:
    """The fixed start of every memory-mode answer prompt: instructions, then the profile.

    Sleep time warms it (mind.profile) and the query path starts with it
    (recall.answer_prompts): byte-identical in both, so the saved KV state is found. For
    the chat style this is the system message."""
    name = ("memory_answer_system.txt" if style is PromptStyle.CHAT
            else "memory_answer_completion.txt")
    return Template(read_prompt(name)).substitute(profile=profile.strip() or EMPTY_PROFILE)
