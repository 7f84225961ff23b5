"""The person's commands: ask, memory, note, import, export, doctor, anticipations,
model and sleep. Each parses nothing and decides nothing: it calls the services of
:class:`assistant.app.Reverie` and prints what they return."""

from __future__ import annotations

import argparse
import json
import sys
import threading
from typing import TYPE_CHECKING, Any

from assistant.cli.errors import EXIT_FAILURE, EXIT_OK, UsageError
from assistant.cli.output import print_json, start_engine

if TYPE_CHECKING:
    from assistant.app import Reverie

CLI_CONVERSATION_KEY = "reverie:command-line"


def cmd_ask(app: Reverie, args: argparse.Namespace) -> int:
    question = args.question.strip()
    if not question:
        raise UsageError("The question is empty; type a question in quotes.")
    engine = start_engine(app)
    conv = app.chats.by_import_key(CLI_CONVERSATION_KEY) or app.chats.create_conversation(
        "Asked from the command line", import_key=CLI_CONVERSATION_KEY)
    if args.json:
        answer = app.responder(engine).ask(question, conv.id or 0, mode=args.mode,
                                           use_prepared=not args.no_anticipated)
        print_json(answer.to_json())
    else:
        answer = app.responder(engine).ask(
            question, conv.id or 0, on_token=lambda t: print(t, end="", flush=True),
            mode=args.mode, use_prepared=not args.no_anticipated)
        print()
        if answer.source == "anticipated":
            print("(prepared while you were away; ask again with --no-anticipated to "
                  "think again)", file=sys.stderr)
    return EXIT_OK


def _memory_json(m: Any) -> dict[str, Any]:
    return {"id": m.id, "kind": m.kind, "scope": m.scope, "subject": m.subject, "text": m.text,
            "confidence": m.confidence, "pinned": m.pinned, "edited": m.edited,
            "superseded_by": m.superseded_by, "sources": m.sources,
            "created_at": m.created_at, "updated_at": m.updated_at}


def cmd_memory(app: Reverie, args: argparse.Namespace) -> int:
    repo = app.memories
    if args.memory_command == "list":
        rows = repo.list(kind=args.kind, include_superseded=args.all)
        if args.json:
            print_json([_memory_json(m) for m in rows])
        else:
            for m in rows:
                flags = "".join(f for f, on in (("*", m.pinned), ("e", m.edited),
                                                ("~", m.superseded_by is not None)) if on)
                text = " ".join(m.text.split())
                print(f"{m.id:>5} {m.kind:<8} {flags:<3} {m.subject[:20]:<20} {text[:90]}")
            if not rows:
                print("No memories yet; they are made while you are away (or: reverie sleep).")
        return EXIT_OK
    memory = repo.get(args.id)
    if memory is None:
        raise UsageError(f"There is no memory {args.id}; see `reverie memory list`.")
    if args.memory_command == "forget":
        repo.forget(args.id)
        print(f"Forgot memory {args.id}.")
        return EXIT_OK
    sources = repo.sources(args.id)
    history = repo.history(args.id)[1:]
    if args.json:
        data = _memory_json(memory)
        data["source_texts"] = {
            "messages": [{"id": m.id, "content": m.content} for m in sources.messages],
            "notes": [{"id": n.id, "title": n.title} for n in sources.notes],
            "memories": [{"id": x.id, "text": x.text} for x in sources.memories]}
        data["history"] = [_memory_json(h) for h in history]
        print_json(data)
        return EXIT_OK
    print(f"Memory {memory.id} ({memory.kind}, {memory.scope}), about {memory.subject!r}:")
    print(f"  {memory.text}")
    print(f"  confidence {memory.confidence:.2f}" + (", pinned" if memory.pinned else "")
          + (", edited by you" if memory.edited else "")
          + (f", replaced by {memory.superseded_by}" if memory.superseded_by else ""))
    for msg in sources.messages:
        print(f"  from message {msg.id}: {' '.join(msg.content.split())[:100]}")
    for n in sources.notes:
        print(f"  from note {n.id}: {n.title}")
    for x in sources.memories:
        print(f"  from memory {x.id}: {' '.join(x.text.split())[:100]}")
    for h in history:
        print(f"  earlier (memory {h.id}): {' '.join(h.text.split())[:100]}")
    return EXIT_OK


def cmd_note(app: Reverie, args: argparse.Namespace) -> int:
    if (args.text is None) == (args.file is None):
        raise UsageError("Give the note text or --file PATH (one of them).")
    if args.file is not None:
        try:
            body = args.file.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise UsageError(f"{args.file} does not exist; check the path.") from None
        except IsADirectoryError:
            raise UsageError(f"{args.file} is a folder; give a text file, or use "
                             "`reverie import notes FOLDER`.") from None
        except UnicodeDecodeError:
            raise UsageError(f"{args.file} is not a UTF-8 text file.") from None
        from assistant.store.importers import note_title

        title = args.title or note_title(args.file, body)
    else:
        from assistant.store.chats import title_from

        body = args.text
        title = args.title or title_from(body)
    if not body.strip():
        raise UsageError("The note is empty; give some text.")
    note = app.notes.add(title, body)
    print(f"Added note {note.id}: {note.title}")
    return EXIT_OK


def cmd_import(app: Reverie, args: argparse.Namespace) -> int:
    from assistant.store.importers import import_chats, import_notes

    if args.import_command == "chats":
        report = import_chats(args.file, app.chats)
    else:
        report = import_notes(args.dir, app.notes)
    for problem in report.problems:
        print(f"skipped {problem}", file=sys.stderr)
    if args.json:
        print_json(report.__dict__)
    else:
        print(report.summary())
    return EXIT_OK


def cmd_export(app: Reverie, args: argparse.Namespace) -> int:
    from assistant.store.export import export_all

    report = export_all(app.db, args.out)
    print(f"Exported {report.conversations} conversations, {report.messages} messages, "
          f"{report.notes} notes and {report.memories} memories to {report.folder}")
    return EXIT_OK


def cmd_doctor(app: Reverie, args: argparse.Namespace) -> int:
    from assistant.doctor import run_checks

    report = run_checks(app, load_model=not args.no_model)
    if args.json:
        print_json(report)
    else:
        for key, value in report.items():
            shown = json.dumps(value, default=str) if isinstance(value, dict | list) else value
            print(f"{key}: {shown}")
    return EXIT_OK if report["ok"] else EXIT_FAILURE


def cmd_anticipations(app: Reverie, args: argparse.Namespace) -> int:
    from assistant.store.anticipations import list_anticipations

    rows = list_anticipations(app.db, include_inactive=args.all)
    if args.json:
        print_json([row.model_dump(exclude={"vector"}) for row in rows])
        return EXIT_OK
    if not rows:
        print("No prepared answers yet; they are made while you are away "
              "(or now with `reverie sleep`).")
    for row in rows:
        print(f"[{row.id}] {row.status:<9} {row.kind:<8} p={row.predictability:.2f}  "
              f"{row.question}\n      -> {row.answer}")
    return EXIT_OK


def cmd_sleep(app: Reverie, args: argparse.Namespace) -> int:
    budget = args.budget_seconds
    if budget is not None and not budget > 0:
        raise UsageError("--budget-seconds must be a positive number of seconds.")
    from assistant.mind.runner import SessionReport

    runner = app.sleep_runner(start_engine(app))
    reports: list[SessionReport] = []
    worker = threading.Thread(target=lambda: reports.append(runner.run_session(budget)),
                              name="reverie-thinking", daemon=True)
    worker.start()
    try:
        while worker.is_alive():
            worker.join(0.2)
    except KeyboardInterrupt:
        runner.request_stop("user_returned")
        worker.join()
    if not reports:
        raise RuntimeError("The thinking session could not run; details are in the log.")
    report = reports[0]
    if args.json:
        print_json(report.to_json())
    else:
        entries = app.journal.entries(report.session_id) if report.session_id else []
        for entry in reversed(entries):
            if entry.kind != "session":
                print(f"- {entry.summary}")
        print(report.sentence())
    if report.error:
        print(f"reverie: {report.error}", file=sys.stderr)
    return EXIT_FAILURE if report.stopped_because == "error" else EXIT_OK
