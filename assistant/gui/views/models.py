"""Models: the model in use, "Open GGUF file…", and the catalog with resumable downloads.

Downloads run on worker threads through ``ModelLibrary.download`` (verified, resumable:
a cancelled download keeps its ``.part`` file and "Resume" continues it). Switching
model checks the file first (``check_model_file``: a readable GGUF that fits in free
memory) and takes effect when Reverie restarts, which the page offers to do.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from assistant.app import Reverie
from assistant.gui.banner import Banner
from assistant.gui.qt_compat import emit
from assistant.gui.views.common import PageHeader
from assistant.gui.workers import Task, run_task
from assistant.llm.catalog import CatalogEntry
from assistant.llm.library import ModelCheckError, ModelLibrary, check_model_file

COLUMNS = ("Model", "Size", "Memory needed", "Status", "")


def _gb(n: int) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


class ModelsView(QWidget):
    #: The person asked to restart Reverie so a new model takes effect.
    restart_requested = Signal()

    def __init__(self, app: Reverie, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modelsView")
        self.app = app
        self._library: ModelLibrary | None = None
        self._downloads: dict[str, Task] = {}
        self._progress: dict[str, QProgressBar] = {}
        self.loaded_name = ""
        self.header = PageHeader(
            "Models", "Reverie runs the model on this computer. Bigger models answer better "
            "and need more memory.", self)
        self.open_button = QPushButton("Open GGUF file…", self)
        self.open_button.setObjectName("secondaryButton")
        self.open_button.setAccessibleName("Open a GGUF model file")
        self.header.add_widget(self.open_button)
        self.current = QLabel(self)
        self.current.setObjectName("currentModel")
        self.current.setWordWrap(True)
        self.current.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner = Banner("info", self)
        self.restart_button = QPushButton("Restart Reverie now", self.banner)
        self.restart_button.setObjectName("primaryButton")
        self.restart_button.setAccessibleName("Restart Reverie to use the new model")
        self.banner.row.insertWidget(1, self.restart_button)
        self.restart_button.clicked.connect(lambda: emit(self.restart_requested))
        self.error = Banner("error", self)
        self.table = QTreeWidget(self)
        self.table.setObjectName("modelTable")
        self.table.setAccessibleName("Model catalog")
        self.table.setColumnCount(len(COLUMNS))
        self.table.setHeaderLabels(list(COLUMNS))
        self.table.setRootIsDecorated(False)
        self.table.setWordWrap(True)
        head = self.table.header()
        head.setStretchLastSection(False)
        head.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for col in range(1, len(COLUMNS) - 1):
            head.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        head.setSectionResizeMode(len(COLUMNS) - 1, QHeaderView.ResizeMode.Fixed)
        self.table.setColumnWidth(len(COLUMNS) - 1, 210)
        body = QVBoxLayout()
        body.setContentsMargins(24, 0, 24, 16)
        body.setSpacing(10)
        body.addWidget(self.current)
        body.addWidget(self.table, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.header)
        layout.addWidget(self.banner)
        layout.addWidget(self.error)
        layout.addLayout(body, 1)
        self.open_button.clicked.connect(self.open_file)

    @property
    def library(self) -> ModelLibrary:
        if self._library is None:
            self._library = self.app.model_library()
        return self._library

    def set_loaded(self, name: str) -> None:
        self.loaded_name = name
        self._show_current()

    def _show_current(self) -> None:
        model = self.app.settings.model
        if model.remote_url:
            text = f"In use: the inference server at {model.remote_url}"
        elif model.path:
            text = f"In use: {Path(model.path).name}  ·  {model.path}"
        else:
            text = "In use: the bundled model (Gemma 3 270M, small and fast, for trying Reverie)"
        if self.loaded_name:
            text += f"\nLoaded now: {self.loaded_name}"
        self.current.setText(text)

    def refresh(self) -> None:
        self._show_current()
        try:
            rows = self.library.rows()
        except Exception as exc:  # a broken catalog must not break the page
            self.error.show_message(f"The model catalog could not be read: {exc}")
            return
        self.table.clear()
        self._progress.clear()
        current = self.app.settings.model.path
        for row in rows:
            entry = row.entry
            item = QTreeWidgetItem([f"{entry.display_name}\n{entry.description or entry.name}",
                                    _gb(entry.size_bytes), _gb(entry.ram_bytes), "", ""])
            item.setToolTip(0, f"{entry.display_name}: {entry.description}\n"
                            f"{entry.parameters / 1e9:.1f} B parameters · {entry.license}")
            self.table.addTopLevelItem(item)
            in_use = (not current and entry.bundled) or (
                bool(current) and row.path is not None and Path(current) == row.path)
            self._fill_status(item, entry, row.path, in_use)

    def _fill_status(self, item: QTreeWidgetItem, entry: CatalogEntry, path: Path | None,
                     in_use: bool) -> None:
        part = self.library.models_dir / (entry.file + ".part")
        cell = QWidget(self.table)
        row = QHBoxLayout(cell)
        row.setContentsMargins(4, 2, 4, 2)
        task = self._downloads.get(entry.name)
        if in_use:
            item.setText(3, "In use")
        elif entry.bundled:
            item.setText(3, "Comes with Reverie")
        elif path is not None:
            item.setText(3, "Downloaded")
        elif task is not None:
            item.setText(3, "Downloading…")
        elif part.exists():
            item.setText(3, f"Paused at {_gb(part.stat().st_size)}")
        else:
            item.setText(3, "Not downloaded")
        if task is not None:
            bar = QProgressBar(cell)
            bar.setObjectName("downloadProgress")
            bar.setAccessibleName(f"Downloading {entry.display_name}")
            bar.setMaximumWidth(120)
            bar.setTextVisible(False)
            self._progress[entry.name] = bar
            row.addWidget(bar)
            row.addWidget(self._button("Cancel", lambda: self.cancel(entry.name), cell))
        else:
            row.addStretch(1)
        if task is None and not in_use and (path is not None or entry.bundled):
            row.addWidget(self._button("Use", lambda: self.use(entry, path), cell))
        elif task is None and not in_use and entry.downloadable:
            label = "Resume" if part.exists() else "Download"
            row.addWidget(self._button(label, lambda: self.download(entry.name), cell))
        self.table.setItemWidget(item, 4, cell)

    @staticmethod
    def _button(text: str, slot: object, parent: QWidget) -> QPushButton:
        button = QPushButton(text, parent)
        button.setObjectName("secondaryButton")
        button.setAccessibleName(text)
        button.clicked.connect(slot)
        return button

    # -- actions ------------------------------------------------------------------------
    def download(self, name: str) -> None:
        if name in self._downloads:
            return

        def work(task: Task) -> Path:
            return self.library.download(
                name, should_stop=task.cancelled,
                progress=lambda done, total: task.report((done, total or 0)))

        task = run_task(work, name=f"download-{name}", parent=self,
                        on_success=lambda path: self._downloaded(name, path),
                        on_error=lambda exc: self._download_failed(name, exc),
                        on_progress=lambda value: self._on_progress(name, value))
        task.done.connect(lambda: self._download_done(name))
        self._downloads[name] = task
        self.refresh()

    def cancel(self, name: str) -> None:
        task = self._downloads.get(name)
        if task is not None:
            task.cancel()

    def _on_progress(self, name: str, value: object) -> None:
        bar = self._progress.get(name)
        if bar is not None and isinstance(value, tuple):
            done, total = value
            bar.setRange(0, 1000 if total else 0)
            if total:
                bar.setValue(int(done * 1000 / total))

    def _downloaded(self, name: str, path: Path) -> None:
        self.banner.show_message(f"Downloaded and verified {path.name}. Press “Use” to "
                                 "switch to it.")
        self.restart_button.hide()

    def _download_failed(self, name: str, exc: BaseException) -> None:
        from assistant.llm.download import DownloadCancelled

        if isinstance(exc, DownloadCancelled):
            self.banner.show_message("Download paused; “Resume” continues where it stopped.")
            self.restart_button.hide()
        else:
            self.error.show_message(str(exc) or type(exc).__name__)

    def _download_done(self, name: str) -> None:
        task = self._downloads.pop(name, None)
        if task is not None:
            task.join(5)
        self.refresh()

    def open_file(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(self, "Open a GGUF model", str(Path.home()),
                                                    "GGUF models (*.gguf);;All files (*)")
        if path:
            self.use_file(Path(path))

    def use_file(self, path: Path) -> bool:
        """Check ``path`` and make it the model for the next start; False if refused."""
        try:
            info = check_model_file(path, self.app.settings.model.n_ctx)
        except ModelCheckError as exc:
            self.error.show_message(str(exc))
            return False
        self.error.hide()
        self._switch(str(path.resolve()), info.name or path.name)
        return True

    def use(self, entry: CatalogEntry, path: Path | None) -> None:
        if entry.bundled:
            self._switch("", entry.display_name)
        elif path is not None:
            self.use_file(path)

    def _switch(self, path: str, name: str) -> None:
        self.app.save_settings(self.app.settings.replace("model", path=path, remote_url=""))
        self.banner.show_message(f"Reverie will use {name} from its next start.")
        self.restart_button.show()
        self.refresh()

    def stop(self) -> None:
        for task in list(self._downloads.values()):
            task.cancel()
        for task in list(self._downloads.values()):
            task.join(10)

    def focus_search(self) -> None:
        self.table.setFocus()
