"""Fixtures for the idle tests: a private Xvfb server per test that asks for one."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from typing import IO

import pytest

XVFB_START_TIMEOUT = 15.0


def _read_display_number(fd: int, deadline: float) -> str:
    """Read the display number Xvfb writes to -displayfd (a line like '7\\n')."""
    data = b""
    while not data.endswith(b"\n"):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("Xvfb did not report its display number in time")
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            continue
        chunk = os.read(fd, 64)
        if not chunk:
            raise RuntimeError("Xvfb exited before reporting its display number")
        data += chunk
    return ":" + data.decode().strip()


@pytest.fixture
def xvfb_display(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Start `Xvfb -displayfd` on a free display, set DISPLAY for this test, kill it after."""
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.skip("the X11 idle tests need Xvfb: apt-get install xvfb xdotool libxss1 "
                    "(README, Tests)")
    with tempfile.TemporaryFile() as errors:
        yield from _run_xvfb(xvfb, errors, monkeypatch)


def _run_xvfb(xvfb: str, errors: IO[bytes], monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        [xvfb, "-displayfd", str(write_fd), "-screen", "0", "1024x768x24", "-nolisten", "tcp",
         "-noreset"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=errors,
    )
    os.close(write_fd)
    try:
        try:
            display = _read_display_number(read_fd, time.monotonic() + XVFB_START_TIMEOUT)
        except (TimeoutError, RuntimeError) as exc:
            proc.kill()
            proc.wait(timeout=5)
            errors.seek(0)
            log = errors.read().decode(errors="replace")[-2000:]
            pytest.fail(f"{exc}; Xvfb said: {log}")
        monkeypatch.setenv("DISPLAY", display)
        yield display
    finally:
        os.close(read_fd)
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


@pytest.fixture
def xdotool() -> str:
    """Path of xdotool; the real-X11 tests need it to generate input (CI installs it)."""
    path = shutil.which("xdotool")
    if path is None:
        pytest.skip("the real-X11 input tests need xdotool: apt-get install xdotool "
                    "(README, Tests)")
    return path


def _start_bus(daemon: str, errors: IO[bytes]) -> tuple[subprocess.Popen[bytes], str]:
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        [daemon, "--session", "--nofork", "--nopidfile", f"--print-address={write_fd}"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=errors,
    )
    os.close(write_fd)
    try:
        data = b""
        deadline = time.monotonic() + 10
        while not data.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            ready, _, _ = select.select([read_fd], [], [], max(0.0, remaining))
            if not ready:
                proc.kill()
                raise TimeoutError("dbus-daemon did not print its address in time")
            chunk = os.read(read_fd, 256)
            if not chunk:
                raise RuntimeError("dbus-daemon exited before printing its address")
            data += chunk
    finally:
        os.close(read_fd)
    return proc, data.decode().strip()


@pytest.fixture
def private_buses() -> Iterator[dict[str, str]]:
    """Two private dbus-daemons; returns env entries pointing the session and system bus at them."""
    daemon = shutil.which("dbus-daemon")
    if daemon is None:
        pytest.skip("the D-Bus idle tests need dbus-daemon: apt-get install dbus-daemon "
                    "(README, Tests)")
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryFile() as errors:
        try:
            session_proc, session = _start_bus(daemon, errors)
            procs.append(session_proc)
            system_proc, system = _start_bus(daemon, errors)
            procs.append(system_proc)
            yield {"DBUS_SESSION_BUS_ADDRESS": session, "DBUS_SYSTEM_BUS_ADDRESS": system}
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)
