"""Writing pending edits to the card files on a worker, reviewing the diffs first, reporting the result."""

from __future__ import annotations

import difflib
import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontDatabase, QTextBlockFormat, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QPlainTextEdit,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from curator.core.store import Store
from curator.core.store_types import WriteReport
from curator.gui import library_busy, plain
from curator.gui.workers import Cancelled, Pool, TaskHandle, run_task

#: Files shown in full in the review; the rest are counted (a 10k-file diff helps nobody).
REVIEW_FILES = 300


def unified_diff(path: str, old: bytes, new: bytes) -> str:
    """One file's unified diff (text decoded as UTF-8, undecodable bytes replaced)."""
    lines = difflib.unified_diff(
        old.decode("utf-8", "replace").splitlines(keepends=True),
        new.decode("utf-8", "replace").splitlines(keepends=True),
        fromfile=f"{path} (file)", tofile=f"{path} (after writing)", n=1,
    )  # fmt: skip
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def report_text(report: WriteReport) -> str:
    """A truthful summary: what was written, and every file that was not, with its reason."""
    parts = [f"{plain.count(report.written, 'file')} written"]
    if report.already:
        parts.append(f"{report.already:,} already held the changes")
    if report.unchanged:
        parts.append(f"{report.unchanged:,} needed no change")
    lines = [
        ", ".join(parts)
        + ("; cancelled before the end (the rest stay pending)." if report.cancelled else ".")
    ]
    if report.conflicts:
        lines.append(
            f"\n{plain.count(len(report.conflicts), 'conflict')}: the file changed on disk; the edits stay pending "
            "until you resolve them (Cards > Resolve Conflict…):"
        )
        lines += [f"  {c['path']}: {c['reason']}" for c in report.conflicts[:50]]
    if report.failed:
        lines.append(
            f"\n{len(report.failed):,} not written (read-only, missing or unverifiable); "
            "the edits stay pending:"
        )
        lines += [f"  {f['path']}: {f['reason']}" for f in report.failed[:50]]
    return "\n".join(lines)


class WriteRunner(QObject):
    """Runs Store.write (or a dry run) off the GUI thread, one run at a time."""

    progress = Signal(int, int)
    finished = Signal(object, bool)  # WriteReport, dry_run
    failed = Signal(object)

    def __init__(self, store: Store, pool: Pool | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.pool = pool
        self.task: TaskHandle | None = None

    @property
    def running(self) -> bool:
        return self.task is not None and self.task.running

    def start(self, *, dry_run: bool = False, ids: list[int] | None = None) -> TaskHandle | None:
        """Write every pending edit (of `ids`); None when a run is already going."""
        if self.running:
            return None
        store = self.store
        main = threading.main_thread()

        def work(progress: Any, cancelled: Any) -> WriteReport:
            if threading.current_thread() is not main:
                library_busy.set_busy_timeout(store, library_busy.WORKER_BUSY_TIMEOUT_MS)
            try:
                report = store.write(
                    ids, dry_run=dry_run, progress=lambda d, t: progress(d, t, ""), cancel=cancelled
                )
                if dry_run and report.cancelled:
                    raise Cancelled()
                return report
            finally:
                if threading.current_thread() is not main:
                    store.close()  # this worker's own connection; the GUI thread keeps its own

        # The run counts as over before its results are handed on, so a handler may start the next one
        # (Review -> Write) at once.
        def done(report: WriteReport) -> None:
            self.task = None
            self.finished.emit(report, dry_run)

        def failed(exc: BaseException) -> None:
            self.task = None
            self.failed.emit(exc)

        self.task = handle = TaskHandle()
        run_task(
            work,
            on_progress=lambda d, t, _m: self.progress.emit(d, t),
            on_done=done,
            on_error=failed,
            on_cancelled=lambda: done(WriteReport(cancelled=True)),
            pool=self.pool,
            handle=handle,
        )
        return handle

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()


#: Line colours of the review: a translucent wash under the text, readable in the light and dark themes.
ADDED = QColor(46, 160, 67, 70)
REMOVED = QColor(248, 81, 73, 70)
HUNK = QColor(128, 128, 128, 50)


def line_kind(line: str) -> str:
    """What a unified-diff line is: "file" (---/+++), "hunk" (@@), "added", "removed" or "context"."""
    if line.startswith(("--- ", "+++ ")):
        return "file"
    if line.startswith("@@"):
        return "hunk"
    if line.startswith("+"):
        return "added"
    if line.startswith("-"):
        return "removed"
    return "context"


class ReviewDialog(QDialog):
    """Every file's diff before writing, one section per file with added and removed lines coloured;
    "Write Changes" accepts.

    The diff is card text: it is inserted as plain characters through QTextCursor.insertText with a
    QTextCharFormat per line (never setHtml), so a card holding markup shows that markup as typed. The
    file list on the left jumps to a file's section.
    """

    def __init__(self, diffs: list[tuple[str, bytes, bytes]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Review changes")
        self.setObjectName("reviewDialog")
        layout = QVBoxLayout(self)
        shown = diffs[:REVIEW_FILES]
        more = f" (the first {len(shown):,} are shown)" if len(diffs) > len(shown) else ""
        heading = QLabel(
            f"{plain.count(len(diffs), 'file')} will change{more}. Green lines (+) enter the file, red lines (-) leave it."
        )
        heading.setTextFormat(Qt.TextFormat.PlainText)
        heading.setWordWrap(True)
        layout.addWidget(heading)
        self.files = QListWidget()
        self.files.setObjectName("reviewFiles")
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        #: The block number where each file's section starts, in the order of the file list.
        self.sections: list[int] = []
        self._fill(shown)
        self.files.currentRowChanged.connect(self.show_file)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.files)
        split.addWidget(self.text)
        split.setStretchFactor(1, 1)
        split.setSizes([220, 680])
        split.setChildrenCollapsible(False)
        self.files.setVisible(len(shown) > 1)  # one file needs no index
        layout.addWidget(split, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.write_button = buttons.addButton("Write Changes", QDialogButtonBox.ButtonRole.AcceptRole)
        self.write_button.setEnabled(bool(diffs))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(900, 600)

    def _fill(self, shown: list[tuple[str, bytes, bytes]]) -> None:
        cursor = QTextCursor(self.text.document())
        plain_format = QTextCharFormat()
        title_format = QTextCharFormat()
        title_format.setFontWeight(QFont.Weight.Bold)
        backgrounds = {"added": ADDED, "removed": REMOVED, "hunk": HUNK}
        first = True
        cursor.beginEditBlock()
        for path, old, new in shown:
            if not first:
                cursor.insertBlock()
                cursor.insertBlock()
            first = False
            self.sections.append(cursor.blockNumber())
            self.files.addItem(Path(path).name)
            self.files.item(self.files.count() - 1).setToolTip(plain.tip(path))
            cursor.insertText(f"▌ {path}", title_format)
            for line in unified_diff(path, old, new).splitlines():
                cursor.insertBlock()
                kind = line_kind(line)
                fmt = QTextCharFormat(plain_format)
                if kind in backgrounds:
                    fmt.setBackground(backgrounds[kind])
                elif kind == "file":
                    fmt.setForeground(self.palette().color(self.palette().ColorRole.PlaceholderText))
                cursor.insertText(line, fmt)
                # The wash spans the whole line, not just its characters.
                if kind in backgrounds:
                    block = QTextBlockFormat()
                    block.setBackground(backgrounds[kind])
                    cursor.setBlockFormat(block)
                else:
                    cursor.setBlockFormat(QTextBlockFormat())
        if not shown:
            cursor.insertText("Nothing to write.", plain_format)
        cursor.endEditBlock()
        self.text.moveCursor(QTextCursor.MoveOperation.Start)

    def show_file(self, row: int) -> None:
        """Scroll the diff to the section of file `row` (a click in the file list)."""
        if not 0 <= row < len(self.sections):
            return
        block = self.text.document().findBlockByNumber(self.sections[row])
        cursor = QTextCursor(block)
        self.text.setTextCursor(cursor)
        # Put the section's first line at the top of the view, not merely somewhere on screen.
        bar = self.text.verticalScrollBar()
        bar.setValue(bar.maximum())
        self.text.ensureCursorVisible()

    def line_backgrounds(self) -> list[tuple[str, QColor | None]]:
        """(line text, its block's background or None), every line of the diff (tests read what is shown)."""
        out: list[tuple[str, QColor | None]] = []
        block = self.text.document().begin()
        while block.isValid():
            brush = block.blockFormat().background()
            colour = brush.color() if brush.style() != Qt.BrushStyle.NoBrush else None
            out.append((block.text(), colour))
            block = block.next()
        return out
