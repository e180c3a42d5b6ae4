"""One card in hand: after any way of moving, a triage key edits the card the detail pane shows.

Each test clicks a row first (so a stale selection exists), moves with one navigation key or action, and
presses a triage key with real key events; the edit must land on the detail pane's card, and on no other.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QAbstractItemView

from curator.gui import settings as keys
from curator.gui.models.card_table import Column
from curator.gui.views.card_grid_view import tile_width
from curator.gui.views.main_window import MainWindow

Ctrl = Qt.KeyboardModifier.ControlModifier
NoMod = Qt.KeyboardModifier.NoModifier


def view_of(window: MainWindow) -> QAbstractItemView:
    return window.current_view()


def click_row(qtbot, window: MainWindow, row: int) -> None:  # type: ignore[no-untyped-def]
    view = view_of(window)
    index = window.model.index(row, Column.TITLE)
    view.scrollTo(index)
    rect = view.visualRect(index)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center() + QPoint(0, 0))
    assert window.current_id() == window.model.card_at(row).id  # type: ignore[union-attr]


def key(qtbot, window: MainWindow, k: Qt.Key, mod: Qt.KeyboardModifier = NoMod) -> None:  # type: ignore[no-untyped-def]
    qtbot.keyClick(view_of(window), k, mod)


def click_facet(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    item = window.facets.find("status", "Unpublished")
    assert item is not None
    rect = window.facets.visualItemRect(item)
    qtbot.mouseClick(window.facets.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    window.current_view().setFocus()  # the facet click took the focus; the editor goes back to the list


NAVIGATIONS: dict[str, Callable[..., None]] = {
    "home": lambda qtbot, w: key(qtbot, w, Qt.Key.Key_Home),
    "end": lambda qtbot, w: key(qtbot, w, Qt.Key.Key_End),
    "page-up": lambda qtbot, w: key(qtbot, w, Qt.Key.Key_PageUp),
    "page-down": lambda qtbot, w: key(qtbot, w, Qt.Key.Key_PageDown),
    "ctrl-home": lambda qtbot, w: key(qtbot, w, Qt.Key.Key_Home, Ctrl),
    "ctrl-end": lambda qtbot, w: key(qtbot, w, Qt.Key.Key_End, Ctrl),
    "ctrl-down": lambda qtbot, w: key(qtbot, w, Qt.Key.Key_Down, Ctrl),
    "j": lambda qtbot, w: key(qtbot, w, Qt.Key.Key_J),
    "k": lambda qtbot, w: key(qtbot, w, Qt.Key.Key_K),
    "space": lambda qtbot, w: key(qtbot, w, Qt.Key.Key_Space),
    "click": lambda qtbot, w: click_row(qtbot, w, 1),
    "facet": click_facet,
    "re-query": lambda _qtbot, w: w.apply_query("published:false"),
}


@pytest.mark.parametrize("mode", ["table", "grid"])
@pytest.mark.parametrize("navigation", sorted(NAVIGATIONS))
def test_a_triage_key_edits_the_card_the_detail_pane_shows(qtbot, edit_window: MainWindow, mode: str,
                                                            navigation: str) -> None:  # fmt: skip
    window = edit_window
    window.set_view_mode(mode)
    window.actions.advance.setChecked(True)
    window.current_view().setFocus()
    qtbot.waitUntil(lambda: view_of(window).hasFocus())
    click_row(qtbot, window, 5)
    NAVIGATIONS[navigation](qtbot, window)
    in_hand = window.detail.card
    assert in_hand is not None
    assert window.current_id() == in_hand.id
    # The selection is the card in hand, too (what Copy File Path and the bulk actions take).
    assert window.selected_ids() == [in_hand.id]
    before = {r.id: r.quality for r in window.store.rows_by_id(window.store.ids())}
    row = window.model.row_of(in_hand.id)
    assert row is not None
    key(qtbot, window, Qt.Key.Key_2)
    after = {r.id: r.quality for r in window.store.rows_by_id(window.store.ids())}
    changed = {cid for cid in after if after[cid] != before[cid]}
    assert after[in_hand.id] == 20
    assert changed <= {in_hand.id}
    # Advance moves on from the card that was edited (the last row stays where it is).
    expected = window.model.card_at(min(row + 1, window.model.rowCount() - 1))
    assert expected is not None
    assert window.current_id() == expected.id == window.detail.card.id  # type: ignore[union-attr]


def test_a_multi_selection_stays_a_bulk_target(qtbot, edit_window: MainWindow) -> None:
    """Shift+Down extends the selection: the triage key then edits every selected card (and does not advance)."""
    window = edit_window
    window.table.setFocus()
    click_row(qtbot, window, 2)
    key(qtbot, window, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    ids = window.selected_ids()
    assert len(ids) == 2
    key(qtbot, window, Qt.Key.Key_7)
    assert {r.quality for r in window.store.rows_by_id(ids)} == {70}
    assert window.current_id() == ids[1]


def test_advance_is_on_by_default_and_remembered(qtbot, edit_window: MainWindow) -> None:
    window = edit_window
    assert window.actions.advance.isChecked()
    assert window.status_line.advance_button.defaultAction() is window.actions.advance  # the visible toggle
    assert window.status_line.advance_button.isVisible()
    window.status_line.advance_button.click()
    assert not window.actions.advance.isChecked()
    assert window.settings.value(keys.ADVANCE) is False


def test_quality_keys_reach_100_and_heat_steps_stay_on_the_card(qtbot, edit_window: MainWindow) -> None:
    window = edit_window
    assert window.actions.advance.isChecked()
    window.table.setFocus()
    store = window.store
    unrated = next(r for r in store.rows_by_id(store.ids()) if r.heat is None or r.heat < 0)
    assert window.select_card(unrated.id)
    key(qtbot, window, Qt.Key.Key_0)
    assert store.detail(unrated.id).quality == 100  # type: ignore[union-attr]
    assert window.select_card(unrated.id)  # advance moved on; back to the unrated card
    key(qtbot, window, Qt.Key.Key_Minus)
    assert store.detail(unrated.id).heat in (None, -1)  # type: ignore[union-attr]
    message = window.statusBar().currentMessage()
    assert "not rated" in message and "+" in message
    key(qtbot, window, Qt.Key.Key_Plus)
    key(qtbot, window, Qt.Key.Key_Plus)
    assert store.detail(unrated.id).heat == 20  # type: ignore[union-attr]
    assert window.current_id() == unrated.id  # heat steps never advance
    key(qtbot, window, Qt.Key.Key_9)
    assert store.detail(unrated.id).quality == 90  # type: ignore[union-attr]
    assert window.current_id() != unrated.id
    texts = [a.text() for a in window.actions.quality_keys]
    assert texts[1] == "Set Quality to 10" and texts[0] == "Set Quality to 100"


@pytest.mark.parametrize("width", [700, 1000, 1234])
def test_the_grid_fills_its_width_with_tiles(qtbot, edit_window: MainWindow, width: int) -> None:
    """No ragged margin: the tiles of a row share the viewport's whole width."""
    window = edit_window
    window.set_view_mode("grid")
    grid = window.grid
    grid.resize(width + grid.verticalScrollBar().sizeHint().width() + 2 * grid.frameWidth(), 600)
    qtbot.wait(50)
    assert grid.gridSize().width() == tile_width(grid.viewport().width())
    view_width = grid.viewport().width()
    first_row = [grid.visualRect(window.model.index(r, Column.TITLE)) for r in range(12)]
    top = first_row[0].top()
    row = [r for r in first_row if r.top() == top]
    right_gap = view_width - (row[-1].right() + 1)
    assert len(row) >= 2 and right_gap <= len(row) + 1, (view_width, [r.getCoords() for r in row])
