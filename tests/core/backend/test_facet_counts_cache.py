"""SQLite's whole-library facet counts are kept per connection and read again after any change.

``SqliteBackend._every_counts`` keeps the counts of the whole library (the sidebar with no query, and the
base a common word's counts are taken from) with the connection that read them and the library's state
then (``PRAGMA data_version``, the connection's ``total_changes``). These tests go through the Store and
real edits: a commit of another connection, of the same connection, a write rolled back, a connection
closed and opened again; each time the counts must be the library's as it is now, and while nothing
changed they are not read again (the statement counted through SQLite's trace callback).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from curator.core.importer import import_paths
from curator.core.store import Store
from curator.core.store_types import Facets

CARDS = 20
#: The statement that counts the whole library's status (the start of _EVERY_STATUS).
EVERY = "SELECT 0, NULL, (SELECT count(*) FROM card)"


def _card(i: int) -> str:
    word = "report" if i % 5 else "summary"  # 16 of 20 say "report": counted as the library minus 4 cards
    return "\n".join([
        "---", f"title: Card {i} {word}", f"category: {('news', 'tech')[i % 2]}",
        f"provider: {{name: {('Ars', 'BBC', 'DW')[i % 3]}, domain: p.example}}",
        f"topics: [{('AI', 'Space')[i % 2]}]", "---", "",
    ])  # fmt: skip


@pytest.fixture
def path(tmp_path: Path) -> Path:
    cards = tmp_path / "cards"
    cards.mkdir()
    for i in range(CARDS):
        (cards / f"{i:02d}.md").write_text(_card(i), encoding="utf-8")
    db = tmp_path / "library.sqlite"
    with Store(db) as store:
        assert import_paths(store, [cards]).added == CARDS
    return db


@pytest.fixture
def lib(path: Path) -> Iterator[Store]:
    with Store(path) as store:
        yield store


def _plain(store: Store, query: str | None) -> Facets:
    """The counts as a fresh connection reads them (nothing kept)."""
    with Store(store.location) as fresh:
        return fresh.facets(query)


def _every_reads(store: Store, call: object) -> int:
    """How many times `call()` ran the whole library's status statement on `store`'s connection."""
    conn = store.backend._conn()  # type: ignore[attr-defined]
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    try:
        call()  # type: ignore[operator]
    finally:
        conn.set_trace_callback(None)
    return sum(1 for sql in seen if sql.startswith(EVERY))


def test_kept_while_nothing_changed(lib: Store) -> None:
    first = lib.facets()
    assert _every_reads(lib, lambda: (lib.facets(), lib.facets("report"), lib.facets(limit=1))) == 0
    assert lib.facets() == first == _plain(lib, None)
    assert lib.facets("report") == _plain(lib, "report")


def test_read_again_after_another_connections_commit(lib: Store, path: Path) -> None:
    before = lib.facets()
    with Store(path) as other:
        other.set_fields(other.ids("category:news"), {"published": True}, label="publish news")
    assert _every_reads(lib, lambda: lib.facets()) == 1
    after = lib.facets()
    assert (
        after.status["published"] == before.status["published"] + 10 == _plain(lib, None).status["published"]
    )
    assert lib.facets("report") == _plain(lib, "report")


def test_read_again_after_this_connections_own_edit(lib: Store) -> None:
    lib.facets("report")
    lib.add_topic(lib.ids("report"), "Weekly", label="weekly")
    assert ("Weekly", 16) in lib.facets().topics
    assert lib.facets("report") == _plain(lib, "report")


def test_counts_read_inside_a_transaction_that_rolled_back_are_not_kept(lib: Store) -> None:
    before = lib.facets()

    class Undone(Exception):
        pass

    with pytest.raises(Undone), lib.transaction():
        lib.set_fields(lib.ids(), {"published": True}, label="publish all")
        assert lib.facets().status["published"] == CARDS  # the transaction's own view
        raise Undone
    assert lib.facets() == before == _plain(lib, None)


def test_a_connection_opened_again_reads_afresh(lib: Store, path: Path) -> None:
    lib.facets()
    lib.close()
    with Store(path) as other:
        other.set_fields(other.ids("summary"), {"quality": 5}, label="low")
        other.add_topic(other.ids("summary"), "Brief", label="brief")
    assert ("Brief", 4) in lib.facets().topics  # the thread's new connection: nothing of the old one's
    assert lib.facets("report") == _plain(lib, "report")
