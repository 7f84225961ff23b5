"""Exit codes and the one-sentence error contract of the command line
(docs/ARCHITECTURE.md, "Command line")."""

from __future__ import annotations

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
#: Stopped by Ctrl-C (128 + SIGINT, as a shell reports it).
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """Bad input from the person: exit code 2."""
