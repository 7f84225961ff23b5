"""``reverie bench scale``: a year of someone's chats, imported, searched and planned.

Issue 15's baseline. A synthetic history (`assistant.bench.synth`: N messages over 12
months as a ChatGPT ``conversations.json``, plus Markdown notes) goes into a throw-away
profile through the real ``reverie import chats`` command in a subprocess (timed, with
its peak RSS), next to the floor of the same rows inserted with plain ``sqlite3``
``executemany``. Then, on the imported profile: retrieval latency over 200 questions,
prepared-answer lookup among 10,000 ready answers, the sleep-time backlog and what a
10-minute first session would cover at this machine's measured speed, and (with the
model) the first-token time of memory answers against an empty profile. Last, the
window step (`assistant.bench.window`, alone with ``--only window``): a second profile
with the same number of conversations, a memory per five messages and the prepared
answers, written directly (the real import of that size takes minutes), on which the
main window is opened, scrolled and filtered offscreen.

It measures what exists: nothing in the store, recall or mind layers is changed here.
The person's own profile is never touched.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

import assistant
from assistant.app import Reverie
from assistant.bench import synth
from assistant.bench.stats import percentile, rounded
from assistant.mind.backlog import TRIVIAL_KIND
from assistant.mind.consolidate import CONVERSATION_KIND, NOTE_KIND
from assistant.mind.planner import DefaultPlanner
from assistant.store.db import Database
from assistant.store.models import Anticipation, AnticipationStatus, WorkItem

log = logging.getLogger("assistant.bench")

DEFAULT_MESSAGES = 100_000
#: Features issue 15 measures later; null until they exist.
NOT_BUILT: dict[str, str] = {}
#: The window step (`assistant.bench.window`): its own profile, built directly.
WINDOW_KEYS = ("window_shown_ms", "list_filter_p99_ms", "event_loop_stall_max_ms")
MODEL_KEYS = ("ask_memory_ttft_p50_ms", "ask_memory_ttft_p50_ms_empty", "sleep_tokens_per_s",
              "first_session_items", "first_session_newest_share")


@dataclass(frozen=True)
class ScaleOptions:
    """What one run measures. ``model`` None skips the parts that need the model."""

    messages: int = DEFAULT_MESSAGES
    seed: int = 15
    model: Path | None = None
    questions: int = 200
    #: Ready prepared answers for the lookup; None: 10,000 at full size, fewer below it.
    anticipations: int | None = None
    ask_questions: int = 7
    #: Length of the real sleep session that measures this machine's speed.
    sleep_budget_s: float = 60.0
    #: The first session the person's machine would run (issue 15: 10 minutes).
    session_budget_s: float = 600.0
    newest_days: int = 7
    end: datetime | None = None
    #: Run one step alone: "window" (the window at 2,000 conversations / 20,000 memories).
    only: str | None = None


Report = Callable[[str], None]


def anticipation_count(options: ScaleOptions) -> int:
    """10,000 ready answers at 100,000 messages (the issue's figure), in proportion below."""
    if options.anticipations is not None:
        return options.anticipations
    return max(100, min(10_000, options.messages // 10))


def _quiet(_line: str) -> None:
    return None


@contextmanager
def _workdir(base: Path | None) -> Iterator[Path]:
    if base is not None:
        base.mkdir(parents=True, exist_ok=True)
        yield base
        return
    with tempfile.TemporaryDirectory(prefix="reverie-scale-") as tmp:
        yield Path(tmp)


def run_scale(options: ScaleOptions, report: Report = _quiet,
              work_dir: Path | None = None) -> dict[str, Any]:
    """Generate, import and measure; returns the issue's JSON object (see module doc)."""
    end = options.end or datetime.now(UTC).replace(microsecond=0)
    spec = synth.SynthSpec(options.messages, options.seed, end)
    result: dict[str, Any] = {"date": end.date().isoformat(), "seed": options.seed}

    def measured(**figures: Any) -> None:
        """Keep the figures, and say them at once: a long run's log keeps what it got."""
        result.update(figures)
        report(", ".join(f"{k} = {v}" for k, v in figures.items() if k != "window"))

    if options.only == "window":
        with _workdir(work_dir) as tmp:
            measured(**_window_step(options, end, tmp, report))
        return result | {"not_measured": []}
    with _workdir(work_dir) as tmp:
        report(f"Writing {options.messages} synthetic messages")
        started = time.perf_counter()
        files = synth.write_history(spec, tmp / "history")
        assert files.chatgpt is not None and files.jsonl is not None
        assert files.notes is not None
        measured(messages=files.messages, conversations=files.conversations,
                 notes=files.note_files, generate_s=rounded(time.perf_counter() - started),
                 import_file_mb=rounded(files.chatgpt_bytes / 2**20))
        profile = tmp / "profile"
        _make_profile(profile, options.model)

        report(f"Importing {result['import_file_mb']} MB through `reverie import chats`")
        run = run_cli(profile, "import", "chats", str(files.chatgpt))
        measured(import_s=rounded(run.seconds, 2),
                 import_peak_rss_mb=rounded(run.peak_rss_mb))
        notes_run = run_cli(profile, "import", "notes", str(files.notes))
        measured(import_notes_s=rounded(notes_run.seconds, 2))
        report("Inserting the same rows with plain sqlite3 executemany")
        measured(import_baseline_s=rounded(sqlite_baseline(files.jsonl, tmp / "plain.db"), 4),
                 db_mb=rounded(database_mb(profile)))

        qs = synth.questions(spec, options.questions)
        app = Reverie.open(profile)
        try:
            report(f"Retrieving {len(qs)} questions")
            times = retrieval_times(app.db, qs)
            measured(retrieval_p50_ms=rounded(percentile(times, 50), 2),
                     retrieval_p99_ms=rounded(percentile(times, 99), 2))
            report("Planning the sleep-time backlog")
            started = time.perf_counter()
            plan_backlog(app.db)
            measured(plan_s=rounded(time.perf_counter() - started, 3))
            measured(**backlog_parts(app.db))
        finally:
            app.close()
        since = end - timedelta(days=options.newest_days)

        not_measured = [{"key": k, "why": why} for k, why in NOT_BUILT.items()]
        for key in NOT_BUILT:
            result[key] = None
        if options.model is not None:
            measured(**_model_parts(options, profile, tmp / "empty", qs, since, report))
        else:
            for key in MODEL_KEYS:
                result[key] = None
                not_measured.append({"key": key, "why": "run without the model (--no-model)"})

        app = Reverie.open(profile)
        try:
            count = anticipation_count(options)
            report(f"Looking up {len(qs)} questions among {count} prepared answers")
            insert_anticipations(app.db, synth.anticipations(spec, count))
            measured(lookup_anticipations=count,
                     lookup_p99_ms=rounded(percentile(lookup_times(app.db, qs), 99), 2))
        finally:
            app.close()
        measured(**_window_step(options, end, tmp, report))
        result["not_measured"] = not_measured
    return _ordered(result)


def _window_step(options: ScaleOptions, end: datetime, tmp: Path,
                 report: Report) -> dict[str, Any]:
    from assistant.bench import window

    spec = window.spec_for(options.messages, anticipation_count(options), options.seed, end)
    return window.run_step(spec, tmp, report)


_ORDER = ("messages", "import_file_mb", "import_s", "import_baseline_s", "import_peak_rss_mb",
          "db_mb", "retrieval_p50_ms", "retrieval_p99_ms", "lookup_p99_ms",
          "ask_memory_ttft_p50_ms", "ask_memory_ttft_p50_ms_empty", "sleep_tokens_per_s",
          "backlog_items", "first_session_items", "first_session_newest_share",
          *WINDOW_KEYS, *NOT_BUILT)


def _ordered(result: dict[str, Any]) -> dict[str, Any]:
    """The issue's keys first, in its order; details after."""
    head = {k: result[k] for k in _ORDER}
    return head | {k: v for k, v in result.items() if k not in head}


def _make_profile(path: Path, model: Path | None) -> None:
    app = Reverie.open(path)
    try:
        if model is not None:
            app.save_settings(app.settings.replace("model", path=str(model)))
    finally:
        app.close()


#: The items that digest material (the share from the newest week counts these).
DIGEST_KINDS = (CONVERSATION_KIND, NOTE_KIND, TRIVIAL_KIND)


@dataclass
class CliRun:
    seconds: float
    peak_rss_mb: float
    stdout: str


def run_cli(profile: Path, *args: str) -> CliRun:
    """``reverie --data-dir PROFILE ARGS`` in a child process: wall time and its peak RSS
    (from ``wait4``, so only that child counts). Raises RuntimeError when it fails."""
    env = dict(os.environ)
    package_root = str(Path(assistant.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH"))
                                        if p)
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "assistant", "--data-dir", str(profile),
                                  *args], stdout=out, stderr=err, env=env)
        _pid, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode("utf-8", "replace")
        if child.returncode != 0:
            tail = err.read().decode("utf-8", "replace").strip().splitlines()[-3:]
            raise RuntimeError(f"`reverie {' '.join(args[:2])}` failed with exit code "
                               f"{child.returncode}: {' '.join(tail)}")
    scale = 2**20 if sys.platform == "darwin" else 2**10  # ru_maxrss: bytes vs KiB
    return CliRun(seconds, usage.ru_maxrss / scale, stdout)


def sqlite_baseline(jsonl: Path, db_path: Path) -> float:
    """Seconds to insert the same conversations and messages with plain ``sqlite3``
    ``executemany`` in one transaction (rows parsed beforehand, no ORM, no FTS): the floor
    an import could approach."""
    conversations: list[tuple[int, str, str]] = []
    messages: list[tuple[int, str, str, str]] = []
    with jsonl.open(encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            data = json.loads(line)
            conversations.append((i, data["title"], data["messages"][0]["created_at"]))
            messages.extend((i, m["role"], m["content"], m["created_at"])
                            for m in data["messages"])
    con = sqlite3.connect(db_path)
    try:
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        con.execute("CREATE TABLE conversation (id INTEGER PRIMARY KEY, title TEXT, "
                    "created_at TEXT)")
        con.execute("CREATE TABLE message (id INTEGER PRIMARY KEY, conversation_id INTEGER, "
                    "role TEXT, content TEXT, created_at TEXT)")
        started = time.perf_counter()
        with con:
            con.executemany("INSERT INTO conversation VALUES (?, ?, ?)", conversations)
            con.executemany("INSERT INTO message (conversation_id, role, content, created_at) "
                            "VALUES (?, ?, ?, ?)", messages)
        return time.perf_counter() - started
    finally:
        con.close()


def database_mb(profile: Path) -> float:
    """The profile's database with its write-ahead log, in MiB."""
    from assistant.paths import Paths

    db = Paths.resolve(profile).database_file
    return sum(p.stat().st_size for p in (db, db.with_name(db.name + "-wal")) if p.exists()
               ) / 2**20


def retrieval_times(db: Database, questions: list[str]) -> list[float]:
    """Milliseconds per ``Retriever.search`` (top 5), after one warm-up search."""
    from assistant.recall.retrieval import Retriever

    retriever = Retriever(db)
    retriever.search(questions[0], 5)
    times = []
    for q in questions:
        started = time.perf_counter()
        retriever.search(q, 5)
        times.append((time.perf_counter() - started) * 1000)
    return times


def plan_backlog(db: Database) -> DefaultPlanner:
    """Let the planner fill the agenda from the data alone (titles, digests, anticipation
    proposals; the profile and prefix sources need a model and add at most one item
    each); returns it, to schedule from."""
    from assistant.mind.anticipate import propose_anticipations
    from assistant.mind.backlog import propose_digests
    from assistant.mind.titles import propose_titles

    planner = DefaultPlanner(db, [propose_titles, propose_digests, propose_anticipations])
    planner.plan()
    return planner


def backlog_parts(db: Database) -> dict[str, Any]:
    """The backlog figures (`assistant.mind.backlog.backlog_figures`) at the speed measured
    so far in this profile."""
    from assistant.mind.backlog import backlog_figures

    figures = backlog_figures(db)
    return {"backlog_items": figures.items, "backlog_tokens": figures.tokens,
            "backlog_idle_seconds": rounded(figures.idle_seconds),
            "digested_share": rounded(figures.digested_share, 4)}


def newest_flags(db: Database, items: list[WorkItem], since: datetime) -> list[bool]:
    """For each item: is what it thinks about from on or after ``since``? A conversation
    counts by its last message, a message by its time, a note by its last change."""
    with db.session() as s:
        con = s.connection()
        conv_last = {int(r[0]): str(r[1]) for r in con.execute(text(
            "SELECT conversation_id, max(created_at) FROM message GROUP BY conversation_id"))}
        note_time = {int(r[0]): str(r[1]) for r in con.execute(text(
            "SELECT id, updated_at FROM note"))}
        wanted = [int(i.target.split(":")[1]) for i in items
                  if i.target.startswith("message:")]
        msg_time: dict[int, str] = {}
        for chunk in range(0, len(wanted), 900):
            ids = ",".join(str(i) for i in wanted[chunk:chunk + 900])
            rows = con.execute(text(f"SELECT id, created_at FROM message WHERE id IN ({ids})"))
            msg_time.update({int(r[0]): str(r[1]) for r in rows})
    cutoff = since.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")

    def when(item: WorkItem) -> str | None:
        head, _, rest = item.target.partition(":")
        if head == "message":
            return msg_time.get(int(rest))
        if head == "note":
            return note_time.get(int(rest.split(":")[0]))
        if head.isdigit():
            return (note_time if "note" in item.kind else conv_last).get(int(head))
        return None

    return [(w := when(item)) is not None and w[:26] >= cutoff for item in items]


def insert_anticipations(db: Database, pairs: Iterator[tuple[str, str]]) -> int:
    """Ready prepared answers, written directly (sleep time would take days to make 10,000)."""
    count = 0
    with db.write() as s:
        for question, answer in pairs:
            s.add(Anticipation(question=question, answer=answer, predictability=0.7,
                               status=AnticipationStatus.READY.value))
            count += 1
    return count


def lookup_times(db: Database, questions: list[str]) -> list[float]:
    """Milliseconds per ``PreparedAnswers.lookup``, after one warm-up lookup."""
    from assistant.recall.prepared import PreparedAnswers

    prepared = PreparedAnswers(db)
    prepared.lookup(questions[0])
    times = []
    for q in questions:
        started = time.perf_counter()
        prepared.lookup(q)
        times.append((time.perf_counter() - started) * 1000)
    return times


def ask_memory(profile: Path, question: str) -> dict[str, Any]:
    """``ask --mode memory --json`` in a fresh process (no prepared answer): its JSON."""
    run = run_cli(profile, "ask", question, "--mode", "memory", "--no-anticipated", "--json")
    answer: dict[str, Any] = json.loads(run.stdout)
    return answer


def ask_side_by_side(profiles: tuple[Path, Path], questions: list[str]
                     ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Each question asked of both profiles in turn, so drift in the machine's speed falls
    on both alike."""
    first: list[dict[str, Any]] = []
    second: list[dict[str, Any]] = []
    for q in questions:
        first.append(ask_memory(profiles[0], q))
        second.append(ask_memory(profiles[1], q))
    return first, second


def _asked_parts(answers: list[dict[str, Any]], suffix: str = "") -> dict[str, Any]:
    """TTFT p50 in memory mode and what the prompts were made of (``ask --json`` fields);
    ``suffix`` ends every key (``_empty`` for the empty profile)."""
    n = max(1, len(answers))
    generated = [float(a["ttft_ms"]) for a in answers if a["source"] == "generated"]
    return {f"ask_memory_ttft_p50_ms{suffix}": rounded(
                percentile([float(a["ttft_ms"]) for a in answers], 50)),
            f"ask_memory_prompt_tokens_mean{suffix}": rounded(
                sum(a["prompt_tokens"] for a in answers) / n),
            f"ask_memory_cached_tokens_mean{suffix}": rounded(
                sum(a["cached_prefix_tokens"] for a in answers) / n),
            # Memory mode answers some kinds of question by quoting the evidence (no
            # generation): how many were, and the first token of the generated ones alone.
            f"ask_memory_sources{suffix}": dict(Counter(str(a["source"]) for a in answers)),
            f"ask_memory_generated_ttft_p50_ms{suffix}": rounded(percentile(generated, 50))
            if generated else None}


def _model_parts(options: ScaleOptions, profile: Path, empty: Path, questions: list[str],
                 since: datetime, report: Report) -> dict[str, Any]:
    report(f"Sleeping {options.sleep_budget_s:.0f} s on the imported profile")
    run = run_cli(profile, "sleep", "--budget-seconds", str(options.sleep_budget_s), "--json")
    slept = json.loads(run.stdout)
    tokens = int(slept["prompt_tokens"]) + int(slept["completion_tokens"])
    seconds = max(float(slept["seconds"]), 1e-9)
    per_item = seconds / slept["items_done"] if slept["items_done"] else seconds
    app = Reverie.open(profile)
    try:
        done = items_done(app.db)
        digests = [i for i in done if i.kind in DIGEST_KINDS]
        done_newest = newest_flags(app.db, digests, since)
        # What a first 10-minute session gets through, at the speed just measured here.
        first = plan_backlog(app.db).schedule(options.session_budget_s, tokens / seconds)
        newest = newest_flags(app.db, first, since)
    finally:
        app.close()
    asked = questions[: options.ask_questions]
    report(f"Asking {len(asked)} questions in memory mode, of the imported and the empty "
           "profile in turn")
    _make_profile(empty, options.model)
    full, bare = ask_side_by_side((profile, empty), asked)
    return {
        "sleep_tokens_per_s": rounded(tokens / seconds),
        "first_session_items": len(first),
        "first_session_newest_share": rounded(sum(newest) / len(first), 3) if first else 0.0,
        **_asked_parts(full), **_asked_parts(bare, "_empty"),
        "sleep_session": {"seconds": rounded(seconds), "items_done": slept["items_done"],
                          "seconds_per_item": rounded(per_item, 2), "tokens": tokens,
                          "items_newest_share": (rounded(sum(done_newest) / len(digests), 3)
                                                 if digests else None),
                          "items": [f"{i.kind} {i.target}" for i in done][:20],
                          **{k: v for k, v in slept.items() if k.startswith("backlog")}},
    }


def items_done(db: Database) -> list[WorkItem]:
    """The items the last sleep session finished, in order (from its journal)."""
    from assistant.mind.journal import ITEM_DONE, Journal

    journal = Journal(db)
    sessions = journal.sessions(limit=1)
    if not sessions or sessions[0].id is None:
        return []
    entries = reversed(journal.entries(sessions[0].id, limit=10_000))
    return [WorkItem(kind=str(e.details["kind"]), target=str(e.details["target"]))
            for e in entries if e.kind == ITEM_DONE and "kind" in e.details]
