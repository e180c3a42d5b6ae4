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
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QDialog, QInputDialog, QStatusBar, QWidget

from curator.core.store import Store
from curator.core.store_types import CardDetail, EditResult, LibraryError, StaleEdit
from curator.gui import library_busy, plain
from curator.gui import settings as keys
from curator.gui.actions import HEAT_STEP, Actions
from curator.gui.settings import Settings
from curator.gui.undo import EditHistory
from curator.gui.views import publish_gate
from curator.gui.views.bulk_dialog import CONFIRM_ABOVE, BulkConfirmDialog, flagged_cards
from curator.gui.views.card_selection import CardSelection
from curator.gui.views.history_dialog import HistoryDialog

T = TypeVar("T")


def _exec_dialog(dialog: QDialog) -> bool:
    return dialog.exec() == QDialog.DialogCode.Accepted


class EditController(QObject):
    """Turns edit requests (actions, the detail editor) into Store calls through the undo history."""

    cardsChanged = Signal(list)  # an edit, undo or redo changed these cards
    editNotMade = Signal()  # a detail-pane edit was refused, cancelled or gave up on a busy library

    def __init__(
        self, store: Store, history: EditHistory, selection: CardSelection, actions: Actions,
        settings: Settings, status: QStatusBar, *, writing: Callable[[], bool], parent: QWidget,
    ) -> None:  # fmt: skip
        """`writing()`: a write is running (edits wait for it); `parent`: the dialogs' parent."""
        super().__init__(parent)
        self.store = store
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
        self.history_dialog: HistoryDialog | None = None
        history.changed.connect(self.cardsChanged)
        history.failed.connect(self._replay_failed)
        #: Edits waiting to be tried again because another process held the library's write lock.
        self.retrying = 0
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

    def undo(self) -> None:
        """Edit > Undo, saying what was undone (after a triage key with auto-advance the card undone is not
        the one in hand any more, so the change itself is not in view)."""
        stack = self.history.stack
        text, index = stack.undoText(), stack.index()
        self._replay_note = ""
        stack.undo()
        if stack.index() < index:  # a refused undo (busy, a file changed) puts the index back and says why
            self._say_replayed(f"Undone: {text}")

    def redo(self) -> None:
        """Edit > Redo, saying what was redone."""
        stack = self.history.stack
        text, index = stack.redoText(), stack.index()
        self._replay_note = ""
        stack.redo()
        if stack.index() > index:
            self._say_replayed(f"Redone: {text}")

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
        self.status.showMessage(f"All {self.selection.model.total:,} cards matching the query are selected", 5000)

    def _selection_changed(self, *_args: Any) -> None:
        if not self._selecting:
            self.all_matching = False

    def target_ids(self) -> list[int]:
        """The cards an action applies to: the selection when it holds the card in hand (a multi-selection
        is a bulk target), else the card in hand alone, never a selection the detail pane does not show."""
        if self.all_matching:
            return self.store.ids(self.selection.model.query)
        selected = self.selection.selected_ids()
        current = self._current()
        if current and current[0] not in selected:
            return current
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

    def _confirmed(self, action: str, ids: list[int]) -> bool:
        if len(ids) <= CONFIRM_ABOVE:
            return True
        flagged, total = flagged_cards(self.store, ids)
        dialog = BulkConfirmDialog(action, len(ids), flagged, total, self.parent_widget)
        self.last_confirmation = dialog
        return self.confirm(dialog)

    def _run(self, ids: list[int], action: str, call: Callable[[str], EditResult]) -> EditResult | None:
        """Confirm when many, then run `call(label)` as one undo step; None when nothing ran."""
        if not ids:
            self.status.showMessage("Select one or more cards first", 4000)
            return None
        if self._blocked() or not self._confirmed(action, ids):
            return None
        label = action if len(ids) == 1 else f"{action} ({len(ids):,} cards)"
        return self._attempt(action, lambda: self.history.run(lambda: call(label)), 0)

    def _attempt(self, action: str, run: Callable[[], T], attempt: int) -> T | None:
        """`run()` (one edit through the history); a busy library is tried again later (see library_busy)."""
        refused = self.refusal()
        if refused:
            plain.warning(self.parent_widget, "Cannot make this edit", f"{refused}\n\n{action} was not applied.")
            return None
        # This thread's wait for the lock stays short (an inline import may have reopened its connection).
        library_busy.set_busy_timeout(self.store, library_busy.GUI_BUSY_TIMEOUT_MS)
        try:
            return run()
        except StaleEdit as err:
            # Another editor changed the card since the pane showed it: say what it holds now and who set
            # it, and show the fresh values (row and pane) before the editor decides again.
            plain.warning(self.parent_widget, "Changed by another editor", f"{action}: {err}.")
            self.cardsChanged.emit([err.card_id])
            return None
        except ValueError as err:
            plain.warning(self.parent_widget, "Cannot make this edit", str(err))
            return None
        except Exception as err:
            if not library_busy.is_busy(err):
                if not isinstance(err, LibraryError):
                    raise
                # The library failed (a team library's server went away): the edit was one transaction
                # that did not commit, so nothing of it was applied; say so instead of a traceback.
                plain.warning(self.parent_widget, "Cannot make this edit",
                              f"{action} was not applied; nothing changed.\n\n{err}")  # fmt: skip
                return None
        # Busy: the edit was one transaction that never began, so nothing is half-applied.
        if attempt < library_busy.RETRIES:
            self.retrying += 1
            self.status.showMessage(f"The library is busy; trying {action} again…", 3000)

            def again() -> None:
                self.retrying -= 1
                if self._attempt(action, run, attempt + 1) is None and not self.retrying:
                    self._settled_without(action)

            QTimer.singleShot(library_busy.RETRY_MS, again)
            return None
        plain.warning(self.parent_widget, "The library is busy", library_busy.BUSY_MESSAGE.format(action=action))
        return None

    def _settled_without(self, _action: str) -> None:
        # The detail editor may show a value that never reached the library: show the library's again.
        if shiboken6.isValid(self):
            self.editNotMade.emit()

    def _expected(self, ids: list[int]) -> dict[int, int] | None:
        """The version the detail pane showed, for an edit of the card in hand alone (a bulk edit applies
        to current values; the library reports the cards it skipped)."""
        card = self.card_in_hand()
        if card is not None and ids == [card.id] and card.version:
            return {card.id: card.version}
        return None

    def set_fields(self, ids: list[int], changes: dict[str, Any], action: str) -> EditResult | None:
        """One Store.set_fields call on `ids` (confirmed when above the threshold)."""
        expected = self._expected(ids)
        return self._run(ids, action,
                         lambda label: self.store.set_fields(ids, changes, label=label, expected=expected))  # fmt: skip

    def change_topic(self, ids: list[int], name: str, *, add: bool) -> EditResult | None:
        action = f"{'Add' if add else 'Remove'} topic {name!r}"
        call = self.store.add_topic if add else self.store.remove_topic
        expected = self._expected(ids)
        return self._run(ids, action, lambda label: call(ids, name, label=label, expected=expected))

    def set_related(self, card_id: int, items: list[dict[str, Any]], version: int = 0) -> EditResult | None:
        """The related editor's Save: `version` is the card's when the dialog opened (0: the pane's now)."""
        version = version or (self._expected([card_id]) or {}).get(card_id) or 0
        return self._run([card_id], "Edit related links",
                         lambda label: self.store.set_related(card_id, items, label=label,
                                                              expected_version=version or None))  # fmt: skip

    def edit_card(self, card_id: int, changes: dict[str, Any], action: str) -> None:
        """A change made in the detail editor (or a problem fix there): applies to the card it shows."""
        if self.set_fields([card_id], changes, action) is None and not self.retrying:
            self.editNotMade.emit()  # the widget shows a value the library does not hold: show the library's

    def add_topic_in_hand(self, name: str) -> None:
        self.change_topic(self._current(), name, add=True)

    def remove_topic_in_hand(self, name: str) -> None:
        self.change_topic(self._current(), name, add=False)

    def triage(self, changes: dict[str, Any], action: str, ids: list[int] | None = None) -> None:
        """A triage key (P, U, a quality key) on the targets (or `ids`), then (if enabled) to the next card."""
        ids = self.target_ids() if ids is None else ids
        if self.set_fields(ids, changes, action) is not None:
            self._advance(len(ids))

    def publish(self) -> None:
        """P, Cards > Publish: a bulk publish first names the duplicates and cards with problems among its
        targets and offers to skip them (views/publish_gate.py); one card is published as it is."""
        ids = self.target_ids()
        if len(ids) > 1 and not self._blocked():
            gate = publish_gate.find(self.store, ids)
            if gate.held_ids:
                answer = self.ask_gate(gate)
                if answer == "cancel":
                    return
                if answer == "skip":
                    ids = gate.rest()
                    if not ids:
                        self.status.showMessage("Nothing published: every card was skipped", 6000)
                        return
        self.triage({"published": True}, "Publish", ids)

    def step_heat(self, step: int) -> None:
        """+ / -: heat up or down by `step` per card (not rated counts as 0; stays within 0..100).

        Cards with different heat get different values, so this is one Store call per distinct heat,
        grouped into one undo step (a macro). Heat steps never advance: an editor presses + three times
        on one card. When nothing changes the status bar says why (- on a card not rated, or at a limit).
        """
        ids = self.target_ids()
        if not ids or self._blocked() or not self._confirmed(f"Heat {step:+d}", ids):
            return
        groups: dict[int, list[int]] = {}
        for row in self.store.rows_by_id(ids):
            old = row.heat if row.heat is not None and row.heat >= 0 else (None if step < 0 else 0)
            if old is None:
                continue  # not rated and going down: stays not rated
            new = max(0, min(100, old + step))
            if new != row.heat:
                groups.setdefault(new, []).append(row.id)
        if not groups:
            self.status.showMessage(self._heat_unchanged(ids, step), 6000)
            return
        label = f"Heat {step:+d}" + ("" if len(ids) == 1 else f" ({len(ids):,} cards)")
        calls = [
            lambda v=value, g=group: self.store.set_fields(g, {"heat": v}, label=label)
            for value, group in sorted(groups.items())
        ]
        # One transaction and one undo step for every group: all of them reach the library or none does.
        self._attempt(label, lambda: self.history.run_group(label, calls), 0)

    def _heat_unchanged(self, ids: list[int], step: int) -> str:
        what = "This card's" if len(ids) == 1 else "These cards'"
        if step < 0:
            rows = self.store.rows_by_id(ids)
            if all(r.heat is None or r.heat < 0 for r in rows):
                return (f"{what} heat is not rated, so − leaves it unrated; press + to rate it "
                        f"({HEAT_STEP}) or use Cards > Set Heat…")  # fmt: skip
            return f"{what} heat is already 0 (or not rated): − cannot go lower"
        return f"{what} heat is already 100: + cannot go higher"

    def _advance(self, count: int) -> None:
        if count == 1 and self.settings.value(keys.ADVANCE):
            self.selection.move(1)

    def _ask_score(self, field: str) -> None:
        ids = self.target_ids()
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
        ids = self.target_ids()
        if not ids:
            return
        name, ok = QInputDialog.getItem(
            self.parent_widget, "Add topic" if add else "Remove topic", f"Topic for {plain.count(len(ids), 'card')}",
            self.store.values("topics"), 0, True,
        )  # fmt: skip
        if ok and name.strip():
            self.change_topic(ids, name.strip(), add=add)

    # -- the history ----------------------------------------------------------------------------------
    def show_history(self) -> HistoryDialog:
        """Edit > History (one dialog, raised when already open)."""
        if self.history_dialog is None or not shiboken6.isValid(self.history_dialog):
            self.history_dialog = HistoryDialog(self.store, self.history.stack, self.parent_widget)
        self.history_dialog.open()
        self.history_dialog.raise_()
        return self.history_dialog
