"""One Reverie per profile: the second start raises the first; a stale socket is reclaimed."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QDir
from pytestqt.qtbot import QtBot

from assistant.gui.single_instance import SingleInstance, notify_running, server_name


@pytest.fixture
def name(tmp_path: Path) -> str:
    return server_name(tmp_path / "profile")


def test_names_are_per_profile(tmp_path: Path) -> None:
    first, second = server_name(tmp_path / "a"), server_name(tmp_path / "b")
    assert first != second and first.startswith("reverie-") and len(first) < 40
    assert server_name(tmp_path / "a") == first


def test_the_second_instance_raises_the_first(qtbot: QtBot, qapp, name: str) -> None:
    first = SingleInstance(name)
    assert first.listen()
    try:
        second = SingleInstance(name)
        assert not second.listen()  # a live instance owns the name
        with qtbot.waitSignal(first.activated, timeout=3000) as signal:
            assert notify_running(name, "show")
        assert signal.args == ["show"]
    finally:
        first.close()


def test_nobody_answers_when_nothing_runs(qapp, name: str) -> None:
    assert not notify_running(name, "show", timeout_ms=200)


@pytest.mark.skipif(sys.platform == "win32", reason="named pipes leave no stale file")
def test_a_stale_socket_is_removed(qapp, name: str) -> None:
    path = os.path.join(QDir.tempPath(), name)
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(path)  # a crashed instance's socket file: nobody accepts on it
    dead.close()
    try:
        assert os.path.exists(path)
        instance = SingleInstance(name)
        assert instance.listen()
        instance.close()
    finally:
        if os.path.exists(path):
            os.unlink(path)
