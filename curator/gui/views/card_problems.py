"""The detail pane's list of the shown card's problems, in words, each fixable one with its own Fix button.

The problems are the core's (:func:`curator.core.fields.problems` on the card's current values, pending edits
included), so the pane, ``curator check`` and the Problems filter always agree. A fix is previewed before
it is applied: the button's row shows the value it will write (for mojibake, ftfy's repaired text), and a
click emits one ``fixRequested(changes, label)``, which the detail panel hands on as an ordinary edit
(one Store call, one undo step).
"""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from curator.core import fields
from curator.core.fields import Problem
from curator.gui import plain

#: How much of a repaired value the preview shows (the tooltip shows up to plain.TIP_CHARS).
PREVIEW_CHARS = 140
_ITEM_FIELD = re.compile(r"(\w+)\[(\d+)\]\.(\w+)")


def fix_preview(changes: dict[str, Any], problem: Problem) -> str:
    """The value a fix will write, as the editor reads it: the repaired text itself for a related item's
    title (the change replaces the whole related list, which says nothing at a glance)."""
    m = _ITEM_FIELD.fullmatch(problem.field)
    value: Any
    if m and isinstance(changes.get(m[1]), list) and int(m[2]) < len(changes[m[1]]):
        item = changes[m[1]][int(m[2])]
        value = item.get(m[3]) if isinstance(item, dict) else item
    else:
        value = changes.get(problem.field, next(iter(changes.values()), None))
    if isinstance(value, list):
        text = ", ".join(str(v) for v in value)
    else:
        text = str(value)
    text = " ".join(text.split())
    return text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"


def fix_label(problem: Problem) -> str:
    """The undo step's name for one fix ("Repair garbled text in title")."""
    if problem.kind == "mojibake":
        return f"Repair garbled text in {problem.field}"
    return f"Fix {problem.field}"


class ProblemRow(QFrame):
    """One problem: its sentence, and for a fixable one the value the fix writes and the button."""

    def __init__(self, problem: Problem, changes: dict[str, Any] | None) -> None:
        super().__init__()
        self.setObjectName("problemRow")
        self.problem = problem
        self.changes = changes
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 2, 0, 2)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(1)
        self.text = plain.label(f"⚠ {problem.problem}", wrap=True)
        self.text.setObjectName("problemText")
        self.text.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        grid.addWidget(self.text, 0, 0)
        self.preview = None
        self.button: QPushButton | None = None
        if changes is not None:
            shown = fix_preview(changes, problem)
            self.preview = plain.label(f"Fix writes: {shown}", wrap=True)
            self.preview.setObjectName("problemFix")
            self.preview.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            self.preview.setToolTip(plain.tip(shown))
            grid.addWidget(self.preview, 1, 0)
            self.button = QPushButton("Repair" if problem.kind == "mojibake" else "Fix")
            self.button.setObjectName("problemFixButton")
            self.button.setToolTip(plain.tip(f"{fix_label(problem)} (one step: Edit > Undo takes it back)"))
            grid.addWidget(self.button, 0, 1, 2, 1)
        else:
            self.text.setToolTip(plain.tip("Needs an editor's choice: edit the value above or in the file."))
        grid.setColumnStretch(0, 1)


class CardProblems(QWidget):
    """Lists one card's problems; hidden when it has none. Emits `fixRequested(changes, label)`."""

    fixRequested = Signal(dict, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cardProblems")
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(0, 4, 0, 4)
        self.box.setSpacing(2)
        self.heading = plain.label()
        self.heading.setObjectName("detailSection")
        self.box.addWidget(self.heading)
        self.rows: list[ProblemRow] = []
        self.hide()

    def show_data(self, data: dict[str, Any] | None) -> list[Problem]:
        """Show the problems of a card's current values (None: no card); returns them."""
        for row in self.rows:
            self.box.removeWidget(row)
            row.hide()
            row.setParent(None)
            row.deleteLater()
        self.rows = []
        found = fields.problems(data) if data is not None else []
        for problem in found:
            changes: dict[str, Any] | None = None
            if problem.fixable:
                try:
                    changes = fields.fix(data or {}, problem)
                except ValueError:
                    changes = None  # the core offers no automatic fix for this value after all
            row = ProblemRow(problem, changes)
            if row.button is not None and changes is not None:
                row.button.clicked.connect(
                    lambda _c=False, ch=changes, p=problem: self.fixRequested.emit(ch, fix_label(p))
                )
            self.box.addWidget(row)
            row.show()  # at once, not on the layout's deferred show: the pane is complete when this returns
            self.rows.append(row)
        fixable = sum(1 for r in self.rows if r.button is not None)
        count = f"{len(found)} problem{'s' if len(found) != 1 else ''}"
        self.heading.setText(f"{count}, {fixable} with a fix" if fixable else count)
        self.setVisible(bool(found))
        return found
