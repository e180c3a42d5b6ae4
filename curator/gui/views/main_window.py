"""The main window: search bar, facets, the card list (table or grid), the detail panel and the status bar."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import (
    QMainWindow,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from curator.core.backend import team
from curator.core.query import QueryError
from curator.core.store import Store
from curator.core.store_types import CardRow, ImportReport, Totals
from curator.gui import app as gui_app
from curator.gui import errorlog, library_busy, library_tasks, plain
from curator.gui import settings as keys
from curator.gui.actions import Actions
from curator.gui.images import ImageCache
from curator.gui.models.card_table import CardTableModel
from curator.gui.settings import Settings
from curator.gui.undo import EditHistory
from curator.gui.views import checks_refresh, duplicates, preferences, same_story, team_connect, window_layout
from curator.gui.views.card_grid_view import CardGridView
from curator.gui.views.card_selection import CardSelection
from curator.gui.views.card_table_view import CardTableView
from curator.gui.views.context_menu import CardMenu
from curator.gui.views.detail_panel import CardLoader, DetailPanel
from curator.gui.views.editing import EditController
from curator.gui.views.empty_state import ListStates
from curator.gui.views.facet_sidebar import FacetSidebar
from curator.gui.views.file_sync import FileController
from curator.gui.views.filter_bar import FilterBar
from curator.gui.views.folder_watch import FolderWatcher
from curator.gui.views.importing import ImportController, ImportRunner, ProgressWidget
from curator.gui.views.list_focus import ListFocus
from curator.gui.views.live_updates import TeamLibrary
from curator.gui.views.problems_report import ProblemsReport
from curator.gui.views.related_editor import RelatedLinks
from curator.gui.views.searching import SearchController
from curator.gui.views.startup import AfterFirstPaint
from curator.gui.views.window_menus import Appearance, HelpMenu
from curator.gui.views.window_status import WindowStatus
from curator.gui.workers import Pool, TaskHandle


class MainWindow(QMainWindow):
    """Curator's window over one library: it builds the widgets and the controllers, handing each the few
    collaborators it needs, and wires their signals to each other here, in `_connect`, and nowhere else.

    Controllers (each in its own module): `selection` (the card in hand), `edits` (every edit, undo and
    the history dialog), `files` (write, review, conflicts, the close prompt), `imports` (open, rescan),
    `folders` (the folder watcher), `related` (the related-links dialog), `search` (queries and facets).
    """

    importProgress = Signal(int, int)  # files settled, files in the run
    importFinished = Signal(object)  # the ImportReport (also after a cancel)

    def __init__(
        self, store: Store, settings: Settings, *, images: ImageCache | None = None, pool: Pool | None = None,
        defer_startup: bool = False,
    ) -> None:  # fmt: skip
        """`defer_startup`: facet counts, completion values and the folder watcher wait for the first paint
        (the app does this; a window built directly, as in tests, does everything at once)."""
        super().__init__()
        self.store = store
        library_tasks.unmap(store)  # see unmap: mapped pages would count as the window's memory
        # A big edit (publish all) returns once committed; copying its pages into the file runs apart.
        store.defer_checkpoints()
        # Another Curator writing must never freeze this window: edits retry from a timer (see library_busy).
        library_busy.set_busy_timeout(store, library_busy.GUI_BUSY_TIMEOUT_MS)
        #: Every failed import, write and check, and Curator's own errors (Help > Problems Report…).
        self.problems = ProblemsReport(self)
        errorlog.bugs.logged.connect(self.problems.bug)
        self.settings = settings
        self.pool = pool
        self._totals: Totals | None = None  # whole-library counts, recounted only when cards change
        self._startup: AfterFirstPaint | None = None
        self._deferring = defer_startup  # until finish_startup: facet counts wait for the first paint
        self.importer = ImportRunner(store, pool, self)
        self.search = SearchController(self)
        self.setWindowTitle(plain.window_title(f"Curator — {team.title(store.location)}"))
        self.actions = Actions(self)
        self.images = images or ImageCache(parent=self)
        # The reads and edits of user actions: off the GUI thread on a team library (library_tasks.RoundTrips).
        self.trips = library_tasks.RoundTrips(store, pool, self)
        # Not loaded yet: _restore sets query and sort at once. Counts run on a worker (see count_matches).
        self.model = CardTableModel(store, parent=self, load=False, counter=self.count_matches, reader=self.trips.read)

        self.filter_bar = FilterBar()
        self.facets = FacetSidebar()
        self.table = CardTableView(self.model)
        self.grid = CardGridView(self.model, self.images)
        self.grid.setSelectionModel(self.table.selectionModel())  # one selection, two views
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.grid)
        self.detail = DetailPanel(self.images)
        self.card_loader = CardLoader(self.detail, self.trips.read, self,  # the card in hand, read by the trips
                                      pending=lambda: self.model.loading(self.table.currentIndex().row()))

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.facets)
        self.splitter.addWidget(self.stack)
        self.splitter.addWidget(self.detail)
        self.splitter.setStretchFactor(1, 1)
        window_layout.set_minimums(self.facets, self.stack, self.detail)
        self.splitter.setChildrenCollapsible(False)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(8, 8, 8, 4)
        layout.setSpacing(6)
        layout.addWidget(self.filter_bar)
        layout.addWidget(self.splitter, 1)
        self.setCentralWidget(central)

        self.progress = ProgressWidget(self.actions)
        self.status_line = WindowStatus(self.statusBar(), self.progress, self.problems, self.actions)

        # The controllers: collaborators handed in, never the window; they talk by signals (see _connect).
        self.selection = CardSelection(self.model, self.table, self.grid, self.stack, self)
        history = EditHistory(store)  # the edit controller owns it; the file controller resolves through it
        status = self.statusBar()
        self.edits = EditController(
            store, history, self.selection, self.actions, settings, status,
            writing=lambda: self.writer.running, parent=self, trips=self.trips,
        )  # fmt: skip
        self.edits.card_in_hand = lambda: self.detail.card  # its version goes with edits of it
        self.files = FileController(
            store, history, self.progress, status, self.problems, self.actions, pool=pool,
            other_task=lambda: self.importer.running, loaded_ids=self.model.loaded_ids,
            card_in_hand=lambda: self.detail.card, parent=self, edits=self.edits,
        )  # fmt: skip
        self.writer = self.files.writer
        self.related = RelatedLinks(store, self.images, lambda: self.detail.card, self,
                                    suggested=self.detail.same_story.shown_rows, trips=self.trips)  # fmt: skip
        self.imports = ImportController(
            self.importer, self.progress, status, self.problems, self.actions,
            loaded_ids=self.model.loaded_ids, more_coming=lambda: self.folders.pending, parent=self,
        )  # fmt: skip
        self.folders = FolderWatcher(store, pool, lambda: self.importer.running or self.writer.running, self)
        # The checks index (duplicates, copies, same story) catches up on a worker after cards change.
        self.checks = checks_refresh.ChecksRefresher(store, pool, self)  # followed before _connect: see follow()
        self.checks.follow(self.edits.cardsChanged, self.files.cardsChanged, self.imports.cardsChanged,
                           self.imports.libraryChanged)  # fmt: skip
        self.duplicates = duplicates.DuplicatesView(store, self.checks, self.edits, status, self)
        self.same_story = same_story.SameStoryFinder(store, self.detail.same_story, self.edits, status, pool, self,
                                                     current=lambda: self.checks.current)  # fmt: skip
        self.look = Appearance(self.actions, settings, self)  # View > Theme
        self.help = HelpMenu(self.actions, lambda: self.store, self.problems, self)
        self._build_menus()
        self._connect()
        self._restore()
        self.list_focus = ListFocus(self, self.filter_bar.edit, self.selection.current_view)
        self.list_focus.start()
        # The list's empty-library, no-match and stale states, and its context menu.
        self.list_states = ListStates(self)
        self.card_menu = CardMenu(self)
        # Undo reaches back before this window: the stack is rebuilt from the library's journal.
        self.edits.history.rebuild_through(self.trips)  # on a team library: off the GUI thread
        if defer_startup:
            self._startup = AfterFirstPaint([self.table.viewport(), self.grid.viewport()], self.finish_startup, self)
        else:
            self.finish_startup()

    def finish_startup(self) -> None:
        """The start-up work the first page does not need: facet counts, completions, folder watching."""
        self._startup = None
        self._deferring = False
        self.refresh_facets()
        self.refresh_values()
        self.folders.watch()
        self.checks.schedule()  # an import left the checks behind: they catch up once the window is idle
        self.update_status()  # the library totals, left out of the first paint (see update_status)

    # -- construction -------------------------------------------------------------------------------
    @classmethod
    def open_library(cls, path: Path | str, settings: Settings) -> MainWindow | None:
        """A window on the library at `path` (a file or a team library's URL), or None (after telling the
        user) when it cannot be opened; see app.open_window (it asks for a team library's password)."""
        return gui_app.open_window(path, settings)

    def _build_menus(self) -> None:
        self.columns_menu = self.actions.build_menus(self.menuBar())
        self.columns_menu.aboutToShow.connect(self._fill_columns_menu)
        # Window-wide shortcuts need the actions on the window; J/K/Enter only on the list views.
        self.addActions(self.actions.window_actions())
        for view_widget in (self.table, self.grid):
            view_widget.addActions(self.actions.triage_actions())

    def _fill_columns_menu(self) -> None:
        self.columns_menu.clear()
        for action in self.table.columns_menu().actions():
            action.setParent(self.columns_menu)
            self.columns_menu.addAction(action)

    def _connect(self) -> None:
        a = self.actions
        a.preferences.triggered.connect(lambda: preferences.open_dialog(self.settings, self.store, a, self,
                                                                        self.checks.refresh_now, trips=self.trips))
        a.advance.toggled.connect(lambda on: self.settings.set_value(keys.ADVANCE, on))
        a.edit_related.triggered.connect(self.related.edit)
        self.detail.editRelatedRequested.connect(self.related.edit)
        a.quit.triggered.connect(self.close)
        a.find.triggered.connect(self.filter_bar.focus)
        a.clear_search.triggered.connect(lambda: self.filter_bar.set_text(""))
        a.save_search.triggered.connect(self.search.save_search)
        a.copy_path.triggered.connect(self.copy_paths)
        a.open_source.triggered.connect(self.open_source)
        a.next_card.triggered.connect(lambda: self.selection.move(1))
        a.previous_card.triggered.connect(lambda: self.selection.move(-1))
        a.table_view.triggered.connect(lambda: self.set_view_mode("table"))
        a.grid_view.triggered.connect(lambda: self.set_view_mode("grid"))
        a.connect_team.triggered.connect(lambda: team_connect.open_dialog(self))

        self.filter_bar.queryChanged.connect(self.apply_query)
        self.filter_bar.submitted.connect(self.search.remember_search)
        self.facets.termToggled.connect(self.search.toggle_term)
        self.facets.allClicked.connect(self.search.clear_status_terms)
        # The controllers talk through this wiring only: the card in hand, edits, files, imports, watcher.
        self.selection.currentChanged.connect(self.card_loader.show)
        for lost in (self.trips.lost, self.card_loader.failed, self.edits.connectionLost):
            lost.connect(self.model.readFailed)  # a lost connection: the team library's banner takes it
        editor = self.detail.editor
        editor.cardEdited.connect(self.edits.edit_card)
        editor.topicAdded.connect(self.edits.add_topic_in_hand)
        editor.topicRemoved.connect(self.edits.remove_topic_in_hand)
        self.edits.cardsChanged.connect(self._cards_changed)
        self.edits.editNotMade.connect(self._reshow_card)
        self.edits.cardRead.connect(self.card_loader.put)
        self.related.saved.connect(self.edits.set_related)
        self.files.cardsChanged.connect(self._cards_changed)
        self.files.totalsChanged.connect(self.update_status)
        self.files.closeReady.connect(self.close)
        self.imports.progress.connect(self.importProgress)
        self.imports.finished.connect(self.importFinished)
        self.imports.cardsChanged.connect(self._cards_changed)
        self.imports.libraryChanged.connect(self._library_changed)
        self.imports.rescanStarted.connect(self.folders.rescan_started)
        # Not while the edits are off (a read-only role, a lost team-library connection): a rescan writes.
        self.folders.rescanNeeded.connect(
            lambda: self.imports.rescan(quiet=True) if self.actions.rescan.isEnabled() else None
        )
        self.folders.status.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.facets.duplicatesClicked.connect(self.duplicates.open)
        self.checks.updated.connect(lambda summary: self.facets.show_duplicates(summary.facet_text()))
        self.model.reset.connect(lambda: self.update_status(recount=False))  # a query changes what is shown
        self.model.totalChanged.connect(lambda _n: self.update_status(recount=False))
        self.table.doubleClicked.connect(lambda _i: self.open_source())
        self.grid.doubleClicked.connect(lambda _i: self.open_source())
        # A team library: read-only roles, the server connection's state, other editors' changes. Built
        # here, before _restore reads the first page, so its live feed catches up from before that read.
        self.team_library = TeamLibrary(self)

    # -- settings -----------------------------------------------------------------------------------
    def _restore(self) -> None:
        s = self.settings
        geometry = s.value(keys.GEOMETRY)
        # Saved on another (bigger) screen, the window would hang off this one: then size it afresh.
        if geometry.isEmpty() or not self.restoreGeometry(geometry) or not window_layout.fits_a_screen(self):
            window_layout.first_size(self)
        state = s.value(keys.WINDOW_STATE)
        if not state.isEmpty():
            self.restoreState(state)
        splitter = s.value(keys.MAIN_SPLITTER)
        if splitter.isEmpty() or not self.splitter.restoreState(splitter):
            self.splitter.setSizes(window_layout.splitter_sizes(self.width()))
        self.table.restore_header(s.value(keys.HEADER_STATE))
        self.table.set_hidden_columns(s.value(keys.HIDDEN_COLUMNS) or ["category"])
        self.set_view_mode(s.value(keys.VIEW_MODE))
        theme = s.value(keys.THEME)
        self.actions.theme_actions().get(theme, self.actions.theme_system).setChecked(True)
        self.search.refresh_searches_menu()
        self.actions.advance.setChecked(s.value(keys.ADVANCE))
        self.actions.set_quality_scale(s.value(keys.QUALITY_SCALE))
        # The first page is read once, with the saved query and sort together (each re-query costs a count
        # and a page); a saved query or sort this version cannot run falls back to every card by date.
        last = s.value(keys.LAST_QUERY)
        self.filter_bar.set_text(last, emit=False)
        sort = (s.value(keys.SORT_KEY), bool(s.value(keys.SORT_DESCENDING)))
        if not self.apply_query(last, sort=sort) and not self.apply_query("", sort=sort):
            self.apply_query("", sort=("date", True))

    def save_settings(self) -> None:
        """Write window layout, columns, sort, view mode and query to the settings."""
        s = self.settings
        s.set_value(keys.GEOMETRY, self.saveGeometry())
        s.set_value(keys.WINDOW_STATE, self.saveState())
        s.set_value(keys.MAIN_SPLITTER, self.splitter.saveState())
        s.set_value(keys.HEADER_STATE, self.table.header_state())
        s.set_value(keys.HIDDEN_COLUMNS, self.table.hidden_columns())
        key, descending = self.model.sort_key
        s.set_value(keys.SORT_KEY, key)
        s.set_value(keys.SORT_DESCENDING, descending)
        s.set_value(keys.VIEW_MODE, self.view_mode())
        s.set_value(keys.LAST_QUERY, self.filter_bar.text())
        s.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        # Unwritten edits are safe in the library either way; the prompt lets the editor write them first.
        if not self.files.may_close():
            event.ignore()
            return
        self.importer.cancel()
        self.save_settings()
        super().closeEvent(event)

    # -- querying -----------------------------------------------------------------------------------
    def apply_query(self, text: str, sort: tuple[str, bool] | None = None) -> bool:
        """Run the query text (and a new sort): the list, the facets and the status bar follow it.

        Returns False, with the error shown under the search bar, when the text or the sort is refused.
        """
        try:
            self.model.set_query(text, sort)
        except QueryError as err:
            self.filter_bar.show_error(err)
            return False
        except ValueError as err:  # semantic errors the parser lets through (e.g. a bad sort)
            self.filter_bar.show_error(str(err))
            return False
        if not self._deferring:  # else the first facet count waits for the first paint
            self.refresh_facets()
        self.settings.set_value(keys.LAST_QUERY, text)
        return True

    # The search side lives in views/searching.py; these names are what other parts of the window call.
    def count_matches(self, query: str | None, done: Callable[[int], None]) -> None:
        self.search.count_matches(query, done)

    def refresh_facets(self) -> None:
        self.search.refresh_facets()

    def refresh_values(self) -> None:
        self.search.refresh_values()

    def refresh_topic_values(self) -> None:
        self.search.refresh_topic_values()

    # -- the card in hand (views/card_selection.py) and the detail panel -------------------------------
    def current_view(self) -> CardTableView | CardGridView:
        return self.selection.current_view()

    def selected_ids(self) -> list[int]:
        return self.selection.selected_ids()

    def current_id(self) -> int | None:
        return self.selection.current_id()

    def select_card(self, card_id: int) -> bool:
        return self.selection.select_card(card_id)

    def _reshow_card(self) -> None:
        """The detail pane again from the library (an edit made there did not happen, or changed the card)."""
        self.card_loader.reload()

    def _cards_changed(self, ids: list[int]) -> None:
        """Refresh what shows these cards (rows, the detail pane, counts, facets): after an edit, an undo,
        a write, a resolved conflict or a rescan that changed them in place."""
        self.model.refresh_rows(ids)
        if self.detail.card is not None and self.detail.card.id in set(ids):
            self._reshow_card()
        self.update_status()
        self.refresh_facets()
        self.refresh_topic_values()  # an edit may add a topic the library did not know (or drop its last use)

    def update_status(self, recount: bool = True) -> None:
        """Counts in the status bar and the write actions; `recount=False` reuses the last library totals."""
        if self._deferring and self._totals is None:
            return  # a scan of every card (0.1 s at 100k) the first page does not need: finish_startup counts
        if recount or self._totals is None:  # a scan of every card (45 ms at 100k): shown when it arrives
            self.trips.read(lambda s: s.totals(), self._totals_read, self.trips.reporter("Counting the library"))
            return
        self.status_line.show_counts(
            self._totals, self.model.total, counting=self.model.counting, writing=self.writer.running
        )

    def _totals_read(self, totals: Totals) -> None:
        self._totals = totals
        self.update_status(recount=False)

    # -- commands -----------------------------------------------------------------------------------
    def open_source(self) -> None:
        """Enter, a double click, View > Open Source: the card in hand's article (the detail pane shows it)."""
        if self.detail.card is not None:
            self.detail.open_link(self.detail.card.data.get("sourceUrl"))

    def copy_paths(self) -> None:
        ids = self.edits.targets()  # after Select All: every match, no paging
        if ids is not None:
            self.trips.read(lambda store: store.rows_by_id(ids), self._copy_rows, self.trips.reporter("Copy Path"))

    def _copy_rows(self, rows: list[CardRow]) -> None:
        QGuiApplication.clipboard().setText("\n".join(r.path for r in rows))

    def view_mode(self) -> str:
        return "grid" if self.current_view() is self.grid else "table"

    def set_view_mode(self, mode: str) -> None:
        """Show the table ("table") or the grid ("grid"); the selection is shared."""
        self.selection.show_view(self.grid if mode == "grid" else self.table)
        (self.actions.grid_view if mode == "grid" else self.actions.table_view).setChecked(True)

    # -- importing (views/importing.py); these names are what tests and the app call -------------------
    def start(self, path: str | None) -> None:
        self.imports.start(path)

    def import_paths(self, paths: list[str]) -> TaskHandle | None:
        return self.imports.import_paths(paths)

    def rescan(self, quiet: bool = False) -> None:
        self.imports.rescan(quiet)

    def cancel_task(self) -> None:
        self.importer.cancel()
        self.writer.cancel()

    @property
    def import_workers(self) -> int | None:
        return self.importer.workers

    @import_workers.setter
    def import_workers(self, workers: int | None) -> None:
        self.importer.workers = workers

    @property
    def last_import(self) -> ImportReport | None:
        return self.importer.last_report

    def _library_changed(self) -> None:
        """Cards were added or removed (an import, a rescan): the list, counts, completions and watches."""
        self.apply_query(self.filter_bar.text())  # re-runs the list and the facets
        self.update_status()
        self.refresh_values()
        self.folders.watch()
