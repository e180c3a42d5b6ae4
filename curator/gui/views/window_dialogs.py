"""The main window's smaller dialogs: keyboard shortcuts, edit history, preferences, related links."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QInputDialog, QLabel, QMessageBox, QUndoView, QVBoxLayout

from curator.gui import settings as keys
from curator.gui.actions import Actions

if TYPE_CHECKING:
    from curator.gui.views.main_window import MainWindow


def shortcuts_text(actions: Actions) -> str:
    """Help > Keyboard Shortcuts, generated from the actions (so it cannot drift from them)."""
    rows = actions.shortcut_rows()
    width = max(len(k) for k, _ in rows) + 3
    lines = [f"{k:<{width}}{what}" for k, what in rows]
    lines.append("")
    lines.append("Single keys (P, U, 0–9, +, -, Space, J, K, Enter) act in the card list,")
    lines.append("so they never fire while you type in the search bar or an editor.")
    return "\n".join(lines)


def show_shortcuts(window: MainWindow) -> QMessageBox:
    box = QMessageBox(
        QMessageBox.Icon.Information, "Keyboard shortcuts", shortcuts_text(window.actions), parent=window
    )
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setStyleSheet("QLabel { font-family: monospace; }")  # the keys column lines up
    box.open()
    return box


def show_history(window: MainWindow) -> QDialog:
    """Edit > History: the undo stack (rebuilt from the journal); clicking a step goes back to it."""
    dialog = QDialog(window)
    dialog.setWindowTitle("Edit history")
    view = QUndoView(window.edits.history.stack, dialog)
    view.setEmptyLabel("Library as imported")
    layout = QVBoxLayout(dialog)
    note = QLabel("Every edit batch in the library's journal, oldest first. Click a step to go back to it.")
    note.setWordWrap(True)
    layout.addWidget(note)
    layout.addWidget(view)
    dialog.resize(460, 420)
    dialog.open()
    window.history_dialog = dialog  # type: ignore[attr-defined]
    return dialog


def show_preferences(window: MainWindow) -> None:
    scale, ok = QInputDialog.getInt(window, "Preferences", "Quality keys: digit d sets quality d ×",
                                    window.settings.value(keys.QUALITY_SCALE), 1, 100)  # fmt: skip
    if ok:
        window.settings.set_value(keys.QUALITY_SCALE, scale)
        window.actions.set_quality_scale(scale)


def edit_related(window: MainWindow) -> None:
    """Open the related-links editor on the current card; Save is one Store.set_related call."""
    from curator.gui.views.related_editor import RelatedEditor

    card = window.detail.card
    if card is None:
        return
    dialog = RelatedEditor(window.store, card, window.images, window)
    window.related_dialog = dialog  # type: ignore[attr-defined]
    if window.files.run_dialog(dialog):
        window.edits.set_related(card.id, dialog.items())
