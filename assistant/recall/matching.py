"""Does a question the person typed ask what a prepared (anticipated) question asked?

By meaning (`meaning_score`): the kind of answer asked for and the tense must agree, and
every name in the typed question must be known to the prepared answer: named in its
question, its answer or the fact it was prepared from (`prepared_context`), so "number
plate on Gerald?" can match "What is the registration of Owen's car?" when the fact says
Owen named the car Gerald, while "Is Ella allergic to eggs?" never gets Lucas's answer;
and at least half of the typed question's other words must be said by the prepared
question or its context (`topic_share`), so "When is Keiko's birthday?" never gets the
answer about when Keiko starts university.
Then the embedding cosines of the typed question against the prepared question and
against its context (answer and fact) are mixed by `MatchRule.context_share`, mixed
with the word match (`text.similarity.question_match`) by `MatchRule.weight`, and compared
with `MatchRule.threshold`. The rule is calibrated on the calibration half of the
paraphrase set (``resources/bench/paraphrases_calibration.json``: rephrasings and
near-misses) so that at most 2% of near-misses match, and reported on the held-out half
(`calibrate_rule`, ``reverie bench match``, ``docs/bench/match.json``).
`AnticipationMatcher` applies it to the ready, unexpired prepared questions, whose
vectors are stored in ``anticipation.vector`` so a lookup embeds only the typed question.
Without an embedder the word rule alone decides (`DEFAULT_THRESHOLD`, calibrated on
``resources/bench/paraphrases.json`` by `calibrate`).
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sqlalchemy import text
from sqlalchemy.engine import Connection

from assistant.llm.embedding import Embedder, from_blob, to_blob
from assistant.llm.engine import EngineError
from assistant.store.anticipations import servable_by_key
from assistant.store.db import Database
from assistant.store.fts import search_generation
from assistant.store.models import Anticipation, utcnow
from assistant.text.questions import (
    answer_kind,
    asks_for_a_thing,
    mentions,
    names,
    shows_clock,
    shows_day,
    tense,
    value_kind,
    wants_clock,
)
from assistant.text.similarity import (
    SAME_QUESTION_THRESHOLD,
    UNIFORM,
    WordWeights,
    owned_words,
    question_match,
    question_type,
    question_words,
    words_match,
)

log = logging.getLogger("assistant.recall")

#: The word-only matcher's threshold (calibrated; see `SAME_QUESTION_THRESHOLD`).
DEFAULT_THRESHOLD = SAME_QUESTION_THRESHOLD
#: The highest share of near-misses the meaning rule may match on the calibration half.
MAX_FALSE_RATE = 0.02
#: How much of a prepared answer's sources its context keeps (characters).
MAX_CONTEXT_CHARS = 600
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


@dataclass(frozen=True)
class MatchRule:
    """How to decide a match by meaning: ``weight`` is the share of the embedding cosines
    in the score (the rest is the word match); of that, ``context_share`` is the cosine
    against the prepared answer's context (answer and fact) and the rest the cosine
    against the prepared question alone; ``threshold`` is the score needed."""

    weight: float
    threshold: float
    context_share: float = 0.0
    #: The least `topic_share` a prepared answer with a context must reach (0: no check).
    min_topic_share: float = 0.0


#: Calibrated by `calibrate_rule` on paraphrases_calibration.json (docs/bench/match.json;
#: tests/recall/test_matching_meaning.py checks it is what calibration gives).
MATCH_RULE = MatchRule(weight=0.8, threshold=0.556, context_share=1.0,
                       min_topic_share=0.5)


@dataclass(frozen=True)
class PreparedContext:
    """What a prepared answer knows beyond its question: its ``answer``, and ``text``,
    the answer with the facts it was prepared from (`prepared_context`)."""

    answer: str
    text: str


def prepared_context(question: str, answer: str, sources: Sequence[str]) -> PreparedContext:
    """What a prepared answer knows beyond its question: the answer and the
    sentences (or lines) of its source texts (the message, note or
    memory it was prepared from) that share a topic word with the question or the
    answer, at most `MAX_CONTEXT_CHARS` of them. The same selection serves the live
    matcher and the benchmark, which gives it the fixture's source texts."""
    keys = set(question_words(question)) | set(question_words(answer))
    kept: list[str] = []
    size = 0
    for source in sources:
        for sentence in _SENTENCE_END.split(source):
            sentence = sentence.strip(" #-*\t")
            if (sentence and sentence not in kept and size < MAX_CONTEXT_CHARS
                    and keys & set(question_words(sentence))):
                kept.append(sentence[:MAX_CONTEXT_CHARS - size])
                size += len(kept[-1])
    return PreparedContext(answer, " ".join(part for part in (answer, *kept) if part))


def meaning_score(asked: str, prepared: str, cosine: float, weight: float,
                  weights: WordWeights = UNIFORM, *, context: PreparedContext | None = None,
                  context_cosine: float = 0.0, context_share: float = 0.0,
                  min_topic_share: float = 0.0) -> float:
    """0..1: how surely ``asked`` asks what ``prepared`` asked, given the cosine of their
    vectors (and ``context_cosine``, of ``asked`` against the prepared answer's
    `prepared_context`); 0 when they want different kinds of answer, ask about different
    times (past against now or later), ``asked`` names someone or something that
    neither ``prepared`` nor its ``context`` mentions, ``asked`` wants a time or an
    amount that ``prepared`` does not say it gives and its answer does not show, or
    (given a ``context``) less than ``min_topic_share`` of what ``asked`` is about is
    said by ``prepared`` or its context (`topic_share`), ``asked`` wants a time of day
    that the answer does not show (`wants_clock`), ``asked`` asks when and the answer
    gives a time of day but no day ("at 17:00"), ``asked`` wants a thing ("What
    book...?") and ``prepared`` a time, or ``asked`` says "our wedding" and ``prepared``
    (with its context) only ever says someone's wedding ("Cerys's wedding")."""
    return _meaning(_features(asked), _features(prepared, context), cosine, weight, weights,
                    context_cosine, context_share, min_topic_share)


@dataclass(frozen=True)
class _Question:
    """What matching needs of one question, computed once per question."""

    words: frozenset[str]
    word_type: str | None
    kind: str | None
    tense: str | None
    names: frozenset[str]
    #: Its sorted words joined by spaces (what the spelling ratio compares).
    spelled: str
    #: Its names and every word of its context (`mentions`): the names it knows.
    known: frozenset[str]
    #: `answer_kind`, else the `value_kind` of its answer (when it has one), else None.
    gives: str | None = None
    #: Whether its answer is known (a prepared answer's context was given).
    answered: bool = False
    #: Its words that are not names: what it asks about (`question_words`).
    topic: frozenset[str] = frozenset()
    #: The words of the question and of its context: what a prepared answer is about.
    covers: frozenset[str] = frozenset()
    #: Asks for a time of day (`wants_clock`); its answer shows one (`shows_clock`).
    clock: bool = False
    gives_clock: bool = False
    #: Its answer names a day or a date (`shows_day`).
    gives_day: bool = False
    #: A "What ...?" question of no kind: it wants a thing (`asks_for_a_thing`).
    thing: bool = False
    #: Words said with "my"/"our" ("our wedding"), and, in the question and its
    #: context, words said with someone's name ("Cerys's wedding"): `owned_words`.
    owned: frozenset[str] = frozenset()
    others: frozenset[str] = frozenset()


def _features(question: str, context: PreparedContext | None = None) -> _Question:
    words = frozenset(question_words(question))
    named = names(question)
    kind = answer_kind(question)
    gives = kind or (value_kind(context.answer) if context is not None else None)
    said = context.text if context is not None else ""
    return _Question(words, question_type(question), kind, tense(question), named,
                     " ".join(sorted(words)), named | mentions(said),
                     gives, context is not None and bool(context.answer),
                     frozenset(w for w in words if w not in named),
                     words | frozenset(question_words(said)), wants_clock(question),
                     context is not None and shows_clock(context.answer),
                     context is not None and shows_day(context.answer),
                     asks_for_a_thing(question), *owned_words(f"{question} {said}"))


def _same_stem(a: str, b: str) -> bool:
    """Whether two `question_words` stems are one word: equal, or one the other with at
    most two more letters ("arriv" and "arrive", "sav" and "saved")."""
    short, long = sorted((a, b), key=len)
    return long.startswith(short) and len(short) >= 3 and len(long) - len(short) <= 2


def topic_share(asked: frozenset[str], covers: frozenset[str]) -> float:
    """The share of ``asked``'s topic words (`_Question.topic`) that a prepared answer's
    question or context says (`_same_stem`); 1.0 when it has none."""
    if not asked:
        return 1.0
    return sum(w in covers or any(_same_stem(w, c) for c in covers)
               for w in asked) / len(asked)


def _vetoed(a: _Question, p: _Question, min_topic_share: float = 0.0) -> bool:
    """Whether ``a`` cannot be asking what ``p`` answers, whatever the similarity: the
    kinds of answer or the tenses differ; ``a`` names someone ``p`` does not know; "how
    long" on one side only; a time or amount asked of a prepared answer that gives
    none; less than ``min_topic_share`` of ``a``'s topic said by ``p``'s question or
    context; a time of day asked of an answer without one; a when-question answered by
    a time of day with no day; a thing asked of a when-question; "our wedding" answered
    by what is only someone else's."""
    return bool(
        (a.kind and p.kind and a.kind != p.kind)
        or not a.names <= p.known
        or (a.tense and p.tense and a.tense != p.tense)
        or (a.word_type == "duration") != (p.word_type == "duration")
        or (p.answered and p.kind is None and a.kind in ("time", "amount")
            and p.gives != a.kind)
        or (p.answered and min_topic_share > 0
            and topic_share(a.topic, p.covers) < min_topic_share)
        or (a.clock and p.answered and not p.gives_clock)
        or (a.kind == "time" and not a.clock and a.word_type != "duration"
            and p.answered and p.gives_clock and not p.gives_day)
        or (a.thing and p.kind == "time")
        or a.owned & p.others)


def _mixed(a: _Question, p: _Question, cosine: float, weight: float,
           weights: WordWeights, context_cosine: float, context_share: float) -> float:
    """The score of a pair no veto stopped: the cosines mixed by ``context_share``,
    mixed with `words_match` by ``weight``."""
    word = words_match(a.word_type, a.words, p.word_type, p.words, weights)
    mixed = (1.0 - context_share) * cosine + context_share * context_cosine
    return max(0.0, weight * mixed + (1.0 - weight) * word)


def _meaning(a: _Question, p: _Question, cosine: float, weight: float,
             weights: WordWeights, context_cosine: float = 0.0,
             context_share: float = 0.0, min_topic_share: float = 0.0) -> float:
    """`meaning_score` of two questions already split: 0 when `_vetoed`, else
    `_mixed`."""
    if _vetoed(a, p, min_topic_share):
        return 0.0
    return _mixed(a, p, cosine, weight, weights, context_cosine, context_share)


@dataclass(frozen=True)
class RuleCalibration:
    rule: MatchRule
    hit_rate: float
    false_match_rate: float
    pairs: int


Pairs = Sequence[tuple[str, str, bool]]


def unit_rows(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    vectors = np.asarray(embedder.embed(list(texts)), dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return np.asarray(vectors / np.where(norms == 0, 1.0, norms))


@dataclass(frozen=True)
class _PairFeatures:
    """Each pair split once, with its two cosines (against the prepared question and
    against its context)."""

    asked: list[_Question]
    prepared: list[_Question]
    same: list[bool]
    cosines: np.ndarray
    context_cosines: np.ndarray

    #: `_vetoed` of each pair, per topic share (the same for every weight and share).
    vetoes: dict[float, list[bool]] = field(default_factory=dict)

    def scores(self, weight: float, context_share: float,
               min_topic_share: float = 0.0) -> list[float]:
        vetoed = self.vetoes.get(min_topic_share)
        if vetoed is None:
            vetoed = self.vetoes[min_topic_share] = [
                _vetoed(a, p, min_topic_share)
                for a, p in zip(self.asked, self.prepared, strict=True)]
        return [0.0 if no else _mixed(a, p, float(c), weight, UNIFORM, float(cc),
                                      context_share)
                for a, p, c, cc, no in zip(self.asked, self.prepared, self.cosines,
                                           self.context_cosines, vetoed, strict=True)]

    def rates(self, scores: Sequence[float], threshold: float) -> tuple[float, float]:
        true = [s >= threshold for s, same in zip(scores, self.same, strict=True) if same]
        false = [s >= threshold for s, same in zip(scores, self.same, strict=True)
                 if not same]
        return (sum(true) / max(1, len(true)), sum(false) / max(1, len(false)))


def _pair_features(pairs: Pairs, embedder: Embedder,
                   contexts: Mapping[str, PreparedContext] | None) -> _PairFeatures:
    contexts = contexts or {}
    asked = unit_rows(embedder, [a for a, _, _ in pairs])
    prepared = unit_rows(embedder, [p for _, p, _ in pairs])
    context = unit_rows(embedder, [_context_text(contexts.get(p), p) for _, p, _ in pairs])
    return _PairFeatures(
        [_features(a) for a, _, _ in pairs],
        [_features(p, contexts.get(p)) for _, p, _ in pairs],
        [same for _, _, same in pairs],
        (asked * prepared).sum(axis=1), (asked * context).sum(axis=1))


def rule_rates(pairs: Pairs, embedder: Embedder, rule: MatchRule = MATCH_RULE,
               contexts: Mapping[str, PreparedContext] | None = None) -> tuple[float, float]:
    """(share of rephrasings matched, share of near-misses matched) under ``rule``;
    ``contexts`` gives each prepared question's `prepared_context` (none: the question
    alone)."""
    features = _pair_features(pairs, embedder, contexts)
    return features.rates(features.scores(rule.weight, rule.context_share,
                                          rule.min_topic_share), rule.threshold)


def served(pairs: Pairs, embedder: Embedder, rule: MatchRule = MATCH_RULE,
           contexts: Mapping[str, PreparedContext] | None = None) -> list[bool]:
    """Per pair, whether ``rule`` matches it (as `rule_rates` counts them)."""
    features = _pair_features(pairs, embedder, contexts)
    return [s >= rule.threshold for s in features.scores(rule.weight, rule.context_share,
                                                          rule.min_topic_share)]


def calibrate_rule(pairs: Pairs, embedder: Embedder, max_false_rate: float = MAX_FALSE_RATE,
                   contexts: Mapping[str, PreparedContext] | None = None,
                   min_topic_share: float = MATCH_RULE.min_topic_share) -> RuleCalibration:
    """The weight (0, 0.05, ... 1), context share (0, 0.1, ... 1) and lowest threshold
    that match the most rephrasings while at most ``max_false_rate`` of the near-misses
    match (ties: the first found, lowest weight and share), with ``min_topic_share``
    (chosen on how live questions meet prepared answers:
    `assistant.bench.prepared.topic_share_sweep`)."""
    features = _pair_features(pairs, embedder, contexts)
    best = RuleCalibration(MatchRule(0.0, 1.01, 0.0, min_topic_share), 0.0, 0.0, len(pairs))
    for step in range(21):
        weight = step / 20
        for share_step in range(11 if weight > 0 else 1):
            share = share_step / 10
            scores = features.scores(weight, share, min_topic_share)
            for threshold in sorted({round(s, 3) for s in scores if s > 0} | {1.0}):
                hit, false = features.rates(scores, threshold)
                if false <= max_false_rate:
                    if hit > best.hit_rate:
                        best = RuleCalibration(
                            MatchRule(weight, threshold, share, min_topic_share), hit,
                            false, len(pairs))
                    break
    return best


@dataclass(frozen=True)
class Calibration:
    threshold: float
    hit_rate: float
    false_match_rate: float
    pairs: int


def load_pairs(path: Path) -> list[tuple[str, str, bool]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return [(p["asked"], p["prepared"], bool(p["match"])) for p in data["pairs"]]


def rates(pairs: Sequence[tuple[str, str, bool]], threshold: float,
          weights: WordWeights = UNIFORM) -> tuple[float, float]:
    """(share of true pairs matched, share of near-miss pairs matched) at ``threshold``."""
    true = [question_match(a, p, weights) >= threshold for a, p, same in pairs if same]
    false = [question_match(a, p, weights) >= threshold for a, p, same in pairs if not same]
    return (sum(true) / max(1, len(true)), sum(false) / max(1, len(false)))


def calibrate(pairs: Sequence[tuple[str, str, bool]], max_false_rate: float = 0.05,
              weights: WordWeights = UNIFORM) -> Calibration:
    """The lowest threshold whose false-match rate stays within ``max_false_rate``."""
    candidates = sorted({round(question_match(a, p, weights), 3) for a, p, _ in pairs} | {1.0})
    for threshold in candidates:
        hit, false = rates(pairs, threshold, weights)
        if false <= max_false_rate:
            return Calibration(threshold, hit, false, len(pairs))
    return Calibration(1.01, 0.0, 0.0, len(pairs))


@dataclass(frozen=True)
class Match:
    anticipation_id: int
    question: str
    score: float


#: Added to every upper bound so rounding (float32 cosines) never prunes the true best.
_EPSILON = 1e-5


@dataclass
class _Snapshot:
    """The servable (ready or used) prepared questions as of one ``search_generation`` of
    the anticipation table, in the order the database returns them (which breaks ties):
    features, word weights over all of them, postings from question word to rows, and,
    for matching by meaning, their vectors."""

    generation: int
    ids: list[int]
    questions: list[str]
    features: list[_Question]
    expires: np.ndarray
    weights: WordWeights
    postings: dict[str, np.ndarray]
    weight_sums: np.ndarray
    kinds: np.ndarray
    tenses: np.ndarray
    word_types: np.ndarray
    spelled: np.ndarray
    alphabet: dict[str, int]
    char_counts: np.ndarray
    row_of: dict[int, int]
    #: Rows with the same question and vector share a group number.
    groups: np.ndarray
    vectors: list[np.ndarray | None]
    matrix: np.ndarray | None = None
    norms: np.ndarray | None = None
    #: Unit vectors of each row's `prepared_context` (made at the rebuild, kept in memory).
    context_matrix: np.ndarray | None = None


class AnticipationMatcher:
    """Finds the ready, unexpired prepared answer for a question, if one truly matches:
    by meaning (`MATCH_RULE`) when an embedder is given, by words otherwise.

    The score is `meaning_score` (or `question_match`) of the typed question against
    every servable prepared question, as it always was; what makes it fast at 10,000
    prepared answers is an in-memory snapshot of them, rebuilt only when the
    anticipation table's ``search_generation`` moved (triggers raise it on any change,
    so stale, dismissed or rewritten answers are never served from it), and an upper
    bound per question (the cosine, the word overlap and coverage, computed for all rows
    at once with numpy; only spelling is left at its maximum) so the exact score is
    computed only for the few that can still win. Questions asked exactly so
    (`text.questions.question_key`, an indexed column) are scored first."""

    def __init__(self, db: Database, threshold: float = DEFAULT_THRESHOLD, *,
                 embedder: Embedder | None = None, rule: MatchRule = MATCH_RULE) -> None:
        self._db = db
        self.threshold = threshold
        self._embedder = embedder
        self.rule = rule
        self._lock = threading.Lock()
        self._snapshot: _Snapshot | None = None
        self._features: dict[tuple[int, str, PreparedContext | None], _Question] = {}
        #: Unit context vectors by (row id, context text), kept across rebuilds.
        self._context_vectors: dict[tuple[int, str], np.ndarray] = {}

    def best(self, question: str, now: datetime | None = None, *,
             exclude: Collection[int] = ()) -> Match | None:
        """The best match above the threshold; stale, used-up or expired rows never match,
        nor do the prepared answers whose ids are in ``exclude`` (found unusable)."""
        when = now or utcnow()
        if self._embedder is not None:
            try:
                return self._best(question, when, self._embedder, exclude)
            except EngineError as exc:
                log.warning("prepared answers matched by words (%s)", exc)
        return self._best(question, when, None, exclude)

    def _best(self, question: str, when: datetime, embedder: Embedder | None,
              exclude: Collection[int] = ()) -> Match | None:
        rows = None
        with self._db.session() as s:
            con = s.connection()
            generation = search_generation(con, "anticipation")
            seeds = servable_by_key(con, question, when)
            snap = self._snapshot
            contexts: list[PreparedContext] = []
            if snap is None or snap.generation != generation or (
                    embedder is not None and snap.matrix is None):
                if embedder is None:
                    rows = [(int(i), str(q), e, v) for i, q, e, v in con.execute(text(
                        "SELECT id, question, expires_at, vector FROM anticipation "
                        "WHERE status IN ('ready', 'used')"))]
                else:
                    full = list(con.execute(text(
                        "SELECT id, question, expires_at, vector, answer, sources "
                        "FROM anticipation WHERE status IN ('ready', 'used')")))
                    rows = [(int(r[0]), str(r[1]), r[2], r[3]) for r in full]
                    contexts = _contexts(con, [(str(r[1]), str(r[4] or ""), r[5])
                                               for r in full])
        if rows is not None:
            snap = self._build(rows, generation, embedder, contexts)
        assert snap is not None
        if not snap.ids:
            return None
        seed_rows = [snap.row_of[i] for i in seeds if i in snap.row_of and i not in exclude]
        if embedder is not None and seed_rows:
            # Asked as it was prepared (the same `question_key`): the same question,
            # whatever its context says.
            return Match(snap.ids[seed_rows[0]], snap.questions[seed_rows[0]], 1.0)
        query = (np.asarray(embedder.embed([question])[0], dtype=np.float32)
                 if embedder is not None else None)
        asked = _features(question)
        bounds = self._bounds(snap, asked, query, when)
        threshold = self.rule.threshold if query is not None else self.threshold
        ranked = np.flatnonzero(bounds >= threshold - _EPSILON)
        if exclude:
            ranked = np.asarray([r for r in ranked if snap.ids[r] not in exclude],
                                dtype=np.int64)
        # Of rows asking the same question with the same vector (the same score), only
        # the first can be chosen: score that one.
        _, first = np.unique(snap.groups[ranked], return_index=True)
        ranked = ranked[np.sort(first)]
        ranked = ranked[np.argsort(-bounds[ranked], kind="stable")]
        best: tuple[float, int] | None = None
        # Questions asked exactly so first: they usually set a bar nothing else reaches;
        # then by falling bound, until no bound reaches the best score.
        for position, row in enumerate(seed_rows + ranked.tolist()):
            if best is not None and position >= len(seed_rows) and bounds[row] < best[0]:
                break
            score = self._score(snap, asked, row, query)
            if score is not None and score >= threshold and (
                    best is None or score > best[0] or (score == best[0] and row < best[1])):
                best = (score, row)
        if best is None:
            return None
        return Match(snap.ids[best[1]], snap.questions[best[1]], best[0])

    def _score(self, snap: _Snapshot, asked: _Question, row: int,
               query: np.ndarray | None) -> float | None:
        """The exact score of one row (`meaning_score` or `question_match`)."""
        prepared = snap.features[row]
        if query is None:
            return words_match(asked.word_type, asked.words, prepared.word_type,
                               prepared.words, snap.weights)
        vector = snap.vectors[row]
        if vector is None:
            return None
        context = (_cosine(query, snap.context_matrix[row])
                   if snap.context_matrix is not None else 0.0)
        return _meaning(asked, prepared, _cosine(query, vector), self.rule.weight,
                        snap.weights, context, self.rule.context_share,
                        self.rule.min_topic_share)

    def _bounds(self, snap: _Snapshot, asked: _Question, query: np.ndarray | None,
                when: datetime) -> np.ndarray:
        """For every row, a score no lower than its exact one (0 where it cannot match:
        expired, no shared word, another kind of answer or another tense)."""
        n = len(snap.ids)
        if not asked.words:
            return np.zeros(n)
        shared = np.zeros(n)
        for word in asked.words:
            rows = snap.postings.get(word)
            if rows is not None:
                shared[rows] += snap.weights.of(word)
        asked_sum = sum(snap.weights.of(w) for w in asked.words)
        union = asked_sum + snap.weight_sums - shared
        overlap = shared / np.where(union > 0, union, 1.0)
        # The spelling ratio is 2 * matched / (both lengths), and no more characters
        # match than the two share, counted per character (difflib's quick_ratio).
        counts = Counter(asked.spelled)
        common = np.zeros(n)
        for char, count in counts.items():
            column = snap.alphabet.get(char)
            if column is not None:
                common += np.minimum(snap.char_counts[:, column], count)
        spelling = 2.0 * common / np.maximum(1, snap.spelled + len(asked.spelled))
        word_bound = 0.45 * overlap + 0.4 * shared / asked_sum + 0.15 * spelling
        alive = snap.expires > when.timestamp()
        if query is None:
            alive &= shared > 0
        if asked.word_type is not None:
            alive &= (snap.word_types == None) | (snap.word_types == asked.word_type)  # noqa: E711
        if query is None:
            return np.where(alive, word_bound + _EPSILON, 0.0)
        assert snap.matrix is not None and snap.norms is not None
        if asked.kind is not None:
            alive &= (snap.kinds == None) | (snap.kinds == asked.kind)  # noqa: E711
        if asked.tense is not None:
            alive &= (snap.tenses == None) | (snap.tenses == asked.tense)  # noqa: E711
        if snap.matrix.shape[1] != query.shape[0]:
            cosine = np.zeros(n)
        else:
            norms = snap.norms * float(np.linalg.norm(query))
            cosine = (snap.matrix @ query) / np.where(norms == 0, 1.0, norms)
        share = self.rule.context_share
        if share and snap.context_matrix is not None and (
                snap.context_matrix.shape[1] == query.shape[0]):
            unit = query / max(float(np.linalg.norm(query)), 1e-12)
            cosine = (1.0 - share) * cosine + share * (snap.context_matrix @ unit)
        elif share:
            cosine = (1.0 - share) * cosine
        weight = self.rule.weight
        bound = np.maximum(0.0, weight * np.maximum(cosine, 0.0) + (1.0 - weight) * word_bound)
        return np.where(alive, bound + _EPSILON, 0.0)

    def _build(self, rows: list[tuple[int, str, object, bytes | None]], generation: int,
               embedder: Embedder | None,
               contexts: Sequence[PreparedContext] = ()) -> _Snapshot:
        """A snapshot of ``rows`` (read at ``generation``) and, when matching by meaning,
        their `prepared_context` texts; features of rows already seen are kept, missing
        vectors are made and stored, context vectors are made and kept in memory."""
        features = []
        known: dict[tuple[int, str, PreparedContext | None], _Question] = {}
        for position, (ident, question, _, _) in enumerate(rows):
            context = contexts[position] if contexts else None
            f = self._features.get((ident, question, context)) or _features(question, context)
            known[(ident, question, context)] = f
            features.append(f)
        self._features = known
        weights = WordWeights.from_word_sets([f.words for f in features])
        postings: dict[str, list[int]] = {}
        for row, f in enumerate(features):
            for w in f.words:
                postings.setdefault(w, []).append(row)
        alphabet = {c: i for i, c in enumerate(sorted({c for f in features for c in f.spelled}))}
        char_counts = np.zeros((len(features), max(1, len(alphabet))), dtype=np.int16)
        for row, f in enumerate(features):
            for char, count in Counter(f.spelled).items():
                char_counts[row, alphabet[char]] = count
        snap = _Snapshot(
            generation=generation, ids=[r[0] for r in rows], questions=[r[1] for r in rows],
            features=features, weights=weights,
            expires=np.array([_aware(e).timestamp() if e is not None else np.inf  # type: ignore[arg-type]
                              for _, _, e, _ in rows], dtype=np.float64),
            postings={w: np.asarray(r, dtype=np.int64) for w, r in postings.items()},
            weight_sums=np.array([sum(weights.of(w) for w in f.words) for f in features]),
            kinds=np.array([f.kind for f in features], dtype=object),
            tenses=np.array([f.tense for f in features], dtype=object),
            word_types=np.array([f.word_type for f in features], dtype=object),
            spelled=np.array([len(f.spelled) for f in features], dtype=np.float64),
            alphabet=alphabet, char_counts=char_counts,
            row_of={r[0]: row for row, r in enumerate(rows)},
            groups=np.zeros(len(rows), dtype=np.int64), vectors=[None] * len(rows))
        if embedder is not None:
            made, snap.generation = self._vectors(rows, embedder, generation)
            snap.vectors = list(made)
            dim = max((len(v) for v in made), default=1)
            snap.matrix = np.zeros((len(rows), dim), dtype=np.float32)
            for row, vector in enumerate(snap.vectors):
                if vector is not None and len(vector) == dim:
                    snap.matrix[row] = vector
            snap.norms = np.linalg.norm(snap.matrix, axis=1)
            if contexts and self.rule.context_share:
                snap.context_matrix = self._context_matrix(snap, contexts, embedder, dim)
        group_of: dict[tuple[str, bytes], int] = {}
        snap.groups = np.array([
            group_of.setdefault((question, b"" if vector is None else vector.tobytes()),
                                len(group_of))
            for question, vector in zip(snap.questions, snap.vectors, strict=True)],
            dtype=np.int64)
        with self._lock:
            self._snapshot = snap
        return snap

    def _context_matrix(self, snap: _Snapshot, contexts: Sequence[PreparedContext],
                        embedder: Embedder, dim: int) -> np.ndarray | None:
        """Unit vectors of the rows' context texts: those of rows whose context did not
        change are kept from earlier snapshots, only new ones are embedded."""
        keys = [(ident, _context_text(c, q)) for ident, c, q in zip(
            snap.ids, contexts, snap.questions, strict=True)]
        missing = sorted({k for k in keys if k not in self._context_vectors})
        known = {k: self._context_vectors[k] for k in keys if k in self._context_vectors}
        if missing:
            made = unit_rows(embedder, [t for _, t in missing])
            known.update(zip(missing, made, strict=True))
        self._context_vectors = known
        if any(v.shape != (dim,) for v in known.values()):
            return None
        return np.stack([known[k] for k in keys]) if keys else np.zeros((0, dim), np.float32)

    def _vectors(self, rows: list[tuple[int, str, object, bytes | None]],
                 embedder: Embedder, generation: int) -> tuple[list[np.ndarray], int]:
        """The stored vector of each prepared question; missing ones are made once and
        stored (unless the profile is read-only). Also the generation the snapshot holds
        after that: storing raises it, and the snapshot stays true only if nothing else
        changed the table since it was read (-1 otherwise: rebuilt at the next lookup)."""
        missing = [(i, q) for i, q, _, v in rows if v is None]
        made: dict[int, np.ndarray] = {}
        if missing:
            fresh = embedder.embed([q for _, q in missing])
            made = {i: np.asarray(v, dtype=np.float32) for (i, _), v in zip(missing, fresh,
                                                                           strict=True)}
            if not self._db.read_only:
                with self._db.write() as s:
                    unchanged = search_generation(s.connection(), "anticipation") == generation
                    for ident, vector in made.items():
                        row = s.get(Anticipation, ident)
                        if row is not None and row.vector is None:
                            row.vector = to_blob(vector.tolist())
                            s.add(row)
                    s.flush()
                    generation = (search_generation(s.connection(), "anticipation")
                                  if unchanged else -1)
        return [made[i] if v is None else from_blob(v) for i, _, _, v in rows], generation


def _context_text(context: PreparedContext | None, question: str) -> str:
    """The text a context's vector is made of (the question itself when it has none)."""
    return context.text if context is not None and context.text else question


def _contexts(con: Connection,
              rows: Sequence[tuple[str, str, object]]) -> list[PreparedContext]:
    """The `prepared_context` of each (question, answer, sources JSON): the texts of the
    messages, notes and memories it was prepared from, read in a few queries."""
    wanted: dict[str, set[int]] = {"messages": set(), "notes": set(), "memories": set()}
    parsed = []
    for _, _, sources in rows:
        value = json.loads(sources) if isinstance(sources, str) else (sources or {})
        ids = {k: [int(i) for i in value.get(k, [])] for k in wanted} if isinstance(
            value, dict) else {k: [] for k in wanted}
        parsed.append(ids)
        for k, found in ids.items():
            wanted[k].update(found)
    queries = {"messages": "SELECT id, content FROM message WHERE id IN ({})",
               "notes": "SELECT id, title || '. ' || body FROM note WHERE id IN ({})",
               "memories": "SELECT id, text FROM memory WHERE id IN ({})"}
    texts: dict[tuple[str, int], str] = {}
    for k, every in wanted.items():
        ordered = sorted(every)
        for start in range(0, len(ordered), 500):
            chunk = ordered[start:start + 500]
            marks = ", ".join(str(i) for i in chunk)
            for ident, body in con.execute(text(queries[k].format(marks))):
                texts[(k, int(ident))] = str(body or "")
    return [prepared_context(question, answer,
                             [texts[(k, i)] for k in ("memories", "messages", "notes")
                              for i in ids[k] if (k, i) in texts])
            for (question, answer, _), ids in zip(rows, parsed, strict=True)]


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    if a.shape != b.shape:
        return 0.0
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b) / norm if norm else 0.0


def _aware(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)
