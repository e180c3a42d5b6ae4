"""A team library's list page (issue 10): ids first from the indexes, then the page's rows; schema 5.

`topic:AI date>=2020-03-01 date<2020-07` on the 100k benchmark library walked card's primary key and
read 45k ~1 KB rows (13k pages, ~35-70 ms) to find its first 200 cards, whose dates sit late in id
order. A page now picks its ids in a statement of its own, which reads the date from pg_schema.LIST_INDEX
without visiting a card row, then reads those rows by id. These tests measure what the statement the
backend sends reads on a library shaped like that one, that pages are the whole list's slices in every
order, and that a version-4 library is refused until ``curator migrate`` builds the index.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from curator.core.backend import pg_schema
from curator.core.backend.pg_schema import LibraryNeedsMigration, check_schema, open_library
from curator.core.importer import import_paths
from curator.core.store import Store

CARDS = 20_000


@pytest.fixture(scope="module")
def timeline(pg_cluster: Any) -> Iterator[str]:  # tests/pgserver.PgCluster
    """CARDS cards whose dates rise with their ids (a library imported folder by folder, oldest first),
    one topic of five each, quality and heat with NULLs and ties; vacuumed and analysed as autovacuum
    leaves an imported library."""
    url = pg_cluster.url(pg_cluster.create_database())
    with psycopg.connect(url, autocommit=True) as conn:
        open_library(conn)
        conn.execute(
            "INSERT INTO card (path, size, mtime_ns, sha256, imported_at, title, date, quality, heat, "
            "published, topics) SELECT '/c/' || lpad(i::text, 6, '0'), 0, 0, '', 0, "
            "'Title ' || (i * 7919 %% 997), "
            "to_char(timestamp '2019-01-01' + i * interval '53 minutes', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
            "CASE WHEN i %% 7 = 0 THEN NULL ELSE i %% 101 END, i %% 13, i %% 3 = 0, "
            "'[\"T' || (i %% 5) || '\"]' FROM generate_series(1, %s) AS i",
            (CARDS,),
        )
        conn.execute(
            "INSERT INTO card_topic (card_id, name, position) SELECT id, 'T' || (id % 5), 0 FROM card"
        )
        conn.execute("VACUUM ANALYZE card")
        conn.execute("VACUUM ANALYZE card_topic")
    yield url


def _late_date(store: Store) -> str:
    """A date four fifths into the library's id order."""
    (row,) = store.rows("", offset=CARDS * 4 // 5, limit=1)
    assert row.date is not None
    return row.date[:10]


def _sent(store: Store, monkeypatch: pytest.MonkeyPatch, query: str) -> tuple[str, list[Any]]:
    """The statement (and parameters) ``store.rows(query, limit=200)`` sends, after it ran."""
    backend: Any = store.backend
    sent: list[tuple[str, list[Any]]] = []
    real = backend._all

    def recorded(sql: str, params: Any = ()) -> Any:
        sent.append((sql, list(params)))
        return real(sql, params)

    monkeypatch.setattr(backend, "_all", recorded)
    rows = store.rows(query, limit=200)
    monkeypatch.undo()
    assert len(rows) == 200 and len(sent) == 1
    return sent[0]


def _card_rows_read(node: dict[str, Any]) -> int:
    """How many card rows a plan (EXPLAIN ANALYZE, JSON) read from the table itself, filtered out or kept."""
    read = 0
    if node.get("Relation Name") == "card":
        if node["Node Type"] == "Index Only Scan":
            read += node["Heap Fetches"]
        else:
            read += (node["Actual Rows"] + node.get("Rows Removed by Filter", 0)) * node["Actual Loops"]
    return read + sum(_card_rows_read(child) for child in node.get("Plans", []))


def test_a_late_date_range_is_read_from_the_list_index(
    timeline: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page's statement reads its 200 card rows and no others: the walk in id order reads the dates
    from the list index. Before schema 5 it read every card row from the first id to the 200th match
    (~17k rows here, 45k of the 100k benchmark library)."""
    with Store(timeline) as store:
        query = f"topic:T1 date>={_late_date(store)}"
        sql, params = _sent(store, monkeypatch, query)
    with psycopg.connect(timeline, autocommit=True) as conn:
        explained = conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params).fetchone()
    assert explained is not None
    (plan,) = explained
    shown = json.dumps(plan, indent=1)
    assert _card_rows_read(plan[0]["Plan"]) == 200, shown
    assert '"Index Name": "card_list"' in shown, shown


@pytest.mark.parametrize(
    "query", ["", "topic:T2", "quality>=60 published:false", "heat:-1 OR quality<5", "-topic:T3 heat<5"]
)
@pytest.mark.parametrize(
    "sort",
    [
        (),
        (("date", True),),
        (("quality", True), ("title", False)),
        (("heat", False),),
        (("published", True),),
    ],
)
def test_pages_are_the_whole_lists_slices(
    timeline: str, query: str, sort: tuple[tuple[str, bool], ...]
) -> None:
    """Ids first, rows second: the same cards in the same order as one statement would give, at the
    start, in the middle (an OFFSET) and past the end."""
    with Store(timeline) as store:
        whole = store.rows(query, sort=sort)
        assert whole
        for offset, limit in ((0, 200), (1234, 200), (len(whole) - 5, 200), (0, 0), (len(whole) + 3, 10)):
            assert store.rows(query, sort=sort, offset=offset, limit=limit) == whole[offset : offset + limit]
        assert store.rows(query, sort=sort, offset=17) == whole[17:]


def test_a_version_4_library_is_refused_until_migrated_with_the_list_index(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        open_library(conn)
        conn.execute("DROP INDEX card_list")  # back to version 4's layout
        conn.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
        with pytest.raises(LibraryNeedsMigration, match="uses library schema 4; this Curator needs 5"):
            open_library(conn)
        assert pg_schema.migrate(conn) == [5]
        assert check_schema(conn) == 5
        (definition,) = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'card_list'"
        ).fetchone()  # type: ignore[misc]
        assert definition.endswith("USING btree (id) INCLUDE (date, quality, heat)")
        assert pg_schema.MIGRATIONS[4] is not None and pg_schema.migrate(conn) == []  # nothing left to do


def test_an_import_leaves_the_cards_all_visible_for_index_only_scans(pg_url: str, tmp_path: Path) -> None:
    """The importer's optimize VACUUMs card (FREEZE): with ANALYZE alone the visibility map stayed empty
    until autovacuum came by, and each index entry of a page's id walk cost a visit to its card row."""
    for i in range(600):
        (tmp_path / f"{i:04d}.md").write_text(
            f"---\ntitle: Card {i}\nquality: {i % 101}\n"
            f"publishedDateTime: 2021-03-{i % 28 + 1:02d}T10:00:00Z\n---\n",
            encoding="utf-8",
        )
    with Store(pg_url) as store:
        assert import_paths(store, [str(tmp_path)]).added == 600
    with psycopg.connect(pg_url, autocommit=True) as conn:
        pages, visible = conn.execute(  # type: ignore[misc]
            "SELECT relpages, relallvisible FROM pg_class WHERE relname = 'card'"
        ).fetchone()
    assert pages > 0 and visible == pages
