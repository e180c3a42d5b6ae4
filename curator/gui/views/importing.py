"""Imports and rescans on a worker thread, and the status bar widget that shows their progress."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget

from curator.core.store import Store
from curator.core.store_types import ImportReport
from curator.gui import library_busy
from curator.gui.actions import Actions
from curator.gui.workers import Pool, TaskHandle, run_task


def scan_roots(paths: Iterable[str]) -> list[str]:
    """The folders holding `paths`, without folders nested in another one of them (walked once)."""
    folders = sorted({os.path.dirname(p) for p in paths})
    roots: list[str] = []
    for folder in folders:
        if not any(folder == r or folder.startswith(r.rstrip(os.sep) + os.sep) for r in roots):
            roots.append(folder)
    return roots


class ProgressWidget(QWidget):
    """The status bar's progress bar with a cancel button; hidden while nothing runs."""

    def __init__(self, actions: Actions) -> None:
        super().__init__()
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # "Importing <folder name>": a name is not markup
        self.bar = QProgressBar()
        self.bar.setFixedWidth(180)
        self.bar.setTextVisible(True)
        self.cancel = QToolButton()
        self.cancel.setDefaultAction(actions.cancel_task)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.label)
        row.addWidget(self.bar)
        row.addWidget(self.cancel)
        self.hide()

    def start(self, text: str) -> None:
        self.label.setText(text)
        self.bar.setRange(0, 0)  # busy until the first report gives a total
        self.show()

    def report(self, done: int, total: int) -> None:
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)
        self.bar.setFormat(f"{done:,} / {total:,}")


class ImportRunner(QObject):
    """Runs core.importer.import_paths off the GUI thread, one run at a time."""

    progress = Signal(int, int)  # files settled, files in the run
    finished = Signal(object)  # the ImportReport (also after a cancel: it keeps what it stored)
    failed = Signal(object)  # the exception

    def __init__(self, store: Store, pool: Pool | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.pool = pool
        #: Parse processes (None: the importer's default); tests use 1 for determinism.
        self.workers: int | None = None
        self.task: TaskHandle | None = None
        self.last_report: ImportReport | None = None
        #: The files/folders of the running (or last) run: its report's errors are cleared under them.
        self.paths: list[str] = []

    @property
    def running(self) -> bool:
        return self.task is not None and self.task.running

    def start(self, paths: list[str]) -> TaskHandle | None:
        """Import files/folders; None when a run is already going."""
        if self.running:
            return None
        from curator.core.importer import import_paths

        store, workers = self.store, self.workers
        self.paths = list(paths)
        main = threading.main_thread()

        def work(progress: Any, cancelled: Any) -> ImportReport:
            if threading.current_thread() is not main:
                # This worker waits its turn behind another writer; only the GUI thread's wait is short.
                library_busy.set_busy_timeout(store, library_busy.WORKER_BUSY_TIMEOUT_MS)
            try:
                return import_paths(
                    store, paths, lambda done, total: progress(done, total, ""), cancelled, workers=workers
                )
            finally:
                store.close()  # this worker thread's own connection (the GUI thread keeps its own)

        self.task = handle = TaskHandle()
        run_task(
            work,
            on_progress=lambda done, total, _message: self.progress.emit(done, total),
            on_done=self._done,
            on_error=self.failed.emit,
            pool=self.pool,
            handle=handle,
        )
        return handle

    def rescan(self) -> TaskHandle | None:
        """Re-import the folders the library's cards live in (only changed files are read)."""
        conn = self.store.connection()
        # Paths only, straight from SQL: a rescan must not build a CardRow per card.
        paths = [row[0] for row in conn.execute("SELECT path FROM card")]
        roots = [r for r in scan_roots(paths) if Path(r).is_dir()]
        return self.start(roots) if roots else None

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def _done(self, report: ImportReport) -> None:
        self.last_report = report
        self.finished.emit(report)
