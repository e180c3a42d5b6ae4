"""Deferred checkpoints (``SqliteBackend.defer_checkpoints``, sqlite_checkpoint): a big edit's commit
returns with its pages in the WAL, a thread of the library's own copies them into the file.

What each test looks at is the library file alone, without its ``-wal``: a copy of just that file opens
as the library stood at its last checkpoint. So "the file lacks the edit right after the commit" means
the commit did not copy it, and "the file has it" means a checkpoint did. Every connection (another
Store, another process) reads through the WAL and sees the edit at once either way.
"""

from __future__ import annotations

import shutil
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from curator.core.backend import sqlite as sqlite_backend
from curator.core.backend.sqlite import _ids_json, _ids_text
from curator.core.importer import import_paths
from curator.core.store import Store

CARDS = 30


@pytest.fixture
def library(tmp_path: Path) -> Path:
    cards = tmp_path / "cards"
    cards.mkdir()
    for n in range(CARDS):
        (cards / f"c{n:02}.yaml").write_text(f"title: Card {n}\npublished: false\nquality: {n}\n")
    where = tmp_path / "lib.sqlite"
    with Store(where) as store:
        assert import_paths(store, [cards]).added == CARDS
    return where


@pytest.fixture
def store(library: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """A Store whose connection checkpoints after every page (so a commit that copies its own pages, as
    SQLite's automatic checkpoint does, shows in the file at once), with a threshold these 30 cards
    reach: publishing them changes ~90 rows (card, pending, journal), one card's edit 3."""
    monkeypatch.setattr(sqlite_backend, "DEFER_AT_ROWS", 40)
    with Store(library) as store:
        store.backend._read("PRAGMA wal_autocheckpoint = 1")
        yield store


def published_in_the_file(library: Path, tmp_path: Path) -> int:
    """How many cards the library file itself (not its WAL) holds as published."""
    copy = tmp_path / "file-alone.sqlite"
    for leftover in (copy, Path(f"{copy}-wal"), Path(f"{copy}-shm")):
        leftover.unlink(missing_ok=True)
    shutil.copyfile(library, copy)
    conn = sqlite3.connect(copy)
    try:
        return int(conn.execute("SELECT count(*) FROM card WHERE published = 1").fetchone()[0])
    finally:
        conn.close()


def test_a_commit_checkpoints_itself_unless_deferred(store: Store, library: Path, tmp_path: Path) -> None:
    """The control: without defer_checkpoints the commit copies its pages (the file has the edit)."""
    store.set_fields(store.ids(), {"published": True}, label="publish all")
    assert published_in_the_file(library, tmp_path) == CARDS


def test_a_big_edit_returns_before_its_pages_reach_the_file(store: Store, library: Path, tmp_path: Path) -> None:
    store.defer_checkpoints()
    checkpointer = store.backend.db.checkpointer
    assert checkpointer is not None and checkpointer.running
    before = store.backend.connection_settings()["wal_autocheckpoint"]
    with checkpointer._lock:  # the thread cannot start a copy while this is held (ask() re-enters it)
        result = store.set_fields(store.ids(), {"published": True}, label="publish all")
        assert len(result.changed) == CARDS and result.batch_id is not None
        assert published_in_the_file(library, tmp_path) == 0  # committed, but not copied by the commit
        with Store(library) as other:  # any other connection reads it through the WAL at once
            assert other.count("published:true") == CARDS and other.totals().dirty == CARDS
        assert checkpointer._done < checkpointer._asked  # asked for, not run yet
    assert store.wait_for_checkpoint(10)
    assert published_in_the_file(library, tmp_path) == CARDS
    busy, frames, copied = checkpointer.last or (1, 0, -1)
    assert busy == 0 and frames > 0 and copied == frames
    # The connection's own setting is back for the next commit.
    assert store.backend.connection_settings()["wal_autocheckpoint"] == before == 1


def test_a_small_edit_still_checkpoints_in_its_commit(store: Store, library: Path, tmp_path: Path) -> None:
    store.defer_checkpoints()
    checkpointer = store.backend.db.checkpointer
    assert checkpointer is not None
    with checkpointer._lock:
        store.set_fields(store.ids()[:1], {"published": True}, label="one card")
        assert published_in_the_file(library, tmp_path) == 1
    assert store.wait_for_checkpoint(10)


def test_a_rolled_back_edit_asks_for_no_copy(store: Store) -> None:
    store.defer_checkpoints()
    checkpointer = store.backend.db.checkpointer
    assert checkpointer is not None
    with pytest.raises(RuntimeError, match="changed my mind"), store.transaction():
        store.set_fields(store.ids(), {"published": True}, label="publish all")
        raise RuntimeError("changed my mind")
    assert checkpointer._asked == 0 and store.count("published:true") == 0
    assert store.backend.connection_settings()["wal_autocheckpoint"] == 1


def test_closing_a_workers_connection_keeps_the_thread_the_owners_close_ends_it(
    store: Store, library: Path, tmp_path: Path
) -> None:
    store.defer_checkpoints()
    checkpointer = store.backend.db.checkpointer
    assert checkpointer is not None

    def worker() -> None:  # as the window's read tasks do: read on its own connection, then close it
        store.count("")
        store.close()

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert store.backend.db.checkpointer is checkpointer and checkpointer.running
    store.set_fields(store.ids(), {"published": True}, label="publish all")
    store.close()  # the owner: the thread ends after its copy; SQLite's last close copies what is left
    assert store.backend.db.checkpointer is None and not checkpointer.running
    assert not checkpointer._thread.is_alive()
    assert published_in_the_file(library, tmp_path) == CARDS


def test_the_window_defers_its_library_checkpoints(qtbot, library: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from curator.gui.images import ImageCache
    from curator.gui.settings import Settings
    from curator.gui.views.main_window import MainWindow

    with Store(library) as store:
        win = MainWindow(store, Settings.from_file(tmp_path / "s.ini"), images=ImageCache(tmp_path / "c"))
        qtbot.addWidget(win)
        checkpointer = store.backend.db.checkpointer
        assert checkpointer is not None and checkpointer.running
        win.close()


@pytest.mark.parametrize("ids, text", [
    ([3, 1, 2], "[3,1,2]"),
    ((), "[]"),
    ([-4, 0], "[-4,0]"),
    ([True, 2], "[1,2]"),  # a bool is the int it equals, never JSON's true
    ([2.0, 5], "[2,5]"),
    ([2**70, 1], f"[{2**70},1]"),  # past 64 bits: orjson refuses it, the slow path spells it
])  # fmt: skip
def test_ids_are_spelled_as_plain_json_integers(ids: list[int], text: str) -> None:
    _ids_text.cache_clear()  # equal arrays share a spelling: [True, 2] must not meet a cached [1, 2]
    assert _ids_json(ids) == text
