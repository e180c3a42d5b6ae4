"""A gated bulk publish reads the library's flagged cards once: the bulk confirmation after the publishing
gate lists the cards the gate read (Gate.flagged), the same rows a read of its own would list.

Through the real window: Ctrl+A over every card (more than CONFIRM_ABOVE, so the confirmation shows), P,
the gate's box answered "Publish all" by its button, the confirmation answered yes.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from curator.gui import plain
from curator.gui.views import publish_gate
from curator.gui.views.bulk_dialog import CONFIRM_ABOVE, BulkConfirmDialog, flagged_cards
from curator.gui.views.main_window import MainWindow


def test_the_confirmation_lists_the_gates_flagged_cards_without_reading_them_again(
    qtbot: Any, edit_window: MainWindow, monkeypatch: Any
) -> None:
    window = edit_window
    store = window.store
    window.checks.refresh_now()
    ids = store.ids()
    assert len(ids) > CONFIRM_ABOVE
    invalid = store.ids("problems:true")
    assert invalid  # the seeds hold cards failing validation: the confirmation has cards to list
    store.set_fields(ids, {"published": False}, label="setup")
    window.edits.history.rebuild()
    window.model.refresh_rows(window.model.loaded_ids())
    expected = BulkConfirmDialog("Publish", len(ids), *flagged_cards(store, ids)).listed()
    assert expected

    reads: list[list[int]] = []
    real = store.flagged_cards
    monkeypatch.setattr(store, "flagged_cards", lambda wanted: reads.append(list(wanted)) or real(wanted))
    boxes: list[QMessageBox] = []

    def click(box: QMessageBox) -> int:
        boxes.append(box)
        next(b for b in box.buttons() if b.text() == "Publish all").click()
        return 0

    monkeypatch.setattr(plain, "show", click)
    dialogs: list[BulkConfirmDialog] = []
    window.edits.confirm = lambda dialog: dialogs.append(dialog) or True
    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(window.table, Qt.Key.Key_P)

    assert len(boxes) == 1 and len(dialogs) == 1  # the gate asked, then the confirmation
    assert dialogs[0].count == len(ids) and dialogs[0].listed() == expected
    assert len(reads) == 1 and sorted(reads[0]) == sorted(ids)  # the gate's read, not a second one
    assert {r.id for r in store.rows_by_id(ids) if r.published} == set(ids)


def test_the_rest_of_a_skip_keeps_only_its_own_flagged_cards() -> None:
    flagged = [publish_gate.FlaggedCard(i, f"/c/{i}.md", None, 1, False, False) for i in (3, 1, 7)]
    gate = publish_gate.Gate([1, 2, 3, 7], flagged=flagged)
    assert gate.flagged_among([7, 2, 1]) == [flagged[1], flagged[2]]  # in the gate's (path) order
    assert gate.flagged_among([2]) == []
