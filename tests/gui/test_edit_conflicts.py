"""Two editors on one library in the window: an edit of the card in hand carries the version the detail
pane showed; when another editor (another Store, its own connection) changed the card meanwhile, the edit
is refused, the editor is told the fresh values and who set them, and the row and pane show them."""

from __future__ import annotations

from typing import Any

import pytest
from gui_helpers import card_id
from PySide6.QtWidgets import QMessageBox

from curator.core.store import Store
from curator.gui import plain

EXAMPLE = "000_63d795e8c7832238.txt"


@pytest.fixture
def boxes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    shown: list[tuple[str, str]] = []

    def capture(box: QMessageBox) -> int:
        shown.append((box.windowTitle(), box.text()))
        return 0

    monkeypatch.setattr(plain, "show", capture)
    return shown


def _in_hand(window: Any, own_library: tuple[Store, Any]) -> tuple[int, Store]:
    store, cards = own_library
    cid = card_id(store, cards / EXAMPLE)
    window.apply_query("")
    assert window.select_card(cid)
    assert window.detail.card is not None and window.detail.card.id == cid
    return cid, Store(store.path, editor="Ben")


def test_a_detail_pane_edit_on_a_card_changed_meanwhile_is_refused_with_who_and_the_fresh_values(
    edit_window: Any, own_library: tuple[Store, Any], boxes: list[tuple[str, str]]
) -> None:
    cid, ben = _in_hand(edit_window, own_library)
    ben.set_fields([cid], {"quality": 12}, label="Ben's quality")  # not seen by this window yet
    assert edit_window.detail.card.quality != 12
    edit_window.detail.editor.heat.spin.setValue(35)
    assert [title for title, _ in boxes] == ["Changed by another editor"]
    assert "quality is now 12 (set by Ben" in boxes[0][1]
    store = edit_window.store
    assert store.detail(cid).heat != 35 and store.detail(cid).quality == 12  # nothing overwritten
    # The row and the pane show the fresh values, and the next edit (on them) goes through.
    assert edit_window.detail.card.quality == 12 and edit_window.detail.editor.quality.value() == 12
    row = edit_window.model.row_of(cid)
    assert row is not None and edit_window.model.card_at(row).quality == 12
    edit_window.detail.editor.heat.spin.setValue(36)
    assert len(boxes) == 1 and store.detail(cid).heat == 36
    ben.close()


def test_a_topic_and_a_related_edit_of_the_card_in_hand_are_checked_too(
    edit_window: Any, own_library: tuple[Store, Any], boxes: list[tuple[str, str]]
) -> None:
    cid, ben = _in_hand(edit_window, own_library)
    ben.set_fields([cid], {"published": True}, label="Ben's publish")
    edit_window.detail.editor.topic_input.setText("Robotics")
    edit_window.detail.editor.topic_input.returnPressed.emit()
    assert boxes and "published is now true (set by Ben" in boxes[-1][1]
    assert "Robotics" not in edit_window.store.detail(cid).topics
    # The related editor's Save carries the version of the card the dialog opened on.
    opened = edit_window.detail.card
    ben.set_fields([cid], {"quality": 3}, label="Ben again")
    edit_window.edits.set_related(cid, [], opened.version)
    assert "quality is now 3 (set by Ben" in boxes[-1][1]
    assert edit_window.store.detail(cid).related_count == opened.related_count
    ben.close()


def test_a_bulk_edit_from_the_window_applies_to_current_values(
    edit_window: Any, own_library: tuple[Store, Any], boxes: list[tuple[str, str]]
) -> None:
    cid, ben = _in_hand(edit_window, own_library)
    ben.set_fields([cid], {"quality": 12}, label="Ben's quality")
    ids = edit_window.store.ids()[:3]
    result = edit_window.edits.set_fields(ids, {"heat": 20}, "Set heat")
    assert result is not None and not boxes
    assert all(edit_window.store.detail(i).heat == 20 for i in ids)
    ben.close()


def test_undo_in_the_window_keeps_another_editors_later_change_and_says_so(
    edit_window: Any, own_library: tuple[Store, Any], boxes: list[tuple[str, str]]
) -> None:
    cid, ben = _in_hand(edit_window, own_library)
    edit_window.edits.set_fields([cid], {"quality": 70, "heat": 30}, "Score")
    ben.set_fields([cid], {"quality": 12}, label="Ben's quality")
    edit_window.actions.undo.trigger()
    message = edit_window.statusBar().currentMessage()
    assert "quality of card" in message and "was changed by Ben since" in message, message
    detail = edit_window.store.detail(cid)
    assert detail.quality == 12 and detail.heat != 30  # Ben's quality kept, the rest of the step undone
    ben.close()
