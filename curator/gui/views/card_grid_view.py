"""The card list as a grid of tiles (thumbnail, title, provider, scores) over the same model as the table."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QItemSelectionModel, QModelIndex, QPersistentModelIndex
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

from curator.gui.delegates import CardTileDelegate
from curator.gui.images import ImageCache
from curator.gui.models.card_table import CardTableModel, Column
from curator.gui.views.card_table_view import in_hand_command, move_current


def tile_width(viewport_width: int) -> int:
    """The width of each tile for a viewport: columns of at least TILE's width, widened to fill it
    (never wider than MAX_TILE_WIDTH: one wide tile in a narrow pane would look like a banner)."""
    minimum = CardTileDelegate.TILE.width()
    room = viewport_width - 1  # QListView wraps a row that reaches the viewport's last pixel
    columns = max(1, room // minimum)
    return max(minimum // 2, min(CardTileDelegate.MAX_TILE_WIDTH, room // columns))


class CardGridView(QListView):
    """Icon-mode list over CardTableModel's title column; repaints when thumbnails arrive."""

    def __init__(self, model: CardTableModel, images: ImageCache, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cardGrid")
        self.setModel(model)
        self.setModelColumn(Column.TITLE)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setWrapping(True)
        self.setUniformItemSizes(True)  # every tile is the same size: layout stays O(1) per item
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        # Whole rows, as in the table: the selection model is shared and targets are selected rows.
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.delegate = CardTileDelegate(images, self)
        self.setItemDelegate(self.delegate)
        self.setSpacing(0)  # the grid cells carry the gaps; see _fit_tiles
        self._fit_tiles()
        # Only the visible tiles repaint; a thumbnail arriving for an off-screen card costs nothing.
        images.changed.connect(lambda _url: self.viewport().update())

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._fit_tiles()
        super().resizeEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:  # a theme or style sheet changed the font: refit
            self._fit_tiles()

    def _fit_tiles(self) -> None:
        """As many columns as fit tiles of at least the delegate's width, then widen the tiles to share the
        whole row: no ragged empty margin on the right, whatever the width."""
        width = self.viewport().width()
        self.delegate.set_width(tile_width(width))
        self.delegate.set_font(self.font())
        size = self.delegate.tile_size()
        if self.gridSize() != size:
            self.setGridSize(size)

    def selectionCommand(
        self, index: QModelIndex | QPersistentModelIndex, event: QEvent | None = None
    ) -> QItemSelectionModel.SelectionFlag:
        return in_hand_command(event, super().selectionCommand(index, event))

    def move(self, step: int) -> None:
        """Select the card `step` items away (J/K)."""
        model = self.model()
        assert isinstance(model, CardTableModel)
        move_current(self, model, step)
