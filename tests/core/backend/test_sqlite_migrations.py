"""Schema versions: an old library is migrated in one transaction; a newer one is refused."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from curator.core import schema
from curator.core.backend import sqlite_schema
from curator.core.store import LibraryError, Store

# The prototype (version 0) layout, written by hand: no meta table, no full-text index, and a card table
# without related_count, problems and missing.
V0 = """
CREATE TABLE card (id INTEGER NOT NULL PRIMARY KEY, path TEXT NOT NULL, size INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL, category TEXT COLLATE NOCASE, title TEXT, excerpt TEXT,
  published_at TEXT, date TEXT, source_url TEXT, amp_url TEXT, cdn_amp_url TEXT, type TEXT COLLATE NOCASE,
  quality INTEGER, heat INTEGER, published INTEGER, provider_name TEXT COLLATE NOCASE,
  provider_domain TEXT COLLATE NOCASE, topics TEXT NOT NULL, lead_image TEXT, doc TEXT NOT NULL,
  dirty INTEGER NOT NULL, conflict INTEGER NOT NULL, imported_at REAL NOT NULL);
CREATE UNIQUE INDEX card_path ON card (path);
CREATE TABLE card_topic (card_id INTEGER NOT NULL REFERENCES card (id) ON DELETE CASCADE,
  name TEXT NOT NULL COLLATE NOCASE, position INTEGER NOT NULL, PRIMARY KEY (card_id, position));
CREATE TABLE card_image (card_id INTEGER NOT NULL REFERENCES card (id) ON DELETE CASCADE,
  position INTEGER NOT NULL, url TEXT, width INTEGER, height INTEGER, title TEXT, PRIMARY KEY (card_id, position));
CREATE TABLE related_item (card_id INTEGER NOT NULL REFERENCES card (id) ON DELETE CASCADE,
  position INTEGER NOT NULL, title TEXT, source_url TEXT, provider_name TEXT, quality INTEGER,
  doc TEXT NOT NULL, PRIMARY KEY (card_id, position));
CREATE TABLE pending_edit (card_id INTEGER NOT NULL REFERENCES card (id) ON DELETE CASCADE,
  field TEXT NOT NULL, base TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (card_id, field));
CREATE TABLE edit_batch (id INTEGER NOT NULL PRIMARY KEY, label TEXT NOT NULL, created REAL NOT NULL,
  undone INTEGER NOT NULL);
CREATE TABLE journal_entry (id INTEGER NOT NULL PRIMARY KEY,
  batch_id INTEGER NOT NULL REFERENCES edit_batch (id) ON DELETE CASCADE,
  card_id INTEGER NOT NULL REFERENCES card (id) ON DELETE CASCADE, field TEXT NOT NULL, old TEXT NOT NULL,
  new TEXT NOT NULL, created REAL NOT NULL);
"""

DOC = {"title": "Old library card", "excerpt": "Telescopes everywhere", "quality": 500, "heat": 3,
       "topics": ["Space"], "related": [{"title": "R", "sourceUrl": "https://r.example/"}]}


def build_v0(path: Path, *, broken: bool = False) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(V0)
    conn.execute(
        "INSERT INTO card (id, path, size, mtime_ns, sha256, title, excerpt, quality, heat, topics, doc, dirty,"
        " conflict, imported_at) VALUES (7, '/cards/old.md', 10, 1, 'abc', 'Old library card',"
        " 'Telescopes everywhere', 500, 40, '[\"Space\"]', ?, 1, 0, 0)", (json.dumps(DOC),))
    conn.execute("INSERT INTO card_topic VALUES (7, 'Space', 0)")
    conn.execute("INSERT INTO related_item VALUES (7, 0, 'R', 'https://r.example/', NULL, NULL, '{}')")
    # A pending edit made in the prototype: heat 3 -> 40 (the card row holds the pending value).
    conn.execute("INSERT INTO pending_edit VALUES (7, 'heat', '3', '40')")
    conn.execute("INSERT INTO edit_batch VALUES (1, 'heat', 0, 0)")
    conn.execute("INSERT INTO journal_entry VALUES (1, 1, 7, 'heat', '3', '40', 0)")
    if broken:
        conn.execute("DROP TABLE related_item")  # the migration's first query will fail
    conn.commit()
    conn.close()


def test_version_0_library_is_migrated(tmp_path: Path) -> None:
    build_v0(tmp_path / "old.sqlite")
    with Store(tmp_path / "old.sqlite") as store:
        assert store.schema_version == schema.SCHEMA_VERSION
        [row] = store.rows()
        assert (row.id, row.related_count, row.missing, row.heat) == (7, 1, False, 40)
        assert row.problems == 1  # quality 500 is out of range; heat 40 (pending) is fine
        assert [r.id for r in store.rows("telescopes")] == [7]  # the new full-text index was filled
        assert store.rows("topic:space")[0].id == 7
        assert store.pending(7) == {"heat": (3, 40)}
        assert store.undo(1).changed == [7]  # the old journal still replays
        assert store.rows_by_id([7])[0].heat == 3 and not store.rows_by_id([7])[0].dirty
    with Store(tmp_path / "old.sqlite") as again:  # a second open finds nothing to migrate
        assert again.schema_version == schema.SCHEMA_VERSION and again.count() == 1


def test_failed_migration_leaves_the_library_as_it_was(tmp_path: Path) -> None:
    build_v0(tmp_path / "old.sqlite", broken=True)
    with pytest.raises(LibraryError, match="could not migrate"):
        Store(tmp_path / "old.sqlite")
    conn = sqlite3.connect(tmp_path / "old.sqlite")
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    columns = {r[1] for r in conn.execute("PRAGMA table_info(card)")}
    conn.close()
    assert "meta" not in tables and "card_index" not in tables and "related_count" not in columns


def test_newer_library_is_refused(tmp_path: Path) -> None:
    with Store(tmp_path / "lib.sqlite") as store:
        store.backend.db.connection().execute("UPDATE meta SET value = ? WHERE key = 'schema_version'",
                                   (str(schema.SCHEMA_VERSION + 1),))
    with pytest.raises(LibraryError, match="newer"):
        Store(tmp_path / "lib.sqlite")


def test_every_version_step_has_a_migration() -> None:
    assert sorted(sqlite_schema.MIGRATIONS) == list(range(schema.SCHEMA_VERSION))


# Version 1: the whole mapping in card.doc and each related item in related_item.doc; a plain index on
# dirty. Written by hand, as version 1 created it.
V1 = """
CREATE TABLE meta (key TEXT NOT NULL PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO meta VALUES ('schema_version', '1');
CREATE TABLE card (id INTEGER NOT NULL PRIMARY KEY, path TEXT NOT NULL, size INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL, sha256 TEXT NOT NULL, category TEXT COLLATE NOCASE, title TEXT, excerpt TEXT,
  published_at TEXT, date TEXT, source_url TEXT, amp_url TEXT, cdn_amp_url TEXT, type TEXT COLLATE NOCASE,
  quality INTEGER, heat INTEGER, published INTEGER, provider_name TEXT COLLATE NOCASE,
  provider_domain TEXT COLLATE NOCASE, topics TEXT NOT NULL, lead_image TEXT, related_count INTEGER NOT NULL,
  doc TEXT NOT NULL, problems INTEGER NOT NULL, dirty INTEGER NOT NULL, conflict INTEGER NOT NULL,
  missing INTEGER NOT NULL, imported_at REAL NOT NULL);
CREATE UNIQUE INDEX card_path ON card (path);
CREATE INDEX card_date_id ON card (date, id);
CREATE INDEX card_dirty ON card (dirty);
CREATE TABLE card_topic (card_id INTEGER NOT NULL REFERENCES card (id) ON DELETE CASCADE,
  name TEXT NOT NULL COLLATE NOCASE, position INTEGER NOT NULL, PRIMARY KEY (card_id, position));
CREATE INDEX card_topic_name_card_id ON card_topic (name, card_id);
CREATE TABLE card_image (card_id INTEGER NOT NULL REFERENCES card (id) ON DELETE CASCADE,
  position INTEGER NOT NULL, url TEXT, width INTEGER, height INTEGER, title TEXT, PRIMARY KEY (card_id, position));
CREATE TABLE related_item (card_id INTEGER NOT NULL REFERENCES card (id) ON DELETE CASCADE,
  position INTEGER NOT NULL, title TEXT, source_url TEXT, provider_name TEXT, quality INTEGER,
  doc TEXT NOT NULL, PRIMARY KEY (card_id, position));
CREATE TABLE pending_edit (card_id INTEGER NOT NULL REFERENCES card (id) ON DELETE CASCADE,
  field TEXT NOT NULL, base TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (card_id, field));
CREATE TABLE edit_batch (id INTEGER NOT NULL PRIMARY KEY, label TEXT NOT NULL, created REAL NOT NULL,
  undone INTEGER NOT NULL);
CREATE TABLE journal_entry (id INTEGER NOT NULL PRIMARY KEY,
  batch_id INTEGER NOT NULL REFERENCES edit_batch (id) ON DELETE CASCADE,
  card_id INTEGER NOT NULL REFERENCES card (id) ON DELETE CASCADE, field TEXT NOT NULL, old TEXT NOT NULL,
  new TEXT NOT NULL, created REAL NOT NULL);
CREATE INDEX journal_entry_card_id ON journal_entry (card_id);
CREATE VIRTUAL TABLE card_index USING fts5 (title, excerpt, provider, topics,
  tokenize='unicode61 remove_diacritics 2', prefix='2 3');
"""


def build_v1(path: Path, *, broken: bool = False) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(V1)
    # Card 3: quality 500 (one problem) and a pending heat; card 4: a plain card with a blog-style date.
    other = {"title": "Other", "date": "2020-02-01"}
    for cid, card_path, doc, heat, problems, dirty in [(3, "/cards/a.md", DOC, 40, 1, 1),
                                                       (4, "/cards/b.md", other, None, 0, 0)]:
        conn.execute(
            "INSERT INTO card (id, path, size, mtime_ns, sha256, title, quality, heat, topics, related_count,"
            " doc, problems, dirty, conflict, missing, imported_at)"
            " VALUES (?, ?, 10, 1, 'abc', ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0)",
            (cid, card_path, doc["title"], doc.get("quality"), heat, json.dumps(doc.get("topics", [])),
             len(doc.get("related", [])), json.dumps(doc), problems, dirty),
        )
        conn.execute(
            "INSERT INTO card_index (rowid, title, excerpt, provider, topics) VALUES (?, ?, ?, '', ?)",
            (cid, doc["title"], doc.get("excerpt", ""), ", ".join(doc.get("topics", []))),
        )
    conn.execute("INSERT INTO card_topic VALUES (3, 'Space', 0)")
    conn.execute("INSERT INTO related_item VALUES (3, 0, 'R', 'https://r.example/', NULL, NULL, ?)",
                 (json.dumps(DOC["related"][0]),))
    conn.execute("INSERT INTO pending_edit VALUES (3, 'heat', '3', '40')")  # heat 3 in the file, 40 pending
    conn.execute("INSERT INTO edit_batch VALUES (1, 'heat', 0, 0)")
    conn.execute("INSERT INTO journal_entry VALUES (1, 1, 3, 'heat', '3', '40', 0)")
    if broken:  # a table in the way of the new one: the migration's copy fails halfway through
        conn.execute("CREATE TABLE card_doc (card_id INTEGER PRIMARY KEY, doc TEXT, stray TEXT NOT NULL)")
    conn.commit()
    conn.close()


def columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}


def test_version_1_library_moves_the_card_json_to_its_own_table(tmp_path: Path) -> None:
    build_v1(tmp_path / "v1.sqlite")
    with Store(tmp_path / "v1.sqlite") as store:
        assert store.schema_version == schema.SCHEMA_VERSION
        conn = store.backend.db.connection()
        assert "doc" not in columns(conn, "card") and "doc" not in columns(conn, "related_item")
        assert json.loads(conn.execute("SELECT doc FROM card_doc WHERE card_id = 3").fetchone()[0]) == DOC
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {name for name, _ in sqlite_schema.FLAG_INDEXES} <= indexes and "card_dirty" not in indexes
        # The pending edit is still laid over the file's mapping, which now comes from card_doc.
        assert store.current_data(3) == {**DOC, "heat": 40}
        assert store.pending(3) == {"heat": (3, 40)}
        assert [r.id for r in store.rows("dirty:true")] == [3]
        assert [r.id for r in store.rows("telescopes")] == [3] == [r.id for r in store.rows("tele*")]
        fts_sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'card_index'").fetchone()[0]
        assert "prefix" not in fts_sql and "remove_diacritics 2" in fts_sql  # rebuilt without prefix indexes
        assert store.detail(3).related == DOC["related"]
        # Edits read the file's value from card_doc: setting it back removes the pending edit.
        assert store.set_fields([3], {"heat": 3}, label="back").changed == [3]
        assert store.pending(3) == {} and store.count("dirty:true") == 0
        assert store.undo(1).changed == []  # heat is already the file's 3: undoing 3 -> 40 changes nothing
        # A card without pending edits edits as any other, its base read from card_doc.
        store.set_fields([4], {"quality": 10}, label="q")
        assert store.pending(4) == {"quality": (None, 10)} and store.rows_by_id([4])[0].quality == 10
    with Store(tmp_path / "v1.sqlite") as again:
        assert again.schema_version == schema.SCHEMA_VERSION and again.count() == 2


def test_failed_version_1_migration_leaves_the_library_as_it_was(tmp_path: Path) -> None:
    build_v1(tmp_path / "v1.sqlite", broken=True)
    with pytest.raises(LibraryError, match="could not migrate the library from schema version 1"):
        Store(tmp_path / "v1.sqlite")
    conn = sqlite3.connect(tmp_path / "v1.sqlite")
    version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    assert version == "1" and "doc" in columns(conn, "card") and "doc" in columns(conn, "related_item")
    assert conn.execute("SELECT count(*) FROM card_doc").fetchone()[0] == 0
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'card_dirty'").fetchone()
    conn.close()


def downgrade_to_v3(path: Path) -> None:
    """Turn a current library back into what version 3 stored: no team columns, four full-text columns."""
    downgrade_to_v6(path)
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE card DROP COLUMN version")
    for table, column in (("pending_edit", "editor"), ("pending_edit", "changed"), ("edit_batch", "editor"),
                          ("journal_entry", "editor")):
        conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    conn.execute("CREATE VIRTUAL TABLE v3 USING fts5 (title, excerpt, provider, topics, "
                 "tokenize='unicode61 remove_diacritics 2')")
    conn.execute("INSERT INTO v3 (rowid, title, excerpt, provider, topics) "
                 "SELECT rowid, title, excerpt, provider, topics FROM card_index")
    conn.execute("DROP TABLE card_index")
    conn.execute("ALTER TABLE v3 RENAME TO card_index")
    conn.execute("UPDATE meta SET value = '3' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()


def test_version_3_library_gains_team_columns_and_related_titles_in_its_full_text(tmp_path: Path) -> None:
    from curator.core.importer import import_paths

    (tmp_path / "cards").mkdir()
    (tmp_path / "cards" / "a.md").write_text(
        "---\ntitle: Plain card\nquality: 10\nrelated:\n  - title: Telescope funding restored\n"
        "    sourceUrl: https://r.example/a\n  - title: Second item\n    sourceUrl: https://r.example/b\n---\n")
    lib = tmp_path / "lib.sqlite"
    with Store(lib) as store:
        import_paths(store, [tmp_path / "cards"])
        [cid] = store.ids()
        batch = store.set_fields([cid], {"quality": 20}, label="q").batch_id
    downgrade_to_v3(lib)
    with Store(lib) as store:
        assert store.schema_version == schema.SCHEMA_VERSION
        assert store.ids("telescope") == [cid] and store.ids('"second item"') == [cid]
        assert store.ids("plain") == [cid] and store.ids("funding -second") == []
        assert store.backend.fulltext_row(cid) == ("Plain card", "", "", "", "Telescope funding restored\nSecond item")
        assert store.pending(cid) == {"quality": (10, 20)}
        assert batch is not None and store.undo(batch).changed == [cid]  # the old journal still replays
    assert (tmp_path / "lib.sqlite.v3-backup").is_file()  # copied aside first


#: The edit tables as version 4 made them (peewee's DDL of the models: foreign keys, a rowid table and a
#: second index on pending_edit's card alone).
V4_EDIT_TABLES = """
CREATE TABLE "pending_edit" ("card_id" INTEGER NOT NULL, "field" TEXT NOT NULL, "base" TEXT NOT NULL,
  "value" TEXT NOT NULL, "editor" TEXT NOT NULL DEFAULT '', "changed" REAL NOT NULL DEFAULT 0,
  PRIMARY KEY ("card_id", "field"), FOREIGN KEY ("card_id") REFERENCES "card" ("id") ON DELETE CASCADE);
CREATE INDEX "pending_edit_card_id" ON "pending_edit" ("card_id");
CREATE TABLE "journal_entry" ("id" INTEGER NOT NULL PRIMARY KEY, "batch_id" INTEGER NOT NULL,
  "card_id" INTEGER NOT NULL, "field" TEXT NOT NULL, "old" TEXT NOT NULL, "new" TEXT NOT NULL,
  "created" REAL NOT NULL, "editor" TEXT NOT NULL DEFAULT '',
  FOREIGN KEY ("batch_id") REFERENCES "edit_batch" ("id") ON DELETE CASCADE,
  FOREIGN KEY ("card_id") REFERENCES "card" ("id") ON DELETE CASCADE);
CREATE INDEX "journal_entry_batch_id" ON "journal_entry" ("batch_id");
CREATE INDEX "journal_entry_card_id" ON "journal_entry" ("card_id");
"""


def downgrade_to_v4(path: Path) -> None:
    """Turn a current library back into what version 4 stored: the edit tables with their foreign keys.

    Plus a journal entry and a pending edit of a card that is not there (written with the foreign keys
    off, as a damaged or hand-edited file could hold them): the migration leaves them out."""
    downgrade_to_v6(path)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA foreign_keys = 0")
    pending = conn.execute("SELECT * FROM pending_edit").fetchall()
    journal = conn.execute("SELECT id, batch_id, card_id, field, old, new, created, editor FROM journal_entry").fetchall()
    conn.executescript('DROP TABLE pending_edit; DROP TABLE journal_entry;' + V4_EDIT_TABLES)
    conn.executemany("INSERT INTO pending_edit VALUES (?, ?, ?, ?, ?, ?)", [*pending, (999, "heat", "1", "2", "", 0)])
    conn.executemany("INSERT INTO journal_entry VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     [*journal, (500, journal[0][1], 999, "heat", "1", "2", 0, "")])  # fmt: skip
    conn.execute("UPDATE meta SET value = '4' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()


def test_version_4_library_keeps_its_edits_in_tables_without_foreign_keys(tmp_path: Path) -> None:
    from curator.core.importer import import_paths

    (tmp_path / "cards").mkdir()
    for n in range(3):
        (tmp_path / "cards" / f"c{n}.md").write_text(f"---\ntitle: Card {n}\nquality: {n}\n---\n")
    lib = tmp_path / "lib.sqlite"
    with Store(lib, editor="Ana") as store:
        import_paths(store, [tmp_path / "cards"])
        ids = store.ids()
        first = store.set_fields(ids, {"quality": 50}, label="all").batch_id
        second = store.set_fields(ids[:1], {"heat": 7}, label="one").batch_id
        pending = {cid: store.pending(cid) for cid in ids}
        journal = store.backend.journal_rows()
    downgrade_to_v4(lib)
    with Store(lib, editor="Ana") as store:
        assert store.schema_version == schema.SCHEMA_VERSION
        conn = store.backend.db.connection()
        for table in ("pending_edit", "journal_entry"):
            assert conn.execute(f"PRAGMA foreign_key_list({table})").fetchall() == []
        pending_sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'pending_edit'").fetchone()[0]
        assert pending_sql.endswith("WITHOUT ROWID")
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"journal_entry_batch_card", "journal_entry_card_id"} <= indexes and "pending_edit_card_id" not in indexes
        # Every edit kept as it was (the journal's ids too), the rows of the card that is not there left out.
        assert {cid: store.pending(cid) for cid in ids} == pending
        assert store.backend.journal_rows() == journal
        assert conn.execute("SELECT count(*) FROM journal_entry WHERE card_id = 999").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM pending_edit WHERE card_id = 999").fetchone()[0] == 0
        assert [b.id for b in store.history(10)] == [second, first]
        assert second is not None and first is not None
        assert store.undo(second).changed == ids[:1] and store.undo(first).changed == ids
        assert all(store.pending(cid) == {} for cid in ids) and store.count("dirty:true") == 0
        # New edits go into the new tables as before.
        assert store.set_fields(ids, {"published": True}, label="p").changed == ids
        assert store.backend.integrity_check() == "ok"
    assert (tmp_path / "lib.sqlite.v4-backup").is_file()  # copied aside first


#: The indexes version 5 had and version 6 does not (the child tables' card_id alone: their primary keys
#: lead with it), and the one version 6 adds (the rescan's keys).
V5_CHILD_INDEXES = {
    "card_topic_card_id": 'CREATE INDEX "card_topic_card_id" ON "card_topic" ("card_id")',
    "card_image_card_id": 'CREATE INDEX "card_image_card_id" ON "card_image" ("card_id")',
    "related_item_card_id": 'CREATE INDEX "related_item_card_id" ON "related_item" ("card_id")',
}
CHILD_TABLES = ("card_topic", "card_image", "related_item")


def downgrade_to_v6(path: Path) -> None:
    """Turn a current library back into what version 6 stored: no ``bulk`` columns, the journal's entries
    indexed by batch and by card (the entries bulk edits wrote like the others)."""
    conn = sqlite3.connect(path)
    conn.executescript(
        'DROP INDEX "edit_batch_bulk"; DROP INDEX "journal_entry_batch_card"; DROP INDEX "journal_entry_card_id"; '
        'ALTER TABLE "edit_batch" DROP COLUMN "bulk"; ALTER TABLE "journal_entry" DROP COLUMN "bulk"; '
        'CREATE INDEX "journal_entry_batch_id" ON "journal_entry" ("batch_id"); '
        'CREATE INDEX "journal_entry_card_id" ON "journal_entry" ("card_id");'
    )
    conn.execute("UPDATE meta SET value = '6' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()


def downgrade_to_v5(path: Path) -> None:
    """Turn a current library back into what version 5 stored: no rescan index, the child card_id indexes."""
    downgrade_to_v6(path)
    conn = sqlite3.connect(path)
    conn.execute('DROP INDEX "card_stamp"')
    for statement in V5_CHILD_INDEXES.values():
        conn.execute(statement)
    conn.execute("UPDATE meta SET value = '5' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()


def table_rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table (the full-text index's stored columns too), in a fixed order."""
    conn = sqlite3.connect(path)
    try:
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name NOT LIKE 'card_index_%' ORDER BY name")]  # fmt: skip
        return {name: sorted(conn.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr) for name in names}
    finally:
        conn.close()


def test_version_5_library_gains_the_rescan_index_and_loses_the_child_card_id_indexes(tmp_path: Path) -> None:
    from curator.core.importer import import_paths

    cards = tmp_path / "cards"
    cards.mkdir()
    for n in range(4):
        (cards / f"c{n}.md").write_text(
            f"---\ntitle: Card {n}\nquality: {n}\ntopics: [Space, T{n}]\n"
            f"images:\n  - url: https://i.example/{n}.jpg\n    width: 10\n"
            f"related:\n  - title: Related {n}\n    sourceUrl: https://r.example/{n}\n---\n")
    lib = tmp_path / "lib.sqlite"
    with Store(lib, editor="Ana") as store:
        import_paths(store, [cards])
        ids = store.ids()
        store.set_fields(ids[:2], {"quality": 70}, label="q")
    downgrade_to_v5(lib)
    before = table_rows(lib)
    with Store(lib, editor="Ana") as store:
        assert store.schema_version == schema.SCHEMA_VERSION == 7 and store.backend.migrated_from == 5
        conn = store.backend.db.connection()
        indexes = {r[0]: r[1] for r in conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'")}
        assert not set(V5_CHILD_INDEXES) & set(indexes)
        assert indexes["card_stamp"] == sqlite_schema.STAMP_INDEX[1].replace(" IF NOT EXISTS", "")
        # The rescan reads the keys from the index, never computing them from the card rows.
        root = str(cards)
        key = sqlite_schema.STAMP_KEY
        plan = conn.execute(f"EXPLAIN QUERY PLAN SELECT group_concat({key}, char(0)) FROM card "
                            f"WHERE {key} >= ? AND {key} < ?", (root + "/", root + "0")).fetchall()  # fmt: skip
        assert [row[3] for row in plan] == ["SEARCH card USING INDEX card_stamp (<expr>>? AND <expr><?)"]
        assert store.backend.known_stamps([root]) == {
            f"{r.path}:{os.stat(r.path).st_size}:{os.stat(r.path).st_mtime_ns}" for r in store.rows()}
        assert store.backend.integrity_check() == "ok"
    after = table_rows(lib)
    assert ("schema_version", "7") in after["meta"] and ("schema_version", "5") in before["meta"]
    for rows in (before, after):
        rows["meta"] = [row for row in rows["meta"] if row[0] != "schema_version"]
    # Every row as it was: only indexes changed, and the journal's entries and the batches gained version
    # 7's bulk = 0.
    journal, batches = before.pop("journal_entry"), before.pop("edit_batch")
    assert after.pop("journal_entry") == [(*row, 0) for row in journal]
    assert after.pop("edit_batch") == [(*row, 0) for row in batches]
    assert after == before
    backup = tmp_path / "lib.sqlite.v5-backup"
    assert backup.is_file()  # copied aside first, as version 5
    old = sqlite3.connect(backup)
    try:
        assert old.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("5",)
        names = {r[0] for r in old.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert set(V5_CHILD_INDEXES) <= names and "card_stamp" not in names
    finally:
        old.close()
    held = table_rows(backup)
    held["meta"] = [row for row in held["meta"] if row[0] != "schema_version"]
    assert (held.pop("journal_entry"), held.pop("edit_batch")) == (journal, batches)
    assert held == before


def test_version_6_child_tables_are_found_by_card_through_their_primary_keys(tmp_path: Path) -> None:
    """Without their own card_id indexes, every statement of the backend's that finds child rows by card
    (reading them, replacing them in an edit, replacing them when a file changed) searches the primary
    key's index, and the ON DELETE cascade has an index led by card_id to search (SQLite's requirement
    for a child key): deleting cards stays a lookup per card, not a scan of each child table per card."""
    from curator.core.importer import import_paths

    cards = tmp_path / "cards"
    cards.mkdir()
    for n in range(400):  # enough rows that the planner's statistics favour an index where one serves
        (cards / f"c{n:02d}.md").write_text(
            f"---\ntitle: Card {n}\ntopics: [Space, T{n}]\nimages:\n  - url: https://i.example/{n}.jpg\n"
            f"related:\n  - title: Related {n}\n    sourceUrl: https://r.example/{n}\n---\n")
    with Store(tmp_path / "lib.sqlite") as store:
        import_paths(store, [cards])
        store.optimize()  # the planner's statistics, as a library has them after an import
        conn = store.backend.db.connection()
        for table in CHILD_TABLES:
            leading = [conn.execute(f"PRAGMA index_info('{name}')").fetchone()[2]
                       for _, name, *_ in conn.execute(f"PRAGMA index_list('{table}')")]  # fmt: skip
            assert "card_id" in leading, (table, leading)
            assert f"{table}_card_id" not in {r[1] for r in conn.execute(f"PRAGMA index_list('{table}')")}
        statements: list[str] = []
        conn.set_trace_callback(statements.append)
        try:
            [first, second, *_] = store.ids()
            for kind in ("topics", "images", "related"):
                assert store.backend.child_rows(kind, first)
            store.set_fields([first, second], {"topics": ["Edited"]}, label="topics")
            assert store.detail(first) is not None
            assert store.facets("card").topics
            changed = cards / "c05.md"
            changed.write_text("---\ntitle: Changed\ntopics: [Other]\n---\n")
            st = changed.stat()
            os.utime(changed, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
            (cards / "c06.md").unlink()
            report = import_paths(store, [cards])
            assert (report.updated, report.removed) == (1, 1)
        finally:
            conn.set_trace_callback(None)
        by_card = [s for s in statements if "card_id" in s and any(t in s for t in CHILD_TABLES)]
        assert len({s.split()[0].upper() for s in by_card}) >= 2, by_card  # reads and deletes both seen
        for statement in by_card:
            plan = " | ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {statement}"))
            assert not any(f"SCAN {t}" in plan for t in CHILD_TABLES), (statement, plan)
        # The cascade took the removed card's child rows with it.
        assert all(conn.execute(f"SELECT count(*) FROM {t} WHERE card_id NOT IN (SELECT id FROM card)").fetchone()
                   == (0,) for t in CHILD_TABLES)  # fmt: skip


def bulk_flags(conn: sqlite3.Connection, batch_id: int | None) -> set[int]:
    return {r[0] for r in conn.execute("SELECT bulk FROM journal_entry WHERE batch_id = ?", (batch_id,))}


def test_version_6_library_keeps_its_journal_and_finds_bulk_edits_by_batch_and_card(tmp_path: Path) -> None:
    """Version 7 tells a bulk edit's journal entries apart (``bulk``) and finds them by (batch, card): a
    version 6 library keeps every entry, each found by card as before, and who last changed each field,
    the history and undo's refusals read the same; the bulk edits made after it go to the new index."""
    from curator.core.importer import import_paths

    cards = tmp_path / "cards"
    cards.mkdir()
    for n in range(80):  # more cards than a run of shared values needs (base.RUN_AT_LEAST)
        (cards / f"c{n:02d}.md").write_text(f"---\ntitle: Card {n}\nquality: {n}\n---\n")
    lib = tmp_path / "lib.sqlite"
    with Store(lib, editor="Ana") as ana, Store(lib, editor="Ben") as ben:
        import_paths(ana, [cards])
        ids = sorted(ana.ids())
        bulk = ana.set_fields(ids, {"published": True}, label="all").batch_id
        ben.set_fields(ids[:3], {"published": False}, label="Ben's three")
        undone = ana.set_fields(ids[40:], {"heat": 5}, label="undone").batch_id
        assert undone is not None and ana.undo(undone).changed == ids[40:]
        ana.set_fields(ids[5:6], {"quality": 7}, label="one")
        assert bulk_flags(ana.backend.db.connection(), bulk) == {1}  # written as one run
        before = {
            "journal": ana.backend.journal_rows(),
            "history": ana.history(10),
            "changes": {cid: ana.last_changes(cid) for cid in ids},
            "later": {b.id: ana.backend.later_changes(b.id, "Ana") for b in ana.history(10)},
        }
    downgrade_to_v6(lib)
    with Store(lib, editor="Ana") as ana, Store(lib, editor="Ben") as ben:
        assert ana.schema_version == schema.SCHEMA_VERSION == 7 and ana.backend.migrated_from == 6
        conn = ana.backend.db.connection()
        indexes = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'").fetchall())
        for name, statement in (("journal_entry_card_id", sqlite_schema.JOURNAL_CARD_INDEX),
                                ("journal_entry_batch_card", sqlite_schema.JOURNAL_BATCH_INDEX)):  # fmt: skip
            assert indexes[name] == statement.format(name="journal_entry")
        assert indexes["edit_batch_bulk"] == sqlite_schema.EDIT_BATCH_BULK[1]
        assert "journal_entry_batch_id" not in indexes
        flags = conn.execute("SELECT DISTINCT bulk FROM journal_entry UNION SELECT bulk FROM edit_batch").fetchall()
        assert flags == [(0,)]  # every entry there was stays found by card
        assert ana.backend.journal_rows() == before["journal"] and ana.history(10) == before["history"]
        assert {cid: ana.last_changes(cid) for cid in ids} == before["changes"]
        assert {b.id: ana.backend.later_changes(b.id, "Ana") for b in ana.history(10)} == before["later"]
        assert ana.last_changes(ids[0])["published"].editor == "Ben"
        # Bulk edits after the migration: their entries are bulk, found by (batch, card) for `show` and undo.
        sevens = ana.set_fields(ids[:40], {"heat": 7}, label="Ana's heat").batch_id
        later = ben.set_fields(ids, {"heat": 60}, label="Ben's heat").batch_id  # two runs: from 7, from none
        assert sevens is not None and bulk_flags(conn, sevens) == bulk_flags(conn, later) == {1}
        assert conn.execute("SELECT id FROM edit_batch WHERE bulk = 1").fetchall() == [(sevens,), (later,)]
        change = ana.last_changes(ids[5])["heat"]
        assert (change.value, change.editor) == (60, "Ben")
        plan = " | ".join(r[3] for r in conn.execute(
            "EXPLAIN QUERY PLAN SELECT id FROM journal_entry WHERE bulk = 1 AND batch_id = ? AND card_id = ?",
            (later, ids[5])))  # fmt: skip
        assert "USING INDEX journal_entry_batch_card (batch_id=? AND card_id=?)" in plan
        # Ben changed every card of Ana's heat since: its undo is refused whole, naming him.
        with pytest.raises(ValueError, match=rf"heat of card {ids[0]} was changed by Ben"):
            ana.undo(sevens)
        # The bulk edit before it is undone but for the three cards Ben published since.
        result = ana.undo(bulk)
        assert result.changed == ids[3:] and sorted((s.card_id, s.field) for s in result.skipped) == [
            (cid, "published") for cid in ids[:3]]  # fmt: skip
        assert ana.backend.integrity_check() == "ok"
    old = sqlite3.connect(tmp_path / "lib.sqlite.v6-backup")  # copied aside first, as version 6
    try:
        assert old.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone() == ("6",)
        assert "bulk" not in columns(old, "journal_entry") | columns(old, "edit_batch")
    finally:
        old.close()


def test_removed_cards_take_their_bulk_journal_entries_with_them(tmp_path: Path) -> None:
    """A card deleted (its file gone at a rescan) leaves no journal entry behind, single or bulk."""
    from curator.core.importer import import_paths

    cards = tmp_path / "cards"
    cards.mkdir()
    for n in range(60):
        (cards / f"c{n:02d}.md").write_text(f"---\ntitle: Card {n}\n---\n")
    with Store(tmp_path / "lib.sqlite") as store:
        import_paths(store, [cards])
        ids = sorted(store.ids())
        first = store.set_fields(ids, {"heat": 4}, label="bulk").batch_id
        store.set_fields(ids, {"quality": 50}, label="bulk 2")
        store.set_fields(ids[:1], {"published": True}, label="one")
        conn = store.backend.db.connection()
        assert bulk_flags(conn, first) == {1}
        gone = store.rows_by_id(ids[:2])
        store.write()
        for row in gone:
            Path(row.path).unlink()
        assert import_paths(store, [cards]).removed == 2
        left = {r[0] for r in conn.execute("SELECT DISTINCT card_id FROM journal_entry")}
        assert left == set(ids[2:])
