"""The Duplicates view: the library's duplicate and copy groups, each group's cards side by side.

Opened from the Duplicates row of the facet sidebar. The groups are the checks index's (``curator dupes``
prints the same ones): cards with one canonical URL, and syndicated copies of one text. A group's cards
stand in columns (provider, date, quality, published, title) so the editor can compare them at a glance;
under each, "Keep this one, unpublish the others" unpublishes the rest of the group in one Store call
through the edit controller (one undo step, Edit > Undo takes it back). The dialog is not modal: the
list stays usable, and the dialog follows edits (the published marks) and refreshes (the groups).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStatusBar,
    QVBoxLayout,
    QWidget,
)

from curator.core.store import Store
from curator.core.store_types import CardRow
from curator.gui import icons, plain
from curator.gui.library_tasks import RoundTrips
from curator.gui.views.checks_refresh import ChecksRefresher, ChecksSummary
from curator.gui.views.editing import EditController

if TYPE_CHECKING:  # the checks (numpy) load where the index is, not with the window
    from curator.core.checks.index import Group

KEEP_TEXT = "Keep this one, unpublish the others"
KIND_WORDS = {"url": "Same link", "copy": "Copy"}
#: A group card's column width: five short facts, a title wrapped over a few lines, the keep button's text.
CARD_WIDTH = 290
GROUP_ROLE = Qt.ItemDataRole.UserRole + 1


def _date(row: CardRow) -> str:
    text = row.published_at or row.date
    return str(text)[:16].replace("T", " ") if text else "no date"


def group_label(group: Group, first: CardRow | None) -> str:
    """A group's line in the list: "Copy · 3 cards — Pixelly halts big migrants plan"."""
    title = (first.title if first is not None else None) or "(no title)"
    return f"{KIND_WORDS.get(group.kind, group.kind)} · {len(group.ids)} cards — {title}"


def keep_label(kept: CardRow, others: int) -> str:
    """The undo step's name."""
    title = kept.title or kept.path.rsplit("/", 1)[-1]
    short = title if len(title) <= 40 else title[:39] + "…"
    return f"Keep {short!r}, unpublish {plain.count(others, 'other')}"


class GroupCard(QFrame):
    """One card of a group, as a column: the facts to compare, then the keep button."""

    keepRequested = Signal(int)

    def __init__(self, row: CardRow) -> None:
        super().__init__()
        self.setObjectName("duplicateCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setFixedWidth(CARD_WIDTH)
        self.row = row
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(4)
        self.provider = plain.label(row.provider or "(no provider)")
        self.provider.setStyleSheet("font-weight: bold")
        self.date = plain.label(_date(row))
        self.quality = plain.label(f"Quality {row.quality}" if row.quality is not None else "Quality not set")
        self.published = plain.label("Published" if row.published else "Not published")
        if row.published:
            self.published.setStyleSheet("font-weight: bold")
        else:
            self.published.setObjectName("detailMeta")
        self.title = plain.label(row.title or "(no title)", wrap=True)
        self.title.setToolTip(plain.tip(row.path))
        # Cards of one link often share every fact above: the file tells them apart.
        self.file = plain.label(row.path.rsplit("/", 1)[-1])
        self.file.setObjectName("detailMeta")
        self.file.setToolTip(plain.tip(row.path))
        for widget in (self.provider, self.date, self.quality, self.published, self.title, self.file):
            layout.addWidget(widget)
        layout.addSpacing(6)
        self.keep = QPushButton(KEEP_TEXT)
        icons.set_icon(self.keep, "publish")
        self.keep.setToolTip(plain.tip(f"{KEEP_TEXT} (one step: Edit > Undo takes it back)"))
        self.keep.clicked.connect(lambda: self.keepRequested.emit(row.id))
        layout.addWidget(self.keep)
        layout.addStretch(1)


class DuplicatesDialog(QDialog):
    """The groups on the left, the chosen group's cards side by side on the right.

    Emits `keepRequested(kept_id, other_ids)`; whoever runs edits does it (see DuplicatesView).
    """

    keepRequested = Signal(int, list)

    def __init__(self, store: Store, parent: QWidget | None = None, *, trips: RoundTrips | None = None) -> None:
        """`trips`: where the groups' cards are read (the window's: on a team library off the GUI thread,
        shown when they arrive; inline when not given)."""
        super().__init__(parent)
        self.setWindowTitle("Duplicates")
        self.store = store
        self.trips = trips if trips is not None else RoundTrips(store, parent=self)
        # Reads asked for (the groups' first cards, a group's cards): an older one's answer is dropped.
        self._groups_asked = self._cards_asked = 0
        self.groups: list[Group] = []
        self.cards: list[GroupCard] = []
        self.heading = plain.label()
        self.heading.setObjectName("detailSection")
        self.list = QListWidget()
        self.list.setObjectName("duplicateGroups")
        # Long titles are cut at the end (whole in the tooltip), never scrolled sideways.
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setUniformItemSizes(True)
        self.list.currentRowChanged.connect(self._show_group)
        self.group_heading = plain.label(wrap=True)
        self.group_heading.setObjectName("detailMeta")
        strip = QWidget()
        self.strip = QHBoxLayout(strip)
        self.strip.setContentsMargins(0, 0, 0, 0)
        self.strip.setSpacing(8)
        self.strip.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(strip)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        right = QWidget()
        r = QVBoxLayout(right)
        r.setContentsMargins(8, 0, 0, 0)
        r.addWidget(self.group_heading)
        r.addWidget(self.scroll, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.list)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([300, 3 * (CARD_WIDTH + 8)])
        splitter.setChildrenCollapsible(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(splitter, 1)
        layout.addWidget(buttons)
        self.resize(1200, 480)

    def show_groups(self, summary: ChecksSummary) -> None:
        """Fill the list from a refresh's groups, keeping the chosen group when it is still there (the
        groups' first cards are read through the trips; the list is filled when they arrive)."""
        groups = list(summary.groups)
        firsts = [g.ids[0] for g in groups]
        self._groups_asked += 1
        asked = self._groups_asked

        def arrived(rows: list[CardRow]) -> None:
            if shiboken6.isValid(self) and asked == self._groups_asked:
                self._fill(summary, groups, {row.id: row for row in rows})

        self.trips.read(lambda store: store.rows_by_id(firsts), arrived, self.trips.reporter("Reading the duplicates"))

    def _fill(self, summary: ChecksSummary, groups: list[Group], firsts: dict[int, CardRow]) -> None:
        chosen = self.current_group()
        self.groups = groups
        self.list.blockSignals(True)
        self.list.clear()
        for i, group in enumerate(self.groups):
            item = QListWidgetItem(group_label(group, firsts.get(group.ids[0])))
            item.setData(GROUP_ROLE, i)
            item.setToolTip(plain.tip(item.text()))
            self.list.addItem(item)
        again = next((i for i, g in enumerate(self.groups) if chosen and set(g.ids) & set(chosen.ids)), 0)
        if self.groups:
            self.list.setCurrentRow(again)  # signals still blocked: the group is shown once, just below
        self.list.blockSignals(False)
        self.heading.setText(
            f"Duplicates: {summary.text()}" if self.groups else "No duplicates or copies in the library"
        )
        self._show_group(self.list.currentRow())

    def current_group(self) -> Group | None:
        row = self.list.currentRow()
        return self.groups[row] if 0 <= row < len(self.groups) else None

    def refresh_cards(self, *_args: Any) -> None:
        """Re-read the shown group's cards (after an edit, undo or write)."""
        self._show_group(self.list.currentRow())

    def _show_group(self, index: int) -> None:
        for card in self.cards:
            self.strip.removeWidget(card)
            card.hide()
            card.setParent(None)
            card.deleteLater()
        self.cards = []
        group = self.groups[index] if 0 <= index < len(self.groups) else None
        if group is None:
            self.group_heading.setText("")
            return
        if group.kind == "url":
            what = "These cards link to one article" + (f" ({group.canonical})" if group.canonical else "")
        else:
            what = "These cards carry the same text (syndicated copies)"
        self.group_heading.setText(f"{what}. Under the card to keep: {KEEP_TEXT} (one undo step).")
        self._cards_asked += 1
        asked = self._cards_asked

        def arrived(found: list[CardRow]) -> None:
            if shiboken6.isValid(self) and asked == self._cards_asked:
                self._show_cards(group, {row.id: row for row in found})

        ids = list(group.ids)
        self.trips.read(lambda store: store.rows_by_id(ids), arrived, self.trips.reporter("Reading the group's cards"))

    def _show_cards(self, group: Group, rows: dict[int, CardRow]) -> None:
        for position, card_id in enumerate(i for i in group.ids if i in rows):
            card = GroupCard(rows[card_id])
            card.keepRequested.connect(self._keep)
            self.strip.insertWidget(position, card, 0, Qt.AlignmentFlag.AlignTop)
            card.show()
            self.cards.append(card)

    def _keep(self, kept: int) -> None:
        group = self.current_group()
        if group is not None:
            self.keepRequested.emit(kept, [i for i in group.ids if i != kept])


class DuplicatesView(QObject):
    """Opens the Duplicates dialog (the facet's click) and runs its keep action through the edits."""

    def __init__(self, store: Store, refresher: ChecksRefresher, edits: EditController, status: QStatusBar,
                 parent: QWidget) -> None:  # fmt: skip
        super().__init__(parent)
        self.store = store
        self.refresher = refresher
        self.edits = edits
        self.status = status
        self.parent_widget = parent
        self.dialog: DuplicatesDialog | None = None
        refresher.updated.connect(self._updated)
        edits.cardsChanged.connect(self._cards_changed)

    def open(self) -> DuplicatesDialog:
        """Show (or raise) the dialog; with no refresh finished yet, it fills in when the first one does."""
        if self.dialog is None or not shiboken6.isValid(self.dialog):
            self.dialog = DuplicatesDialog(self.store, self.parent_widget, trips=self.edits.trips)
            self.dialog.keepRequested.connect(self.keep)
            if self.refresher.summary is not None:
                self.dialog.show_groups(self.refresher.summary)
            else:
                self.dialog.heading.setText("Checking the library for duplicates…")
                self.refresher.refresh_now()
        self.dialog.show()
        self.dialog.raise_()
        return self.dialog

    def keep(self, kept: int, others: list[int]) -> None:
        """Unpublish `others` (one Store call, one undo step); `kept` stays as it is.

        Queued with the other edits (a team library: on the edits lane, off the GUI thread); which of them
        are published is read in the edit's own turn and transaction.
        """

        def plan(store: Store) -> tuple[list[int], dict[str, Any], str] | str:
            rows = {row.id: row for row in store.rows_by_id([kept, *others])}
            published = [i for i in others if i in rows and rows[i].published]
            if kept not in rows:
                return "Nothing changed: the card to keep is no longer in the library"
            if not published:
                return "Nothing to change: the group's other cards are not published"
            return published, {"published": False}, keep_label(rows[kept], len(published))

        self.edits.set_fields_read(list(others), KEEP_TEXT, plan)

    def _updated(self, summary: ChecksSummary) -> None:
        if self.dialog is not None and shiboken6.isValid(self.dialog):
            self.dialog.show_groups(summary)

    def _cards_changed(self, _ids: list[int]) -> None:
        if self.dialog is not None and shiboken6.isValid(self.dialog) and self.dialog.isVisible():
            self.dialog.refresh_cards()
