"""Writing pending edits to the card files on a worker, reviewing the diffs first, reporting the result."""

from __future__ import annotations

import difflib
import threading
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from curator.core.store import Store
from curator.core.store_types import WriteReport
from curator.gui import library_busy
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
    parts = [f"{report.written:,} file(s) written"]
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
            f"\n{len(report.conflicts):,} conflict(s): the file changed on disk; the edits stay pending "
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


class ReviewDialog(QDialog):
    """Every file's diff before writing; "Write Changes" accepts."""

    def __init__(self, diffs: list[tuple[str, bytes, bytes]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Review changes")
        self.setObjectName("reviewDialog")
        layout = QVBoxLayout(self)
        shown = diffs[:REVIEW_FILES]
        more = f" (the first {len(shown):,} are shown)" if len(diffs) > len(shown) else ""
        heading = QLabel(
            f"{len(diffs):,} file(s) will change{more}. Lines starting with - leave the file, + enter it."
        )
        heading.setTextFormat(Qt.TextFormat.PlainText)
        heading.setWordWrap(True)
        layout.addWidget(heading)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.text.setPlainText(
            "\n".join(unified_diff(p, old, new) for p, old, new in shown) or "Nothing to write."
        )
        layout.addWidget(self.text, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.write_button = buttons.addButton("Write Changes", QDialogButtonBox.ButtonRole.AcceptRole)
        self.write_button.setEnabled(bool(diffs))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(900, 600)
