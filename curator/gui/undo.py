"""Undo and redo over the library's journal: one QUndoCommand per Store edit batch.

Edits reach the library at once (a crash loses nothing); the Store records each edit call as one batch.
A BatchCommand only names that batch: undo() and redo() ask the Store to replay it, so the QUndoStack is
a view of the journal, and it can be rebuilt from ``Store.history`` when the window opens on a library
edited before (journal-backed undo across restarts).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from curator.core.store import Store
from curator.core.store_types import BatchInfo, EditResult

#: How many batches of the journal the stack is rebuilt from on start.
HISTORY_LIMIT = 500


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

    def run(self, call: Callable[[], EditResult]) -> EditResult:
        """Run one Store edit call (one batch) and push it as one undo step when it changed anything.

        ValueError from the Store (an invalid value) propagates, and nothing is pushed.
        """
        result = call()
        if result.batch_id is not None:
            label = next((b.label for b in self.store.history(1) if b.id == result.batch_id), "Edit")
            self._push_quietly(BatchCommand(self, result.batch_id, label))
        if result.changed:
            self.changed.emit(list(result.changed))
        return result

    def _push_quietly(self, command: BatchCommand) -> None:
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
        if result.changed:
            self.changed.emit(list(result.changed))

    def rebuild(self, limit: int = HISTORY_LIMIT) -> int:
        """Fill the stack from the journal (oldest first); returns how many steps it holds.

        Batches undone and then followed by a newer edit were the redo branch the stack discarded when
        that edit was made, so they are left out; undone batches at the end stay redoable.
        """
        batches: list[BatchInfo] = []
        for batch in reversed(self.store.history(limit)):
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
