"""The opt-in "While you were away: N answers prepared" notification (offscreen)."""

from __future__ import annotations

from PySide6.QtGui import QIcon

from assistant.app import Reverie
from assistant.gui.tray import Tray, return_message
from assistant.idle.status import Status, ThinkingState
from tests.gui.gui_support import seed_anticipations


def spied_tray() -> tuple[Tray, list[tuple[str, str]]]:
    """A tray whose icon exists (availability faked) and records what it would show."""
    tray = Tray(lambda: True)
    assert tray.icon is not None
    shown: list[tuple[str, str]] = []

    def show_message(title: str, text: str, _icon: QIcon, _ms: int) -> None:
        shown.append((title, text))

    tray.icon.showMessage = show_message  # type: ignore[method-assign,assignment]
    return tray, shown


def test_coming_back_after_answers_were_prepared_notifies_once(qapp) -> None:
    tray, shown = spied_tray()
    tray.set_status("active", "", 1, notify_on_return=True)
    tray.set_status("thinking", "Preparing answers", 1, notify_on_return=True)
    tray.set_status("thinking", "Preparing answers", 3, notify_on_return=True)
    tray.set_status("idle", "Nothing left to think about", 4, notify_on_return=True)
    assert shown == []
    tray.set_status("active", "", 4, notify_on_return=True)
    assert shown == [("Reverie", "While you were away: 3 answers prepared")]
    tray.set_status("active", "", 4, notify_on_return=True)
    assert len(shown) == 1


def test_off_by_default_and_silent_when_nothing_was_prepared(qapp) -> None:
    tray, shown = spied_tray()
    tray.set_status("thinking", "", 0)
    tray.set_status("active", "", 2)  # the setting is off
    tray.set_status("blocked", "On battery", 2, notify_on_return=True)
    tray.set_status("active", "", 2, notify_on_return=True)  # nothing new
    tray.set_status("thinking", "", 2, notify_on_return=True)
    tray.set_status("paused", "Paused for 1 hour", 5, notify_on_return=True)
    tray.set_status("active", "", 5, notify_on_return=True)  # paused by hand: no news
    assert shown == []


def test_one_answer_is_singular() -> None:
    assert return_message(1) == "While you were away: 1 answer prepared"
    assert return_message(2) == "While you were away: 2 answers prepared"


def test_the_window_passes_the_setting_and_the_ready_count(app: Reverie,
                                                           make_window) -> None:
    from assistant.store.anticipations import AnticipationRepository
    from assistant.store.models import Anticipation

    app.save_settings(app.settings.replace("ui", notify_on_return=True))
    seed_anticipations(app)
    window = make_window(app, start=False, tray=True)
    tray = window.tray
    shown: list[tuple[str, str]] = []
    tray.notify = lambda title, text: shown.append((title, text))  # type: ignore[method-assign]

    window.thinking._on_status(Status(ThinkingState.THINKING, "Preparing answers"))
    AnticipationRepository(app.db).add(Anticipation(
        question="When does the book club meet?", answer="Thursday at 7 pm.",
        predictability=0.7, seconds=2.0))
    window.thinking._on_status(Status(ThinkingState.ACTIVE, "You are back"))

    assert shown == [("Reverie", "While you were away: 1 answer prepared")]
    assert tray.mark == "prepared" and "2 prepared answers waiting" in tray.tooltip


def test_the_setting_is_a_checkbox_in_settings(app: Reverie, make_window) -> None:
    window = make_window(app, start=False, tray=True)
    window.show_page("settings")
    box = window.settings_view.notify_on_return
    assert box.isEnabled() and not box.isChecked()
    box.setChecked(True)
    assert app.settings.ui.notify_on_return
    without_tray = make_window(app, start=False, tray=False)
    without_tray.show_page("settings")
    assert not without_tray.settings_view.notify_on_return.isEnabled()
