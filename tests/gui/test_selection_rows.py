"""The selected rows read off the selection's ranges (card_selection.CardSelection.selected_rows).

Through real clicks and keys the answer is the one Qt's own selectedRows() gives (whole rows, each once, in
order), for every shape a selection takes: Select All, a Ctrl+click that splits it, Shift+click ranges,
overlapping ones. And after Select All of 100k rows it is the 100k rows at once: Qt's selectedRows() took
~9 s for them on the GUI thread (a right-click after Ctrl+A counts the selection).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import pytest
from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt
from PySide6.QtWidgets import QStackedWidget

from curator.core.store_types import CardRow
from curator.gui.images import ImageCache
from curator.gui.models.card_table import CardTableModel, Column
from curator.gui.views.card_grid_view import CardGridView
from curator.gui.views.card_selection import CardSelection
from curator.gui.views.card_table_view import CardTableView
from curator.gui.views.main_window import MainWindow

Ctrl = Qt.KeyboardModifier.ControlModifier
Shift = Qt.KeyboardModifier.ShiftModifier
NoMod = Qt.KeyboardModifier.NoModifier


def qt_rows(window: MainWindow) -> list[int]:
    """Qt's answer: the rows whose every column is selected."""
    return sorted({i.row() for i in window.table.selectionModel().selectedRows(Column.TITLE)})


def click(qtbot, window: MainWindow, row: int, modifier: Qt.KeyboardModifier = NoMod) -> None:  # type: ignore[no-untyped-def]
    """A real click on `row` of the view shown (with Ctrl, Shift or both)."""
    view = window.current_view()
    index = window.model.index(row, Column.TITLE)
    view.scrollTo(index)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, modifier, view.visualRect(index).center())


@pytest.mark.parametrize("mode", ["table", "grid"])
def test_every_shape_of_selection_gives_qt_rows(qtbot, edit_window: MainWindow, mode: str) -> None:  # type: ignore[no-untyped-def]
    window = edit_window
    window.set_view_mode(mode)
    selection = window.selection
    total = window.model.total
    assert total > 40
    window.current_view().setFocus()
    shapes: list[list[int]] = []

    def check() -> None:
        rows = selection.selected_rows()
        assert rows == qt_rows(window)
        assert selection.selected_ids() == [window.model.card_at(r).id for r in rows]  # type: ignore[union-attr]
        shapes.append(rows)

    qtbot.keyClick(window.current_view(), Qt.Key.Key_A, Ctrl)  # Select All: one range
    check()
    assert shapes[-1] == list(range(total))
    click(qtbot, window, 7, Ctrl)  # a Ctrl+click takes one row out of it: two ranges
    check()
    assert 7 not in shapes[-1] and len(shapes[-1]) == total - 1
    click(qtbot, window, 20, Ctrl)
    check()
    click(qtbot, window, 7, Ctrl)  # back in: a range beside the others
    check()
    click(qtbot, window, 3)  # one row
    check()
    assert shapes[-1] == [3]
    click(qtbot, window, 12, Shift)  # a range from it
    check()
    assert shapes[-1] == list(range(3, 13))
    click(qtbot, window, 30, Ctrl)
    click(qtbot, window, 33, Ctrl | Shift)  # a second range, apart
    check()
    assert shapes[-1] == [*range(3, 13), *range(30, 34)]
    chooser = window.table.selectionModel()
    Flag = QItemSelectionModel.SelectionFlag
    # Overlapping ranges of whole rows (a selection model keeps them as they were selected).
    overlapping = QItemSelection(window.model.index(10, 0), window.model.index(16, len(Column) - 1))
    chooser.select(overlapping, Flag.Select)
    check()
    assert shapes[-1] == [*range(3, 17), *range(30, 34)]
    # Part of a row's columns (not made by the views): the row is not selected unless all its columns are.
    chooser.select(window.model.index(40, Column.TITLE), Flag.Select)
    check()
    assert 40 not in shapes[-1]
    whole = QItemSelection(window.model.index(40, 0), window.model.index(40, len(Column) - 1))
    chooser.select(whole, Flag.Select)
    check()
    assert 40 in shapes[-1]


class ManyRows:
    """A library of `n` cards for the model alone (RowSource): rows are made as they are asked for."""

    def __init__(self, n: int) -> None:
        self.n = n

    def _row(self, card_id: int) -> CardRow:
        return CardRow(card_id, f"/cards/{card_id}.yaml", f"Card {card_id}", None, None, None, None, None, None,
                       False, [], None, False, False, False, 0, 0)  # fmt: skip

    def rows(self, query: str | None = None, *, sort: Sequence[tuple[str, bool]] = (), offset: int = 0,
             limit: int | None = None) -> list[CardRow]:  # fmt: skip
        end = self.n if limit is None else min(self.n, offset + limit)
        return [self._row(i + 1) for i in range(offset, end)]

    def count(self, query: str | None = None) -> int:
        return self.n

    def rows_by_id(self, ids: Sequence[int]) -> list[CardRow]:
        return [self._row(i) for i in ids if 1 <= i <= self.n]

    def ids(self, query: str | None = None, *, sort: Sequence[tuple[str, bool]] = ()) -> list[int]:
        return list(range(1, self.n + 1))


@pytest.mark.parametrize("mode", ["table", "grid"])
def test_select_all_of_100k_rows_is_read_at_once(qtbot, images: ImageCache, mode: str) -> None:  # type: ignore[no-untyped-def]
    n = 100_000
    model = CardTableModel(ManyRows(n))  # type: ignore[arg-type]
    table, grid, stack = CardTableView(model), CardGridView(model, images), QStackedWidget()
    grid.setSelectionModel(table.selectionModel())  # one selection, two views (as the window has them)
    stack.addWidget(table)
    stack.addWidget(grid)
    qtbot.addWidget(stack)
    selection = CardSelection(model, table, grid, stack)
    selection.show_view(grid if mode == "grid" else table)
    selection.select_all()
    start = time.perf_counter()
    ids = selection.selected_ids()
    seconds = time.perf_counter() - start
    assert ids == list(range(1, n + 1))
    assert seconds < 1.0, f"{seconds:.2f} s to read a Select All of {n:,} rows"
