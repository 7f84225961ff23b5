"""The benchmark fixtures under resources/bench/ keep their schema and their promises.

The recall, sleep and (later) correction benchmarks trust these files: a gold answer that
is not in the data, a "superseded" value that was never said, or a paraphrase that sits in
both the calibration and the held-out half would make a benchmark report a number that
means nothing. These checks read the files only; no model, no profile.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from assistant.resources import resource

BENCH = resource("bench")
ROLES = {"user", "assistant", "system"}
KINDS = {"fact", "when", "multi_session", "corrected", "unanswerable"}
CORRECTION_PATTERNS = {"time", "place", "amount", "person", "cancellation", "negation",
                       "actually", "instead", "moved_to", "no_cue", "chain"}


@dataclass(frozen=True)
class ChatMessage:
    conversation: str
    role: str
    content: str
    created_at: datetime


@dataclass(frozen=True)
class Fixture:
    """One fixture directory: its chats (in file order) and its notes' bodies."""

    messages: list[ChatMessage]
    notes: dict[str, str]
    questions: dict[str, Any]

    def text(self) -> str:
        parts = [m.content for m in self.messages] + list(self.notes.values())
        return "\n".join(parts).casefold()

    def messages_with(self, needle: str) -> list[ChatMessage]:
        low = needle.casefold()
        return [m for m in self.messages if low in m.content.casefold()]

    def notes_with(self, needle: str) -> list[str]:
        low = needle.casefold()
        return [name for name, body in self.notes.items() if low in body.casefold()]


def parse_time(value: object, where: str) -> datetime:
    assert isinstance(value, str), f"{where}: created_at is not a string"
    stamp = datetime.fromisoformat(value)
    assert stamp.tzinfo is not None, f"{where}: created_at {value!r} has no UTC offset"
    return stamp


def check_messages(raw: object, where: str) -> list[tuple[str, str, datetime]]:
    """Schema of a message list; timestamps valid and strictly increasing."""
    assert isinstance(raw, list) and raw, f"{where}: no messages"
    out: list[tuple[str, str, datetime]] = []
    for i, m in enumerate(raw):
        assert set(m) == {"role", "content", "created_at"}, f"{where} #{i}: keys {sorted(m)}"
        assert m["role"] in ROLES, f"{where} #{i}: role {m['role']!r}"
        assert isinstance(m["content"], str) and m["content"].strip(), f"{where} #{i}: empty"
        stamp = parse_time(m["created_at"], f"{where} #{i}")
        if out:
            assert stamp > out[-1][2], f"{where} #{i}: {m['created_at']} is not after the last"
        out.append((m["role"], m["content"], stamp))
    return out


def load_chats(path: Path) -> list[ChatMessage]:
    messages: list[ChatMessage] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        assert line.strip(), f"{path.name}:{n} is blank"
        conv = json.loads(line)
        assert set(conv) == {"title", "messages"}, f"{path.name}:{n}: keys {sorted(conv)}"
        assert isinstance(conv["title"], str) and conv["title"].strip()
        for role, content, stamp in check_messages(conv["messages"], f"{path.name}:{n}"):
            messages.append(ChatMessage(conv["title"], role, content, stamp))
    return messages


def load_fixture(folder: Path) -> Fixture:
    notes = {p.name: p.read_text(encoding="utf-8") for p in sorted((folder / "notes").iterdir())}
    questions = json.loads((folder / "questions.json").read_text(encoding="utf-8"))
    return Fixture(load_chats(folder / "chats.jsonl"), notes, questions)


def load_json(name: str) -> Any:
    return json.loads((BENCH / name).read_text(encoding="utf-8"))


FIXTURES = {"maya": BENCH, "two_people": BENCH / "two_people"}


@pytest.fixture(scope="module", params=sorted(FIXTURES))
def fixture(request: pytest.FixtureRequest) -> tuple[str, Fixture]:
    return request.param, load_fixture(FIXTURES[request.param])


def correcting_message(fx: Fixture, q: dict[str, Any]) -> ChatMessage:
    """The latest message a corrected question cites: the one that set the current value."""
    cited = [m for s in q["sources"] if s["kind"] == "message"
             for m in fx.messages_with(s["contains"])]
    assert cited, f"q{q['id']}: a corrected question must cite the correcting message"
    return max(cited, key=lambda m: m.created_at)


def test_question_schema(fixture: tuple[str, Fixture]) -> None:
    _name, fx = fixture
    qs = fx.questions["questions"]
    parse_time(fx.questions["now"], "now")
    assert len({q["id"] for q in qs}) == len(qs), "question ids repeat"
    assert len({q["question"].casefold() for q in qs}) == len(qs), "questions repeat"
    for q in qs:
        where = f"q{q['id']}"
        assert isinstance(q["question"], str) and q["question"].endswith("?"), where
        assert isinstance(q["answer"], str) and q["answer"], where
        assert q["accept"] and all(isinstance(a, str) and a for a in q["accept"]), where
        assert isinstance(q["answerable"], bool) and isinstance(q["predictable"], bool), where
        assert q["kind"] in KINDS, where
        assert (q["kind"] == "unanswerable") is (not q["answerable"]), where
        assert all(isinstance(s, str) and s for s in q["superseded"]), where
        if q["superseded"]:
            assert q["kind"] == "corrected", f"{where}: superseded values but kind {q['kind']}"
        assert any(a.casefold() in q["answer"].casefold() for a in q["accept"]), (
            f"{where}: the grader would reject the gold answer {q['answer']!r}")
        for old in q["superseded"]:
            assert old.casefold() not in q["answer"].casefold(), f"{where}: gold repeats {old!r}"


def test_sources_point_at_real_text(fixture: tuple[str, Fixture]) -> None:
    _name, fx = fixture
    for q in fx.questions["questions"]:
        if q["answerable"]:
            assert q["sources"], f"q{q['id']}: no evidence"
        for s in q["sources"]:
            found = (fx.messages_with(s["contains"]) if s["kind"] == "message"
                     else fx.notes_with(s["contains"]) if s["kind"] == "note" else None)
            assert found, f"q{q['id']}: no {s['kind']} contains {s['contains']!r}"


def test_answerable_answers_are_in_the_data(fixture: tuple[str, Fixture]) -> None:
    name, fx = fixture
    text = fx.text()
    for q in fx.questions["questions"]:
        if not q["answerable"]:
            continue
        # The first fixture's gold answers are sometimes a summary; its accepted strings
        # are what the grader looks for, so at least one of them must be in the data.
        assert any(a.casefold() in text for a in q["accept"]), f"{name} q{q['id']}"
        if name != "maya":
            assert q["answer"].casefold() in text, f"{name} q{q['id']}: {q['answer']!r}"


def test_unanswerable_questions_have_no_answer_in_the_data(fixture: tuple[str, Fixture]) -> None:
    name, fx = fixture
    text = fx.text()
    for q in fx.questions["questions"]:
        if q["answerable"]:
            continue
        assert not q["sources"] and not q["superseded"], f"{name} q{q['id']}"
        assert q["absent"], f"{name} q{q['id']}: say which phrases would answer it"
        for phrase in [*q["absent"], q["answer"], *q["accept"]]:
            assert phrase.casefold() not in text, f"{name} q{q['id']}: {phrase!r} is in the data"


def test_superseded_values_were_said_before_the_correction(fixture: tuple[str, Fixture]) -> None:
    name, fx = fixture
    for q in fx.questions["questions"]:
        if q["kind"] != "corrected":
            continue
        fix = correcting_message(fx, q)
        for old in q["superseded"]:
            said = [m for m in fx.messages_with(old) if m.created_at <= fix.created_at]
            assert said, f"{name} q{q['id']}: {old!r} is never said before the correction"
            if name != "maya":  # the first fixture's one correction names the old day in passing
                assert min(m.created_at for m in said) < fix.created_at, f"q{q['id']}: {old!r}"
                assert not fx.notes_with(old), f"q{q['id']}: a note still says {old!r}"


def test_two_people_fixture_is_big_and_varied() -> None:
    fx = load_fixture(FIXTURES["two_people"])
    qs = fx.questions["questions"]
    assert len(fx.messages) >= 300
    assert len(fx.notes) >= 3
    assert len(qs) >= 60
    kinds = {k: sum(q["kind"] == k for q in qs) for k in KINDS}
    assert kinds["corrected"] >= 12 and kinds["unanswerable"] >= 8, kinds
    assert kinds["multi_session"] >= 5 and kinds["when"] >= 5, kinds
    assert sum(len(q["superseded"]) >= 2 for q in qs) >= 2, "chains of two corrections"
    assert 0 < sum(q["predictable"] for q in qs) < len(qs)
    starts = [m.created_at for m in fx.messages]
    assert starts == sorted(starts), "conversations are in time order"
    assert starts[-1] - starts[0] >= timedelta(days=182), "at least six months"
    assert len({m.conversation for m in fx.messages}) >= 20, "many sessions"
    now = datetime.fromisoformat(fx.questions["now"])
    assert starts[-1] < now
    for q in qs:
        if q["kind"] == "multi_session":
            titles = {m.conversation for s in q["sources"] for m in fx.messages_with(s["contains"])}
            assert len(titles) >= 2, f"q{q['id']}: its evidence is in one session"


def test_corrections_fixture() -> None:
    data = load_json("corrections.json")
    items = data["corrections"]
    assert len(items) >= 25
    assert len({c["id"] for c in items}) == len(items)
    seen = {c["pattern"] for c in items}
    assert seen == CORRECTION_PATTERNS, f"missing {CORRECTION_PATTERNS - seen}"
    for c in items:
        where = f"correction {c['id']}"
        assert c["subject"] and c["attribute"] and c["question"].endswith("?"), where
        assert c["old"] and c["new"] and c["accept"], where
        new = c["new"].casefold()
        assert any(a.casefold() in new for a in c["accept"]), f"{where}: gold rejected"
        for old in c["old"]:
            assert old.casefold() not in new, f"{where}: the new value repeats {old!r}"
        if c["pattern"] == "chain":
            assert len(c["old"]) >= 2, f"{where}: a chain has two old values"
        if "note_edit" in c:
            before, after = c["note_edit"]["before"].casefold(), c["note_edit"]["after"].casefold()
            assert new in after and new not in before, where
            for old in c["old"]:
                assert old.casefold() in before and old.casefold() not in after, where
            continue
        msgs = check_messages(c["messages"], where)
        last = max(i for i, (_r, text, _t) in enumerate(msgs) if new in text.casefold())
        assert last == len(msgs) - 1, f"{where}: the last message sets the new value"
        assert new not in " ".join(t for _r, t, _s in msgs[:-1]).casefold(), (
            f"{where}: the new value is known before the correction")
        for old in c["old"]:
            assert any(old.casefold() in t.casefold() for _r, t, _s in msgs[:-1]), (
                f"{where}: {old!r} is not said before the correction")


def paraphrase_halves() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return (load_json("paraphrases_calibration.json")["pairs"],
            load_json("paraphrases_heldout.json")["pairs"])


def test_paraphrase_halves() -> None:
    calibration, heldout = paraphrase_halves()
    assert len(calibration) + len(heldout) >= 200
    assert abs(len(calibration) - len(heldout)) <= 1
    prepared = {q["question"] for q in load_fixture(FIXTURES["two_people"]).questions["questions"]}
    prepared |= {q["question"] for q in load_fixture(FIXTURES["maya"]).questions["questions"]}
    prepared |= {c["question"] for c in load_json("corrections.json")["corrections"]}
    keys: list[set[tuple[str, str]]] = []
    for half in (calibration, heldout):
        pairs = set()
        for p in half:
            assert set(p) <= {"prepared", "asked", "match", "differs"}, sorted(p)
            assert isinstance(p["match"], bool)
            assert p["prepared"] in prepared, f"not a fixture question: {p['prepared']!r}"
            assert p["asked"].strip() and p["asked"].casefold() != p["prepared"].casefold()
            assert ("differs" in p) is (not p["match"]), f"say how a near-miss differs: {p}"
            pairs.add((p["prepared"], p["asked"].casefold()))
        assert len(pairs) == len(half), "a pair repeats within a half"
        matches = sum(p["match"] for p in half)
        assert 0.3 <= matches / len(half) <= 0.7, "both paraphrases and near-misses"
        keys.append(pairs)
    assert not keys[0] & keys[1], "the halves overlap"
    # A near-miss may be another prepared question; a paraphrase wording belongs to one
    # prepared question and to one half only.
    asked = [[p["asked"].casefold() for p in half if p["match"]] for half in (calibration, heldout)]
    assert len(set(asked[0] + asked[1])) == len(asked[0]) + len(asked[1]), "a paraphrase repeats"


def test_paraphrase_near_misses_differ_in_one_thing() -> None:
    calibration, heldout = paraphrase_halves()
    reasons = {p["differs"] for p in calibration + heldout if not p["match"]}
    assert {"attribute", "person", "time"} <= reasons, reasons
