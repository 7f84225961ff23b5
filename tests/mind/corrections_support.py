"""The corrections fixture and the verdict on one pattern, shared by the FakeEngine and
the real-model tests of corrections."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

from assistant.app import Reverie
from assistant.resources import resource_dir
from assistant.store.models import Memory

Pattern = dict[str, Any]


def patterns() -> list[Pattern]:
    data = json.loads((resource_dir() / "bench" / "corrections.json").read_text("utf-8"))
    return list(data["corrections"])


def held_out(pattern: Pattern) -> bool:
    return int(pattern["id"]) % 3 == 0


def says(text: str, value: str) -> bool:
    """``value`` appears in ``text`` as whole words (case, "£" and a plural aside)."""
    clean = value.lower().lstrip("£€$").strip()
    return re.search(r"(?<![\w])" + re.escape(clean) + r"s?(?![\w])", text.lower()) is not None


def load(app: Reverie, pattern: Pattern) -> None:
    if "note_edit" in pattern:
        return
    conv = app.chats.create_conversation("").id or 0
    for m in pattern["messages"]:
        app.chats.add_message(conv, m["role"], m["content"],
                              created_at=datetime.fromisoformat(m["created_at"]))


def verdict(facts: list[Memory], pattern: Pattern) -> tuple[bool, str]:
    """(passed, why) for one pattern, given the fact memories that came from it."""
    new = [pattern["new"], *pattern["accept"]]
    active = [m for m in facts if m.superseded_by is None]
    stale = [m.text for m in active if any(says(m.text, o) for o in pattern["old"])
             and not any(says(m.text, n) for n in new)]
    if stale:
        return False, f"still current: {stale}"
    if not any(m.superseded_by is not None for m in facts):
        return False, "nothing superseded"
    if not any(says(m.text, n) for m in active for n in new):
        return False, f"no current fact holds {pattern['new']!r}: {[m.text for m in active]}"
    return True, ""
