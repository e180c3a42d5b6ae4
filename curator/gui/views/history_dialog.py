"""Edit > History: the undo stack (rebuilt from the library's journal) as a list of steps to go back to.

Opened by the edit controller (views/editing.py), which owns the history it shows. Its reads (the journal's
steps and their cards' titles) go through the window's RoundTrips (a team library: off the GUI thread, the
list filled when they arrive), and a click is a jump the controller queues with the edits (`jump(index)`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QShowEvent, QUndoStack
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from curator.core.store import Store
from curator.core.store_types import BatchInfo
from curator.gui import plain
from curator.gui.library_tasks import RoundTrips


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

    def __init__(
        self, store: Store, stack: QUndoStack, parent: QWidget | None = None, *,
        trips: RoundTrips | None = None, jump: Callable[[int], None] | None = None,
    ) -> None:  # fmt: skip
        """`trips`: where the journal is read (inline when not given); `jump(index)`: what a click does (the
        edit controller's queued jump; else the stack's own setIndex, inline)."""
        super().__init__(parent)
        self.setWindowTitle("Edit history")
        self.setObjectName("historyDialog")
        self.store = store
        self.stack = stack
        self.trips = trips if trips is not None else RoundTrips(store, parent=self)
        self.jump = jump if jump is not None else stack.setIndex
        #: Counts refreshes asked for: the journal's answer to an older one is dropped (a newer one is coming).
        self._asked = 0
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

    def refresh(self, *_args: object) -> None:
        """Refill the steps from the stack and the journal (after an undo, a redo or a new edit).

        Only while shown (showEvent refills): a closed dialog costs nothing, and the stack's signals
        during the window's teardown find nothing to do. The journal is read through the trips; the list
        is filled when it arrives (inline on an SQLite library), unless the stack moved on meanwhile.
        """
        if not self.isVisible() or not shiboken6.isValid(self.stack):
            return
        self._asked += 1
        asked = self._asked
        commands = [self.stack.command(i) for i in range(self.stack.count())]
        batches = [[s.batch_id for s in getattr(c, "steps", ())] or [c.batch_id] for c in commands]  # type: ignore[attr-defined]
        texts = [c.text() for c in commands]
        limit = max(self.stack.count(), 1) + 50
        single = [b for group in batches for b in group if len(group) == 1]

        def read(store: Store) -> tuple[dict[int, BatchInfo], dict[int, str]]:
            return {b.id: b for b in store.history(limit)}, store.batch_titles(single)

        def arrived(found: tuple[dict[int, BatchInfo], dict[int, str]]) -> None:
            if asked == self._asked and shiboken6.isValid(self) and shiboken6.isValid(self.stack):
                self._fill(texts, batches, *found)

        self.trips.read(read, arrived, self.trips.reporter("Reading the edit history"))

    def _fill(self, texts: list[str], batches: list[list[int]], infos: dict[int, BatchInfo],
              titles: dict[int, str]) -> None:  # fmt: skip
        self.tree.clear()
        first = QTreeWidgetItem(["Library as imported", "", ""])
        self.tree.addTopLevelItem(first)
        for text, group in zip(texts, batches, strict=True):
            found = [infos[b] for b in group if b in infos]
            cards = sum(i.cards for i in found)
            title = titles.get(group[0]) if len(group) == 1 else None
            who = title if title else f"{cards:,} cards" if cards != 1 else "1 card"
            when = when_text(found[-1].created) if found else ""
            item = QTreeWidgetItem([text, who, when])
            item.setToolTip(self.CARDS, plain.tip(who))
            item.setToolTip(self.STEP, plain.tip(text))
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
        self.jump(self.tree.indexOfTopLevelItem(item))
