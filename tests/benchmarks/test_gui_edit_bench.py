"""Editing at scale with the window open: bulk publish until the list repaints, and writing 10k files.

Run: ``python -m pytest tests/benchmarks/test_gui_edit_bench.py -m benchmark -s`` (offscreen Qt).
Targets (issue 5): bulk publish of 10k selected cards <= 1 s; write of 10k <= 1.5x the
temp+fsync+replace floor.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import harness
import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
pytestmark = pytest.mark.benchmark


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory, n: int) -> tuple[Path, Path]:
    """A writable copy of the data set and a library over it."""
    from curator.core.importer import import_paths
    from curator.core.store import Store

    root = tmp_path_factory.mktemp("gui-edit-bench")
    cards = harness.copy_dataset(n, root / "cards")
    db = root / "library.sqlite"
    with Store(db) as store:
        assert import_paths(store, [str(cards)]).added == n
    return db, cards


@pytest.fixture
def window(qapp, qtbot, library: tuple[Path, Path], tmp_path: Path) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    from curator.core.store import Store
    from curator.gui.images import ImageCache
    from curator.gui.settings import Settings
    from curator.gui.views.main_window import MainWindow

    store = Store(library[0])
    win = MainWindow(store, Settings.from_file(tmp_path / "s.ini"), images=ImageCache(tmp_path / "c"))
    win.files.ask_close = lambda _box: "keep"
    win.edits.confirm = lambda _dialog: True
    qtbot.addWidget(win)
    win.resize(1500, 920)
    win.show()
    yield win
    win.close()
    store.close()


def test_bulk_publish_until_the_list_repaints(window: Any, n: int) -> None:
    store = window.store
    window.edits.select_all_matching()

    def reset() -> None:
        store.set_fields(store.ids(), {"published": False}, label="bench reset")
        window.model.refresh_rows(window.model.loaded_ids())

    def publish() -> None:
        window.actions.publish.trigger()
        window.table.viewport().grab()  # the rows' new state painted

    timing = harness.measure(publish, repeat=5, setup=reset)
    # Every card of the library is selected: at the default N (10k) this is the case; at 100k
    # it publishes ten times as many, against the same 10k target.
    harness.record("gui: bulk publish of all N selected + repaint", n, timing.median, target="≤ 1 s for 10k")
    assert store.count("published:true") == n


def test_write_from_the_gui_against_the_floor(
    qtbot, window: Any, library: tuple[Path, Path], n: int, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    store = window.store
    paths = harness.card_paths(library[1])
    floor = harness.write_floor(paths, tmp_path / "floor")
    heat = [0]

    def edit_all() -> None:  # untimed: every card gets a new pending value
        heat[0] = 7 if heat[0] != 7 else 8
        store.set_fields(store.ids(), {"heat": heat[0]}, label="bench edit")

    def write() -> None:
        with qtbot.waitSignal(window.files.writeFinished, timeout=600_000):
            window.files.write_changes()  # on the global thread pool, as the app runs it

    app, base = harness.measure_pair(write, floor, repeat=3, setup=edit_all)
    harness.record("gui: write 10k pending edits (worker)", n, app.median, base.median, target="≤ 1.5x floor")
    assert store.totals().dirty == 0
