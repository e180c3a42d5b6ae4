"""A team library over a slow network never blocks the GUI thread (issue 10): the list's pages, the card in
hand, edits, undo and redo make their round trips off it (library_tasks.RoundTrips), while a QTimer keeps
ticking; each result arrives and is right; a key on a row still loading never edits another card; an edit
that fails is said and leaves nothing half-done.

The server is made slow for a test by a wrapper around one Store method that first runs ``pg_sleep`` on
the calling thread's own connection: a real round trip that takes that long. Were it made on the GUI
thread, the ticker would see the event loop stall for that long (and the wrapper records the thread).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import test_team_library as team_fixtures
from pgserver import PgCluster
from PySide6.QtCore import QItemSelectionModel, QTimer

from curator.core.store import Store
from curator.core.store_types import CardRow, LibraryError
from curator.gui import settings as keys
from curator.gui import workers
from curator.gui.images import ImageCache
from curator.gui.models.card_table import LOADING_TEXT, CardTableModel, Column, Role
from curator.gui.settings import Settings
from curator.gui.views.editing import STILL_LOADING
from curator.gui.views.live_updates import LOST_TEXT
from curator.gui.views.main_window import MainWindow

#: test_team_library's fixtures: a fresh library of 60 seed cards per test (made from one session template).
team_template = team_fixtures.team_template
team_db = team_fixtures.team_db

#: How long a slowed round trip takes, and the longest the event loop may stall meanwhile.
SLOW_S = 1.0
MAX_GAP_S = 0.6  # well under SLOW_S: a round trip on the GUI thread would stall it SLOW_S
PAGE = 10  # rows per page in these tests: the 60 seed cards make six pages


class Ticker:
    """A QTimer every 10 ms, keeping the longest gap between two ticks (the event loop's longest stall)."""

    def __init__(self) -> None:
        self.gaps: list[float] = []
        self._last = time.perf_counter()
        self.timer = QTimer()
        self.timer.timeout.connect(self._tick)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self._last)
        self._last = now

    def start(self) -> None:
        self.gaps.clear()
        self._last = time.perf_counter()
        self.timer.start(10)

    def stop(self) -> float:
        """Stop; the longest gap seen (the time since the last tick counts too)."""
        self._tick()
        self.timer.stop()
        return max(self.gaps)


class Slow:
    """Makes `store.<name>` a slow round trip (pg_sleep on the calling thread's connection first)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.threads: list[str] = []
        self._saved: dict[tuple[int, str], tuple[Any, Any]] = {}

    def make(self, name: str, seconds: float = SLOW_S, *, on: Any = None) -> None:
        """Slow `store.<name>` (or `on.<name>`: the backend, for what a module function asks it directly)."""
        owner = self.store if on is None else on
        real = getattr(owner, name)
        self._saved.setdefault((id(owner), name), (owner, real))
        backend = self.store.backend

        def slow(*args: Any, **kwargs: Any) -> Any:
            self.threads.append(threading.current_thread().name)
            backend._conn().execute("SELECT pg_sleep(%s)", (seconds,))  # a real round trip, that long
            return real(*args, **kwargs)

        setattr(owner, name, slow)

    def restore(self) -> None:
        for (_owner_id, name), (owner, real) in self._saved.items():
            setattr(owner, name, real)
        self._saved.clear()

    @property
    def on_gui_thread(self) -> bool:
        return threading.main_thread().name in self.threads


@pytest.fixture
def team(qtbot, pg_cluster: PgCluster, team_db: str, settings: Settings, tmp_path: Path) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    """A window on a team library as the app makes it: no pool given, so the round trips use their lanes."""
    workers.set_default_pool(None)
    settings.set_value(keys.ADVANCE, False)
    store = Store(pg_cluster.url(team_db))
    window = MainWindow(store, settings, images=ImageCache(tmp_path / "images"))
    window.files.ask_close = lambda _box: "keep"
    window.checks.timer.stop()  # the duplicate checks' refresh is not what these tests measure
    qtbot.addWidget(window)
    window.show()
    assert window.trips.remote
    window.model.page_size = PAGE
    window.apply_query("")
    qtbot.waitUntil(lambda: window.model.total == 60 and not window.model.counting, timeout=10000)
    qtbot.waitUntil(lambda: window.detail.card is not None, timeout=5000)
    yield window
    window.team_library.stop()
    window.trips.stop()


@pytest.fixture
def other(pg_cluster: PgCluster, team_db: str) -> Iterator[Store]:
    """Another connection to the same library: what the server holds, read past the window."""
    store = Store(pg_cluster.url(team_db))
    yield store
    store.close()


def _expected_row(other: Store, window: MainWindow, row: int) -> CardRow:
    key, descending = window.model.sort_key
    return other.rows(window.model.query, sort=[(key, descending)], offset=row, limit=1)[0]


def _current_row(window: MainWindow, row: int) -> None:
    flags = QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
    window.table.selectionModel().setCurrentIndex(window.model.index(row, Column.TITLE), flags)


# -- the list's pages -----------------------------------------------------------------------------------
def test_a_page_is_read_off_the_gui_thread_and_shown_when_it_arrives(qtbot, team: MainWindow, other: Store) -> None:  # type: ignore[no-untyped-def]
    model = team.model
    slow = Slow(team.store)
    slow.make("rows")
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda first, last, _roles=None: changed.append((first.row(), last.row())))
    ticker = Ticker()
    ticker.start()
    try:
        row = 45  # page 4: not held (only page 0 is)
        assert model.card_at(row) is None  # asked for, not waited for
        assert model.data(model.index(row, Column.TITLE)) == LOADING_TEXT
        assert model.data(model.index(row, Column.PROVIDER)) == ""
        assert model.data(model.index(row, Column.TITLE), Role.ROW) is None  # no card, not another one
        qtbot.waitUntil(lambda: model.card_at(row) is not None, timeout=5000)
        gap = ticker.stop()
    finally:
        slow.restore()
    assert gap < MAX_GAP_S, f"the event loop stalled {gap:.2f} s while a page was read"
    assert slow.threads and not slow.on_gui_thread
    assert model.card_at(row).id == _expected_row(other, team, row).id  # the right card on the right row
    assert (40, 49) in changed  # the views were told to repaint the page's rows
    assert model.data(model.index(row, Column.TITLE)) != LOADING_TEXT


def test_a_page_of_an_older_query_is_dropped(qapp, store: Store) -> None:  # type: ignore[no-untyped-def]
    """A reader that answers when told (as a slow server would): a page asked for under one sort that
    arrives after the list was re-sorted is never put on the new sort's rows."""
    held: list[tuple[Callable[[Any], Any], Callable[[Any], None]]] = []

    def reader(read: Callable[[Any], Any], done: Callable[[Any], None], _failed: Any, *, lane: str = "") -> None:
        held.append((read, done))

    def answer(i: int) -> None:
        read, done = held.pop(i)
        done(read(store))

    model = CardTableModel(store, page_size=PAGE, load=False, reader=reader)
    model.set_query(None, ("title", False))
    answer(0)
    assert model.total >= 3 * PAGE
    assert model.card_at(2 * PAGE + 1) is None  # page 2 asked for under title order
    model.set_sort("title", True)  # re-sorted meanwhile: the first page of the new order is asked for
    answer(1)  # the new order's first page arrives first…
    answer(0)  # …then the old order's page 2
    fresh = store.rows(None, sort=[("title", True)], offset=2 * PAGE, limit=PAGE)
    assert model.card_at(2 * PAGE + 1) is None  # not the old order's card: its page is asked for afresh
    answer(0)
    assert [model.card_at(2 * PAGE + i).id for i in range(PAGE)] == [r.id for r in fresh]


# -- keys on rows still loading --------------------------------------------------------------------------
def test_a_key_on_a_row_still_loading_edits_no_card(qtbot, team: MainWindow, other: Store, boxes: list) -> None:  # type: ignore[no-untyped-def]
    model = team.model
    slow = Slow(team.store)
    slow.make("rows")
    batches = len(other.history(1000))
    published = other.count("published:true")
    try:
        row = 33
        _current_row(team, row)  # the card in hand is on a page not read yet
        assert model.card_at(row) is None
        team.actions.publish.trigger()
        team.actions.quality_keys[3].trigger()
        assert team.statusBar().currentMessage() == STILL_LOADING
        assert not team.edits.busy  # nothing was queued: no card was edited, not even the card shown before
        qtbot.waitUntil(lambda: model.card_at(row) is not None, timeout=5000)
    finally:
        slow.restore()
    assert len(other.history(1000)) == batches and other.count("published:true") == published and not boxes
    target = model.card_at(row)
    assert target.id == _expected_row(other, team, row).id
    qtbot.waitUntil(lambda: team.detail.card is not None and team.detail.card.id == target.id, timeout=5000)
    team.actions.quality_keys[3].trigger()  # loaded now: the key edits this card, and this card only
    qtbot.waitUntil(lambda: not team.edits.busy, timeout=5000)
    assert other.rows_by_id([target.id])[0].quality == 30
    assert len(other.history(1000)) == batches + 1 and other.history(1)[0].cards == 1


# -- the card in hand ------------------------------------------------------------------------------------
def test_the_card_in_hand_loads_off_the_gui_thread_and_the_newest_wins(qtbot, team: MainWindow, other: Store) -> None:  # type: ignore[no-untyped-def]
    model, loader = team.model, team.card_loader
    first, second = model.card_at(3), model.card_at(4)
    shown = team.detail.card
    assert shown is not None and shown.id not in (first.id, second.id)
    loaded: list[Any] = []
    loader.loaded.connect(loaded.append)
    slow = Slow(team.store)
    slow.make("detail")
    ticker = Ticker()
    ticker.start()
    try:
        assert team.selection.select_card(first.id)
        assert team.selection.select_card(second.id)  # a newer selection before the first card arrived
        assert team.detail.card is not None and team.detail.card.id == shown.id  # still the old card…
        assert loader.loading
        qtbot.waitUntil(lambda: not team.detail.content.isEnabled(), timeout=2000)  # …greyed while it waits
        qtbot.waitUntil(lambda: not loader.loading, timeout=5000)
        gap = ticker.stop()
    finally:
        slow.restore()
    assert gap < MAX_GAP_S, f"the event loop stalled {gap:.2f} s while the card in hand was read"
    assert not slow.on_gui_thread and len(slow.threads) == 2
    assert loaded == [second.id]  # the first card's answer came first and was dropped
    assert team.detail.card.id == second.id and team.detail.title.text() == (second.title or "(no title)")
    assert team.detail.content.isEnabled()
    assert team.detail.card.version == other.detail(second.id).version


# -- edits, undo, redo -----------------------------------------------------------------------------------
def test_edits_run_off_the_gui_thread_in_the_order_they_were_made(qtbot, team: MainWindow, other: Store, boxes: list) -> None:  # type: ignore[no-untyped-def]
    model, edits = team.model, team.edits
    card = team.detail.card
    assert card is not None
    row = model.row_of(card.id)
    steps = edits.history.stack.count()
    slow = Slow(team.store)
    slow.make("set_fields")
    ticker = Ticker()
    ticker.start()
    try:
        team.actions.quality_keys[2].trigger()
        team.actions.quality_keys[7].trigger()  # pressed while the first edit is on its way: goes after it
        assert edits.busy and edits.history.stack.count() == steps  # nothing pushed before the library said so
        assert model.card_at(row).quality == card.quality  # the row changes when the library confirms
        qtbot.waitUntil(lambda: not edits.busy, timeout=10000)
        qtbot.waitUntil(lambda: model.card_at(row).quality == 70, timeout=5000)
        gap = ticker.stop()
    finally:
        slow.restore()
    assert gap < MAX_GAP_S, f"the event loop stalled {gap:.2f} s while edits were made"
    assert not slow.on_gui_thread and len(slow.threads) == 2
    assert not boxes  # the second edit carried the version the first one left: no conflict with itself
    assert other.detail(card.id).quality == 70  # the second key's value: they reached the library in order
    labels = [b.label for b in other.history(2)]
    assert labels == ["Set quality to 70", "Set quality to 20"]
    assert edits.history.stack.count() == steps + 2
    qtbot.waitUntil(lambda: team.detail.card.quality == 70, timeout=5000)

    slow.make("undo")
    ticker.start()
    try:
        team.actions.undo.trigger()
        assert edits.history.stack.index() == steps + 2  # moves once the library undid it
        qtbot.waitUntil(lambda: not edits.busy, timeout=5000)
        gap = ticker.stop()
    finally:
        slow.restore()
    assert gap < MAX_GAP_S, f"the event loop stalled {gap:.2f} s during an undo"
    assert not slow.on_gui_thread
    assert edits.history.stack.index() == steps + 1
    assert other.detail(card.id).quality == 20
    qtbot.waitUntil(lambda: model.card_at(row).quality == 20 and team.detail.card.quality == 20, timeout=5000)
    assert team.statusBar().currentMessage() == "Undone: Set quality to 70"
    team.actions.redo.trigger()
    qtbot.waitUntil(lambda: not edits.busy and other.detail(card.id).quality == 70, timeout=5000)
    assert edits.history.stack.index() == steps + 2


def test_another_editors_change_meanwhile_is_the_conflict_message(qtbot, team: MainWindow, other: Store, boxes: list) -> None:  # type: ignore[no-untyped-def]
    card = team.detail.card
    assert card is not None
    other.set_fields([card.id], {"quality": 11}, label="Ben's quality")  # the pane still shows the old version
    team.actions.quality_keys[5].trigger()
    qtbot.waitUntil(lambda: bool(boxes) and not team.edits.busy, timeout=5000)
    assert boxes[-1].windowTitle() == "Changed by another editor" and "quality is now 11" in boxes[-1].text()
    assert other.detail(card.id).quality == 11  # nothing of the refused edit
    qtbot.waitUntil(lambda: team.detail.card.quality == 11, timeout=5000)  # the fresh values shown


def test_an_edit_that_fails_is_said_and_leaves_nothing_half_done(  # type: ignore[no-untyped-def]
    qtbot, team: MainWindow, other: Store, boxes: list, pg_cluster: PgCluster, team_db: str
) -> None:
    """Heat +10 on two cards of different heat is two Store calls in one transaction: the connection
    dies after the first one, so neither may stay; the editor is told, the banner says the connection is
    lost, and the undo stack is as it was."""
    model, edits = team.model, team.edits
    ids = [model.card_at(0).id, model.card_at(1).id]
    other.set_fields([ids[0]], {"heat": 20}, label="setup")
    other.set_fields([ids[1]], {"heat": 50}, label="setup")
    team.selection.select_card(ids[0])
    chooser = team.table.selectionModel()
    chooser.select(model.index(1, Column.TITLE), chooser.SelectionFlag.Select | chooser.SelectionFlag.Rows)
    qtbot.waitUntil(lambda: team.detail.card is not None and team.detail.card.id == ids[0], timeout=5000)
    assert sorted(team.edits.target_ids()) == sorted(ids)
    batches, steps = len(other.history(1000)), edits.history.stack.count()
    real = team.store.set_fields
    calls: list[str] = []

    def dying(*args: Any, **kwargs: Any) -> Any:
        calls.append(threading.current_thread().name)
        if len(calls) == 2:  # the second call of the group: the server drops this connection first
            pid = team.store.backend._conn().execute("SELECT pg_backend_pid()").fetchone()[0]
            pg_cluster.sql(f"SELECT pg_terminate_backend({pid})", team_db)
        return real(*args, **kwargs)

    team.store.set_fields = dying  # type: ignore[method-assign]
    try:
        team.actions.heat_up.trigger()
        qtbot.waitUntil(lambda: bool(boxes) and not edits.busy, timeout=10000)
    finally:
        team.store.set_fields = real  # type: ignore[method-assign]
    assert len(calls) == 2 and threading.main_thread().name not in calls
    text = boxes[-1].text()
    assert "Heat +10 (2 cards) was not applied; nothing changed" in text, text
    assert [r.heat for r in other.rows_by_id(ids)] == [20, 50]  # neither card's heat moved
    assert len(other.history(1000)) == batches and edits.history.stack.count() == steps
    qtbot.waitUntil(lambda: team.team_library.banner.isVisible(), timeout=5000)
    assert team.team_library.banner.text.text().startswith(LOST_TEXT.split(" —")[0])
    # The server is there (only the connection was dropped): the probe brings the window back.
    team.team_library.probe()
    qtbot.waitUntil(lambda: not team.team_library.connection_lost, timeout=10000)
    team.actions.heat_up.trigger()  # the lanes opened fresh connections: the same edit goes through
    qtbot.waitUntil(lambda: not edits.busy and [r.heat for r in other.rows_by_id(ids)] == [30, 60], timeout=10000)


def test_a_bulk_edit_asks_without_blocking_and_applies_to_every_match(qtbot, team: MainWindow, other: Store) -> None:  # type: ignore[no-untyped-def]
    """Select All, then a quality key: the bulk confirmation's flagged cards are read off the GUI thread, the
    dialog opens when they arrive, and the one edit reaches every matching card, loaded or not."""
    edits = team.edits
    asked: list[Any] = []
    edits.confirm = lambda dialog: asked.append(dialog) or True
    edits.select_all_matching()
    qtbot.waitUntil(lambda: team.model.all_ids() is not None, timeout=5000)  # asked for by Select All
    slow = Slow(team.store)
    slow.make("flagged_cards")
    ticker = Ticker()
    ticker.start()
    try:
        team.actions.quality_keys[4].trigger()
        assert not asked  # the dialog waits for the flagged cards
        qtbot.waitUntil(lambda: bool(asked), timeout=5000)
        qtbot.waitUntil(lambda: not edits.busy, timeout=10000)
        gap = ticker.stop()
    finally:
        slow.restore()
    assert gap < MAX_GAP_S, f"the event loop stalled {gap:.2f} s before the bulk confirmation"
    assert not slow.on_gui_thread
    assert asked[0].count == 60
    assert other.count("quality:40") == 60 and other.history(1)[0].label == "Set quality to 40 (60 cards)"


def test_a_requery_off_the_gui_thread_keeps_the_card_in_hand_and_the_selection(qtbot, team: MainWindow) -> None:  # type: ignore[no-untyped-def]
    """Cards came or went (another editor): the list is re-queried, its first page read on the pages lane,
    and once it is shown the card in hand and the other selected cards are selected again."""
    model = team.model
    hand, other_card = model.card_at(5), model.card_at(7)
    assert team.selection.select_card(hand.id)
    chooser = team.table.selectionModel()
    chooser.select(model.index(7, Column.TITLE), chooser.SelectionFlag.Select | chooser.SelectionFlag.Rows)
    resets: list[int] = []
    model.reset.connect(lambda: resets.append(1))
    slow = Slow(team.store)
    slow.make("rows")
    try:
        team.team_library.requery()
        assert not resets  # shown when its first page arrives, not now
        qtbot.waitUntil(lambda: bool(resets), timeout=5000)
    finally:
        slow.restore()
    assert not slow.on_gui_thread
    assert team.selection.current_id() == hand.id
    assert sorted(team.selection.selected_ids()) == sorted([hand.id, other_card.id])


def test_after_a_lost_connection_the_pane_shows_the_card_in_hand(qtbot, team: MainWindow) -> None:  # type: ignore[no-untyped-def]
    """The card in hand's read failed (the server went away) after the editor moved on: the banner says so,
    and once the connection is back the pane shows the card the list holds, not the one it showed."""
    model, library = team.model, team.team_library
    before, wanted = team.detail.card, model.card_at(9)
    assert before is not None and before.id != wanted.id
    real = team.store.detail

    def lost(card_id: int) -> Any:
        raise LibraryError(f"{team.store.location}: the connection to the server was lost (test)")

    team.store.detail = lost  # type: ignore[method-assign]
    try:
        assert team.selection.select_card(wanted.id)
        qtbot.waitUntil(lambda: library.connection_lost and library.banner.isVisible(), timeout=5000)
        assert team.detail.card.id == before.id and not team.detail.content.isEnabled()
    finally:
        team.store.detail = real  # type: ignore[method-assign]
    library.back()  # the probe's answer: the server is there again
    qtbot.waitUntil(lambda: team.detail.card.id == wanted.id, timeout=5000)
    qtbot.wait(300)  # the refresh of the pane's old card arrives too: it must not take the pane back
    assert team.detail.card.id == wanted.id == team.selection.current_id()
    assert team.detail.content.isEnabled()
