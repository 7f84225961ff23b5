"""Notes: a searchable list, an editor with a Markdown preview, saved as you type.

Saving is debounced (a short pause after the last key) and goes through
``NoteRepository.update``; switching notes, searching or closing saves first, so
nothing typed is lost. Search uses the notes' FTS5 index.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from assistant.gui.views.common import EmptyState, tidy_list, when_text
from assistant.store.models import Note
from assistant.store.notes import NoteRepository

AUTOSAVE_MS = 700
_ID = Qt.ItemDataRole.UserRole
UNTITLED_NOTE = "Untitled note"


class NotesView(QWidget):
    def __init__(self, notes: NoteRepository, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("notesView")
        self.notes = notes
        self._current: int | None = None
        self._loading = False
        self._dirty = False

        self.search = QLineEdit(self)
        self.search.setObjectName("searchField")
        self.search.setPlaceholderText("Search notes")
        self.search.setAccessibleName("Search notes")
        self.search.setClearButtonEnabled(True)
        self.new_button = QPushButton("+  New note", self)
        self.new_button.setObjectName("primaryButton")
        self.new_button.setAccessibleName("New note")
        self.list = QListWidget(self)
        tidy_list(self.list)
        self.list.setObjectName("itemList")
        self.list.setAccessibleName("Notes")
        self.list.setWordWrap(True)
        self.count_label = QLabel(self)
        self.count_label.setObjectName("mutedLabel")
        left = QWidget(self)
        left.setObjectName("listPane")
        lcol = QVBoxLayout(left)
        lcol.setContentsMargins(12, 14, 12, 10)
        lcol.setSpacing(8)
        lcol.addWidget(self.new_button)
        lcol.addWidget(self.search)
        lcol.addWidget(self.list, 1)
        lcol.addWidget(self.count_label)

        self.title = QLineEdit(self)
        self.title.setObjectName("noteTitle")
        self.title.setPlaceholderText("Title")
        self.title.setAccessibleName("Note title")
        self.body = QPlainTextEdit(self)
        self.body.setObjectName("noteBody")
        self.body.setAccessibleName("Note text")
        self.body.setPlaceholderText("Write in Markdown…")
        self.preview = QTextBrowser(self)
        self.preview.setObjectName("notePreview")
        self.preview.setAccessibleName("Note preview")
        self.preview.setOpenExternalLinks(True)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("noteTabs")
        self.tabs.addTab(self.body, "Write")
        self.tabs.addTab(self.preview, "Preview")
        self.saved_label = QLabel(self)
        self.saved_label.setObjectName("mutedLabel")
        self.saved_label.setAccessibleName("Save status")
        self.delete_button = QPushButton("Delete", self)
        self.delete_button.setObjectName("dangerButton")
        self.delete_button.setAccessibleName("Delete note")
        self.empty = EmptyState("No note selected. Create one with “New note”, or import a "
                                "folder of Markdown files from a terminal with "
                                "“reverie import notes FOLDER”.", self)
        self.editor = QWidget(self)
        self.editor.setObjectName("detailPane")
        ecol = QVBoxLayout(self.editor)
        ecol.setContentsMargins(20, 14, 20, 12)
        ecol.setSpacing(8)
        ecol.addWidget(self.title)
        ecol.addWidget(self.tabs, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.saved_label, 1)
        bottom.addWidget(self.delete_button)
        ecol.addLayout(bottom)
        right = QWidget(self)
        right.setObjectName("detailPane")
        rcol = QVBoxLayout(right)
        rcol.setContentsMargins(0, 0, 0, 0)
        rcol.addWidget(self.editor, 1)
        rcol.addWidget(self.empty, 1)

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([270, 600])
        splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        self.autosave = QTimer(self)
        self.autosave.setSingleShot(True)
        self.autosave.setInterval(AUTOSAVE_MS)
        self.autosave.timeout.connect(self.save_now)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(200)
        self._search_timer.timeout.connect(self.refresh)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.list.currentItemChanged.connect(self._on_selected)
        self.title.textEdited.connect(self._on_edited)
        self.body.textChanged.connect(self._on_edited)
        self.tabs.currentChanged.connect(self._on_tab)
        self.new_button.clicked.connect(self.new_note)
        self.delete_button.clicked.connect(self.delete_current)
        self._show_editor(False)

    # -- data ---------------------------------------------------------------------------
    @property
    def current_id(self) -> int | None:
        return self._current

    def refresh(self) -> None:
        self.save_now()
        query = self.search.text().strip()
        rows = self.notes.search(query, limit=200) if query else self.notes.all()
        self.list.blockSignals(True)
        self.list.clear()
        selected = None
        for note in rows:
            item = QListWidgetItem(self._item_text(note))
            item.setData(_ID, note.id)
            item.setToolTip(note.title or UNTITLED_NOTE)
            self.list.addItem(item)
            if note.id == self._current:
                selected = item
        self.list.blockSignals(False)
        total = len(rows)
        self.count_label.setText(f"{total} note{'s' if total != 1 else ''}"
                                 + (f" matching “{query}”" if query else ""))
        if selected is not None:
            self.list.setCurrentItem(selected)
        elif rows:
            self.list.setCurrentRow(0)
        else:
            self._open(None)

    @staticmethod
    def _item_text(note: Note) -> str:
        first = " ".join(line.strip("# ").strip() for line in note.body.splitlines()
                         if line.strip() and line.strip("# ").strip() != note.title)[:80]
        return f"{note.title or UNTITLED_NOTE}\n{when_text(note.updated_at)} · {first}"

    def _on_selected(self, item: QListWidgetItem | None, _prev: object = None) -> None:
        self.save_now()
        self._open(item.data(_ID) if item is not None else None)

    def _open(self, note_id: int | None) -> None:
        note = self.notes.get(note_id) if note_id is not None else None
        self._current = note.id if note is not None else None
        self._dirty = False
        self._show_editor(note is not None)
        if note is None:
            return
        self._loading = True
        self.title.setText(note.title)
        self.body.setPlainText(note.body)
        self._loading = False
        self._render_preview()
        self.saved_label.setText(f"Saved · {when_text(note.updated_at)}")

    def _show_editor(self, shown: bool) -> None:
        self.editor.setVisible(shown)
        self.empty.setVisible(not shown)

    # -- editing ------------------------------------------------------------------------
    def _on_edited(self) -> None:
        if self._loading or self._current is None:
            return
        self._dirty = True
        self.saved_label.setText("Editing…")
        self.autosave.start()

    def _on_tab(self, index: int) -> None:
        if self.tabs.widget(index) is self.preview:
            self._render_preview()

    def _render_preview(self) -> None:
        self.preview.setMarkdown(self.body.toPlainText())

    def save_now(self) -> None:
        """Write pending edits at once (also called before switching and on close)."""
        self.autosave.stop()
        if not self._dirty or self._current is None:
            return
        self._dirty = False
        try:
            note = self.notes.update(self._current, title=self.title.text().strip(),
                                     body=self.body.toPlainText())
        except KeyError:
            return
        self.saved_label.setText(f"Saved · {when_text(note.updated_at)}")
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(_ID) == note.id:
                item.setText(self._item_text(note))

    def new_note(self) -> None:
        self.save_now()
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        note = self.notes.add(UNTITLED_NOTE, "")
        self._current = note.id
        self.refresh()
        self.tabs.setCurrentWidget(self.body)
        self.title.setFocus()
        self.title.selectAll()

    def delete_current(self) -> None:
        if self._current is None:
            return
        title = self.title.text().strip() or UNTITLED_NOTE
        reply = QMessageBox.question(
            self, "Delete note", f"Delete the note “{title}” and everything Reverie learned "
            "from it (memories, prepared answers, saved copies)? This cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        if reply != QMessageBox.StandardButton.Yes:
            return
        self.autosave.stop()
        self._dirty = False
        self.notes.delete(self._current)
        self._current = None
        self.refresh()

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def shutdown(self) -> None:
        self.save_now()
