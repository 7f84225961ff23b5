"""Whether this session has a screen a Qt window can open on.

Kept below every other layer and free of imports beyond the standard library, so both
the window's start-up (before anything heavy is loaded) and the doctor ask the same
question the same way.
"""

from __future__ import annotations

import os
import sys


def has_display() -> bool:
    """Whether a Qt window could be shown here (Qt aborts the process otherwise)."""
    if sys.platform.startswith("linux"):
        if os.environ.get("QT_QPA_PLATFORM", "").startswith(("offscreen", "minimal")):
            return True
        return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    return True
