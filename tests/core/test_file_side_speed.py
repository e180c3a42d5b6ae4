"""Issue 12's file-side paths keep their behaviour: the descriptor walk, the import workers' records and
garbage collector, and a big write's batched reads, worker-built mappings and extra writer processes."""

from __future__ import annotations

import gc
import json
import os
from pathlib import Path

import pytest

from curator.core import cards, importer, store_write
from curator.core.importer import import_paths, walk
from curator.core.store import Store
from curator.core.store_rows import CardRecord


def card_text(title: str, quality: int = 50, extra: str = "") -> str:
    return (f'---\ntitle: "{title}"\ncategory: news\nquality: {quality}\nheat: -1\npublished: false\n'
            f"topics:\n  - AI\n{extra}---\n\nBody.\n")  # fmt: skip


def test_walk_through_descriptors_keeps_the_path_walks_rules(tmp_path: Path) -> None:
    """Every rule of the walk, now that folders are listed through a descriptor and files stat'ed by name
    relative to it: links to files followed, links to folders and dangling links skipped, dotfiles and
    dot-folders skipped, suffixes matched whatever their case, a linked root walked, its paths kept as given."""
    real = tmp_path / "real"
    (real / "sub" / "deeper").mkdir(parents=True)
    (real / ".hidden").mkdir()
    for rel in ["a.md", "B.TXT", "sub/c.yaml", "sub/deeper/d.Markdown", ".dot.md", ".hidden/e.md", "f.json"]:
        (real / rel).write_text(card_text(rel))
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "o.md").write_text(card_text("outside"))
    os.symlink(outside, real / "linked-folder")  # a folder link: not followed
    os.symlink(outside / "o.md", real / "linked.md")  # a file link: followed (stat of its target)
    os.symlink(tmp_path / "nowhere.md", real / "dangling.md")
    os.symlink(outside, real / "folder.md")  # a link to a folder named like a card: no card
    root_link = tmp_path / "root-link"
    os.symlink(real, root_link)

    found, folders, absent = walk([root_link, tmp_path / "absent"])
    names = sorted(os.path.relpath(p, root_link) for p in found)
    assert names == ["B.TXT", "a.md", "linked.md", "sub/c.yaml", "sub/deeper/d.Markdown"]
    assert all(p.startswith(str(root_link) + os.sep) for p in found)  # as given, not resolved
    assert folders == [str(root_link)] and absent == [str(tmp_path / "absent")]
    st = os.stat(outside / "o.md")
    assert found[str(root_link / "linked.md")] == (st.st_size, st.st_mtime_ns)
    st = os.stat(real / "sub" / "c.yaml")
    assert found[str(root_link / "sub" / "c.yaml")] == (st.st_size, st.st_mtime_ns)


def test_walk_skips_an_unreadable_folder_and_keeps_the_rest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder that cannot be opened holds nothing to import; its siblings are walked all the same."""
    (tmp_path / "shut").mkdir()
    (tmp_path / "shut" / "x.md").write_text(card_text("x"))
    (tmp_path / "open.md").write_text(card_text("open"))
    real_open = os.open
    refused: list[str] = []

    def no_entry(path: str, flags: int, *args: object, **kwargs: object) -> int:
        if str(path) == str(tmp_path / "shut"):  # as a folder without the x permission answers
            refused.append(str(path))
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(importer.os, "open", no_entry)
    found, _, _ = walk([tmp_path])
    assert refused == [str(tmp_path / "shut")]
    assert list(found) == [str(tmp_path / "open.md")]


@pytest.mark.parametrize("enabled", [True, False])
def test_load_chunk_restores_the_garbage_collector(tmp_path: Path, enabled: bool) -> None:
    """The workers pause the collector while parsing a chunk, and leave it as they found it."""
    path = tmp_path / "a.md"
    path.write_text(card_text("A"))
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        seen: list[bool] = []
        real = importer._load

        def spy(*args: object) -> importer.Loaded:
            seen.append(gc.isenabled())
            return real(*args)  # type: ignore[arg-type]

        importer._load = spy  # type: ignore[assignment]
        try:
            ((kind, _, payload),) = importer._load_chunk([(str(path), None)], 0.0)
        finally:
            importer._load = real  # type: ignore[assignment]
        assert seen == [False] and gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
    # The record travels as a plain tuple and becomes a CardRecord again in the parent, field for field.
    assert kind == "card" and type(payload) is tuple
    record = importer._as_record(payload)
    assert type(record) is CardRecord and record.fts[0] == "A" and record.topics == ["AI"]


def test_pooled_import_stores_what_an_inline_import_stores(tmp_path: Path) -> None:
    """The records that cross the pool as tuples store the same library as records built in process."""
    folder = tmp_path / "cards"
    folder.mkdir()
    for i in range(importer.POOL_THRESHOLD + 20):
        extra = "related:\n  - title: Other\n    sourceUrl: https://example.com/x\n" if i % 3 else ""
        (folder / f"c{i:03d}.md").write_text(card_text(f"Card {i}", quality=i % 101, extra=extra))

    def library(name: str, workers: int) -> list[tuple[object, ...]]:
        with Store(tmp_path / name) as store:
            report = import_paths(store, [folder], workers=workers)
            assert report.added == importer.POOL_THRESHOLD + 20 and report.failed == 0
            rows = store.rows(sort=[("path", False)])
            return [(r.path, r.title, r.quality, r.topics, store.backend.doc(r.id),
                     store.backend.fulltext_row(r.id)) for r in rows]  # fmt: skip

    assert library("pooled.sqlite", workers=2) == library("inline.sqlite", workers=1)


def test_a_big_write_records_the_mappings_its_files_hold(
    library_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write through worker processes (at least WRITE_PROCESSES of them): each card's pending values,
    set and removed, read per task; the mapping each worker encodes is what the file now holds."""
    monkeypatch.setattr(store_write, "POOL_THRESHOLD", 0)
    folder = tmp_path / "cards"
    folder.mkdir()
    for i in range(60):
        (folder / f"c{i:02d}.md").write_text(card_text(f"Card {i}", quality=i, extra="summary: old\n"))
    workers: list[int] = []
    real_executor = store_write._executor

    def counted(count: int) -> store_write._Pool:
        pool = real_executor(count)
        workers.append(getattr(pool.executor, "_max_workers", 0))
        return pool

    monkeypatch.setattr(store_write, "_executor", counted)
    with Store(library_url) as store:
        import_paths(store, [folder])
        ids = store.ids()
        store.set_fields(ids[::2], {"quality": 99}, label="even")
        store.set_fields(ids[1::2], {"title": "Retitled", "heat": 7}, label="odd")
        report = store.write()
        assert report.written == 60 and not report.failed and not report.conflicts
        assert workers == [max(os.cpu_count() or 1, store_write.WRITE_PROCESSES)]
        assert store.totals().dirty == 0
        for row in store.rows():
            on_disk, _ = cards.read_card(row.path)
            assert json.loads(store.backend.doc(row.id) or "") == on_disk.data
            assert on_disk.state.sha256 == store.backend.sha256(row.id)
        assert {cards.read_card(r.path)[0].data["quality"] for r in store.rows_by_id(ids[::2])} == {99}
        assert {cards.read_card(r.path)[0].data["title"] for r in store.rows_by_id(ids[1::2])} == {"Retitled"}
