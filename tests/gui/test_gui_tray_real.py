"""The tray icon in a real system tray: trayer (an XEmbed tray host) on Xvfb.

Everything is observed from outside the app's process: the icon window is found
reparented into trayer's panel (xwininfo -tree), its state is read from the pixels of
a screenshot of the panel (the mark's colour: amber while prepared answers wait, grey
while paused, blue while thinking), and the menu is driven with xdotool (right-click
the docked icon, choose an item with the keyboard). Tray mode has no main window, so
the menu is the top-level window named "Reverie" that the right-click maps.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.gui.tray import MARK_COLOURS
from tests.gui.xvfb_session import (
    XvfbSession,
    app_icon_pixels,
    ask_in_window,
    count,
    file_pixels,
    missing_tray_tools,
    wait_exit,
    wait_until,
)

pytestmark = [
    pytest.mark.xvfb,
    pytest.mark.model,
    pytest.mark.skipif(bool(missing_tray_tools()),
                       reason="the real-tray test needs Xvfb, xdotool, ImageMagick, "
                       "x11-utils and trayer: apt-get install xvfb xdotool imagemagick "
                       "x11-utils trayer"),
]

PREPARED_QUESTION = "When is my dentist appointment?"
#: Enough pixels of a colour to be the mark in the corner of a 22-30 px icon.
MARK_PIXELS = 6


def icon_pixels(session: XvfbSession, panel: str) -> int:
    """Pixels of the app icon in trayer's panel."""
    return app_icon_pixels(session.pixels(panel))


def marks(session: XvfbSession, panel: str) -> set[str]:
    """Which state marks (MARK_COLOURS keys) are drawn in trayer's panel now."""
    shot = session.pixels(panel)
    return {mark for mark in ("thinking", "prepared", "paused")
            if count(shot, MARK_COLOURS[mark], tolerance=24) >= MARK_PIXELS}


def wait_for_mark(session: XvfbSession, panel: str, mark: str | None,
                  timeout: float = 60.0) -> None:
    want = set() if mark is None else {mark}
    wait_until(lambda: marks(session, panel) == want, timeout,
               f"the tray icon's mark to become {mark or 'none'}", interval=0.3)


def choose_from_tray_menu(session: XvfbSession, icon: str, *keys: str) -> None:
    """Right-click the docked icon, wait for the menu to be mapped, press ``keys``."""
    menu = session.open_tray_menu(icon)
    session.key(*keys)
    wait_until(lambda: menu not in session.mapped_windows("Reverie"), 30,
               "the tray menu to close")


def add_prepared_answer(data_dir: Path, question: str, answer: str,
                        source_text: str | None = None) -> None:
    """Store a ready prepared answer in the profile (another process may have it open)."""
    from assistant.app import Reverie
    from assistant.store.anticipations import AnticipationRepository
    from assistant.store.models import Anticipation

    app = Reverie.open(data_dir)
    try:
        sources = None
        if source_text is not None:
            conv = app.chats.create_conversation(question)
            said = app.chats.add_message(conv.id or 0, "user", source_text)
            sources = {"messages": [said.id or 0]}
        AnticipationRepository(app.db).add(Anticipation(
            question=question, answer=answer, predictability=0.9, sources=sources,
            seconds=1.0))
    finally:
        app.close()


def seed_prepared_answer(data_dir: Path, model: Path, settings: str = "") -> None:
    """A profile on the bundled model with one prepared answer ready."""
    data_dir.mkdir(parents=True)
    (data_dir / "settings.toml").write_text(f'[model]\npath = "{model}"\n\n'
                                            f'[ui]\ntheme = "light"\n{settings}',
                                            encoding="utf-8")
    add_prepared_answer(data_dir, PREPARED_QUESTION, "Tuesday at 10:30.",
                        source_text="Dentist on Tuesday at 10:30.")


def test_the_icon_docks_shows_its_state_and_its_menu_asks(tmp_path: Path,
                                                         bundled_model: Path) -> None:
    data_dir = tmp_path / "profile"
    seed_prepared_answer(data_dir, bundled_model)
    log = tmp_path / "app.log"
    with XvfbSession(1024, 640) as session:
        panel = session.start_trayer()
        assert icon_pixels(session, panel) == 0  # an empty tray
        app = session.start_reverie(data_dir, "--tray", log=log)

        # Docked: the icon window lives inside trayer's panel, and its pixels show there.
        icon = wait_until(lambda: session.docked_icon(panel), 60, "the icon to dock")
        assert "Parent window id: " + session.root() not in session.window_tree(icon)
        wait_until(lambda: icon_pixels(session, panel) >= 100, 30,
                   "the icon to be painted in the tray")
        assert not session.mapped_windows("Reverie")  # tray mode: no window

        # A prepared answer waits: amber. Paused from the menu: grey. Resumed: amber.
        wait_for_mark(session, panel, "prepared")
        choose_from_tray_menu(session, icon, "Down", "Down", "Down", "Return")  # Pause 1 h
        wait_for_mark(session, panel, "paused")
        choose_from_tray_menu(session, icon, "Down", "Down", "Down", "Return")  # Resume
        wait_for_mark(session, panel, "prepared")

        # "Ask…" opens the quick-ask window; the prepared answer is served there.
        choose_from_tray_menu(session, icon, "Down", "Down", "Return")
        ask = session.wait_for_window("^Ask Reverie$", timeout=30)
        answer = ask_in_window(session, ask, data_dir, PREPARED_QUESTION)
        assert answer == "Tuesday at 10:30."
        session.key("Escape")
        wait_until(lambda: not session.xdotool("search", "--onlyvisible", "--name",
                                               "^Ask Reverie$"), 30, "the popup to close")
        wait_for_mark(session, panel, None)  # the answer was used: nothing waits now

        choose_from_tray_menu(session, icon, "Up", "Return")  # Quit Reverie
        assert wait_exit(app) == 0, log.read_text(errors="replace")[-2000:]
        wait_until(lambda: icon_pixels(session, panel) == 0, 30, "the icon to leave the tray")


def test_thinking_while_away_and_the_notice_on_return(tmp_path: Path,
                                                      bundled_model: Path) -> None:
    """Away (no input for 6 s, X11 idle time): blue. A key press: back, and the opt-in
    notification says how many answers were prepared meanwhile."""
    data_dir = tmp_path / "profile"
    seed_prepared_answer(data_dir, bundled_model, settings=(
        "notify_on_return = true\n\n[idle]\nthreshold_minutes = 0.1\n"
        "max_cpu_percent = 100\n"))
    log = tmp_path / "app.log"
    with XvfbSession(1024, 640) as session:
        panel = session.start_trayer()
        app = session.start_reverie(data_dir, "--tray", log=log)
        icon = wait_until(lambda: session.docked_icon(panel), 60, "the icon to dock")
        wait_for_mark(session, panel, "thinking", timeout=120)
        assert not session.mapped_windows("Reverie")

        # What a sleep session writes when it prepares an answer (a real one takes
        # minutes on a busy machine); the tray counts what is ready when you come back.
        add_prepared_answer(data_dir, "Which hotel in Lisbon?", "Casa do Barão.")
        session.key("shift")
        wait_for_mark(session, panel, "prepared", timeout=30)
        balloon = wait_until(lambda: session.mapped_windows("Reverie"), 30,
                             "the notification to be shown")[0]
        assert app_icon_pixels(session.pixels(balloon)) > 0  # its title has the icon
        session.screenshot(tmp_path / "notification.png")
        wait_until(lambda: "While you were away: 1 answer prepared" in
                   (data_dir / "logs" / "reverie.log").read_text(errors="replace"),
                   30, "the notification in the log")

        choose_from_tray_menu(session, icon, "Up", "Return")  # Quit Reverie
        assert wait_exit(app) == 0, log.read_text(errors="replace")[-2000:]


def test_make_screenshots_shows_the_docked_icon(tmp_path: Path, bundled_model: Path) -> None:
    from tests.gui.screenshots import TRAY_CORNER, TRAY_SHOTS, take_tray

    data_dir = tmp_path / "profile"
    seed_prepared_answer(data_dir, bundled_model)
    shots = take_tray(tmp_path / "shots", data_dir)

    assert [s.stem for s in shots] == list(TRAY_SHOTS)
    docked, menu = (file_pixels(s) for s in shots)
    assert len(docked) == len(menu) == TRAY_CORNER[0] * TRAY_CORNER[1]
    assert app_icon_pixels(docked) >= 100  # the icon, in the tray's corner
    assert count(docked, MARK_COLOURS["prepared"], tolerance=24) >= MARK_PIXELS
    assert count(menu, "#ffffff", tolerance=8) > count(docked, "#ffffff", tolerance=8) + 5000
