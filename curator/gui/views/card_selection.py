"""The card in hand: one current card and one selection, shared by the table and the grid.

Every key, menu action and the detail pane ask this object which cards they act on, so the current index,
the selection and the card the detail pane shows are always the same card (issue 9's "card in hand"). The
edit controller, the related-links feature and the window are handed this object instead of the window.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QObject, Signal
from PySide6.QtWidgets import QStackedWidget

from curator.gui.models.card_table import CardTableModel, Column
from curator.gui.views.card_grid_view import CardGridView
from curator.gui.views.card_table_view import CardTableView

Flag = QItemSelectionModel.SelectionFlag


class CardSelection(QObject):
    """Which cards the editor holds, over the table and the grid (one selection model, two views)."""

    #: The card in hand changed: its id, or None when the list is empty (the detail pane follows it).
    currentChanged = Signal(object)
    #: The selected rows changed (a click, Shift+arrows, Select All).
    selectionChanged = Signal()

    def __init__(
        self, model: CardTableModel, table: CardTableView, grid: CardGridView, stack: QStackedWidget,
        parent: QObject | None = None,
    ) -> None:  # fmt: skip
        super().__init__(parent)
        self.model = model
        self.table = table
        self.grid = grid
        self.stack = stack
        self._last_card_id: int | None = None
        self._selection = table.selectionModel()
        self._selection.currentRowChanged.connect(self._current_row_changed)
        self._selection.selectionChanged.connect(lambda *_a: self.selectionChanged.emit())
        model.reset.connect(self._after_reset)
        model.pageLoaded.connect(self._page_loaded)

    def current_view(self) -> CardTableView | CardGridView:
        """The view the editor sees (and the one J/K and Select All act in)."""
        return self.grid if self.stack.currentWidget() is self.grid else self.table

    def show_view(self, view: CardTableView | CardGridView) -> None:
        """Show the table or the grid, scrolled to the card in hand (the selection is theirs alike)."""
        self.stack.setCurrentWidget(view)
        current = self._selection.currentIndex()
        if current.isValid():
            view.scrollTo(current)

    def selected_ids(self) -> list[int]:
        """The cards of the selected rows, in row order; rows without a card (see ids_at) are left out."""
        return self.model.ids_at(self.selected_rows())

    def selected_rows(self) -> list[int]:
        """The selected rows (every column of them selected), in order, each once.

        Read off the selection's ranges: after Select All the selection is one range, however many rows it
        spans. Qt's selectedRows() makes an index for every row and checks each row's columns one by one:
        9 s for 100k rows on the GUI thread (a right-click after Ctrl+A counts the selection).
        """
        last = self.model.columnCount() - 1
        spans: list[tuple[int, int]] = []
        for span in self._selection.selection():
            if span.left() > 0 or span.right() < last:
                # Part of a row's columns (the views select whole rows, so this is not theirs): whether its
                # other columns are selected too takes Qt's row-by-row answer.
                return sorted({i.row() for i in self._selection.selectedRows(Column.TITLE)})
            spans.append((span.top(), span.bottom()))
        rows: list[int] = []
        end = -1  # the last row taken: ranges may overlap
        for top, bottom in sorted(spans):
            if bottom > end:
                rows.extend(range(max(top, end + 1), bottom + 1))
                end = bottom
        return rows

    def current_id(self) -> int | None:
        """The current row's card, or None when there is no current row or it holds no card now."""
        index = self._selection.currentIndex()
        if not index.isValid():
            return None
        card = self.model.card_at(index.row())
        return card.id if card is not None else None

    def select_card(self, card_id: int) -> bool:
        """Make `card_id` the current (and only selected) card if it is in the list, loading pages as needed."""
        row = self.model.row_of(card_id)
        if row is None:
            return False
        index = self.model.index(row, Column.TITLE)
        self._selection.setCurrentIndex(index, Flag.ClearAndSelect | Flag.Rows)
        self.current_view().scrollTo(index)
        return True

    def select_all(self) -> None:
        """Select every row of the list the editor sees."""
        self.current_view().selectAll()

    def move(self, step: int) -> None:
        """The card `step` rows away becomes the card in hand (J/K, auto-advance)."""
        self.current_view().move(step)

    def _current_row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        card = self.model.card_at(current.row()) if current.isValid() else None
        if card is not None:
            self._last_card_id = card.id
        self.currentChanged.emit(card.id if card is not None else None)

    def _page_loaded(self, first: int, last: int) -> None:
        # The current row's card arrived after the row became current (a team library's page on its way):
        # now it is the card in hand, and the detail pane follows it.
        current = self._selection.currentIndex()
        if current.isValid() and first <= current.row() <= last:
            self._current_row_changed(current, current)

    def _after_reset(self, *_args: Any) -> None:
        # A re-query drops the selection: keep the card the editor was on when it still matches, else
        # take the first one, so the detail pane never shows a card that is not in the list.
        if self._last_card_id is not None and self.select_card(self._last_card_id):
            return
        first = self.model.card_at(0)
        if first is None or not self.select_card(first.id):
            self.currentChanged.emit(None)
