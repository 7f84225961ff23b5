"""The person's commands: ask, memory, note, import, export, doctor, anticipations,
model and sleep. Each parses nothing and decides nothing: it calls the services of
:class:`assistant.app.Reverie` and prints what they return."""

from __future__ import annotations

import argparse
import sys
import threading
from typing import TYPE_CHECKING, Any

from assistant.cli.errors import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, UsageError
from assistant.cli.output import (
    command_stdout,
    for_terminal,
    print_json,
    print_report,
    start_engine,
    unsafe_for_terminal,
)
from assistant.text.lines import is_blank

if TYPE_CHECKING:
    from assistant.app import Reverie
    from assistant.profile_lock import ProfileLock
    from assistant.recall.responder import Responder
    from assistant.store.models import Conversation
    from assistant.store.purge import Forgotten


def _ask_conversation(app: Reverie, question: str, continue_last: bool) -> Conversation:
    """A new conversation for this question, or (``--continue``) the last one started
    from the command line; on a read-only profile an unsaved one."""
    from assistant.recall.responder import command_line_key, is_command_line
    from assistant.store.models import Conversation
    from assistant.text.lines import clip, one_line

    if continue_last:
        started = [c for c in app.chats.list_conversations(include_archived=True)
                   if is_command_line(c)]
        if started:
            return max(started, key=lambda c: (c.created_at, c.id or 0))
        print("(no earlier question to continue: this one starts a new conversation)",
              file=sys.stderr)
    if app.db.read_only:
        return Conversation(id=0)
    return app.chats.create_conversation(f"Asked: {clip(one_line(question), 60)}",
                                         import_key=command_line_key())


def _prepared(app: Reverie, question: str, continue_last: bool) -> tuple[Any, bool]:
    """(The served prepared answer or None, whether prepared answers were looked up).

    Asked as prepared (`recall.quick`) or rephrased (matched by meaning with the
    embedder, which needs no model): served and recorded without loading the model. An
    embedder that is the model itself leaves the lookup to the responder."""
    import time

    from assistant.recall.quick import (
        QuickAnswer,
        QuickHit,
        open_ready,
        record_served,
        serve_exact,
    )

    started = time.perf_counter()
    served = serve_exact(app.db.path, question, continue_last=continue_last)
    if served is not None:
        return served, True
    if app.settings.memory.embedding_model not in ("", "wordllama", "none"):
        return None, False
    from assistant.recall.prepared import PreparedAnswers

    con = open_ready(app.db.path)
    if con is None:  # read-only or not migrated: the responder serves (and stores) it
        return None, False
    try:
        found = PreparedAnswers(app.db, embedder=app.embedder()).lookup(question)
        if found is None:
            return None, True
        hit = QuickHit(found.anticipation_id, found.question, found.answer, found.sources)
        conv, ids, started_new = record_served(con, question, hit,
                                               continue_last=continue_last)
    finally:
        con.close()
    return QuickAnswer(hit, conv, ids, (time.perf_counter() - started) * 1000,
                       started_new), True


def _preload_embedder(app: Reverie) -> None:
    from assistant.llm.embedding import WordLlamaEmbedder

    embedder = app.embedder()
    if isinstance(embedder, WordLlamaEmbedder):
        embedder.preload_in_background()


def cmd_ask(app: Reverie, args: argparse.Namespace) -> int:
    from assistant.store.files import is_storable

    question = args.question.strip()
    if not is_storable(question):
        raise UsageError("The question is not valid Unicode text (was it typed in another "
                         "encoding?); type it as UTF-8.")
    if is_blank(question):  # empty, or only invisible characters (zero-width, marks)
        raise UsageError("The question is empty; type a question in quotes.")
    should_stop = getattr(args, "should_stop", None)  # set for a command sent to the app
    lock = (_continue_lock(app, should_stop) if args.continue_last and not app.db.read_only
            else None)
    try:
        return _ask(app, args, question, should_stop)
    finally:
        if lock is not None:
            lock.release()


def _ask(app: Reverie, args: argparse.Namespace, question: str, should_stop: Any) -> int:
    """`cmd_ask` once the question is known to be good (and, continuing, the
    conversation is this command's alone until it returns)."""
    looked = False
    if args.mode == "auto" and not args.no_anticipated:
        served, looked = _prepared(app, question, args.continue_last)
        if served is not None:
            from assistant.cli.launch import show_prepared

            show_prepared(served.to_json(), as_json=args.json, started_new=served.started_new)
            return EXIT_OK
    if args.mode != "full-context":
        _preload_embedder(app)  # retrieval needs it: load it while the model loads
    engine = start_engine(app)
    responder = app.responder(engine)
    responder.check_fits(question)  # a question that cannot fit leaves nothing behind
    return _answer(app, args, responder, question, looked, should_stop)


#: How long `ask --continue` waits for another one answering in the same profile.
CONTINUE_WAIT_SECONDS = 600.0


def _continue_lock(app: Reverie, should_stop: Any) -> ProfileLock:
    """The profile's continue lock, once any other `ask --continue` has answered (turns
    of two at once would interleave: question, question, answer, answer)."""
    import time

    from assistant.profile_lock import ProfileLock

    lock = ProfileLock(app.paths.continue_lock_file)
    if lock.try_acquire():
        return lock
    print("(waiting for the other question continuing this conversation to be answered)",
          file=sys.stderr)
    deadline = time.monotonic() + CONTINUE_WAIT_SECONDS
    while not lock.try_acquire():
        if time.monotonic() >= deadline or (should_stop is not None and should_stop()):
            raise UsageError("Another `reverie ask --continue` is still answering; ask "
                             "again when it is done.")
        time.sleep(0.1)
    return lock


def _answer(app: Reverie, args: argparse.Namespace, responder: Responder, question: str,
            looked: bool, should_stop: Any) -> int:
    """Ask ``question`` (in the conversation it continues, or a new one) and show the
    answer as it comes."""
    conv = _ask_conversation(app, question, args.continue_last)
    use_prepared = not args.no_anticipated and not looked
    if args.json:
        answer = responder.ask(question, conv.id or 0, mode=args.mode,
                               use_prepared=use_prepared, should_stop=should_stop)
        print_json(answer.to_json())
    else:
        out = command_stdout()

        def show(piece: str) -> None:
            out.write(piece)
            out.flush()

        answer = responder.ask(question, conv.id or 0, on_token=show, mode=args.mode,
                               use_prepared=use_prepared, should_stop=should_stop)
        print()
        if answer.source == "anticipated":
            print("(prepared while you were away; ask again with --no-anticipated to "
                  "think again)", file=sys.stderr)
    if app.db.read_only:
        print(f"(the profile {app.paths.database_file} is read-only, so this question and "
              "its answer were not saved)", file=sys.stderr)
    if should_stop is not None and should_stop():
        print("Interrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
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
                text = " ".join(for_terminal(m.text).split())
                print(f"{m.id:>5} {m.kind:<8} {flags:<3} {for_terminal(m.subject)[:20]:<20} "
                      f"{text[:90]}")
            if not rows:
                print("No memories yet; they are made while you are away (or: reverie sleep).")
        return EXIT_OK
    memory = repo.get(args.id)
    if memory is None:
        raise UsageError(f"There is no memory {args.id}; see `reverie memory list`.")
    if args.memory_command == "forget":
        gone = app.forgetter().forget_memory(args.id)  # (memory exists: checked above)
        print(f"Forgot memory {args.id}" + _also(gone, len(gone.memories) - 1))
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
    print(f"Memory {memory.id} ({memory.kind}, {memory.scope}), about "
          f"{for_terminal(repr(memory.subject))}:")
    print(f"  {for_terminal(memory.text)}")
    print(f"  confidence {memory.confidence:.2f}" + (", pinned" if memory.pinned else "")
          + (", edited by you" if memory.edited else "")
          + (f", replaced by {memory.superseded_by}" if memory.superseded_by else ""))
    for msg in sources.messages:
        print(f"  from message {msg.id}: {' '.join(for_terminal(msg.content).split())[:100]}")
    for n in sources.notes:
        print(f"  from note {n.id}: {for_terminal(n.title)}")
    for x in sources.memories:
        print(f"  from memory {x.id}: {' '.join(for_terminal(x.text).split())[:100]}")
    for h in history:
        print(f"  earlier (memory {h.id}): {' '.join(for_terminal(h.text).split())[:100]}")
    return EXIT_OK


def _also(gone: Forgotten, memories: int) -> str:
    """The end of a 'deleted' sentence: what was derived from it and went too."""
    parts = [f"{n} {what}" for n, what in ((memories, "derived memories"),
                                           (len(gone.anticipations), "prepared answers"))
             if n]
    return f" and {' and '.join(parts)} made from it." if parts else "."


def cmd_note(app: Reverie, args: argparse.Namespace) -> int:
    from assistant.store.files import is_storable, read_text_file

    if args.note_command == "list":
        notes = app.notes.all()
        if args.json:
            print_json([{"id": n.id, "title": n.title, "source_path": n.source_path,
                         "created_at": n.created_at, "updated_at": n.updated_at,
                         "chars": len(n.body)} for n in notes])
        elif not notes:
            print("No notes yet; add one with `reverie note add TEXT`.")
        for n in notes if not args.json else []:
            print(f"{n.id:>5} {n.updated_at:%Y-%m-%d} {for_terminal(n.title)[:70]}")
        return EXIT_OK
    if args.note_command == "delete":
        try:
            gone = app.forgetter().delete_note(args.id)
        except KeyError:
            raise UsageError(f"There is no note {args.id}; see `reverie note list`.") from None
        print(f"Deleted note {args.id}" + _also(gone, len(gone.memories)))
        return EXIT_OK
    if (args.text is None) == (args.file is None):
        raise UsageError("Give the note text or --file PATH (one of them).")
    if args.file is not None:
        from assistant.store.importers import note_title

        body = read_text_file(args.file, advice="give a text file, or use "
                              "`reverie import notes FOLDER` for a folder")
        title = args.title or note_title(args.file, body)
    else:
        from assistant.store.chats import title_from

        body = args.text
        title = args.title or title_from(body)
    if not is_storable(body) or not is_storable(title):
        raise UsageError("The note is not valid Unicode text (was it typed in another "
                         "encoding?); give it as UTF-8.")
    if args.title is not None and any(unsafe_for_terminal(c) for c in args.title if c != "\t"):
        raise UsageError("The title has control characters (a line break or an escape "
                         "code); give it as one line of plain text.")
    if args.title is not None and is_blank(args.title):
        raise UsageError("The title is empty; give a title, or leave out --title.")
    if is_blank(body):
        raise UsageError("The note is empty (nothing visible in it); give some text.")
    note = app.notes.add(title, body)
    print(f"Added note {note.id}: {for_terminal(note.title)}")
    return EXIT_OK


def cmd_chats(app: Reverie, args: argparse.Namespace) -> int:
    if args.chats_command == "list":
        rows = app.chats.list_conversations(include_archived=True)
        if args.json:
            print_json([{"id": c.id, "title": c.title, "created_at": c.created_at,
                         "updated_at": c.updated_at, "archived": c.archived} for c in rows])
        elif not rows:
            print("No conversations yet; ask something with `reverie ask`.")
        for c in rows if not args.json else []:
            print(f"{c.id:>5} {c.updated_at:%Y-%m-%d} {for_terminal(c.title)[:70]}")
        return EXIT_OK
    try:
        gone = app.forgetter().delete_conversation(args.id)
    except KeyError:
        raise UsageError(f"There is no conversation {args.id}; see `reverie chats list`."
                         ) from None
    print(f"Deleted conversation {args.id} ({len(gone.messages)} messages)"
          + _also(gone, len(gone.memories)))
    return EXIT_OK


def cmd_import(app: Reverie, args: argparse.Namespace) -> int:
    from assistant.store.importers import import_chats, import_export_folder, import_notes

    if args.import_command == "chats":
        from assistant.cli.progress import ImportProgressLine

        line = ImportProgressLine(sys.stdout) if sys.stdout.isatty() else None
        try:
            report = import_chats(args.path, app.chats,
                                  progress=line.show if line is not None else None)
        except KeyboardInterrupt:
            if line is not None:
                line.clear()
            print("The conversations imported so far are kept; run the same command again "
                  "to import the rest (nothing is added twice).", file=sys.stderr)
            raise
        finally:
            if line is not None:
                line.clear()
    elif args.import_command == "notes":
        report = import_notes(args.path, app.notes)
    else:
        report = import_export_folder(args.path, app.db)
    for problem in report.problems:
        print(f"skipped {for_terminal(problem)}", file=sys.stderr)
    if args.json:
        print_json(report.to_json())
    else:
        print(report.summary())
    return EXIT_OK


def cmd_export(app: Reverie, args: argparse.Namespace) -> int:
    from assistant.store.export import ExportError, export_all
    from assistant.store.files import shown

    try:
        report = export_all(app.db, args.out, force=args.force)
    except ExportError as exc:
        raise UsageError(str(exc)) from None
    print(f"Exported {report.conversations} conversations, {report.messages} messages, "
          f"{report.notes} notes and {report.memories} memories to {shown(report.folder)}")
    return EXIT_OK


def cmd_doctor(app: Reverie, args: argparse.Namespace) -> int:
    from assistant.doctor import run_checks

    report = run_checks(app, load_model=not args.no_model)
    print_report(report, args.json)
    if not report["ok"]:
        failed = [name for name in ("database", "model")
                  if isinstance(report.get(name), dict) and report[name].get("error")]
        first = report[failed[0]]["error"] if failed else "A check failed; see the report."
        print(f"reverie: {first}", file=sys.stderr)
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
              f"{for_terminal(row.question)}\n      -> {for_terminal(row.answer)}")
    return EXIT_OK


def cmd_sleep(app: Reverie, args: argparse.Namespace) -> int:
    budget = args.budget_seconds
    if budget is not None and not 0 < budget <= 10**7:  # also refuses nan and inf
        raise UsageError("--budget-seconds must be a positive number of seconds, at most "
                         "10000000.")
    from assistant.mind.runner import SessionReport

    # Remote thinking (thinking.remote_url) does not load the local model at all.
    runner = app.sleep_runner(None if app.thinks_remotely else start_engine(app))
    reports: list[SessionReport] = []
    errors: list[Exception] = []

    finished = threading.Event()

    def think() -> None:
        try:
            reports.append(runner.run_session(budget))
        except Exception as exc:  # raised again below, on the command's thread
            errors.append(exc)
        finally:
            finished.set()

    worker = threading.Thread(target=think, name="reverie-thinking", daemon=True)
    worker.start()
    should_stop = getattr(args, "should_stop", None)  # Ctrl-C of a command sent to the app
    interrupted = False
    # Waited on as an event, not with Thread.join: a Ctrl-C that interrupts join() can
    # leave the thread marked finished while it still runs (CPython 3.11), and the
    # session's report was then lost ("could not run").
    try:
        while not finished.wait(0.2):
            if should_stop is not None and should_stop():
                interrupted = True
                runner.request_stop("user_returned")
    except KeyboardInterrupt:
        interrupted = True
        runner.request_stop("user_returned")
        finished.wait()
    if errors:
        raise errors[0]
    if not reports:
        raise RuntimeError("The thinking session could not run; details are in the log.")
    report = reports[0]
    if report.stopped_because != "error":
        report.backlog = runner.backlog()
    if args.json:
        print_json(report.to_json())
    else:
        entries = app.journal.entries(report.session_id) if report.session_id else []
        for entry in reversed(entries):
            if entry.kind != "session":
                print(f"- {for_terminal(entry.summary)}")
        print(report.sentence())
        if report.backlog is not None:
            print(report.backlog.sentence())
    if report.error:
        skipped = (" Thinking was skipped, not moved to this computer; start that server, or "
                   "think here with `reverie config set thinking.remote_url ''`."
                   if app.thinks_remotely and not app.thinking_engine().is_ready else "")
        print(f"reverie: {report.error}{skipped}", file=sys.stderr)
    if report.stopped_because == "error":
        return EXIT_FAILURE
    if interrupted:
        print("Interrupted; what was thought so far is kept.", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_OK
