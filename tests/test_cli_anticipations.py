"""`reverie anticipations list`: servable prepared answers, or all of them with --all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.cli import main
from assistant.paths import Paths
from assistant.store.db import Database
from assistant.store.models import Anticipation


def test_lists_servable_answers_and_all_with_flag(data_dir: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--data-dir", str(data_dir), "anticipations", "list"]) == 0
    assert "No prepared answers yet" in capsys.readouterr().out
    paths = Paths.resolve(data_dir)
    db = Database.open(paths.database_file, paths.backups_dir)
    with db.write() as s:
        s.add(Anticipation(question="When is the dentist?", answer="Tuesday at 10:30."))
        s.add(Anticipation(question="Old question?", answer="old", status="stale"))
    db.close()
    assert main(["--data-dir", str(data_dir), "anticipations", "list"]) == 0
    out = capsys.readouterr().out
    assert "When is the dentist?" in out and "Old question?" not in out
    assert main(["--data-dir", str(data_dir), "anticipations", "list", "--all", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["status"] for r in rows} == {"ready", "stale"}
