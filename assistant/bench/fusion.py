"""How retrieval merges its indexes, calibrated on slept profiles of both fixtures.

`fusion_sweep` tries a grid of `Fusion` settings (the RRF constant and the weights of
the memory, message and memory-vector rankings) on profiles kept from a sleep
(`slept_fixture_profile(data_dir=...)`, ``bench sleep --profile DIR``) and counts, per
fixture and per half of its answerable questions (odd ids calibrate, even ids are held
out), how often the top 5 hold an accepted answer. The setting chosen is the best on
the calibration halves of both fixtures together (ties: the one nearest the shipped
setting); the held-out halves say how it does on questions it was not chosen on.
Nothing is stored; it needs no model.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from assistant.bench.sleep import CALIBRATION_PARITY
from assistant.recall.retrieval import FUSION, Fusion, Retriever

TOP = 5
RRF_KS = (10, 20, 60)
MEMORY_WEIGHTS = (0.6, 1.0)
MESSAGE_WEIGHTS = (0.9, 1.3, 1.8)
VECTOR_WEIGHTS = (0.5, 1.0)
NOTE_VECTOR_WEIGHTS = (0.5, 1.0)


def grid() -> list[Fusion]:
    """Every setting `fusion_sweep` tries; the note words' weight stays as shipped."""
    base = dict(FUSION.weights)
    return [Fusion(k, tuple({**base, "memory": m, "message": g, "vector": v,
                             "note_vector": n}.items()))
            for k, m, g, v, n in itertools.product(RRF_KS, MEMORY_WEIGHTS, MESSAGE_WEIGHTS,
                                                    VECTOR_WEIGHTS, NOTE_VECTOR_WEIGHTS)]


def _distance(a: Fusion, b: Fusion) -> float:
    wa, wb = dict(a.weights), dict(b.weights)
    return abs(a.rrf_k - b.rrf_k) / 10 + sum(abs(wa[k] - wb[k]) for k in wa)


def recall_at(retriever: Retriever, questions: Sequence[dict[str, Any]],
              top: int = TOP) -> dict[str, float]:
    """Per half ("calibration", "heldout"): the share of the answerable ``questions``
    whose top ``top`` hits hold one of their ``accept`` values."""
    found: dict[str, list[bool]] = {"calibration": [], "heldout": []}
    for q in questions:
        if q.get("answerable", True) is False:
            continue
        hits = retriever.search(str(q["question"]), top)
        half = "calibration" if int(q["id"]) % 2 == CALIBRATION_PARITY else "heldout"
        found[half].append(any(str(a).lower() in h.text.lower()
                               for h in hits for a in q["accept"]))
    return {half: round(sum(v) / len(v), 3) if v else 0.0 for half, v in found.items()}


def fusion_sweep(profiles: Sequence[tuple[str, Path]],
                 settings: Sequence[Fusion] | None = None) -> dict[str, Any]:
    """`recall_at` of each setting on each (fixture, slept profile), and the one
    chosen on the calibration halves."""
    from assistant.app import Reverie
    from assistant.bench.recall import fixture_dir, load_questions

    settings = list(settings) if settings is not None else grid()
    opened = []
    try:
        for fixture, data_dir in profiles:
            app = Reverie.open(data_dir)
            opened.append((fixture, app, app.embedder(), load_questions(
                fixture_dir(fixture) / "questions.json")["questions"]))
        rows: list[dict[str, Any]] = []
        for fusion in settings:
            row: dict[str, Any] = {"rrf_k": fusion.rrf_k, "weights": dict(fusion.weights)}
            weighted = total = 0.0
            for fixture, app, embedder, questions in opened:
                rates = recall_at(Retriever(app.db, embedder, fusion), questions)
                row[fixture] = rates
                n = sum(1 for q in questions if q.get("answerable", True) is not False
                        and int(q["id"]) % 2 == CALIBRATION_PARITY)
                weighted += rates["calibration"] * n
                total += n
            row["calibration"] = round(weighted / max(1.0, total), 3)
            rows.append(row)
    finally:
        for _, app, _, _ in opened:
            app.close()
    best = max(r["calibration"] for r in rows)
    chosen = min((s for s, r in zip(settings, rows, strict=True) if r["calibration"] == best),
                 key=lambda s: _distance(s, FUSION))
    return {"top": TOP, "profiles": [f for f, _ in profiles], "settings": rows,
            "chosen": {"rrf_k": chosen.rrf_k, "weights": dict(chosen.weights)},
            "shipped": {"rrf_k": FUSION.rrf_k, "weights": dict(FUSION.weights)}}
