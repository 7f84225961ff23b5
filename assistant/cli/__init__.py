"""The ``reverie`` command line (docs/ARCHITECTURE.md, "Command line").

``parser`` declares the commands, ``commands``/``model``/``bench`` run them on the
services of :class:`assistant.app.Reverie`, ``main`` maps errors to exit codes. No
business logic lives here.
"""

from assistant.cli.errors import EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError
from assistant.cli.main import main
from assistant.cli.parser import build_parser

__all__ = ["EXIT_FAILURE", "EXIT_OK", "EXIT_USAGE", "UsageError", "build_parser", "main"]
