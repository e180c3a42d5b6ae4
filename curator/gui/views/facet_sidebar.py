"""The facet sidebar: status, categories, topics and providers with counts under the current query.

Clicking a facet adds its term to the search text (or removes it when it is already there), so the query
the user sees is always the one the CLI would run. The Duplicates row under Status is no query term: it
counts the library's duplicate and copy groups ("12 groups · 31 cards", from the checks index, filled in
when a refresh on a worker finishes) and a click opens them (`duplicatesClicked`).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHeaderView, QTreeWidget, QTreeWidgetItem, QWidget

from curator.core.query import Field, QueryError, parse, to_text, top_terms
from curator.core.store_types import Facets
from curator.gui import icons, plain

#: Status facet -> the query term it stands for ("all" clears every status term).
STATUS_TERMS: dict[str, str | None] = {
    "all": None,
    "unpublished": "published:false",
    "published": "published:true",
    "changed": "dirty:true",
    "problems": "problems:true",
    "conflicts": "conflict:true",
    "missing": "missing:true",
}
STATUS_LABELS = {
    "all": "All cards",
    "unpublished": "Unpublished",
    "published": "Published",
    "changed": "Changed",
    "problems": "With problems",
    "conflicts": "Conflicts",
    "missing": "Missing files",
}
STATUS_TIPS = {
    "dirty:true": "dirty:true — edited in the library, not yet written to the file",
    "problems:true": "problems:true — cards with values Curator cannot use as they are; "
                     "select one to see its problems and fixes",
    "conflict:true": "conflict:true — the file changed on disk under pending edits",
}
TERM_ROLE = Qt.ItemDataRole.UserRole + 1
DUPLICATES_TIP = ("Cards that are one article: the same link once canonical (www., tracking parameters and "
                  "AMP forms aside), or syndicated copies of one text. Click to compare each group side by "
                  "side and keep one.")
GROUPS = (("status", "Status", "status"), ("category", "Categories", "category"),
          ("topic", "Topics", "topic"), ("provider", "Providers", "provider"))  # fmt: skip


def term_for(field: str, value: str) -> str:
    """The query text of a facet value, quoted as the query language needs (topic:"Computer Vision")."""
    return to_text(Field(field, value))


def active_terms(query: str) -> set[str]:
    """The canonical texts of the terms ANDed at the top level of `query` (empty when it does not parse)."""
    try:
        units = top_terms(query)
    except QueryError:
        return set()
    return {to_text(unit) for unit, _start, _end in units or ()}


class FacetSidebar(QTreeWidget):
    """Emits `termToggled(term, add)` when a facet is clicked; `allClicked` for "All cards"."""

    termToggled = Signal(str, bool)
    allClicked = Signal()
    duplicatesClicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("facets")
        self.setHeaderHidden(True)
        self.setColumnCount(2)
        self.setRootIsDecorated(True)
        self.setIndentation(12)
        self.setUniformRowHeights(True)
        # Names take the room left after the counts; a long name keeps its start ("Computer Vi…" reads,
        # "Compu…ision" does not) and shows whole in its tooltip.
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setMinimumWidth(190)
        self.setSelectionMode(QTreeWidget.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._groups: dict[str, QTreeWidgetItem] = {}
        bold = QFont(self.font())
        bold.setBold(True)
        for key, label, _icon in GROUPS:
            item = QTreeWidgetItem(self, [label, ""])
            item.setFont(0, bold)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self._groups[key] = item
        # Duplicates sit right under Status: like a status they say what to look at next.
        self.duplicates_group = QTreeWidgetItem(["Duplicates", ""])
        self.duplicates_group.setFont(0, bold)
        self.duplicates_group.setFlags(Qt.ItemFlag.ItemIsEnabled)
        self.insertTopLevelItem(1, self.duplicates_group)
        self.duplicates_item = QTreeWidgetItem(self.duplicates_group, ["Checking…", ""])
        self.duplicates_item.setFlags(Qt.ItemFlag.ItemIsEnabled)
        self.duplicates_item.setFirstColumnSpanned(True)  # "12 groups · 31 cards" needs the whole width
        self.duplicates_item.setToolTip(0, plain.tip(DUPLICATES_TIP))
        self.duplicates_group.setToolTip(0, plain.tip(DUPLICATES_TIP))
        self.set_group_icons()
        self.expandAll()
        self.itemClicked.connect(self._clicked)
        self._active: set[str] = set()

    def set_group_icons(self) -> None:
        """(Re)draw the group icons in the current theme's colour."""
        for key, _label, icon in GROUPS:
            self._groups[key].setIcon(0, icons.icon(icon))
        self.duplicates_group.setIcon(0, icons.icon("copy"))

    def show_duplicates(self, text: str) -> None:
        """The Duplicates row's words: "12 groups · 31 cards", "None found" or "Checking…"."""
        self.duplicates_item.setText(0, text)

    def duplicates_text(self) -> str:
        return self.duplicates_item.text(0)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # a theme switch (icons.set_foreground ran first)
            self.set_group_icons()

    def show_facets(self, facets: Facets, query: str) -> None:
        """Refill the counts for the current query; facets already in the query are checked and bold."""
        self._active = active_terms(query)
        status_active = {t for t in STATUS_TERMS.values() if t} & self._active
        rows = {
            "status": [
                (STATUS_LABELS[name], facets.status.get(name, 0), STATUS_TERMS[name])
                for name in STATUS_TERMS
                # Rare states only appear when present, so the list stays short on a clean library.
                if name not in ("conflicts", "missing") or facets.status.get(name, 0) or STATUS_TERMS[name] in status_active
            ],
            "category": [(v, n, term_for("category", v)) for v, n in facets.categories],
            "topic": [(v, n, term_for("topic", v)) for v, n in facets.topics],
            "provider": [(v, n, term_for("provider", v)) for v, n in facets.providers],
        }
        for key, group in self._groups.items():
            group.takeChildren()
            for label, count, term in rows[key]:
                item = QTreeWidgetItem(group, [label, f"{count:,}"])
                item.setData(0, TERM_ROLE, term)
                item.setTextAlignment(1, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                item.setToolTip(0, plain.tip(STATUS_TIPS.get(term, term) if term else "Clear the status filters"))
                item.setFlags(Qt.ItemFlag.ItemIsEnabled)
                active = term in self._active if term else not status_active
                font = QFont(self.font())
                font.setBold(active)
                item.setFont(0, font)
                item.setFont(1, font)
                item.setCheckState(0, Qt.CheckState.Checked if active else Qt.CheckState.Unchecked)

    def items(self, group: str) -> list[QTreeWidgetItem]:
        """The facet rows of a group ("status", "category", "topic", "provider")."""
        parent = self._groups[group]
        return [parent.child(i) for i in range(parent.childCount())]

    def find(self, group: str, label: str) -> QTreeWidgetItem | None:
        return next((it for it in self.items(group) if it.text(0) == label), None)

    def _clicked(self, item: QTreeWidgetItem, _column: int) -> None:
        if item is self.duplicates_item or item is self.duplicates_group:
            self.duplicatesClicked.emit()
            return
        if item.parent() is None:
            return
        term = item.data(0, TERM_ROLE)
        if term is None:
            self.allClicked.emit()
            return
        try:
            canonical = to_text(parse(term))  # type: ignore[arg-type]
        except QueryError:
            return
        self.termToggled.emit(term, canonical not in self._active)
