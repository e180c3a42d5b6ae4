"""Pages, counts and facets of the list on both backends, and the SQLite plans behind them (issue 12).

SQLite finds a page of a common word by walking the sort order's index and stopping at the LIMIT, reads a
full-text page in id order straight off the index, counts full text on the index alone and counts facets in
one statement: each must give exactly the cards the plain plan gives (checked against ``Store.ids``, which
has no LIMIT and so takes the plain plan), and the plans must be the fast ones (checked on SQLite's own
EXPLAIN QUERY PLAN of the statements the Store ran).
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from curator.core.importer import import_paths
from curator.core.store import Store

CARDS = 300
#: Case-mixed spellings: the counts group them as one (NOCASE on SQLite, curator_fold on PostgreSQL).
CATEGORIES = ("News", "news", "Tech", "science")
PROVIDERS = ("Ars", "ars", "BBC")
TOPICS = ("AI", "ai", "Space", "Health")
SPELLINGS = frozenset((*CATEGORIES, *PROVIDERS, *TOPICS))


def _card(i: int) -> str:
    common = "report" if i % 10 else "summary"  # 270 of 300 say "report"
    rare = " rarity" if i in (7, 150, 299) else ""
    lines = [
        "---",
        f"title: Card {i} {common}{rare}",
        f"excerpt: Reporting number {i}",
        f"category: {CATEGORIES[i % len(CATEGORIES)]}",
        f"provider: {{name: {PROVIDERS[i % len(PROVIDERS)]}, domain: p{i % 3}.example}}",
        f"topics: [{TOPICS[i % len(TOPICS)]}, {TOPICS[(i // 4) % len(TOPICS)]}]",
    ]
    if i % 7:  # every seventh card has no quality and no date: NULLs sort last either way
        lines.append(f"quality: {i * 37 % 101}")
        lines.append(f"publishedDateTime: 2020-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00Z")
    if i % 5 == 0:
        lines.append("published: true")
    return "\n".join([*lines, "---", ""])


@pytest.fixture
def lib(tmp_path: Path, library_url: str) -> Iterator[Store]:
    cards = tmp_path / "cards"
    cards.mkdir()
    for i in range(CARDS):
        (cards / f"{i:03d}.md").write_text(_card(i), encoding="utf-8")
    store = Store(library_url)
    report = import_paths(store, [cards])
    assert report.added == CARDS and report.failed == 0
    yield store
    store.close()


QUERIES = (
    "report", "rarity", "report -rarity", "report quality>=50", "rep*", "report OR rarity",
    "card published:true",
)  # fmt: skip
SORTS: tuple[tuple[tuple[str, bool], ...], ...] = (
    (), (("id", True),), (("date", True),), (("quality", False),), (("date", False), ("title", True)),
    (("title", False),), (("provider", True),),
)  # fmt: skip
WINDOWS = ((0, 10), (5, 20), (250, 100))


def test_every_page_is_the_slice_of_the_whole_sorted_answer(lib: Store) -> None:
    for query in QUERIES:
        for sort in SORTS:
            every = lib.ids(query, sort=sort)
            assert every, query
            for offset, limit in WINDOWS:
                page = [row.id for row in lib.rows(query, sort=sort, offset=offset, limit=limit)]
                assert page == every[offset : offset + limit], (query, sort, offset, limit)


def test_counts_equal_the_cards_listed(lib: Store) -> None:
    for query in (*QUERIES, "summary", "nothingmatches", '"card 7"'):
        assert lib.count(query) == len(lib.ids(query)), query


def _fold(name: str) -> str:
    return name.lower()


@pytest.mark.parametrize("query", [None, "report", "rarity", "quality>=50", "topic:ai"])
def test_facets_count_the_query_cards_once_per_spelling_folded(lib: Store, query: str | None) -> None:
    rows = lib.rows(query)
    facets = lib.facets(query)
    assert facets.status["all"] == len(rows)
    assert facets.status["published"] == sum(1 for r in rows if r.published)
    assert facets.status["unpublished"] == sum(1 for r in rows if not r.published)
    assert facets.status["changed"] == facets.status["conflicts"] == facets.status["missing"] == 0
    for got, values in (
        (facets.categories, [r.category for r in rows if r.category is not None]),
        (facets.providers, [r.provider for r in rows if r.provider is not None]),
        (facets.topics, [t for r in rows for t in r.topics]),
    ):
        expected = Counter(_fold(v) for v in values)
        assert {_fold(name): n for name, n in got} == dict(expected)
        assert all(name in SPELLINGS for name, _ in got)  # each group is named by one of its spellings
        assert [n for _, n in got] == sorted((n for _, n in got), reverse=True)
    limited = lib.facets(query, limit=1)
    assert limited.categories == facets.categories[:1] and limited.topics == facets.topics[:1]


def _statements(store: Store, run: object) -> list[str]:
    """The SQL statements (parameters expanded) the Store's SQLite connection ran during ``run()``."""
    seen: list[str] = []
    conn: sqlite3.Connection = store.backend._conn()  # type: ignore[attr-defined]
    conn.set_trace_callback(seen.append)
    try:
        run()  # type: ignore[operator]
    finally:
        conn.set_trace_callback(None)
    return seen


def _page_plan(store: Store, query: str, sort: tuple[tuple[str, bool], ...], limit: int = 10) -> str:
    statements = _statements(store, lambda: store.rows(query, sort=sort, limit=limit))
    (page,) = [s for s in statements if s.lstrip().startswith("SELECT") and "ORDER BY" in s and "LIMIT" in s]
    conn: sqlite3.Connection = store.backend._conn()  # type: ignore[attr-defined]
    return " / ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + page))


@pytest.mark.sqlite_only("the plans are SQLite's")
def test_a_common_word_is_paged_by_walking_the_sort_index(lib: Store) -> None:
    plan = _page_plan(lib, "report", (("date", True),))
    assert "card_date_id" in plan and "TEMP B-TREE" not in plan, plan  # no sort of all 270 matches
    plan = _page_plan(lib, "report quality>=50", (("quality", False),))
    assert "TEMP B-TREE" not in plan, plan
    # A rare word's few matches are looked up and sorted: walking the index would visit every card.
    plan = _page_plan(lib, "rarity", (("date", True),))
    assert "TEMP B-TREE FOR ORDER BY" in plan and "INTEGER PRIMARY KEY" in plan, plan


@pytest.mark.sqlite_only("the plans are SQLite's")
def test_full_text_in_id_order_is_read_off_the_index(lib: Store) -> None:
    for sort in ((), (("id", True),)):
        plan = _page_plan(lib, "report", sort)
        assert "VIRTUAL TABLE" in plan and "TEMP B-TREE" not in plan and "LIST SUBQUERY" not in plan, plan


@pytest.mark.sqlite_only("the statements are SQLite's")
def test_full_text_count_and_facets_run_the_query_once(lib: Store) -> None:
    counted = _statements(lib, lambda: lib.count("report"))
    assert [s for s in counted if "count(" in s.lower()] == [
        "SELECT count(*) FROM card_index WHERE card_index MATCH '\"report\"'"
    ]

    def queried(query: str) -> list[str]:  # the statements that evaluate the query over the cards
        return [s for s in _statements(lib, lambda: lib.facets(query)) if s.startswith("WITH")]

    (rare,) = queried("rarity")
    assert "MATERIALIZED" in rare and "NOT coalesce(" not in rare
    # "report" is on 270 of 300 cards: counted as the library minus the 30 cards without it.
    (common,) = queried("report")
    assert "NOT coalesce(" in common and "+" in common
