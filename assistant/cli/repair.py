"""``reverie repair``, and ``reverie doctor`` when the database does not even open: both
work on the profile's files without opening it as a Reverie would."""

from __future__ import annotations

import argparse
import sys

from assistant.cli.errors import EXIT_FAILURE, EXIT_OK
from assistant.cli.output import print_json
from assistant.paths import Paths


def cmd_repair(paths: Paths, args: argparse.Namespace) -> int:
    """Salvage the database while holding the thinking lock (nothing writes meanwhile)."""
    from assistant.profile_lock import ProfileLock
    from assistant.store.repair import repair_database

    with ProfileLock(paths.thinking_lock_file):
        report = repair_database(paths.database_file)
    if args.json:
        print_json({"database": str(report.database), "damaged_copy": str(report.damaged_copy),
                    "copied": report.copied, "unreadable_stretches": report.unreadable_stretches})
    else:
        print(report.sentence())
    return EXIT_OK


def doctor_without_database(paths: Paths, args: argparse.Namespace, problem: BaseException
                            ) -> int:
    """The doctor's answer when the database cannot be opened: it names that check."""
    report = {"ok": False, "paths": {"data": str(paths.data_dir),
                                     "database": str(paths.database_file)},
              "database": {"ok": False, "error": str(problem)}}
    if getattr(args, "json", False):
        print_json(report)
    else:
        print(f"database: FAILED: {problem}")
    print(f"reverie: the database check failed: {problem}", file=sys.stderr)
    return EXIT_FAILURE
