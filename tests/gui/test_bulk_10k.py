"""Bulk publish of 10,000 generated cards with the window open: one Store call, one undo step."""

from __future__ import annotations

import sys
from pathlib import Path

from curator.core.importer import import_paths
from curator.core.store import Store
from curator.gui.views.main_window import MainWindow
from curator.gui.workers import SyncPool

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import harness

N = 10_000


def test_bulk_publish_of_10k_selected_cards(qtbot, settings, images, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store = Store(tmp_path / "10k.sqlite")
    assert import_paths(store, [harness.dataset(N)]).added == N
    window = MainWindow(store, settings, images=images, pool=SyncPool())
    window.files.ask_close = lambda _box: "keep"
    qtbot.addWidget(window)
    window.show()
    unpublished = store.count("published:false")
    assert unpublished > 0
    window.edits.select_all_matching()
    assert len(window.edits.target_ids()) == N
    window.edits.confirm = lambda dialog: dialog.count == N  # the confirmation names the count
    window.edits.ask_gate = lambda _gate: "all"  # the publishing gate (duplicates, problems): publish all
    window.actions.publish.trigger()
    assert store.count("published:true") == N and store.totals().dirty == unpublished
    # The loaded rows show it without a re-query; the status bar counts the changed cards.
    held = [window.model.row_of(i) for i in window.model.loaded_ids()]
    assert held and all(window.model.card_at(r).published for r in held)  # type: ignore[arg-type, union-attr]
    assert f"{unpublished:,} changed" in window.status_line.changed_label.text()
    assert window.edits.history.stack.count() == 1
    window.edits.history.stack.undo()
    assert store.count("published:false") == unpublished and store.totals().dirty == 0
    store.close()
