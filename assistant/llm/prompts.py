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

#: Where a completion-style answer ends: the model starts the next turn.
COMPLETION_STOPS = ("\nUser:", "\nReverie:", "\n\n")


@dataclass(frozen=True)
class Turn:
    role: str  # "user" | "assistant"
    content: str


def _one_line(text: str) -> str:
    return " ".join(text.split())


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
        lines.append(f"{speaker}: {_one_line(turn.content)}\n")
        if turn.role != "user":
            lines.append("\n")
    history_text = "".join(lines)
    if history_text and not history_text.endswith("\n\n"):
        history_text += "\n"
    prompt = Template(read_prompt("answer_completion.txt")).substitute(
        history=history_text, question=_one_line(question)
    )
    return GenerationRequest(prompt=prompt.rstrip("\n"), max_tokens=max_tokens,
                             temperature=temperature, stop=COMPLETION_STOPS,
                             priority=priority)
