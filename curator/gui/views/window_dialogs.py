"""The main window's smaller dialogs: keyboard shortcuts, edit history, preferences, related links."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QFont, QKeySequence, QShowEvent, QUndoStack
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QInputDialog,
    QMessageBox,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
)

from curator.core.store_types import BatchInfo
from curator.gui import plain
from curator.gui import settings as keys
from curator.gui.actions import Actions

if TYPE_CHECKING:
    from curator.gui.views.main_window import MainWindow


def shortcuts_text(actions: Actions) -> str:
    """Help > Keyboard Shortcuts, generated from the actions (so it cannot drift from them).

    Undo and Redo are named as such: their menu texts quote the step they would undo right now.
    """
    named = {_keys(actions.undo): "Undo", _keys(actions.redo): "Redo"}
    rows = [(k, named.get(k, what)) for k, what in actions.shortcut_rows()]
    width = max(len(k) for k, _ in rows) + 3
    lines = [f"{k:<{width}}{what}" for k, what in rows]
    lines.append("")
    lines.append("Single keys (P, U, 1–9, 0, +, -, Space, J, K, Enter) act in the card list,")
    lines.append("so they never fire while you type in the search bar or an editor.")
    return "\n".join(lines)


def _keys(action: QAction) -> str:
    """An action's shortcuts as Actions.shortcut_rows writes them."""
    return " / ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts())


def show_shortcuts(window: MainWindow) -> QMessageBox:
    box = QMessageBox(
        QMessageBox.Icon.Information, "Keyboard shortcuts", shortcuts_text(window.actions), parent=window
    )
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setStyleSheet("QLabel { font-family: monospace; }")  # the keys column lines up
    box.open()
    return box


def when_text(created: float, now: float | None = None) -> str:
    """When a step was made, as an editor glances at it: "14:32" today, "12 Mar 14:32" this year, else
    with the year."""
    moment = datetime.fromtimestamp(created)
    today = datetime.fromtimestamp(now) if now is not None else datetime.now()
    if moment.date() == today.date():
        return moment.strftime("%H:%M")
    if moment.year == today.year:
        return moment.strftime("%d %b %H:%M")
    return moment.strftime("%d %b %Y %H:%M")


class HistoryDialog(QDialog):
    """Edit > History: every step of the undo stack (rebuilt from the journal) with the card it changed (or
    how many), and when; clicking a step takes the library back (or forward) to just after it.

    Steps after the current one are undone (greyed): the next edit discards them, as the stack does.
    """

    STEP, CARDS, WHEN = range(3)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.setWindowTitle("Edit history")
        self.setObjectName("historyDialog")
        self.store = window.store
        self.stack: QUndoStack = window.edits.history.stack
        note = plain.label(
            "Every edit in the library's journal, oldest first. Click a step to go back to it; steps in grey "
            "are undone (Redo brings them back).", wrap=True,
        )  # fmt: skip
        self.tree = QTreeWidget()
        self.tree.setObjectName("historySteps")
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setHeaderLabels(["Step", "Card", "When"])
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(self.STEP, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(self.CARDS, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(self.WHEN, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.tree.itemClicked.connect(self._clicked)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        self.close_button = buttons.button(QDialogButtonBox.StandardButton.Close)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addWidget(self.tree, 1)
        layout.addWidget(buttons)
        self.stack.indexChanged.connect(self.refresh)
        self.resize(640, 440)

    def _infos(self) -> dict[int, BatchInfo]:
        return {b.id: b for b in self.store.history(max(self.stack.count(), 1) + 50)}

    def refresh(self, *_args: object) -> None:
        """Refill the steps from the stack and the journal (after an undo, a redo or a new edit).

        Only while shown (showEvent refills): a closed dialog costs nothing, and the stack's signals
        during the window's teardown find nothing to do.
        """
        if not self.isVisible() or not shiboken6.isValid(self.stack):
            return
        infos = self._infos()
        commands = [self.stack.command(i) for i in range(self.stack.count())]
        batches = [[s.batch_id for s in getattr(c, "steps", ())] or [c.batch_id] for c in commands]  # type: ignore[attr-defined]
        titles = self.store.batch_titles([b for group in batches for b in group if len(group) == 1])
        self.tree.clear()
        first = QTreeWidgetItem(["Library as imported", "", ""])
        self.tree.addTopLevelItem(first)
        for command, group in zip(commands, batches, strict=True):
            found = [infos[b] for b in group if b in infos]
            cards = sum(i.cards for i in found)
            title = titles.get(group[0]) if len(group) == 1 else None
            who = title if title else f"{cards:,} cards" if cards != 1 else "1 card"
            when = when_text(found[-1].created) if found else ""
            item = QTreeWidgetItem([command.text(), who, when])
            item.setToolTip(self.CARDS, plain.tip(who))
            item.setToolTip(self.STEP, plain.tip(command.text()))
            self.tree.addTopLevelItem(item)
        current = self.stack.index()
        grey = self.palette().color(self.palette().ColorRole.PlaceholderText)
        for row in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(row)
            font = QFont(self.tree.font())
            font.setBold(row == current)
            for column in range(3):
                item.setFont(column, font)
                if row > current:
                    item.setForeground(column, grey)
        self.tree.setCurrentItem(self.tree.topLevelItem(current))

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.refresh()

    def rows(self) -> list[tuple[str, str, str]]:
        """What the list shows, row by row (tests read it)."""
        return [tuple(self.tree.topLevelItem(r).text(c) for c in range(3))  # type: ignore[misc]
                for r in range(self.tree.topLevelItemCount())]  # fmt: skip

    def _clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        self.stack.setIndex(self.tree.indexOfTopLevelItem(item))


def show_history(window: MainWindow) -> QDialog:
    """Edit > History (one dialog per window, raised when already open)."""
    dialog = getattr(window, "history_dialog", None)
    if dialog is None or not shiboken6.isValid(dialog):
        dialog = HistoryDialog(window)
        window.history_dialog = dialog  # type: ignore[attr-defined]
    dialog.open()
    dialog.raise_()
    return dialog


def show_preferences(window: MainWindow) -> None:
    scale, ok = QInputDialog.getInt(
        window, "Preferences",
        "Quality keys: each digit key sets the quality to the digit times this step\n"
        "(0 counts as 10; nothing goes above 100).\n"
        "With 10, the default: 1 sets 10, 5 sets 50, 9 sets 90 and 0 sets 100.\n\nStep:",
        window.settings.value(keys.QUALITY_SCALE), 1, 100,
    )  # fmt: skip
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
