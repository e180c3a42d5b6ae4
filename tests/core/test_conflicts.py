"""Conflicts on a real card: compare the library with a file changed outside, resolve per field, write."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from curator.core import conflicts
from curator.core.importer import import_paths
from curator.core.store import Store


@pytest.fixture
def lib(example_card: Path, tmp_path: Path) -> Iterator[tuple[Store, int, Path]]:
    store = Store(tmp_path / "lib.sqlite")
    import_paths(store, [example_card.parent], workers=1)
    yield store, store.ids()[0], example_card
    store.close()


def edit_outside(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def conflicted(store: Store, card_id: int, card: Path) -> None:
    """Pending quality 70 and published true in the library; the file then gets quality 60 and a new title."""
    store.set_fields([card_id], {"quality": 70, "published": True}, label="edit")
    edit_outside(card, "quality: 54", "quality: 60")
    edit_outside(card, 'title: "Hundreds of US', 'title: "Many US')
    report = import_paths(store, [card.parent], workers=1)
    assert report.conflicts == [str(card)]
    assert store.rows_by_id([card_id])[0].conflict


def test_compare_lists_the_fields_that_differ_with_sensible_defaults(lib) -> None:  # type: ignore[no-untyped-def]
    store, card_id, card = lib
    conflicted(store, card_id, card)
    comparison = conflicts.compare(store, card_id)
    assert [d.field for d in comparison.diffs] == ["title", "quality", "published"]
    quality = comparison.diff("quality")
    assert quality is not None and (quality.base, quality.mine, quality.theirs) == (54, 70, 60)
    assert quality.pending and quality.default == "mine"
    title = comparison.diff("title")
    assert title is not None and not title.pending and title.default == "theirs"
    assert title.mine.startswith("Hundreds of US") and title.theirs.startswith("Many US")
    published = comparison.diff("published")
    assert published is not None and (published.mine, published.theirs, published.default) == (
        True,
        False,
        "mine",
    )


def test_keep_mine_and_take_theirs_then_write_changes_one_line(lib) -> None:  # type: ignore[no-untyped-def]
    store, card_id, card = lib
    conflicted(store, card_id, card)
    comparison = conflicts.compare(store, card_id)
    result = conflicts.resolve(
        store, comparison, {"quality": "mine", "published": "theirs", "title": "theirs"}
    )
    assert result.batch_id is not None and result.changed == [card_id]
    row = store.rows_by_id([card_id])[0]
    assert not row.conflict and row.dirty and row.quality == 70 and row.published is False
    assert row.title is not None and row.title.startswith("Many US")
    # The file as it is now is the new base of the kept edit.
    assert store.pending(card_id) == {"quality": (60, 70)}
    before = card.read_text(encoding="utf-8")
    report = store.write()
    assert report.written == 1 and not report.conflicts
    after = card.read_text(encoding="utf-8")
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True) if a != b]
    assert changed == [("quality: 60", "quality: 70")]
    # The kept edit is one undo step: undoing it leaves the file's value, nothing pending.
    store.undo(result.batch_id)
    assert store.pending(card_id) == {"quality": (70, 60)}  # the file now holds 70: 60 is an edit again


def test_taking_theirs_everywhere_drops_the_edits_and_writes_nothing(lib) -> None:  # type: ignore[no-untyped-def]
    store, card_id, card = lib
    conflicted(store, card_id, card)
    comparison = conflicts.compare(store, card_id)
    choices = {d.field: conflicts.THEIRS for d in comparison.diffs}
    result = conflicts.resolve(store, comparison, choices)
    assert result.batch_id is None
    row = store.rows_by_id([card_id])[0]
    assert not row.conflict and not row.dirty and row.quality == 60
    before = card.read_bytes()
    assert store.write().written == 0
    assert card.read_bytes() == before


def test_keeping_the_old_value_of_a_field_changed_only_in_the_file(lib) -> None:  # type: ignore[no-untyped-def]
    store, card_id, card = lib
    conflicted(store, card_id, card)
    comparison = conflicts.compare(store, card_id)
    conflicts.resolve(store, comparison, {"title": "mine"})
    pending = store.pending(card_id)
    assert set(pending) == {"title", "quality", "published"}
    assert pending["title"][1].startswith("Hundreds of US")


def test_refusals(lib) -> None:  # type: ignore[no-untyped-def]
    store, card_id, card = lib
    conflicted(store, card_id, card)
    comparison = conflicts.compare(store, card_id)
    with pytest.raises(ValueError, match="not one of the fields"):
        conflicts.resolve(store, comparison, {"heat": "mine"})
    with pytest.raises(ValueError, match="'mine' or 'theirs'"):
        conflicts.resolve(store, comparison, {"quality": "both"})  # type: ignore[dict-item]
    # Changed again after the comparison: nothing happens, the editor must look again.
    edit_outside(card, "heat: -1", "heat: 5")
    with pytest.raises(conflicts.ConflictError, match="changed again"):
        conflicts.resolve(store, comparison, {})
    assert store.rows_by_id([card_id])[0].conflict
    assert store.pending(card_id)["quality"] == (54, 70)
    card.unlink()
    with pytest.raises(conflicts.ConflictError, match="cannot read"):
        conflicts.compare(store, card_id)
    with pytest.raises(conflicts.ConflictError, match="no card"):
        conflicts.compare(store, 9999)


def test_non_editable_fields_only_take_theirs(lib) -> None:  # type: ignore[no-untyped-def]
    store, card_id, card = lib
    conflicted(store, card_id, card)
    edit_outside(card, "type: article", "type: video")
    comparison = conflicts.compare(store, card_id)
    kind = comparison.diff("type")
    assert kind is not None and not kind.editable and kind.default == "theirs"
    with pytest.raises(ValueError, match="cannot be edited"):
        conflicts.resolve(store, comparison, {"type": "mine"})
    conflicts.resolve(store, comparison)
    assert store.detail(card_id).data["type"] == "video"  # type: ignore[union-attr]
