"""pg_schema on the real cluster: the version check, the team columns and triggers, NOCASE parity, indexes."""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curator.core.backend import pg_schema
from curator.core.backend.pg_schema import (
    PG_SCHEMA_VERSION,
    LibraryNeedsMigration,
    LibraryTooNew,
    NotALibrary,
    check_schema,
    open_library,
)
from curator.core.importer import import_paths
from curator.core.store import Store


@pytest.fixture
def conn(pg_url: str) -> Iterator[psycopg.Connection]:
    c = psycopg.connect(pg_url, autocommit=True)
    yield c
    c.close()


def _card(conn: psycopg.Connection, path: str, **values: object) -> int:
    cols = ["path", "size", "mtime_ns", "sha256", "imported_at", *values]
    row = conn.execute(
        f"INSERT INTO card ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))}) RETURNING id",
        (path, 0, 0, "", 0.0, *values.values()),
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_creates_every_table_once(conn: psycopg.Connection) -> None:
    assert open_library(conn) == PG_SCHEMA_VERSION
    tables = {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert tables == set(pg_schema.TABLES)
    assert open_library(conn) == PG_SCHEMA_VERSION  # the second open only checks


def test_two_clients_creating_at_once_make_one_library(pg_url: str) -> None:
    errors: list[BaseException] = []

    def create() -> None:
        try:
            with psycopg.connect(pg_url, autocommit=True) as c:
                open_library(c)
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    threads = [threading.Thread(target=create) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_newer_library_refuses_an_older_client(conn: psycopg.Connection) -> None:
    open_library(conn)
    conn.execute("UPDATE meta SET value = %s WHERE key = 'schema_version'", (str(PG_SCHEMA_VERSION + 1),))
    with pytest.raises(
        LibraryTooNew,
        match=rf"made by a newer Curator \(library schema {PG_SCHEMA_VERSION + 1}, this Curator knows {PG_SCHEMA_VERSION}\)",
    ):
        open_library(conn)
    with pytest.raises(LibraryTooNew):
        pg_schema.migrate(conn)


def test_older_library_is_never_migrated_on_connect(
    conn: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_library(conn)
    conn.execute("UPDATE meta SET value = '0' WHERE key = 'schema_version'")
    ran: list[int] = []
    monkeypatch.setitem(pg_schema.MIGRATIONS, 0, lambda c: ran.append(0))
    with pytest.raises(LibraryNeedsMigration, match="never migrated on connect.*pg_dump.*curator migrate"):
        open_library(conn)
    assert ran == []
    assert conn.execute("SELECT value FROM meta").fetchone() == ("0",)
    assert pg_schema.migrate(conn) == list(range(1, PG_SCHEMA_VERSION + 1))  # only the explicit call migrates
    assert ran == [0] and check_schema(conn) == PG_SCHEMA_VERSION


def test_a_database_of_something_else_is_refused(conn: psycopg.Connection) -> None:
    conn.execute("CREATE TABLE invoices (id int)")
    with pytest.raises(NotALibrary, match=r"holds tables that are not a Curator library \(invoices\)"):
        open_library(conn, where="postgresql://ana@host/accounts")
    assert conn.execute("SELECT to_regclass('card')").fetchone() == (None,)


def test_empty_database_without_create(conn: psycopg.Connection) -> None:
    with pytest.raises(NotALibrary, match="has no Curator library yet"):
        open_library(conn, create=False)


def test_damaged_version(conn: psycopg.Connection) -> None:
    open_library(conn)
    conn.execute("UPDATE meta SET value = 'abc' WHERE key = 'schema_version'")
    with pytest.raises(NotALibrary, match="'abc' is not a version number"):
        check_schema(conn)


def test_version_and_change_stamp_on_every_update(conn: psycopg.Connection) -> None:
    open_library(conn)
    card = _card(conn, "/a")
    first = conn.execute("SELECT version, change_xid::text FROM card WHERE id = %s", (card,)).fetchone()
    assert first is not None and first[0] == 1
    conn.execute("UPDATE card SET heat = 4 WHERE id = %s", (card,))
    conn.execute("UPDATE card SET heat = 4, version = 1 WHERE id = %s", (card,))  # a client cannot rewind it
    row = conn.execute("SELECT version, change_xid::text FROM card WHERE id = %s", (card,)).fetchone()
    assert row is not None and row[0] == 3 and int(row[1]) > int(first[1])
    # Optimistic concurrency: an edit based on version 2 finds nothing to update.
    stale = conn.execute("UPDATE card SET heat = 9 WHERE id = %s AND version = 2", (card,))
    assert stale.rowcount == 0
    # Bookkeeping (a Write's take-back, a rescan's flags) stamps the change but keeps the version.
    with conn.transaction():
        conn.execute("SELECT set_config(%s, 'on', true)", (pg_schema.BOOKKEEPING_SETTING,))
        conn.execute("UPDATE card SET sha256 = 'new', dirty = FALSE, version = 1 WHERE id = %s", (card,))
    kept = conn.execute("SELECT version, change_xid::text FROM card WHERE id = %s", (card,)).fetchone()
    assert kept is not None and kept[0] == 3 and int(kept[1]) > int(row[1])
    conn.execute("UPDATE card SET sha256 = 'newer' WHERE id = %s", (card,))  # the setting ended with it
    assert conn.execute("SELECT version FROM card WHERE id = %s", (card,)).fetchone() == (4,)


def test_deletion_leaves_a_tombstone_and_cascades(conn: psycopg.Connection) -> None:
    open_library(conn)
    card = _card(conn, "/a")
    conn.execute("INSERT INTO card_topic (card_id, name, position) VALUES (%s, 'AI', 0)", (card,))
    conn.execute('INSERT INTO card_doc (card_id, doc) VALUES (%s, \'{"b": 1, "a": 2}\')', (card,))
    assert conn.execute("SELECT doc::text FROM card_doc").fetchone() == (
        '{"b": 1, "a": 2}',
    )  # kept as written
    batch = conn.execute("INSERT INTO edit_batch (label, editor) VALUES ('x', 'Ana') RETURNING id").fetchone()
    conn.execute(
        "INSERT INTO journal_entry (batch_id, card_id, field, old, new, editor) VALUES (%s, %s, 'heat', '1', '2', 'Ana')",
        (batch[0], card),  # type: ignore[index]
    )
    conn.execute("DELETE FROM card WHERE id = %s", (card,))
    assert conn.execute("SELECT card_id FROM card_removed").fetchall() == [(card,)]
    for table in ("card_topic", "card_doc", "journal_entry"):
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,)


def test_reserve_ids(conn: psycopg.Connection) -> None:
    open_library(conn)
    ids = pg_schema.reserve_ids(conn, 3)
    assert len(set(ids)) == 3 and pg_schema.reserve_ids(conn, 0) == []
    assert _card(conn, "/a") > max(ids)  # the default never hands out a reserved id


@pytest.fixture
def nocase(conn: psycopg.Connection) -> Iterator[tuple[psycopg.Connection, sqlite3.Connection]]:
    open_library(conn)
    lite = sqlite3.connect(":memory:")
    lite.execute("CREATE TABLE c (id INTEGER PRIMARY KEY, category TEXT COLLATE NOCASE, title TEXT)")
    yield conn, lite
    lite.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.text(alphabet="aAbBzZ éÉ_-0ß中", min_size=0, max_size=4), min_size=1, max_size=12))
def test_nocase_order_and_equality_equal_sqlite(
    nocase: tuple[psycopg.Connection, sqlite3.Connection], values: list[str]
) -> None:
    """Sorting and comparing folded C-collated text gives SQLite NOCASE's order and matches, exactly."""
    pg, lite = nocase
    pg.execute("DELETE FROM card")
    lite.execute("DELETE FROM c")
    for i, value in enumerate(values, 1):
        pg.execute(
            "INSERT INTO card (id, path, size, mtime_ns, sha256, imported_at, category, title) "
            "VALUES (%s, %s, 0, 0, '', 0, %s, %s)",
            (i, f"/{i}", value, value),
        )
        lite.execute("INSERT INTO c VALUES (?, ?, ?)", (i, value, value))
    for desc in ("ASC", "DESC"):
        pg_order = pg.execute(
            f"SELECT id FROM card ORDER BY curator_fold(title) {desc} NULLS LAST, id {desc}"
        ).fetchall()
        lite_order = lite.execute(
            f"SELECT id FROM c ORDER BY title COLLATE NOCASE {desc} NULLS LAST, id {desc}"
        ).fetchall()
        assert pg_order == lite_order
    probe = values[0].swapcase()
    pg_hits = pg.execute(
        "SELECT id FROM card WHERE curator_fold(category) = curator_fold(%s) ORDER BY id", (probe,)
    )
    lite_hits = lite.execute("SELECT id FROM c WHERE category = ? ORDER BY id", (probe,))
    assert pg_hits.fetchall() == lite_hits.fetchall()


@pytest.fixture(scope="module")
def filled(pg_cluster) -> Iterator[psycopg.Connection]:  # type: ignore[no-untyped-def]
    """20k cards with realistic spreads (rare flags, a few categories and topics), analysed."""
    c = psycopg.connect(pg_cluster.url(pg_cluster.create_database()), autocommit=True)
    open_library(c)
    c.execute(
        "INSERT INTO card (path, size, mtime_ns, sha256, imported_at, date, quality, heat, title, category, "
        "dirty, problems, published) SELECT '/c/' || i, 0, 0, '', 0, "
        "to_char(timestamp '2020-01-01' + i * interval '37 minutes', 'YYYY-MM-DD\"T\"HH24:MI:SS'), "
        "i % 101, i % 97, 'Title ' || (i * 7919 % 20000), CASE WHEN i % 200 = 0 THEN 'Rare' ELSE (ARRAY['Tech', 'World', 'sport'])[i % 3 + 1] END, "
        "i % 500 = 0, CASE WHEN i % 300 = 0 THEN 1 ELSE 0 END, i % 2 = 0 FROM generate_series(1, 20000) AS i"
    )
    c.execute("INSERT INTO card_topic (card_id, name, position) SELECT id, 'T' || (id % 400), 0 FROM card")
    c.execute(
        "INSERT INTO pending_edit (card_id, field, base, value) SELECT id, 'heat', '1', '2' FROM card WHERE dirty"
    )
    c.execute("INSERT INTO card_text (card_id, title) SELECT id, ('w' || (id % 900))::tsvector FROM card")
    c.execute("ANALYZE")
    yield c
    c.close()


@pytest.mark.parametrize(
    "sql, index",
    [
        ("SELECT id FROM card ORDER BY date DESC NULLS LAST, id DESC LIMIT 200", "card_date_desc"),
        ("SELECT id FROM card ORDER BY date ASC NULLS LAST, id ASC LIMIT 200", "card_date"),
        ("SELECT id FROM card ORDER BY quality DESC NULLS LAST, id DESC LIMIT 200", "card_quality_desc"),
        ("SELECT id FROM card ORDER BY heat DESC NULLS LAST, id DESC LIMIT 200", "card_heat_desc"),
        ("SELECT id FROM card ORDER BY curator_fold(title), id LIMIT 200", "card_title"),
        ("SELECT id FROM card WHERE curator_fold(category) = curator_fold('RARE')", "card_category"),
        ("SELECT id FROM card ORDER BY curator_fold(category), id LIMIT 200", "card_category"),
        # dirty has no index (pg_schema.DIRTY_IDS): its cards are found by pending_edit, then by id.
        (f"SELECT id FROM card WHERE dirty AND {pg_schema.DIRTY_IDS}", "card_pkey"),
        ("SELECT id FROM card WHERE problems > 0", "card_problems_flag"),
        ("SELECT card_id FROM card_topic WHERE curator_fold(name) = curator_fold('t7')", "card_topic_name"),
        ("SELECT card_id FROM card_text WHERE doc @@ %s::tsquery", "card_text_doc"),
    ],
)
def test_indexes_serve_the_lists_queries(filled: psycopg.Connection, sql: str, index: str) -> None:
    params = ("'w7'",) if "%s" in sql else None
    plan = "\n".join(r[0] for r in filled.execute("EXPLAIN " + sql, params))
    assert re.search(rf"(using|on) {index} ", plan), plan


def test_version_1_library_gains_related_titles_in_its_full_text(pg_url: str, tmp_path: Path) -> None:
    """Version 1 stored card_text.related empty; the 1 -> 2 step fills it, so `related words` match."""
    card = tmp_path / "c.yaml"
    card.write_text(
        "title: Plain\nrelated:\n  - title: Telescope funding restored\n    sourceUrl: https://r.example/a\n"
        "  - title: Second item\n    sourceUrl: https://r.example/b\n"
    )
    with Store(pg_url) as store:
        import_paths(store, [card])
        assert store.ids("telescope") == store.ids()
    with psycopg.connect(pg_url, autocommit=True) as raw:  # back to what version 1 stored
        raw.execute("UPDATE card_text SET related = ''")
        raw.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
        with pytest.raises(LibraryNeedsMigration):
            open_library(raw)
        assert pg_schema.migrate(raw) == list(range(2, PG_SCHEMA_VERSION + 1))
    with Store(pg_url) as store:
        [cid] = store.ids()
        assert store.ids("telescope") == [cid] and store.ids('"second item"') == [cid]
        assert store.ids("plain") == [cid] and store.ids("funding -second") == []


def test_version_2_library_keeps_versions_on_bookkeeping_after_migrating(conn: psycopg.Connection) -> None:
    """Version 2's trigger advanced the version on every UPDATE; 2 -> 3 installs the bookkeeping rule."""
    open_library(conn)
    conn.execute("""CREATE OR REPLACE FUNCTION curator_card_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN NEW.version := OLD.version + 1; NEW.change_xid := pg_current_xact_id(); RETURN NEW; END $$""")
    conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    card = _card(conn, "/a")

    def bookkeeping() -> int:
        with conn.transaction():
            conn.execute("SELECT set_config(%s, 'on', true)", (pg_schema.BOOKKEEPING_SETTING,))
            conn.execute("UPDATE card SET dirty = NOT dirty WHERE id = %s", (card,))
        return conn.execute("SELECT version FROM card WHERE id = %s", (card,)).fetchone()[0]

    assert bookkeeping() == 2  # version 2: advanced
    assert pg_schema.migrate(conn) == list(range(3, PG_SCHEMA_VERSION + 1))
    assert bookkeeping() == 2 and check_schema(conn) == PG_SCHEMA_VERSION


def _hot_updates(conn: psycopg.Connection) -> tuple[int, int]:
    """(HOT updates, updates) of card rows in ``conn``'s current transaction (counts of other backends
    reach the shared statistics only some seconds after they go idle)."""
    row = conn.execute("SELECT pg_stat_get_xact_tuples_hot_updated('card'::regclass), "
                       "pg_stat_get_xact_tuples_updated('card'::regclass)").fetchone()  # fmt: skip
    return int(row[0]), int(row[1])


def test_a_bulk_edit_updates_its_cards_hot(pg_url: str, tmp_path: Path) -> None:
    """A bulk publish touches no index of card (schema 4): no index covers published, dirty, version or
    change_xid, and the pages keep room for the new row versions (CARD_FILLFACTOR)."""
    for i in range(40):
        (tmp_path / f"c{i}.yaml").write_text(f"title: Card {i}\npublished: false\nquality: {i}\n")
    with psycopg.connect(pg_url, autocommit=True) as raw, Store(pg_url) as store:
        import_paths(store, [tmp_path])
        with store.backend.transaction():  # the edit's own (nested) transaction counts inside this one
            # Every 4th card: a page has room for ~2/5 of its rows' new versions (the fill factor), and the
            # edit writes two (its values, then the dirty flag).
            result = store.set_fields(store.ids()[::4], {"published": True}, label="publish some")
            assert len(result.changed) == 10 and store.count("dirty:true") == 10
            hot, updated = _hot_updates(store.backend._conn())  # type: ignore[attr-defined]
            assert hot == updated >= 10
        indexed = {r[0] for r in raw.execute(
            "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'card'::regclass"
        )}  # fmt: skip
        assert not indexed & {"published", "dirty", "version", "change_xid"}, indexed


def test_version_3_library_migrates_to_hot_bulk_edits(conn: psycopg.Connection) -> None:
    """3 -> 4 drops the indexes that made bulk edits non-HOT, rewrites card with room on its pages, moves
    the catch-up to card_change (seeded with every card) and checks the edit tables' keys per statement."""
    open_library(conn)
    for statement in (  # back to version 3's layout
        "DROP TABLE card_change", "DROP FUNCTION curator_card_changed CASCADE",
        "DROP FUNCTION curator_check_keys CASCADE", "DROP FUNCTION curator_cascade CASCADE",
        "ALTER TABLE card RESET (fillfactor)",
        "CREATE INDEX card_published ON card (published, date)",
        "CREATE INDEX card_dirty_flag ON card (id) WHERE dirty",
        "CREATE INDEX card_change_xid ON card (change_xid)",
        "ALTER TABLE pending_edit ADD FOREIGN KEY (card_id) REFERENCES card (id) ON DELETE CASCADE",
        "ALTER TABLE journal_entry ADD FOREIGN KEY (card_id) REFERENCES card (id) ON DELETE CASCADE",
        "ALTER TABLE journal_entry ADD FOREIGN KEY (batch_id) REFERENCES edit_batch (id) ON DELETE CASCADE",
        "UPDATE meta SET value = '3' WHERE key = 'schema_version'",
    ):  # fmt: skip
        conn.execute(statement)
    cards = [_card(conn, f"/{i}", published=False) for i in range(30)]
    with pytest.raises(LibraryNeedsMigration):
        check_schema(conn)
    assert pg_schema.migrate(conn) == list(range(4, PG_SCHEMA_VERSION + 1))
    assert check_schema(conn) == PG_SCHEMA_VERSION
    indexes = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'card'")}
    assert not indexes & {"card_published", "card_dirty_flag", "card_change_xid"}
    assert conn.execute("SELECT reloptions FROM pg_class WHERE oid = 'card'::regclass").fetchone() == (
        [f"fillfactor={pg_schema.CARD_FILLFACTOR}"],
    )
    logged = conn.execute("SELECT array_agg(i ORDER BY i) FROM card_change, unnest(ids) AS i").fetchone()
    assert logged == (cards,)  # a catch-up from before the migration still finds every card
    assert conn.execute(
        "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid IN "
        "('pending_edit'::regclass, 'journal_entry'::regclass)"
    ).fetchone() == (0,)
    with conn.transaction():
        conn.execute("UPDATE card SET published = TRUE, dirty = TRUE")
        assert _hot_updates(conn) == (30, 30)
    with pytest.raises(psycopg.errors.ForeignKeyViolation):
        conn.execute("INSERT INTO pending_edit (card_id, field, base, value) VALUES (%s, 'heat', '1', '2')",
                     (max(cards) + 1,))  # fmt: skip


def test_edit_tables_keys_are_checked_and_cascade(conn: psycopg.Connection) -> None:
    """pending_edit and journal_entry name existing cards and batches (checked per statement, schema 4);
    deleting a card or a batch takes its rows with it, as ON DELETE CASCADE did."""
    open_library(conn)
    card, other = _card(conn, "/a"), _card(conn, "/b")
    batch = conn.execute("INSERT INTO edit_batch (label) VALUES ('x') RETURNING id").fetchone()[0]
    journal = (
        "INSERT INTO journal_entry (batch_id, card_id, field, old, new) VALUES (%s, %s, 'heat', '1', '2')"
    )
    pending = "INSERT INTO pending_edit (card_id, field, base, value) VALUES (%s, %s, '1', '2')"
    for sql, params in (
        (journal, (batch + 1, card)),
        (journal, (batch, other + 1)),
        (pending, (other + 1, "heat")),
    ):
        with pytest.raises(psycopg.errors.ForeignKeyViolation, match="names no row of"):
            conn.execute(sql, params)
    for cid in (card, other):
        conn.execute(journal, (batch, cid))
        conn.execute(pending, (cid, "heat"))
    for table in ("pending_edit", "journal_entry"):
        with pytest.raises(psycopg.errors.ForeignKeyViolation):
            conn.execute(f"UPDATE {table} SET card_id = %s WHERE card_id = %s", (other + 1, card))
    conn.execute("DELETE FROM card WHERE id = %s", (card,))
    assert conn.execute("SELECT card_id FROM pending_edit").fetchall() == [(other,)]
    assert conn.execute("SELECT card_id FROM journal_entry").fetchall() == [(other,)]
    conn.execute("DELETE FROM edit_batch WHERE id = %s", (batch,))
    assert conn.execute("SELECT count(*) FROM journal_entry").fetchone() == (0,)


def test_opening_a_current_library_is_one_statement(
    conn: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every open but the first: one round trip (the locked creation path costs seven), so `curator list`
    on a distant server does not wait for six pings before its query; any other state takes the full path."""
    open_library(conn)
    sent: list[str] = []
    execute = conn.execute

    def counted(query, *args, **kwargs):  # type: ignore[no-untyped-def]
        sent.append(str(query))
        return execute(query, *args, **kwargs)

    monkeypatch.setattr(conn, "execute", counted)
    assert open_library(conn) == PG_SCHEMA_VERSION and len(sent) == 1
    execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    with pytest.raises(LibraryNeedsMigration):
        open_library(conn)
    assert len(sent) > 2  # the careful path, under the lock
