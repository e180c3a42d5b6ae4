"""Undo and redo over the library's journal: one QUndoCommand per Store edit batch.

Edits reach the library at once (a crash loses nothing); the Store records each edit call as one batch.
A BatchCommand only names that batch: undo() and redo() ask the Store to replay it, so the QUndoStack is
a view of the journal, and it can be rebuilt from ``Store.history`` when the window opens on a library
edited before (journal-backed undo across restarts).

Off the GUI thread (a team library's edits lane, see views/editing.py): the Store part of an edit or of a
replay (:meth:`EditHistory.made`, :meth:`EditHistory.made_group`, :meth:`EditHistory.replay_work`) runs on
the worker and returns what it did; the stack part (:meth:`EditHistory.record`,
:meth:`EditHistory.replayed`) runs on the GUI thread once the library confirmed it. So the stack only
ever moves to a state the journal holds: an edit or an undo that failed leaves it as it was.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from curator.core.store import Store
from curator.core.store_types import BatchInfo, CardDetail, EditResult
from curator.gui import library_busy

if TYPE_CHECKING:
    from curator.gui.library_tasks import RoundTrips

#: How many batches of the journal the stack is rebuilt from on start.
HISTORY_LIMIT = 500


@dataclass(frozen=True)
class Made:
    """What the Store part of an edit did (on a worker): its results and the undo step's label."""

    results: list[EditResult]
    label: str
    group: bool  # several calls in one transaction (one GroupCommand)
    detail: CardDetail | None = None  # the card in hand as the edit left it, when the job read it too


@dataclass(frozen=True)
class Replayed:
    """What the Store part of an undo or redo did (on a worker): the stack index it leads to."""

    results: list[EditResult]
    index: int


class BatchCommand(QUndoCommand):
    """One Store batch. Created after the Store call ran, so its first redo() has nothing to do."""

    def __init__(self, history: EditHistory, batch_id: int, label: str) -> None:
        super().__init__(label)
        self.history = history
        self.batch_id = batch_id

    def redo(self) -> None:
        self.history._replay(self.batch_id, undo=False)

    def undo(self) -> None:
        self.history._replay(self.batch_id, undo=True)


class GroupCommand(QUndoCommand):
    """Several batches made by one action (heat +10 over cards of different heat): undone and redone
    in one transaction, so a busy library leaves all of them or none of them replayed."""

    def __init__(self, history: EditHistory, label: str) -> None:
        super().__init__(label)
        self.history = history
        self.steps: list[BatchCommand] = []

    @property
    def batch_id(self) -> int:
        """The group's last batch (the journal's newest of them), as a BatchCommand names its one."""
        return self.steps[-1].batch_id

    def redo(self) -> None:
        self.history._replay_group(lambda: [step.redo() for step in self.steps])

    def undo(self) -> None:
        self.history._replay_group(lambda: [step.undo() for step in reversed(self.steps)])


class EditHistory(QObject):
    """Runs edit calls on the Store and keeps the QUndoStack in step with its journal."""

    changed = Signal(list)  # ids of the cards whose values changed (edit, undo or redo)
    failed = Signal(str)  # an undo/redo the Store refused (a sentence)

    def __init__(self, store: Store, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.stack = QUndoStack(self)
        # While True, the stack's own calls to redo()/undo() (push, setIndex) leave the Store alone:
        # the batch is already in the state the stack is being moved to.
        self._quiet = False
        self._grouping = False  # replaying a GroupCommand: a busy library aborts the whole group
        #: True from a journal read's start until its steps are on the stack: a read the lost connection
        #: failed is made again when the team library answers again (LiveUpdates.back).
        self.unread = False

    def run(self, call: Callable[[], EditResult]) -> EditResult:
        """Run one Store edit call (one batch) and push it as one undo step when it changed anything.

        ValueError from the Store (an invalid value) propagates, and nothing is pushed.
        """
        made = self.made(self.store, lambda _store: call())
        self.record(made)
        return made.results[0]

    @staticmethod
    def made(store: Store, call: Callable[[Store], EditResult], label: str | None = None) -> Made:
        """The Store part of one edit (any thread): `call(store)` and the label its batch was recorded with
        (`label`: the one the call passed, which the library keeps as given; else read back, a round trip)."""
        result = call(store)
        if label is None:
            label = "Edit"
            if result.batch_id is not None:
                label = next((b.label for b in store.history(1) if b.id == result.batch_id), label)
        return Made([result], label, group=False)

    @staticmethod
    def made_group(store: Store, label: str, calls: Sequence[Callable[[Store], EditResult]]) -> Made:
        """The Store part of several edit calls in one transaction (any thread): all of them or none."""
        with store.transaction():
            results = [call(store) for call in calls]
        return Made(results, label, group=True)

    def record(self, made: Made) -> None:
        """The stack part of an edit the library confirmed (GUI thread): one undo step, `changed`."""
        changed: list[int] = []
        if made.group:
            group = GroupCommand(self, made.label)
            for result in made.results:
                if result.batch_id is not None:
                    group.steps.append(BatchCommand(self, result.batch_id, made.label))
                changed.extend(result.changed)
            if group.steps:
                self._push_quietly(group)
            changed = sorted(set(changed))
        else:
            result = made.results[0]
            if result.batch_id is not None:
                self._push_quietly(BatchCommand(self, result.batch_id, made.label))
            changed = list(result.changed)
        if changed:
            self.changed.emit(changed)

    def replay_work(self, *, undo: bool) -> Callable[[Store], Replayed] | None:
        """The Store part of Undo (or Redo) of the stack's step now (GUI thread: read the stack, run the
        returned function anywhere); None when there is nothing to undo (redo)."""
        stack = self.stack
        if not (stack.canUndo() if undo else stack.canRedo()):
            return None
        index = stack.index() - 1 if undo else stack.index()
        command = stack.command(index)
        steps = list(command.steps) if isinstance(command, GroupCommand) else [command]
        batches = [step.batch_id for step in (reversed(steps) if undo else steps)]  # type: ignore[attr-defined]
        target = index if undo else index + 1

        def work(store: Store) -> Replayed:
            if len(batches) == 1:
                return Replayed([store.undo(batches[0]) if undo else store.redo(batches[0])], target)
            with store.transaction():  # a group: every step of it replayed, or none
                return Replayed([store.undo(b) if undo else store.redo(b) for b in batches], target)

        return work

    def replayed(self, replayed: Replayed) -> None:
        """The stack part of an undo or redo the library confirmed (GUI thread): the index moves there, and
        what another editor's later change kept is said (`failed`)."""
        self._quiet = True
        try:
            self.stack.setIndex(replayed.index)
        finally:
            self._quiet = False
        skipped = [s.reason for result in replayed.results for s in result.skipped]
        if skipped:
            self.failed.emit("; ".join(skipped) + " (their value kept)")
        changed = sorted({cid for result in replayed.results for cid in result.changed})
        if changed:
            self.changed.emit(changed)

    def run_group(self, label: str, calls: Sequence[Callable[[], EditResult]]) -> list[EditResult]:
        """Run several Store edit calls in one transaction and push them as one undo step.

        Either every call's batch is recorded or (an exception: ValueError, a busy library) none is.
        """
        made = self.made_group(self.store, label, [lambda _store, c=call: c() for call in calls])
        self.record(made)
        return made.results

    def _push_quietly(self, command: QUndoCommand) -> None:
        self._quiet = True
        try:
            self.stack.push(command)
        finally:
            self._quiet = False

    def _replay(self, batch_id: int, *, undo: bool) -> None:
        if self._quiet:
            return
        try:
            result = self.store.undo(batch_id) if undo else self.store.redo(batch_id)
        except ValueError as err:
            self.failed.emit(str(err))
            return
        except Exception as err:
            if not library_busy.is_busy(err):
                raise
            if self._grouping:
                raise  # the group's transaction rolls back every step of it (see _replay_group)
            self._refused_busy()
            return
        if result.skipped:  # another editor changed some of the step's fields since: theirs stay, said
            self.failed.emit("; ".join(s.reason for s in result.skipped) + " (their value kept)")
        if result.changed:
            self.changed.emit(list(result.changed))

    def _replay_group(self, replay: Callable[[], object]) -> None:
        if self._quiet:
            replay()  # the children are quiet too
            return
        self._grouping = True
        try:
            with self.store.transaction():
                replay()
        except Exception as err:
            if not library_busy.is_busy(err):
                raise
            self._refused_busy()
        finally:
            self._grouping = False

    def _refused_busy(self) -> None:
        """A replay the busy library refused: nothing changed, but the stack is about to count the step as
        done. Put its index back where the library is, once the stack's own undo()/redo() has returned
        (QUndoStack moves the index after the command ran, so the index now is the one from before)."""
        self.failed.emit("the library is busy: another Curator is writing; nothing changed, try again")
        target = self.stack.index()

        def restore() -> None:
            self._quiet = True
            try:
                self.stack.setIndex(target)
            finally:
                self._quiet = False

        QTimer.singleShot(0, restore)

    def rebuild(self, limit: int = HISTORY_LIMIT) -> int:
        """Fill the stack from the journal (oldest first); returns how many steps it holds.

        Batches undone and then followed by a newer edit were the redo branch the stack discarded when
        that edit was made, so they are left out; undone batches at the end stay redoable.
        """
        return self.fill(self.store.history(limit))

    def rebuild_through(self, trips: RoundTrips, limit: int = HISTORY_LIMIT) -> None:
        """rebuild(), the journal read on the trips' edits lane (a team library: off the GUI thread; an edit
        made before it arrives goes after the read, and onto the stack after it is filled)."""
        def filled(history: list[BatchInfo]) -> None:
            self.unread = False
            self.fill(history)

        self.unread = True
        trips.edit(lambda store: store.history(limit), filled, trips.reporter("Reading the undo history"))

    def fill(self, history: Sequence[BatchInfo]) -> int:
        """Fill the stack from `history` (the journal, newest first, as Store.history gives it)."""
        batches: list[BatchInfo] = []
        for batch in reversed(history):
            if not batch.undone:
                # A live edit after undone ones: those undone ones are the discarded redo branch.
                while batches and batches[-1].undone:
                    batches.pop()
            batches.append(batch)
        self._quiet = True
        try:
            self.stack.clear()
            for batch in batches:
                self.stack.push(BatchCommand(self, batch.id, batch.label))
            self.stack.setIndex(sum(1 for b in batches if not b.undone))
            self.stack.setClean()
        finally:
            self._quiet = False
        return len(batches)

    def batch_ids(self) -> list[int]:
        """The batches on the stack, oldest first (for tests and the history view)."""
        return [self.stack.command(i).batch_id for i in range(self.stack.count())]  # type: ignore[attr-defined]
