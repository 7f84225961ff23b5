"""`bench.fusion`: retrieval's fusion settings tried on a profile, chosen on the
calibration half of the questions."""

from __future__ import annotations

from pathlib import Path

from assistant.app import Reverie
from assistant.bench.fusion import fusion_sweep, grid, recall_at
from assistant.recall.retrieval import FUSION, Fusion, Retriever
from assistant.store.models import Memory

MEMORY_FIRST = Fusion(20, (("memory", 1.0), ("note", 1.0), ("message", 0.9),
                           ("vector", 1.0), ("note_vector", 1.0)))
QUESTIONS = [
    {"id": 1, "question": "What kind of dog is Biscuit?", "accept": ["beagle"]},
    {"id": 2, "question": "Who walks Biscuit?", "accept": ["Alan"]},
    {"id": 3, "question": "Who is Biscuit's vet?", "accept": ["x"], "answerable": False},
]


def _profile(data_dir: Path) -> None:
    app = Reverie.open(data_dir)
    try:
        conv = app.chats.create_conversation("Biscuit").id or 0
        app.chats.add_message(conv, "user", "Biscuit is Owen's dog, a six-year-old beagle "
                                            "cross. He eats twice a day.")
        with app.db.write() as s:
            for junk in ("Biscuit is back with us.", "Biscuit had his booster.",
                         "Biscuit was allowed in the bar.", "The dog is a good dog.",
                         "Biscuit is kind.", "What a kind dog Biscuit is."):
                s.add(Memory(text=junk, subject="Biscuit"))
    finally:
        app.close()


def test_recall_counts_answerable_questions_per_half(tmp_path: Path) -> None:
    _profile(tmp_path)
    app = Reverie.open(tmp_path)
    try:
        shipped = recall_at(Retriever(app.db, None, FUSION), QUESTIONS)
        assert shipped == {"calibration": 1.0, "heldout": 0.0}  # q3 is not counted
        assert recall_at(Retriever(app.db, None, MEMORY_FIRST), QUESTIONS, top=1) == {
            "calibration": 0.0, "heldout": 0.0}  # the short facts crowd the message out
    finally:
        app.close()


def test_the_sweep_chooses_on_the_calibration_half(tmp_path: Path) -> None:
    _profile(tmp_path)
    result = fusion_sweep([("two_people", tmp_path)], [MEMORY_FIRST, FUSION])
    assert [r["rrf_k"] for r in result["settings"]] == [20, 20]
    assert all(set(r["two_people"]) == {"calibration", "heldout"} for r in result["settings"])
    best = max(r["calibration"] for r in result["settings"])
    chosen = [r for r in result["settings"] if r["weights"] == result["chosen"]["weights"]]
    assert chosen and chosen[0]["calibration"] == best
    assert len(grid()) == 72 and FUSION in grid()
