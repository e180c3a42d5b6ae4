"""Store.card_labels: the narrow read the publishing gate makes of many cards, equal to their whole rows.

Both backends (``library_url``): the labels carry exactly the values the card's CardRow holds for the same
columns (the gate named and ranked cards from CardRows before), current values included (a pending edit
of quality or published shows), unknown ids are left out, and an empty list reads nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from curator.core.importer import import_paths
from curator.core.store import CardLabel, Store


def _card(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(f"---\n{text}\n---\n", encoding="utf-8")


@pytest.fixture
def lib(tmp_path: Path, library_url: str) -> Iterator[Store]:
    cards = tmp_path / "cards"
    cards.mkdir()
    _card(cards, "a.md", "title: Rockets to the Moon\nquality: 80\npublished: true\n"
                         "publishedDateTime: 2024-03-01T10:00:00Z\n"
                         "provider: {name: Ars, domain: ars.example}")
    _card(cards, "b.md", "title: Quiet week\nquality: 20\npublished: false\ndate: 2024-02-02")
    _card(cards, "c.md", "quality: high\npublished: maybe")  # no title; a wrong quality and published
    store = Store(library_url)
    assert import_paths(store, [cards]).added == 3
    yield store
    store.close()


def _expected(store: Store, ids: list[int]) -> dict[int, CardLabel]:
    return {r.id: CardLabel(r.id, r.path, r.title, r.provider, r.published_at, r.date, r.quality, r.published)
            for r in store.rows_by_id(ids)}  # fmt: skip


def test_labels_hold_the_rows_values(lib: Store) -> None:
    ids = lib.ids()
    labels = lib.card_labels(ids)
    assert labels == _expected(lib, ids) and len(labels) == 3
    by_name = {Path(label.path).name: label for label in labels.values()}
    a, b, c = by_name["a.md"], by_name["b.md"], by_name["c.md"]
    assert (a.title, a.provider, a.quality, a.published) == ("Rockets to the Moon", "Ars", 80, True)
    assert a.published_at == "2024-03-01T10:00:00Z" and a.date == "2024-03-01T10:00:00"
    assert (b.published, b.quality, b.published_at) == (False, 20, "2024-02-02")
    assert (c.title, c.quality, c.published) == (None, None, None)  # wrong types: no column value
    assert all(type(label.published) in (bool, type(None)) for label in labels.values())


def test_labels_follow_edits_and_leave_out_unknown_ids(lib: Store) -> None:
    ids = lib.ids()
    result = lib.set_fields(ids, {"published": True, "quality": 55}, label="bulk")
    assert result.batch_id is not None
    labels = lib.card_labels([*ids, 10_000_000])
    assert set(labels) == set(ids)
    assert {(label.published, label.quality) for label in labels.values()} == {(True, 55)}
    assert labels == _expected(lib, ids)
    lib.undo(result.batch_id)
    assert lib.card_labels(ids) == _expected(lib, ids)
    assert lib.card_labels([]) == {}
