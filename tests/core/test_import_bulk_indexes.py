"""A cold import's bulk mode builds the card tables' secondary indexes once, after the load (issue 12).

What it must keep: the library it builds is the one a row-by-row import builds (the same schema text, the
same rows, the same full-text answers), and no way out of the import (done, cancelled, an exception, the
process killed) leaves a library without its indexes: what the process could not build, the next open
of the library does.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from curator.core import importer
from curator.core.backend.sqlite import DEFERRED_INDEXES_META, SqliteBackend
from curator.core.importer import import_paths
from curator.core.store import Store

ROOT = Path(__file__).resolve().parents[2]
#: Files a transaction in these tests: the seeds' ~300 files make several batches, so bulk mode runs.
SMALL_BATCH = 40
#: The card tables' rows as stored, without the import time (each run's own clock).
_ROWS = {
    "card": "SELECT * FROM card ORDER BY id",
    "card_doc": "SELECT * FROM card_doc ORDER BY card_id",
    "card_topic": "SELECT * FROM card_topic ORDER BY card_id, position",
    "card_image": "SELECT * FROM card_image ORDER BY card_id, position",
    "related_item": "SELECT * FROM related_item ORDER BY card_id, position",
    "card_index": "SELECT rowid, * FROM card_index ORDER BY rowid",
}
#: Full-text queries whose answers (ids in bm25 order, with their ranks) must not change.
_SEARCHES = ("ai", "climate OR election", "title:market", "related:new*", "provider:news", "the")


@pytest.fixture
def cards(tmp_path: Path) -> Path:
    """A copy of the seed cards, and a few a library refuses or flags among them."""
    folder = Path(shutil.copytree(ROOT / "seeds", tmp_path / "cards"))
    (folder / "2019-08" / "broken.md").write_text("---\ntitle: [unclosed\n---\n", encoding="utf-8")
    (folder / "2019-09" / "a-list.md").write_text("---\n- one\n- two\n---\n", encoding="utf-8")
    (folder / "2019-10" / "flagged.md").write_text(
        "---\ntitle: Flagged\nquality: high\npublishedDateTime: someday\ntopics: [odd, Odd]\n---\n",
        encoding="utf-8")  # fmt: skip
    return folder


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bulk mode for an import of more than SMALL_BATCH files (as for more than 4,000 in real runs)."""
    monkeypatch.setattr(importer, "BATCH", SMALL_BATCH)
    monkeypatch.setattr(importer, "CHUNK", SMALL_BATCH)  # files a chunk: a batch is one chunk's cards


def _connect(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{db}?mode=ro", uri=True)


def _schema(db: Path) -> set[tuple[str, str, str, str | None]]:
    with _connect(db) as conn:
        return set(
            conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name <> 'sqlite_stat1'")
        )


def _indexes(db: Path) -> set[str]:
    return {name for kind, name, _, _ in _schema(db) if kind == "index"}


def _stored(db: Path) -> int:
    with _connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM card").fetchone()[0])


def _content(db: Path) -> dict[str, Any]:
    """Every stored row of the card tables (the card's import time left out), and the searches' answers."""
    with _connect(db) as conn:
        columns = [row[1] for row in conn.execute("PRAGMA table_info(card)")]
        at = columns.index("imported_at")
        found: dict[str, Any] = {}
        for table, sql in _ROWS.items():
            rows = conn.execute(sql).fetchall()
            found[table] = [row[:at] + row[at + 1 :] for row in rows] if table == "card" else rows
        for query in _SEARCHES:
            found[query] = conn.execute(
                "SELECT rowid, bm25(card_index) FROM card_index WHERE card_index MATCH ? ORDER BY rank, rowid",
                (query,),
            ).fetchall()
        found["meta"] = conn.execute("SELECT key, value FROM meta ORDER BY key").fetchall()
        found["integrity"] = conn.execute("PRAGMA integrity_check").fetchall()
    return found


def _import(db: Path, folder: Path, **kwargs: Any) -> importer.ImportReport:
    with Store(db) as store:
        return import_paths(store, [str(folder)], workers=1, **kwargs)


@pytest.fixture
def reference(tmp_path: Path, cards: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The library a row-by-row import builds: one batch, no bulk mode, every index there all along."""
    db = tmp_path / "reference.sqlite"
    with monkeypatch.context() as m:
        m.setattr(importer, "BATCH", 10**9)
        report = _import(db, cards)
    assert report.added > 5 * SMALL_BATCH and report.failed > 0  # several batches; broken cards among them
    return db


@pytest.fixture
def indexes_at_insert(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[set[str]]]:
    """The library's index names each time the importer stores a batch of new cards."""
    seen: list[set[str]] = []
    insert = SqliteBackend.insert_cards

    def spy(self: SqliteBackend, records: Any) -> list[int]:
        seen.append(
            {name for (name,) in self._conn().execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        )
        return insert(self, records)

    monkeypatch.setattr(SqliteBackend, "insert_cards", spy)
    yield seen


def test_a_cold_bulk_import_builds_the_library_a_row_by_row_import_builds(
    tmp_path: Path,
    cards: Path,
    reference: Path,
    small_batches: None,
    indexes_at_insert: list[set[str]],
) -> None:
    db = tmp_path / "bulk.sqlite"
    report = _import(db, cards)
    want = _indexes(reference)
    assert len(indexes_at_insert) >= 5
    # The load ran without the secondary indexes (the path's kept) ...
    for names in indexes_at_insert:
        assert "card_path" in names
        assert not names & {"card_date_id", "card_problems_flag", "card_topic_name_card_id"}
    # ... and the library ends up with the same schema, rows and search answers as the row-by-row one.
    assert _schema(db) == _schema(reference)
    assert _content(db) == _content(reference)
    assert report.added == len(_content(db)["card"])
    with Store(db) as store:  # the statistics were taken after the indexes were built
        stats = store.backend.planner_statistics()
        assert {"card_date_id", "card_quality_id", "card_category_id"} <= set(stats)
        assert store.backend.get_meta(DEFERRED_INDEXES_META) is None
    assert want <= _indexes(db)


def test_a_library_that_holds_cards_keeps_its_indexes_through_a_bulk_import(
    tmp_path: Path, cards: Path, small_batches: None, indexes_at_insert: list[set[str]]
) -> None:
    db = tmp_path / "lib.sqlite"
    first = min(cards.rglob("*.md"))
    with Store(db) as store:
        assert import_paths(store, [str(first)]).added == 1
    full = _indexes(db)
    indexes_at_insert.clear()
    report = _import(db, cards)
    assert report.added > 5 * SMALL_BATCH
    assert indexes_at_insert and all(names == full for names in indexes_at_insert)


def _crash_after(db: Path, folder: Path, flushes: int) -> subprocess.CompletedProcess[str]:
    """Run a cold import in a child process that dies (os._exit, no cleanup) after ``flushes`` batches."""
    script = textwrap.dedent(f"""
        import os
        from curator.core import importer
        from curator.core.store import Store
        importer.BATCH = importer.CHUNK = {SMALL_BATCH}
        flush = importer._Importer.flush
        done = []
        def dying_flush(self):
            flush(self)
            done.append(1)
            if len(done) == {flushes}:
                os._exit(9)
        importer._Importer.flush = dying_flush
        store = Store({str(db)!r})
        importer.import_paths(store, [{str(folder)!r}], workers=1)
        raise SystemExit("the import should have died")
    """)
    return subprocess.run([sys.executable, "-c", script], check=False, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip


def test_a_cold_import_killed_midway_leaves_a_library_that_opens_whole_and_a_reimport_completes(
    tmp_path: Path, cards: Path, reference: Path, small_batches: None
) -> None:
    db = tmp_path / "killed.sqlite"
    child = _crash_after(db, cards, flushes=2)
    assert child.returncode == 9, child.stderr
    # What the dead process left: two batches stored, the indexes dropped and named in meta.
    stored = _stored(db)
    assert SMALL_BATCH < stored <= 2 * SMALL_BATCH
    with _connect(db) as conn:
        assert conn.execute("SELECT value FROM meta WHERE key = ?", (DEFERRED_INDEXES_META,)).fetchone()
    assert "card_date_id" not in _indexes(db)
    # Opening it builds them: the library is whole before anything reads it.
    with Store(db) as store:
        assert store.count() == stored
        assert store.backend.get_meta(DEFERRED_INDEXES_META) is None
    assert _schema(db) == _schema(reference)
    # The import run again adds the rest, and the library is the one a single run builds.
    report = _import(db, cards)
    assert report.added == _stored(reference) - stored
    assert _schema(db) == _schema(reference)
    assert _content(db) == _content(reference)


def test_an_import_that_fails_or_is_cancelled_midway_still_builds_the_indexes(
    tmp_path: Path, cards: Path, reference: Path, small_batches: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    flush = importer._Importer.flush
    calls: list[int] = []

    def failing_flush(self: Any) -> None:
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("a bug in the third batch")
        flush(self)

    failed = tmp_path / "failed.sqlite"
    with monkeypatch.context() as m:
        m.setattr(importer._Importer, "flush", failing_flush)
        with pytest.raises(RuntimeError, match="third batch"):
            _import(failed, cards)
    assert _schema(failed) == _schema(reference)
    assert SMALL_BATCH < _stored(failed) <= 2 * SMALL_BATCH
    with _connect(failed) as conn:
        assert not conn.execute("SELECT 1 FROM meta WHERE key = ?", (DEFERRED_INDEXES_META,)).fetchone()

    asked: list[int] = []
    cancelled = tmp_path / "cancelled.sqlite"
    report = _import(cancelled, cards, cancel=lambda: asked.append(1) or len(asked) > 3)
    assert report.cancelled and 0 < report.added < _stored(reference)
    assert _schema(cancelled) == _schema(reference)


def test_an_open_while_the_import_holds_the_lock_neither_waits_nor_fails(
    tmp_path: Path, cards: Path, reference: Path, small_batches: None
) -> None:
    db = tmp_path / "killed.sqlite"
    assert _crash_after(db, cards, flushes=1).returncode == 9
    holder = sqlite3.connect(db, timeout=0)
    holder.execute("BEGIN IMMEDIATE")  # as a running import holds the write lock while storing a batch
    try:
        started = time.monotonic()
        with Store(db, busy_timeout=5.0) as store:  # opens at once, the indexes left to build
            assert time.monotonic() - started < 2.0
            assert 0 < store.count() <= SMALL_BATCH
            assert store.backend.get_meta(DEFERRED_INDEXES_META) is not None
            assert store.backend.busy_timeout_ms() == 5000  # its own wait restored for what follows
    finally:
        holder.rollback()
        holder.close()
    assert "card_date_id" not in _indexes(db)
    with Store(db):  # the lock free: this open builds them
        pass
    assert _schema(db) == _schema(reference)


def test_the_analyze_after_a_bulk_import_reads_the_library_without_the_memory_map(
    tmp_path: Path, cards: Path, small_batches: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Through the map, the whole library ANALYZE reads counted as the importer's memory (440 MiB peak at
    # 100k cards when it ran after the bulk mode had restored the map; 194 MiB inside it).
    seen: list[tuple[int | str, set[str]]] = []
    optimize = SqliteBackend.optimize

    def spy(self: SqliteBackend) -> None:
        optimize(self)
        seen.append((self.connection_settings()["mmap_size"], set(self.planner_statistics())))

    monkeypatch.setattr(SqliteBackend, "optimize", spy)
    db = tmp_path / "lib.sqlite"
    with Store(db) as store:
        assert import_paths(store, [str(cards)], workers=1).added > 5 * SMALL_BATCH
    assert seen[-1][0] == 0
    assert {"card_date_id", "card_provider_name_id"} <= seen[-1][1]
