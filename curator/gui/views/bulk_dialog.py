"""The confirmation shown before a bulk edit of many cards: the count, and the cards that have problems."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from curator.core import fields
from curator.gui import plain

#: Bulk edits of more cards than this ask first.
CONFIRM_ABOVE = 20
#: At most this many problem cards are listed (the count says how many there are in all).
LIST_LIMIT = 200


@dataclass(frozen=True)
class Flagged:
    """A card in the bulk selection that fails validation or cannot be written."""

    card_id: int
    path: str
    title: str
    reason: str


def flagged_cards(
    store: Any, ids: list[int], limit: int = LIST_LIMIT, found: Sequence[Any] | None = None
) -> tuple[list[Flagged], int]:
    """Cards among `ids` with validation problems, a conflict or a missing file: (first `limit`, how many).

    One indexed query on the card row's flags (the Store's flagged_cards; ``found``: its answer for `ids`
    when the caller has it, as the publishing gate does); the reasons are worked out for the listed cards
    only, so a 10k selection costs milliseconds.
    """
    found = store.flagged_cards(ids) if found is None else list(found)  # by path
    listed = []
    for card_id, path, title, problems, conflict, missing in found[:limit]:
        if missing:
            reason = "the file is missing: the edit stays pending, it cannot be written"
        elif conflict:
            reason = "the file changed on disk (conflict): it will not be written until resolved"
        else:
            found_problems = fields.problems(store.current_data(card_id) or {})
            reason = "; ".join(p.problem for p in found_problems[:2]) or plain.count(problems, "problem")
        listed.append(Flagged(card_id, path, title or path.rsplit("/", 1)[-1], reason))
    return listed, len(found)


class BulkConfirmDialog(QDialog):
    """ "Publish 1,240 cards?" with the cards that fail validation listed under it."""

    def __init__(self, action: str, count: int, flagged: list[Flagged], flagged_total: int,
                 parent: QWidget | None = None) -> None:  # fmt: skip
        super().__init__(parent)
        self.setWindowTitle("Confirm bulk edit")
        self.setObjectName("bulkConfirm")
        self.count = count
        layout = QVBoxLayout(self)
        self.question = QLabel(f"{action} — {count:,} cards?")
        self.question.setObjectName("dialogHeading")
        self.question.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.question)
        explain = QLabel(
            "This is one step: Edit > Undo takes it back for all of them. The files change only when you "
            "write the changes."
        )
        explain.setWordWrap(True)
        layout.addWidget(explain)
        self.problems_label = QLabel()
        self.problems_label.setWordWrap(True)
        self.problems_label.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.problems_label)
        self.table = QTreeWidget()
        self.table.setRootIsDecorated(False)
        self.table.setHeaderLabels(["Card", "Problem"])
        self.table.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.table.header().setStretchLastSection(True)
        self.table.setColumnWidth(0, 280)
        for item in flagged:
            row = QTreeWidgetItem([item.title, item.reason])
            row.setToolTip(0, plain.tip(item.path))
            row.setToolTip(1, plain.tip(item.reason))
            self.table.addTopLevelItem(row)
        layout.addWidget(self.table, 1)
        if flagged_total:
            more = f" (the first {len(flagged)} are listed)" if flagged_total > len(flagged) else ""
            self.problems_label.setText(
                f"{flagged_total:,} of them fail validation or cannot be written{more}. They are edited too; "
                "the Problems filter and the card's own problems list keep showing them."
            )
        else:
            self.problems_label.setText("None of them has a validation problem.")
            self.table.hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.ok = buttons.addButton(
            f"{action.split(' ')[0]} {count:,} cards", QDialogButtonBox.ButtonRole.AcceptRole
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(640, 420 if flagged_total else 180)

    def listed(self) -> list[tuple[str, str]]:
        """(card, problem) rows as shown (for tests)."""
        return [(self.table.topLevelItem(i).text(0), self.table.topLevelItem(i).text(1))
                for i in range(self.table.topLevelItemCount())]  # fmt: skip
