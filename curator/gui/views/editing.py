"""Edits from the window: detail editor, triage keys, bulk actions; each one Store call, one undo step.

The controller runs every edit through the EditHistory (the QUndoStack over the journal), decides which
cards an action targets (the selection, or every card matching the query after Select All), asks before
bulk edits of many cards, and opens Edit > History. It is handed its collaborators (the window wires them)
and says what happened by signals: `cardsChanged` after an edit, undo or redo (the window refreshes the
rows, the detail pane and the counts), `editNotMade` when an edit from the detail pane did not reach the
library (the pane shows the library's values again).

Many editors: an edit of the card in hand carries the version the detail pane showed, so a card another
editor changed meanwhile is refused (the library says which values are now there and who set them): the
editor reads that, and the row and the pane show the fresh values.

A slow or lost network (a team library): every edit, undo and redo is a job on one queue, run through the
window's RoundTrips (library_tasks.py: the edits lane, off the GUI thread; inline on an SQLite library).
One job at a time, in the order they were asked for: a key pressed while an edit is on its way goes after
it, and is prepared (its targets' versions, the undo step it replays) only when its turn comes, so it
builds on what the one before it confirmed. The undo stack and the rows change only once the library
confirmed a job (undo.py's Made/Replayed); a job the library refuses is said (the conflict message, the
status bar) and changed nothing: each is one transaction. A key whose card is still loading (its row says
"Loading…") is ignored with a status message, never applied to another card.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QDialog, QInputDialog, QStatusBar, QWidget

from curator.core import conflicts
from curator.core.store import Store
from curator.core.store_types import CardDetail, CardRow, EditResult, LibraryError, StaleEdit
from curator.gui import errorlog, library_busy, plain
from curator.gui import settings as keys
from curator.gui.actions import HEAT_STEP, Actions
from curator.gui.library_tasks import RoundTrips
from curator.gui.settings import Settings
from curator.gui.undo import EditHistory, GroupCommand, Made, Replayed
from curator.gui.views import publish_gate
from curator.gui.views.bulk_dialog import CONFIRM_ABOVE, BulkConfirmDialog, flagged_cards
from curator.gui.views.card_selection import CardSelection
from curator.gui.views.history_dialog import HistoryDialog

#: What a key on a card still on its way says (the key did nothing).
STILL_LOADING = "The card is still loading from the team library; nothing was changed — press the key again"


def _exec_dialog(dialog: QDialog) -> bool:
    return dialog.exec() == QDialog.DialogCode.Accepted


Work = Callable[[Store], Any]
#: set_fields_read's plan: the cards, the changes and the label of the edit to make, or why none is made.
Plan = Callable[[Store], "tuple[list[int], dict[str, Any], str] | str"]


def _to(job: Job) -> str:
    return f" to {job.subject}" if job.subject else ""


@dataclass
class Job:
    """One edit, undo or redo on the controller's queue.

    `make()` runs on the GUI thread when the job's turn comes and returns the Store work (run on the edits
    lane) or None (nothing to do any more); `done(result)` runs on the GUI thread once the library
    confirmed it. `from_pane`: a detail-pane edit (when it is not made, the pane shows the library's values).
    """

    action: str
    make: Callable[[], Work | None]
    done: Callable[[Any], None]
    from_pane: bool = False
    replay: bool = False  # an undo or redo: a refusal is said in the status bar, as the history says it
    subject: str = ""  # the card it is about, quoted, for its messages ("" for several)
    attempt: int = 0
    #: The library's confirmation, once it came (an inline run: before `submit` returns).
    result: Any = field(default=None, repr=False)
    finished: bool = False


class EditController(QObject):
    """Turns edit requests (actions, the detail editor) into Store calls through the undo history."""

    cardsChanged = Signal(list)  # an edit, undo or redo changed these cards
    editNotMade = Signal()  # a detail-pane edit was refused, cancelled or gave up on a busy library
    connectionLost = Signal(str)  # a job failed because the library could not be reached: the sentence
    settled = Signal()  # the queue ran empty (every job asked for confirmed or refused)
    #: The card in hand as an edit of it left it (read in the edit's own job): the pane shows it before
    #: the next job is prepared, so an edit queued behind it carries the version this one made.
    cardRead = Signal(object)

    def __init__(
        self, store: Store, history: EditHistory, selection: CardSelection, actions: Actions,
        settings: Settings, status: QStatusBar, *, writing: Callable[[], bool], parent: QWidget,
        trips: RoundTrips | None = None,
    ) -> None:  # fmt: skip
        """`writing()`: a write is running (edits wait for it); `parent`: the dialogs' parent; `trips`: where
        the Store calls run (the window's RoundTrips; inline when not given)."""
        super().__init__(parent)
        self.store = store
        self.trips = trips if trips is not None else RoundTrips(store, parent=self)
        self._queue: deque[Job] = deque()
        self._running: Job | None = None  # the job on its way to the library (or waiting to retry)
        self._pumping = False
        # Owned from here: the stack goes with this controller, so its signals during the window's teardown
        # never reach actions already deleted (the connections below are bound methods, dropped with it).
        history.setParent(self)
        self.history = history
        self.selection = selection
        self.actions = actions
        self.settings = settings
        self.status = status
        self.writing = writing
        self.parent_widget = parent
        #: True after Select All: actions target every card matching the query, loaded or not.
        self.all_matching = False
        self._selecting = False
        #: Shows a bulk confirmation and says whether to go ahead (tests replace it to answer).
        self.confirm: Callable[[BulkConfirmDialog], bool] = _exec_dialog
        self.last_confirmation: BulkConfirmDialog | None = None
        #: Asks about a bulk publish's duplicates and problem cards: "all", "skip" or "cancel" (tests answer).
        self.ask_gate: Callable[[publish_gate.Gate], str] = lambda gate: publish_gate.ask(gate, parent)
        #: While a gated publish is handed on (_gated): its ids and the flagged cards the gate read of them.
        self._gate_flagged: tuple[list[int], list[Any]] | None = None
        self.history_dialog: HistoryDialog | None = None
        history.changed.connect(self.cardsChanged)
        history.failed.connect(self._replay_failed)
        #: Why no edit may be made now (a read-only role, a lost team-library connection), or None. The
        #: team-library controller (views/live_updates.py) sets it; every edit asks before it starts.
        self.refusal: Callable[[], str | None] = lambda: None
        #: The card the detail pane shows (the window sets it): its version goes with every edit of it.
        self.card_in_hand: Callable[[], CardDetail | None] = lambda: None
        #: What the history said during the undo/redo being run (fields another editor's change kept).
        self._replay_note = ""
        self._connect()

    def _connect(self) -> None:
        a = self.actions
        stack = self.history.stack
        a.undo.triggered.connect(self.undo)
        a.redo.triggered.connect(self.redo)
        a.history.triggered.connect(self.show_history)
        stack.indexChanged.connect(self._sync_undo_actions)
        stack.cleanChanged.connect(self._sync_undo_actions)
        self._sync_undo_actions()
        a.publish.triggered.connect(self.publish)
        a.unpublish.triggered.connect(lambda: self.triage({"published": False}, "Unpublish"))
        for action in a.quality_keys:
            action.triggered.connect(
                lambda _c=False, act=action: self.triage(
                    {"quality": int(act.data())}, f"Set quality to {act.data()}"
                )
            )
        a.heat_up.triggered.connect(lambda: self.step_heat(HEAT_STEP))
        a.heat_down.triggered.connect(lambda: self.step_heat(-HEAT_STEP))
        a.set_quality.triggered.connect(lambda: self._ask_score("quality"))
        a.set_heat.triggered.connect(lambda: self._ask_score("heat"))
        a.add_topic.triggered.connect(lambda: self._ask_topic(add=True))
        a.remove_topic.triggered.connect(lambda: self._ask_topic(add=False))
        a.select_all.triggered.connect(self.select_all_matching)
        self.selection.selectionChanged.connect(self._selection_changed)

    def _replay_failed(self, message: str) -> None:
        self._replay_note = message
        self.status.showMessage(f"Cannot undo/redo: {message}", 8000)

    def _sync_undo_actions(self, *_args: Any) -> None:
        a, stack = self.actions, self.history.stack
        a.undo.setEnabled(stack.canUndo())
        a.redo.setEnabled(stack.canRedo())
        # Undo texts quote card text (topic names): a lone & there would become a shortcut mnemonic.
        a.undo.setText(f"&Undo {plain.menu_text(stack.undoText())}".rstrip())
        a.redo.setText(f"&Redo {plain.menu_text(stack.redoText())}".rstrip())

    @property
    def retrying(self) -> int:
        """1 while a job waits to be tried again because another process held the library's write lock."""
        return 1 if self._running is not None and self._running.attempt > 0 else 0

    @property
    def busy(self) -> bool:
        """Whether a job is on its way to the library or waiting its turn."""
        return self._running is not None or bool(self._queue)

    def undo(self) -> None:
        """Edit > Undo, saying what was undone (after a triage key with auto-advance the card undone is not
        the one in hand any more, so the change itself is not in view). Queued after the edits before it."""
        self._replay(undo=True)

    def redo(self) -> None:
        """Edit > Redo, saying what was redone."""
        self._replay(undo=False)

    def _replay(self, *, undo: bool) -> None:
        said: list[str] = []

        def make() -> Work | None:
            stack = self.history.stack
            said.append(f"{'Undone' if undo else 'Redone'}: {stack.undoText() if undo else stack.redoText()}")
            return self.history.replay_work(undo=undo)

        def done(replayed: Replayed) -> None:
            self._replay_note = ""
            self.history.replayed(replayed)
            self._say_replayed(said[-1])

        self.submit(Job("Undo" if undo else "Redo", make, done, replay=True))

    def jump(self, target: int) -> None:
        """Edit > History's click: the library back (or forward) to just after step `target` (0: as imported).

        Queued after the edits before it; when its turn comes every step between the stack's index then and
        `target` is undone (or redone) in one transaction (all of them or none), and the index moves there
        once the library confirmed it."""
        said: list[str] = []

        def make() -> Work | None:
            stack = self.history.stack
            here = stack.index()
            if target == here or not 0 <= target <= stack.count():
                return None
            undo = target < here
            batches: list[int] = []
            for index in range(here - 1, target - 1, -1) if undo else range(here, target):
                command = stack.command(index)
                steps = list(command.steps) if isinstance(command, GroupCommand) else [command]
                batches.extend(step.batch_id for step in (reversed(steps) if undo else steps))  # type: ignore[attr-defined]
            count = abs(here - target)
            said.append(f"{'Undone' if undo else 'Redone'}: {plain.count(count, 'step')}")

            def work(store: Store) -> Replayed:
                with store.transaction():
                    return Replayed([store.undo(b) if undo else store.redo(b) for b in batches], target)

            return work

        def done(replayed: Replayed) -> None:
            self._replay_note = ""
            self.history.replayed(replayed)
            self._say_replayed(said[-1])

        self.submit(Job("Go to a step of the history", make, done, replay=True))

    def _say_replayed(self, done: str) -> None:
        """The status bar after an undo/redo: what was done, and what another editor's later change kept."""
        if self._replay_note:
            self.status.showMessage(f"{done}, except: {self._replay_note}", 10000)
        else:
            self.status.showMessage(done, 5000)

    # -- targets ------------------------------------------------------------------------------------
    def select_all_matching(self) -> None:
        """Select every row; actions then apply to every card matching the query, loaded or not."""
        self._selecting = True
        try:
            self.selection.select_all()
        finally:
            self._selecting = False
        self.all_matching = True
        self.selection.model.all_ids()  # with a reader: asked for now, so the next key finds them
        self.status.showMessage(f"All {self.selection.model.total:,} cards matching the query are selected", 5000)

    def _selection_changed(self, *_args: Any) -> None:
        if not self._selecting:
            self.all_matching = False

    def target_ids(self) -> list[int]:
        """The cards an action applies to: the selection when it holds the card in hand (a multi-selection
        is a bulk target), else the card in hand alone, never a selection the detail pane does not show.
        Empty (and said in the status bar) while a card of them is still loading."""
        return self.targets() or []

    def targets(self) -> list[int] | None:
        """As target_ids, but None while a card they include is not known yet (a page on its way from a team
        library): the status bar says so and the action must not run, not even on the cards known."""
        model = self.selection.model
        if self.all_matching:
            every = model.all_ids()
            if every is None:
                self.status.showMessage(STILL_LOADING, 5000)
                return None
            return sorted(every)  # by id, as the library keeps them (the list's order does not matter here)
        chooser = self.selection.table.selectionModel()
        current = chooser.currentIndex()
        rows = set(self.selection.selected_rows()) | ({current.row()} if current.isValid() else set())
        if model.unloaded(sorted(rows)):
            self.status.showMessage(STILL_LOADING, 5000)
            return None
        selected = self.selection.selected_ids()
        current_ids = self._current()
        if current_ids and current_ids[0] not in selected:
            return current_ids
        return selected

    def _current(self) -> list[int]:
        card_id = self.selection.current_id()
        return [] if card_id is None else [card_id]

    # -- running edits ------------------------------------------------------------------------------
    def _blocked(self) -> bool:
        if self.writing():
            self.status.showMessage("Edits wait until the write has finished", 5000)
            return True
        return False

    def _confirm_then(self, action: str, ids: list[int], go: Callable[[], Job | None]) -> Job | None:
        """`go()` once confirmed: at once for a few cards; above CONFIRM_ABOVE after the bulk dialog, whose
        flagged cards are read through the trips (a team library: off the GUI thread, the dialog opening
        when they arrive). Returns go()'s job when it ran before this returns (an SQLite library)."""
        if len(ids) <= CONFIRM_ABOVE:
            return go()
        ran: list[Job | None] = []

        def ask(found: tuple[list[Any], int]) -> None:
            flagged, total = found
            dialog = BulkConfirmDialog(action, len(ids), flagged, total, self.parent_widget)
            self.last_confirmation = dialog
            if self.confirm(dialog) and not self._blocked():  # a write may have begun meanwhile
                ran.append(go())

        held = self._gate_flagged
        known = held[1] if held is not None and held[0] is ids else None  # the publishing gate's read
        self.trips.read(lambda store: flagged_cards(store, ids, found=known), ask,
                        self.trips.reporter(f"Checking {action}"))  # fmt: skip
        return ran[0] if ran else None

    def _run(
        self, ids: list[int], action: str, make: Callable[[str], Callable[[Store], EditResult]], *,
        from_pane: bool = False,
    ) -> Job | None:  # fmt: skip
        """Confirm when many, then queue `make(label)`'s Store call as one undo step; None when refused now.

        `make(label)` runs when the job's turn comes (GUI thread) and returns the call (run on the edits lane).
        """
        if not ids:
            self.status.showMessage("Select one or more cards first", 4000)
            return None
        if self._blocked():
            return None
        label = action if len(ids) == 1 else f"{action} ({len(ids):,} cards)"

        def work() -> Work:
            call = make(label)
            card = self.card_in_hand()
            in_hand = card.id if card is not None and card.id in ids else None

            def edit(store: Store) -> Made:
                made = EditHistory.made(store, call, label)
                if in_hand is not None and made.results[0].changed:
                    return Made(made.results, made.label, made.group, detail=store.detail(in_hand))
                return made

            return edit

        job = Job(action, work, self._record, from_pane=from_pane, subject=self._subject(ids))
        return self._confirm_then(action, ids, lambda: self.submit(job))

    def set_fields_read(self, ids: list[int], action: str, plan: Plan) -> Job | None:
        """A set_fields whose targets and values are read from the library in the job's own turn (Same
        story's Add, the Duplicates dialog's keep): `plan(store)` runs on the edits lane after the jobs
        before it (so it reads what they left), in one transaction with the edit, and returns the cards,
        the changes and the undo step's label, or the sentence why nothing is to be done (the status bar
        says it). `ids`: the cards it may touch (confirmed when many, as any edit; the version the pane
        shows goes with an edit of the card in hand alone). One undo step; a refusal is said, as any job's.
        """
        if not ids:
            self.status.showMessage("Select one or more cards first", 4000)
            return None
        if self._blocked():
            return None

        def work() -> Work:
            expected = self._expected(ids)  # when its turn comes (see _expected)
            card = self.card_in_hand()
            in_hand = card.id if card is not None and card.id in ids else None

            def edit(store: Store) -> Made | str:
                with store.transaction():  # the reads and the edit: what was read is what is changed
                    planned = plan(store)
                    if isinstance(planned, str):
                        return planned
                    targets, changes, label = planned
                    own = expected if expected is not None and list(expected) == targets else None
                    made = EditHistory.made(
                        store, lambda s: s.set_fields(targets, changes, label=label, expected=own), label
                    )
                    if in_hand is not None and in_hand in targets and made.results[0].changed:
                        return Made(made.results, made.label, made.group, detail=store.detail(in_hand))
                    return made

            return edit

        def done(made: Made | str) -> None:
            if isinstance(made, str):
                self.status.showMessage(made, 6000)
            else:
                self._record(made)

        job = Job(action, work, done, subject=self._subject(ids))
        return self._confirm_then(action, ids, lambda: self.submit(job))

    def _record(self, made: Made) -> None:
        if made.detail is not None:
            self.cardRead.emit(made.detail)  # before `changed`: the window's refresh then skips re-reading it
        self.history.record(made)

    def _subject(self, ids: list[int]) -> str:
        """The card an edit of one card the list holds is about, as its messages name it (on a team library
        the editor may have moved on to the next card by the time the library refuses it)."""
        model = self.selection.model
        row = model.row_of(ids[0]) if len(ids) == 1 else None
        card = model.card_at(row) if row is not None else None
        if card is None or not card.title:
            return ""
        return "“" + (card.title if len(card.title) <= 60 else card.title[:59] + "…") + "”"

    def submit(self, job: Job) -> Job:
        """Queue `job` after the jobs asked for before it and start it when its turn comes."""
        self._queue.append(job)
        self._pump()
        return job

    def _pump(self) -> None:
        """Start the next job when none is on its way (inline runs finish here, one after another)."""
        if self._pumping:
            return
        self._pumping = True
        try:
            while self._running is None and self._queue:
                job = self._queue.popleft()
                refused = self.refusal()
                if refused:
                    self._refused(job, refused)
                    continue
                # This thread's wait for the lock stays short (an inline import may have reopened its connection).
                library_busy.set_busy_timeout(self.store, library_busy.GUI_BUSY_TIMEOUT_MS)
                work = job.make()
                if work is None:
                    job.finished = True
                    continue
                self._start(job, work)
        finally:
            self._pumping = False
        if self._running is None and not self._queue and shiboken6.isValid(self):
            self.settled.emit()

    def _start(self, job: Job, work: Work) -> None:
        self._running = job
        self.trips.edit(work, lambda result: self._confirmed_job(job, result), lambda err: self._failed(job, work, err))

    def _confirmed_job(self, job: Job, result: Any) -> None:
        if not shiboken6.isValid(self):
            return
        self._running = None
        job.result, job.finished = result, True
        job.done(result)
        self._pump()

    def _failed(self, job: Job, work: Work, err: BaseException) -> None:
        """A job the library refused or could not take: said, nothing of it applied (one transaction)."""
        if not shiboken6.isValid(self):
            return
        parent, action = self.parent_widget, job.action
        if library_busy.is_busy(err) and job.attempt < library_busy.RETRIES:
            # Busy: the transaction never began. Tried again later; the jobs after it keep waiting (order).
            job.attempt += 1
            self.status.showMessage(f"The library is busy; trying {action} again…", 3000)
            QTimer.singleShot(library_busy.RETRY_MS, lambda: self._retry(job, work))
            return
        self._running = None
        job.finished = True
        if isinstance(err, StaleEdit):
            # Another editor changed the card since the pane showed it: say what it holds now and who set
            # it, and show the fresh values (row and pane) before the editor decides again.
            plain.warning(parent, "Changed by another editor", f"{action}: {err}.")
            self.cardsChanged.emit([err.card_id])
        elif library_busy.is_busy(err):
            said = f"{action} of {job.subject}" if job.subject else action
            plain.warning(parent, "The library is busy", library_busy.BUSY_MESSAGE.format(action=said))
        elif isinstance(err, (ValueError, conflicts.ConflictError)):  # an invalid value; a file changed again
            if job.replay:
                self._replay_failed(str(err))
            else:
                plain.warning(parent, "Cannot make this edit", str(err))
        elif isinstance(err, LibraryError):
            # The library failed (a team library's server went away): the job was one transaction that did
            # not commit, so nothing of it was applied; the jobs waiting after it are dropped and said too.
            dropped = [j.action for j in self._queue]
            for waiting in list(self._queue):
                self._not_made(waiting)
            self._queue.clear()
            also = f"\n\nNot applied either: {', '.join(dropped)}." if dropped else ""
            plain.warning(parent, "Cannot make this edit", f"{action} was not applied{_to(job)}; nothing changed.{also}\n\n{err}")
            self.connectionLost.emit(str(err))
        else:
            errorlog.log_failure(action, err)
            plain.warning(parent, "Cannot make this edit", f"{action} was not applied{_to(job)}: {type(err).__name__}: {err}")
        self._not_made(job)
        self._pump()

    def _retry(self, job: Job, work: Work) -> None:
        if not shiboken6.isValid(self):
            return
        refused = self.refusal()
        if refused:
            self._running = None
            self._refused(job, refused)
            self._pump()
            return
        self._start(job, work)

    def _refused(self, job: Job, why: str) -> None:
        plain.warning(self.parent_widget, "Cannot make this edit", f"{why}\n\n{job.action} was not applied{_to(job)}.")
        self._not_made(job)

    def _not_made(self, job: Job) -> None:
        job.finished = True
        if job.from_pane and shiboken6.isValid(self):
            # The detail editor may show a value that never reached the library: show the library's again.
            self.editNotMade.emit()

    def _expected(self, ids: list[int]) -> dict[int, int] | None:
        """The version the detail pane shows, for an edit of the card in hand alone (a bulk edit applies
        to current values; the library reports the cards it skipped). Read when the edit's turn comes, so
        an edit queued behind another one of the same card carries the version that one left."""
        card = self.card_in_hand()
        if card is not None and ids == [card.id] and card.version:
            return {card.id: card.version}
        return None

    def set_fields(self, ids: list[int], changes: dict[str, Any], action: str, *,
                   from_pane: bool = False) -> EditResult | None:  # fmt: skip
        """One Store.set_fields call on `ids` (confirmed when above the threshold), queued.

        Returns the library's result when it confirmed before this returns (an SQLite library), else None
        (refused, or on its way: its confirmation refreshes the rows; a refusal is said).
        """
        return self._result(self._fields_job(ids, changes, action, from_pane=from_pane))

    def _fields_job(self, ids: list[int], changes: dict[str, Any], action: str, *,
                    from_pane: bool = False) -> Job | None:  # fmt: skip
        def make(label: str) -> Callable[[Store], EditResult]:
            expected = self._expected(ids)  # when its turn comes (see _expected)
            return lambda store: store.set_fields(ids, changes, label=label, expected=expected)

        return self._run(ids, action, make, from_pane=from_pane)

    @staticmethod
    def _result(job: Job | None) -> EditResult | None:
        return job.result.results[0] if job is not None and isinstance(job.result, Made) else None

    def change_topic(self, ids: list[int], name: str, *, add: bool) -> EditResult | None:
        action = f"{'Add' if add else 'Remove'} topic {name!r}"

        def make(label: str) -> Callable[[Store], EditResult]:
            expected = self._expected(ids)
            if add:
                return lambda store: store.add_topic(ids, name, label=label, expected=expected)
            return lambda store: store.remove_topic(ids, name, label=label, expected=expected)

        return self._result(self._run(ids, action, make))

    def set_related(self, card_id: int, items: list[dict[str, Any]], version: int = 0) -> EditResult | None:
        """The related editor's Save: `version` is the card's when the dialog opened (0: the pane's now)."""

        def make(label: str) -> Callable[[Store], EditResult]:
            expected = version or (self._expected([card_id]) or {}).get(card_id) or None
            return lambda store: store.set_related(card_id, items, label=label, expected_version=expected)

        return self._result(self._run([card_id], "Edit related links", make))

    def edit_card(self, card_id: int, changes: dict[str, Any], action: str) -> None:
        """A change made in the detail editor (or a problem fix there): applies to the card it shows."""
        if self._fields_job([card_id], changes, action, from_pane=True) is None:
            self.editNotMade.emit()  # the widget shows a value the library does not hold: show the library's

    def add_topic_in_hand(self, name: str) -> None:
        self.change_topic(self._current(), name, add=True)

    def remove_topic_in_hand(self, name: str) -> None:
        self.change_topic(self._current(), name, add=False)

    def triage(self, changes: dict[str, Any], action: str, ids: list[int] | None = None) -> None:
        """A triage key (P, U, a quality key) on the targets (or `ids`), then (if enabled) to the next card.

        On a team library the move to the next card follows the key at once (the edit is queued): a run of
        keys does not wait for the server between cards, and an edit the library then refuses is said with
        the card's title. An edit refused at once or waiting out a busy library (an SQLite library: it ran
        inline) stays on the card."""
        ids = self.targets() if ids is None else ids
        if ids is None:
            return
        job = self._fields_job(ids, changes, action)
        # Not when it was refused already, nor when a busy library has it waiting to be tried again.
        if job is not None and (job.result is not None or (not job.finished and not job.attempt)):
            self._advance(len(ids))

    def publish(self) -> None:
        """P, Cards > Publish: a bulk publish first names the duplicates and cards with problems among its
        targets and offers to skip them (views/publish_gate.py); one card is published as it is."""
        ids = self.targets()
        if ids is None:
            return
        if len(ids) > 1 and not self._blocked():
            # The gate's reads go through the trips (a team library: off the GUI thread; it asks on arrival).
            self.trips.read(lambda store: publish_gate.find(store, ids), self._gated,
                            self.trips.reporter("Checking the cards to publish"))  # fmt: skip
            return
        self.triage({"published": True}, "Publish", ids)

    def _gated(self, gate: publish_gate.Gate) -> None:
        ids = list(gate.targets)
        flagged = gate.flagged
        if gate.held_ids:
            answer = self.ask_gate(gate)
            if answer == "cancel":
                return
            if answer == "skip":
                ids = gate.rest()
                if not ids:
                    self.status.showMessage("Nothing published: every card was skipped", 6000)
                    return
                flagged = gate.flagged_among(ids)
        # The bulk confirmation lists the flagged cards the gate has just read (not read a second time).
        self._gate_flagged = (ids, flagged)
        try:
            self.triage({"published": True}, "Publish", ids)
        finally:
            self._gate_flagged = None

    def step_heat(self, step: int) -> None:
        """+ / -: heat up or down by `step` per card (not rated counts as 0; stays within 0..100).

        Cards with different heat get different values, so this is one Store call per distinct heat,
        grouped into one undo step (a macro) in one transaction, all of it on the edits lane (the heats are
        read there, when its turn comes). Heat steps never advance: an editor presses + three times on one
        card. When nothing changes the status bar says why (- on a card not rated, or at a limit).
        """
        ids = self.targets()
        if not ids or self._blocked():
            return
        label = f"Heat {step:+d}" + ("" if len(ids) == 1 else f" ({len(ids):,} cards)")

        def heat(store: Store) -> Made | str:
            rows = store.rows_by_id(ids)
            groups: dict[int, list[int]] = {}
            for row in rows:
                old = row.heat if row.heat is not None and row.heat >= 0 else (None if step < 0 else 0)
                if old is None:
                    continue  # not rated and going down: stays not rated
                new = max(0, min(100, old + step))
                if new != row.heat:
                    groups.setdefault(new, []).append(row.id)
            if not groups:
                return self._heat_unchanged(rows, len(ids), step)
            calls = [
                lambda s, v=value, g=group: s.set_fields(g, {"heat": v}, label=label)
                for value, group in sorted(groups.items())
            ]
            # One transaction and one undo step for every group: all of them reach the library or none does.
            return EditHistory.made_group(store, label, calls)

        def done(made: Made | str) -> None:
            if isinstance(made, str):
                self.status.showMessage(made, 6000)
            else:
                self.history.record(made)

        self._confirm_then(f"Heat {step:+d}", ids, lambda: self.submit(Job(label, lambda: heat, done)))

    @staticmethod
    def _heat_unchanged(rows: list[CardRow], count: int, step: int) -> str:
        what = "This card's" if count == 1 else "These cards'"
        if step < 0:
            if all(r.heat is None or r.heat < 0 for r in rows):
                return (f"{what} heat is not rated, so − leaves it unrated; press + to rate it "
                        f"({HEAT_STEP}) or use Cards > Set Heat…")  # fmt: skip
            return f"{what} heat is already 0 (or not rated): − cannot go lower"
        return f"{what} heat is already 100: + cannot go higher"

    def _advance(self, count: int) -> None:
        if count == 1 and self.settings.value(keys.ADVANCE):
            self.selection.move(1)

    def _ask_score(self, field: str) -> None:
        ids = self.targets()
        if not ids:
            return
        low = -1 if field == "heat" else 0
        value, ok = QInputDialog.getInt(
            self.parent_widget, f"Set {field}", f"{field.capitalize()} for {plain.count(len(ids), 'card')}"
            + (" (-1 = not rated)" if field == "heat" else ""), 50, low, 100
        )  # fmt: skip
        if ok:
            self.set_fields(ids, {field: value}, f"Set {field} to {value}")

    def _ask_topic(self, *, add: bool) -> None:
        ids = self.targets()
        if not ids:
            return

        def ask(names: list[str]) -> None:  # the library's topics, read through the trips, to choose from
            name, ok = QInputDialog.getItem(
                self.parent_widget, "Add topic" if add else "Remove topic",
                f"Topic for {plain.count(len(ids), 'card')}", names, 0, True,
            )  # fmt: skip
            if ok and name.strip():
                self.change_topic(ids, name.strip(), add=add)

        self.trips.read(lambda store: store.values("topics"), ask, self.trips.reporter("Reading the topics"))

    # -- the history ----------------------------------------------------------------------------------
    def show_history(self) -> HistoryDialog:
        """Edit > History (one dialog, raised when already open)."""
        if self.history_dialog is None or not shiboken6.isValid(self.history_dialog):
            self.history_dialog = HistoryDialog(self.store, self.history.stack, self.parent_widget,
                                                trips=self.trips, jump=self.jump)  # fmt: skip
        self.history_dialog.open()
        self.history_dialog.raise_()
        return self.history_dialog
