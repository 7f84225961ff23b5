"""docs/ARCHITECTURE.md stays true: cited sections exist, the JSON contracts match the code."""

from __future__ import annotations

import json
import re
from pathlib import Path

from assistant.mind.backlog import BacklogFigures
from assistant.mind.runner import SessionReport, StopReason
from assistant.recall.responder import Answer

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "ARCHITECTURE.md"


def doc() -> str:
    return DOC.read_text(encoding="utf-8")


def sections() -> set[str]:
    return {m.group(1).strip() for m in re.finditer(r"^## (.+)$", doc(), re.MULTILINE)}


def test_every_cited_section_exists() -> None:
    """Code and tests cite sections as ``docs/ARCHITECTURE.md, "Name"``."""
    cited: dict[str, str] = {}
    for path in [*REPO.joinpath("assistant").rglob("*.py"), *REPO.joinpath("tests").rglob("*.py")]:
        if path == Path(__file__).resolve():
            continue
        for name in re.findall(r'ARCHITECTURE\.md, "([^"]+)"', path.read_text(encoding="utf-8")):
            cited[name] = str(path.relative_to(REPO))
    missing = {name: where for name, where in cited.items() if name not in sections()}
    assert missing == {}, f"cited sections that the document lacks: {missing}"


def test_the_readme_links_the_document() -> None:
    assert "](docs/ARCHITECTURE.md)" in (REPO / "README.md").read_text(encoding="utf-8")
    assert {"Layers", "Data", "Sleep-time flow", "Query flow", "Threads", "Command line",
            "Import and export formats", "Files on disk"} <= sections()


def test_the_ask_json_example_is_what_the_responder_prints() -> None:
    block = doc().split("**`ask --json`** prints one object:", 1)[1]
    example = json.loads(block.split("```json", 1)[1].split("```", 1)[0])
    assert Answer(**example).to_json() == example


def test_the_sleep_json_keys_are_what_the_runner_prints() -> None:
    paragraph = doc().split("**`sleep --json`** prints one object:", 1)[1].split("\n\n", 1)[0]
    named = re.findall(r"`([a-z_]+)`", paragraph)
    reasons = {r.value for r in StopReason}
    keys = [name for name in named if name not in reasons]
    figures = BacklogFigures(items=3, tokens=900, tokens_per_s=50.0, speed_measured=False,
                             digested_share=0.5, conversations=2, notes=1)
    assert keys == list(SessionReport(backlog=figures).to_json())
    assert reasons <= set(named)
