"""The problems report: every file that could not be imported or written, every failed check, and bugs.

The status bar used to show the first import error for 15 s and nothing else. Now every failure is an
entry here (what, file, line, reason), kept until it is fixed: an import entry goes when the file is next
read without an error (or is gone), a write entry when the next write no longer fails for it, a bug entry
names the log file its traceback went to. The window's status bar button and Help > Problems Report…
open the dialog; its text is plain and copyable (Copy puts every row on the clipboard as tab-separated lines).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from curator.core.store_types import ImportReport, WriteReport
from curator.gui import errorlog, plain

IMPORT, WRITE, CHECK, WATCH, BUG = "import", "write", "check", "folders", "bug"
KIND_LABELS = {
    IMPORT: "Import",
    WRITE: "Write",
    CHECK: "Check",
    WATCH: "Watching folders",
    BUG: "Curator error",
}
#: Card problems (`curator check`) listed in the dialog; the rest are counted.
MAX_CHECKS = 2000
#: Bugs kept in the report (each one's traceback is in the log file anyway).
MAX_BUGS = 100


@dataclass(frozen=True)
class Problem:
    """One entry: what failed (a KIND), on which file (or ""), where in it, and why, in a sentence."""

    kind: str
    path: str
    line: int | None
    reason: str

    def as_text(self) -> str:
        return "\t".join((KIND_LABELS.get(self.kind, self.kind), self.path, "" if self.line is None else str(self.line),
                          self.reason))  # fmt: skip


def _under(path: str, roots: Iterable[str]) -> bool:
    for root in roots:
        r = os.path.abspath(root)
        if path == r or path.startswith(r.rstrip(os.sep) + os.sep):
            return True
    return False


def _line(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


class ProblemsReport(QObject):
    """The entries, grouped by kind and path; `changed` after every change."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._entries: dict[tuple[str, str], list[Problem]] = {}
        self._bugs: list[Problem] = []

    def problems(self) -> list[Problem]:
        """Every entry: files first (by kind, then path), then bugs, oldest first."""
        files = [p for key in sorted(self._entries) for p in self._entries[key]]
        return files + list(self._bugs)

    def __len__(self) -> int:
        return sum(len(v) for v in self._entries.values()) + len(self._bugs)

    def of_kind(self, kind: str) -> list[Problem]:
        return [p for p in self.problems() if p.kind == kind]

    def text(self) -> str:
        """Every entry as a tab-separated line (what Copy puts on the clipboard)."""
        header = "What\tFile\tLine\tReason"
        return "\n".join([header, *(p.as_text() for p in self.problems())])

    # -- recording ----------------------------------------------------------------------------------
    def imported(self, report: ImportReport, roots: Iterable[str]) -> None:
        """An import or rescan over `roots` finished: its errors replace the import entries under them.

        Every file under the roots was either read (an old entry for it is fixed now, unless it failed
        again) or is gone (its entry is stale either way). A cancelled run only adds.
        """
        roots = [str(r) for r in roots]
        if not report.cancelled:
            for key in [k for k in self._entries if k[0] == IMPORT and _under(k[1], roots)]:
                del self._entries[key]
        for error in report.errors:
            path = str(error.get("path") or "")
            problem = Problem(
                IMPORT, path, _line(error.get("line")), str(error.get("message") or "unreadable")
            )
            entries = self._entries.setdefault((IMPORT, path), [])
            if problem not in entries:
                entries.append(problem)
        self.changed.emit()

    def import_failed(self, roots: Iterable[str], reason: str) -> None:
        """A whole run stopped (not one file): one entry naming what was being imported."""
        for root in roots:
            self._entries[(IMPORT, str(root))] = [Problem(IMPORT, str(root), None, reason)]
        self.changed.emit()

    def written(self, report: WriteReport, *, every_pending: bool) -> None:
        """A write finished. After a write of every pending edit, the write entries are this run's alone
        (a file that failed before and did not fail now was written, or has no edits left)."""
        if every_pending and not report.cancelled:
            for key in [k for k in self._entries if k[0] == WRITE]:
                del self._entries[key]
        for item in [*report.conflicts, *report.failed]:
            path = str(item.get("path") or "")
            self._entries[(WRITE, path)] = [
                Problem(WRITE, path, None, str(item.get("reason") or "not written"))
            ]
        self.changed.emit()

    def add(self, kind: str, path: str, reason: str, line: int | None = None) -> None:
        """One entry for `path` of `kind` (replacing the one before it)."""
        self._entries[(kind, path)] = [Problem(kind, path, line, reason)]
        self.changed.emit()

    def clear(self, kind: str, path: str | None = None) -> None:
        """Drop the entries of `kind` (for `path` only, when given)."""
        for key in [k for k in self._entries if k[0] == kind and (path is None or k[1] == path)]:
            del self._entries[key]
        self.changed.emit()

    def bug(self, summary: str) -> None:
        """A bug written to the log: named here with the log file's path."""
        reason = f"{summary} (details in {errorlog.log_path()})"
        self._bugs = [*self._bugs[-(MAX_BUGS - 1) :], Problem(BUG, "", None, reason)]
        self.changed.emit()

    def clear_bugs(self) -> None:
        self._bugs = []
        self.changed.emit()

    def paths(self, kind: str) -> set[str]:
        return {k[1] for k in self._entries if k[0] == kind}


class ProblemsDialog(QDialog):
    """The report as a table (plain text, selectable, copyable); refreshes while open."""

    def __init__(self, report: ProblemsReport, parent: QWidget | None = None, *,
                 checks: Callable[[], list[Problem]] | None = None) -> None:  # fmt: skip
        """`checks()` lists the library's card problems now (read on every refresh, so fixed ones go)."""
        super().__init__(parent)
        self.report = report
        self.setWindowTitle("Problems report")
        self.setObjectName("problemsDialog")
        layout = QVBoxLayout(self)
        self.summary = plain.label(wrap=True)
        layout.addWidget(self.summary)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["What", "File", "Line", "Reason"])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(1, 320)
        layout.addWidget(self.table, 1)
        self.log_label = plain.label(wrap=True)
        self.log_label.setObjectName("detailMeta")
        self.log_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.log_label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = buttons.addButton("Copy All", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy_all)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Copy), self.table, self.copy_selected)
        self._checks = checks
        self._more_checks = 0
        self.shown: list[Problem] = []
        report.changed.connect(self.refresh)
        self.refresh()
        self.resize(900, 420)

    def problems(self) -> list[Problem]:
        """What the table shows: the report's entries, then the card problems (at most MAX_CHECKS)."""
        checks = self._checks() if self._checks is not None else []
        self._more_checks = max(0, len(checks) - MAX_CHECKS)
        return [*self.report.problems(), *checks[:MAX_CHECKS]]

    def refresh(self) -> None:
        problems = self.shown = self.problems()
        self.table.setRowCount(len(problems))
        for row, problem in enumerate(problems):
            cells = (KIND_LABELS.get(problem.kind, problem.kind), problem.path,
                     "" if problem.line is None else str(problem.line), problem.reason)  # fmt: skip
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(plain.tip(text) or "")
                self.table.setItem(row, column, item)
        count = len(problems) + self._more_checks
        text = f"{plain.count(count, 'problem')}." if count else "No problems: every file was imported and written."
        if self._more_checks:
            text += f" The first {MAX_CHECKS:,} card problems are listed (see `curator check` for all)."
        self.summary.setText(text)
        self.log_label.setText(f"Tracebacks of Curator's own errors are written to {errorlog.log_path()}")

    def text(self) -> str:
        """Every shown row as a tab-separated line under a header (what Copy All puts on the clipboard)."""
        return "\n".join(["What\tFile\tLine\tReason", *(p.as_text() for p in self.shown)])

    def copy_all(self) -> None:
        QGuiApplication.clipboard().setText(self.text())

    def copy_selected(self) -> None:
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        lines = [self.shown[r].as_text() for r in rows if r < len(self.shown)]
        QGuiApplication.clipboard().setText("\n".join(lines) if lines else self.text())


def check_problems(rows: Iterable[Any]) -> list[Problem]:
    """Store.problems() rows as report entries (field and problem in one sentence)."""
    return [Problem(CHECK, str(r.path), None, f"{r.field}: {r.problem}") for r in rows]


def import_roots(paths: Iterable[str]) -> list[str]:
    """The absolute roots an import was given (what its report's entries are cleared under)."""
    return [os.path.abspath(os.fspath(Path(p))) for p in paths]
