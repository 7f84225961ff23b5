"""The query path: what happens between a question and its answer.

Modes (``reverie ask --mode``): ``memory`` builds the prompt from the warm prefix
(instructions + profile block), the retrieved snippets, the recent turns and the
question; ``full-context`` is the paper's test-time-only baseline (the raw history and
notes cut to the window); ``auto`` first looks for an answer prepared while the person
was away (``recall.prepared``) and serves it at once, else answers as ``memory``.
A Responder made without a retriever answers from the recent turns only.

A prompt's recent turns come only from the conversation asked in; the questions asked
from the command line (each its own conversation, `command_line_key`) and their answers
are never evidence for another question, in any mode. Every generated answer is cleaned
(`assistant.text.answers`), and in memory mode a question that opens a conversation
and whose subject the retrieved evidence (and the profile) does not say
(`assistant.recall.support`, a calibrated rule) is answered "I don't know." without
generating (once the person has chats or notes): a guess from an unrelated snippet is
worse than no answer.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from assistant.config import MemorySettings, ModelSettings
from assistant.llm.embedding import Embedder
from assistant.llm.engine import (
    Engine,
    FinishReason,
    GenerationRequest,
    StopCheck,
    TokenCallback,
)
from assistant.llm.prompts import Turn, answer_request
from assistant.recall.answer_prompts import (
    QuestionTooLongError,
    answer_room,
    fit_to_window,
    full_context_request,
    memory_request,
    reference_lines,
)
from assistant.recall.evidence import corrected, current_hits, current_profile
from assistant.recall.extractive import EXTRACTIVE, extractive_answer, lacks_value, style_for
from assistant.recall.prepared import Prepared, PreparedAnswers
from assistant.recall.retrieval import Hit, Retriever
from assistant.recall.support import Support, measure, shipped_rule, subject_words, terms
from assistant.store.chats import ChatRepository
from assistant.store.models import Conversation, Message, Origin, Role
from assistant.store.notes import NoteRepository
from assistant.text.answers import DONT_KNOW, AnswerCleaner
from assistant.text.questions import (
    about_the_person,
    concerns_time,
    mentions,
    names,
    names_someone,
)

MODES = ("auto", "memory", "full-context")
__all__ = ["MODES", "Answer", "QuestionTooLongError", "Responder", "command_line_key",
           "is_command_line"]

log = logging.getLogger("assistant.recall")

#: The import key of every conversation started by `reverie ask` begins with this (the
#: 0.1 profiles have one rolling conversation with exactly this key).
COMMAND_LINE_KEY = "reverie:command-line"
#: Retrieved candidates looked at beyond top-k, so that left-out ones can be replaced.
_SPARE_HITS = 5


def command_line_key() -> str:
    """A new, unique import key for a conversation started by `reverie ask`."""
    return f"{COMMAND_LINE_KEY}:{uuid.uuid4().hex}"


def is_command_line(conversation: Conversation) -> bool:
    """True for a conversation started by `reverie ask` (its questions and answers)."""
    key = conversation.import_key or ""
    return key == COMMAND_LINE_KEY or key.startswith(COMMAND_LINE_KEY + ":")


@dataclass
class Answer:
    """An answer and its accounting; ``to_json()`` is the ``ask --json`` contract."""

    answer: str
    source: str
    mode: str
    ttft_ms: float
    total_ms: float
    prompt_tokens: int
    cached_prefix_tokens: int
    completion_tokens: int
    anticipation_id: int | None
    memory_ids: list[int]
    model: str
    finish_reason: str = FinishReason.STOP.value
    conversation_id: int | None = None
    message_ids: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("finish_reason", "message_ids"):
            data.pop(key)
        data["ttft_ms"] = round(self.ttft_ms, 1)
        data["total_ms"] = round(self.total_ms, 1)
        return data


class Responder:
    """Answers questions, and keeps the question and the answer in the conversation."""

    def __init__(self, engine: Engine, chats: ChatRepository, model: ModelSettings, *,
                 history_turns: int = 6, retriever: Retriever | None = None,
                 notes: NoteRepository | None = None, memory: MemorySettings | None = None,
                 profile: Callable[[], str] | None = None,
                 prepared: PreparedAnswers | None = None, save: bool = True,
                 embedder: Embedder | None = None) -> None:
        self._engine = engine
        self._chats = chats
        self._model = model
        self._history_turns = history_turns
        self._retriever = retriever
        self._notes = notes
        self._memory = memory or MemorySettings()
        self._profile = profile or (lambda: "")
        self._prepared = prepared
        #: Judges whether the evidence supports an answer (None: by words alone).
        self._embedder = embedder
        #: False for a read-only profile: answer, but store nothing (no turn, no hit).
        self.save = save
        #: Kind of question -> generated | extractive (None: the committed table,
        #: `assistant.recall.extractive`); the benchmark sets it to compare the two.
        self.answer_styles: Mapping[str, str] | None = None
        #: The sampler's seed for every answer (None: the engine's own sequence); the
        #: benchmark seeds each question alike in every mode, so that two modes given
        #: the same prompt give the same answer and differ only where their prompts do.
        self.seed: int | None = None

    def _others(self, conversation_id: int, profile: str) -> tuple[set[int], bool]:
        """The command-line conversations other than ``conversation_id``, and whether
        the person has anything else to remember (another chat, a note, a ``profile``)."""
        asked, personal = set(), False
        for conv in self._chats.list_conversations(include_archived=True):
            if conv.id == conversation_id:
                continue
            if is_command_line(conv):
                asked.add(conv.id or 0)
            else:
                personal = True
        personal = personal or bool(profile.strip()) or bool(
            self._notes is not None and self._notes.has_any())
        return asked, personal

    def _memory_request(self, question: str, history: list[Turn], conversation_id: int,
                        today: date | None
                        ) -> tuple[GenerationRequest | None, list[int], list[Hit]]:
        """The memory-mode request, the memories it quotes and the hits retrieved; None
        when the person has chats or notes but nothing retrieved is about the question
        and no earlier turn of this conversation could be what it refers to (the answer
        is "I don't know.") and the question is about their life or what their data
        names (`_cannot_know`). A profile with nothing in it yet answers as a plain
        assistant, except a question about the person's own life."""
        assert self._retriever is not None
        retrieved, known, personal, stored_profile = self._retrieve(question, conversation_id)
        current = current_hits(question, retrieved, self._retriever.outdated,
                               self._retriever.handed_over)
        hits = current[:self._memory.retrieve_top_k]
        if not history and self._cannot_know(question, known, personal, today):
            return None, [], hits
        if not hits and not concerns_time(question):
            if not personal:
                # Nothing of the person's yet: the plain prompt, whose worked examples
                # are about the world (the memory prompt's, about someone's brother in
                # Oslo, were what "How do I boil an egg?" drew).
                return self._plain_request(question, history), [], hits
            today = None  # a date quoted alone is a distractor ("It's 29 November.")
        refs, used = reference_lines(hits, today, self._memory.snippet_tokens,
                                     self._engine.count_tokens)
        style = self._engine.info.prompt_style
        profile = current_profile(stored_profile, corrected(retrieved, current))

        def build(turns: Sequence[Turn], kept: Sequence[str]) -> GenerationRequest:
            return memory_request(style, profile, kept, turns, question,
                                  max_tokens=self._model.max_answer_tokens,
                                  temperature=self._model.temperature)

        request, kept = fit_to_window(build, history, refs, room=self._room(),
                                      count=self._engine.count_tokens)
        used = used[:max(0, kept - (1 if today is not None else 0))]
        return request, [h.id for h in used if h.kind == "memory"], hits

    def _cannot_know(self, question: str, known: Sequence[str], personal: bool,
                     today: date | None = None) -> bool:
        """Whether the honest answer is "I don't know.". With no data yet: ``question``
        is about the person's own life (`about_the_person`: "When is my dentist
        appointment?" had drawn "I'm a dentist.") or about something of a named someone
        (`names_someone`: "When is Pixel's vaccination?" had drawn today's date; "What
        is France's capital?" is refused with them). With data: the same, or it names
        what their data mentions, and the evidence does not support an answer or, asked
        for a price, an age or a date, states none about it (`lacks_value`); or, asked
        for a price, an age or a date of something their data speaks of (half of what
        the question is about, `subject_words`), it states none ("How much does a
        passport renewal cost?" is refused when their data speaks of their passport but
        gives no price). Any other question about the world ("What is the capital of
        France?") or what to do ("How do I reset my password?") is answered."""
        mine = about_the_person(question) or names_someone(question)
        if not personal:
            return mine
        mine = mine or bool(names(question) & mentions(" ".join(known)))
        if mine:
            return lacks_value(question, known, today) or not self.supported(question, known)
        # "How much does the pottery course cost?": not said to be theirs, but what it is
        # about is (at least half) in their data, which states no price for it.
        about = set(subject_words(question))
        said = about & set(terms(" ".join(known)))
        return bool(about) and 2 * len(said) >= len(about) and lacks_value(question, known,
                                                                            today)

    def _retrieve(self, question: str, conversation_id: int
                  ) -> tuple[list[Hit], list[str], bool, str]:
        """The hits retrieved for ``question`` (another command-line question's turns
        left out), the texts its support is judged on, whether the person has anything
        to remember, and the profile block (read once). Support is judged on everything
        retrieved, the profile too: an old value is still evidence that the question has
        an answer; what the answer may quote is the current evidence only
        (`current_hits`)."""
        assert self._retriever is not None
        top_k = self._memory.retrieve_top_k
        hits = self._retriever.search(question, top_k + _SPARE_HITS,
                                      exclude_conversation=conversation_id)
        profile = self._profile()
        asked, personal = self._others(conversation_id, profile)
        if asked:
            where = self._chats.conversations_of([h.id for h in hits if h.kind == "message"])
            hits = [h for h in hits if h.kind != "message" or where.get(h.id) not in asked]
        return hits, [h.text for h in hits] + [profile], personal, profile

    def support(self, question: str, conversation_id: int = 0) -> Support:
        """What the evidence retrieved for ``question`` offers an answer (`measure`)."""
        known = self._retrieve(question, conversation_id)[1]
        return measure(question, known, self._embedder)

    def supported(self, question: str, known: Sequence[str]) -> bool:
        """True if ``known`` (the retrieved texts) supports an answer to ``question``
        under the calibrated rule (`assistant.recall.support`)."""
        return shipped_rule().supports(measure(question, known, self._embedder))

    def _room(self) -> int:
        return answer_room(self._engine.info.n_ctx, self._model.max_answer_tokens)

    def _plain_request(self, question: str, history: Sequence[Turn]) -> GenerationRequest:
        def build(turns: Sequence[Turn], _refs: Sequence[str]) -> GenerationRequest:
            return answer_request(self._engine.info.prompt_style, question, turns,
                                  max_tokens=self._model.max_answer_tokens,
                                  temperature=self._model.temperature)

        return fit_to_window(build, history, [], room=self._room(),
                             count=self._engine.count_tokens)[0]

    def check_fits(self, question: str) -> None:
        """Raise QuestionTooLongError (one sentence) when ``question`` alone, with the
        fixed part of the prompt, cannot fit the context window."""
        if self._retriever is not None:
            style, profile = self._engine.info.prompt_style, self._profile()

            def build(_turns: Sequence[Turn], _refs: Sequence[str]) -> GenerationRequest:
                return memory_request(style, profile, [], [], question,
                                      max_tokens=self._model.max_answer_tokens,
                                      temperature=self._model.temperature)

            fit_to_window(build, [], [], room=self._room(), count=self._engine.count_tokens)
        else:
            self._plain_request(question, [])

    def _full_context_request(self, question: str, conversation_id: int, asked_id: int
                              ) -> GenerationRequest:
        conversations = []
        for conv in self._chats.list_conversations(include_archived=True):
            if is_command_line(conv) and conv.id != conversation_id:
                continue  # another question's turns are not the person's history
            messages = [m for m in self._chats.messages(conv.id or 0)
                        if m.id != asked_id and m.content.strip()]
            conversations.append((conv.title, messages))
        notes = self._notes.all() if self._notes is not None else []
        return full_context_request(
            self._engine.info.prompt_style, conversations, notes, question,
            n_ctx=self._engine.info.n_ctx, max_tokens=self._model.max_answer_tokens,
            temperature=self._model.temperature, count=self._engine.count_tokens)

    def ask(
        self,
        question: str,
        conversation_id: int,
        *,
        on_token: TokenCallback | None = None,
        should_stop: StopCheck | None = None,
        mode: str = "auto",
        today: date | None = None,
        use_prepared: bool = True,
    ) -> Answer:
        """Store the question first (it is never lost), answer, store the answer.

        In ``auto`` mode a matching prepared answer is served at once (unless
        ``use_prepared`` is False). ``today`` (default: the local date) is quoted to the
        model in memory mode."""
        if mode not in MODES:
            raise ValueError(f"unknown answer mode {mode!r}; use one of {', '.join(MODES)}")
        started = time.perf_counter()
        self.check_fits(question)  # before storing: a question that cannot fit is refused
        history = self._history(conversation_id)
        asked = self._add(conversation_id, Role.USER, question, origin=Origin.TYPED)
        if mode == "auto" and use_prepared and self._prepared is not None:
            found = self._prepared.lookup(question)
            if found is not None:
                return self._serve_prepared(found, conversation_id, asked.id or 0, started,
                                            on_token)
        return self._generate(question, conversation_id, asked.id or 0, history, started,
                              mode=mode, today=today, on_token=on_token,
                              should_stop=should_stop)

    def think_again(self, question: str, conversation_id: int, *,
                    anticipation_id: int | None = None,
                    on_token: TokenCallback | None = None,
                    should_stop: StopCheck | None = None) -> Answer:
        """The prepared answer was not what the person wanted: count a miss, dismiss it
        (the one given, else the one that matches ``question``), and answer the same
        question (already in the conversation) in memory mode."""
        started = time.perf_counter()
        if self._prepared is not None:
            if anticipation_id is None:
                found = self._prepared.lookup(question)
                anticipation_id = found.anticipation_id if found is not None else None
            if anticipation_id is not None:
                self._prepared.record_miss(anticipation_id)
        history = self._history(conversation_id)
        asked = next((m for m in reversed(self._chats.recent_messages(20, conversation_id))
                      if m.role == Role.USER and m.content == question), None)
        if asked is None:
            asked = self._chats.add_message(conversation_id, Role.USER, question)
        else:
            history = [t for t in history if t.content != question]
        return self._generate(question, conversation_id, asked.id or 0, history, started,
                              mode="memory", today=None, on_token=on_token,
                              should_stop=should_stop)

    def _add(self, conversation_id: int, role: Role, content: str, **kw: Any) -> Message:
        """Store one turn, or (read-only profile) only pretend to: an unsaved message."""
        if self.save:
            return self._chats.add_message(conversation_id, role, content, **kw)
        return Message(conversation_id=conversation_id, role=str(role), content=content, id=0)

    def _history(self, conversation_id: int) -> list[Turn]:
        return [
            Turn(m.role, m.content)
            for m in self._chats.recent_messages(self._history_turns, conversation_id)
            if m.role in (Role.USER, Role.ASSISTANT) and m.content.strip()
        ]

    def _dont_know(self, conversation_id: int, asked_id: int, started: float, mode: str,
                   on_token: TokenCallback | None) -> Answer:
        """Nothing retrieved is about the question: say so, without generating."""
        if on_token is not None:
            on_token(DONT_KNOW)
        said = self._add(conversation_id, Role.ASSISTANT, DONT_KNOW, token_count=0)
        total_ms = (time.perf_counter() - started) * 1000
        log.info("no evidence for the question: answered that it is not known")
        return Answer(
            answer=DONT_KNOW, source="generated", mode=mode, ttft_ms=total_ms,
            total_ms=total_ms, prompt_tokens=0, cached_prefix_tokens=0, completion_tokens=0,
            anticipation_id=None, memory_ids=[], model=self._engine.info.name,
            conversation_id=conversation_id, message_ids=[asked_id, said.id or 0])

    def _extracted(self, text: str, hit: Hit, conversation_id: int, asked_id: int,
                   started: float, on_token: TokenCallback | None) -> Answer:
        """The evidence sentence itself is the answer (no model call)."""
        if on_token is not None:
            on_token(text)
        said = self._add(conversation_id, Role.ASSISTANT, text, token_count=0)
        total_ms = (time.perf_counter() - started) * 1000
        return Answer(
            answer=text, source="extracted", mode="memory", ttft_ms=total_ms,
            total_ms=total_ms, prompt_tokens=0, cached_prefix_tokens=0, completion_tokens=0,
            anticipation_id=None, memory_ids=[hit.id] if hit.kind == "memory" else [],
            model=self._engine.info.name, conversation_id=conversation_id,
            message_ids=[asked_id, said.id or 0])

    def _serve_prepared(self, found: Prepared, conversation_id: int, asked_id: int,
                        started: float, on_token: TokenCallback | None) -> Answer:
        assert self._prepared is not None
        if on_token is not None:
            on_token(found.answer)
        ttft_ms = (time.perf_counter() - started) * 1000
        said = self._add(conversation_id, Role.ASSISTANT, found.answer,
                         origin=Origin.ANTICIPATED)
        if self.save:
            self._prepared.record_hit(found.anticipation_id)
        total_ms = (time.perf_counter() - started) * 1000
        log.info("served prepared answer %d (match %.2f) in %.1f ms", found.anticipation_id,
                 found.score, total_ms)
        return Answer(
            answer=found.answer, source="anticipated", mode="auto", ttft_ms=ttft_ms,
            total_ms=total_ms, prompt_tokens=0, cached_prefix_tokens=0, completion_tokens=0,
            anticipation_id=found.anticipation_id,
            memory_ids=list(found.sources.get("memories", [])),
            model=self._engine.info.name, conversation_id=conversation_id,
            message_ids=[asked_id, said.id or 0])

    def _generate(self, question: str, conversation_id: int, asked_id: int,
                  history: list[Turn], started: float, *, mode: str, today: date | None,
                  on_token: TokenCallback | None, should_stop: StopCheck | None) -> Answer:
        memory_ids: list[int] = []
        used_mode = "memory" if mode == "auto" else mode
        request: GenerationRequest | None
        if used_mode == "full-context":
            request = self._full_context_request(question, conversation_id, asked_id)
        elif self._retriever is not None:
            request, memory_ids, hits = self._memory_request(
                question, history, conversation_id, today or date.today())
            if (request is not None and not history
                    and style_for(question, self.answer_styles) == EXTRACTIVE):
                found = extractive_answer(question, hits, today or date.today())
                if found is not None:
                    return self._extracted(found[0], found[1], conversation_id, asked_id,
                                           started, on_token)
        else:
            used_mode = mode
            request = self._plain_request(question, history)
        if request is None:
            return self._dont_know(conversation_id, asked_id, started, used_mode, on_token)
        if self.seed is not None:
            request.seed = self.seed
        cleaner = AnswerCleaner()
        request.should_stop = lambda: cleaner.done or (should_stop is not None
                                                       and should_stop())
        queued_ms = (time.perf_counter() - started) * 1000
        result = self._engine.generate(request, _cleaned(on_token, cleaner))
        rest = cleaner.finish()
        if on_token is not None and rest:
            on_token(rest)
        text = cleaner.text
        finish = result.finish_reason
        if (finish is FinishReason.CANCELLED and cleaner.done
                and not (should_stop is not None and should_stop())):
            finish = FinishReason.STOP  # the answer had ended: not stopped by the person
        if result.text.strip() != text:
            log.info("answer cleaned (%d characters generated, %d kept)",
                     len(result.text.strip()), len(text))
        ids = [asked_id]
        if text:
            said = self._add(conversation_id, Role.ASSISTANT, text,
                             token_count=result.completion_tokens)
            ids.append(said.id or 0)
        total_ms = (time.perf_counter() - started) * 1000
        log.info("answered in %.0f ms (%d prompt tokens, %d completion tokens, %s)",
                 total_ms, result.prompt_tokens, result.completion_tokens,
                 result.finish_reason)
        return Answer(
            answer=text,
            source="generated",
            mode=used_mode,
            ttft_ms=queued_ms + result.ttft_ms,
            total_ms=total_ms,
            prompt_tokens=result.prompt_tokens,
            cached_prefix_tokens=result.cached_tokens,
            completion_tokens=result.completion_tokens,
            anticipation_id=None,
            memory_ids=memory_ids,
            model=result.model,
            finish_reason=finish.value,
            conversation_id=conversation_id,
            message_ids=ids,
        )


def _cleaned(on_token: TokenCallback | None, cleaner: AnswerCleaner) -> TokenCallback:
    """Feed every generated piece to ``cleaner``; show only what the answer keeps."""

    def forward(piece: str) -> None:
        shown = cleaner.feed(piece)
        if shown and on_token is not None:
            on_token(shown)

    return forward
