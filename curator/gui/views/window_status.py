"""The window's status bar: what is shown of the library, the library's own counts, the problems button,
the progress of a running task and the auto-advance toggle, plus the Write/Review actions that follow them.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QStatusBar, QToolButton

from curator.core.store_types import Totals
from curator.gui import plain
from curator.gui.actions import Actions
from curator.gui.views.importing import ProgressWidget
from curator.gui.views.problems_report import ProblemsReport


class WindowStatus(QObject):
    """Fills `bar` once; `show_counts` after every query and every change of the library's totals."""

    def __init__(
        self, bar: QStatusBar, progress: ProgressWidget, problems: ProblemsReport, actions: Actions
    ) -> None:
        super().__init__(bar)
        self.actions = actions
        self.problems = problems
        self.shown_label = plain.label()
        self.changed_label = plain.label()
        bar.addWidget(self.shown_label)
        bar.addWidget(self.changed_label)
        # "⚠ 3 problems": opens the problems report (Help > Problems Report…); hidden while it is empty.
        self.problems_button = QToolButton()
        self.problems_button.setObjectName("problemsButton")
        self.problems_button.setAutoRaise(True)
        self.problems_button.setToolTip("Open the problems report (Help > Problems Report…)")
        self.problems_button.clicked.connect(actions.problems.trigger)
        self.problems_button.hide()
        bar.addPermanentWidget(self.problems_button)
        problems.changed.connect(self._problems_changed)
        bar.addPermanentWidget(progress)
        # The auto-advance toggle, where the editor sees it while triaging (also in the Cards menu).
        self.advance_button = QToolButton()
        self.advance_button.setObjectName("advanceButton")
        self.advance_button.setAutoRaise(True)
        self.advance_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advance_button.setDefaultAction(actions.advance)
        self.advance_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # a click leaves the keys in the list
        bar.addPermanentWidget(self.advance_button)

    def show_counts(self, totals: Totals, shown: int, *, counting: bool, writing: bool) -> None:
        """`shown` cards match the query (`counting`: more may come); `totals` count the whole library."""
        a = self.actions
        a.write.setText(f"&Write Changes ({totals.dirty:,})" if totals.dirty else "&Write Changes")
        a.write.setEnabled(bool(totals.dirty) and not writing)
        a.review.setEnabled(bool(totals.dirty) and not writing)
        a.resolve_conflict.setEnabled(bool(totals.conflicts))
        self.shown_label.setText(f"{shown:,}{'+' if counting else ''} shown of {totals.cards:,} cards")
        extra = [f"{totals.dirty:,} changed"]
        if totals.problems:
            extra.append(f"{totals.problems:,} with problems")
        if totals.conflicts:
            extra.append(f"{totals.conflicts:,} conflict{'s' if totals.conflicts != 1 else ''}")
        if totals.missing:
            extra.append(f"{totals.missing:,} missing")
        # Whole-library counts (the facets count the query): said, so the two never seem to disagree.
        self.changed_label.setText("Library: " + " · ".join(extra))

    def _problems_changed(self) -> None:
        count = len(self.problems)
        self.problems_button.setText(f"⚠ {count:,} problem{'s' if count != 1 else ''}")
        self.problems_button.setVisible(bool(count))
