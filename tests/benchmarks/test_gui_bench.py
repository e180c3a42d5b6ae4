"""The desktop app at scale ($CURATOR_BENCH_N cards, default 10k): first page, re-queries, scrolling, repaint.

Over gui_images.dataset, its pictures served as real JPEG/PNG from 127.0.0.1 (gui_images.ImageServer), so the
grid's figures include downloading and decoding thumbnails. Each recorded target is asserted on the median.

Run: ``python -m pytest tests/benchmarks/test_gui_bench.py -m benchmark -s`` (offscreen Qt).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import gui_images
import harness
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytestmark = pytest.mark.benchmark


@pytest.fixture(scope="module")
def images(qapp) -> Iterator[gui_images.ImageServer]:  # type: ignore[no-untyped-def]
    with gui_images.serving() as server:
        yield server


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory, n: int) -> Path:
    """The session's library over the data set whose images the ImageServer serves."""
    return gui_images.session_library(tmp_path_factory, n)


@pytest.mark.xfail(
    harness.bench_n() >= 50_000,
    strict=True,
    reason="at 100k (query side): set_query topic+compare 147 ms of 50, a prefix 58 ms of 50, facets under "
    "published:false 571 ms of 100; count + first page 17 ms, sort 3.6 ms and a page 7.3 ms meet theirs",
)
def test_model_queries_and_paging(qapp, db: Path, n: int) -> None:  # type: ignore[no-untyped-def]
    """In-app figures of the model (no paint, no debounce): the parts of the on-screen figures."""
    from PySide6.QtCore import Qt

    from curator.core.store import Store
    from curator.gui.models.card_table import CardTableModel, Column

    with Store(db) as store:
        model = CardTableModel(store)
        first = harness.measure(lambda: CardTableModel(store), repeat=5)
        harness.record("gui: model, count + first page", n, first.median, target="≤ 50 ms")
        query = harness.measure(lambda: model.set_query("topic:AI quality>=50"), repeat=5)
        harness.record("gui: set_query (facet + compare)", n, query.median, target="≤ 50 ms")
        words = harness.measure(lambda: model.set_query("report*"), repeat=5)
        harness.record("gui: set_query (full text prefix)", n, words.median, target="≤ 50 ms")
        model.set_query("")
        orders = iter(
            [Qt.SortOrder.DescendingOrder, Qt.SortOrder.AscendingOrder] * 3
        )  # re-sorting the same way is a no-op
        sort = harness.measure(lambda: model.sort(Column.QUALITY, next(orders)), repeat=5)
        harness.record("gui: sort by quality (SQL)", n, sort.median, target="≤ 50 ms")
        model.sort(Column.DATE, Qt.SortOrder.DescendingOrder)
        pages = iter(range(n - 1, 0, -model.page_size))  # from the end backwards: each a page not held yet
        page = harness.measure(lambda: model.card_at(next(pages)), repeat=10)
        harness.record(
            "gui: read one 200-row page by its offset (from the end)", n, page.median, target="≤ 20 ms"
        )
        facets = harness.measure(lambda: store.facets("published:false"), repeat=5)
        harness.record("gui: facets under a query", n, facets.median, target="≤ 100 ms")
    assert first.median <= 0.05 and query.median <= 0.05 and words.median <= 0.05 and sort.median <= 0.05
    assert page.median <= 0.02 and facets.median <= 0.1


def test_window_repaint(
    qapp, qtbot, db: Path, n: int, tmp_path: Path, images: gui_images.ImageServer
) -> None:  # type: ignore[no-untyped-def]
    from curator.core.store import Store
    from curator.gui.images import ImageCache
    from curator.gui.settings import Settings
    from curator.gui.views.main_window import MainWindow
    from curator.gui.workers import SyncPool

    with Store(db) as store:
        window = MainWindow(store, Settings.from_file(tmp_path / "s.ini"), images=ImageCache(tmp_path / "c"),
                            pool=SyncPool())  # fmt: skip
        qtbot.addWidget(window)
        window.resize(1500, 920)
        window.show()
        table = harness.measure(lambda: window.table.viewport().grab(), repeat=5)
        harness.record("gui: repaint the table viewport", n, table.median, target="≤ 30 ms")
        window.set_view_mode("grid")
        cache = window.images
        grid_view = window.grid

        def thumbnails_shown() -> None:
            # Paint (asking for the thumbnails in view), then wait for their downloads and decodes, repaint.
            grid_view.viewport().grab()
            qtbot.waitUntil(lambda: cache.loading == 0, timeout=30_000)
            grid_view.viewport().grab()

        first_screen = harness.measure(thumbnails_shown, repeat=1)
        grid = harness.measure(lambda: grid_view.viewport().grab(), repeat=5)
        harness.record(
            "gui: repaint the grid viewport (thumbnails decoded)", n, grid.median, target="≤ 30 ms"
        )
        grid_bar = grid_view.verticalScrollBar()
        served = images.served

        def grid_scroll() -> None:
            grid_bar.setValue(grid_bar.value() + grid_view.viewport().height())
            thumbnails_shown()

        grid_scrolled = harness.measure(grid_scroll, repeat=5)
        harness.record(
            "gui: grid, first screen's thumbnails downloaded, decoded, painted", n, first_screen.median
        )
        harness.record("gui: grid, scroll a screen until its new thumbnails are painted", n,
                       grid_scrolled.median, target="≤ 1 s")  # fmt: skip
        scroll_paint = harness.measure(lambda: (grid_bar.setValue(grid_bar.value() + 400),
                                                grid_view.viewport().grab()), repeat=10)  # fmt: skip
        harness.record("gui: grid, scroll 400 px + repaint (thumbnails still loading)", n, scroll_paint.median,
                       target="≤ 30 ms")  # fmt: skip
        assert images.served > served  # each screen's thumbnails really came from the server
        window.set_view_mode("table")
        bar = window.table.verticalScrollBar()

        def scroll() -> None:
            # Scroll, then paint what is now visible (near the end this fetches the next page too).
            bar.setValue(bar.value() + 2000)
            window.table.viewport().grab()

        scrolled = harness.measure(scroll, repeat=10)
        harness.record("gui: scroll 2000 px + repaint", n, scrolled.median, target="≤ 30 ms")
        window.close()
    assert grid.median <= 0.03 and grid_scrolled.median <= 1.0 and scroll_paint.median <= 0.03


@pytest.mark.xfail(
    harness.bench_n() >= 50_000,
    strict=True,
    reason="at 100k the table viewport repaints in 67 ms of 30 (grid 23 ms): the row delegates' paint",
)
def test_table_repaint(qapp, qtbot, db: Path, n: int, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The table's repaint and scroll targets, apart from the grid's (which meet theirs)."""
    from curator.core.store import Store
    from curator.gui.images import ImageCache
    from curator.gui.settings import Settings
    from curator.gui.views.main_window import MainWindow
    from curator.gui.workers import SyncPool

    with Store(db) as store:
        window = MainWindow(store, Settings.from_file(tmp_path / "s.ini"), images=ImageCache(tmp_path / "c"),
                            pool=SyncPool())  # fmt: skip
        qtbot.addWidget(window)
        window.resize(1500, 920)
        window.show()
        table = harness.measure(lambda: window.table.viewport().grab(), repeat=5)
        bar = window.table.verticalScrollBar()

        def scroll() -> None:
            bar.setValue(bar.value() + 2000)
            window.table.viewport().grab()

        scrolled = harness.measure(scroll, repeat=10)
        window.close()
    harness.record("gui: repaint the table viewport (own test)", n, table.median, target="≤ 30 ms")
    harness.record("gui: table, scroll 2000 px + repaint (own test)", n, scrolled.median, target="≤ 30 ms")
    assert table.median <= 0.03 and scrolled.median <= 0.03
