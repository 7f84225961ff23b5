"""The synthetic history: realistic shape, deterministic, importable, written streaming."""

from __future__ import annotations

import json
import statistics
import tracemalloc
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from assistant.bench import synth
from assistant.store.importers import parse_chatgpt_export, parse_reverie_jsonl

END = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_the_same_seed_writes_the_same_bytes_and_another_seed_does_not(tmp_path: Path) -> None:
    a = synth.write_history(synth.SynthSpec(600, seed=3, end=END), tmp_path / "a")
    b = synth.write_history(synth.SynthSpec(600, seed=3, end=END), tmp_path / "b")
    c = synth.write_history(synth.SynthSpec(600, seed=4, end=END), tmp_path / "c")
    for name in ("chats.jsonl", "conversations.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
        assert (tmp_path / "a" / name).read_bytes() != (tmp_path / "c" / name).read_bytes()
    assert sorted(p.read_text() for p in (tmp_path / "a" / "notes").iterdir()) == sorted(
        p.read_text() for p in (tmp_path / "b" / "notes").iterdir())
    assert a.messages == b.messages == c.messages == 600


def test_lengths_have_many_one_liners_and_a_long_tail() -> None:
    sizes = synth.conversation_sizes(synth.SynthSpec(100_000, end=END))
    assert sum(sizes) == 100_000
    assert sum(1 for n in sizes if n <= 2) / len(sizes) >= 0.2
    assert max(sizes) >= 10 * statistics.median(sizes)
    # About 2,000 conversations per 100,000 messages (the ChatGPT export).
    assert 1500 <= len(sizes) <= 2800


def test_people_places_and_plans_recur_and_dates_stay_in_the_year() -> None:
    spec = synth.SynthSpec(3000, end=END)
    convs = list(synth.conversations(spec))
    mentions: Counter[str] = Counter()
    for conv in convs:
        text = " ".join(m.content for m in conv.messages)
        mentions.update(name for name, _rel in synth.PEOPLE if name in text)
        for m in conv.messages:
            assert spec.start <= m.created_at < END
        assert [m.role for m in conv.messages[:2]] == ["user", "assistant"][:len(conv.messages)]
    assert all(mentions[name] >= 5 for name, _rel in synth.PEOPLE)
    newest = max(m.created_at for c in convs for m in c.messages)
    assert newest >= END - timedelta(days=7), "the last week must have chats"
    thanks = [m for c in convs for m in c.messages if m.content in synth.THANKS]
    assert len(thanks) >= 50
    oldest = min(c.messages[0].created_at for c in convs)
    assert oldest <= spec.start + timedelta(days=60)


def test_the_real_importers_read_both_forms_as_the_same_messages(tmp_path: Path) -> None:
    files = synth.write_history(synth.SynthSpec(1500, end=END), tmp_path)
    assert files.chatgpt is not None and files.jsonl is not None
    problems: list[str] = []
    with files.jsonl.open(encoding="utf-8") as f:
        from_jsonl = list(parse_reverie_jsonl(f, problems))
    data = json.loads(files.chatgpt.read_text(encoding="utf-8"))
    from_chatgpt = list(parse_chatgpt_export(data, problems))
    assert problems == []
    assert len(from_jsonl) == len(from_chatgpt) == files.conversations
    for a, b in zip(from_jsonl, from_chatgpt, strict=True):
        assert [(m.role, m.content) for m in a.messages] == [
            (m.role, m.content) for m in b.messages]
        assert [m.created_at for m in a.messages] == [m.created_at for m in b.messages]
    assert sum(len(c.messages) for c in from_chatgpt) == 1500
    # Side branches (regenerated answers) exist in the file but are not on the current one.
    assert '"(an earlier answer, regenerated)' in files.chatgpt.read_text(encoding="utf-8")
    assert not any(m.content.startswith("(an earlier answer") for c in from_chatgpt
                   for m in c.messages)


def test_the_export_streams_and_weighs_about_3_kb_per_message(tmp_path: Path) -> None:
    tracemalloc.start()
    try:
        files = synth.write_history(synth.SynthSpec(6000, end=END), tmp_path, jsonl=False,
                                    with_notes=False)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # So 100,000 messages make the issue's >= 300 MB export...
    assert files.chatgpt_bytes / files.messages >= 3000
    # ...without holding it: one conversation at a time.
    assert peak < files.chatgpt_bytes / 3
    assert files.jsonl is None and files.notes is None


def test_notes_are_markdown_over_years(tmp_path: Path) -> None:
    files = synth.write_history(synth.SynthSpec(4000, end=END), tmp_path, jsonl=False,
                                chatgpt=False)
    assert files.notes is not None and files.note_files == synth.note_count(4000) == 20
    bodies = [p.read_text(encoding="utf-8") for p in sorted(files.notes.iterdir())]
    assert all(b.startswith("# ") and "\n- " in b for b in bodies)
    dates = sorted(p.name[:10] for p in files.notes.iterdir())
    assert dates[0] <= "2024-03-01" and dates[-1] >= "2026-11-01"


def test_questions_and_prepared_answers_are_seeded_and_counted() -> None:
    spec = synth.SynthSpec(100, end=END)
    assert synth.questions(spec, 50) == synth.questions(spec, 50)
    assert len(set(synth.questions(spec, 200))) >= 120
    pairs = list(synth.anticipations(spec, 300))
    assert len(pairs) == 300 and all(q.endswith("?") and a for q, a in pairs)
