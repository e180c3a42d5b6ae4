"""The SQLite journal of schema 7: a bulk edit's entries found by (batch, card), the others also by card.

Whatever index finds an entry, the lookups by card answer exactly what schema 6's one index by card
answered: the statements below are schema 6's (every entry read by card, the whole journal scanned here,
since that index now holds only the entries written one by one).
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from curator.core.backend import sqlite
from curator.core.importer import import_paths
from curator.core.store import Store

#: Schema 6's field_changes and later_changes, word for word but for the index they could use.
V6_FIELD_CHANGES = (
    "SELECT j.card_id, j.field, j.new, j.editor, j.created, max(j.id) FROM journal_entry j "
    "JOIN edit_batch b ON b.id = j.batch_id WHERE b.undone = 0 AND j.card_id IN (SELECT value FROM json_each(?)) "
    "GROUP BY j.card_id, j.field"
)
V6_LATER_CHANGES = (
    "SELECT j.card_id, j.field, j.editor, j.created FROM journal_entry mine "
    "JOIN journal_entry j ON j.card_id = mine.card_id AND j.field = mine.field AND j.batch_id > mine.batch_id "
    "JOIN edit_batch b ON b.id = j.batch_id AND b.undone = 0 WHERE mine.batch_id = ? AND j.editor <> ? ORDER BY j.id"
)


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[tuple[Store, list[int]]]:
    """A library of 200 cards whose journal mixes bulk runs and single entries of two editors, one bulk
    batch undone, and batches both bulk and single (runs and the cards whose old values differ)."""
    cards = tmp_path / "cards"
    cards.mkdir()
    for n in range(200):
        (cards / f"c{n:03d}.md").write_text(f"---\ntitle: Card {n}\nquality: {n % 2}\n---\n")
    with (
        Store(tmp_path / "lib.sqlite", editor="Ana") as ana,
        Store(tmp_path / "lib.sqlite", editor="Ben") as ben,
    ):
        import_paths(ana, [cards])
        ids = sorted(ana.ids())
        ana.set_fields(ids[:90], {"published": True}, label="bulk")
        ana.set_fields(ids[20:21], {"heat": 5}, label="one")
        ben.set_fields(ids[20:110], {"heat": 77}, label="Ben's bulk: one card from 5, the rest from none")
        ben.set_fields(ids[30:34], {"published": False}, label="Ben's few")
        undone = ana.set_fields(ids[50:], {"quality": 9}, label="two runs, undone").batch_id
        assert undone is not None
        ana.undo(undone)
        ana.set_fields(ids[10:200:2], {"quality": 4}, label="every other card")
        ben.set_fields(ids[5:7], {"quality": 8}, label="Ben's two")
        yield ana, ids


def test_a_bulk_edits_runs_are_bulk_entries_and_its_batch_a_bulk_batch(
    journal: tuple[Store, list[int]],
) -> None:
    ana, _ = journal
    conn = ana.backend.db.connection()
    flags = dict(conn.execute("SELECT label, bulk FROM edit_batch").fetchall())
    assert flags == {"bulk": 1, "one": 0, "Ben's bulk: one card from 5, the rest from none": 1, "Ben's few": 0,
                     "two runs, undone": 1, "every other card": 1, "Ben's two": 0}  # fmt: skip
    # The card whose heat was 5 is a single entry beside Ben's bulk run of the others (from none).
    rows = conn.execute("SELECT j.old, j.bulk, count(*) FROM journal_entry j JOIN edit_batch b ON b.id = j.batch_id "
                        "WHERE b.label LIKE 'Ben''s bulk%' GROUP BY j.old, j.bulk ORDER BY j.old").fetchall()  # fmt: skip
    assert rows == [("5", 0, 1), ("null", 1, 89)]


def test_lookups_by_card_answer_as_one_index_of_every_entry_did(journal: tuple[Store, list[int]]) -> None:
    ana, ids = journal
    backend = ana.backend
    conn = backend.db.connection()
    rng = random.Random(7)
    for cards in [ids, ids[:1], ids[30:34], rng.sample(ids, 25), [ids[0], 10**9]]:
        expected = [(int(c), f, new, who, float(when)) for c, f, new, who, when, _ in
                    conn.execute(V6_FIELD_CHANGES, (json.dumps(cards),))]  # fmt: skip
        assert sorted(backend.field_changes(cards)) == sorted(expected)
        assert expected or cards == [ids[0], 10**9]
    assert ana.last_changes(ids[30])["published"].editor == "Ben"
    assert ana.last_changes(ids[60])["heat"].value == 77 and "quality" not in ana.last_changes(ids[61])
    assert (
        ana.last_changes(ids[20])["heat"].editor == "Ben" and ana.last_changes(ids[12])["quality"].value == 4
    )
    answered = 0
    for (batch,) in conn.execute("SELECT id FROM edit_batch").fetchall():
        for editor in ("Ana", "Ben", "Cy"):
            expected = [tuple(r) for r in conn.execute(V6_LATER_CHANGES, (batch, editor))]
            assert [tuple(r) for r in backend.later_changes(batch, editor)] == expected
            answered += len(expected)
    assert answered  # some batches have later changes by others to report


def test_the_lookups_search_the_journals_indexes(journal: tuple[Store, list[int]]) -> None:
    """Each lookup by card searches the index by card and, per bulk batch, the index by (batch, card);
    the bulk batches come from their partial index (named, whatever the statistics say)."""
    ana, ids = journal
    ana.optimize()
    conn = ana.backend.db.connection()
    for statement, params in ((sqlite._FIELD_CHANGES, (json.dumps(ids[:5]),)), (sqlite._LATER_CHANGES, (2, "Ana")),
                              (sqlite._DELETE_BULK_ENTRIES, (json.dumps(ids[:5]),))):  # fmt: skip
        plan = [row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {statement}", params)]
        assert "SEARCH edit_batch USING INDEX edit_batch_bulk (id>?)" in plan, plan
        assert "SEARCH j USING INDEX journal_entry_batch_card (batch_id=? AND card_id=?)" in plan, plan
        assert not [step for step in plan if step == "SCAN j" or step.startswith("SCAN journal_entry")], plan
    plan = [
        row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sqlite._FIELD_CHANGES}", (json.dumps(ids[:5]),))
    ]
    assert "SEARCH j USING INDEX journal_entry_card_id (card_id=?)" in plan


def test_deleted_cards_leave_no_entry_in_either_index(journal: tuple[Store, list[int]]) -> None:
    ana, ids = journal
    ana.write()  # (the files removed below are then gone at a rescan: the real path of delete_cards)
    gone = ana.rows_by_id([ids[0], ids[25], ids[31]])
    for row in gone:
        Path(row.path).unlink()
    assert import_paths(ana, [str(Path(gone[0].path).parent)]).removed == 3
    conn = ana.backend.db.connection()
    left = {c for (c,) in conn.execute("SELECT DISTINCT card_id FROM journal_entry")}
    assert not left & {ids[0], ids[25], ids[31]} and ids[1] in left
    assert ana.backend.integrity_check() == "ok"
