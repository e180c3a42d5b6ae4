"""The window's search side: facet clicks into query text, counts and facets on workers, completions, searches."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject

from curator.core.backend import team
from curator.core.query import QueryError, with_term, without_term
from curator.core.store import Store
from curator.core.store_types import Facets
from curator.gui import library_tasks
from curator.gui import settings as keys
from curator.gui.workers import CancelledFn, Lane, ProgressFn, TaskFn, default_pool, run_task

if TYPE_CHECKING:
    from curator.gui.views.main_window import MainWindow

#: Opposite status terms: adding one removes the other, so a facet click never yields an empty contradiction.
OPPOSITES = {"published:true": "published:false", "published:false": "published:true"}
STATUS_TERMS = (
    "published:true",
    "published:false",
    "dirty:true",
    "problems:true",
    "conflict:true",
    "missing:true",
)
COMPLETION_FIELDS = ("topic", "provider", "category", "type")
T = TypeVar("T")


def _kept_connection_task(store: Store, read: Callable[[Store], T]) -> TaskFn:
    """A run_task function calling `read(store)` on its thread's connection, kept open for the next task
    (a lane's: one thread, its connection reused), read through the page cache (library_tasks.unmap).

    A library failure closes the connection, so the next task opens a fresh one.
    """

    def work(_progress: ProgressFn, _cancelled: CancelledFn) -> T:
        try:
            library_tasks.unmap(store)  # two PRAGMAs, every time: a reopened connection must read lean too
            return read(store)
        except Exception as err:
            if store.library_error(err) is not None:
                store.close()
            raise

    return work


class SearchController(QObject):
    """Keeps the search bar, the facet sidebar and the saved/recent searches of one window in step."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.store = window.store
        self._facet_generation = 0
        self._facet_lane: Lane | None = None

    def _report(self, what: str) -> Callable[[BaseException], None]:
        return lambda exc: self.window.statusBar().showMessage(f"{what}: {exc}", 5000)

    # -- counting -----------------------------------------------------------------------------------
    def count_matches(self, query: str | None, done: Callable[[int], None]) -> None:
        """The model's counter: count on a worker while the first page is painted."""
        work = library_tasks.read_task(self.store, lambda store: store.count(query))

        def counted(total: int) -> None:
            if shiboken6.isValid(self.window):
                done(total)

        run_task(work, on_done=counted, on_error=self._report("Counting"), pool=self.window.pool)

    def refresh_facets(self) -> None:
        """Recount the facets under the current query off the GUI thread; only the newest result is shown.

        On a local library they run on a lane of their own (`_facets_lane`), not on the thread pool the
        query's count, the card in hand's Same story and the completions share: with two cores that pool
        has two threads, and a common word's facets waited there behind the other two tasks the query
        started. The lane keeps its connection from one count to the next, and SQLite's counts of the whole
        library with it (``_every_counts``: read again only after a change). A team library's counts run
        on the pool, each on a connection of its own, as its other reads do.
        """
        self._facet_generation += 1
        generation, text = self._facet_generation, self.window.model.query or ""

        def count(store: Store) -> Facets | None:
            # A query typed over before its count started (each key of a word applies one): skip it. At
            # 100k cards a word's facets cost ~0.15-0.3 s of a core, which the newest query's count needs.
            if generation != self._facet_generation:
                return None
            return store.facets(text or None)

        lane = self._facets_lane()
        if lane is not None and lane.stopped:
            return  # the app is quitting (aboutToQuit stopped the lane): no sidebar left to count for
        work = (
            library_tasks.read_task(self.store, count)
            if lane is None
            else _kept_connection_task(self.store, count)
        )

        def done(facets: Facets | None) -> None:
            # Skip results of an older query, and any that arrive after the window went away.
            if facets is not None and shiboken6.isValid(self.window) and generation == self._facet_generation:
                self.window.facets.show_facets(facets, text)

        run_task(work, on_done=done, on_error=self._report("Facets"), pool=lane or self.window.pool)

    def _facets_lane(self) -> Lane | None:
        """The facet counts' own thread on a local library (made on first use), or None: a team library,
        or a window (a test) that chose where its tasks run."""
        if self._facet_lane is not None:
            return self._facet_lane
        if self.window.pool is not None or default_pool() is not None or team.is_team(self.store):
            return None
        store = self.store
        # settle=True: the app's exit waits for a count in flight (its result would reach a window being
        # deleted); finish closes the lane's connection on its own thread.
        lane = self._facet_lane = Lane("facets", finish=store.close, settle=True)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(lane.stop)
        self.destroyed.connect(lambda *_args: lane.stop())
        return lane

    # -- facet clicks -------------------------------------------------------------------------------
    def toggle_term(self, term: str, add: bool) -> None:
        """Add or remove one facet term in the visible search text, then apply it."""
        bar = self.window.filter_bar
        text = bar.text()
        try:
            if add:
                opposite = OPPOSITES.get(term)
                if opposite:
                    text = without_term(text, opposite)
                text = with_term(text, term)
            else:
                text = without_term(text, term)
        except QueryError as err:
            bar.show_error(err)
            return
        bar.set_text(text.strip())
        self.remember_search(bar.text())

    def clear_status_terms(self) -> None:
        """ "All cards": drop every status term from the search text."""
        bar = self.window.filter_bar
        text = bar.text()
        try:
            for term in STATUS_TERMS:
                text = without_term(text, term)
        except QueryError as err:
            bar.show_error(err)
            return
        bar.set_text(text.strip())

    # -- recent and saved searches ------------------------------------------------------------------
    def remember_search(self, text: str) -> None:
        self.window.settings.remember_query(text)
        self.refresh_searches_menu()

    def save_search(self) -> None:
        settings = self.window.settings
        text = self.window.filter_bar.text().strip()
        if not text:
            return
        saved = [q for q in settings.value(keys.SAVED_QUERIES) if q != text]
        settings.set_value(keys.SAVED_QUERIES, [text, *saved])
        self.refresh_searches_menu()

    def refresh_searches_menu(self) -> None:
        s = self.window.settings
        self.window.filter_bar.set_searches(
            s.value(keys.RECENT_QUERIES), s.value(keys.SAVED_QUERIES), self.window.actions.save_search
        )

    # -- completions --------------------------------------------------------------------------------
    def refresh_values(self) -> None:
        """Refill the search bar's completions from the library's known values (on a worker).

        `type` has no index (0.1 s at 100k), so all four are read off the GUI thread.
        """
        work = library_tasks.read_task(
            self.store, lambda store: {f: store.values(f) for f in COMPLETION_FIELDS}
        )

        def done(values: dict[str, list[str]]) -> None:
            if shiboken6.isValid(self.window):
                self.window.filter_bar.set_values(values)
                self.window.detail.editor.set_topic_names(values["topic"])

        run_task(work, on_done=done, on_error=self._report("Completions"), pool=self.window.pool)

    def refresh_topic_values(self) -> None:
        """Refresh the topic completions alone, after an edit (one indexed DISTINCT: under a millisecond;
        through the window's RoundTrips, so a team library's round trip is not the GUI thread's)."""

        def done(topics: list[str]) -> None:
            if shiboken6.isValid(self.window):
                self.window.filter_bar.set_field_values("topic", topics)
                self.window.detail.editor.set_topic_names(topics)

        trips = self.window.trips
        trips.read(lambda store: store.values("topic"), done, trips.reporter("Completions"))
