"""The card list as a table: multi-selection, sortable and resizable columns, a header menu to pick columns."""

from __future__ import annotations

from PySide6.QtCore import (
    QByteArray,
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    Qt,
    Signal,
)
from PySide6.QtGui import QKeyEvent, QPaintEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QMenu, QTableView, QWidget

from curator.gui.delegates import MarkerDelegate, ScoreDelegate
from curator.gui.models.card_table import HEADERS, CardTableModel, Column

DEFAULT_WIDTHS = {
    Column.PUBLISHED: 28, Column.TITLE: 380, Column.PROVIDER: 96, Column.CATEGORY: 70,
    Column.TOPICS: 92, Column.DATE: 112, Column.QUALITY: 56, Column.HEAT: 56,
    Column.CHANGED: 28, Column.PROBLEMS: 28,
}  # fmt: skip
# Narrow on purpose: with the detail pane at its default width the title (which stretches) gets the room.
DEFAULT_HIDDEN = (Column.CATEGORY,)


class CardTableView(QTableView):
    """A QTableView over CardTableModel with our delegates and a column chooser."""

    rowsPainted = Signal()  # after a paint of the viewport while the model holds rows (start-up probe, tests)

    def __init__(self, model: CardTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cardTable")
        self.setModel(model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 12)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header = self.horizontalHeader()
        header.setSectionsMovable(True)
        header.setHighlightSections(False)
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(24)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._header_menu)
        for column, width in DEFAULT_WIDTHS.items():
            self.setColumnWidth(column, width)
        # Dates are fixed-width text: size the column to one, whatever the font.
        self.setColumnWidth(Column.DATE, self.fontMetrics().horizontalAdvance("2020-12-31 12:18") + 22)
        # The title takes whatever room the other columns leave, so scores never scroll out of sight.
        header.setSectionResizeMode(Column.TITLE, QHeaderView.ResizeMode.Stretch)
        for column in DEFAULT_HIDDEN:
            self.setColumnHidden(column, True)
        self._markers = MarkerDelegate(self)
        self._quality = ScoreDelegate(heat=False, parent=self)
        self._heat = ScoreDelegate(heat=True, parent=self)
        for column in (Column.PUBLISHED, Column.CHANGED, Column.PROBLEMS):
            self.setItemDelegateForColumn(column, self._markers)
        self.setItemDelegateForColumn(Column.QUALITY, self._quality)
        self.setItemDelegateForColumn(Column.HEAT, self._heat)
        # The indicator first: enabling sorting sorts by it at once, which is then the model's own sort (a no-op).
        column, order = model.sort_column()
        header.setSortIndicator(column, order)
        self.setSortingEnabled(True)
        model.reset.connect(self._sync_indicator)

    def selectionCommand(
        self, index: QModelIndex | QPersistentModelIndex, event: QEvent | None = None
    ) -> QItemSelectionModel.SelectionFlag:
        return in_hand_command(event, super().selectionCommand(index, event))

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self.model().rowCount():
            self.rowsPainted.emit()

    def card_model(self) -> CardTableModel:
        model = self.model()
        assert isinstance(model, CardTableModel)
        return model

    def _sync_indicator(self) -> None:
        column, order = self.card_model().sort_column()
        header = self.horizontalHeader()
        if header.sortIndicatorSection() != column or header.sortIndicatorOrder() != order:
            header.blockSignals(True)
            header.setSortIndicator(column, order)
            header.blockSignals(False)

    # -- columns ------------------------------------------------------------------------------------
    def _header_menu(self, pos: QPoint) -> None:
        self.columns_menu().exec(self.horizontalHeader().mapToGlobal(pos))

    def columns_menu(self) -> QMenu:
        """A menu of checkable columns (the title always stays visible)."""
        menu = QMenu(self)
        for column in Column:
            action = menu.addAction(HEADERS[column])
            action.setCheckable(True)
            action.setChecked(not self.isColumnHidden(column))
            action.setEnabled(column != Column.TITLE)
            action.toggled.connect(lambda on, c=column: self.setColumnHidden(c, not on))
        return menu

    def hidden_columns(self) -> list[str]:
        return [c.name.lower() for c in Column if self.isColumnHidden(c)]

    def set_hidden_columns(self, names: list[str]) -> None:
        for column in Column:
            self.setColumnHidden(column, column.name.lower() in names and column != Column.TITLE)

    def header_state(self) -> QByteArray:
        return self.horizontalHeader().saveState()

    def restore_header(self, state: QByteArray) -> None:
        if not state.isEmpty():
            # Quietly: the restored sort indicator would re-sort the model (a re-query); the window
            # applies the saved sort itself together with the saved query.
            header = self.horizontalHeader()
            header.blockSignals(True)
            try:
                header.restoreState(state)
            finally:
                header.blockSignals(False)
        # A saved state carries resize modes too; one saved before the title stretched (or after a manual
        # drag made it Interactive) must not leave the title cut while the detail pane is wide.
        self.horizontalHeader().setSectionResizeMode(Column.TITLE, QHeaderView.ResizeMode.Stretch)
        # The model owns the sort; the restored indicator must not contradict it.
        self._sync_indicator()

    # -- navigation ---------------------------------------------------------------------------------
    def move(self, step: int) -> None:
        """Select the card `step` rows away from the current one (J/K)."""
        move_current(self, self.card_model(), step)


Flag = QItemSelectionModel.SelectionFlag


def in_hand_command(event: QEvent | None, default: Flag) -> Flag:
    """The selection update for a key that moves the current card: the selection follows it.

    In extended selection a key with Ctrl (Ctrl+Home, Ctrl+End, Ctrl+arrows) moves the current index and
    leaves the old selection alone, so the detail pane showed one card while triage keys edited another.
    Here only Shift (extend) and Ctrl+Space (toggle) keep Qt's meaning; every other move selects the card
    it lands on, so current index, selection and detail pane are one card in hand.
    """
    if not isinstance(event, QKeyEvent) or event.type() != QEvent.Type.KeyPress:
        return default
    mods = event.modifiers()
    if mods & Qt.KeyboardModifier.ShiftModifier or event.key() == Qt.Key.Key_Space:
        return default
    if default == Flag.NoUpdate:
        return Flag.ClearAndSelect | Flag.Rows
    return default


def move_current(view: QAbstractItemView, model: CardTableModel, step: int) -> None:
    """Make the card ``step`` rows away from ``view``'s current one current (the table's and grid's J/K)."""
    current = view.currentIndex().row()
    target = 0 if current < 0 else current + step
    if step > 0:
        model.fetch_until(target)
    target = max(0, min(model.rowCount() - 1, target))
    if model.rowCount():
        index = model.index(target, Column.TITLE)
        # Selected too (a setCurrentIndex keeps the old selection): the next key edits this card.
        view.selectionModel().setCurrentIndex(index, Flag.ClearAndSelect | Flag.Rows)
        view.scrollTo(index)
