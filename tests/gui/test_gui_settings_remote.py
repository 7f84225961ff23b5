"""Settings, "Think on a server": a bad address is refused in one sentence and nothing is
saved; a good one is saved and the page says when it takes effect."""

from __future__ import annotations

from assistant.app import Reverie
from assistant.config import load_settings
from assistant.gui.qt_compat import emit


def test_think_on_a_server_field(app: Reverie, make_window) -> None:
    view = make_window(app, start=False).show_page("settings")
    assert view.remote_url.text() == "" and "answers stay" in view.remote_url.toolTip()
    before = app.paths.settings_file.read_bytes()
    view.remote_url.setText("192.168.1.10:8080")
    emit(view.remote_url.editingFinished)
    assert "must be an http:// or https:// address" in view.error.text()
    # Named as the person sees it, not by its key in settings.toml.
    assert view.error.text().startswith("The server address was not saved: it must be")
    assert "thinking.remote_url" not in view.error.text()
    assert view.error.isVisibleTo(view) and view.remote_url.text() == "192.168.1.10:8080"
    assert app.paths.settings_file.read_bytes() == before
    assert app.settings.thinking.remote_url == ""

    view.remote_url.setText(" http://192.168.1.10:8080/v1 ")
    emit(view.remote_url.editingFinished)
    assert not view.error.isVisibleTo(view)
    saved = load_settings(app.paths.settings_file).settings.thinking
    assert saved.remote_url == "http://192.168.1.10:8080/v1"
    assert "answers stay on this computer" in view.notice.text()

    view.remote_url.setText("")
    emit(view.remote_url.editingFinished)
    assert load_settings(app.paths.settings_file).settings.thinking.remote_url == ""
    assert "on this computer" in view.notice.text()
