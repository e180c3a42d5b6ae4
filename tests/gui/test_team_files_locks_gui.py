"""The window on a team library while another editor's process holds its writer or importer lock.

Write and Rescan stop at once with the holder named ("Ana is writing cards (since 14:02) — …") in the
same message a busy library gets; the edits stay pending and no file changes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from team_lockholder import TeamLockHolder

from curator.core.importer import import_paths
from curator.core.store import Store
from curator.gui import workers
from curator.gui.images import ImageCache
from curator.gui.settings import Settings
from curator.gui.views.main_window import MainWindow

HELD = r"Ana is {doing} cards \(since \d\d:\d\d\) — try again when they are done"


@pytest.fixture
def sync_tasks() -> Iterator[None]:
    """Every worker task inline (the checks refresh too), so none outlives the test's server."""
    workers.set_default_pool(workers.SyncPool())
    yield
    workers.set_default_pool(None)


def test_write_and_rescan_name_the_other_editor(  # type: ignore[no-untyped-def]
    qtbot, pg_url: str, tmp_path: Path, boxes, sync_tasks
) -> None:
    folder = tmp_path / "cards"
    folder.mkdir()
    (folder / "a.yaml").write_text("title: A card\nquality: 10\n", encoding="utf-8")
    store = Store(pg_url)
    assert import_paths(store, [folder]).added == 1
    [card_id] = store.ids()
    store.set_fields([card_id], {"quality": 70}, label="Set quality")
    window = MainWindow(store, Settings.from_file(tmp_path / "s.ini"), images=ImageCache(tmp_path / "images"),
                        pool=workers.SyncPool())  # fmt: skip
    window.files.ask_close = lambda _box: "keep"
    window.folders.rescanNeeded.disconnect()  # our own write would start a rescan after the test's server
    qtbot.addWidget(window)
    window.show()
    try:
        with TeamLockHolder(pg_url, "writer", "Ana"):
            window.files.write_changes()
            qtbot.waitUntil(lambda: bool(boxes), timeout=10_000)
            text = boxes[-1].text()
            assert re.search("The write stopped: " + HELD.format(doing="writing"), text), text
            assert "edits stay pending" in text
        assert (folder / "a.yaml").read_text(encoding="utf-8") == "title: A card\nquality: 10\n"
        assert window.store.totals().dirty == 1
        with TeamLockHolder(pg_url, "importer", "Ana"):
            window.imports.import_paths([str(folder)])
            qtbot.waitUntil(lambda: len(boxes) > 1, timeout=10_000)
            text = boxes[-1].text()
            assert re.search("stopped: " + HELD.format(doing="importing"), text), text
        window.files.write_changes()  # free again: written
        qtbot.waitUntil(lambda: window.store.totals().dirty == 0, timeout=10_000)
        assert (folder / "a.yaml").read_text(encoding="utf-8") == "title: A card\nquality: 70\n"
    finally:
        window.team_library.stop()
        window.close()
        store.close()
