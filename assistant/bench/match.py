"""``reverie bench match``: prepared-answer matching by meaning, calibrated and held out.

The matching rule (`recall.matching.calibrate_rule`) is calibrated on the calibration
half of the paraphrase set only and then measured, unchanged, on the held-out half, so
the held-out figures say how it does on rephrasings it was not tuned on. The word-only
matcher at its threshold is measured on both halves beside it. Nothing is stored.

In the app every prepared answer comes with its answer and the message, note or memory
it was prepared from, and matching uses them (`recall.matching.prepared_context`). The
paraphrase pairs hold only the two questions, so `fixture_contexts` derives each
prepared question's context mechanically from the fixtures it was written from
(``questions.json`` of each fixture: the gold ``answer``, and each ``sources[].contains``
looked up in the fixture's chats and notes for the whole message or note that holds it);
a prepared question with no fixture entry keeps its question alone (`FixtureContexts`
counts them).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.llm.embedding import Embedder
from assistant.recall.matching import (
    DEFAULT_THRESHOLD,
    MATCH_RULE,
    MAX_FALSE_RATE,
    MatchRule,
    Pairs,
    PreparedContext,
    RuleCalibration,
    calibrate_rule,
    load_pairs,
    prepared_context,
    rates,
    rule_rates,
    served,
    unit_rows,
)
from assistant.resources import resource

#: The acceptance target on the held-out half (issue 13).
TARGET_HIT_RATE = 0.8
#: The fixtures the paraphrases were written from, in the order a question is looked up.
FIXTURES = ("two_people", "")


@dataclass(frozen=True)
class FixtureContexts:
    """Each prepared question's `prepared_context`, and the prepared questions of the
    pairs that no fixture question holds (matched on their question alone)."""

    contexts: dict[str, PreparedContext]
    missing: list[str] = field(default_factory=list)


def _fixture_texts(folder: Path) -> list[str]:
    texts: list[str] = []
    for line in (folder / "chats.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            texts.extend(str(m.get("content", "")) for m in json.loads(line)["messages"])
    return texts


def _note_texts(folder: Path) -> list[str]:
    notes = folder / "notes"
    return [p.read_text(encoding="utf-8") for p in sorted(notes.iterdir()) if p.is_file()]


def fixture_contexts(prepared: Sequence[str]) -> FixtureContexts:
    """The context of each question in ``prepared``, from the first fixture (in
    `FIXTURES` order) whose ``questions.json`` asks it: its gold answer and the whole
    message or note holding each ``sources[].contains`` (the first that does)."""
    contexts: dict[str, PreparedContext] = {}
    wanted = set(prepared)
    for name in FIXTURES:
        folder = resource("bench", name) if name else resource("bench")
        data = json.loads((folder / "questions.json").read_text(encoding="utf-8"))
        messages, notes = _fixture_texts(folder), _note_texts(folder)
        for q in data["questions"]:
            question = str(q["question"])
            if question not in wanted or question in contexts:
                continue
            sources = []
            for source in q.get("sources", []):
                pool = notes if source.get("kind") == "note" else messages
                sources.extend([t for t in pool if source["contains"] in t][:1])
            contexts[question] = prepared_context(question, str(q.get("answer", "")),
                                                  sources)
    return FixtureContexts(contexts, sorted(wanted - contexts.keys()))


def paraphrase_contexts(*halves: str) -> FixtureContexts:
    """`fixture_contexts` of the prepared questions in the named paraphrase files."""
    prepared = [p for half in halves for _, p, _ in load_pairs(resource("bench", half))]
    return fixture_contexts(prepared)


def _failures(pairs: Sequence[tuple[str, str, bool]], differs: Sequence[str],
              served: Sequence[bool]) -> dict[str, dict[str, int]]:
    """Per category (``rephrasing`` or the near-miss's ``differs``): pairs and failures
    (a rephrasing not matched, a near-miss served)."""
    out: dict[str, dict[str, int]] = {}
    for (_, _, same), what, hit in zip(pairs, differs, served, strict=True):
        row = out.setdefault("rephrasing" if same else f"near-miss {what}",
                             {"pairs": 0, "failed": 0})
        row["pairs"] += 1
        row["failed"] += int(hit != same)
    return out


@dataclass(frozen=True)
class MatchBench:
    calibrated: RuleCalibration
    heldout: tuple[float, float]
    heldout_pairs: int
    shipped_heldout: tuple[float, float]
    words: dict[str, tuple[float, float]]
    question_only: tuple[float, float]
    missing_context: list[str]
    heldout_failures: dict[str, dict[str, int]]
    #: Per half: `separability` of the question-only cosine and of the context cosine.
    separability: dict[str, dict[str, float]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        rule = self.calibrated.rule
        return {
            "calibrated_on": "resources/bench/paraphrases_calibration.json",
            "reported_on": "resources/bench/paraphrases_heldout.json",
            "max_false_rate": MAX_FALSE_RATE,
            "rule": {"weight": rule.weight, "threshold": rule.threshold,
                     "context_share": rule.context_share,
                     "min_topic_share": rule.min_topic_share},
            "shipped_rule": {"weight": MATCH_RULE.weight, "threshold": MATCH_RULE.threshold,
                             "context_share": MATCH_RULE.context_share,
                             "min_topic_share": MATCH_RULE.min_topic_share},
            "calibration": {"pairs": self.calibrated.pairs,
                            "matched": round(self.calibrated.hit_rate, 3),
                            "near_misses_served": round(self.calibrated.false_match_rate, 3)},
            "heldout": {"pairs": self.heldout_pairs, "matched": round(self.heldout[0], 3),
                        "near_misses_served": round(self.heldout[1], 3)},
            "heldout_shipped_rule": {"matched": round(self.shipped_heldout[0], 3),
                                     "near_misses_served": round(self.shipped_heldout[1], 3)},
            "heldout_failures": self.heldout_failures,
            "heldout_question_only": {"matched": round(self.question_only[0], 3),
                                      "near_misses_served": round(self.question_only[1], 3)},
            "prepared_without_fixture_context": self.missing_context,
            "separability": self.separability,
            "target": {"matched": TARGET_HIT_RATE, "near_misses_served": MAX_FALSE_RATE,
                       "met": self.heldout[0] >= TARGET_HIT_RATE
                       and self.heldout[1] <= MAX_FALSE_RATE},
            "words_only": {"threshold": DEFAULT_THRESHOLD, **{
                half: {"matched": round(hit, 3), "near_misses_served": round(false, 3)}
                for half, (hit, false) in self.words.items()}},
        }


def separability(same: Sequence[bool], scores: Sequence[float]) -> float:
    """The chance that a rephrasing scores above a near-miss (ties count half): 0.5 is
    no better than a coin, 1.0 separates them all."""
    true = [s for s, ok in zip(scores, same, strict=True) if ok]
    false = [s for s, ok in zip(scores, same, strict=True) if not ok]
    if not true or not false:
        return 0.5
    wins = sum((t > f) + 0.5 * (t == f) for t in true for f in false)
    return round(wins / (len(true) * len(false)), 3)


def _separability(pairs: Pairs, embedder: Embedder,
                  contexts: dict[str, PreparedContext]) -> dict[str, float]:
    unit = unit_rows
    asked = unit(embedder, [a for a, _, _ in pairs])
    prepared = unit(embedder, [p for _, p, _ in pairs])
    context = unit(embedder, [contexts[p].text if p in contexts else p for _, p, _ in pairs])
    same = [ok for _, _, ok in pairs]
    return {"question_cosine": separability(same, (asked * prepared).sum(axis=1).tolist()),
            "context_cosine": separability(same, (asked * context).sum(axis=1).tolist())}


def _differs(name: str) -> list[str]:
    data = json.loads(resource("bench", name).read_text(encoding="utf-8"))
    return [str(p.get("differs", "")) for p in data["pairs"]]


def run_match_bench(embedder: Embedder) -> MatchBench:
    calibration = load_pairs(resource("bench") / "paraphrases_calibration.json")
    heldout = load_pairs(resource("bench") / "paraphrases_heldout.json")
    known = paraphrase_contexts("paraphrases_calibration.json", "paraphrases_heldout.json")
    calibrated = calibrate_rule(calibration, embedder, contexts=known.contexts)
    rule: MatchRule = calibrated.rule
    return MatchBench(
        calibrated, rule_rates(heldout, embedder, rule, known.contexts), len(heldout),
        rule_rates(heldout, embedder, MATCH_RULE, known.contexts),
        {"calibration": rates(calibration, DEFAULT_THRESHOLD),
         "heldout": rates(heldout, DEFAULT_THRESHOLD)},
        rule_rates(heldout, embedder, rule), known.missing,
        _failures(heldout, _differs("paraphrases_heldout.json"),
                  served(heldout, embedder, rule, known.contexts)),
        {"calibration": _separability(calibration, embedder, known.contexts),
         "heldout": _separability(heldout, embedder, known.contexts)})
