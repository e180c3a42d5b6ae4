"""The facet sidebar's counts on a local library run on a lane of their own (SearchController.refresh_facets).

Through the real window (no pool given: tasks go where the app sends them) over the seeded library: the
counts of the applied query arrive while every thread of the shared pool is busy (the query's count, the
card in hand's Same story and the completions share it; with two cores it has two threads), a count
superseded by a newer query never reaches the sidebar, and the lane's thread and connection end with the
window's app (workers.settle_tasks).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QThreadPool

from curator.core.store import Store
from curator.core.store_types import Facets
from curator.gui import workers
from curator.gui.images import ImageCache
from curator.gui.settings import Settings
from curator.gui.views.main_window import MainWindow


@pytest.fixture
def shown(qtbot, store: Store, settings: Settings, images: ImageCache) -> Iterator[tuple[MainWindow, list]]:  # type: ignore[no-untyped-def]
    """A shown window over `store` with its tasks on the app's own threads, and the facets it shows."""
    assert workers.default_pool() is None
    window = MainWindow(store, settings, images=images)
    qtbot.addWidget(window)
    window.files.ask_close = lambda _box: "keep"
    seen: list[tuple[str, Facets]] = []
    original = window.facets.show_facets

    def show_facets(facets: Facets, text: str) -> None:
        original(facets, text)
        seen.append((text, facets))

    window.facets.show_facets = show_facets  # type: ignore[method-assign]
    window.show()
    qtbot.waitUntil(lambda: bool(seen), timeout=10_000)
    QThreadPool.globalInstance().waitForDone(10_000)
    yield window, seen
    window.close()
    QThreadPool.globalInstance().waitForDone(10_000)


def test_facets_arrive_while_every_pool_thread_is_busy(qtbot, shown, store: Store) -> None:  # type: ignore[no-untyped-def]
    window, seen = shown
    pool = QThreadPool.globalInstance()
    release = threading.Event()
    started = threading.Semaphore(0)

    def hold(_progress, _cancelled):  # type: ignore[no-untyped-def]
        started.release()
        release.wait(20)

    for _ in range(pool.maxThreadCount()):
        workers.run_task(hold)
    for _ in range(pool.maxThreadCount()):
        assert started.acquire(timeout=10)
    try:
        del seen[:]
        window.filter_bar.set_text("category:news")
        qtbot.waitUntil(lambda: any(text == "category:news" for text, _f in seen), timeout=5000)
        assert not release.is_set()  # the pool's threads were all still held when the counts arrived
    finally:
        release.set()
    facets = next(f for text, f in seen if text == "category:news")
    assert facets == store.facets("category:news")
    assert window.facets.find("status", "All cards").text(1) == f"{store.count('category:news'):,}"  # type: ignore[union-attr]


def test_a_count_typed_over_never_reaches_the_sidebar(qtbot, shown, store: Store) -> None:  # type: ignore[no-untyped-def]
    window, seen = shown
    entered, go_on = threading.Event(), threading.Event()
    lane_facets = store.facets

    def facets(query: str | None = None, **kwargs):  # type: ignore[no-untyped-def]
        if query == "category:news":  # the first query's count: held until the next query is applied
            entered.set()
            go_on.wait(10)
        return lane_facets(query, **kwargs)

    store.facets = facets  # type: ignore[method-assign]
    try:
        del seen[:]
        window.filter_bar.set_text("category:news")
        assert entered.wait(5)  # its count is running on the lane
        window.filter_bar.set_text("category:science")
        go_on.set()
        qtbot.waitUntil(lambda: any(text == "category:science" for text, _f in seen), timeout=5000)
        QThreadPool.globalInstance().waitForDone(5000)
        qtbot.wait(50)
    finally:
        del store.facets
    assert [text for text, _f in seen] == ["category:science"]
    assert seen[0][1] == store.facets("category:science")


def test_the_lane_ends_with_the_app(qtbot, shown) -> None:  # type: ignore[no-untyped-def]
    window, _seen = shown
    lane = window.search._facet_lane
    assert lane is not None and lane.running
    assert workers.settle_tasks(5000)
    assert not lane.running and lane.stopped
    window.search.refresh_facets()  # a refresh while the app quits (the lane stopped) counts nothing, raises nothing
