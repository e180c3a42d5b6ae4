"""The conflict resolver: the library's version and the file's side by side; keep mine or take theirs."""

from __future__ import annotations

import json
from typing import Any

import yaml
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QGridLayout,
    QLabel,
    QRadioButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from curator.core import conflicts
from curator.gui import plain

#: Characters of one value shown in a cell (the tooltip holds up to TOOLTIP_CHARS).
CELL_CHARS = 600
TOOLTIP_CHARS = 4000


def value_text(value: Any, limit: int = CELL_CHARS) -> str:
    """A value as the editor reads it in the file: scalars as text, lists and maps as block YAML."""
    if value is None:
        text = "(not in the file)"
    elif isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (list, dict)):
        # No YAML line folding: the label wraps to its column, and folded scalars read badly.
        text = yaml.safe_dump(value, allow_unicode=True, sort_keys=False, width=10_000).rstrip()
    else:
        text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _who_changed(diff: conflicts.FieldDiff) -> str:
    """Which side changed the field since the library last read the file."""
    file_changed = json.dumps(diff.theirs, sort_keys=True) != json.dumps(diff.base, sort_keys=True)
    if diff.pending and file_changed:
        return "(changed on both sides)"
    return "(edited in Curator)" if diff.pending else "(changed in the file)"


def _cell(text: str, name: str) -> QLabel:
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.PlainText)  # card text is never rich text
    label.setText(text)
    label.setWordWrap(True)
    label.setObjectName(name)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
    label.setMinimumWidth(260)
    return label


class ConflictDialog(QDialog):
    """One row per differing field; `choices()` gives the editor's pick for each."""

    def __init__(self, comparison: conflicts.Comparison, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Resolve conflict")
        self.setObjectName("conflictDialog")
        self.comparison = comparison
        layout = QVBoxLayout(self)
        name = QLabel(comparison.path.rsplit("/", 1)[-1])
        name.setObjectName("dialogHeading")
        name.setTextFormat(Qt.TextFormat.PlainText)
        name.setToolTip(plain.tip(comparison.path))
        layout.addWidget(name)
        intro = QLabel(
            "This file changed on disk after you edited the card in Curator. For each field, keep your value "
            "or take the file's. Kept values stay pending until you write; the file is not touched now."
        )
        intro.setTextFormat(Qt.TextFormat.PlainText)
        intro.setWordWrap(True)
        layout.addWidget(intro)

        grid_host = QWidget()
        grid = QGridLayout(grid_host)
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(8)
        for col, heading in enumerate(("Field", "Mine (in Curator)", "Theirs (in the file now)", "Keep")):
            label = QLabel(heading)
            label.setObjectName("dialogHeading")
            grid.addWidget(label, 0, col)
        self.groups: dict[str, QButtonGroup] = {}
        self.buttons: dict[str, tuple[QRadioButton, QRadioButton]] = {}
        for index, diff in enumerate(comparison.diffs):
            row = 2 * index + 1
            if index:  # a rule between fields: multi-line values otherwise run into each other
                rule = QFrame()
                rule.setFrameShape(QFrame.Shape.HLine)
                rule.setObjectName("conflictRule")
                grid.addWidget(rule, row - 1, 0, 1, 4)
            grid.addWidget(_cell(f"{diff.field}\n{_who_changed(diff)}", "conflictField"), row, 0)
            mine = _cell(value_text(diff.mine), "conflictMine")
            mine.setToolTip(plain.tip(value_text(diff.mine, TOOLTIP_CHARS)))
            theirs = _cell(value_text(diff.theirs), "conflictTheirs")
            theirs.setToolTip(plain.tip(value_text(diff.theirs, TOOLTIP_CHARS)))
            grid.addWidget(mine, row, 1)
            grid.addWidget(theirs, row, 2)
            keep_mine = QRadioButton("Keep mine")
            take_theirs = QRadioButton("Take theirs")
            if not diff.editable:
                keep_mine.setEnabled(False)
                keep_mine.setToolTip(
                    plain.tip(f"{diff.field} is not edited in Curator: only the file's value can be kept")
                )
            group = QButtonGroup(self)
            group.addButton(keep_mine)
            group.addButton(take_theirs)
            (keep_mine if diff.default == conflicts.MINE else take_theirs).setChecked(True)
            box = QVBoxLayout()
            box.addWidget(keep_mine)
            box.addWidget(take_theirs)
            box.addStretch(1)
            grid.addLayout(box, row, 3)
            self.groups[diff.field] = group
            self.buttons[diff.field] = (keep_mine, take_theirs)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(2, 1)
        grid.setRowStretch(2 * len(comparison.diffs) + 1, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(grid_host)
        layout.addWidget(scroll, 1)
        if not comparison.diffs:
            layout.addWidget(
                QLabel("The file already holds every value: resolving just clears the conflict.")
            )

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.all_mine = buttons.addButton("All Mine", QDialogButtonBox.ButtonRole.ActionRole)
        self.all_theirs = buttons.addButton("All Theirs", QDialogButtonBox.ButtonRole.ActionRole)
        self.resolve_button = buttons.addButton("Resolve", QDialogButtonBox.ButtonRole.AcceptRole)
        self.all_mine.clicked.connect(lambda: self.choose_all(conflicts.MINE))
        self.all_theirs.clicked.connect(lambda: self.choose_all(conflicts.THEIRS))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(980, min(760, 220 + 90 * max(1, len(comparison.diffs))))

    def choose(self, field: str, choice: conflicts.Choice) -> None:
        mine, theirs = self.buttons[field]
        if choice == conflicts.MINE and mine.isEnabled():
            mine.setChecked(True)
        elif choice == conflicts.THEIRS:
            theirs.setChecked(True)

    def choose_all(self, choice: conflicts.Choice) -> None:
        for field in self.buttons:
            self.choose(field, choice)

    def choices(self) -> dict[str, conflicts.Choice]:
        """field -> "mine" | "theirs" as the radio buttons stand."""
        return {
            f: conflicts.MINE if mine.isChecked() else conflicts.THEIRS
            for f, (mine, _t) in self.buttons.items()
        }
