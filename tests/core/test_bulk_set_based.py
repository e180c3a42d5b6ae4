"""Bulk edits are set-based (issue 10): the current values read from the card columns, and the pending and
journal rows written one statement per run of cards sharing their values, give exactly the rows that
reading every card's mapping and writing row by row gave, on both backends.

The cards mix what the shortcuts must get right: a bool or integer the column holds exactly, keys that are
absent, values of the wrong type (a column NULL, read back from the mapping), an integer too large for a
column, pending edits already made, and long runs of equal values broken by short ones.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from curator.core import fields
from curator.core.cards import read_card
from curator.core.store import Store
from curator.core.store_rows import card_record

#: Front matter by kind: the kinds are laid out so that runs of equal values are long (>= 32 cards) and short.
KINDS = {
    "plain": "published: false\nquality: 40\nheat: 5\n",
    "done": "published: true\nquality: 80\nheat: -2\n",
    "bare": "",
    "odd": "published: 'yes'\nquality: high\nheat: 4.5\n",
    "huge": "published: false\nquality: 99999999999999999999999\nheat: 5\n",
}
LAYOUT = ["plain"] * 40 + ["done", "bare", "odd", "huge", "plain", "done"] + ["plain"] * 36 + ["bare"] * 3 + [
    "odd", "huge", "done"
] * 4  # fmt: skip
EDITED = ("published", "quality", "heat")


def _library(folder: Path, url: str) -> Store:
    folder.mkdir()
    for n, kind in enumerate(LAYOUT):
        (folder / f"c{n:03d}.md").write_text(
            f"---\ntitle: Card {n}\n{KINDS[kind]}---\nBody.\n", encoding="utf-8"
        )
    store = Store(url, editor="Ana")
    # Stored as the importer stores each card, in LAYOUT's order (an import takes a folder's files in the
    # order the folder lists them): the card ids follow the layout.
    records = []
    for n in range(len(LAYOUT)):
        card, _ = read_card(str(folder / f"c{n:03d}.md"))
        assert card.state is not None
        records.append(card_record(card.path, card.state, card.data, 0.0))
    with store.transaction():
        store.backend.insert_cards(records)
    assert [r.title for r in store.rows_by_id(store.ids())] == [f"Card {n}" for n in range(len(LAYOUT))]
    return store


def _second_url(request: pytest.FixtureRequest, library_url: str, tmp_path: Path) -> str:
    """Another library on the same backend as ``library_url`` (on PostgreSQL a new database, same server)."""
    if library_url.startswith(("postgresql://", "postgres://")):
        cluster = request.getfixturevalue("pg_cluster")
        return str(cluster.url(cluster.create_database()))
    return str(tmp_path / "rowwise.sqlite")


@pytest.fixture
def pair(request: pytest.FixtureRequest, tmp_path: Path, library_url: str) -> Iterator[tuple[Store, Store]]:
    """Two libraries of the same cards with the same pending edits: one edited in bulk, one card by card."""
    bulk = _library(tmp_path / "bulk", library_url)
    rowwise = _library(tmp_path / "rowwise", _second_url(request, library_url, tmp_path))
    for store in (bulk, rowwise):
        ids = store.ids()
        # Pending edits already there, among the short runs (the long runs of LAYOUT stay unbroken).
        store.set_fields(ids[40:46] + ids[85::2], {"quality": 60}, label="earlier")
        store.set_fields(ids[41:46:2] + ids[86::3], {"published": True}, label="earlier")
    yield bulk, rowwise
    bulk.close()
    rowwise.close()


def _reference(store: Store, field: str, cid: int) -> tuple[Any, Any]:
    """(file value, current value) of one field as the card's stored mapping and pending row say."""
    text = store.backend.file_value(cid, field)
    base = None if text is None else json.loads(text)
    pending = {f: json.loads(v) for f, _, v in store.backend.pending_rows(cid)}
    return base, pending.get(field, base)


def _state(store: Store) -> dict[str, Any]:
    """Everything an edit touches, by card position (ids may differ between the two libraries)."""
    ids = store.ids()
    pos = {cid: n for n, cid in enumerate(ids)}
    rows = store.rows_by_id(ids)
    return {
        "columns": [(r.published, r.quality, r.heat, r.problems, r.dirty) for r in rows],
        "pending": [
            (pos[cid], field, base, value, editor)
            for cid in ids
            for (field, base, value), (_, editor, _) in zip(
                store.backend.pending_rows(cid), store.backend.pending_authors(cid), strict=True
            )
        ],
        "problems": [len(fields.problems(store.current_data(cid))) for cid in ids],
    }


def _entries(store: Store, batch_id: int) -> list[tuple[int, str, Any, Any]]:
    pos = {cid: n for n, cid in enumerate(store.ids())}
    return [
        (pos[c], f, json.loads(o), json.loads(n))
        for b, c, f, o, n in store.backend.journal_rows()
        if b == batch_id
    ]


@pytest.mark.parametrize("field", EDITED)
def test_current_values_from_the_columns_are_those_of_the_mappings(
    pair: tuple[Store, Store], field: str
) -> None:
    bulk, _ = pair
    ids = bulk.ids()
    rows = bulk.backend.current(field, ids)
    assert sorted(cid for cid, _, _ in rows) == ids  # each card once (SQLite: in runs of equal values)
    for cid, base, cur in rows:
        assert (json.loads(base), json.loads(cur)) == _reference(bulk, field, cid), cid
        # The same JSON spelling the journal always recorded (a bool or an integer has only one).
        text = bulk.backend.file_value(cid, field)
        if cid not in {c for c, f, _ in bulk.backend.pending_values([cid]) if f == field}:
            assert base == cur == ("null" if text is None else text)


@pytest.mark.parametrize("change", [{"published": True}, {"quality": 70, "heat": 5}, {"heat": None}])
def test_a_bulk_edit_gives_the_rows_of_one_card_at_a_time(
    pair: tuple[Store, Store], change: dict[str, Any]
) -> None:
    bulk, rowwise = pair
    ids = bulk.ids()
    before = _state(bulk)
    assert before == _state(rowwise)
    versions = bulk.backend.versions(ids)
    batch = bulk.set_fields(ids, change, label="bulk")
    assert batch.batch_id is not None
    # Every changed card's version moved on (how far is each backend's own: a trigger per statement on
    # PostgreSQL), and only theirs.
    now = bulk.backend.versions(ids)
    assert {cid for cid in ids if now[cid] > versions[cid]} == set(batch.changed)
    assert all(now[cid] == versions[cid] for cid in ids if cid not in batch.changed)
    singles = [rowwise.set_fields([cid], change, label="one").batch_id for cid in rowwise.ids()]
    after = _state(bulk)
    assert after == _state(rowwise)
    assert after["problems"] == [c[3] for c in after["columns"]]  # the counts follow the current values
    entries = _entries(bulk, batch.batch_id)
    one_by_one = [e for b in singles if b is not None for e in _entries(rowwise, b)]
    assert sorted(entries) == sorted(one_by_one) and entries
    # Within the batch, each field's entries come group by group (the cards sharing their old and new
    # values, one statement each however they interleave among the cards), each group in the cards' order.
    for field in change:
        mine = [e for e in entries if e[1] == field]
        keys = [json.dumps(e[2:]) for e in mine]
        order = list(dict.fromkeys(keys))
        assert keys == sorted(keys, key=order.index)  # each group's entries together
        for key in order:
            cards = [e[0] for e, k in zip(mine, keys, strict=True) if k == key]
            assert cards == sorted(cards)
    # Undone, the bulk library is back where the card-by-card one is once each of its steps is undone.
    bulk.undo(batch.batch_id)
    for b in reversed(singles):
        if b is not None:
            rowwise.undo(b)
    assert _state(bulk) == _state(rowwise) == before


def test_runs_are_the_rows_they_stand_for() -> None:
    """edit_runs.Runs (a bulk edit's pending and journal rows, run by run) reads as the row tuples it holds,
    and the backends' run finders give its runs back; plain rows are found in runs as before."""
    from curator.core.backend.base import card_runs
    from curator.core.backend.edit_runs import Runs, id_runs

    runs = Runs([(("published", "false", "true"), [3, 5, 9]), (("quality", "1", "2"), []),
                 (("published", "null", "true"), [4])])  # fmt: skip
    rows = [(3, "published", "false", "true"), (5, "published", "false", "true"),
            (9, "published", "false", "true"), (4, "published", "null", "true")]  # fmt: skip
    assert list(runs) == rows and len(runs) == 4 and bool(runs)
    assert [runs[i] for i in range(-4, 4)] == rows + rows and runs[1:3] == rows[1:3]
    with pytest.raises(IndexError):
        runs[4]
    assert not Runs([]) and list(Runs([])) == []
    assert list(id_runs(runs)) == [(("published", "false", "true"), [3, 5, 9]), (("published", "null", "true"), [4])]
    assert list(card_runs(runs)) == list(card_runs(rows)) == [
        (("published", "false", "true"), rows[:3]), (("published", "null", "true"), rows[3:])
    ]  # fmt: skip
    assert list(id_runs(rows)) == list(id_runs(runs))
    assert Runs([(("a", "b"), [7, 2]), (("c", "d"), [2, 1])]).card_ids() == [1, 2, 7]
