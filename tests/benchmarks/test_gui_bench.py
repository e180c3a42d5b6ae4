"""The desktop app at scale ($CURATOR_BENCH_N cards, default 10k): first page, re-queries, scrolling, repaint.

Run: ``python -m pytest tests/benchmarks/test_gui_bench.py -m benchmark -s`` (offscreen Qt).
"""

from __future__ import annotations

import os
from pathlib import Path

import harness
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytestmark = pytest.mark.benchmark


def test_model_queries_and_paging(qapp, db: Path, n: int) -> None:  # type: ignore[no-untyped-def]
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
        orders = iter([Qt.SortOrder.DescendingOrder, Qt.SortOrder.AscendingOrder] * 3)  # re-sorting the same way is a no-op
        sort = harness.measure(lambda: model.sort(Column.QUALITY, next(orders)), repeat=5)
        harness.record("gui: sort by quality (SQL)", n, sort.median, target="≤ 50 ms")
        model.sort(Column.DATE, Qt.SortOrder.DescendingOrder)
        pages = iter(range(n - 1, 0, -model.page_size))  # from the end backwards: each a page not held yet
        page = harness.measure(lambda: model.card_at(next(pages)), repeat=10)
        harness.record("gui: read one 200-row page by its offset (from the end)", n, page.median, target="≤ 20 ms")
        facets = harness.measure(lambda: store.facets("published:false"), repeat=5)
        harness.record("gui: facets under a query", n, facets.median, target="≤ 100 ms")
    assert first.median < 0.25 and query.median < 0.25 and page.median < 0.1


def test_window_repaint(qapp, qtbot, db: Path, n: int, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
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
        grid = harness.measure(lambda: window.grid.viewport().grab(), repeat=5)
        harness.record("gui: repaint the grid viewport", n, grid.median, target="≤ 30 ms")
        window.set_view_mode("table")
        bar = window.table.verticalScrollBar()

        def scroll() -> None:
            # Scroll, then paint what is now visible (near the end this fetches the next page too).
            bar.setValue(bar.value() + 2000)
            window.table.viewport().grab()

        scrolled = harness.measure(scroll, repeat=10)
        harness.record("gui: scroll 2000 px + repaint", n, scrolled.median, target="≤ 30 ms")
        window.close()
    assert table.median < 0.2 and grid.median < 0.2
