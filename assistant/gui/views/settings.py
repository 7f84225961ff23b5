"""Settings: thinking, idle detection, the window and tray, and your data.

Each control saves as soon as it changes (through ``Reverie.save_settings``); its
tooltip is the setting's own description from ``describe_settings``. The page also
says plainly what Reverie can and cannot see: which idle backend is in use, and
whether this desktop has a tray (without one, closing the window quits Reverie).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from assistant import autostart
from assistant.app import Reverie
from assistant.config import SettingsError, describe_settings
from assistant.gui.banner import Banner
from assistant.gui.qt_compat import emit
from assistant.gui.views.common import PageHeader

log = logging.getLogger("assistant.gui")

DELETE_WORD = "delete"
DOCS = {key: doc for key, _default, doc in describe_settings()}


class SettingsView(QWidget):
    theme_changed = Signal(str)
    #: The person confirmed "Delete all data" (typed the word).
    delete_all_requested = Signal()
    models_requested = Signal()

    def __init__(self, app: Reverie, *, tray_available: bool,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsView")
        self.app = app
        self.tray_available = tray_available
        self.header = PageHeader("Settings", "Changes are saved as you make them.", self)
        self.notice = Banner("info", self)
        self.error = Banner("error", self)

        s = app.settings
        # -- thinking
        self.thinking_enabled = QCheckBox("Think while I am away", self)
        self.threshold = self._double(s.idle.threshold_minutes, 0.1, 240.0, " min",
                                      "idle.threshold_minutes")
        self.budget = self._int(s.thinking.daily_budget_minutes, 0, 1440, " min a day",
                                "thinking.daily_budget_minutes")
        self.battery = self._int(s.idle.min_battery_percent, 0, 100, " %",
                                 "idle.min_battery_percent")
        self.cpu = self._int(s.idle.max_cpu_percent, 1, 100, " %", "idle.max_cpu_percent")
        self.thinking_enabled.setChecked(s.thinking.enabled)
        self.thinking_enabled.setToolTip(DOCS["thinking.enabled"])
        self.thinking_enabled.setAccessibleName("Think while I am away")
        thinking = QFormLayout()
        thinking.addRow(self.thinking_enabled)
        thinking.addRow("Start after being away for", self.threshold)
        thinking.addRow("Think at most", self.budget)
        thinking.addRow("On battery, only above", self.battery)
        thinking.addRow("Only while other programs use less CPU than", self.cpu)
        self.idle_backend = QLabel("Idle detection starts once the model is ready.", self)
        self.idle_backend.setObjectName("mutedLabel")
        self.idle_backend.setWordWrap(True)
        self.idle_backend.setAccessibleName("Idle detection in use")
        thinking.addRow("Idle detection", self.idle_backend)
        self.remote_url = QLineEdit(s.thinking.remote_url, self)
        self.remote_url.setPlaceholderText("on this computer (or e.g. http://192.168.1.10:8080/v1)")
        self.remote_url.setToolTip(DOCS["thinking.remote_url"])
        self.remote_url.setAccessibleName("Think on a server")
        self.remote_url.setClearButtonEnabled(True)
        thinking.addRow("Think on a server", self.remote_url)

        # -- window and tray
        self.theme = QComboBox(self)
        self.theme.setAccessibleName("Theme")
        for value, label in (("system", "Follow the system"), ("light", "Light"),
                             ("dark", "Dark")):
            self.theme.addItem(label, value)
        self.theme.setCurrentIndex(max(0, self.theme.findData(s.ui.theme)))
        self.autostart = QCheckBox("Start Reverie in the tray when I log in", self)
        self.autostart.setAccessibleName("Start at login")
        self.autostart.setToolTip(DOCS["ui.autostart"])
        self.autostart.setChecked(s.ui.autostart)
        self.notify_on_return = QCheckBox("When I come back, say how many answers were "
                                          "prepared", self)
        self.notify_on_return.setAccessibleName("Notify on return")
        self.notify_on_return.setToolTip(DOCS["ui.notify_on_return"])
        self.notify_on_return.setChecked(s.ui.notify_on_return)
        self.notify_on_return.setEnabled(tray_available)
        self.tray_text = QLabel(self._tray_sentence(), self)
        self.tray_text.setObjectName("mutedLabel")
        self.tray_text.setWordWrap(True)
        self.tray_text.setAccessibleName("System tray")
        window = QFormLayout()
        window.addRow("Theme", self.theme)
        window.addRow(self.autostart)
        window.addRow(self.notify_on_return)
        window.addRow("System tray", self.tray_text)

        # -- model
        self.model_text = QLabel(self)
        self.model_text.setWordWrap(True)
        self.model_button = QPushButton("Models…", self)
        self.model_button.setObjectName("secondaryButton")
        self.model_button.setAccessibleName("Choose the model")
        model_row = QHBoxLayout()
        model_row.addWidget(self.model_text, 1)
        model_row.addWidget(self.model_button)

        # -- data
        self.data_folder = QLineEdit(str(app.paths.data_dir), self)
        self.data_folder.setReadOnly(True)
        self.data_folder.setAccessibleName("Data folder")
        self.open_folder = QPushButton("Open folder", self)
        self.open_folder.setObjectName("secondaryButton")
        self.export_button = QPushButton("Export everything…", self)
        self.export_button.setObjectName("secondaryButton")
        self.export_button.setAccessibleName("Export all data")
        self.delete_button = QPushButton("Delete all data…", self)
        self.delete_button.setObjectName("dangerButton")
        self.delete_button.setAccessibleName("Delete all data")
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.data_folder, 1)
        folder_row.addWidget(self.open_folder)
        data_buttons = QHBoxLayout()
        data_buttons.addWidget(self.export_button)
        data_buttons.addStretch(1)
        data_buttons.addWidget(self.delete_button)
        data = QVBoxLayout()
        data.addLayout(folder_row)
        explain = QLabel("Your conversations, notes, memories and models stay in this folder, "
                         "on this computer. Export writes them as JSON and Markdown.", self)
        explain.setObjectName("mutedLabel")
        explain.setWordWrap(True)
        data.addWidget(explain)
        data.addLayout(data_buttons)

        column = QWidget(self)
        column.setObjectName("settingsColumn")
        col = QVBoxLayout(column)
        col.setContentsMargins(24, 4, 24, 24)
        col.setSpacing(14)
        for form in (thinking, window):
            form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
            form.setHorizontalSpacing(18)
            form.setVerticalSpacing(10)
        self.theme.setMaximumWidth(220)
        for wide in (self.idle_backend, self.tray_text):
            wide.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
            wide.setMinimumWidth(360)
        for title, content in (("Thinking while you are away", thinking),
                               ("Window and tray", window), ("Model", model_row),
                               ("Your data", data)):
            box = QGroupBox(title, column)
            box.setLayout(content)
            col.addWidget(box)
        col.addStretch(1)
        scroll = QScrollArea(self)
        scroll.setObjectName("settingsScroll")
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(column)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.header)
        layout.addWidget(self.notice)
        layout.addWidget(self.error)
        layout.addWidget(scroll, 1)

        self.thinking_enabled.toggled.connect(
            lambda on: self._save("thinking", enabled=bool(on)))
        self.threshold.valueChanged.connect(
            lambda v: self._save("idle", threshold_minutes=float(v)))
        self.budget.valueChanged.connect(
            lambda v: self._save("thinking", daily_budget_minutes=int(v)))
        self.battery.valueChanged.connect(
            lambda v: self._save("idle", min_battery_percent=int(v)))
        self.cpu.valueChanged.connect(lambda v: self._save("idle", max_cpu_percent=int(v)))
        self.remote_url.editingFinished.connect(self.save_remote_url)
        self.theme.currentIndexChanged.connect(self._on_theme)
        self.autostart.toggled.connect(self.set_autostart)
        self.notify_on_return.toggled.connect(
            lambda on: self._save("ui", notify_on_return=bool(on)))
        self.open_folder.clicked.connect(self.open_data_folder)
        self.export_button.clicked.connect(self.choose_export)
        self.delete_button.clicked.connect(self.confirm_delete_all)
        self.model_button.clicked.connect(lambda: emit(self.models_requested))

    # -- building -----------------------------------------------------------------------
    def _int(self, value: int, lo: int, hi: int, suffix: str, key: str) -> QSpinBox:
        box = QSpinBox(self)
        box.setRange(lo, hi)
        box.setValue(value)
        box.setSuffix(suffix)
        box.setKeyboardTracking(False)
        box.setToolTip(DOCS[key])
        box.setAccessibleName(DOCS[key])
        box.setMinimumWidth(150)
        box.setMaximumWidth(190)
        return box

    def _double(self, value: float, lo: float, hi: float, suffix: str,
                key: str) -> QDoubleSpinBox:
        box = QDoubleSpinBox(self)
        box.setRange(lo, hi)
        box.setDecimals(1)
        box.setValue(value)
        box.setSuffix(suffix)
        box.setKeyboardTracking(False)
        box.setToolTip(DOCS[key])
        box.setAccessibleName(DOCS[key])
        box.setMinimumWidth(150)
        box.setMaximumWidth(190)
        return box

    def _tray_sentence(self) -> str:
        if self.tray_available:
            return ("Closing the window keeps Reverie running in the tray, so it can think "
                    "while you are away. Quit it from the tray menu.")
        return ("This desktop shows no system tray (on GNOME, the AppIndicator extension "
                "adds one), so closing the window quits Reverie and it only thinks while "
                "its window is open.")

    def refresh(self) -> None:
        model = self.app.settings.model
        if model.remote_url:
            self.model_text.setText(f"An inference server at {model.remote_url}")
        elif model.path:
            self.model_text.setText(Path(model.path).name)
        else:
            self.model_text.setText("The bundled model (Gemma 3 270M)")
        self.autostart.blockSignals(True)
        self.autostart.setChecked(self.app.settings.ui.autostart)
        self.autostart.blockSignals(False)

    def set_idle_backend(self, name: str, system_wide: bool,
                         failures: list[tuple[str, str]]) -> None:
        if system_wide:
            text = f"{name}: Reverie sees when you use any program on this computer."
        else:
            text = ("Activity inside Reverie only: typing and clicking in other programs is "
                    "not seen, so Reverie may think while you work elsewhere.")
            if failures:
                text += " Tried: " + "; ".join(f"{n} ({why})" for n, why in failures) + "."
        self.idle_backend.setText(text)

    # -- saving -------------------------------------------------------------------------
    def _save(self, section: str, *, label: str = "", **changes: Any) -> None:
        """Save ``changes``; a refused value is named by ``label`` ("The server address")
        in the error banner rather than by its settings key."""
        try:
            self.app.save_settings(self.app.settings.replace(section, **changes))
        except Exception as exc:
            why = (f"it {exc.problem}" if label and isinstance(exc, SettingsError)
                   and exc.problem else str(exc))
            self.error.show_message(f"{label or 'The setting'} was not saved: {why}")
            return
        self.error.hide()

    def save_remote_url(self) -> None:
        """A bad address is refused in the error banner (nothing saved, the text stays for
        correcting); a good one is saved, and the notice says when it takes effect."""
        url = self.remote_url.text().strip()
        if url == self.app.settings.thinking.remote_url:
            return
        self._save("thinking", label="The server address", remote_url=url)
        if self.app.settings.thinking.remote_url != url:
            return
        self.notice.show_message(
            f"Thinking will run on {url}; answers stay on this computer. Think now uses it "
            "at once, thinking while you are away after Reverie restarts." if url else
            "Thinking will run on this computer (after Reverie restarts, for thinking while "
            "you are away).")

    def _on_theme(self, _index: int) -> None:
        theme = str(self.theme.currentData())
        self._save("ui", theme=theme)
        emit(self.theme_changed, theme)

    def set_autostart(self, enabled: bool) -> None:
        try:
            where = autostart.set_enabled(enabled, self._profile_arg())
        except autostart.AutostartError as exc:
            self.error.show_message(str(exc))
            self.autostart.blockSignals(True)
            self.autostart.setChecked(not enabled)
            self.autostart.blockSignals(False)
            return
        self._save("ui", autostart=bool(enabled))
        self.notice.show_message(f"Reverie will start in the tray when you log in ({where})."
                                 if enabled else "Reverie will not start at login.")

    def _profile_arg(self) -> Path | None:
        from assistant.paths import Paths

        default = Paths.resolve(None)
        return None if default.data_dir == self.app.paths.data_dir else self.app.paths.data_dir

    def open_data_folder(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.app.paths.data_dir)))

    def choose_export(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export Reverie's data into",
                                                  str(Path.home()))
        if folder:
            from assistant.store.export import free_folder

            self.export_to(free_folder(Path(folder), "Reverie export"))

    def export_to(self, folder: Path) -> None:
        from assistant.store.export import export_all

        try:
            report = export_all(self.app.db, folder)
        except OSError as exc:
            self.error.show_message(f"The export failed: {exc.strerror or exc}.")
            return
        self.notice.show_message(
            f"Exported {report.conversations} conversations, {report.notes} notes and "
            f"{report.memories} memories to {report.folder}.")

    def confirm_delete_all(self) -> None:
        text, ok = QInputDialog.getText(
            self, "Delete all data",
            "This deletes every conversation, note, memory, prepared answer and setting "
            f"in {self.app.paths.data_dir}, and restarts Reverie empty (downloaded models "
            "are kept). It cannot be "
            f"undone.\n\nType “{DELETE_WORD}” to confirm:")
        if ok and text.strip().lower() == DELETE_WORD:
            emit(self.delete_all_requested)
        elif ok:
            QMessageBox.information(self, "Nothing deleted",
                                    f"You did not type “{DELETE_WORD}”, so nothing was "
                                    "deleted.")

    def focus_search(self) -> None:
        self.thinking_enabled.setFocus()
