"""The detail pane's Same story section: other coverage of the card's story, each one click from related.

The suggestions are the checks index's (``curator related ID --suggest`` prints the same): TF-IDF cosine
within the library's time window, other providers first, with their score. They are looked up on a
worker (:class:`SameStoryFinder`), which also brings a stale index up to date first, so the GUI thread
only builds a few rows; while J/K move through the list, only the latest card's lookup runs next.

"Add as related" goes through exactly what ``curator set ID related+=OTHER`` does (``cli.assign``: the
related item built from the other card's current mapping, the same no-op rules), then one
``Store.set_fields`` call through the edit controller: one undo step, and on write one block appended
in the list's own style (``writeback`` emits the new item like its neighbours).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QPushButton, QSizePolicy, QStatusBar, QVBoxLayout, QWidget

from curator.cli.assign import changes_for, parse_assignment, related_item
from curator.core.store import Store
from curator.core.store_types import CardRow
from curator.gui import errorlog, icons, library_busy, library_tasks, plain
from curator.gui.views.editing import EditController
from curator.gui.workers import Pool, TaskHandle, run_task

if TYPE_CHECKING:  # the checks (numpy, rapidfuzz) load in the checks process or on first use, not here
    from curator.core.checks.index import Suggestion

#: How many suggestions the pane shows.
LIMIT = 5


@dataclass(frozen=True)
class StoryItem:
    """One suggestion with the card row it names (title, provider, date for the pane)."""

    suggestion: Suggestion
    row: CardRow


def find_suggestions(store: Store, card_id: int, limit: int = LIMIT, *,
                     current: bool = False) -> list[StoryItem]:  # fmt: skip
    """The card's same-story suggestions with their rows; [] for a card the library no longer holds.

    Runs on a worker. `current` (the window's refresh saw every change): the index the Store holds is
    asked directly (~1 ms); else ``suggest_related`` brings a stale index up to date first (a scan of
    every card's stamp, 0.44 s at 100k, and a write of the groups when cards changed), so the worker's
    connection waits its turn for the write lock as an import's does.
    """
    if threading.current_thread() is not threading.main_thread():
        library_busy.set_busy_timeout(store, library_busy.WORKER_BUSY_TIMEOUT_MS)
    from curator.core import store_checks

    found = store_checks.suggest_held(store, card_id, limit) if current else None
    if found is None:
        try:
            found = store.suggest_related(card_id, limit)
        except KeyError:
            return []
    rows = {row.id: row for row in store.rows_by_id([s.id for s in found])}
    return [StoryItem(s, rows[s.id]) for s in found if s.id in rows]


def related_with(store: Store, card_id: int, other_id: int) -> tuple[list[Any] | None, list[str]]:
    """The card's related list after ``related+=other_id`` (None: unchanged), and why it is unchanged.

    The CLI's own steps (``cli.assign``): parse the assignment, build the item from the other card's
    current mapping (ValueError when it has no usable sourceUrl), apply the no-op rules to the card's
    current mapping (pending edits included).
    """
    other = store.current_data(other_id)
    data = store.current_data(card_id)
    if other is None or data is None:
        return None, ["the card is no longer in the library"]
    items = {other_id: related_item(other_id, other)}
    plan = changes_for(card_id, data, [parse_assignment(f"related+={other_id}")], items)
    return plan.changes.get("related"), plan.notes


def _date(row: CardRow) -> str:
    text = row.published_at or row.date
    return str(text)[:16].replace("T", " ") if text else "no date"


def meta_text(item: StoryItem) -> str:
    """ "Deutsche Welle · 2019-11-29 21:51 · score 0.79" (and "same provider" when it is)."""
    parts = [item.row.provider or "(no provider)", _date(item.row), f"score {item.suggestion.score:.2f}"]
    if item.suggestion.same_provider:
        parts.append("same provider")
    return " · ".join(parts)


class SuggestionRow(QFrame):
    """One suggestion: title, provider · date · score, and the add button."""

    addRequested = Signal(int)

    def __init__(self, item: StoryItem) -> None:
        super().__init__()
        self.setObjectName("relatedItem")
        self.item = item
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 6, 0, 6)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(2)
        self.title = plain.label(item.row.title or "(no title)", wrap=True)
        self.title.setStyleSheet("font-weight: bold")
        self.title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.title.setToolTip(plain.tip(item.row.path))
        self.meta = plain.label(meta_text(item), wrap=True)
        self.meta.setObjectName("detailMeta")
        self.meta.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.add = QPushButton("Add")
        icons.set_icon(self.add, "add")
        self.add.setToolTip(plain.tip("Add this card as a related item (one step: Edit > Undo undoes it)"))
        self.add.clicked.connect(lambda: self.addRequested.emit(item.row.id))
        grid.addWidget(self.title, 0, 0)
        grid.addWidget(self.meta, 1, 0)
        grid.addWidget(self.add, 0, 1, 2, 1, Qt.AlignmentFlag.AlignVCenter)
        grid.setColumnStretch(0, 1)


class SameStorySection(QWidget):
    """The section's view: `wanted(card_id)` asks for a card's suggestions, `show_items` shows them."""

    wanted = Signal(int)
    addRequested = Signal(int, int)  # the card in the pane, the suggested card to add

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sameStory")
        self.card_id: int | None = None
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(0, 0, 0, 0)
        self.box.setSpacing(0)
        self.heading = plain.label("Same story")
        self.heading.setObjectName("detailSection")
        self.heading.setToolTip(plain.tip("Other coverage of this story in the library, found by its words "
                                          "(other providers first); Add makes one a related item"))
        self.box.addWidget(self.heading)
        self.note = plain.label(wrap=True)
        self.note.setObjectName("detailMeta")
        self.box.addWidget(self.note)
        self.rows: list[SuggestionRow] = []
        self.items: list[StoryItem] = []  # what the section shows for card_id

    def shown_rows(self, card_id: int) -> list[CardRow]:
        """The suggested cards the section shows for `card_id` (none while it shows another card)."""
        return [item.row for item in self.items] if card_id == self.card_id else []

    def show_card(self, card_id: int | None) -> None:
        """The pane shows `card_id` now: ask for its suggestions (kept on screen when it is the same card)."""
        same = card_id == self.card_id
        self.card_id = card_id
        if card_id is None:
            self._clear()
            return
        if not same:
            self._clear()
            self.note.setText("Looking for other coverage…")
            self.note.show()
        self.wanted.emit(card_id)

    def show_items(self, card_id: int, items: list[StoryItem]) -> None:
        """Show a lookup's result (ignored when the pane has moved on to another card)."""
        if card_id != self.card_id:
            return
        self._clear()
        self.items = list(items)
        self.heading.setText(f"Same story ({len(items)})" if items else "Same story")
        empty = "No other coverage found near its date (related items are not suggested again)."
        self.note.setText("" if items else empty)
        self.note.setVisible(not items)
        for item in items:
            row = SuggestionRow(item)
            row.addRequested.connect(lambda other, c=card_id: self.addRequested.emit(c, other))
            self.box.addWidget(row)
            row.show()
            self.rows.append(row)

    def show_failure(self, card_id: int, text: str) -> None:
        if card_id == self.card_id:
            self._clear()
            self.note.setText(text)
            self.note.show()

    def _clear(self) -> None:
        for row in self.rows:
            self.box.removeWidget(row)
            row.hide()
            row.setParent(None)
            row.deleteLater()
        self.rows = []
        self.items = []
        self.heading.setText("Same story")


class SameStoryFinder(QObject):
    """Looks suggestions up on a worker for the section and adds one as a related item through the edits."""

    def __init__(self, store: Store, section: SameStorySection, edits: EditController, status: QStatusBar,
                 pool: Pool | None = None, parent: QObject | None = None, *,
                 current: Callable[[], bool] = lambda: False) -> None:  # fmt: skip
        """`current()`: whether the window's checks refresh saw every change (ChecksRefresher.current)."""
        super().__init__(parent)
        self.store = store
        self.current = current
        self.section = section
        self.edits = edits
        self.status = status
        self.pool = pool
        self.handle: TaskHandle | None = None
        self._next: int | None = None  # a card asked for while a lookup ran: looked up after it
        section.wanted.connect(self.request)
        section.addRequested.connect(self.add)

    def request(self, card_id: int) -> None:
        """Look the card's suggestions up on a worker (after the running lookup, if one runs)."""
        if self.handle is not None and self.handle.running:
            self._next = card_id
            return
        self._next = None
        current = self.current()
        self.handle = run_task(
            library_tasks.read_task(self.store, lambda s: find_suggestions(s, card_id, current=current)),
            on_done=lambda items: self._found(card_id, items),
            on_error=lambda exc: self._failed(card_id, exc), pool=self.pool,
        )  # fmt: skip

    def _found(self, card_id: int, items: list[StoryItem]) -> None:
        if not shiboken6.isValid(self.section):
            return  # the window closed while the worker looked (a window on a worker pool, not inline)
        self.section.show_items(card_id, items)
        self._again()

    def _failed(self, card_id: int, exc: BaseException) -> None:
        if library_busy.is_busy(exc):
            self.section.show_failure(card_id, "The library is busy (another Curator is writing); "
                                               "select the card again in a moment.")
        else:
            errorlog.log_failure("same-story suggestions", exc)
            self.section.show_failure(card_id, f"Could not look for other coverage: {exc}")
        self._again()

    def _again(self) -> None:
        if self._next is not None:
            card_id, self._next = self._next, None
            # The finished task is still settling (its handle says running): start after it.
            QTimer.singleShot(0, lambda: self.request(card_id) if shiboken6.isValid(self.section) else None)

    def add(self, card_id: int, other_id: int) -> None:
        """Add card `other_id` to card `card_id`'s related list: the CLI's ``related+=`` in one undo step.

        Queued with the other edits (a team library: on the edits lane, off the GUI thread); the two cards'
        current mappings are read in the edit's own turn and transaction, so a key pressed before it counts.
        """

        def plan(store: Store) -> tuple[list[int], dict[str, Any], str] | str:
            value, notes = related_with(store, card_id, other_id)  # ValueError: said by the edits
            if value is None:
                return f"Not added: {'; '.join(notes)}"
            rows = store.rows_by_id([other_id])
            title = (rows[0].title if rows else None) or f"card {other_id}"
            short = title if len(title) <= 40 else title[:39] + "…"
            return [card_id], {"related": value}, f"Add related {short!r}"

        self.edits.set_fields_read([card_id], "Add as related", plan)
