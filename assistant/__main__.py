"""``python -m assistant`` is the ``reverie`` command."""

import sys

from assistant.cli import main

sys.exit(main())
