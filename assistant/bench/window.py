"""The window at scale: 2,000 conversations, 20,000 memories, 10,000 prepared answers.

Issue 15 asks for a window that opens in under a second at that size, filters as the
person types and never stalls the event loop for 50 ms or more. This module builds such
a profile *directly* (the synthetic conversations of `assistant.bench.synth`, memories
and prepared answers made from the same people, places and plans, written with plain
``sqlite3`` ``executemany`` in one transaction: seconds, where the real import of the
same history takes minutes) and measures the window on it in a child process under
Qt's offscreen platform (`assistant.gui.window_probe`, the only part that imports
Qt).

Figures (all in milliseconds):

- ``window_shown_ms``: from the start of ``MainWindow(...)`` (the profile already open)
  to the first paint of the conversation list with its first rows;
- ``list_filter_p99_ms``: typing into a filter field (the conversation search, then the
  memory search), from each key press to the list showing the rows for that text;
- ``event_loop_stall_max_ms``: the longest time a 5 ms timer fired late while the
  lists loaded, were scrolled to the end and were filtered.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import assistant
from assistant.bench import synth
from assistant.bench.stats import percentile, rounded

#: The window figures and what the issue accepts for each (strictly below).
ACCEPT_MS = {"window_shown_ms": 1000.0, "list_filter_p99_ms": 50.0,
             "event_loop_stall_max_ms": 50.0}
PROBE_TIMEOUT_S = 600.0


@dataclass(frozen=True)
class WindowSpec:
    """The profile to build: ``conversations`` taken from a synthetic year of
    ``messages`` messages (keeping at most ``max_messages_per_conversation`` of each),
    plus ``memories`` memories and ``anticipations`` prepared answers."""

    conversations: int = 2_000
    memories: int = 20_000
    anticipations: int = 10_000
    messages: int = 100_000
    max_messages_per_conversation: int | None = None
    seed: int = 15
    end: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))


def _db_time(when: datetime) -> str:
    """How SQLAlchemy stores a datetime in SQLite: naive UTC with microseconds."""
    return when.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")


_MEMORY_KINDS = (("fact", "global"), ("fact", "global"), ("fact", "global"),
                 ("summary", "conversation"), ("summary", "day"), ("digest", "global"))


def memory_rows(spec: WindowSpec, message_ids: list[int]) -> list[tuple[Any, ...]]:
    """``spec.memories`` memories about the synthetic people, places and plans, spread
    over the year; 1% pinned, 10% superseded by the next one (their history)."""
    rng = random.Random(f"{spec.seed}:window:memories")
    start = spec.end - timedelta(days=365)
    rows: list[tuple[Any, ...]] = []
    for i, (question, answer) in enumerate(synth.anticipations(
            synth.SynthSpec(spec.messages, spec.seed + 1, spec.end), spec.memories)):
        kind, scope = rng.choice(_MEMORY_KINDS)
        name = rng.choice(synth.PEOPLE)[0]
        subject = f"{name}: {rng.choice(synth.PLANS)}" if kind == "fact" else question
        text = answer.rsplit(" (prepared", 1)[0]
        when = start + timedelta(seconds=365 * 86400 * (i + 1) / spec.memories)
        sources = {"messages": [rng.choice(message_ids)]} if message_ids else {}
        superseded = i + 2 if i + 1 < spec.memories and rng.random() < 0.1 else None
        rows.append((i + 1, kind, scope, subject, f"{text} (memory {i + 1})",
                     round(rng.uniform(0.5, 1.0), 2), rng.random() < 0.01, False,
                     _db_time(when), _db_time(when), superseded, json.dumps(sources), ""))
    return rows


def build_profile(profile: Path, spec: WindowSpec) -> dict[str, int]:
    """Create ``profile`` (migrated by `Reverie.open`) and fill it in one transaction;
    returns the row counts written."""
    from assistant.app import Reverie

    app = Reverie.open(profile)
    db_file = app.paths.database_file
    app.close()
    con = sqlite3.connect(db_file)
    counts = {"conversations": 0, "messages": 0, "memories": 0, "anticipations": 0}
    try:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        message_ids: list[int] = []
        with con:
            conv_rows: list[tuple[Any, ...]] = []
            msg_rows: list[tuple[Any, ...]] = []
            for conv in synth.conversations(synth.SynthSpec(spec.messages, spec.seed,
                                                            spec.end)):
                if counts["conversations"] >= spec.conversations:
                    break
                counts["conversations"] += 1
                conv_id = counts["conversations"]
                kept = conv.messages[:spec.max_messages_per_conversation]
                conv_rows.append((conv_id, conv.title, _db_time(kept[0].created_at),
                                  _db_time(kept[-1].created_at), False,
                                  f"bench:window:{conv.index}"))
                msg_rows.extend((conv_id, m.role, m.content, _db_time(m.created_at), "imported")
                                for m in kept)
            con.executemany("INSERT INTO conversation (id, title, created_at, updated_at, "
                            "archived, import_key) VALUES (?, ?, ?, ?, ?, ?)", conv_rows)
            con.executemany("INSERT INTO message (conversation_id, role, content, created_at, "
                            "origin) VALUES (?, ?, ?, ?, ?)", msg_rows)
            counts["messages"] = len(msg_rows)
            del msg_rows
            message_ids = [r[0] for r in con.execute("SELECT id FROM message WHERE role = "
                                                     "'user' ORDER BY id")]
            mem = memory_rows(spec, message_ids)
            con.executemany("INSERT INTO memory (id, kind, scope, subject, text, confidence, "
                            "pinned, edited, created_at, updated_at, superseded_by, sources, "
                            "sources_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", mem)
            counts["memories"] = len(mem)
            rng = random.Random(f"{spec.seed}:window:anticipations")
            statuses = ("ready", "ready", "ready", "stale", "used")
            ant = []
            for i, (question, answer) in enumerate(synth.anticipations(
                    synth.SynthSpec(spec.messages, spec.seed, spec.end), spec.anticipations)):
                when = spec.end - timedelta(minutes=i * 7)
                ant.append((question, answer, round(rng.uniform(0.2, 0.95), 2),
                            rng.choice(statuses), rng.randint(0, 3), _db_time(when),
                            rng.randint(300, 1500), rng.randint(10, 80),
                            round(rng.uniform(1.0, 9.0), 1), json.dumps({})))
            con.executemany("INSERT INTO anticipation (question, answer, predictability, "
                            "status, hits, created_at, prompt_tokens, completion_tokens, "
                            "seconds, sources, kind, sources_hash, misses) VALUES "
                            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'topic', '', 0)", ant)
            counts["anticipations"] = len(ant)
        con.execute("PRAGMA optimize")
    finally:
        con.close()
    return counts


def queries(spec: WindowSpec, count: int = 12) -> list[str]:
    """What a person types into a filter: names, places, plans, one of each kind of word
    that the synthetic history uses (deterministic from the seed)."""
    rng = random.Random(f"{spec.seed}:window:queries")
    pool = ([p for p, _rel in synth.PEOPLE] + [p.removeprefix("the ") for p in synth.PLACES]
            + list(synth.PLANS))
    return rng.sample(pool, min(count, len(pool)))


def measure(profile: Path, spec: WindowSpec, timeout: float = PROBE_TIMEOUT_S
            ) -> dict[str, Any]:
    """Run `assistant.gui.window_probe` on ``profile`` in a child process (offscreen)
    and return its figures. Raises RuntimeError when it fails."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    package_root = str(Path(assistant.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH"))
                                        if p)
    _compiled_as_installed(env, profile.parent / "pycache")
    run = subprocess.run(
        [sys.executable, "-m", "assistant.gui.window_probe", str(profile),
         json.dumps(queries(spec))],
        capture_output=True, text=True, env=env, timeout=timeout, check=False)
    if run.returncode != 0:
        tail = " ".join(run.stderr.strip().splitlines()[-3:])
        raise RuntimeError(f"the window probe failed with exit code {run.returncode}: {tail}")
    return figures_of(json.loads(run.stdout.strip().splitlines()[-1]))


def _compiled_as_installed(env: dict[str, str], cache: Path) -> None:
    """Let the probe load compiled modules, as an installed app does (pip compiles a
    wheel's modules when it installs it): with ``PYTHONDONTWRITEBYTECODE`` set (as on
    the development machine) every page's lazy import would otherwise compile its module
    on the GUI thread, a stall no person sees. The bytecode goes to ``cache``, never
    into the source tree."""
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(cache)
    subprocess.run([sys.executable, "-m", "compileall", "-q",
                    str(Path(assistant.__file__).resolve().parent)],
                   env=env, capture_output=True, check=False, timeout=PROBE_TIMEOUT_S)


def figures_of(raw: dict[str, Any]) -> dict[str, Any]:
    """The benchmark's keys from the probe's raw timings (ms)."""
    keys = raw["conversation_filter_ms"] + raw["memory_filter_ms"]
    return {
        "window_shown_ms": rounded(raw["shown_ms"]),
        "list_filter_p99_ms": rounded(percentile(keys, 99)),
        "event_loop_stall_max_ms": rounded(raw["stall_max_ms"]),
        "window": {
            "window_shown_cpu_ms": rounded(raw["shown_cpu_ms"]),
            "list_filter_p50_ms": rounded(percentile(keys, 50)),
            "list_filter_cpu_p99_ms": rounded(percentile(raw["filter_cpu_ms"], 99)),
            "conversation_filter_p99_ms": rounded(percentile(raw["conversation_filter_ms"],
                                                             99)),
            "memory_filter_p99_ms": rounded(percentile(raw["memory_filter_ms"], 99)),
            "keystrokes": len(keys),
            "stall_max_ms_by_phase": {k: rounded(v)
                                      for k, v in raw["stall_max_ms_by_phase"].items()},
            "event_loop_busy_max_ms": rounded(raw["busy_max_ms"]),
            "busy_max_ms_by_phase": {k: rounded(v)
                                     for k, v in raw["busy_max_ms_by_phase"].items()},
            "conversations_loaded": raw["conversations_loaded"],
            "memories_loaded": raw["memories_loaded"],
            "prepared_loaded": raw["prepared_loaded"],
            "load_average_1min": rounded(raw["load_average_1min"], 2),
            "shown_from": "MainWindow construction (profile open) to the first paint of "
                          "the conversation list with rows",
        },
    }


def spec_for(messages: int, anticipations: int, seed: int, end: datetime) -> WindowSpec:
    """The window profile that goes with a history of ``messages`` messages: all its
    conversations (2,000 or so at 100,000), a memory per 5 messages (20,000) and the
    scale bench's prepared answers (10,000)."""
    conversations = len(synth.conversation_sizes(synth.SynthSpec(messages, seed, end)))
    return WindowSpec(conversations=conversations, memories=max(10, messages // 5),
                      anticipations=anticipations, messages=messages, seed=seed, end=end)


def run_step(spec: WindowSpec, work_dir: Path,
             report: Callable[[str], None] = lambda _line: None) -> dict[str, Any]:
    """Build the window profile under ``work_dir`` and measure the window on it."""
    profile = work_dir / "window-profile"
    if profile.exists():  # the bench's own folder from an earlier --keep run
        shutil.rmtree(profile)
    report(f"Building a window profile: {spec.conversations:,} conversations, "
           f"{spec.memories:,} memories, {spec.anticipations:,} prepared answers")
    started = time.perf_counter()
    counts = build_profile(profile, spec)
    built_s = time.perf_counter() - started
    report("Opening, scrolling and filtering the window (offscreen)")
    figures = measure(profile, spec)
    details = dict(figures.pop("window"))
    details |= {"profile": counts, "profile_build_s": round(built_s, 1),
                "accept_ms": ACCEPT_MS}
    return figures | {"window": details}
