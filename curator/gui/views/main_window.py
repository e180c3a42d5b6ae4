"""The main window: search bar, facets, the card list (table or grid), the detail panel and the status bar."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication
from PySide6.QtWidgets import (
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from curator.core.query import QueryError
from curator.core.store import Store
from curator.core.store_types import ImportReport, LibraryError, Totals
from curator.gui import app as gui_app
from curator.gui import errorlog, library_busy, library_tasks, plain
from curator.gui import settings as keys
from curator.gui.actions import Actions
from curator.gui.images import ImageCache
from curator.gui.models.card_table import CardTableModel, Column
from curator.gui.settings import Settings
from curator.gui.views import window_dialogs, window_layout
from curator.gui.views.card_grid_view import CardGridView
from curator.gui.views.card_table_view import CardTableView
from curator.gui.views.context_menu import CardMenu
from curator.gui.views.detail_panel import DetailPanel
from curator.gui.views.editing import EditController
from curator.gui.views.empty_state import ListStates
from curator.gui.views.facet_sidebar import FacetSidebar
from curator.gui.views.file_sync import FileController
from curator.gui.views.filter_bar import FilterBar
from curator.gui.views.folder_watch import FolderWatcher
from curator.gui.views.importing import ImportController, ImportRunner, ProgressWidget
from curator.gui.views.list_focus import ListFocus
from curator.gui.views.problems_report import ProblemsDialog, ProblemsReport, check_problems
from curator.gui.views.searching import SearchController
from curator.gui.views.startup import AfterFirstPaint
from curator.gui.workers import Pool, TaskHandle


class MainWindow(QMainWindow):
    """Curator's window over one library."""

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
        # Another Curator writing must never freeze this window: edits retry from a timer (see library_busy).
        library_busy.set_busy_timeout(store, library_busy.GUI_BUSY_TIMEOUT_MS)
        #: Every failed import, write and check, and Curator's own errors (Help > Problems Report…).
        self.problems = ProblemsReport(self)
        errorlog.bugs.logged.connect(self.problems.bug)
        self.problems_dialog: ProblemsDialog | None = None
        self.settings = settings
        self.pool = pool
        self._last_card_id: int | None = None
        self._totals: Totals | None = None  # whole-library counts, recounted only when cards change
        self._startup: AfterFirstPaint | None = None
        self._deferring = defer_startup  # until finish_startup: facet counts wait for the first paint
        self.importer = ImportRunner(store, pool, self)
        self.search = SearchController(self)
        self.setWindowTitle(plain.window_title(f"Curator — {store.path.name}"))
        self.actions = Actions(self)
        self.images = images or ImageCache(parent=self)
        # Not loaded yet: _restore sets query and sort at once. Counts run on a worker (see count_matches).
        self.model = CardTableModel(store, parent=self, load=False, counter=self.count_matches)

        self.filter_bar = FilterBar()
        self.facets = FacetSidebar()
        self.table = CardTableView(self.model)
        self.grid = CardGridView(self.model, self.images)
        self.grid.setSelectionModel(self.table.selectionModel())  # one selection, two views
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.grid)
        self.detail = DetailPanel(self.images)

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

        self.shown_label = plain.label()
        self.changed_label = plain.label()
        self.progress = ProgressWidget(self.actions)
        self.statusBar().addWidget(self.shown_label)
        self.statusBar().addWidget(self.changed_label)
        # "⚠ 3 problems": opens the problems report; hidden while it is empty.
        self.problems_button = QToolButton()
        self.problems_button.setObjectName("problemsButton")
        self.problems_button.setAutoRaise(True)
        self.problems_button.setToolTip("Open the problems report (Help > Problems Report…)")
        self.problems_button.clicked.connect(self.show_problems)
        self.problems_button.hide()
        self.statusBar().addPermanentWidget(self.problems_button)
        self.problems.changed.connect(self._problems_changed)
        self.statusBar().addPermanentWidget(self.progress)
        # The auto-advance toggle, where the editor sees it while triaging (also in the Cards menu).
        self.advance_button = QToolButton()
        self.advance_button.setObjectName("advanceButton")
        self.advance_button.setAutoRaise(True)
        self.advance_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.advance_button.setDefaultAction(self.actions.advance)
        self.advance_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # a click leaves the keys in the list
        self.statusBar().addPermanentWidget(self.advance_button)

        self.edits = EditController(self)
        self.files = FileController(self)
        self.writer = self.files.writer
        self.imports = ImportController(
            self.importer, self.progress, self.statusBar(), self.problems, self.actions,
            loaded_ids=self.model.loaded_ids, more_coming=lambda: self.folders.pending, parent=self,
        )  # fmt: skip
        self.folders = FolderWatcher(store, pool, lambda: self.importer.running or self.writer.running, self)
        self._build_menus()
        self._connect()
        self._restore()
        self.list_focus = ListFocus(self, self.filter_bar.edit, self.current_view)
        self.list_focus.start()
        # The list's empty-library, no-match and stale states, and its context menu.
        self.list_states = ListStates(self)
        self.card_menu = CardMenu(self)
        # Undo reaches back before this window: the stack is rebuilt from the library's journal.
        self.edits.history.rebuild()
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

    # -- construction -------------------------------------------------------------------------------
    @classmethod
    def open_library(cls, path: Path, settings: Settings) -> MainWindow | None:
        """A window on the library at `path`, or None (after telling the user) when it cannot be opened."""
        try:
            store = Store(path, busy_timeout=library_busy.GUI_BUSY_TIMEOUT)
        except LibraryError as err:
            plain.message(None, QMessageBox.Icon.Critical, "Curator", f"Cannot open the library:\n{err}")
            return None
        settings.set_value(keys.LAST_LIBRARY, str(store.path))
        return cls(store, settings, defer_startup=True)

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
        a.history.triggered.connect(self.show_history)
        a.preferences.triggered.connect(self.show_preferences)
        a.advance.toggled.connect(lambda on: self.settings.set_value(keys.ADVANCE, on))
        a.edit_related.triggered.connect(self.edit_related)
        self.detail.editRelatedRequested.connect(self.edit_related)
        a.quit.triggered.connect(self.close)
        a.find.triggered.connect(self.filter_bar.focus)
        a.clear_search.triggered.connect(lambda: self.filter_bar.set_text(""))
        a.save_search.triggered.connect(self.search.save_search)
        a.copy_path.triggered.connect(self.copy_paths)
        a.open_source.triggered.connect(self.open_source)
        a.next_card.triggered.connect(lambda: self.current_view().move(1))
        a.previous_card.triggered.connect(lambda: self.current_view().move(-1))
        a.table_view.triggered.connect(lambda: self.set_view_mode("table"))
        a.grid_view.triggered.connect(lambda: self.set_view_mode("grid"))
        for name, action in a.theme_actions().items():
            action.triggered.connect(lambda _checked=False, n=name: self.set_theme(n))
        a.toggle_theme.triggered.connect(self.toggle_theme)
        a.shortcuts.triggered.connect(self.show_shortcuts)
        a.about.triggered.connect(self.show_about)
        a.problems.triggered.connect(self.show_problems)

        self.filter_bar.queryChanged.connect(self.apply_query)
        self.filter_bar.submitted.connect(self.search.remember_search)
        self.facets.termToggled.connect(self.search.toggle_term)
        self.facets.allClicked.connect(self.search.clear_status_terms)
        # Imports, the folder watcher and the edits talk through the window's wiring only.
        self.imports.progress.connect(self.importProgress)
        self.imports.finished.connect(self.importFinished)
        self.imports.cardsChanged.connect(self.edits.cards_changed)
        self.imports.libraryChanged.connect(self._library_changed)
        self.imports.rescanStarted.connect(self.folders.rescan_started)
        self.folders.rescanNeeded.connect(lambda: self.imports.rescan(quiet=True))
        self.folders.status.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.files.cardsChanged.connect(self.edits.cards_changed)
        self.model.reset.connect(self._after_reset)
        self.model.totalChanged.connect(lambda _n: self.update_status(recount=False))
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.table.doubleClicked.connect(lambda _i: self.open_source())
        self.grid.doubleClicked.connect(lambda _i: self.open_source())

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

    # -- selection and the detail panel -------------------------------------------------------------
    def current_view(self) -> CardTableView | CardGridView:
        return self.grid if self.stack.currentWidget() is self.grid else self.table

    def selected_ids(self) -> list[int]:
        """The cards of the selected rows, in row order; rows without a card (see ids_at) are left out."""
        rows = sorted({i.row() for i in self.table.selectionModel().selectedRows(Column.TITLE)})
        return self.model.ids_at(rows)

    def current_id(self) -> int | None:
        """The current row's card, or None when there is no current row or it holds no card now."""
        index = self.table.selectionModel().currentIndex()
        if not index.isValid():
            return None
        card = self.model.card_at(index.row())
        return card.id if card is not None else None

    def select_card(self, card_id: int) -> bool:
        """Make `card_id` the current card if it is in the list (loading pages as needed)."""
        row = self.model.row_of(card_id)
        if row is None:
            return False
        index = self.model.index(row, Column.TITLE)
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
        )
        self.current_view().scrollTo(index)
        return True

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        card = self.model.card_at(current.row()) if current.isValid() else None
        if card is not None:
            self._last_card_id = card.id
        self.detail.show_card(self.store.detail(card.id) if card is not None else None)

    def _after_reset(self) -> None:
        # A re-query drops the selection: keep the card the editor was on when it still matches, else
        # take the first one, so the detail panel never shows a card that is not in the list.
        if self._last_card_id is not None and self.select_card(self._last_card_id):
            pass
        elif (first := self.model.card_at(0)) is not None:
            self.select_card(first.id)
        else:
            self.detail.show_card(None)
        self.update_status(recount=False)  # a query changes what is shown, not the library

    def update_status(self, recount: bool = True) -> None:
        """Counts in the status bar and the write actions; `recount=False` reuses the last library totals."""
        if recount or self._totals is None:
            self._totals = self.store.totals()  # a scan of every card: 45 ms at 100k
        totals = self._totals
        self.actions.write.setText(f"&Write Changes ({totals.dirty:,})" if totals.dirty else "&Write Changes")
        self.actions.write.setEnabled(bool(totals.dirty) and not self.writer.running)
        self.actions.review.setEnabled(bool(totals.dirty) and not self.writer.running)
        self.actions.resolve_conflict.setEnabled(bool(totals.conflicts))
        counting = "+" if self.model.counting else ""
        self.shown_label.setText(f"{self.model.total:,}{counting} shown of {totals.cards:,} cards")
        extra = [f"{totals.dirty:,} changed"]
        if totals.problems:
            extra.append(f"{totals.problems:,} with problems")
        if totals.conflicts:
            extra.append(f"{totals.conflicts:,} conflicts")
        if totals.missing:
            extra.append(f"{totals.missing:,} missing")
        # Whole-library counts (the facets count the query): said, so the two never seem to disagree.
        self.changed_label.setText("Library: " + " · ".join(extra))

    # -- commands -----------------------------------------------------------------------------------
    def open_source(self) -> None:
        card_id = self.current_id()
        detail = self.store.detail(card_id) if card_id is not None else None
        if detail is not None:
            url = detail.data.get("sourceUrl")
            self.detail._open(url)

    def copy_paths(self) -> None:
        rows = self.store.rows_by_id(self.edits.target_ids())  # after Select All: every match, no paging
        QGuiApplication.clipboard().setText("\n".join(r.path for r in rows))

    def view_mode(self) -> str:
        return "grid" if self.stack.currentWidget() is self.grid else "table"

    def set_view_mode(self, mode: str) -> None:
        """Show the table ("table") or the grid ("grid"); the selection is shared."""
        grid = mode == "grid"
        self.stack.setCurrentWidget(self.grid if grid else self.table)
        (self.actions.grid_view if grid else self.actions.table_view).setChecked(True)
        current = self.table.selectionModel().currentIndex()
        if current.isValid():
            self.current_view().scrollTo(current)

    def set_theme(self, theme: str) -> None:
        self.settings.set_value(keys.THEME, theme)
        self.actions.theme_actions()[theme].setChecked(True)
        gui_app.apply_theme(theme)

    def toggle_theme(self) -> None:
        dark = self.palette().color(self.backgroundRole()).lightness() < 128
        self.set_theme("light" if dark else "dark")

    def shortcuts_text(self) -> str:
        return window_dialogs.shortcuts_text(self.actions)

    def show_shortcuts(self) -> None:
        window_dialogs.show_shortcuts(self)

    def show_history(self) -> None:
        window_dialogs.show_history(self)

    def show_preferences(self) -> None:
        window_dialogs.show_preferences(self)

    def edit_related(self) -> None:
        window_dialogs.edit_related(self)

    def about_text(self) -> str:
        """Help > About: the version, this window's library and the log file (what an IT person asks for)."""
        import curator

        return (
            f"Curator {curator.__version__}\nTriage article cards.\n\nLibrary: {self.store.path}\n"
            f"Log file (tracebacks of Curator's own errors): {errorlog.log_path()}"
        )

    def show_about(self) -> None:
        plain.message(self, QMessageBox.Icon.Information, "About Curator", self.about_text())

    def show_problems(self) -> ProblemsDialog:
        """Open (or raise) the problems report."""
        if self.problems_dialog is None:
            self.problems_dialog = ProblemsDialog(
                self.problems, self, checks=lambda: check_problems(self.store.problems())
            )
        else:
            self.problems_dialog.refresh()
        self.problems_dialog.show()
        self.problems_dialog.raise_()
        return self.problems_dialog

    def _problems_changed(self) -> None:
        count = len(self.problems)
        self.problems_button.setText(f"⚠ {count:,} problem{'s' if count != 1 else ''}")
        self.problems_button.setVisible(bool(count))

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
