"""Schema 7: a card's excerpt and URLs live in ``card_detail``, out of the card row (sqlite_schema.DETAIL_COLUMNS).

The migration from 6 moves them and rebuilds the card table compact; every read and write of them goes to
the side table (the import, edits of those fields and their undo, the URL lookups, ``card_columns``,
deleting a card, the copy to PostgreSQL), and nothing else reads it.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from peewee import SqliteDatabase

from curator.core import schema
from curator.core.backend import sqlite_schema
from curator.core.store import LibraryError, Store

DETAIL = sqlite_schema.DETAIL_COLUMNS
#: Every column of the model's card (``card_columns`` reads the detail ones from ``card_detail``).
ALL_COLUMNS = tuple(f.column_name for f in schema.Card._meta.sorted_fields)


def _v6_card_ddl() -> list[str]:
    """The card table and its indexes as schema 6 made them: ``schema.Card``'s, the flags', the rescan's."""
    db = SqliteDatabase(":memory:")
    sqlite_schema.create_table(db, schema.Card)
    statements = [
        r[0] for r in db.execute_sql("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY rowid")
    ]
    db.close()
    return statements


def downgrade_to_v6(path: Path) -> None:
    """Turn a current library back into what version 6 stored: the detail columns in the card row (a card
    table of ``schema.Card``'s full layout, filled from both tables), no ``card_detail``."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = 0")
    conn.execute("BEGIN")
    table, *indexes = _v6_card_ddl()
    conn.execute(table.replace('CREATE TABLE "card"', 'CREATE TABLE "card_v6"', 1))
    names = ", ".join(f'"{c}"' for c in ALL_COLUMNS)
    conn.execute(f"INSERT INTO card_v6 ({names}) SELECT {names} FROM card JOIN card_detail ON card_id = id")
    conn.execute("DROP TABLE card")
    conn.execute("DROP TABLE card_detail")
    conn.execute('ALTER TABLE "card_v6" RENAME TO "card"')
    for statement in indexes:
        conn.execute(statement)
    for name, condition in sqlite_schema.FLAG_INDEXES:
        conn.execute(f'CREATE INDEX "{name}" ON "card" ("id") WHERE {condition}')
    conn.execute(sqlite_schema.STAMP_INDEX[1])
    conn.execute("UPDATE meta SET value = '6' WHERE key = 'schema_version'")
    conn.execute("COMMIT")
    conn.close()


def _cards(folder: Path, n: int) -> Path:
    folder.mkdir()
    for i in range(n):
        (folder / f"c{i:03d}.md").write_text(
            f"---\ntitle: Card {i}\nexcerpt: {'Telescopes and the night sky, seen from far away. ' * 8}{i}\n"
            f"sourceUrl: https://news.example/{i}\nampUrl: https://amp.example/{i}\n"
            f"cdnAmpUrl: https://cdn.example/{i}\nquality: {i % 90}\npublished: {str(i % 2 == 0).lower()}\n"
            f"topics: [Space, T{i % 7}]\nrelated:\n  - title: Related {i}\n    sourceUrl: https://r.example/{i}\n"
            "---\nBody.\n"
        )
    return folder


def _schema_of(conn: sqlite3.Connection) -> set[tuple[str, str]]:
    return {(name, sql) for name, sql in conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'")}  # fmt: skip


def _pages(conn: sqlite3.Connection, table: str) -> int:
    return int(conn.execute("SELECT count(*) FROM dbstat WHERE name = ?", (table,)).fetchone()[0])


def _state(store: Store) -> dict[str, Any]:
    ids = store.ids(sort=(("id", False),))
    return {
        "rows": store.rows(None, sort=(("id", False),)),
        "columns": [store.backend.card_columns(i, ALL_COLUMNS) for i in ids],
        "pending": [store.pending(i) for i in ids],
        "details": [store.detail(i) for i in ids],
        "journal": store.backend.journal_rows(),
        "history": store.history(),
        "fulltext": [store.backend.fulltext_row(i) for i in ids],
    }


def test_version_6_library_moves_the_detail_columns_out_and_rebuilds_the_card_table(tmp_path: Path) -> None:
    from curator.core.importer import import_paths

    cards = _cards(tmp_path / "cards", 120)
    lib = tmp_path / "lib.sqlite"
    with Store(lib, editor="Ana") as store:
        import_paths(store, [cards])
        ids = store.ids(sort=(("id", False),))
        store.set_fields(ids[:40], {"excerpt": "Edited in the library"}, label="excerpt")
        store.set_fields(ids[:3], {"quality": 77}, label="quality")
        before = _state(store)
    downgrade_to_v6(lib)
    old = sqlite3.connect(lib)
    assert set(DETAIL) <= {r[1] for r in old.execute("PRAGMA table_info(card)")}
    wide_pages = _pages(old, "card")
    old.close()

    with Store(lib, editor="Ana") as store:
        assert store.schema_version == schema.SCHEMA_VERSION == 7 and store.backend.migrated_from == 6
        assert _state(store) == before  # every card's values (the moved ones too), edits, journal, history
        conn = store.backend.db.connection()
        assert not set(DETAIL) & {r[1] for r in conn.execute("PRAGMA table_info(card)")}
        assert conn.execute("SELECT count(*) FROM card_detail").fetchone() == (len(ids),)
        # Built anew, not dropped column by column: the rows are packed on fewer pages than the wide table's
        # (ALTER TABLE DROP COLUMN leaves every row on its page, as many pages as before).
        assert _pages(conn, "card") < 0.6 * wide_pages
        # The children's foreign keys still name the card table, and every one holds.
        for table in ("card_doc", "card_detail", "card_topic", "card_image", "related_item"):
            assert {r[2] for r in conn.execute(f"PRAGMA foreign_key_list({table})")} == {"card"}, table
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("PRAGMA foreign_keys").fetchone() == (1,)  # back on after the migration
        assert store.backend.integrity_check() == "ok"
        migrated = _schema_of(conn)
        # Edits go on as before, undo included, across the moved columns.
        assert store.undo(before["history"][1].id).changed == ids[:40]
        assert store.detail(ids[0]) is not None and store.detail(ids[0]).data["excerpt"].startswith(
            "Telescopes"
        )
    with Store(tmp_path / "fresh.sqlite") as fresh:
        assert _schema_of(fresh.backend.db.connection()) == migrated  # the layout of a new library, exactly
    backup = tmp_path / "lib.sqlite.v6-backup"
    held = sqlite3.connect(backup)
    try:  # copied aside first, as version 6
        assert held.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("6",)
        assert set(DETAIL) <= {r[1] for r in held.execute("PRAGMA table_info(card)")}
    finally:
        held.close()


def test_a_version_6_library_with_a_broken_key_is_left_as_it_was(tmp_path: Path) -> None:
    """The migration runs with the foreign keys off and checks them all before it commits: a mapping row of
    a card that is not there (a file written with the keys off) stops it, naming the table."""
    from curator.core.importer import import_paths

    lib = tmp_path / "lib.sqlite"
    with Store(lib) as store:
        import_paths(store, [_cards(tmp_path / "cards", 3)])
    downgrade_to_v6(lib)
    conn = sqlite3.connect(lib)
    conn.execute("INSERT INTO card_doc (card_id, doc) VALUES (999, '{}')")
    conn.commit()
    conn.close()
    with pytest.raises(LibraryError, match=r"could not migrate .* from schema version 6 .*card_doc"):
        Store(lib)
    conn = sqlite3.connect(lib)
    try:
        assert conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("6",)
        assert set(DETAIL) <= {r[1] for r in conn.execute("PRAGMA table_info(card)")}
        assert conn.execute("SELECT count(*) FROM card").fetchone() == (3,)
        assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'card_detail'").fetchone() is None
    finally:
        conn.close()


def test_the_detail_columns_are_read_and_written_in_card_detail(tmp_path: Path) -> None:
    """Import, edits (one value for many cards, a value each, undo), the URL lookups, ``card_columns`` and a
    card's removal all go to ``card_detail``; the card row has no such column to fall back on."""
    from curator.core.importer import import_paths

    cards = _cards(tmp_path / "cards", 60)
    with Store(tmp_path / "lib.sqlite") as store:
        import_paths(store, [cards])
        backend = store.backend
        conn = backend.db.connection()
        assert not set(DETAIL) & {r[1] for r in conn.execute("PRAGMA table_info(card)")}
        ids = store.ids(sort=(("id", False),))
        first = ids[0]

        def detail(cid: int) -> tuple[Any, ...]:
            return conn.execute(
                f"SELECT {', '.join(DETAIL)} FROM card_detail WHERE card_id = ?", (cid,)
            ).fetchone()

        assert detail(first)[1:] == (
            "https://news.example/0",
            "https://amp.example/0",
            "https://cdn.example/0",
        )
        assert backend.card_columns(first, ("title", *DETAIL))[1:] == detail(first)
        assert backend.card_with_url("https://amp.example/5") == ids[5]
        assert backend.card_with_url("https://cdn.example/7") == ids[7]
        assert backend.card_urls_like(["https://news.example/1%"], 50) and all(
            url.startswith("https://news.example/1")
            for _, url in backend.card_urls_like(["https://news.example/1%"], 50)
        )
        version = backend.card_columns(first, ("version",))[0]

        # One value for many cards (one statement for them all), then for a few (a statement a card).
        shared = store.set_fields(ids, {"excerpt": "One excerpt for all"}, label="all")
        assert {detail(cid)[0] for cid in ids} == {"One excerpt for all"}
        assert backend.card_columns(first, ("version", "dirty")) == (version + 1, 1)
        statements: list[str] = []
        conn.set_trace_callback(statements.append)
        each = store.set_fields(ids[:5], {"excerpt": "Five of them"}, label="each")
        conn.set_trace_callback(None)
        assert any(
            s.startswith("UPDATE card_detail SET excerpt = ") and "WHERE card_id = " in s for s in statements
        )
        assert [detail(cid)[0] for cid in ids[:5]] == ["Five of them"] * 5 and detail(ids[5])[
            0
        ] == "One excerpt for all"
        assert backend.card_columns(ids[3], ("version",)) == (version + 2,)
        assert store.count("dirty:true") == len(ids)
        store.undo(each.batch_id)
        store.undo(shared.batch_id)
        assert detail(first)[:2] == (backend.card_columns(first, ("excerpt",))[0], "https://news.example/0")
        assert detail(first)[0].startswith("Telescopes") and store.count("dirty:true") == 0
        assert store.detail(first) is not None and store.detail(first).data["excerpt"] == detail(first)[0]

        # A changed file updates its detail row; a removed one takes it along (the foreign key's cascade).
        changed = cards / "c001.md"
        changed.write_text(
            changed.read_text().replace("https://news.example/1\n", "https://changed.example/1\n")
        )
        (cards / "c002.md").unlink()
        report = import_paths(store, [cards])
        assert (report.updated, report.removed) == (1, 1)
        assert detail(ids[1])[1] == "https://changed.example/1"
        assert detail(ids[2]) is None
        assert conn.execute("SELECT count(*) FROM card_detail").fetchone() == (len(ids) - 1,)


def test_a_library_without_card_detail_is_refused_as_damaged(tmp_path: Path) -> None:
    lib = tmp_path / "lib.sqlite"
    Store(lib).close()
    conn = sqlite3.connect(lib)
    conn.execute("DROP TABLE card_detail")
    conn.commit()
    conn.close()
    with pytest.raises(LibraryError, match="damaged.*lacks the table card_detail"):
        Store(lib)


def test_moving_in_carries_the_detail_columns(tmp_path: Path, pg_url: str) -> None:
    """``curator migrate --to``'s copy reads the card with its detail row: the team library's cards have
    their excerpt and URLs (its card table holds them in the row)."""
    from curator.core.backend.transfer import copy_to_postgresql
    from curator.core.importer import import_paths

    lib = tmp_path / "lib.sqlite"
    with Store(lib) as store:
        import_paths(store, [_cards(tmp_path / "cards", 12)])
        ids = store.ids(sort=(("id", False),))
        store.set_fields(ids[:4], {"excerpt": "Edited before moving in"}, label="excerpt")
        expected = [store.backend.card_columns(i, ALL_COLUMNS[1:]) for i in ids]
    report = copy_to_postgresql(lib, pg_url, busy_timeout=5)
    assert set(DETAIL) <= set(report.columns["card"])
    with Store(pg_url) as team:
        got = [team.backend.card_columns(i, ALL_COLUMNS[1:]) for i in ids]
    index = {c: n for n, c in enumerate(ALL_COLUMNS[1:])}
    for column in DETAIL:
        assert [row[index[column]] for row in got] == [row[index[column]] for row in expected], column
    assert (
        got[0][index["excerpt"]] == "Edited before moving in"
        and got[0][index["amp_url"]] == "https://amp.example/0"
    )
