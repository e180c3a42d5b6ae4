"""The SQLite library's DDL and migrations: creating the tables of ``schema.MODELS`` and upgrading old files.

Version 0 is the prototype layout: no ``meta`` table (so no recorded version), no full-text index, and
``card`` without ``related_count``, ``problems`` and ``missing``. Each step of MIGRATIONS brings a library
from version N to N+1; the backend runs the steps in order inside one transaction and then records the
new version.

Since version 5 the edit tables (``pending_edit``, ``journal_entry``) are not made from their models but
from EDIT_TABLES, without the foreign keys the models declare (see there); every other table is its
model's. Since version 6 the card table has STAMP_INDEX (the rescan's keys), and the child tables (topics,
images, related items) have no index on card_id alone: their primary keys lead with it. Since version 7
the journal tells a bulk edit's entries apart and finds them by (batch, card) alone (EDIT_TABLES).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from peewee import Database, Model

from curator.core import schema

#: Partial indexes on the rare flags: a small index the planner prefers to walking a sort index through
#: the whole table (``dirty:true`` sorted by date took 125 ms at 100k cards with the plain ``dirty`` index).
#: Their WHERE terms are written as the search compiler writes the flags (``dirty = 1``, ``problems > 0``)
#: because SQLite uses a partial index only when the query's terms imply the index's.
FLAG_INDEXES: tuple[tuple[str, str], ...] = (
    ("card_dirty_flag", "dirty = 1"),
    ("card_conflict_flag", "conflict = 1"),
    ("card_missing_flag", "missing = 1"),
    ("card_problems_flag", "problems > 0"),
)


#: A card's rescan key (``base.stamp_key``: "path:size:mtime_ns", size -1 for a card flagged missing, so no
#: file matches it) as SQLite computes it, in STAMP_INDEX and in ``SqliteBackend.known_stamps`` (the same
#: expression, so the planner reads the value the index holds instead of computing it again).
STAMP_KEY = "path || ':' || CASE WHEN missing THEN -1 ELSE size END || ':' || mtime_ns"
#: The rescan's index (schema 6): every card's STAMP_KEY, in path order (the key starts with the path, so
#: the cards under a root are one range of it). A rescan that finds nothing changed reads the keys under its
#: roots from this 9 MB index at 100k cards, ~20 ms of SQLite's time, where it scanned the 100 MB card
#: table and built each key (~120 ms, plus ~15 ms counting the roots' range to choose between the scan and
#: the path index); a covering index of (path, size, mtime_ns, missing) still built every key (~55 ms).
STAMP_INDEX = ("card_stamp", f'CREATE INDEX IF NOT EXISTS "card_stamp" ON "card" ({STAMP_KEY})')
#: The child tables' indexes on card_id alone that schema 6 dropped: each table's primary key is
#: (card_id, position), so its own index leads with card_id and serves every lookup by card (the list's
#: topic facet join, ``child_rows``, ``delete_cards``, the ON DELETE cascade); the extra index cost every
#: imported card three more index entries (a tenth of a cold import's inserts at 20k).
DROPPED_CHILD_INDEXES = ("card_topic_card_id", "card_image_card_id", "related_item_card_id")

#: The edit tables' DDL (``{name}``: the table's name, so a migration can build one beside the old one).
#: The columns are the models' (``schema.PendingEdit``, ``schema.JournalEntry``), without their foreign
#: keys: SQLite checked each inserted row's card (and batch) by a lookup of it, and a bulk edit inserts
#: 10k pending rows and 10k journal entries, for cards it has just read in the same transaction (a third
#: of the two inserts' time at 100k cards). Their integrity is the backend's: pending rows and journal
#: entries are only written for cards the edit read (``SqliteBackend.current``) and batches it added, and
#: ``delete_cards`` deletes a card's pending edits and journal entries with it, as the cascade did.
#: ``pending_edit`` has no rowid: its key (card, field) is the table, where a rowid table kept the rows
#: and the key's index apart (and a third index, on card alone, that the key already covers).
#:
#: ``journal_entry.bulk`` (schema 7, SQLite's own: not a model column) is 1 for an entry a bulk edit wrote
#: as one of a run of cards sharing (field, old, new) (``SqliteBackend.add_journal``), 0 for the others,
#: and ``edit_batch.bulk`` (EDIT_BATCH_BULK) is 1 for a batch holding such entries. Every entry is in the
#: index by (batch, card) (the batch's entries, and a card's in one batch); only the others are also in
#: the index by card (JOURNAL_CARD_INDEX). So a bulk edit's 10k entries are one index entry each, at the
#: end of that index in order, where schema 6 gave each a second one at its card's place among all the
#: entries before it (every page of that index written at every bulk edit: a fifth of a bulk set's work
#: at 100k cards, and growing with the history). A lookup by card reads its entries by card, then probes
#: each bulk batch once (``SqliteBackend.field_changes``).
JOURNAL_CARD_INDEX = 'CREATE INDEX "journal_entry_card_id" ON "{name}" ("card_id") WHERE "bulk" = 0'
JOURNAL_BATCH_INDEX = 'CREATE INDEX "journal_entry_batch_card" ON "{name}" ("batch_id", "card_id")'
#: The batches holding bulk entries (schema 7): the column and its partial index, in the tables' order.
EDIT_BATCH_BULK = (
    'ALTER TABLE "edit_batch" ADD COLUMN "bulk" INTEGER NOT NULL DEFAULT 0',
    'CREATE INDEX "edit_batch_bulk" ON "edit_batch" ("id") WHERE "bulk" = 1',
)
EDIT_TABLES: dict[str, tuple[str, ...]] = {
    "pending_edit": (
        (
            'CREATE TABLE "{name}" ("card_id" INTEGER NOT NULL, "field" TEXT NOT NULL, "base" TEXT NOT NULL, '
            '"value" TEXT NOT NULL, "editor" TEXT NOT NULL DEFAULT \'\', "changed" REAL NOT NULL DEFAULT 0, '
            'PRIMARY KEY ("card_id", "field")) WITHOUT ROWID'
        ),
    ),
    "journal_entry": (
        (
            'CREATE TABLE "{name}" ("id" INTEGER NOT NULL PRIMARY KEY, "batch_id" INTEGER NOT NULL, '
            '"card_id" INTEGER NOT NULL, "field" TEXT NOT NULL, "old" TEXT NOT NULL, "new" TEXT NOT NULL, '
            '"created" REAL NOT NULL, "editor" TEXT NOT NULL DEFAULT \'\', "bulk" INTEGER NOT NULL DEFAULT 0)'
        ),
        JOURNAL_BATCH_INDEX,
        JOURNAL_CARD_INDEX,
    ),
}
#: The journal's table and indexes as schema versions 5 and 6 had them (what _migrate_4_to_5 builds).
JOURNAL_V5: tuple[str, ...] = (
    (
        'CREATE TABLE "{name}" ("id" INTEGER NOT NULL PRIMARY KEY, "batch_id" INTEGER NOT NULL, '
        '"card_id" INTEGER NOT NULL, "field" TEXT NOT NULL, "old" TEXT NOT NULL, "new" TEXT NOT NULL, '
        '"created" REAL NOT NULL, "editor" TEXT NOT NULL DEFAULT \'\')'
    ),
    'CREATE INDEX "journal_entry_batch_id" ON "{name}" ("batch_id")',
    'CREATE INDEX "journal_entry_card_id" ON "{name}" ("card_id")',
)
_EDIT_MODELS: frozenset[type[Model]] = frozenset({schema.PendingEdit, schema.JournalEntry})


def create_edit_table(db: Database, table: str, name: str | None = None) -> None:
    """Create the edit table ``table`` of EDIT_TABLES (named ``name``, by default its own) and its indexes."""
    for statement in EDIT_TABLES[table]:
        db.execute_sql(statement.format(name=name or table))


def create_table(db: Database, model: type[Model]) -> None:
    """Create one model's table and indexes on ``db`` (the models are bound to no database).

    Through the model's own schema manager: the full-text index's is peewee's virtual-table one.
    """
    type(model._schema)(model, db).create_all(safe=True)


def create_flag_indexes(db: Database) -> None:
    """Create the partial indexes of FLAG_INDEXES (idempotent)."""
    for name, condition in FLAG_INDEXES:
        db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{name}" ON "card" ("id") WHERE {condition}')


def create_all(db: Database) -> None:
    """A new library's tables, indexes and full-text index (inside the caller's transaction)."""
    for model in schema.MODELS:
        if model in _EDIT_MODELS:
            create_edit_table(db, model._meta.table_name)
        else:
            create_table(db, model)
    for statement in EDIT_BATCH_BULK:  # the batches' column of schema 7 (the model has none)
        db.execute_sql(statement)
    create_flag_indexes(db)
    db.execute_sql(STAMP_INDEX[1])


def _migrate_0_to_1(db: Database) -> None:
    """Add the columns and the full-text index the prototype lacked, and fill them from what it had."""
    from curator.core import fields  # only here: the tables themselves need no field rules

    for column in ("related_count", "problems", "missing"):
        db.execute_sql(f'ALTER TABLE "card" ADD COLUMN "{column}" INTEGER NOT NULL DEFAULT 0')
    db.execute_sql(
        'UPDATE "card" SET "related_count" = '
        '(SELECT count(*) FROM "related_item" WHERE "related_item"."card_id" = "card"."id")'
    )
    create_table(db, schema.Meta)
    create_table(db, schema.CardIndex)
    db.execute_sql(
        'INSERT INTO "card_index" (rowid, "title", "excerpt", "provider", "topics") '
        "SELECT id, coalesce(title, ''), coalesce(excerpt, ''), "
        "trim(coalesce(provider_name, '') || ' ' || coalesce(provider_domain, '')), "
        "coalesce((SELECT group_concat(name, ', ') FROM "
        "(SELECT name FROM card_topic WHERE card_id = card.id ORDER BY position)), '') FROM card"
    )
    # Problems are counted over the current mapping: the file's mapping with pending edits laid over it.
    pending: dict[int, dict[str, str]] = {}
    for card_id, field, value in db.execute_sql('SELECT card_id, field, value FROM "pending_edit"'):
        pending.setdefault(card_id, {})[field] = value
    counts = []
    for card_id, doc in db.execute_sql('SELECT id, doc FROM "card"'):
        data = json.loads(doc)
        for field, value in pending.get(card_id, {}).items():
            if (loaded := json.loads(value)) is None:
                data.pop(field, None)
            else:
                data[field] = loaded
        counts.append((len(fields.problems(data)), card_id))
    db.cursor().executemany('UPDATE "card" SET "problems" = ? WHERE id = ?', counts)


def _migrate_1_to_2(db: Database) -> None:
    """Move each card's whole-mapping JSON out of the card row into ``card_doc``; flag indexes.

    ``related_item.doc`` goes too: nothing read it (the items are in the card's mapping), and encoding it
    cost each import about a tenth of its parse. The full-text index loses its prefix indexes.
    """
    create_table(db, schema.CardDoc)
    db.execute_sql('INSERT INTO "card_doc" ("card_id", "doc") SELECT "id", "doc" FROM "card"')
    # DROP COLUMN rewrites every card row without the JSON: the table shrinks to its list columns.
    db.execute_sql('ALTER TABLE "card" DROP COLUMN "doc"')
    db.execute_sql('ALTER TABLE "related_item" DROP COLUMN "doc"')
    db.execute_sql('DROP INDEX IF EXISTS "card_dirty"')  # replaced by the partial index below
    create_flag_indexes(db)
    # The full-text index without its prefix indexes (see CardIndex), rebuilt from its own stored text.
    db.execute_sql(
        'CREATE VIRTUAL TABLE "card_index_v2" USING fts5 ("title", "excerpt", "provider", "topics", '
        "tokenize='unicode61 remove_diacritics 2')"
    )
    db.execute_sql(
        'INSERT INTO "card_index_v2" (rowid, "title", "excerpt", "provider", "topics") '
        'SELECT rowid, "title", "excerpt", "provider", "topics" FROM "card_index"'
    )
    db.execute_sql('DROP TABLE "card_index"')
    db.execute_sql('ALTER TABLE "card_index_v2" RENAME TO "card_index"')


def _migrate_2_to_3(db: Database) -> None:
    """Add the checks index's tables (issue 11), empty: the first ``Store.refresh_checks`` builds it."""
    for model in (schema.CheckArray, schema.CheckCard, schema.CheckGroup, schema.CheckMember):
        create_table(db, model)


def _migrate_3_to_4(db: Database) -> None:
    """Team-ready columns (card version, who made each edit) and related items' titles in the full text.

    The new columns take their defaults (version 1, editor '' = unknown, changed 0). FTS5 tables cannot
    gain a column, so the index is rebuilt with ``related`` filled from the related items' titles in list
    order, exactly as ``store_rows.related_text`` joins them for new cards.
    """
    db.execute_sql('ALTER TABLE "card" ADD COLUMN "version" INTEGER NOT NULL DEFAULT 1')
    db.execute_sql('ALTER TABLE "pending_edit" ADD COLUMN "editor" TEXT NOT NULL DEFAULT \'\'')
    db.execute_sql('ALTER TABLE "pending_edit" ADD COLUMN "changed" REAL NOT NULL DEFAULT 0')
    db.execute_sql('ALTER TABLE "edit_batch" ADD COLUMN "editor" TEXT NOT NULL DEFAULT \'\'')
    db.execute_sql('ALTER TABLE "journal_entry" ADD COLUMN "editor" TEXT NOT NULL DEFAULT \'\'')
    db.execute_sql(
        'CREATE VIRTUAL TABLE "card_index_v4" USING fts5 ("title", "excerpt", "provider", "topics", "related", '
        "tokenize='unicode61 remove_diacritics 2')"
    )
    db.execute_sql(
        'INSERT INTO "card_index_v4" (rowid, "title", "excerpt", "provider", "topics", "related") '
        'SELECT rowid, "title", "excerpt", "provider", "topics", coalesce((SELECT group_concat(title, char(10)) '
        'FROM (SELECT title FROM "related_item" WHERE card_id = "card_index".rowid AND title <> \'\' '
        'ORDER BY position)), \'\') FROM "card_index"'
    )
    db.execute_sql('DROP TABLE "card_index"')
    db.execute_sql('ALTER TABLE "card_index_v4" RENAME TO "card_index"')


def _migrate_4_to_5(db: Database) -> None:
    """The edit tables without foreign keys, ``pending_edit`` without a rowid (EDIT_TABLES says why).

    SQLite cannot drop a constraint, so each table is built anew beside the old one, filled from it, and
    takes its name. Every row is kept as it was (journal entries keep their ids, so the history's order
    and undo are unchanged); a row naming a card or batch that is not there could not exist under the
    old foreign keys, and is left out all the same, so the code-kept integrity starts true.
    """
    create_edit_table(db, "pending_edit", "pending_edit_v5")
    db.execute_sql(
        'INSERT INTO "pending_edit_v5" ("card_id", "field", "base", "value", "editor", "changed") '
        'SELECT "card_id", "field", "base", "value", "editor", "changed" FROM "pending_edit" '
        'WHERE "card_id" IN (SELECT "id" FROM "card")'
    )
    db.execute_sql('DROP TABLE "pending_edit"')  # its indexes go with it
    db.execute_sql('ALTER TABLE "pending_edit_v5" RENAME TO "pending_edit"')
    # The indexes take their names only once the old table (and so its indexes) is gone.
    statements = JOURNAL_V5
    db.execute_sql(statements[0].format(name="journal_entry_v5"))
    db.execute_sql(
        'INSERT INTO "journal_entry_v5" ("id", "batch_id", "card_id", "field", "old", "new", "created", "editor") '
        'SELECT "id", "batch_id", "card_id", "field", "old", "new", "created", "editor" FROM "journal_entry" '
        'WHERE "card_id" IN (SELECT "id" FROM "card") AND "batch_id" IN (SELECT "id" FROM "edit_batch")'
    )
    db.execute_sql('DROP TABLE "journal_entry"')
    db.execute_sql('ALTER TABLE "journal_entry_v5" RENAME TO "journal_entry"')
    for statement in statements[1:]:
        db.execute_sql(statement.format(name="journal_entry"))


def _migrate_5_to_6(db: Database) -> None:
    """The rescan's covering index (STAMP_INDEX) in, the child tables' redundant card_id indexes out
    (DROPPED_CHILD_INDEXES): no row changes, only indexes."""
    for name in (*DROPPED_CHILD_INDEXES, STAMP_INDEX[0]):  # an index of that name is this one
        db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
    db.execute_sql(STAMP_INDEX[1])


def _migrate_6_to_7(db: Database) -> None:
    """The journal's and the batches' ``bulk`` columns and the journal's indexes (EDIT_TABLES says why).

    Every entry and batch there is takes 0, so each entry stays in the index by card, found as it was:
    only the bulk edits made from now on are found by (batch, card) alone. No row changes but for the
    new columns.
    """
    db.execute_sql('ALTER TABLE "journal_entry" ADD COLUMN "bulk" INTEGER NOT NULL DEFAULT 0')
    for name in ("journal_entry_batch_id", "journal_entry_card_id"):
        db.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
    for statement in (JOURNAL_BATCH_INDEX, JOURNAL_CARD_INDEX):
        db.execute_sql(statement.format(name="journal_entry"))
    for statement in EDIT_BATCH_BULK:
        db.execute_sql(statement)


#: MIGRATIONS[n] brings a version-n library to version n+1.
MIGRATIONS: dict[int, Callable[[Database], None]] = {
    0: _migrate_0_to_1, 1: _migrate_1_to_2, 2: _migrate_2_to_3, 3: _migrate_3_to_4, 4: _migrate_4_to_5,
    5: _migrate_5_to_6, 6: _migrate_6_to_7,
}  # fmt: skip
assert sorted(MIGRATIONS) == list(range(schema.SCHEMA_VERSION)), "one migration per version step"
