"""The window's side of the files: write and review, conflicts, and the close prompt.

Edits live in the library until written; this controller writes them on a worker (progress, cancel),
shows the diffs first on request, reports files it could not write (read-only, vanished, conflicts),
and opens the conflict resolver. Changes made outside are the folder watcher's (views/folder_watch.py).
It is handed its collaborators (the window wires them) and tells the window by signals what to refresh.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QMessageBox, QStatusBar, QWidget

from curator.core import conflicts
from curator.core.store import Store
from curator.core.store_types import CardDetail, LibraryError, WriteReport
from curator.gui import errorlog, library_busy, plain
from curator.gui.actions import Actions
from curator.gui.undo import EditHistory, Made
from curator.gui.views.conflict_dialog import ConflictDialog
from curator.gui.views.editing import EditController, Job
from curator.gui.views.importing import ProgressWidget
from curator.gui.views.problems_report import ProblemsReport
from curator.gui.views.writing import ReviewDialog, WriteRunner, report_text
from curator.gui.workers import Pool

WRITE, KEEP, CANCEL = "write", "keep", "cancel"


def unwritten_box(count: int, parent: QObject | None = None) -> QMessageBox:
    """The close prompt: truthful about where unwritten edits go (they stay in the library)."""
    box = QMessageBox(parent)  # type: ignore[arg-type]
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("Unwritten changes")
    box.setText(f"{plain.count(count, 'card')} {'has' if count == 1 else 'have'} changes not yet written to {'its file' if count == 1 else 'their files'}.")
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
    """Writes, reviews and resolves conflicts for one window."""

    writeFinished = Signal(object, bool)  # WriteReport, dry_run (after the window has been refreshed)
    conflictResolved = Signal(int)
    cardsChanged = Signal(list)  # a write or a resolved conflict changed these cards (refresh what shows them)
    totalsChanged = Signal()  # pending counts may differ (a write ended or failed): recount, re-enable Write
    closeReady = Signal()  # "Write Changes and Quit" wrote everything: close the window now

    def __init__(
        self, store: Store, history: EditHistory, progress: ProgressWidget, status: QStatusBar,
        problems: ProblemsReport, actions: Actions, *, pool: Pool | None, other_task: Callable[[], bool],
        loaded_ids: Callable[[], list[int]], card_in_hand: Callable[[], CardDetail | None], parent: QWidget,
        edits: EditController,
    ) -> None:  # fmt: skip
        """`other_task()`: an import or rescan runs (a write waits); `loaded_ids()`: the cards the list holds
        (repainted after a write); `card_in_hand()`: the card the detail pane shows (Resolve Conflict);
        `edits`: the edit queue a resolution goes on (and its trips, where the comparison is read)."""
        super().__init__(parent)
        self.store = store
        self.history = history
        self.edits = edits
        self.progress = progress
        self.status = status
        self.problems = problems
        self.actions = actions
        self.other_task = other_task
        self.loaded_ids = loaded_ids
        self.card_in_hand = card_in_hand
        self.parent_widget = parent
        self.writer = WriteRunner(store, pool, self)
        self.writer.progress.connect(progress.report)
        self.writer.finished.connect(self._finished)
        self.writer.failed.connect(self._failed)
        #: Answers the close prompt (tests replace it): returns WRITE, KEEP or CANCEL.
        self.ask_close: Callable[[QMessageBox], str] = _ask_box
        #: Shows a dialog and says whether it was accepted (tests replace it).
        self.run_dialog: Callable[[object], bool] = lambda d: d.exec() == ReviewDialog.DialogCode.Accepted  # type: ignore[attr-defined]
        self.last_report: WriteReport | None = None
        self.last_dialog: object | None = None
        self._close_after_write = False
        #: A team library's unwritten count, read off the GUI thread for the close that asked for it.
        self._close_count: int | None = None
        self._close_counting = False
        self._every_pending = True
        a = actions
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
        if self.writer.running or self.other_task():
            self.status.showMessage("Another task is running; try again when it has finished", 5000)
            return
        trips = self.edits.trips
        # The pending count is read through the trips (a team library: off the GUI thread); the write
        # starts when it arrives, unless another task began meanwhile.
        trips.read(lambda store: store.totals().dirty, lambda dirty: self._start_with(dirty, dry_run=dry_run),
                   trips.reporter("Counting the pending edits"))  # fmt: skip

    def _start_with(self, dirty: int, *, dry_run: bool) -> None:
        if self.writer.running or self.other_task():
            self.status.showMessage("Another task is running; try again when it has finished", 5000)
            return
        if not dirty:
            self.status.showMessage("Nothing to write: no card has pending edits", 5000)
            return
        self._every_pending = True  # writer.start() below writes (or reviews) every pending edit
        self.progress.start("Preparing the review" if dry_run else "Writing changes")
        self.actions.write.setEnabled(False)
        self.writer.start(dry_run=dry_run)

    def _finished(self, report: WriteReport, dry_run: bool) -> None:
        self.progress.finish()
        self.last_report = report
        if dry_run:
            self.totalsChanged.emit()
            if not report.cancelled:
                dialog = ReviewDialog(report.diffs, self.parent_widget)
                self.last_dialog = dialog
                if self.run_dialog(dialog):
                    self.write_changes()
            self.writeFinished.emit(report, dry_run)
            return
        # Written cards lost their dirty mark (and conflicts gained one): repaint what is loaded.
        shown = self.card_in_hand()
        self.cardsChanged.emit(self.loaded_ids() + ([shown.id] if shown is not None else []))
        text = report_text(report)
        trouble = bool(report.conflicts or report.failed)
        self.problems.written(report, every_pending=self._every_pending)
        if trouble:
            # File paths and reasons are card data: plain text, opened without blocking the window.
            self.last_dialog = plain.message(
                self.parent_widget, QMessageBox.Icon.Warning, "Some files were not written",
                text + "\n\nEvery file and reason is also in Help > Problems Report….", modal=False,
            )  # fmt: skip
        else:
            self.status.showMessage(text, 10_000)
        self.writeFinished.emit(report, dry_run)
        if self._close_after_write:
            self._close_after_write = False
            if not trouble and not report.cancelled:
                # Later, not here: this may run inside the closeEvent that started the write (an inline
                # pool), where a nested close() is ignored.
                QTimer.singleShot(0, self.closeReady.emit)

    def _failed(self, exc: BaseException) -> None:
        self.progress.finish()
        self._close_after_write = False
        if library_busy.is_busy(exc):
            reason = library_busy.busy_reason(exc, "the library is busy: another Curator is writing to it")
        else:
            reason = f"{type(exc).__name__}: {exc}"
            errorlog.log_failure("The write stopped", exc)
        self.problems.add("write", "", f"The write stopped: {reason}; the edits stay pending")
        plain.warning(self.parent_widget, "Write failed",
                      f"The write stopped: {reason}\nThe edits stay pending (nothing is lost); try again.")  # fmt: skip
        self.totalsChanged.emit()

    # -- closing ------------------------------------------------------------------------------------
    def may_close(self) -> bool:
        """Ask about unwritten changes; False keeps the window open (also while a write runs)."""
        if self.writer.running:
            self.status.showMessage("Writing changes… the window closes when you ask again after it", 5000)
            return False
        counted, self._close_count = self._close_count, None
        if counted is not None:
            dirty = counted  # read off the GUI thread for this close (see below)
        elif self.edits.trips.remote:
            # A team library: the count is a round trip, read off the GUI thread; the window is asked to
            # close again when it arrives, and this close waits (the window stays meanwhile).
            self._count_then_close()
            return False
        else:
            try:
                dirty = self.store.totals().dirty
            except LibraryError as err:
                self._uncounted(err)
                return True
        if not dirty:
            return True
        answer = self.ask_close(unwritten_box(dirty, self.parent_widget))
        if answer == WRITE:
            self._close_after_write = True
            self.write_changes()
            return False
        return answer == KEEP

    def _count_then_close(self) -> None:
        if self._close_counting:
            return  # a second close while the count is on its way: the first one closes
        self._close_counting = True
        self.status.showMessage("Checking for unwritten changes…", 5000)

        def arrived(dirty: int) -> None:
            self._close_counting = False
            self._close_count = dirty
            self.parent_widget.close()

        def failed(err: BaseException) -> None:
            self._close_counting = False
            if not isinstance(err, LibraryError):
                errorlog.log_failure("Counting the unwritten changes", err)
            self._uncounted(err)
            self._close_count = 0
            self.parent_widget.close()

        self.edits.trips.read(lambda store: store.totals().dirty, arrived, failed)

    @staticmethod
    def _uncounted(err: BaseException) -> None:
        # The library cannot be read (a team library's server went away, a busy or damaged file): its
        # pending edits stay where they are, in the library, so closing loses nothing.
        errorlog.logger().warning("closing without the count of unwritten changes: %s", err)

    # -- conflicts ----------------------------------------------------------------------------------
    def resolve_current(self) -> None:
        """Open the resolver on the current card (when it is in conflict)."""
        card = self.card_in_hand()
        if card is None or not card.conflict:
            self.status.showMessage("The current card is not in conflict", 4000)
            return
        self.resolve(card.id)

    def resolve(self, card_id: int) -> bool:
        """Compare, let the editor choose per field, and resolve; True when resolved before this returns.

        The comparison is read through the edits' trips (a team library: off the GUI thread, the dialog
        opening when it arrives) and the resolution is a job on the edit queue, after the edits before it
        (one transaction, one undo step; a refusal is said). On an SQLite library both run inline.
        """
        resolved: list[bool] = []
        trips = self.edits.trips

        def compare(store: Store) -> conflicts.Comparison | str:
            try:
                return conflicts.compare(store, card_id)
            except conflicts.ConflictError as err:
                return str(err)

        def compared(comparison: conflicts.Comparison | str) -> None:
            if isinstance(comparison, str):
                plain.warning(self.parent_widget, "Cannot resolve", comparison)
                return
            dialog = ConflictDialog(comparison, self.parent_widget)
            self.last_dialog = dialog
            if not self.run_dialog(dialog):
                return
            choices = dialog.choices()
            work = lambda store: EditHistory.made(store, lambda s: conflicts.resolve(s, comparison, choices))
            self.edits.submit(Job("Resolve conflict", lambda: work, lambda made: self._resolved(card_id, made, resolved)))

        trips.read(compare, compared, trips.reporter("Comparing the card with its file"))
        return bool(resolved)

    def _resolved(self, card_id: int, made: Made, resolved: list[bool]) -> None:
        self.history.record(made)
        # The base changed too (not only edited fields): refresh the row and panel whatever was kept.
        self.cardsChanged.emit([card_id])
        self.conflictResolved.emit(card_id)
        resolved.append(True)
