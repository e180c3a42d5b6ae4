"""The PostgreSQL backend through the real Store: what only a team library has, and the same answers as SQLite.

The Store's own suites (test_store, test_edits) run on both backends through ``library_url``; these tests
cover the seeds' checks index on the server, searches giving SQLite's results card for card, and the one
writer at a time.
"""

from __future__ import annotations

import re
import shutil
import threading
from pathlib import Path

import pytest

from curator.core.backend.postgres import PostgresBackend
from curator.core.importer import import_paths
from curator.core.store import LibraryBusy, LibraryError, Store

ROOT = Path(__file__).resolve().parents[3]
SEED_GROUPS = {("url", (121, 123)), ("url", (149, 150)), ("url", (238, 240)), ("copy", (83, 85)),
               ("copy", (113, 115)), ("copy", (172, 175)), ("copy", (174, 178))}  # fmt: skip
QUERIES = ("", "moon", "rob*", '"artificial intelligence"', "ai -robot", "category:news OR topic:ai",
           "published:false", "heat<10", "-quality>=60", "date=2021", "path:00", "provider:example.com",
           "title* OR -heat>5", "++")  # fmt: skip


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds", ignore=shutil.ignore_patterns("*.py", "README"))
    return tmp_path / "seeds"


def _number(path: str) -> int:
    found = re.match(r"(\d{6})_", Path(path).name)
    assert found, path
    return int(found.group(1))


def test_a_url_opens_a_postgres_backend_and_a_path_stays_sqlite(pg_url: str, tmp_path: Path) -> None:
    with Store(pg_url) as team:
        assert isinstance(team.backend, PostgresBackend)
        assert "@" in team.location and ":" not in team.location.split("@")[0].removeprefix("postgresql://")
    with Store(tmp_path / "lib.sqlite") as alone:
        assert not isinstance(alone.backend, PostgresBackend)
    with pytest.raises(ValueError, match="unsupported library URL scheme 'mysql'"):
        Store("mysql://u@h/db")
    assert not (tmp_path / "mysql:").exists()


def test_searches_and_sorts_equal_sqlite_on_the_seeds(pg_url: str, seeds: Path, tmp_path: Path) -> None:
    with Store(pg_url) as team, Store(tmp_path / "lib.sqlite") as alone:
        import_paths(team, [seeds])
        import_paths(alone, [seeds])
        assert team.count() == alone.count() > 200
        for query in QUERIES:
            for sort in ((), (("title", False),), (("date", True), ("quality", False)), (("heat", True),)):
                q = query or None
                team_paths = [r.path for r in team.rows(q, sort=sort)]
                assert team_paths == [r.path for r in alone.rows(q, sort=sort)], (query, sort)
            assert team.facets(query or None) == alone.facets(query or None), query
        assert team.values("topics") == alone.values("topics")
        assert team.totals() == alone.totals()


def test_the_seed_groups_are_found_and_saved_on_the_server(pg_url: str, seeds: Path) -> None:
    with Store(pg_url) as team:
        import_paths(team, [seeds])
        assert team.checks_stale()
        team.refresh_checks()
        found = {(g.kind, tuple(sorted(_number(team.backend.card_path(i) or "") for i in g.ids)))
                 for g in team.duplicate_groups()}  # fmt: skip
        assert found == SEED_GROUPS
    with Store(pg_url) as again:  # saved on the server: another client reads them without a build
        assert not again.checks_stale() and len(again.duplicate_groups()) == len(SEED_GROUPS)


def test_one_writer_at_a_time_and_a_busy_library_changes_nothing(pg_url: str, seeds: Path) -> None:
    with Store(pg_url) as first, Store(pg_url, busy_timeout=0.2) as second:
        import_paths(first, [seeds])
        card = first.ids()[0]
        holding, release = threading.Event(), threading.Event()

        def hold() -> None:
            with first.transaction():
                first.backend.set_meta("held", "yes")
                holding.set()
                release.wait(10)

        thread = threading.Thread(target=hold)
        thread.start()
        assert holding.wait(10)
        try:
            with pytest.raises(LibraryBusy, match="busy"):
                second.set_fields([card], {"quality": 7}, label="quality")
        finally:
            release.set()
            thread.join(10)
        assert second.pending(card) == {} and second.history() == []
        second.set_fields([card], {"quality": 7}, label="quality")  # the lock is free again
        assert first.pending(card)["quality"][1] == 7


def test_a_database_of_another_program_is_refused(pg_url: str, pg_cluster: object) -> None:
    name = pg_url.rsplit("/", 1)[1]
    pg_cluster.sql("CREATE TABLE invoices (id int)", dbname=name)  # type: ignore[attr-defined]
    with pytest.raises(LibraryError, match="not a Curator library.*invoices"):
        Store(pg_url)


def test_bulk_card_writes_are_one_statement_each(pg_url: str, tmp_path: Path) -> None:
    """An import's new cards (COPY), a re-import's changed cards (staged UPDATE) and a Write's take-back are
    one statement per batch on the card table: the change log gets one row each (a row per card before),
    and every card comes back with what its file says."""
    from curator.core.backend import postgres

    count = postgres._STAGED_AT_LEAST + 8
    files = [tmp_path / f"c{i:02d}.md" for i in range(count)]
    for i, card in enumerate(files):
        card.write_text(f"---\ntitle: Card {i}\nquality: {i}\npublished: false\n---\n", encoding="utf-8")
    with Store(pg_url) as store:

        def logged() -> list[int]:
            return [len(r[0]) for r in store.backend._all("SELECT ids FROM card_change ORDER BY change_xid")]  # type: ignore[attr-defined]

        import_paths(store, files)
        assert logged() == [count]
        for i, card in enumerate(files):
            card.write_text(f"---\ntitle: Card {i} again\nquality: {i + 1}\npublished: true\n---\n",
                            encoding="utf-8")  # fmt: skip
        import_paths(store, files)
        assert logged() == [count, count]
        rows = {row.title: (row.quality, row.published) for row in store.rows(sort=[("quality", False)])}
        assert rows == {f"Card {i} again": (i + 1, True) for i in range(count)}
        store.set_fields(store.ids(), {"heat": 3}, label="heat")
        assert store.write().written == count
        assert logged()[2:] and all(n == count for n in logged()[2:])  # the edit, then the take-back
        assert store.count("dirty:true") == 0 and all("heat: 3" in f.read_text() for f in files)


def test_id_arrays_leave_out_ids_no_card_can_have() -> None:
    """Ids beyond bigint's range match no card; cast on the server, they failed the whole statement."""
    from curator.core.backend.postgres import _id_array

    assert _id_array([1, True, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 10**30]) == (
        "{1,1,9223372036854775807,-9223372036854775808}"
    )
    assert _id_array([]) == "{}"
