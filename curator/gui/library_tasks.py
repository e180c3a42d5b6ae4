"""Library reads for the window's worker threads: each on its thread's own connection, without a memory map."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from curator.core.store import Store
from curator.gui.workers import CancelledFn, ProgressFn, TaskFn

T = TypeVar("T")


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
