"""One Reverie per profile: a second start raises the running window and exits; and
the running one serves the terminal's commands (`TerminalCommands`).

The first instance listens on a QLocalServer named after the profile (a hash of its
data folder, so two profiles can run side by side). A later start connects and sends
one command line ("show\\n" or "tray\\n"); the first instance raises its window. A socket
file left by a crashed instance accepts no connection: it is removed and listening is
tried again (as qutebrowser's ``misc/ipc.py`` does).
"""

from __future__ import annotations

import getpass
import hashlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtNetwork import QAbstractSocket, QLocalServer, QLocalSocket

from assistant.gui.qt_compat import emit
from assistant.ipc.address import AddressError, socket_path
from assistant.ipc.server import Channel, CommandServer

if TYPE_CHECKING:
    from assistant.app import Reverie

log = logging.getLogger("assistant.gui")

CONNECT_TIMEOUT_MS = 1000
SHOW, TRAY = "show", "tray"


def server_name(data_dir: Path) -> str:
    """A short, per-user, per-profile socket name."""
    try:
        user = getpass.getuser()
    except Exception:  # no user name (some containers)
        user = "user"
    digest = hashlib.sha256(f"{user}\0{data_dir.resolve()}".encode()).hexdigest()[:16]
    return f"reverie-{digest}"


def notify_running(name: str, command: str = SHOW,
                   timeout_ms: int = CONNECT_TIMEOUT_MS) -> bool:
    """Tell a running instance ``command``; False when none answers on ``name``."""
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(timeout_ms):
        return False
    socket.write(f"{command}\n".encode())
    socket.flush()
    socket.waitForBytesWritten(timeout_ms)
    socket.disconnectFromServer()
    if socket.state() != QLocalSocket.LocalSocketState.UnconnectedState:
        socket.waitForDisconnected(timeout_ms)
    return True


class SingleInstance(QObject):
    """The listening side; ``activated(command)`` arrives on the GUI thread."""

    activated = Signal(str)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.server = QLocalServer(self)
        # No socket options: with them Qt creates the socket elsewhere and renames it
        # into place, which silently replaces a live instance's socket instead of
        # failing with AddressInUseError.
        self._sockets: list[QLocalSocket] = []
        self.server.newConnection.connect(self._on_connection)

    def listen(self) -> bool:
        """Start listening; a stale socket file is removed and listening retried once."""
        if self.server.listen(self.name):
            return True
        if self.server.serverError() == QAbstractSocket.SocketError.AddressInUseError:
            if notify_running(self.name, "ping"):
                return False  # a live instance owns the name
            log.info("removing the stale single-instance socket %s", self.name)
            QLocalServer.removeServer(self.name)
            if self.server.listen(self.name):
                return True
        log.warning("single-instance server did not start: %s", self.server.errorString())
        return False

    def close(self) -> None:
        for socket in list(self._sockets):
            socket.abort()
        self._sockets.clear()
        self.server.close()

    def _on_connection(self) -> None:
        while self.server.hasPendingConnections():
            socket = self.server.nextPendingConnection()
            if socket is None:
                return
            self._sockets.append(socket)
            socket.readyRead.connect(self._on_ready_read)
            socket.disconnected.connect(self._on_disconnected)
            self._read(socket)

    @Slot()
    def _on_ready_read(self) -> None:
        socket = self.sender()
        if isinstance(socket, QLocalSocket):
            self._read(socket)

    @Slot()
    def _on_disconnected(self) -> None:
        socket = self.sender()
        if isinstance(socket, QLocalSocket) and socket in self._sockets:
            self._read(socket)
            self._sockets.remove(socket)
            socket.deleteLater()

    def _read(self, socket: QLocalSocket) -> None:
        while socket.canReadLine():
            command = bytes(socket.readLine().data()).decode(errors="replace").strip()
            if command and command != "ping":
                log.info("another start asked this instance to %s", command)
                emit(self.activated, command)


class CommandHandler(Protocol):
    """Runs the commands sent from a terminal on the open profile (``cli.remote``)."""

    def __call__(self, request: dict[str, Any], channel: Channel) -> int: ...

    def attach(self, app: Reverie | None) -> None: ...

    def close(self) -> None: ...


class TerminalCommands(QObject):
    """The profile's command socket in this process (`assistant.ipc`): ``reverie ask``,
    ``note add``... typed in a terminal run here, on this window's model and database.
    ``finished(command)`` arrives on the GUI thread after each one, so the window shows
    what it changed."""

    finished = Signal(str)

    def __init__(self, data_dir: Path, handler: CommandHandler,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.handler = handler
        self._window: Any = None
        self.finished.connect(self._refresh)
        self.server: CommandServer | None = None
        import socket as sockets

        if not hasattr(sockets, "AF_UNIX"):  # Windows: every command runs on its own
            log.info("no local sockets here: commands from the terminal run on their own")
            return
        try:
            path = socket_path(data_dir, create=True)
        except AddressError as exc:
            log.warning("commands from the terminal run on their own: %s", exc)
            return
        if path is not None:
            self.server = CommandServer(path, handler, on_finished=self._finished)

    def start(self) -> bool:
        """Listen; False when another process serves the profile or listening failed."""
        if self.server is None:
            return False
        try:
            return self.server.start()
        except OSError as exc:
            log.warning("the command socket %s could not be opened: %s", self.server.path,
                        exc)
            self.server = None
            return False

    def attach(self, app: Reverie | None) -> None:
        self.handler.attach(app)

    def show_in(self, window: Any) -> None:
        """After each command, ``window`` (a MainWindow; None: no window) lists the
        conversations again: a question asked from the terminal appears in it. (A slot
        of this object, so it runs on the GUI thread, not on the server's.)"""
        self._window = window

    @Slot(str)
    def _refresh(self, _command: str) -> None:
        if self._window is not None:
            self._window.conversations.refresh_conversations()

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
        self.handler.close()

    def _finished(self, request: dict[str, Any], _code: int) -> None:
        emit(self.finished, str(request.get("cmd", "")))


#: Makes the handler (``cli.remote.RemoteCommands``; ``gui`` may not import ``cli``).
CommandHandlerFactory = Callable[[], CommandHandler]
