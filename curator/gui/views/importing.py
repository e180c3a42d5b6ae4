"""Importing: the worker that runs imports and rescans, the status bar's progress widget, and the window's
import controller (File > Open Folder…, Rescan, the first start, what the status bar and the problems
report say after a run)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QProgressBar, QStatusBar, QToolButton, QWidget

from curator.core.store import Store
from curator.core.store_types import ImportReport
from curator.core.store_write import imported_roots
from curator.gui import errorlog, library_busy, plain
from curator.gui.actions import Actions
from curator.gui.views.folder_watch import rescan_roots
from curator.gui.views.problems_report import ProblemsReport, import_roots
from curator.gui.workers import Pool, TaskHandle, run_task


def scan_roots(paths: Iterable[str]) -> list[str]:
    """The folders holding `paths`, without folders nested in another one of them (walked once)."""
    folders = sorted({os.path.dirname(p) for p in paths})
    roots: list[str] = []
    for folder in folders:
        if not any(folder == r or folder.startswith(r.rstrip(os.sep) + os.sep) for r in roots):
            roots.append(folder)
    return roots


def rescan_folders(store: Store) -> list[str]:
    """The folders a rescan walks (folder_watch.rescan_roots): a worker's read, two round trips on a team
    library. Paths only: a rescan must not build a CardRow per card."""
    return rescan_roots(scan_roots(store.card_paths()), imported_roots(store))


class ProgressWidget(QWidget):
    """The status bar's progress bar with a cancel button; hidden while nothing runs."""

    def __init__(self, actions: Actions) -> None:
        super().__init__()
        self.cancel_action = actions.cancel_task
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
        """A task began: show `text`, a busy bar and the (enabled) cancel button."""
        self.label.setText(text)
        self.bar.setRange(0, 0)  # busy until the first report gives a total
        self.cancel_action.setEnabled(True)
        self.show()

    def finish(self) -> None:
        """The task is over (done, cancelled or failed): hide, and nothing left to cancel."""
        self.hide()
        self.cancel_action.setEnabled(False)

    def report(self, done: int, total: int) -> None:
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)
        self.bar.setFormat(f"{done:,} / {total:,}")


class ImportRunner(QObject):
    """Runs core.importer.import_paths off the GUI thread, one run at a time."""

    progress = Signal(int, int)  # files settled, files in the run
    finished = Signal(object)  # the ImportReport (also after a cancel: it keeps what it stored)
    failed = Signal(object)  # the exception
    idle = Signal()  # a rescan found no folder to walk (no card, no imported root): nothing ran

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
        self.paths = list(paths)
        return self._run(lambda _store: list(paths))

    def rescan(self) -> TaskHandle | None:
        """Re-import the imported roots and the folders the library's cards live in (only changed files
        are read); a root with no card yet counts too, so a new sub-folder of one is found. None when a
        run is already going.

        The folders are read on the run's worker, not here: on a team library the card paths and the
        imported roots are two round trips (the paths of 100k cards, a few MB), which on the GUI thread
        froze the window for as long as the server took. A library with nothing to rescan emits `idle`."""
        if self.running:
            return None
        self.paths = []
        return self._run(rescan_folders)

    def _run(self, folders: Callable[[Store], list[str]]) -> TaskHandle:
        from curator.core.importer import import_paths

        store, workers = self.store, self.workers
        main = threading.main_thread()

        def work(progress: Any, cancelled: Any) -> ImportReport | None:
            if threading.current_thread() is not main:
                # This worker waits its turn behind another writer; only the GUI thread's wait is short.
                library_busy.set_busy_timeout(store, library_busy.WORKER_BUSY_TIMEOUT_MS)
            try:
                paths = folders(store)
                # Read on the GUI thread only after `finished`, `failed` or `idle` (queued after this).
                self.paths = paths
                if not paths:
                    return None
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

    def cancel(self) -> None:
        if self.task is not None:
            self.task.cancel()

    def _done(self, report: ImportReport | None) -> None:
        if report is None:
            self.idle.emit()  # a rescan of a library with no folder to walk: nothing was run
            return
        self.last_report = report
        self.finished.emit(report)


class ImportController(QObject):
    """The window's imports and rescans: starts them, shows their progress, and tells what they did.

    Collaborators are handed in (the window wires them): the runner, the progress widget, the status bar,
    the problems report, the actions, and `more_coming` (the folder watcher's "events since the rescan
    began"). What the rest of the window does after a run it learns from the signals.
    """

    progress = Signal(int, int)  # files settled, files in the run
    finished = Signal(object)  # the ImportReport of any run (also after a cancel), after the signals below
    cardsChanged = Signal(list)  # a quiet rescan changed these loaded cards in place (refresh the rows)
    libraryChanged = Signal()  # cards were added or removed: re-run the query, recount, watch again
    rescanStarted = Signal()

    def __init__(
        self, runner: ImportRunner, progress: ProgressWidget, status: QStatusBar, problems: ProblemsReport,
        actions: Actions, *, loaded_ids: Callable[[], list[int]], more_coming: Callable[[], bool],
        parent: QWidget,
    ) -> None:  # fmt: skip
        super().__init__(parent)
        self.runner = runner
        self.progress_widget = progress
        self.status = status
        self.problems = problems
        self.loaded_ids = loaded_ids
        self.more_coming = more_coming
        self.parent_widget = parent
        self._quiet = False  # the running rescan was started by the watcher or the timer
        self._last_failure: str | None = None  # a failure already told (the watcher repeats runs)
        self._added_while_arriving = 0  # cards added by quiet rescans while events kept coming
        runner.progress.connect(self._progress)
        runner.finished.connect(self._imported)
        runner.failed.connect(self._failed)
        runner.idle.connect(self._idle)
        actions.open_folder.triggered.connect(self.choose_folder)
        actions.rescan.triggered.connect(lambda: self.rescan())
        actions.cancel_task.triggered.connect(runner.cancel)

    @property
    def running(self) -> bool:
        return self.runner.running

    def start(self, path: str | None) -> None:
        """After showing: import `path` if given. An empty library shows how to get cards in (open a folder,
        a recent one, or a copy of the sample cards: views/empty_state.py), never imports anything itself."""
        if path:
            self.import_paths([path])

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self.parent_widget, "Open a folder of cards")
        if folder:
            self.import_paths([folder])

    def rescan(self, quiet: bool = False) -> None:
        """Pick up cards added, changed or removed in the library's folders (`quiet`: no progress bar)."""
        if self.runner.running:
            return
        self._quiet = quiet
        if not quiet:
            self.progress_widget.start("Rescanning the library")
        self.rescanStarted.emit()
        self.runner.rescan()

    def _idle(self) -> None:
        """The rescan found no folder to walk: nothing ran, nothing to say."""
        self._quiet = False
        self.progress_widget.finish()

    def import_paths(self, paths: list[str]) -> TaskHandle | None:
        """Import files/folders on a worker with progress and cancel; the list reloads when done."""
        if self.runner.running:
            self.status.showMessage("An import is already running", 5000)
            return None
        # Shown before starting: with an inline pool the run (and its end) happens inside start().
        self.progress_widget.start(f"Importing {', '.join(Path(p).name for p in paths)}")
        return self.runner.start(paths)

    def _progress(self, done: int, total: int) -> None:
        self.progress_widget.report(done, total)
        self.progress.emit(done, total)

    def _imported(self, report: ImportReport) -> None:
        self.progress_widget.finish()
        known = {(p.path, p.reason) for p in self.problems.of_kind("import")}
        self.problems.imported(report, import_roots(self.runner.paths))
        self._last_failure = None
        quiet, self._quiet = self._quiet, False
        # The watcher and the timer rescan again and again: a failure already reported is not news.
        repeated = quiet and {(str(e.get("path")), str(e.get("message"))) for e in report.errors} <= known
        if quiet and not (report.added or report.removed or (report.failed and not repeated)):
            # A background rescan (watcher, timer) that found no card added or removed: refresh the changed
            # cards in place, so the list keeps its scroll position and the editor its text.
            if report.updated or report.conflicts:
                self.cardsChanged.emit(self.loaded_ids())
            self._say_arrival(report)
            self.finished.emit(report)
            return
        self.libraryChanged.emit()
        if quiet and self._say_arrival(report):
            self.finished.emit(report)
            return
        self.status.showMessage(self.summary(report), 20_000 if report.errors else 10_000)
        self.finished.emit(report)

    def _say_arrival(self, report: ImportReport) -> bool:
        """While a copy goes on (the watcher saw changes during this rescan), say that cards are still
        arriving, with the count so far; True when said."""
        if self.more_coming():
            self._added_while_arriving += report.added
            self.status.showMessage(
                f"Cards are still arriving: {self._added_while_arriving:,} added so far, more on the next rescan…"
            )
            return True
        if self._added_while_arriving:
            total, self._added_while_arriving = self._added_while_arriving + report.added, 0
            self.status.showMessage(f"All arrived: {total:,} cards added from the folders", 10_000)
            return True
        return False

    @staticmethod
    def summary(report: ImportReport) -> str:
        """The status bar's sentence after a run: counts, and the first failed file with its reason."""
        parts = [f"{report.added} added", f"{report.updated} updated", f"{report.unchanged} unchanged"]
        if report.removed:
            parts.append(f"{report.removed} removed")
        if report.failed:
            parts.append(f"{report.failed} failed")
        text = ("Import cancelled: " if report.cancelled else "Import done: ") + ", ".join(parts)
        if report.errors:
            first = report.errors[0]
            where = Path(str(first.get("path") or "")).name
            line = f", line {first['line']}" if first.get("line") else ""
            more = f" (and {len(report.errors) - 1:,} more)" if len(report.errors) > 1 else ""
            text += (f" — {where}{line}: {first.get('message')}{more}. "
                     "Click ⚠ or Help > Problems Report… for every file.")  # fmt: skip
        return text

    def _failed(self, exc: BaseException) -> None:
        """The whole run stopped (the importer reports one file's trouble as that file's error, so this is
        a busy library, a full disk, or a bug): say what was being imported and why, once."""
        self.progress_widget.finish()
        quiet, self._quiet = self._quiet, False
        what = ", ".join(self.runner.paths) or "the library's folders"
        if library_busy.is_busy(exc):
            reason = library_busy.busy_reason(
                exc, "the library is busy: another Curator is writing to it; nothing was lost, try again"
            )
        else:
            reason = f"{type(exc).__name__}: {exc}"
            errorlog.log_failure(f"Import of {what} stopped", exc)
        self.problems.import_failed(import_roots(self.runner.paths), f"The import stopped: {reason}")
        repeated = self._last_failure == reason
        self._last_failure = reason
        if quiet or repeated:
            # A background rescan: no dialog (the watcher would raise one per change); said once below.
            if not repeated:
                self.status.showMessage(f"Rescan stopped: {reason} (Help > Problems Report…)", 15_000)
        else:
            plain.warning(
                self.parent_widget, "Import failed",
                f"The import of {what} stopped: {reason}\n\nCards stored before it stopped are kept. "
                f"Details are in the problems report (Help > Problems Report…) and in {errorlog.log_path()}.",
            )  # fmt: skip
        self.libraryChanged.emit()
