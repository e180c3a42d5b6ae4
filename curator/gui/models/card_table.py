"""CardTableModel: the card list as a Qt table model, paged from the Store in SQL order.

The model has a row for every matching card from the start (the count is one SQL query), but holds
only the pages of CardRow values that views asked for, at most MAX_PAGES of them (least recently used
pages are dropped). A row's page is read when it is first needed, by its offset: jumping to the end of
100k cards reads the last page alone (a few ms), and memory follows what is on screen, not the library.
Filtering and sorting re-run the query in SQL.

Given a `reader` (the window's: library_tasks.RoundTrips), every read goes through it: on a team library
it runs off the GUI thread, so a row whose page is not held yet shows "Loading…" (the title, in italics;
the other cells empty) and repaints (dataChanged, pageLoaded) when the page arrives; a page of an older
query, sort or reload (an older generation) is dropped on arrival. A re-query is checked at once (a
syntax error or a bad sort key raises, the model unchanged) and shown when its first page arrives; until
then the rows of the previous query stay. card_at and ids_at never wait: a row not held is None (its page
asked for), and `unloaded` says which rows of a selection are not known yet, so an action never acts on
other cards than those shown. Without a reader (tests, a model built alone) reads run inline.
"""

from __future__ import annotations

import enum
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any, Protocol

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QFont

from curator.core import query as query_language
from curator.core import search
from curator.core.store_types import CardRow, LibraryError
from curator.gui import errorlog, plain

PAGE_SIZE = 200
#: Pages held at once (8,000 rows at the default size): many screens of scrolling back and forth.
MAX_PAGES = 40
Index = QModelIndex | QPersistentModelIndex


class Column(enum.IntEnum):
    PUBLISHED = 0
    TITLE = 1
    PROVIDER = 2
    CATEGORY = 3
    TOPICS = 4
    DATE = 5
    QUALITY = 6
    HEAT = 7
    CHANGED = 8
    PROBLEMS = 9


HEADERS = {
    Column.PUBLISHED: "Published",
    Column.TITLE: "Title",
    Column.PROVIDER: "Provider",
    Column.CATEGORY: "Category",
    Column.TOPICS: "Topics",
    Column.DATE: "Date",
    Column.QUALITY: "Quality",
    Column.HEAT: "Heat",
    Column.CHANGED: "Changed",
    Column.PROBLEMS: "Problems",
}
#: Narrow marker columns show a symbol in the header (the full name is the tooltip).
SHORT_HEADERS = {Column.PUBLISHED: "✓", Column.CHANGED: "✎", Column.PROBLEMS: "⚠"}
#: Column -> the Store's sort key (the query language's `--sort` names) we would like; topics has no order.
_WANTED_SORT_KEYS: dict[Column, str] = {
    Column.PUBLISHED: "published",
    Column.TITLE: "title",
    Column.PROVIDER: "provider",
    Column.CATEGORY: "category",
    Column.DATE: "date",
    Column.QUALITY: "quality",
    Column.HEAT: "heat",
    Column.CHANGED: "dirty",
    Column.PROBLEMS: "problems",
}
#: The sortable columns: those whose key the core's search module knows (others ignore header clicks).
SORT_KEYS: dict[Column, str] = {c: k for c, k in _WANTED_SORT_KEYS.items() if k in search.SORT_KEYS}
NO_VALUE = "—"


class Role(enum.IntEnum):
    """Custom roles: raw values for delegates, sorting and selection, apart from display text."""

    CARD_ID = Qt.ItemDataRole.UserRole + 1
    SORT = Qt.ItemDataRole.UserRole + 2  # the raw value the column sorts by
    RAW = Qt.ItemDataRole.UserRole + 3  # the column's raw value (int/bool/None/str/list)
    ROW = Qt.ItemDataRole.UserRole + 4  # the whole CardRow
    IMAGE_URL = Qt.ItemDataRole.UserRole + 5  # the lead image URL
    QUALITY = Qt.ItemDataRole.UserRole + 6
    HEAT = Qt.ItemDataRole.UserRole + 7


#: Counts a query's matches elsewhere and calls back with the number (see CardTableModel).
Counter = Callable[[str | None, Callable[[int], None]], None]
#: Runs `read(store)` somewhere (the window: off the GUI thread on a team library) and calls `done(result)`
#: or `failed(error)` on the GUI thread; `lane` names the queue ("pages", "cards"). See CardTableModel.
Reader = Callable[..., object]
LOADING_TEXT = "Loading…"


class RowSource(Protocol):
    """The part of core.store.Store the model reads."""

    def rows(
        self, query: str | None = None, *, sort: Sequence[tuple[str, bool]] = (), offset: int = 0,
        limit: int | None = None,
    ) -> list[CardRow]: ...
    def count(self, query: str | None = None) -> int: ...
    def rows_by_id(self, ids: Sequence[int]) -> list[CardRow]: ...
    def ids(self, query: str | None = None, *, sort: Sequence[tuple[str, bool]] = ()) -> list[int]: ...


def display_date(row: CardRow) -> str:
    """"2020-01-18 18:42" from the sortable UTC date; the file's own text when it has no date."""
    if row.date:
        return row.date[:16].replace("T", " ")
    return row.published_at or ""


def raw_value(row: CardRow, column: Column) -> Any:
    """The column's value as stored (None where the card lacks it)."""
    return {
        Column.PUBLISHED: row.published,
        Column.TITLE: row.title,
        Column.PROVIDER: row.provider,
        Column.CATEGORY: row.category,
        Column.TOPICS: list(row.topics),
        Column.DATE: row.date,
        Column.QUALITY: row.quality,
        Column.HEAT: row.heat,
        Column.CHANGED: row.dirty,
        Column.PROBLEMS: row.problems,
    }[column]


def display_text(row: CardRow, column: Column) -> str:
    """What the cell shows as text (bars and markers are painted over it by delegates)."""
    if column == Column.TITLE:
        return row.title if row.title else f"(no title) {row.path.rsplit('/', 1)[-1]}"
    if column in (Column.PROVIDER, Column.CATEGORY):
        return raw_value(row, column) or ""
    if column == Column.TOPICS:
        return ", ".join(row.topics)
    if column == Column.DATE:
        return display_date(row)
    if column == Column.QUALITY:
        return NO_VALUE if row.quality is None else str(row.quality)
    if column == Column.HEAT:
        return NO_VALUE if row.heat is None or row.heat < 0 else str(row.heat)
    if column == Column.PROBLEMS:
        return str(row.problems) if row.problems else ""
    return ""  # published/changed: markers only


def tooltip(row: CardRow, column: Column) -> str | None:
    """The cell's tooltip; text from the card goes through plain.tip (Qt would render markup in it)."""
    if column == Column.PUBLISHED:
        return {True: "Published", False: "Not published", None: "No published flag (counts as not published)"}[
            row.published
        ]
    if column == Column.CHANGED:
        states = [
            text
            for flag, text in (
                (row.dirty, "Pending edits not yet written"),
                (row.conflict, "Conflict: the file changed on disk under pending edits"),
                (row.missing, "The file is missing"),
            )
            if flag
        ]
        return "\n".join(states) or None
    if column == Column.PROBLEMS and row.problems:
        return f"{plain.count(row.problems, 'problem')}: the card's pane lists them, with a Fix button where one is known"
    if column == Column.DATE:
        return plain.tip(row.published_at)  # the file's own text: may hold anything, markup included
    if column == Column.HEAT and row.heat is not None and row.heat < 0:
        return "Not rated yet"
    if column == Column.TITLE:
        return plain.tip(row.path)
    return None


class CardTableModel(QAbstractTableModel):
    """Pages of CardRow from a Store, under a query text and a sort."""

    totalChanged = Signal(int)  # cards matching the current query
    reset = Signal()  # after any re-query (new query, sort, reload)
    readFailed = Signal(str)  # a page could not be read (a team library's lost connection): the sentence
    pageLoaded = Signal(int, int)  # a page read by the reader arrived after the view asked: its first, last row

    def __init__(
        self, store: RowSource, *, page_size: int = PAGE_SIZE, parent: Any = None, load: bool = True,
        counter: Counter | None = None, reader: Reader | None = None,
    ) -> None:  # fmt: skip
        """`load=False` leaves the model empty until the first set_query (the window sets query and sort once).

        `counter(query, done)`, when given, counts the matches elsewhere (the window: on a worker) and calls
        `done(total)` on the GUI thread: a full first page is shown at once and the other rows are added when
        the count arrives (at 100k a count is as slow as the page itself). Without it, counts run inline.

        `reader(read, done, failed, lane=...)`, when given, runs every read of the library (see the module
        docstring); without it, reads run inline on the calling thread.
        """
        super().__init__(parent)
        self.store = store
        self.page_size = page_size
        self._query: str | None = None
        self._sort: tuple[tuple[str, bool], ...] = (("date", True),)
        self._pages: OrderedDict[int, list[CardRow]] = OrderedDict()  # page number -> rows, oldest use first
        self._row_of: dict[int, int] = {}  # card id -> row, for the held pages
        self._total = 0
        self._short_page = False  # a page came back short: the library changed under us
        self._counter = counter
        self._counting = False  # _total is the first page's length until the count arrives
        self._generation = 0  # of re-queries: a count for an older one is dropped
        self._read_failed = False  # readFailed was said for the current failure (once, not per paint)
        self._reader = reader
        #: The query and sort the held rows were read under (`_query`/`_sort`: the newest asked for).
        self._shown: tuple[str | None, tuple[tuple[str, bool], ...]] = (None, self._sort)
        self._loading: set[int] = set()  # pages asked of the reader for the current generation
        self._asking: int | None = None  # the page being asked for (an inline reader answers before it returns)
        self._request = 0  # of re-queries asked of the reader: only the newest one is shown
        self._ids: list[int] | None = None  # the query's ids in order (one read), for big selections
        self._ids_loading = False
        #: True while a team library's server is away: pages not held stay blank without a read (each would
        #: wait up to libpq's connect timeout on the GUI thread). views/live_updates.py sets it.
        self.offline = False
        if load:
            self.reload()

    # -- querying -----------------------------------------------------------------------------------
    @property
    def query(self) -> str | None:
        return self._query

    @property
    def total(self) -> int:
        """How many cards match the current query (loaded or not)."""
        return self._total

    @property
    def counting(self) -> bool:
        """Whether the matches are still being counted (then `total` is the first page's length)."""
        return self._counting

    @property
    def sort_key(self) -> tuple[str, bool]:
        return self._sort[0]

    def set_query(self, text: str | None, sort: tuple[str, bool] | None = None) -> None:
        """Show the cards matching `text` (in `sort` order when given: one re-query for both).

        Raises core.query.QueryError, or ValueError for an unknown sort key; the model is then unchanged.
        """
        query = text.strip() if text and text.strip() else None
        self._requery(query, (sort,) if sort is not None else self._sort)

    def set_sort(self, key: str, descending: bool) -> None:
        """Order by a Store sort key, re-running the query in SQL."""
        self._requery(self._query, ((key, descending),), None if self._counting else self._total)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Qt's header-click entry point; columns without a sort key are ignored."""
        key = SORT_KEYS.get(Column(column)) if 0 <= column < len(Column) else None
        if key is None:
            return
        descending = order == Qt.SortOrder.DescendingOrder
        if self._sort == ((key, descending),):
            return  # the header re-announcing the current sort (setSortingEnabled, restoreState): no re-query
        self.set_sort(key, descending)

    def sort_column(self) -> tuple[int, Qt.SortOrder]:
        """The column and order of the current sort, for the header indicator (-1 when none)."""
        key, descending = self._sort[0]
        column = next((c for c, k in SORT_KEYS.items() if k == key), -1)
        return int(column), Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder

    def reload(self) -> None:
        """Re-run the current query (after an import or a rescan)."""
        self._requery(self._query, self._sort)

    def _requery(self, query: str | None, sort: tuple[tuple[str, bool], ...], total: int | None = None) -> None:
        # Everything is read before anything changes: a syntax error (QueryError) or a bad sort key
        # (ValueError) leaves the model as it was. `total`: the count when it is known already.
        if self._reader is not None:
            self._ask_requery(query, sort, total)
            return
        if total is None and self._counter is None:
            total = self.store.count(query)
        first = self.store.rows(query, sort=sort, offset=0, limit=self.page_size)
        self._query, self._sort = query, sort
        self._show_first(query, sort, first, total)

    def _ask_requery(self, query: str | None, sort: tuple[tuple[str, bool], ...], total: int | None) -> None:
        """The reader's re-query: checked now (raising as the inline one does), shown when its page arrives."""
        if query is not None:
            query_language.parse(query.replace("\0", " "))  # QueryError, before anything changes
        for key, _descending in sort:
            if key not in search.SORT_KEYS:
                raise ValueError(f"unknown sort key '{key}' (use one of: {', '.join(search.SORT_KEYS)})")
        self._request += 1
        request, size, count = self._request, self.page_size, total is None and self._counter is None
        self._query, self._sort = query, sort

        def read(store: RowSource) -> tuple[list[CardRow], int | None] | None:
            if request != self._request:
                return None  # typed over before its turn came: the newest query needs the connection
            first = store.rows(query, sort=sort, offset=0, limit=size)
            return first, store.count(query) if count and len(first) >= size else None

        def done(result: tuple[list[CardRow], int | None] | None) -> None:
            if result is not None and request == self._request:
                self._show_first(query, sort, result[0], total if total is not None else result[1])

        def failed(err: BaseException) -> None:
            if request == self._request:
                self._query, self._sort = self._shown  # what the list shows is what it holds
                self._failed("Reading the card list", err)

        self._reader(read, done, failed, lane="pages")

    def _show_first(
        self, query: str | None, sort: tuple[tuple[str, bool], ...], first: list[CardRow], total: int | None
    ) -> None:
        """Reset the model to a query's first page (`total`: its count when known)."""
        if total is None and len(first) < self.page_size:
            total = len(first)  # the whole answer fits on the first page: nothing to count
        self._shown = (query, sort)
        self._generation += 1
        self._loading.clear()
        self._ids, self._ids_loading = None, False
        self._counting = total is None
        self.beginResetModel()
        self._pages.clear()
        self._row_of.clear()
        self._total = len(first) if total is None else total
        self._short_page = False
        self._hold(0, first)
        self.endResetModel()
        if not self._counting:
            self.totalChanged.emit(self._total)
        self.reset.emit()
        if self._counting and self._counter is not None:
            generation = self._generation
            self._counter(query, lambda count: self._counted(generation, count))

    def _counted(self, generation: int, total: int) -> None:
        if generation != self._generation or not self._counting:
            return  # a count for an older query
        self._counting = False
        if total > self._total:
            self.beginInsertRows(QModelIndex(), self._total, total - 1)
            self._total = total
            self.endInsertRows()
        elif total < self._total:  # cards went away between the page and the count
            self.beginRemoveRows(QModelIndex(), total, self._total - 1)
            self._total = total
            self.endRemoveRows()
        self.totalChanged.emit(total)

    # -- pages --------------------------------------------------------------------------------------
    def _hold(self, number: int, rows: list[CardRow]) -> None:
        self._pages[number] = rows
        start = number * self.page_size
        for i, row in enumerate(rows):
            self._row_of[row.id] = start + i
        while len(self._pages) > MAX_PAGES:
            old, dropped = self._pages.popitem(last=False)
            base = old * self.page_size
            for i, row in enumerate(dropped):
                if self._row_of.get(row.id) == base + i:
                    del self._row_of[row.id]

    def _page(self, number: int) -> list[CardRow]:
        page = self._pages.get(number)
        if page is not None:
            self._pages.move_to_end(number)
            return page
        if self.offline:
            return []
        if self._reader is not None:
            return self._ask_page(number)
        query, sort = self._shown
        try:
            page = self.store.rows(query, sort=sort, offset=number * self.page_size, limit=self.page_size)
        except LibraryError as err:
            # A team library's server went away mid-scroll: the rows stay blank (read again when shown once
            # the connection is back) and the window says so; never a traceback from inside a paint.
            self._failed("Reading the card list", err)
            return []
        self._settle(number, page)
        return page

    def _ask_page(self, number: int) -> list[CardRow]:
        """Ask the reader for page `number` (once while it is on its way); its rows when it answered inline."""
        if number in self._loading:
            return []
        self._loading.add(number)
        generation, (query, sort), size = self._generation, self._shown, self.page_size

        def read(store: RowSource) -> list[CardRow] | None:
            if generation != self._generation:
                return None  # a page of an older query, asked for before the re-query: not read at all
            return store.rows(query, sort=sort, offset=number * size, limit=size)

        def done(page: list[CardRow] | None) -> None:
            if page is None or generation != self._generation:
                return  # a stale page: its rows are another query's (or another order's)
            self._loading.discard(number)
            self._settle(number, page)
            if number != self._asking and page:  # arrived later: the views repaint the rows it holds
                first, last = number * size, number * size + len(page) - 1
                self.dataChanged.emit(self.index(first, 0), self.index(last, len(Column) - 1))
                self.pageLoaded.emit(first, last)

        def failed(err: BaseException) -> None:
            if generation == self._generation:
                self._loading.discard(number)  # asked again when shown (once the connection is back)
            self._failed("Reading the card list", err)

        self._asking = number
        try:
            self._reader(read, done, failed, lane="pages")
        finally:
            self._asking = None
        return self._pages.get(number) or []

    def _failed(self, what: str, err: BaseException) -> None:
        """A read that failed: a library's failure is said once (readFailed), anything else is a bug logged."""
        if not isinstance(err, LibraryError):
            if self._reader is None:
                raise err
            errorlog.log_failure(what, err)
            return
        if not self._read_failed:
            self._read_failed = True
            self.readFailed.emit(str(err))

    def _settle(self, number: int, page: list[CardRow]) -> None:
        """Hold a page just read; a page shorter than the count said means the library changed: re-query."""
        self._read_failed = False
        self._hold(number, page)
        expected = min(self.page_size, self._total - number * self.page_size)
        if len(page) < expected and not self._short_page:
            # Cards went away since the count (a rescan, another process): recount once the paint is over.
            self._short_page = True
            QTimer.singleShot(0, self.reload)

    def fetch_until(self, row: int) -> None:
        """Make sure `row`'s page is held (J/K moves, tests); rows past the end are ignored."""
        self.card_at(min(row, self._total - 1))

    # -- rows ---------------------------------------------------------------------------------------
    def card_at(self, row: int) -> CardRow | None:
        """The card on `row`, reading its page when it is not held; None past the end, and (with a reader
        that answers later) while its page is on its way."""
        if not 0 <= row < self._total:
            return None
        page = self._page(row // self.page_size)
        i = row % self.page_size
        return page[i] if i < len(page) else None

    def ids_at(self, rows: Iterable[int]) -> list[int]:
        """The card ids on `rows` (in the given order), rows without a card left out.

        A selection may hold rows whose page is not held (a Shift+click range over unread pages) or rows
        that no longer have a card (the library changed since the count: an edit moved cards out of the
        query, a rescan removed some). Held rows are answered from their page; when more than a page of
        rows is not held, the query's ids are read once (one SQL query) instead of page after page; rows
        past the end of what the query now returns are skipped, never turned into an edit of "no card".
        """
        wanted = list(rows)
        missing = [r for r in wanted if 0 <= r < self._total and r // self.page_size not in self._pages]
        by_row: dict[int, int] = {}
        many = len(missing) > self.page_size
        if many:
            every = self.all_ids()  # with a reader: None until they arrive (then `unloaded` is not empty)
            by_row = {r: every[r] for r in missing if every is not None and r < len(every)}
        out: list[int] = []
        for r in wanted:
            card_id = by_row.get(r)
            if card_id is None and not (many and self._reader is not None and r // self.page_size not in self._pages):
                card = self.card_at(r)
                card_id = card.id if card is not None else None
            if card_id is not None:
                out.append(card_id)
        return out

    def unloaded(self, rows: Iterable[int]) -> list[int]:
        """Which of `rows` hold a card not known yet (its page, or the query's ids, on its way): an action on
        them waits (the caller says so) rather than acting on the rest. Their pages (or, for more than a
        page of them, the query's ids) are asked for. Always empty without a reader."""
        if self._reader is None:
            return []
        known = self._ids
        out = [
            r for r in rows
            if 0 <= r < self._total and r // self.page_size not in self._pages and (known is None or r >= len(known))
        ]  # fmt: skip
        if len(out) > self.page_size:
            self.all_ids()
        else:
            for number in sorted({r // self.page_size for r in out}):
                self._page(number)
        held = set(self._pages)
        return [r for r in out if r // self.page_size not in held]

    def all_ids(self) -> list[int] | None:
        """Every id of the query shown, in row order (one read, kept until the next re-query): Select All and
        long selections. With a reader that answers later: None until they arrive (then asked for once)."""
        if self._reader is None:
            return self.store.ids(self._shown[0], sort=self._shown[1])
        if self._ids is not None or self._ids_loading:
            return self._ids
        self._ids_loading = True
        generation, (query, sort) = self._generation, self._shown

        def done(ids: list[int]) -> None:
            if generation == self._generation:
                self._ids, self._ids_loading = ids, False

        def failed(err: BaseException) -> None:
            if generation == self._generation:
                self._ids_loading = False
            self._failed("Reading the card list", err)

        self._reader(lambda store: store.ids(query, sort=sort), done, failed, lane="pages")
        return self._ids

    def loading(self, row: int) -> bool:
        """Whether `row`'s page is on its way from the reader (the row shows "Loading…")."""
        return row // self.page_size in self._loading

    def row_of(self, card_id: int) -> int | None:
        """The row of a held card, or None when its page is not held or it does not match."""
        return self._row_of.get(card_id)

    def loaded_ids(self) -> list[int]:
        """The ids on the held pages, in row order."""
        return [r.id for number in sorted(self._pages) for r in self._pages[number]]

    def held(self, ids: Iterable[int]) -> list[int]:
        """Which of `ids` are on the held pages (the rows a refresh has to re-read)."""
        return [i for i in ids if i in self._row_of]

    def refresh_rows(self, ids: Iterable[int]) -> None:
        """Re-read the given cards (after edits) and repaint their rows; ids not held are ignored."""
        wanted = self.held(ids)
        if not wanted:
            return
        if self._reader is None:
            self.apply_rows(self.store.rows_by_id(wanted))
            return
        self._reader(
            lambda store: store.rows_by_id(wanted), self.apply_rows,
            lambda err: self._failed("Refreshing the edited rows", err), lane="cards",
        )  # fmt: skip

    def apply_rows(self, rows: Iterable[CardRow]) -> list[int]:
        """Put fresh CardRows (read elsewhere: a worker, after another editor's change) in place of the held
        ones and repaint them, one dataChanged per run of neighbouring rows, with no re-query: the
        selection, the current row and the scroll position stay. Returns the ids that were held."""
        placed: list[int] = []
        for fresh in rows:
            row = self._row_of.get(fresh.id)
            page = self._pages.get(row // self.page_size) if row is not None else None
            if row is None or page is None or row % self.page_size >= len(page):
                continue  # its page was dropped since the read: it is read afresh when shown
            page[row % self.page_size] = fresh
            placed.append(row)
        last = len(Column) - 1
        placed.sort()
        start = 0
        for i in range(1, len(placed) + 1):
            if i == len(placed) or placed[i] != placed[i - 1] + 1:
                self.dataChanged.emit(self.index(placed[start], 0), self.index(placed[i - 1], last))
                start = i
        return [self._pages[r // self.page_size][r % self.page_size].id for r in placed]

    def _loading_data(self, column: int, role: int) -> Any:
        """A row on its way: "Loading…" in italics in the title, the other cells empty."""
        if role == _DISPLAY:
            return LOADING_TEXT if column == Column.TITLE else ""
        if role == _FONT and column == Column.TITLE:
            return _italic()
        if role == _ALIGN:
            return _LEFT
        return None

    # -- Qt model interface -------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._total

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Column)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(Column):
            return None
        column = Column(section)
        if role == Qt.ItemDataRole.DisplayRole:
            return SHORT_HEADERS.get(column, HEADERS[column])
        if role == Qt.ItemDataRole.ToolTipRole:
            return HEADERS[column] + ("" if column in SORT_KEYS else " (cannot be sorted)")
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        return _ITEM_FLAGS if index.isValid() else Qt.ItemFlag.NoItemFlags

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # Called thousands of times per repaint: plain-int role checks first, enum work only when needed.
        role = int(role)
        if role not in _ROLES or not index.isValid():
            return None
        row = self.card_at(index.row())
        if row is None:
            if self._reader is not None and self.loading(index.row()):
                return self._loading_data(index.column(), role)
            return None
        if role == _CARD_ID:
            return row.id
        if role == _ROW:
            return row
        column = _COLUMNS[index.column()]
        if role == _DISPLAY:
            return display_text(row, column)
        if role == _ALIGN:
            return _CENTER if column in _CENTERED else _LEFT
        if role == _RAW or role == _SORT:
            return raw_value(row, column)
        if role == _TOOLTIP:
            return tooltip(row, column)
        if role == _FONT:
            return _italic() if column == Column.TITLE and not row.title else None
        if role == _IMAGE_URL:
            return row.lead_image
        if role == _QUALITY:
            return row.quality
        if role == _HEAT:
            return row.heat
        return None


_COLUMNS = tuple(Column)
_ITEM_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_ALIGN = int(Qt.ItemDataRole.TextAlignmentRole)
_FONT = int(Qt.ItemDataRole.FontRole)
_CARD_ID, _SORT, _RAW, _ROW, _IMAGE_URL, _QUALITY, _HEAT = (int(r) for r in Role)
_ROLES = frozenset({_DISPLAY, _TOOLTIP, _ALIGN, _FONT, *(int(r) for r in Role)})
_CENTERED = frozenset({Column.QUALITY, Column.HEAT, Column.PROBLEMS, Column.PUBLISHED, Column.CHANGED})
_CENTER = int(Qt.AlignmentFlag.AlignCenter)
_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)


@lru_cache(maxsize=1)
def _italic() -> QFont:
    # Made on first use: a QFont needs the QGuiApplication, which may not exist at import time.
    font = QFont()
    font.setItalic(True)
    return font
