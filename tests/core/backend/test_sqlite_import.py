"""The SQLite backend under the importer: the statements a rescan runs, and the bulk-import mode."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from curator.core import importer
from curator.core.backend.sqlite import IMPORT_CHECKPOINT_PAGES, SqliteBackend
from curator.core.importer import import_paths
from curator.core.store import Store


def card_text(title: str, quality: int = 50, topics: tuple[str, ...] = ("AI",)) -> str:
    lines = ["---", f'title: "{title}"', "category: news", f"quality: {quality}", "heat: -1",
             "published: false", "provider:", "  name: Example", "  domain: example.com", "topics:"]
    lines += [f"  - {t}" for t in topics]
    return "\n".join([*lines, "---", "", "Body text.", ""])


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def bump_mtime(path: Path) -> None:
    """Make a rewrite visible even on filesystems with coarse timestamps."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))



@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "lib.sqlite")
    assert isinstance(s.backend, SqliteBackend)
    yield s
    s.close()


def test_rescan_reads_the_library_with_one_query_per_folder(store: Store, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # The stamps read on this connection (not on their thread: tests/core/test_rescan_split.py), to be traced.
    monkeypatch.setattr(importer._Stamps, "start", lambda stamps: None)
    folder = tmp_path / "many"
    for i in range(60):
        write(folder / f"{i % 3}" / f"c{i}.md", card_text(f"Card {i}"))
    single = write(tmp_path / "single.md", card_text("On its own"))
    import_paths(store, [folder, single])
    statements: list[str] = []
    conn = store.backend.db.connection()
    conn.set_trace_callback(statements.append)
    try:
        report = import_paths(store, [folder, single])
    finally:
        conn.set_trace_callback(None)
    assert report.unchanged == 61 and report.added == report.updated == 0
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT") and "FROM card " in s + " "]
    # A range of the rescan's index (schema 6) per root, and the roots' own paths: a fixed handful, not one
    # query per card (nothing changed: no card is looked up, nor the dirty ids), each key read from the
    # index that holds it, no card row and no scan of the table.
    assert len(reads) == 3 and all("group_concat" in s for s in reads), reads
    for read in reads:
        plan = " | ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {read}"))
        assert "SCAN card" not in plan and ("INDEX card_stamp" in plan or "INDEX card_path" in plan), plan
    assert sum("INDEX card_stamp (<expr>>? AND <expr><?)" in " ".join(
        row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {read}")) for read in reads) == 2  # fmt: skip
    writes = ("INSERT", "UPDATE", "DELETE", "ANALYZE")
    assert not [s for s in statements if s.lstrip().upper().startswith(writes)]
    # A small part of the library is read through the path index; a changed file's hash is fetched alone.
    write(folder / "1" / "c1.md", card_text("Card 1, changed"))
    bump_mtime(folder / "1" / "c1.md")
    statements.clear()
    conn.set_trace_callback(statements.append)
    try:
        report = import_paths(store, [single, folder / "1" / "c1.md"])
    finally:
        conn.set_trace_callback(None)
    assert (report.unchanged, report.updated) == (1, 1)
    assert store.rows("changed")[0].path == str(folder / "1" / "c1.md")
    assert not [s for s in statements if "NOT INDEXED" in s]  # no scan of the whole table


def test_big_imports_refresh_statistics_and_restore_checkpoints(store: Store, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importer, "BATCH", 10)  # so 30 files count as a big import
    folder = tmp_path / "cards"
    for i in range(30):
        write(folder / f"c{i}.md", card_text(f"Card {i}", quality=i))
    backend = store.backend
    default = backend.connection_settings()["wal_autocheckpoint"]
    seen: list[int | str] = []
    maps: list[int | str] = []

    def watch(done: int, total: int) -> None:
        settings = backend.connection_settings()
        seen.append(settings["wal_autocheckpoint"])
        maps.append(settings["mmap_size"])

    import_paths(store, [folder], progress=watch)
    assert 0 in maps  # no memory map while importing
    assert IMPORT_CHECKPOINT_PAGES in seen  # raised while the files were stored
    after = backend.connection_settings()
    assert after["wal_autocheckpoint"] == default
    assert after["mmap_size"] == 256 * 1024 * 1024  # the map is back
    stats = backend.planner_statistics()
    assert stats["card_quality_id"].startswith("30 ") and stats["card_problems_flag"] == "1 1"
