"""The style sheet resolves for both themes and Qt parses it without complaint."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from assistant.app import Reverie
from assistant.gui.main_window import MainWindow
from assistant.gui.theme import DARK, LIGHT, app_icon, apply_theme, style_sheet


@pytest.mark.parametrize("colours", [LIGHT, DARK], ids=["light", "dark"])
def test_every_colour_token_is_defined(colours: dict[str, str]) -> None:
    sheet = style_sheet(colours)
    assert "@" not in sheet
    assert colours["accent"] in sheet


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_qt_accepts_the_style_sheet(qtbot: QtBot, qapp: QApplication, app: Reverie,
                                    qtlog, theme: str) -> None:
    apply_theme(qapp, theme)
    assert qapp.styleSheet() == style_sheet(DARK if theme == "dark" else LIGHT)
    window = MainWindow(app)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.close()
    complaints = [r.message for r in qtlog.records if "style" in r.message.lower()]
    assert complaints == []


def test_the_icon_loads() -> None:
    icon = app_icon()
    assert not icon.isNull()
    assert not icon.pixmap(64, 64).isNull()


def test_every_image_the_style_sheet_names_exists_and_draws() -> None:
    """Check marks and spin-box arrows are drawn from files (Fusion's own outlines
    vanished on the dark theme); each one must be there in the installed package."""
    import re
    from pathlib import Path

    from PySide6.QtGui import QIcon

    images = re.findall(r"url\(([^)]+)\)", style_sheet(DARK))
    assert len(images) >= 3
    for image in images:
        assert Path(image).is_file(), image
        assert not QIcon(image).pixmap(14, 14).isNull(), image
