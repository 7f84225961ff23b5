"""`bench.prepared`: fixture questions looked up among a profile's prepared answers, and
the sweep that chooses how much of a question's topic a prepared answer must say."""

from __future__ import annotations

from pathlib import Path

from assistant.app import Reverie
from assistant.bench.prepared import topic_share_sweep
from assistant.store.models import Anticipation


def _profile(data_dir: Path) -> None:
    app = Reverie.open(data_dir)
    try:
        with app.db.write() as s:
            # Right for "When does my pottery class finish?" (24 November)...
            s.add(Anticipation(question="When does my pottery class finish?",
                               answer="24 November 2026"))
            # ...and about Keiko, but not her birthday (a false serve without the check).
            s.add(Anticipation(question="When is Keiko going to be at uni?",
                               answer="Keiko will be at uni in September."))
    finally:
        app.close()


def test_the_sweep_counts_serves_per_half_and_chooses_on_the_calibration_half(
        tmp_path: Path) -> None:
    _profile(tmp_path)
    result = topic_share_sweep(tmp_path, "two_people", (0.0, 0.5))
    by_share = {row["min_topic_share"]: row for row in result["shares"]}
    assert set(by_share) == {0.0, 0.5}
    for row in by_share.values():
        assert row["rule"]["min_topic_share"] == row["min_topic_share"]
        assert row["calibration"]["questions"] + row["heldout"]["questions"] == 87
    # q39 (odd: calibration) is served right under both shares.
    assert all(row["calibration"]["hit_rate_predictable"] > 0 for row in by_share.values())
    false = {share: row["calibration"]["false_serves"] + row["heldout"]["false_serves"]
             for share, row in by_share.items()}
    assert false[0.5] < false[0.0]  # the uni answer to "When is Keiko's birthday?"
    chosen = by_share[result["chosen"]]
    assert chosen["calibration"]["false_serves_rate"] <= result["max_false_rate"] or (
        result["chosen"] == 0.5)
    assert result["chosen_heldout"] == chosen["heldout"]
