"""The card list as a grid of tiles (thumbnail, title, provider, scores) over the same model as the table."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QItemSelectionModel, QModelIndex, QPersistentModelIndex, QSize
from PySide6.QtWidgets import QAbstractItemView, QListView, QWidget

from curator.gui.delegates import CardTileDelegate
from curator.gui.images import ImageCache
from curator.gui.models.card_table import CardTableModel, Column
from curator.gui.views.card_table_view import in_hand_command, move_current


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
        self.setSpacing(4)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        # Whole rows, as in the table: the selection model is shared and targets are selected rows.
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.delegate = CardTileDelegate(images, self)
        self.setItemDelegate(self.delegate)
        self.setGridSize(CardTileDelegate.TILE + QSize(4, 4))
        # Only the visible tiles repaint; a thumbnail arriving for an off-screen card costs nothing.
        images.changed.connect(lambda _url: self.viewport().update())

    def selectionCommand(
        self, index: QModelIndex | QPersistentModelIndex, event: QEvent | None = None
    ) -> QItemSelectionModel.SelectionFlag:
        return in_hand_command(event, super().selectionCommand(index, event))

    def move(self, step: int) -> None:
        """Select the card `step` items away (J/K)."""
        model = self.model()
        assert isinstance(model, CardTableModel)
        move_current(self, model, step)
