"""The "I don't know." rule's calibration: when does the evidence support an answer?

Each benchmark fixture's chats and notes are imported into a throw-away profile (no
sleep, no model: the decision is made on retrieval alone, before any generation), and
for every question the evidence a fresh conversation would retrieve is measured
(`assistant.recall.support.measure`). `calibrate_support` chooses the rule on the
calibration half (odd question ids, both fixtures); the held-out half (even ids) reports
it. ``resources/answer_support.json`` is the committed result, and
tests/recall/test_dont_know.py checks that it is what this calibration gives.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from assistant.app import Reverie
from assistant.bench.recall import FIXTURES, fixture_dir
from assistant.llm.fake import FakeEngine
from assistant.recall.support import Labelled, calibrate_support, rates
from assistant.store.importers import import_chats, import_notes

#: Question ids of this parity calibrate; the others report (as `bench.sleep` does).
CALIBRATION_PARITY = 1


@contextmanager
def imported_fixture(fixture: str, data_dir: Path) -> Iterator[Reverie]:
    """A profile in ``data_dir`` holding ``fixture``'s chats and notes, on a FakeEngine."""
    folder = fixture_dir(fixture)
    engine = FakeEngine(default="An answer.")
    app = Reverie.open(data_dir, engine_factory=lambda *_: engine)
    try:
        import_chats(folder / "chats.jsonl", app.chats)
        import_notes(folder / "notes", app.notes)
        yield app
    finally:
        app.close()


def profile_samples(app: Reverie, fixture: str) -> list[Labelled]:
    """The support the evidence in ``app``'s profile gives each of ``fixture``'s
    questions, labelled with whether the data answers it."""
    data = json.loads((fixture_dir(fixture) / "questions.json").read_text(encoding="utf-8"))
    responder = app.responder(app.start_engine())
    return [Labelled(q["question"], int(q["id"]), bool(q.get("answerable", True)),
                     responder.support(q["question"]))
            for q in data["questions"]]


def fixture_samples(work: Path) -> dict[str, list[Labelled]]:
    """Per fixture, its questions' support on a profile of its imported data (folders
    made under ``work``)."""
    out: dict[str, list[Labelled]] = {}
    for name in FIXTURES:
        with imported_fixture(name, work / name) as app:
            out[name] = profile_samples(app, name)
    return out


def calibration(samples: dict[str, list[Labelled]]) -> dict[str, Any]:
    """The rule chosen on the calibration half and its rates on both halves, overall
    and per fixture: the content of ``resources/answer_support.json``."""
    def half(items: list[Labelled], calibrating: bool) -> list[Labelled]:
        return [s for s in items if (s.id % 2 == CALIBRATION_PARITY) is calibrating]

    every = [s for items in samples.values() for s in items]
    rule, _ = calibrate_support(half(every, True))
    return {
        "about": "When the retrieved evidence supports an answer (else memory mode says "
                 "\"I don't know.\"): sentence + anchored + head "
                 "(assistant.recall.support.Support) reaches threshold; chosen on the "
                 "calibration half (odd ids) of both fixtures' questions by "
                 "assistant.bench.support, reported on the held-out half (even ids).",
        "rule": {"threshold": rule.threshold},
        "calibration": rates(rule, half(every, True)).to_json(),
        "heldout": rates(rule, half(every, False)).to_json(),
        "fixtures": {name: {"calibration": rates(rule, half(items, True)).to_json(),
                            "heldout": rates(rule, half(items, False)).to_json()}
                     for name, items in samples.items()},
    }
