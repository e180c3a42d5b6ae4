"""The SQLite backend under the Store: connection settings, one connection per thread, query plans."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from curator.core.importer import import_paths
from curator.core.store import Store

SEED = Path(__file__).resolve().parents[3] / "seeds" / "000_63d795e8c7832238.txt"


def make(folder: Path, name: str, **values: object) -> Path:
    lines = ["---"] + [f"{k}: {v}" for k, v in values.items()] + ["---", ""]
    path = folder / name
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def lib(tmp_path: Path) -> Iterator[Store]:
    cards = tmp_path / "cards"
    cards.mkdir()
    make(cards, "a.md", title="Rockets to the Moon", category="science", quality=80, topics="[Space]")
    make(cards, "b.md", title="Quiet week", category="news", quality=20, heat=5, topics="[AI]")
    make(cards, "c.md", title="Busy week", category="news", quality=30, topics="[AI]")
    make(cards, "d.md", title="Loud week", category="news", quality=40)
    store = Store(tmp_path / "lib.sqlite")
    import_paths(store, [cards])
    yield store
    store.close()


def test_new_library_has_the_current_schema(tmp_path: Path) -> None:
    with Store(tmp_path / "new.sqlite") as store:
        assert store.schema_version >= 1
        settings = store.backend.connection_settings()
        assert settings["journal_mode"] == "wal" and settings["foreign_keys"] == 1
        assert store.count() == 0 and store.rows() == []


def test_worker_thread_uses_its_own_connection(lib: Store) -> None:
    results: dict[str, object] = {}

    def work() -> None:
        results["count"] = lib.count()
        results["edit"] = lib.add_topic(lib.ids("category:news"), "Weekly", label="from a worker")
        results["conn"] = id(lib.backend.db.connection())

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert results["count"] == 4 and len(results["edit"].changed) == 3
    assert results["conn"] != id(lib.backend.db.connection())
    assert lib.facets().topics[0] == ("Weekly", 3) or ("Weekly", 3) in lib.facets().topics


def plan(store: Store, query: str, sort: list[tuple[str, bool]]) -> str:
    """SQLite's plan for a page of the list, as text."""
    from curator.core.query import parse

    return store.backend.query_plan(parse(query), sort)


def test_rare_flags_use_their_partial_indexes(tmp_path: Path) -> None:
    # Enough cards that walking the date index would be a real plan, none of them flagged: ANALYZE writes
    # no statistics for an empty index, which is the case the pinned estimate is for.
    cards = tmp_path / "cards"
    cards.mkdir()
    for i in range(300):
        make(cards, f"c{i:03}.md", title=f"Card {i}", quality=i % 100,
             publishedDateTime=f"2020-01-{i % 28 + 1:02}")
    with Store(tmp_path / "lib.sqlite") as store:
        import_paths(store, [cards])
        for flag, index in [("dirty", "card_dirty_flag"), ("conflict", "card_conflict_flag"),
                            ("missing", "card_missing_flag"), ("problems", "card_problems_flag")]:
            for sort in ([("date", True)], [("quality", False)], []):
                assert index in plan(store, f"{flag}:true", sort), (flag, sort)
        assert "flag" not in plan(store, "-dirty:true", [("date", True)])
        stats = store.backend.planner_statistics()
        assert stats["card_dirty_flag"] == "1 1" and stats["card_date_id"].startswith("300 ")
        # Flagged cards are found through the index, whatever the statistics say.
        ids = store.ids()[:250]
        store.set_fields(ids, {"published": True}, label="bulk")
        assert store.ids("dirty:true") == ids
        assert [r.id for r in store.rows("dirty:true", sort=[("date", True)], limit=3)] == \
            store.ids("dirty:true", sort=[("date", True)])[:3]





def test_a_deleted_card_takes_its_pending_edits_and_journal_entries_with_it(lib: Store, tmp_path: Path) -> None:
    """Schema 5's edit tables have no foreign keys (sqlite_schema.EDIT_TABLES): the backend deletes a
    card's pending edits and journal entries itself, as the cascade did, and leaves the other cards'."""
    backend = lib.backend
    news = lib.ids("category:news")
    gone, kept = news[0], news[1]
    both = lib.set_fields(news, {"quality": 77}, label="both")
    assert both.batch_id is not None and both.changed == news
    with backend.transaction():
        backend.delete_cards([gone])
    assert lib.rows_by_id([gone]) == [] and backend.pending_rows(gone) == []
    assert gone not in {entry[1] for entry in backend.journal_rows()}
    assert backend.pending_rows(kept) and kept in {entry[1] for entry in backend.journal_rows()}
    # A rescan that finds a file gone deletes its card the same way, once nothing of it is pending: here
    # its edit was undone, so only the journal still holds it.
    assert lib.undo(both.batch_id).changed == news[1:]
    [path] = [row.path for row in lib.rows_by_id([kept])]
    os.remove(path)
    assert import_paths(lib, [str(tmp_path / "cards")]).removed == 1
    assert lib.rows_by_id([kept]) == [] and kept not in {entry[1] for entry in backend.journal_rows()}
    conn = backend.db.connection()
    for table in ("pending_edit", "journal_entry"):
        orphans = conn.execute(f"SELECT count(*) FROM {table} WHERE card_id NOT IN (SELECT id FROM card)")
        assert orphans.fetchone()[0] == 0, table
