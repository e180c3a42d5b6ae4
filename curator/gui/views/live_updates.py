"""A team library in the window: a read-only role, the server connection's state, other editors' changes.

Why here and not in the window: on an SQLite library none of this exists (one editor, a file that does not
go away), so the window builds one :class:`TeamLibrary` and it does nothing there but answer "edits
allowed". On a PostgreSQL library it

- asks the server once, on a worker, whether this role may edit; a read-only role gets a read-only GUI:
  every edit action disabled (``Actions.edit_group``), the detail editor greyed, and the status bar says
  :data:`READ_ONLY_TEXT`;
- follows the connection: the live feed's listener (``core.backend.team.LiveFeed``, a thread of its own)
  says when the server went away, and so does any read of the window's that fails; the window then shows
  :data:`LOST_TEXT` with a Retry button, refuses edits with a sentence (``EditController.refusal``), and
  probes the server every :data:`PROBE_MS` until it answers again;
- refreshes what another editor changed: the listener's ids cross to the GUI thread by a queued Qt signal,
  a worker re-reads those rows, the card in hand, the library totals and (when cards may have come or
  gone) the query's count, and the GUI thread puts them in place: the table's rows (``apply_rows``: no
  re-query, so the selection and the scroll position stay), the detail pane (``keep_scroll``; the editor
  keeps a title being typed, and the related-links dialog is a window of its own, untouched), the status
  bar and the facet counts (recounted on a worker). Only when the number of matching cards changed is the
  list re-queried, keeping the card in hand and the selected cards that are still in it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QItemSelectionModel, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QFrame, QHBoxLayout, QPushButton, QWidget

from curator.core.backend import team
from curator.core.store_types import CardDetail, CardRow, LibraryError, Totals
from curator.gui import errorlog, library_tasks, plain
from curator.gui.models.card_table import Column
from curator.gui.views.edits_off_keys import EditKeysOff
from curator.gui.workers import run_task

if TYPE_CHECKING:
    from curator.core.backend.team import Changes
    from curator.gui.views.main_window import MainWindow

READ_ONLY_TEXT = "Read-only: your role cannot change this library"
LOST_TEXT = "Connection to the team library lost — retrying…"
LOST_REFUSAL = (
    "The connection to the team library is lost; Curator is reconnecting. Try again once it is back."
)
#: How often a lost connection is probed (one short query on a worker) besides the listener's own back-off.
PROBE_MS = 5000


class ConnectionBanner(QFrame):
    """The strip above the list while the server is away: what happened, and Retry."""

    retryClicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("teamBanner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        # The palette's highlight would read as a selection: a warm, theme-neutral tint instead.
        self.setStyleSheet(
            "#teamBanner { background: rgba(230, 160, 40, 0.22); border: 1px solid rgba(230, 160, 40, 0.7);"
            " border-radius: 4px; }"
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 4, 6, 4)
        self.text = plain.label(LOST_TEXT, wrap=True)
        self.retry = QPushButton("Retry")
        self.retry.clicked.connect(self.retryClicked)
        layout.addWidget(self.text, 1)
        layout.addWidget(self.retry)
        self.hide()


@dataclass(frozen=True)
class Refresh:
    """What a worker re-read after other editors' changes (see TeamLibrary._refresh)."""

    rows: list[CardRow]
    asked: list[int]  # the held ids it re-read (those missing from `rows` were deleted)
    detail: CardDetail | None
    detail_id: int | None
    totals: Totals
    count: int | None  # the query's matches, when cards may have come or gone
    query: str | None


class TeamLibrary(QObject):
    """One window's team-library state (see the module docstring); `refreshed(ids)` after each refresh."""

    changesArrived = Signal(object)  # emitted on the listener's thread; queued to the GUI thread
    stateArrived = Signal(str)  # likewise: "connected" / "disconnected"
    refreshed = Signal(list)  # ids whose rows and detail were refreshed (tests wait on it)
    stateChanged = Signal()  # read-only or connection state changed

    def __init__(
        self, window: MainWindow, *, start: bool = True, heartbeat: float = 10.0,
        backoff: tuple[float, float] = (0.5, 30.0),
    ) -> None:  # fmt: skip
        super().__init__(window)
        self.window = window
        self.store = window.store
        self.is_team = team.is_team(self.store)
        #: Why this role may not edit (None: it may, or not known yet).
        self.read_only_reason: str | None = None
        self.connection_lost = False
        self._pending: set[int] = set()
        self._recount = False
        self._refreshing = False
        self.feed: team.LiveFeed | None = None
        self.banner = ConnectionBanner()
        self.banner.retryClicked.connect(self.retry)
        self.read_only_label = plain.label(READ_ONLY_TEXT)
        self.read_only_label.setObjectName("readOnlyLabel")
        self.read_only_label.hide()
        self._probe_timer = QTimer(self)
        self._probe_timer.setInterval(PROBE_MS)
        self._probe_timer.timeout.connect(self.probe)
        if not self.is_team:
            return
        central = window.centralWidget()
        layout = central.layout() if central is not None else None
        if layout is not None and hasattr(layout, "insertWidget"):
            layout.insertWidget(0, self.banner)
        window.statusBar().addPermanentWidget(self.read_only_label)
        window.edits.refusal = self.refusal
        # A triage key while edits are off is said in the status bar, not handed to type-to-search.
        self.keys_off = EditKeysOff(window.actions, [window.table, window.grid], self.refusal, window.statusBar(),
                                    self)  # fmt: skip
        window.model.readFailed.connect(self.read_failed)
        self.changesArrived.connect(self._changes, Qt.ConnectionType.QueuedConnection)
        self.stateArrived.connect(self._state, Qt.ConnectionType.QueuedConnection)
        self._feed_options: dict[str, Any] = {"heartbeat": heartbeat, "backoff": backoff}
        self._follow = False  # start() asked for the feed (it starts once its snapshot is here)
        # The feed catches up from the server's snapshot, taken before the window's first page is read, so
        # a change made meanwhile is not missed: read on the pages lane (a round trip, never on the GUI
        # thread), where the first page is read after it (the window builds this in _connect, before
        # _restore asks for the page); the feed is made when it arrives.
        trips = window.trips
        trips.read(team.snapshot, self._feed_from, self._no_snapshot, lane="pages")
        if start:
            self.start()

    def _feed_from(self, since: str | None) -> None:
        """The snapshot arrived (None: it could not be read): make the feed, and start it if asked to."""
        if not shiboken6.isValid(self) or self.feed is not None:
            return
        self.feed = feed = team.live_feed(
            self.store, self.changesArrived.emit, self.stateArrived.emit, since=since, **self._feed_options
        )  # fmt: skip
        app = QApplication.instance()
        if app is not None and feed is not None:
            app.aboutToQuit.connect(feed.stop)
        self.window.destroyed.connect(lambda *_a: feed.stop() if feed is not None else None)
        if self._follow and feed is not None:
            feed.start()

    def _no_snapshot(self, err: BaseException) -> None:
        if isinstance(err, LibraryError):
            self.read_failed(str(err))
        else:
            errorlog.log_failure("Reading the team library's snapshot", err)
        self._feed_from(None)  # the feed catches up from where its own connection starts

    def start(self) -> None:
        """Ask whether this role may edit (on a worker) and start following other editors' changes (the
        feed starts once its snapshot arrived, see __init__)."""
        if not self.is_team:
            return
        self.check_access()
        self._follow = True
        if self.feed is not None and self.feed.listener is None:
            self.feed.start()

    def stop(self) -> None:
        self._follow = False
        if self.feed is not None:
            self.feed.stop()
        self._probe_timer.stop()

    # -- read-only roles and refused edits ----------------------------------------------------------
    @property
    def edits_allowed(self) -> bool:
        return self.read_only_reason is None and not self.connection_lost

    def refusal(self) -> str | None:
        """Why an edit may not be made now (EditController asks before every edit), or None."""
        if self.read_only_reason is not None:
            return f"{READ_ONLY_TEXT}. {self.read_only_reason}."
        if self.connection_lost:
            return LOST_REFUSAL
        return None

    def check_access(self) -> None:
        """Whether this role may edit, asked on a worker (one round trip)."""
        work = library_tasks.read_task(self.store, team.access)

        def done(access: team.Access) -> None:
            if shiboken6.isValid(self):
                self.read_only_reason = None if access.can_write else access.reason
                self._apply()

        run_task(
            work, on_done=done, on_error=self._failed("Checking the role's rights"), pool=self.window.pool
        )

    def _apply(self) -> None:
        allowed = self.edits_allowed
        w = self.window
        w.actions.set_edits_allowed(allowed)
        w.detail.editor.setEnabled(allowed)
        w.detail.edit_related.setEnabled(allowed)
        w.detail.problems.setEnabled(allowed)  # its Fix buttons are edits
        self.read_only_label.setVisible(self.read_only_reason is not None)
        self.read_only_label.setToolTip(plain.tip(self.read_only_reason or "") or "")
        self.banner.setVisible(self.connection_lost)
        w.model.offline = self.connection_lost
        if self.connection_lost:
            self._probe_timer.start()
        else:
            self._probe_timer.stop()
        self.stateChanged.emit()

    # -- the connection -----------------------------------------------------------------------------
    def _state(self, state: str) -> None:
        if state == "disconnected":
            self.lost()
        elif state == "connected" and self.connection_lost:
            self.back()

    def lost(self) -> None:
        """The server went away: say so, refuse edits, and drop this thread's dead connection."""
        if self.connection_lost:
            return
        self.connection_lost = True
        self.store.close()  # the GUI thread's next read opens a fresh connection instead of a dead one
        self.window.trips.drop_connections()  # and so do the window's lanes (library_tasks.RoundTrips)
        self._apply()

    def read_failed(self, message: str) -> None:
        """A read of the window's failed (the model's page, the card in hand): the connection is lost."""
        self.window.statusBar().showMessage(message, 8000)
        self.lost()

    def back(self) -> None:
        """The server answers again: edits allowed, and everything shown is read afresh (the undo steps too,
        when their read at open failed)."""
        self.connection_lost = False
        self.store.close()
        self._apply()
        self._pending.update(self.window.model.loaded_ids())
        if self.window.detail.card is not None:
            self._pending.add(self.window.detail.card.id)
        self._recount = True
        self._schedule()
        self.window.card_loader.reload()  # the card in hand may be another than the pane's (its read failed)
        history = self.window.edits.history
        if history.unread:  # the undo steps' read at open met the lost connection: the stack is empty
            history.rebuild_through(self.window.trips)

    def retry(self) -> None:
        """The banner's Retry: probe the server now and restart the listener without waiting out its back-off."""
        self.banner.text.setText("Connection to the team library lost — trying again now…")
        if self.feed is not None:
            feed = self.feed
            run_task(
                lambda _p, _c: feed.retry(), on_error=self._failed("Reconnecting"), pool=self.window.pool
            )
        self.probe()

    def probe(self) -> None:
        """One short query on a worker: an answer means the connection is back."""
        work = library_tasks.read_task(self.store, lambda store: store.totals())

        def done(totals: Totals) -> None:
            if shiboken6.isValid(self) and self.connection_lost:
                self.banner.text.setText(LOST_TEXT)
                self._show_totals(totals)
                self.back()

        def failed(err: BaseException) -> None:
            if shiboken6.isValid(self):
                self.banner.text.setText(LOST_TEXT)
                if self.store.library_error(err) is None and not isinstance(err, LibraryError):
                    errorlog.log_failure("Probing the team library", err)

        run_task(work, on_done=done, on_error=failed, pool=self.window.pool)

    def _failed(self, what: str) -> Callable[[BaseException], None]:
        def failed(err: BaseException) -> None:
            if not shiboken6.isValid(self):
                return
            if isinstance(err, LibraryError) or self.store.library_error(err) is not None:
                self.read_failed(f"{what}: {err}")
            else:
                errorlog.log_failure(what, err)

        return failed

    # -- other editors' changes ---------------------------------------------------------------------
    def _changes(self, changes: Changes) -> None:
        self._pending.update(changes.cards)
        if changes.caught_up:
            self._recount = True
        self._schedule()

    def _schedule(self) -> None:
        """Re-read the pending ids on a worker (one refresh at a time; ids arriving meanwhile wait for it)."""
        if self._refreshing or not (self._pending or self._recount) or self.connection_lost:
            return
        ids, self._pending = self._pending, set()
        model = self.window.model
        held = model.held(ids)
        card = self.window.detail.card
        detail_id = card.id if card is not None and card.id in ids else None
        # Ids beyond the held pages may be cards that came or went (another editor's import or edit moving
        # cards in or out of the query): then the query is recounted too. A held row is refreshed in place.
        recount = self._recount or len(held) < len(ids)
        self._recount = False
        query = model.query

        def read(store: Any) -> Refresh:
            return Refresh(
                rows=store.rows_by_id(held), asked=held,
                detail=store.detail(detail_id) if detail_id is not None else None, detail_id=detail_id,
                totals=store.totals(), count=store.count(query) if recount else None, query=query,
            )  # fmt: skip

        self._refreshing = True

        def done(fresh: Refresh) -> None:
            if not shiboken6.isValid(self):
                return
            self._refreshing = False
            self._put(fresh, ids)
            self._schedule()

        def failed(err: BaseException) -> None:
            if not shiboken6.isValid(self):
                return
            self._refreshing = False
            self._pending |= ids  # read again once the connection is back
            self._failed("Refreshing other editors' changes")(err)

        run_task(
            library_tasks.read_task(self.store, read), on_done=done, on_error=failed, pool=self.window.pool
        )

    def _put(self, fresh: Refresh, ids: Iterable[int]) -> None:
        """The GUI thread's part of a refresh: no library round trip except a re-query the count calls for."""
        w = self.window
        model = w.model
        model.apply_rows(fresh.rows)
        gone = set(fresh.asked) - {r.id for r in fresh.rows}
        card = w.detail.card
        if card is not None and fresh.detail_id == card.id:
            if fresh.detail is not None:
                w.card_loader.put(fresh.detail)  # unless another card was asked for since (the loader's)
            else:
                gone.add(card.id)
        self._show_totals(fresh.totals)
        w.refresh_facets()  # on a worker (SearchController.refresh_facets)
        same_query = fresh.query == model.query
        if gone or (
            same_query and fresh.count is not None and not model.counting and fresh.count != model.total
        ):
            self.requery()
        self.refreshed.emit(sorted(ids))

    def _show_totals(self, totals: Totals) -> None:
        w = self.window
        w._totals = totals  # the window's cached library totals (update_status(recount=False) shows them)
        w.update_status(recount=False)

    def requery(self) -> None:
        """Re-run the query (cards came or went), keeping the card in hand and the selection where possible."""
        w = self.window
        selection = w.selection
        current = selection.current_id()
        selected = [i for i in selection.selected_ids() if i != current]

        def restore() -> None:  # once the re-query is shown (its first page may arrive later: a worker's)
            w.model.reset.disconnect(restore)
            if current is not None and selection.current_id() != current:
                selection.select_card(current)
            chooser = w.table.selectionModel()
            flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
            for card_id in selected:
                row = w.model.row_of(card_id)
                if row is not None:
                    chooser.select(w.model.index(row, Column.TITLE), flags)

        w.model.reset.connect(restore)
        try:
            w.model.reload()  # the card in hand is re-selected by CardSelection after the reset
        except LibraryError as err:
            w.model.reset.disconnect(restore)
            self.read_failed(str(err))
