"""The look: Fusion style, a light or dark palette, and ``resources/styles/reverie.qss``.

The style sheet names colours as ``@tokens``; each theme fills them in, so there is
one style sheet to keep right rather than two.
"""

from __future__ import annotations

import logging
import re

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication

from assistant.resources import resource

log = logging.getLogger("assistant.gui")

LIGHT = {
    "chat": "#ffffff", "sidebar": "#f3f4f7", "input": "#ffffff", "text": "#1f2328",
    "muted": "#6b7280", "border": "#e3e5ea", "hover": "#e8eaf0", "selection": "#e0e0fb",
    "accent": "#4f46e5", "accentHover": "#4338ca", "onAccent": "#ffffff",
    "disabled": "#eceef2", "danger": "#b42318",
    "userBubble": "#eeedfd", "userBorder": "#d9d7fb", "botBubble": "#f6f7f9",
    "errorBg": "#fdecec", "errorBorder": "#f3c5c5", "errorText": "#8a1c1c",
    "infoBg": "#eef4ff", "infoBorder": "#cdddfb", "infoText": "#1e3a8a",
}

DARK = {
    "chat": "#17191d", "sidebar": "#1f2227", "input": "#1f2227", "text": "#e7e8ea",
    "muted": "#9aa0a8", "border": "#30343b", "hover": "#2a2e35", "selection": "#35336b",
    "accent": "#7c74ff", "accentHover": "#9089ff", "onAccent": "#ffffff",
    "disabled": "#262a30", "danger": "#ff8a80",
    "userBubble": "#2d2a5e", "userBorder": "#3d3980", "botBubble": "#22252b",
    "errorBg": "#3b1f21", "errorBorder": "#5c2b2e", "errorText": "#ffb4ab",
    "infoBg": "#1d2940", "infoBorder": "#2b3d5e", "infoText": "#b8cdf5",
}

_TOKEN = re.compile(r"@([A-Za-z]+)")
#: The style sheet's images, by token: drawn check marks and spin-box arrows.
_ICONS = (("checkIcon", "check.svg"), ("upIcon", "arrow-up.svg"),
          ("downIcon", "arrow-down.svg"))


def app_icon() -> QIcon:
    return QIcon(str(resource("icons", "reverie.svg")))


def is_dark(theme: str) -> bool:
    if theme in ("light", "dark"):
        return theme == "dark"
    hints = QGuiApplication.styleHints()
    return bool(hints.colorScheme() == Qt.ColorScheme.Dark)


def style_sheet(colours: dict[str, str]) -> str:
    """The style sheet with its @tokens replaced; an unknown token is an error."""
    text = resource("styles", "reverie.qss").read_text(encoding="utf-8")
    tokens = {**colours, **{key: resource("icons", name).as_posix() for key, name in _ICONS}}
    return _TOKEN.sub(lambda m: tokens[m.group(1)], text)


def apply_theme(qapp: QApplication, theme: str = "system") -> None:
    """Fusion + palette + style sheet, light or dark (``system`` follows the desktop)."""
    colours = DARK if is_dark(theme) else LIGHT
    qapp.setStyle("Fusion")
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: colours["sidebar"],
        QPalette.ColorRole.WindowText: colours["text"],
        QPalette.ColorRole.Base: colours["chat"],
        QPalette.ColorRole.AlternateBase: colours["sidebar"],
        QPalette.ColorRole.Text: colours["text"],
        QPalette.ColorRole.Button: colours["chat"],
        QPalette.ColorRole.ButtonText: colours["text"],
        QPalette.ColorRole.Highlight: colours["accent"],
        QPalette.ColorRole.HighlightedText: colours["onAccent"],
        QPalette.ColorRole.ToolTipBase: colours["chat"],
        QPalette.ColorRole.ToolTipText: colours["text"],
        QPalette.ColorRole.PlaceholderText: colours["muted"],
        QPalette.ColorRole.Link: colours["accent"],
    }
    for role, colour in roles.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText,
                 QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(colours["muted"]))
    qapp.setPalette(palette)
    try:
        qapp.setStyleSheet(style_sheet(colours))
    except (OSError, KeyError) as exc:  # a broken style sheet must not stop the app
        log.warning("style sheet not applied: %s", exc)


def apply_current_theme(theme: str) -> None:
    """Apply ``theme`` to the running application (the Settings page's theme choice)."""
    qapp = QApplication.instance()
    if isinstance(qapp, QApplication):
        apply_theme(qapp, theme)
