"""One thinker per profile: an operating-system lock on a small file in the profile.

The lock belongs to the open file, so it disappears with the process that held it, even
after ``kill -9`` or a power cut: there is no stale lock to clean up, and whoever holds
it knows that any work item still marked running was left by a process that is gone.
The holder writes its PID into the file, so a second process can say who is thinking.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import IO, Any

from assistant.paths import open_private

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(handle: IO[Any]) -> bool:
        handle.seek(0)
        try:
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

    def _unlock(handle: IO[Any]) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
else:
    import fcntl

    def _try_lock(handle: IO[Any]) -> bool:
        # flock, not lockf: it conflicts between two opens in the same process too.
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def _unlock(handle: IO[Any]) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


class SessionBusyError(RuntimeError):
    """A thinking session is already running on this runner (or, with a profile lock, in
    another process on the same profile)."""


class ProfileBusyError(SessionBusyError):
    """Another process holds the lock; ``pid`` is its process id when it could be read."""

    def __init__(self, pid: int | None) -> None:
        who = f"another Reverie process (PID {pid})" if pid else "another Reverie process"
        super().__init__(f"{who[0].upper()}{who[1:]} is already thinking on this profile; "
                         "wait for it to finish or stop it, then try again.")
        self.pid = pid


class ProfileLock:
    """A non-blocking, process-wide exclusive lock on ``path`` (created owner-only)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[Any] | None = None
        self._guard = threading.Lock()

    @property
    def held(self) -> bool:
        return self._handle is not None

    def acquire(self) -> None:
        """Take the lock now or raise :class:`ProfileBusyError`; never waits."""
        with self._guard:
            if self._handle is not None:
                raise ProfileBusyError(os.getpid())
            handle = open_private(self.path, "r+b")
            if not _try_lock(handle):
                handle.close()
                raise ProfileBusyError(holder_pid(self.path))
            handle.seek(0)
            handle.truncate()
            handle.write(f"{os.getpid()}\n".encode())
            handle.flush()
            self._handle = handle

    def try_acquire(self) -> bool:
        """Take the lock if it is free; False when another process holds it."""
        try:
            self.acquire()
        except ProfileBusyError:
            return False
        return True

    def release(self) -> None:
        with self._guard:
            handle, self._handle = self._handle, None
            if handle is None:
                return
            try:
                _unlock(handle)
            finally:
                handle.close()

    def __enter__(self) -> ProfileLock:
        self.acquire()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.release()


def holder_pid(path: Path) -> int | None:
    """The PID written by the process that holds (or last held) the lock at ``path``."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None
