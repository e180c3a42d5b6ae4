"""Library reads for the window's worker threads: each on its thread's own connection, without a memory map;
RoundTrips: where the reads and edits of a user action run (off the GUI thread on a team library)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QRunnable, Signal

from curator.core.backend import team
from curator.core.store import Store
from curator.core.store_types import LibraryError
from curator.gui import errorlog, library_busy
from curator.gui.workers import (
    CancelledFn,
    Lane,
    Pool,
    ProgressFn,
    SyncPool,
    TaskFn,
    TaskHandle,
    default_pool,
    run_task,
)

T = TypeVar("T")
#: How long an edit on the edits lane waits for another writer's lock before it counts as busy.
EDIT_LANE_BUSY_TIMEOUT_MS = 2000


def unmap(store: Store) -> None:
    """Read this thread's library connection through the page cache instead of a memory map.

    SQLite's memory map (the store asks for 256 MB) makes every page a scan touches count as the
    app's resident memory: at 100k cards a facet count or the status totals alone added ~190 MB to
    the window's RSS. Read through the OS page cache, the same pages cost the process nothing.
    """
    store.lean_reads()


def read_task(store: Store, read: Callable[[Store], T]) -> TaskFn:
    """A run_task function calling `read(store)` on the worker's own (unmapped) connection, closed after.

    Inline (SyncPool, tests) it runs on the calling thread's connection, which stays open.
    """
    main = threading.main_thread()

    def work(_progress: ProgressFn, _cancelled: CancelledFn) -> Any:
        own = threading.current_thread() is not main
        try:
            if own:
                unmap(store)
            return read(store)
        finally:
            if own:
                store.close()  # the worker's own connection; peewee opens one per thread

    return work


def card_folders(store: Store) -> list[str]:
    """The existing folders holding the library's cards, sorted (what the folder watcher watches)."""
    return store.card_folders()


class RoundTrips(QObject):
    """Where the window's reads and edits made on a user action run: never a round trip on the GUI thread.

    On a team library (PostgreSQL) every call is a round trip to a server that may be slow or gone, so
    they run on lanes of their own (workers.Lane: one thread each, keeping its connection): `pages` for
    the list's pages, `cards` for the card in hand, refreshed rows and totals, `edits` for edits, undo and
    redo, one after another in the order they were made. The callbacks run on the GUI thread.

    On an SQLite library the same calls run inline, on the GUI thread's connection, with the callbacks
    called before the call returns: a local file is not a round trip (a page is ~1 ms), and inline the
    list never shows a row as loading nor the detail pane a card late. The code path is one (every caller
    takes its result in a callback); only where it runs differs. A window given a pool (tests' SyncPool),
    or run while workers.set_default_pool set one, runs them on that pool instead, so a test decides.
    """

    #: A read or an edit could not reach the library (a team library's lost connection): the sentence.
    lost = Signal(str)

    def __init__(self, store: Store, pool: Pool | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        pool = pool if pool is not None else default_pool()  # tests set one for every task: it decides
        #: True on a team library: calls leave the GUI thread (and results arrive later).
        self.remote = team.is_team(store) and pool is None
        self._lanes: list[Lane] = []
        if not team.is_team(store):
            self.pages = self.cards = self.edit_lane = SyncPool()  # type: Pool
        elif pool is not None:
            self.pages = self.cards = self.edit_lane = pool
        else:
            self.pages, self.cards, self.edit_lane = (self._lane(n) for n in ("pages", "cards", "edits"))
            app = QCoreApplication.instance()
            if app is not None:
                app.aboutToQuit.connect(self.stop)
            self.destroyed.connect(self.stop)

    def _lane(self, name: str) -> Lane:
        store = self.store
        lane = Lane(name, finish=store.close)  # the lane's own connection, closed on its own thread
        self._lanes.append(lane)
        return lane

    def stop(self) -> None:
        """End the lanes (after the tasks already queued); each closes its connection."""
        for lane in self._lanes:
            lane.stop()

    def drop_connections(self) -> None:
        """Close each lane's connection before its next task (the server went away: a connection that was
        open then is dead, and its next statement would fail once before the lane opened a fresh one)."""
        for lane in self._lanes:
            if not lane.stopped:
                lane.start(_Call(self.store.close))

    def reporter(self, what: str) -> Callable[[BaseException], None]:
        """A `failed` callback: a library's failure is `lost(sentence)`, anything else a bug logged as `what`."""

        def failed(err: BaseException) -> None:
            if isinstance(err, LibraryError):
                self.lost.emit(str(err))
            else:
                errorlog.log_failure(what, err)

        return failed

    def read(
        self, read: Callable[[Store], T], done: Callable[[T], None],
        failed: Callable[[BaseException], None], *, lane: str = "cards",
    ) -> TaskHandle:  # fmt: skip
        """`read(store)` on the `lane` ("pages" or "cards"); `done(result)` or `failed(error)` on the GUI thread."""
        return self._run(read, done, failed, self.pages if lane == "pages" else self.cards)

    def edit(
        self, work: Callable[[Store], T], done: Callable[[T], None], failed: Callable[[BaseException], None]
    ) -> TaskHandle:
        """`work(store)` (an edit: one transaction) on the edits lane, after the edits started before it."""

        def edit(store: Store) -> T:
            # Off the GUI thread an edit may wait longer for another writer's lock (the window goes on, and
            # over a slow network a round trip alone takes a good part of the GUI thread's 200 ms); inline
            # it waits no longer than the GUI thread may. Then the controller's retries (library_busy).
            off = threading.current_thread() is not threading.main_thread()
            library_busy.set_busy_timeout(store, EDIT_LANE_BUSY_TIMEOUT_MS if off else library_busy.GUI_BUSY_TIMEOUT_MS)
            return work(store)

        return self._run(edit, done, failed, self.edit_lane)

    def _run(
        self, fn: Callable[[Store], T], done: Callable[[T], None], failed: Callable[[BaseException], None],
        pool: Pool,
    ) -> TaskHandle:  # fmt: skip
        store = self.store
        main = threading.main_thread()

        def work(_progress: ProgressFn, _cancelled: CancelledFn) -> Any:
            try:
                return fn(store)
            except Exception as err:
                lost = store.library_error(err) is not None and not library_busy.is_busy(err)
                if lost and threading.current_thread() is not main:
                    store.close()  # the connection may be dead: this thread's next task opens a fresh one
                raise

        def arrived(result: T) -> None:
            if shiboken6.isValid(self):  # else the window went away while the call was on its way
                done(result)

        def refused(err: BaseException) -> None:
            if shiboken6.isValid(self):
                failed(err)

        return run_task(work, on_done=arrived, on_error=refused, pool=pool)


class _Call(QRunnable):
    """A lane task that is not a run_task (no result to hand back): closing the lane's connection."""

    def __init__(self, fn: Callable[[], object]) -> None:
        super().__init__()
        self.fn = fn
        self.setAutoDelete(False)

    def run(self) -> None:
        try:
            self.fn()
        except Exception as exc:  # noqa: BLE001 - a lane's thread must go on with its next task
            errorlog.log_failure("Closing a team library connection", exc)
