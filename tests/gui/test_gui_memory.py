"""The Memory page: list, search, kind filter, edit, pin, forget with undo, sources, history."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from assistant.app import Reverie
from assistant.gui.main_window import MainWindow
from assistant.store.memories import MemoryRepository
from tests.gui.gui_support import seed_memories, wait_loaded


@pytest.fixture
def seeded(app: Reverie) -> dict[str, int]:
    return seed_memories(app)


@pytest.fixture
def memory_window(app: Reverie, seeded: dict[str, int], make_window,
                  qtbot: QtBot) -> MainWindow:
    window = make_window(app, start=False)
    window.show_page("memory")
    wait_loaded(qtbot, window.memory_view.model)
    return window


def texts(view) -> list[str]:
    return [str(view.model.index(i, 0).data()) for i in range(view.model.rowCount())]


def test_lists_current_memories_pinned_first(memory_window: MainWindow,
                                             seeded: dict[str, int]) -> None:
    view = memory_window.memory_view
    assert view.model.rowCount() == 3  # the superseded version is not listed
    assert view.current is not None and view.current.id == seeded["new"]
    assert "pinned" in texts(view)[0]
    assert view.count_label.text() == "3 memories"


def test_sources_and_history(memory_window: MainWindow) -> None:
    view = memory_window.memory_view
    sources = [view.sources.item(i).text() for i in range(view.sources.count())]
    assert any("Ana's birthday is 14 May" in s and s.startswith("You") for s in sources)
    assert any(s.startswith("Note “Gift ideas”") for s in sources)
    assert view.history.isVisibleTo(view)
    assert "12 May" in view.history.item(0).text()


def test_filter_by_kind_and_search(memory_window: MainWindow, qtbot: QtBot) -> None:
    view = memory_window.memory_view
    view.kind.setCurrentIndex(view.kind.findData("summary"))
    wait_loaded(qtbot, view.model)
    assert len(texts(view)) == 1 and "Lisbon" in texts(view)[0]
    assert view.count_label.text() == "1 of 3 memories"
    view.kind.setCurrentIndex(0)
    qtbot.keyClicks(view.search, "heron")  # as typed: "her" already finds "herons"
    wait_loaded(qtbot, view.model)
    assert len(texts(view)) == 1 and "14 May" in texts(view)[0]
    view.search.setText("")
    wait_loaded(qtbot, view.model)
    assert len(texts(view)) == 3


def test_edit_marks_the_memory_edited(app: Reverie, memory_window: MainWindow,
                                      seeded: dict[str, int], qtbot: QtBot) -> None:
    view = memory_window.memory_view
    assert not view.save_button.isEnabled()
    view.text.setPlainText("Ana's birthday is on 15 May.")
    assert view.save_button.isEnabled()
    view.save_button.click()
    stored = MemoryRepository(app.db).get(seeded["new"])
    assert stored is not None and stored.edited and stored.text == "Ana's birthday is on 15 May."
    qtbot.waitUntil(lambda: "edited by you" in texts(view)[0], timeout=5000)


def test_pin_and_unpin(app: Reverie, memory_window: MainWindow, seeded: dict[str, int]) -> None:
    view = memory_window.memory_view
    assert view.pin_button.text() == "Unpin"
    view.pin_button.click()
    assert not MemoryRepository(app.db).get(seeded["new"]).pinned
    assert view.pin_button.text() == "Pin"


def test_forget_then_undo_restores_it_exactly(app: Reverie, memory_window: MainWindow,
                                              seeded: dict[str, int], qtbot: QtBot) -> None:
    repo = MemoryRepository(app.db)
    view = memory_window.memory_view
    view.forget_button.click()
    assert repo.get(seeded["new"]) is None
    assert repo.get(seeded["old"]) is None  # its older version goes too: it never resurfaces
    assert view.undo_banner.isVisibleTo(view) and "forgotten" in view.undo_banner.label.text()
    qtbot.waitUntil(lambda: view.model.rowCount() == 2, timeout=5000)
    view.undo_banner.button.click()
    restored = repo.get(seeded["new"])
    assert restored is not None and restored.pinned and "herons" in restored.text
    assert repo.get(seeded["old"]).superseded_by == seeded["new"]
    assert view.current is not None and view.current.id == seeded["new"]
    assert not view.undo_banner.isVisibleTo(view)
    wait_loaded(qtbot, view.model)
    assert view.current is not None and view.current.id == seeded["new"]
    assert view.model.rowCount() == 3


def test_undo_expires(app: Reverie, memory_window: MainWindow, seeded: dict[str, int],
                      qtbot: QtBot) -> None:
    view = memory_window.memory_view
    view.undo_banner.timer.setInterval(50)
    view.forget_button.click()
    qtbot.waitUntil(lambda: not view.undo_banner.isVisibleTo(view), timeout=2000)
    view.undo_forget()  # nothing to undo any more
    assert MemoryRepository(app.db).get(seeded["new"]) is None


def test_empty_state(app: Reverie, make_window, qtbot: QtBot) -> None:
    window = make_window(app, start=False)
    window.show_page("memory")
    view = window.memory_view
    wait_loaded(qtbot, view.model)
    assert view.model.rowCount() == 0 and view.empty.isVisibleTo(view)
