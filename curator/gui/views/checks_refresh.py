"""Keeps the checks index (duplicates, copies, same story) current from a worker, never the GUI thread.

An import or an edit leaves the index stale on purpose (its speed targets stand; see
``core.store_checks``). The window calls :meth:`ChecksRefresher.schedule` after every import, rescan,
edit, undo or write; a burst of them (triage keys pressed in a row) starts one refresh after
:data:`DEBOUNCE_MS` of quiet. The refresh runs ``Store.refresh_checks`` on a worker's own connection and
reads the saved groups there too; ``updated`` brings their counts back to the GUI thread (the Duplicates
facet shows them). Calls while a refresh runs are remembered and start one more refresh after it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal, SignalInstance

from curator.core.store import Store
from curator.gui import errorlog, library_busy, library_tasks
from curator.gui.workers import Pool, TaskHandle, run_task

if TYPE_CHECKING:  # the checks (numpy, rapidfuzz) load on the worker's first refresh, not at start-up
    from curator.core.checks.index import Group

#: Quiet time after the last change before the index is brought up to date.
DEBOUNCE_MS = 1500


@dataclass(frozen=True)
class ChecksSummary:
    """The saved duplicate and copy groups after a refresh, and how many cards they hold."""

    groups: tuple[Group, ...]
    cards: int

    @classmethod
    def of(cls, groups: list[Group]) -> ChecksSummary:
        return cls(tuple(groups), len({card_id for g in groups for card_id in g.ids}))

    def text(self) -> str:
        """The facet's words: "12 groups · 31 cards" (never "1 groups")."""
        g, c = len(self.groups), self.cards
        return f"{g:,} group{'s' if g != 1 else ''} · {c:,} card{'s' if c != 1 else ''}"

    def facet_text(self) -> str:
        """The Duplicates facet's row: the counts, or "None found"."""
        return self.text() if self.groups else "None found"

    def group_of(self, card_id: int) -> Group | None:
        return next((g for g in self.groups if card_id in g.ids), None)


def refresh_and_read(store: Store) -> ChecksSummary:
    """Bring the index up to date and read its groups (on the calling thread's connection).

    On a worker it waits its turn for the write lock like an import does (a refresh saves the groups);
    inline (a SyncPool in tests) the GUI thread's connection keeps its short wait.
    """
    if threading.current_thread() is not threading.main_thread():
        library_busy.set_busy_timeout(store, library_busy.WORKER_BUSY_TIMEOUT_MS)
    store.refresh_checks()
    return ChecksSummary.of(store.duplicate_groups())


class ChecksRefresher(QObject):
    """Debounced refreshes of the checks index on a worker; `updated(ChecksSummary)` when one finished."""

    updated = Signal(object)  # ChecksSummary
    failed = Signal(str)  # a sentence: why the checks could not be brought up to date

    def __init__(self, store: Store, pool: Pool | None = None, parent: QObject | None = None, *,
                 debounce_ms: int = DEBOUNCE_MS) -> None:  # fmt: skip
        super().__init__(parent)
        self.store = store
        self.pool = pool
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(debounce_ms)
        self.timer.timeout.connect(self.refresh_now)
        self.handle: TaskHandle | None = None
        self._again = False
        #: The last refresh's groups (None until the first one finished).
        self.summary: ChecksSummary | None = None
        #: Refreshes finished since the window opened.
        self.refreshes = 0

    @property
    def running(self) -> bool:
        return self.handle is not None and self.handle.running

    @property
    def current(self) -> bool:
        """Whether the last refresh saw every change the window made (none waits, none runs): the index the
        Store holds is then the library's, and a lookup may skip the staleness scan."""
        return self.summary is not None and not self.timer.isActive() and not self.running and not self._again

    def follow(self, *changes: SignalInstance) -> None:
        """Schedule a refresh on each of these signals (cards changed). Connect them before anything that
        asks for suggestions on the same signals (the detail pane's re-show): the index is then marked
        behind (`current` False) before the pane asks again, so the card's answer is not the old index's."""
        for signal in changes:
            signal.connect(self.schedule)

    def schedule(self, *_args: object) -> None:
        """Cards changed: refresh once things are quiet for a moment (restarts the wait)."""
        self.timer.start()

    def refresh_now(self) -> None:
        """Start a refresh now (or right after the one running)."""
        self.timer.stop()
        if self.running:
            self._again = True
            return
        self._again = False
        self.handle = run_task(
            library_tasks.read_task(self.store, refresh_and_read),
            on_done=self._done, on_error=self._failed, pool=self.pool,
        )  # fmt: skip

    def _done(self, summary: ChecksSummary) -> None:
        self.summary = summary
        self.refreshes += 1
        self.updated.emit(summary)
        self._next()

    def _failed(self, exc: BaseException) -> None:
        if library_busy.is_busy(exc):
            self.schedule()  # another writer held the library for 30 s: try again after a pause
        else:
            errorlog.log_failure("checks refresh", exc)
            self.failed.emit(f"The duplicates and same-story checks could not be brought up to date: {exc}")
        self._next()

    def _next(self) -> None:
        if self._again:
            # Deferred: this callback runs while the finished task is still being settled.
            QTimer.singleShot(0, self.refresh_now)

    def when_ready(self, call: Callable[[ChecksSummary], None]) -> None:
        """Call `call` with the current summary now, or with the next one when none is known yet."""
        if self.summary is not None:
            call(self.summary)
            return

        def once(summary: ChecksSummary) -> None:
            self.updated.disconnect(once)
            call(summary)

        self.updated.connect(once)
