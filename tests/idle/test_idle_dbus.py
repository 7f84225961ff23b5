"""D-Bus backends and the logind lock reader with a fake bus: reply parsing and units."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from assistant.idle.backends.base import BackendUnavailable, IdleQueryError
from assistant.idle.backends.dbus import (
    LOGIN1_AUTO_SESSION,
    Bus,
    DBusCallError,
    LogindLockReader,
    MutterIdleBackend,
    ScreenSaverIdleBackend,
    _unwrap_qt,
    parse_idle_reply,
    screensaver_reports_ms,
)

Key = tuple[str, str, str, str, str]


class FakeBus:
    """Answers D-Bus calls from a table; an Exception value is raised instead of replied."""

    def __init__(self, replies: dict[Key, list[object] | Exception]) -> None:
        self.replies = replies
        self.calls: list[tuple[Key, list[object]]] = []

    def __call__(
        self,
        bus: Bus,
        service: str,
        path: str,
        interface: str,
        method: str,
        args: Sequence[object] = (),
    ) -> list[object]:
        key = (bus, service, path, interface, method)
        self.calls.append((key, list(args)))
        reply = self.replies.get(
            key, DBusCallError(f"org.freedesktop.DBus.Error.UnknownMethod {key}")
        )
        if isinstance(reply, Exception):
            raise reply
        return reply


MUTTER: Key = (
    "session",
    "org.gnome.Mutter.IdleMonitor",
    "/org/gnome/Mutter/IdleMonitor/Core",
    "org.gnome.Mutter.IdleMonitor",
    "GetIdletime",
)
SCREENSAVER: Key = (
    "session",
    "org.freedesktop.ScreenSaver",
    "/org/freedesktop/ScreenSaver",
    "org.freedesktop.ScreenSaver",
    "GetSessionIdleTime",
)
MANAGER = (
    "system",
    "org.freedesktop.login1",
    "/org/freedesktop/login1",
    "org.freedesktop.login1.Manager",
)
SESSION_PATH = "/org/freedesktop/login1/session/_33"


def properties_get(path: str) -> Key:
    return ("system", "org.freedesktop.login1", path, "org.freedesktop.DBus.Properties", "Get")


def test_mutter_reply_is_milliseconds() -> None:
    bus = FakeBus({MUTTER: [12345]})
    backend = MutterIdleBackend(bus)
    assert backend.idle_seconds() == pytest.approx(12.345)
    assert bus.calls[-1] == (MUTTER, [])
    assert backend.system_wide and backend.is_locked() is None


def test_mutter_missing_service_is_unavailable_with_the_bus_error() -> None:
    bus = FakeBus({MUTTER: DBusCallError("org.freedesktop.DBus.Error.ServiceUnknown: no owner")})
    with pytest.raises(BackendUnavailable) as info:
        MutterIdleBackend(bus)
    assert info.value.backend == "gnome-mutter-idlemonitor"
    assert "ServiceUnknown" in info.value.reason


@pytest.mark.parametrize("reply", [[], ["12"], [True], [1, 2], [-5], [1.5]])
def test_malformed_replies_are_refused(reply: list[object]) -> None:
    with pytest.raises(BackendUnavailable):
        MutterIdleBackend(FakeBus({MUTTER: reply}))
    with pytest.raises(IdleQueryError):
        parse_idle_reply(reply, unit_ms=True, what="x")


def test_later_failure_is_a_query_error() -> None:
    bus = FakeBus({MUTTER: [5]})
    backend = MutterIdleBackend(bus)
    bus.replies[MUTTER] = DBusCallError("org.freedesktop.DBus.Error.NoReply: timeout")
    with pytest.raises(IdleQueryError, match="NoReply"):
        backend.idle_seconds()


@pytest.mark.parametrize(
    ("desktop", "expected_ms"),
    [("KDE", True), ("ubuntu:GNOME", False), ("X-Cinnamon", False), ("", False), ("kde", True)],
)
def test_screensaver_unit_follows_the_desktop(desktop: str, expected_ms: bool) -> None:
    assert screensaver_reports_ms({"XDG_CURRENT_DESKTOP": desktop}) is expected_ms
    backend = ScreenSaverIdleBackend(
        FakeBus({SCREENSAVER: [90]}), env={"XDG_CURRENT_DESKTOP": desktop}
    )
    assert backend.idle_seconds() == pytest.approx(0.09 if expected_ms else 90.0)


def test_screensaver_unit_can_be_forced() -> None:
    bus = FakeBus({SCREENSAVER: [4000]})
    assert ScreenSaverIdleBackend(bus, unit_ms=True).idle_seconds() == 4.0
    assert ScreenSaverIdleBackend(bus, unit_ms=False).idle_seconds() == 4000.0


def test_backends_delegate_lock_to_the_reader() -> None:
    bus = FakeBus({MUTTER: [1], SCREENSAVER: [1]})
    assert MutterIdleBackend(bus, lock_reader=lambda: True).is_locked() is True
    assert ScreenSaverIdleBackend(bus, lock_reader=lambda: False).is_locked() is False


def test_logind_lock_from_xdg_session_id() -> None:
    bus = FakeBus(
        {
            (*MANAGER, "GetSession"): [SESSION_PATH],
            properties_get(SESSION_PATH): [True],
        }
    )
    reader = LogindLockReader(bus, env={"XDG_SESSION_ID": "3"})
    assert reader() is True
    bus.replies[properties_get(SESSION_PATH)] = [False]
    assert reader() is False
    assert [call for call in bus.calls if call[0][-1] == "GetSession"] == [
        ((*MANAGER, "GetSession"), ["3"])
    ]  # the session path is looked up once
    assert bus.calls[-1] == (
        properties_get(SESSION_PATH),
        ["org.freedesktop.login1.Session", "LockedHint"],
    )


def test_logind_without_session_id_or_when_lookup_fails_uses_auto() -> None:
    auto = properties_get(LOGIN1_AUTO_SESSION)
    bus = FakeBus({auto: [False]})
    assert LogindLockReader(bus, env={})() is False
    assert [call[0][-1] for call in bus.calls] == ["Get"]

    failing_lookup = FakeBus({auto: [True]})
    assert LogindLockReader(failing_lookup, env={"XDG_SESSION_ID": "c2"})() is True
    assert [call[0][-1] for call in failing_lookup.calls] == ["GetSession", "Get"]

    odd_lookup = FakeBus({(*MANAGER, "GetSession"): ["not-a-path"], auto: [True]})
    assert LogindLockReader(odd_lookup, env={"XDG_SESSION_ID": "4"})() is True


def test_logind_unreachable_is_unknown_and_not_asked_again() -> None:
    bus = FakeBus({})
    reader = LogindLockReader(bus, env={})
    assert reader() is None
    assert reader.unavailable_reason is not None
    assert "LockedHint" in reader.unavailable_reason
    calls = len(bus.calls)
    assert reader() is None
    assert len(bus.calls) == calls


def test_logind_odd_reply_is_unknown() -> None:
    bus = FakeBus({properties_get(LOGIN1_AUTO_SESSION): ["yes"]})
    assert LogindLockReader(bus, env={})() is None


def test_unwrap_qt_values() -> None:
    class QDBusObjectPath:
        def path(self) -> str:
            return "/a/b"

    class QDBusVariant:
        def __init__(self, value: object) -> None:
            self.value = value

        def variant(self) -> object:
            return self.value

    assert _unwrap_qt(QDBusVariant(True)) is True
    assert _unwrap_qt(QDBusVariant(QDBusObjectPath())) == "/a/b"
    assert _unwrap_qt(7) == 7
