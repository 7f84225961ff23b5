"""The ``reverie`` command line (docs/ARCHITECTURE.md, "Command line").

``parser`` declares the commands, ``launch`` (``main``'s first steps) hands them to a running
Reverie or serves a prepared answer before anything heavy is imported,
``commands``/``model``/``bench`` run them on the services of
:class:`assistant.app.Reverie`, ``main`` maps errors to exit codes, ``remote`` runs
the commands a running app receives. No business logic lives here.
"""

from assistant.cli.errors import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError
from assistant.cli.main import main
from assistant.cli.parser import build_parser

__all__ = ["EXIT_FAILURE", "EXIT_OK", "EXIT_USAGE", "UsageError", "build_parser", "main"]
