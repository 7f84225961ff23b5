# mypy: disable-error-code="call-arg,operator"
# (PySide6's stubs do not type ClassInfo({...}) used as a class decorator.)
"""Stand-ins for GNOME Mutter, the freedesktop ScreenSaver and logind, served with QtDBus.

Run as a script on private session and system buses (see test_idle_dbus_real.py):
`python fake_desktop_bus.py IDLE_MS locked|unlocked`. It prints "ready" once every
name is owned, then serves until killed.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import ClassInfo, Property, QCoreApplication, QObject, Slot
from PySide6.QtDBus import QDBusConnection, QDBusObjectPath

IDLE_MS = int(sys.argv[1])
LOCKED = sys.argv[2] == "locked"
SESSION_PATH = "/org/freedesktop/login1/session/_31"


@ClassInfo({"D-Bus Interface": "org.gnome.Mutter.IdleMonitor"})
class Mutter(QObject):
    @Slot(result="qulonglong")
    def GetIdletime(self) -> int:
        return IDLE_MS


@ClassInfo({"D-Bus Interface": "org.freedesktop.ScreenSaver"})
class ScreenSaver(QObject):
    @Slot(result="uint")
    def GetSessionIdleTime(self) -> int:
        return IDLE_MS // 1000  # seconds, as the freedesktop spec says


@ClassInfo({"D-Bus Interface": "org.freedesktop.login1.Manager"})
class Manager(QObject):
    @Slot(str, result=QDBusObjectPath)
    def GetSession(self, session_id: str) -> QDBusObjectPath:
        return QDBusObjectPath(SESSION_PATH)


@ClassInfo({"D-Bus Interface": "org.freedesktop.login1.Session"})
class Session(QObject):
    def _locked(self) -> bool:
        return LOCKED

    LockedHint = Property(bool, _locked)


def main() -> int:
    app = QCoreApplication(sys.argv)
    session, system = QDBusConnection.sessionBus(), QDBusConnection.systemBus()
    export = (
        QDBusConnection.RegisterOption.ExportAllSlots
        | QDBusConnection.RegisterOption.ExportAllProperties
    )
    objects = [Mutter(), ScreenSaver(), Manager(), Session()]
    ok = [
        session.registerObject("/org/gnome/Mutter/IdleMonitor/Core", objects[0], export),
        session.registerService("org.gnome.Mutter.IdleMonitor"),
        session.registerObject("/org/freedesktop/ScreenSaver", objects[1], export),
        session.registerService("org.freedesktop.ScreenSaver"),
        system.registerObject("/org/freedesktop/login1", objects[2], export),
        system.registerObject(SESSION_PATH, objects[3], export),
        system.registerService("org.freedesktop.login1"),
    ]
    if not all(ok):
        print(f"failed to register: {ok}", flush=True)
        return 1
    print("ready", flush=True)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
