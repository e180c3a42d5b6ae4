"""The window's side of the files: write and review, conflicts, and the close prompt.

Edits live in the library until written; this controller writes them on a worker (progress, cancel),
shows the diffs first on request, reports files it could not write (read-only, vanished, conflicts),
and opens the conflict resolver. Changes made outside are the folder watcher's (views/folder_watch.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QMessageBox

from curator.core import conflicts
from curator.core.store_types import WriteReport
from curator.gui import errorlog, library_busy, plain
from curator.gui.views.conflict_dialog import ConflictDialog
from curator.gui.views.writing import ReviewDialog, WriteRunner, report_text

if TYPE_CHECKING:
    from curator.gui.views.main_window import MainWindow

WRITE, KEEP, CANCEL = "write", "keep", "cancel"


def unwritten_box(count: int, parent: QObject | None = None) -> QMessageBox:
    """The close prompt: truthful about where unwritten edits go (they stay in the library)."""
    box = QMessageBox(parent)  # type: ignore[arg-type]
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Unwritten changes")
    box.setText(f"{count:,} card(s) have changes not yet written to their files.")
    box.setInformativeText(
        "If you quit without writing, the changes stay in the library: they are still pending, marked and "
        "undoable the next time you open Curator. The card files keep their old contents until you write."
    )
    box.write_button = box.addButton("Write Changes and Quit", QMessageBox.ButtonRole.AcceptRole)  # type: ignore[attr-defined]
    box.keep_button = box.addButton("Quit Without Writing", QMessageBox.ButtonRole.DestructiveRole)  # type: ignore[attr-defined]
    box.cancel_button = box.addButton(QMessageBox.StandardButton.Cancel)  # type: ignore[attr-defined]
    box.setDefaultButton(box.write_button)  # type: ignore[attr-defined]
    return box


def _ask_box(box: QMessageBox) -> str:
    box.exec()
    clicked = box.clickedButton()
    if clicked is box.write_button:  # type: ignore[attr-defined]
        return WRITE
    if clicked is box.keep_button:  # type: ignore[attr-defined]
        return KEEP
    return CANCEL


class FileController(QObject):
    """Writes, reviews, resolves and watches for one window."""

    writeFinished = Signal(object, bool)  # WriteReport, dry_run (after the window has been refreshed)
    conflictResolved = Signal(int)
    cardsChanged = Signal(list)  # a resolved conflict changed these cards (the window refreshes them)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.store = window.store
        self.writer = WriteRunner(window.store, window.pool, self)
        self.writer.progress.connect(window.progress.report)
        self.writer.finished.connect(self._finished)
        self.writer.failed.connect(self._failed)
        #: Answers the close prompt (tests replace it): returns WRITE, KEEP or CANCEL.
        self.ask_close: Callable[[QMessageBox], str] = _ask_box
        #: Shows a dialog and says whether it was accepted (tests replace it).
        self.run_dialog: Callable[[object], bool] = lambda d: d.exec() == ReviewDialog.DialogCode.Accepted  # type: ignore[attr-defined]
        self.last_report: WriteReport | None = None
        self.last_dialog: object | None = None
        self._close_after_write = False
        self._every_pending = True
        a = window.actions
        a.cancel_task.triggered.connect(self.writer.cancel)
        a.write.triggered.connect(self.write_changes)
        a.review.triggered.connect(self.review_changes)
        a.resolve_conflict.triggered.connect(self.resolve_current)

    # -- writing ------------------------------------------------------------------------------------
    def write_changes(self) -> None:
        """Write every pending edit on a worker (progress and cancel in the status bar)."""
        self._start(dry_run=False)

    def review_changes(self) -> None:
        """Compute every file's diff on a worker, then show them; the dialog's Write button writes."""
        self._start(dry_run=True)

    def _start(self, *, dry_run: bool) -> None:
        w = self.window
        if self.writer.running or w.importer.running:
            w.statusBar().showMessage("Another task is running; try again when it has finished", 5000)
            return
        if not self.store.totals().dirty:
            w.statusBar().showMessage("Nothing to write: no card has pending edits", 5000)
            return
        self._every_pending = True  # writer.start() below writes (or reviews) every pending edit
        w.progress.start("Preparing the review" if dry_run else "Writing changes")
        w.actions.write.setEnabled(False)
        self.writer.start(dry_run=dry_run)

    def _finished(self, report: WriteReport, dry_run: bool) -> None:
        w = self.window
        w.progress.finish()
        self.last_report = report
        if dry_run:
            w.update_status()
            if not report.cancelled:
                dialog = ReviewDialog(report.diffs, w)
                self.last_dialog = dialog
                if self.run_dialog(dialog):
                    self.write_changes()
            self.writeFinished.emit(report, dry_run)
            return
        # Written cards lost their dirty mark (and conflicts gained one): repaint what is loaded.
        w.model.refresh_rows(w.model.loaded_ids())
        if w.detail.card is not None:
            w.detail.show_card(self.store.detail(w.detail.card.id), keep_scroll=True)
        w.update_status()
        w.refresh_facets()
        text = report_text(report)
        trouble = bool(report.conflicts or report.failed)
        w.problems.written(report, every_pending=self._every_pending)
        if trouble:
            # File paths and reasons are card data: plain text, opened without blocking the window.
            self.last_dialog = plain.message(
                w, QMessageBox.Icon.Warning, "Some files were not written",
                text + "\n\nEvery file and reason is also in Help > Problems Report….", modal=False,
            )  # fmt: skip
        else:
            w.statusBar().showMessage(text, 10_000)
        self.writeFinished.emit(report, dry_run)
        if self._close_after_write:
            self._close_after_write = False
            if not trouble and not report.cancelled:
                # Later, not here: this may run inside the closeEvent that started the write (an inline
                # pool), where a nested close() is ignored.
                QTimer.singleShot(0, w.close)

    def _failed(self, exc: BaseException) -> None:
        self.window.progress.finish()
        self._close_after_write = False
        if library_busy.is_busy(exc):
            reason = "the library is busy: another Curator is writing to it"
        else:
            reason = f"{type(exc).__name__}: {exc}"
            errorlog.log_failure("The write stopped", exc)
        self.window.problems.add("write", "", f"The write stopped: {reason}; the edits stay pending")
        plain.warning(self.window, "Write failed",
                      f"The write stopped: {reason}\nThe edits stay pending (nothing is lost); try again.")  # fmt: skip
        self.window.update_status()

    # -- closing ------------------------------------------------------------------------------------
    def may_close(self) -> bool:
        """Ask about unwritten changes; False keeps the window open (also while a write runs)."""
        if self.writer.running:
            self.window.statusBar().showMessage(
                "Writing changes… the window closes when you ask again after it", 5000
            )
            return False
        dirty = self.store.totals().dirty
        if not dirty:
            return True
        answer = self.ask_close(unwritten_box(dirty, self.window))
        if answer == WRITE:
            self._close_after_write = True
            self.write_changes()
            return False
        return answer == KEEP

    # -- conflicts ----------------------------------------------------------------------------------
    def resolve_current(self) -> None:
        """Open the resolver on the current card (when it is in conflict)."""
        card = self.window.detail.card
        if card is None or not card.conflict:
            self.window.statusBar().showMessage("The current card is not in conflict", 4000)
            return
        self.resolve(card.id)

    def resolve(self, card_id: int) -> bool:
        """Compare, let the editor choose per field, and resolve; True when resolved."""
        try:
            comparison = conflicts.compare(self.store, card_id)
        except conflicts.ConflictError as err:
            plain.warning(self.window, "Cannot resolve", str(err))
            return False
        dialog = ConflictDialog(comparison, self.window)
        self.last_dialog = dialog
        if not self.run_dialog(dialog):
            return False
        try:
            self.window.edits.history.run(lambda: conflicts.resolve(self.store, comparison, dialog.choices()))
        except (conflicts.ConflictError, ValueError) as err:
            plain.warning(self.window, "Cannot resolve", str(err))
            return False
        except Exception as err:
            if not library_busy.is_busy(err):
                raise
            plain.warning(self.window, "The library is busy",
                          library_busy.BUSY_MESSAGE.format(action="Resolve conflict"))  # fmt: skip
            return False
        # The base changed too (not only edited fields): refresh the row and panel whatever was kept.
        self.cardsChanged.emit([card_id])
        self.conflictResolved.emit(card_id)
        return True
