"""``reverie bench match``: prepared-answer matching by meaning, calibrated and held out.

The matching rule (`recall.matching.calibrate_rule`) is calibrated on the calibration
half of the paraphrase set only and then measured, unchanged, on the held-out half, so
the held-out figures say how it does on rephrasings it was not tuned on. The word-only
matcher at its threshold is measured on both halves beside it. Nothing is stored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from assistant.llm.embedding import Embedder
from assistant.recall.matching import (
    DEFAULT_THRESHOLD,
    MATCH_RULE,
    MAX_FALSE_RATE,
    RuleCalibration,
    calibrate_rule,
    load_pairs,
    rates,
    rule_rates,
)
from assistant.resources import resource

#: The acceptance target on the held-out half (issue 13).
TARGET_HIT_RATE = 0.8


@dataclass(frozen=True)
class MatchBench:
    calibrated: RuleCalibration
    heldout: tuple[float, float]
    heldout_pairs: int
    shipped_heldout: tuple[float, float]
    words: dict[str, tuple[float, float]]

    def to_json(self) -> dict[str, Any]:
        rule = self.calibrated.rule
        return {
            "calibrated_on": "resources/bench/paraphrases_calibration.json",
            "reported_on": "resources/bench/paraphrases_heldout.json",
            "max_false_rate": MAX_FALSE_RATE,
            "rule": {"weight": rule.weight, "threshold": rule.threshold},
            "shipped_rule": {"weight": MATCH_RULE.weight, "threshold": MATCH_RULE.threshold},
            "calibration": {"pairs": self.calibrated.pairs,
                            "matched": round(self.calibrated.hit_rate, 3),
                            "near_misses_served": round(self.calibrated.false_match_rate, 3)},
            "heldout": {"pairs": self.heldout_pairs, "matched": round(self.heldout[0], 3),
                        "near_misses_served": round(self.heldout[1], 3)},
            "heldout_shipped_rule": {"matched": round(self.shipped_heldout[0], 3),
                                     "near_misses_served": round(self.shipped_heldout[1], 3)},
            "target": {"matched": TARGET_HIT_RATE, "near_misses_served": MAX_FALSE_RATE,
                       "met": self.heldout[0] >= TARGET_HIT_RATE
                       and self.heldout[1] <= MAX_FALSE_RATE},
            "words_only": {"threshold": DEFAULT_THRESHOLD, **{
                half: {"matched": round(hit, 3), "near_misses_served": round(false, 3)}
                for half, (hit, false) in self.words.items()}},
        }


def run_match_bench(embedder: Embedder) -> MatchBench:
    calibration = load_pairs(resource("bench") / "paraphrases_calibration.json")
    heldout = load_pairs(resource("bench") / "paraphrases_heldout.json")
    calibrated = calibrate_rule(calibration, embedder)
    return MatchBench(
        calibrated, rule_rates(heldout, embedder, calibrated.rule), len(heldout),
        rule_rates(heldout, embedder, MATCH_RULE),
        {"calibration": rates(calibration, DEFAULT_THRESHOLD),
         "heldout": rates(heldout, DEFAULT_THRESHOLD)})
