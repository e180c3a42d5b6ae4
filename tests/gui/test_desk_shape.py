"""Issue 9's last pieces: the controllers wired by signals (no window handed in), an unrated card's quality
shown as not rated and never written as 0 by a click, the grid's tiles as tall as what they draw, and
Undo saying what it undid."""

from __future__ import annotations

import inspect

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QFont
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from curator.gui.delegates import CardTileDelegate
from curator.gui.views import editing, file_sync, main_window, related_editor
from curator.gui.views.card_editor import NOT_RATED
from curator.gui.views.main_window import MainWindow


def unrated_card(window: MainWindow) -> int:
    """A card the list holds without a quality (the key absent) and without problems."""
    store = window.store
    rows = store.rows_by_id(window.model.loaded_ids())
    return next(r.id for r in rows if not r.problems and "quality" not in store.detail(r.id).data)  # type: ignore[union-attr]


def test_controllers_are_handed_collaborators_not_the_window() -> None:
    for controller in (editing.EditController, file_sync.FileController, related_editor.RelatedLinks):
        params = inspect.signature(controller.__init__).parameters
        assert "window" not in params, controller
        source = inspect.getsource(controller)
        assert "self.window" not in source and "MainWindow" not in source, controller
    assert len(inspect.getsource(main_window).splitlines()) < 450


def test_related_links_save_runs_through_the_wiring_as_one_undo_step(edit_window: MainWindow, own_library) -> None:  # type: ignore[no-untyped-def]
    store, _cards = own_library
    cid = next(i for i in store.ids() if store.detail(i).related)  # type: ignore[union-attr]
    assert edit_window.select_card(cid)
    before = store.detail(cid).related  # type: ignore[union-attr]
    shown = []

    def save_without_the_first(dialog) -> bool:  # type: ignore[no-untyped-def]
        shown.append(dialog)
        dialog.list.setCurrentRow(0)
        dialog.remove_current()
        return True

    edit_window.related.run_dialog = save_without_the_first  # type: ignore[assignment]
    edit_window.actions.edit_related.trigger()
    assert len(shown) == 1 and shown[0].card.id == cid
    assert store.detail(cid).related == before[1:]  # type: ignore[union-attr]
    assert edit_window.edits.history.stack.undoText() == "Edit related links"
    # The detail pane followed the edit (the edits' cardsChanged reached the window's refresh).
    assert len(edit_window.detail.related_items) == len(before) - 1


def test_an_unrated_card_shows_not_rated_and_a_click_on_the_slider_writes_nothing(qtbot, edit_window: MainWindow, own_library) -> None:  # type: ignore[no-untyped-def]
    store, _cards = own_library
    cid = unrated_card(edit_window)
    assert edit_window.select_card(cid)
    quality = edit_window.detail.editor.quality
    assert quality.value() == NOT_RATED and quality.spin.text() == "not rated"
    # Press and release the handle where it is (at the far left): no edit, no undo step, nothing pending.
    handle = QPoint(4, quality.slider.height() // 2)
    QTest.mousePress(quality.slider, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, handle)
    QTest.mouseRelease(quality.slider, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, handle)
    QApplication.processEvents()
    assert edit_window.edits.history.stack.count() == 0
    assert store.totals().dirty == 0 and "quality" not in store.detail(cid).pending  # type: ignore[union-attr]
    # A real choice is written; stepping back to "not rated" removes the key again (nothing becomes 0).
    quality.spin.setValue(40)
    assert store.detail(cid).data["quality"] == 40  # type: ignore[union-attr]
    quality.spin.setValue(NOT_RATED)
    assert "quality" not in store.detail(cid).data  # type: ignore[union-attr]
    assert edit_window.edits.history.stack.undoText() == "Mark quality not rated"
    assert store.totals().dirty == 0  # back where the file is: nothing to write


def test_grid_tiles_end_just_below_the_score_bars(edit_window: MainWindow) -> None:
    edit_window.set_view_mode("grid")
    grid = edit_window.grid
    size = grid.gridSize()
    drawn = CardTileDelegate.content_height(grid.font()) + 2 * (CardTileDelegate.FRAME + CardTileDelegate.PAD)
    assert size.height() == drawn
    assert size.height() < CardTileDelegate.TILE.height() - 20  # the ~50 px empty band is gone
    # A bigger font makes taller tiles, never bars painted over the next row.
    big = QFont(grid.font())
    big.setPointSizeF(big.pointSizeF() * 1.5)
    grid.setFont(big)
    QApplication.processEvents()
    assert grid.gridSize().height() == CardTileDelegate.content_height(big) + 24 > size.height()


def test_undo_and_redo_say_what_they_did(edit_window: MainWindow, own_library) -> None:  # type: ignore[no-untyped-def]
    store, _cards = own_library
    cid = unrated_card(edit_window)
    assert edit_window.select_card(cid)
    edit_window.edits.set_fields([cid], {"quality": 70}, "Set quality to 70")
    edit_window.actions.undo.trigger()
    assert edit_window.statusBar().currentMessage() == "Undone: Set quality to 70"
    assert "quality" not in store.detail(cid).data  # type: ignore[union-attr]
    edit_window.actions.redo.trigger()
    assert edit_window.statusBar().currentMessage() == "Redone: Set quality to 70"
    assert store.detail(cid).data["quality"] == 70  # type: ignore[union-attr]
