"""The folder watcher and a bulk copy: every card copied while the window is open arrives, with no later event.

A thread copies thousands of card files into a new sub-folder (with a nested one), into an existing card
folder and into a new folder beside the imported one's only card folder, while the window's event loop runs
(the real QFileSystemWatcher, the real debounce and rescans). Before the fix 1,673 of 10,000 arrived: new
sub-folders were not watched, so the files copied after the first rescan raised no event.
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from curator.core.store import Store
from curator.gui.views import folder_watch
from curator.gui.views.folder_watch import rescan_roots, sub_folders
from curator.gui.views.main_window import MainWindow


def card_text(n: int) -> str:
    return (f'---\ntitle: "Copied card {n}"\nsourceUrl: https://copy.example/{n}\nquality: 50\nheat: -1\n'
            "published: false\nprovider:\n  name: Copy Wire\n  domain: copy.example\n---\n")  # fmt: skip


def copy_in(targets: list[Path], count: int, pause_every: int = 100) -> threading.Thread:
    """Write `count` cards spread over `targets` (created as they are reached), the way a file manager does:
    each file to a dot-name, then renamed into place, with short pauses so rescans run in between."""

    def run() -> None:
        for n in range(count):
            folder = targets[n % len(targets)]
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f".part-{n}"
            tmp.write_text(card_text(n), encoding="utf-8")
            os.replace(tmp, folder / f"copied-{n:05d}.md")
            if n % pause_every == pause_every - 1:
                time.sleep(0.01)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def cards_under(store: Store, folder: Path) -> int:
    prefix = str(folder) + os.sep
    return sum(1 for path in store.card_paths() if path.startswith(prefix))


def run_bulk_copy(qtbot, window: MainWindow, cards: Path, count: int, timeout_ms: int) -> None:  # type: ignore[no-untyped-def]
    store = window.store
    window.folders.debounce.setInterval(200)
    existing = next(p for p in sorted(cards.iterdir()) if p.is_dir())
    assert str(existing) in window.folders.watcher.directories()
    new = cards / "new-batch"
    targets = [new, new / "nested" / "deeper", existing, cards / "another-new"]
    before = store.count()
    rescans: list[int] = []
    window.imports.rescanStarted.connect(lambda: rescans.append(1))
    thread = copy_in(targets, count)
    qtbot.waitUntil(lambda: not thread.is_alive(), timeout=timeout_ms)
    # No further event is made: what the watcher saw during the copy must bring every card in.
    qtbot.waitUntil(lambda: store.count() == before + count, timeout=timeout_ms)
    assert cards_under(store, new) == sum(1 for n in range(count) if n % 4 in (0, 1))
    assert cards_under(store, cards / "another-new") == count // 4
    assert str(new / "nested" / "deeper") in window.folders.watcher.directories()
    assert rescans, "the cards came in through the watcher's rescans"
    qtbot.waitUntil(lambda: not window.folders.debounce.isActive() and not window.importer.running)


def test_a_bulk_copy_of_3000_cards_all_arrive(qtbot, edit_window: MainWindow, own_library) -> None:  # type: ignore[no-untyped-def]
    _store, cards = own_library
    run_bulk_copy(qtbot, edit_window, cards, 3000, timeout_ms=120_000)


@pytest.mark.benchmark
def test_a_bulk_copy_of_10000_cards_all_arrive(qtbot, edit_window: MainWindow, own_library) -> None:  # type: ignore[no-untyped-def]
    _store, cards = own_library
    run_bulk_copy(qtbot, edit_window, cards, 10_000, timeout_ms=600_000)


def test_cards_still_arriving_are_said_in_the_status_bar(qtbot, edit_window: MainWindow, own_library) -> None:  # type: ignore[no-untyped-def]
    """A rescan that adds cards while the watcher saw more changes says cards are still arriving."""
    _store, cards = own_library
    window = edit_window
    window.folders.debounce.setInterval(10_000)  # no rescan by itself during this test
    folder = cards / "arriving"
    folder.mkdir()
    for n in range(5):
        (folder / f"c{n}.md").write_text(card_text(n), encoding="utf-8")
    window.folders.pending = False
    # An event arrives while the rescan runs (inline pool: during the run).
    window.imports.rescanStarted.connect(lambda: setattr(window.folders, "pending", False))
    window.importer.progress.connect(lambda *_a: setattr(window.folders, "pending", True))
    window.rescan(quiet=True)
    assert "still arriving" in window.statusBar().currentMessage()
    assert "5 added so far" in window.statusBar().currentMessage()


def test_rescan_roots_include_imported_roots_without_cards(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "a").mkdir(parents=True)
    (root / "empty-new").mkdir()
    assert rescan_roots([str(root / "a")], [str(root)]) == [str(root)]
    # A root reached through a link is walked under the cards' own (unresolved) prefix.
    link = tmp_path / "link"
    link.symlink_to(root)
    assert rescan_roots([str(link / "a")], [str(root)]) == [str(link)]
    assert rescan_roots([], [str(tmp_path / "gone")]) == []
    assert sorted(sub_folders([str(root)])) == sorted([str(root), str(root / "a"), str(root / "empty-new")])
    assert len(sub_folders([str(root)], limit=1)) == 1
    assert folder_watch.MAX_WATCHED >= 10_000
