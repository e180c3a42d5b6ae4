"""Import and rescan into a real library file: fingerprints, ids, errors, conflicts, vanished files."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from curator.core import importer
from curator.core.importer import import_paths, walk
from curator.core.store import Store

EXAMPLE_CARD = Path(__file__).resolve().parents[2] / "seeds" / "000_63d795e8c7832238.txt"


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
    yield s
    s.close()


@pytest.fixture
def cards_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "cards"
    for i in range(5):
        write(folder / f"c{i}.md", card_text(f"Card {i}", quality=10 * i))
    (folder / "sub").mkdir()
    shutil.copyfile(EXAMPLE_CARD, folder / "sub" / EXAMPLE_CARD.name)
    return folder


def by_path(store: Store) -> dict[str, int]:
    return {row.path: row.id for row in store.rows()}


def test_walk_filters_suffixes_and_dotfiles(tmp_path: Path) -> None:
    for name in ["a.TXT", "b.md", "c.Markdown", "d.yaml", "e.YML", "f.json", ".hidden.md",
                 ".x.md.curator-tmp-123", ".git/g.md", "sub/.h/i.md", "sub/j.md"]:
        write(tmp_path / name, "---\n---\n")
    found, folders, absent = walk([tmp_path, tmp_path / "nope"])
    names = sorted(os.path.relpath(p, tmp_path) for p in found)
    assert names == ["a.TXT", "b.md", "c.Markdown", "d.yaml", "e.YML", os.path.join("sub", "j.md")]
    assert folders == [str(tmp_path)] and absent == [str(tmp_path / "nope")]
    st = (tmp_path / "b.md").stat()
    assert found[str(tmp_path / "b.md")] == (st.st_size, st.st_mtime_ns)  # what a rescan compares


def test_import_example_card_stores_its_values(store: Store, example_card: Path) -> None:
    report = import_paths(store, [example_card])
    assert (report.added, report.failed) == (1, 0)
    [row] = store.rows()
    assert row.path == str(example_card)
    assert row.title.startswith("Hundreds of US police departments")
    assert (row.category, row.provider, row.quality, row.heat, row.published) == ("news", "Deutsche Welle", 54, -1, False)
    assert row.published_at == "2020-01-18T18:42:00Z" and row.date == "2020-01-18T18:42:00"
    assert row.topics == ["AI", "Computer Vision"] and row.related_count == 2
    assert row.lead_image == "https://m.dw.com/image/41695602_101.jpg"
    detail = store.detail(row.id)
    assert detail.data["secured"].startswith("B2gBU4EN")
    assert [r["provider"]["name"] for r in detail.related] == ["Complex", "International Business Times"]
    assert store.values("topics") == ["AI", "Computer Vision"]


def test_relative_paths_are_stored_absolute_without_resolving_links(store: Store, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    real = write(tmp_path / "real" / "a.md", card_text("A"))
    (tmp_path / "link").symlink_to(tmp_path / "real")
    monkeypatch.chdir(tmp_path)
    import_paths(store, ["link"])
    assert [r.path for r in store.rows()] == [str(tmp_path / "link" / "a.md")]
    assert real.exists()


def test_rescan_add_change_delete_keeps_ids(store: Store, cards_dir: Path) -> None:
    first = import_paths(store, [cards_dir])
    assert (first.added, first.updated, first.unchanged, first.removed) == (6, 0, 0, 0)
    ids = by_path(store)

    again = import_paths(store, [cards_dir])
    assert (again.added, again.updated, again.unchanged, again.removed) == (0, 0, 6, 0)

    write(cards_dir / "c0.md", card_text("Card 0 changed", quality=99))
    bump_mtime(cards_dir / "c0.md")
    (cards_dir / "c1.md").unlink()
    write(cards_dir / "new.md", card_text("New"))
    report = import_paths(store, [cards_dir])
    assert (report.added, report.updated, report.unchanged, report.removed) == (1, 1, 4, 1)
    now = by_path(store)
    assert str(cards_dir / "c1.md") not in now
    assert now[str(cards_dir / "c0.md")] == ids[str(cards_dir / "c0.md")]  # updated in place
    row = store.rows_by_id([now[str(cards_dir / "c0.md")]])[0]
    assert (row.title, row.quality) == ("Card 0 changed", 99)
    assert store.count() == 6


def test_touched_file_with_same_bytes_only_refreshes_mtime(store: Store, cards_dir: Path) -> None:
    import_paths(store, [cards_dir])
    bump_mtime(cards_dir / "c2.md")
    report = import_paths(store, [cards_dir])
    assert (report.unchanged, report.updated) == (6, 0)
    cid = store.card_id(cards_dir / "c2.md")
    assert cid is not None
    assert store.backend.card_columns(cid, ["mtime_ns"]) == ((cards_dir / "c2.md").stat().st_mtime_ns,)


def test_rename_is_a_removal_and_an_addition(store: Store, cards_dir: Path) -> None:
    import_paths(store, [cards_dir])
    (cards_dir / "c3.md").rename(cards_dir / "renamed.md")
    report = import_paths(store, [cards_dir])
    assert (report.added, report.removed) == (1, 1)
    assert str(cards_dir / "renamed.md") in by_path(store)


def test_errors_carry_line_and_column_and_do_not_stop_the_import(store: Store, cards_dir: Path) -> None:
    write(cards_dir / "bad.md", "---\ntitle: [unclosed\nquality: 5\n---\n")
    write(cards_dir / "list.yaml", "- a\n- b\n")
    report = import_paths(store, [cards_dir, cards_dir / "absent.md"])
    assert report.added == 6 and report.failed == 3
    errors = {Path(e["path"]).name: e for e in report.errors}
    assert errors["bad.md"]["line"] is not None and errors["bad.md"]["column"] is not None
    assert errors["absent.md"]["message"] == "no such file or folder"
    assert set(report.as_json()) == {"added", "updated", "unchanged", "removed", "failed", "errors"}


def test_a_card_that_becomes_unreadable_keeps_its_row(store: Store, cards_dir: Path) -> None:
    import_paths(store, [cards_dir])
    write(cards_dir / "c4.md", "---\ntitle: [broken\n---\n")
    bump_mtime(cards_dir / "c4.md")
    report = import_paths(store, [cards_dir])
    assert report.failed == 1 and store.count() == 6
    assert store.rows_by_id([by_path(store)[str(cards_dir / "c4.md")]])[0].title == "Card 4"


def test_pending_edits_survive_an_outside_change_as_a_conflict(store: Store, cards_dir: Path) -> None:
    import_paths(store, [cards_dir])
    cid = by_path(store)[str(cards_dir / "c2.md")]
    base = store.backend.card_columns(cid, ["sha256", "size"])
    store.set_fields([cid], {"quality": 77}, label="q")
    write(cards_dir / "c2.md", card_text("Changed outside", quality=1))
    bump_mtime(cards_dir / "c2.md")
    report = import_paths(store, [cards_dir])
    assert report.conflicts == [str(cards_dir / "c2.md")]
    row = store.rows_by_id([cid])[0]
    assert row.conflict and row.dirty and row.quality == 77 and row.title == "Card 2"
    assert store.pending(cid) == {"quality": (20, 77)}
    assert store.backend.card_columns(cid, ["sha256", "size"]) == base
    assert store.facets().status["conflicts"] == 1


def test_vanished_file_with_pending_edits_is_kept_as_missing(store: Store, cards_dir: Path) -> None:
    import_paths(store, [cards_dir])
    ids = by_path(store)
    edited, plain = ids[str(cards_dir / "c0.md")], ids[str(cards_dir / "c1.md")]
    store.set_fields([edited], {"heat": 5}, label="h")
    (cards_dir / "c0.md").unlink()
    (cards_dir / "c1.md").unlink()
    report = import_paths(store, [cards_dir])
    assert report.removed == 2 and report.missing == [str(cards_dir / "c0.md")]
    assert store.rows_by_id([plain]) == []
    row = store.rows_by_id([edited])[0]
    assert row.missing and row.dirty and store.totals().missing == 1
    # The file comes back unchanged: no longer missing, edits still pending.
    write(cards_dir / "c0.md", card_text("Card 0", quality=0))
    import_paths(store, [cards_dir])
    row = store.rows_by_id([edited])[0]
    assert not row.missing and row.dirty and not row.conflict and row.heat == 5


def test_rescan_of_one_folder_leaves_other_folders_alone(store: Store, tmp_path: Path) -> None:
    write(tmp_path / "a" / "x.md", card_text("A"))
    write(tmp_path / "ab" / "y.md", card_text("AB"))
    import_paths(store, [tmp_path / "a", tmp_path / "ab"])
    (tmp_path / "ab" / "y.md").unlink()
    report = import_paths(store, [tmp_path / "a"])  # "ab" is not under "a", though its name starts so
    assert report.removed == 0 and store.count() == 2


def test_corpora_import_with_the_process_pool(store: Store, corpus_copy: Path) -> None:
    report = import_paths(store, [corpus_copy], workers=2)
    files = [p for p in corpus_copy.rglob("*") if p.is_file() and p.suffix.lower() in (".md", ".markdown")]
    assert report.added + report.failed == len(files) > importer.POOL_THRESHOLD
    assert store.count() == report.added
    assert {Path(e["path"]).name for e in report.errors} <= {"SOURCE.md"}
    ids = by_path(store)
    again = import_paths(store, [corpus_copy])
    assert (again.added, again.updated, again.unchanged) == (0, 0, report.added)
    assert by_path(store) == ids
    assert store.facets().categories[0] == ("release", sum(1 for r in store.rows() if r.category == "release"))


def test_pooled_and_inline_imports_store_the_same_rows(tmp_path: Path, corpus_copy: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    with Store(tmp_path / "pooled.sqlite") as pooled:
        import_paths(pooled, [corpus_copy], workers=2)
        a = [r.__dict__ for r in pooled.rows()]
    monkeypatch.setattr(importer, "POOL_THRESHOLD", 10**9)
    with Store(tmp_path / "inline.sqlite") as inline:
        import_paths(inline, [corpus_copy])
        b = [r.__dict__ for r in inline.rows()]
    key = lambda r: r["path"]
    assert sorted(a, key=key) == sorted(b, key=key) and len(a) > 1000


def test_progress_and_cancel(store: Store, cards_dir: Path) -> None:
    seen: list[tuple[int, int]] = []
    import_paths(store, [cards_dir], progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (6, 6)
    other = Store(cards_dir.parent / "other.sqlite")
    report = import_paths(other, [cards_dir], cancel=lambda: True)
    assert report.cancelled and other.count() == 0
    other.close()


def test_statistics_are_refreshed_only_when_the_library_changed_a_lot(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "cards"
    for i in range(30):
        write(folder / f"c{i}.md", card_text(f"Card {i}"))
    assert store.analyzed_cards() == 0  # a new library: analyzed while empty
    import_paths(store, [folder])
    assert store.analyzed_cards() == 30
    write(folder / "one-more.md", card_text("One more"))
    import_paths(store, [folder])
    assert store.analyzed_cards() == 30  # 1 card in 31: the statistics still hold
    for i in range(5):
        write(folder / f"more{i}.md", card_text(f"More {i}"))
    import_paths(store, [folder])
    assert store.analyzed_cards() == 36
    assert store.count("published:false") == 36


def test_rescan_of_many_files_named_one_by_one(store: Store, tmp_path: Path) -> None:
    files = [write(tmp_path / "many" / f"c{i}.md", card_text(f"Card {i}")) for i in range(70)]
    other = write(tmp_path / "other" / "x.md", card_text("Elsewhere"))
    import_paths(store, [*files, other])
    files[3].unlink()
    write(files[5], card_text("Card 5, changed"))
    bump_mtime(files[5])
    report = import_paths(store, files)  # more roots than get a query each: one filtered scan
    assert (report.unchanged, report.updated, report.removed, report.failed) == (68, 1, 1, 0)
    assert store.count() == 70 and store.rows("elsewhere")  # the file outside the roots is untouched
