"""The library's tables (peewee models), its schema version and migrations.

The card row holds the *current* value of every known field: the value in the
file, or the pending edit when there is one. ``PendingEdit`` keeps the value the
file held (``base``) beside the pending one, so a write knows what to change and
a conflict check knows what the edit was based on. Values that are not plain
columns (lists, maps) are stored as JSON text. The whole mapping as read lives in
``CardDoc``, apart from the card row, so that scans and bulk updates of the card
table never read or rewrite it (it is most of a card's bytes).
"""

from __future__ import annotations

from collections.abc import Callable

from peewee import (
    AutoField,
    BooleanField,
    CompositeKey,
    Database,
    DatabaseProxy,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)
from playhouse.sqlite_ext import FTS5Model, RowIDField, SearchField

#: Bumped whenever the tables change; ``migrate`` brings older libraries up to it.
SCHEMA_VERSION = 2

database_proxy = DatabaseProxy()


def parse_version(value: object) -> int:
    """The schema version ``meta`` records, as an int; ValueError naming the value when it is not one.

    Curator writes it as the text of a whole number ("2"). Anything else (text such as 'abc', a negative
    or fractional number, a value another program stored as REAL or BLOB) means the library was damaged
    or written by something else, and no migration step can start from it.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18:
        number = int(value)
    else:
        shown = (
            repr(value)
            if not isinstance(value, (str, bytes)) or len(value) <= 40
            else repr(value[:40]) + "..."
        )
        raise ValueError(f"its schema version {shown} is not a version number (a whole number 0 or more)")
    if number < 0:
        raise ValueError(f"its schema version {number} is not a version number (a whole number 0 or more)")
    return number


class BaseModel(Model):
    class Meta:
        database = database_proxy
        legacy_table_names = False


class Meta(BaseModel):
    """Key/value facts about the library itself (``schema_version``)."""

    key = TextField(primary_key=True)
    value = TextField()


class Card(BaseModel):
    """One card file and the current value of each known field."""

    id = AutoField()
    path = TextField(unique=True)  # absolute, as given to import (not resolved through links)
    # The file as last read: the base every pending edit was made against.
    size = IntegerField()
    mtime_ns = IntegerField()
    sha256 = TextField()
    # Known fields; NULL when the file lacks them or holds a value of the wrong type.
    category = TextField(null=True, collation="NOCASE")
    title = TextField(null=True)
    excerpt = TextField(null=True)
    published_at = TextField(null=True)  # publishedDateTime exactly as the file writes it
    date = TextField(null=True)  # the same instant as sortable UTC text "YYYY-MM-DDTHH:MM:SS"
    source_url = TextField(null=True)
    amp_url = TextField(null=True)
    cdn_amp_url = TextField(null=True)
    type = TextField(null=True, collation="NOCASE")
    quality = IntegerField(null=True)
    heat = IntegerField(null=True)
    published = BooleanField(null=True)
    provider_name = TextField(null=True, collation="NOCASE")
    provider_domain = TextField(null=True, collation="NOCASE")
    topics = TextField(default="[]")  # JSON list of str, in file order
    lead_image = TextField(null=True)  # URL of images[0]
    related_count = IntegerField(default=0)
    problems = IntegerField(default=0)  # how many validation problems the current values have
    dirty = BooleanField(default=False)  # has pending edits
    conflict = BooleanField(default=False)  # file changed on disk under pending edits
    missing = BooleanField(default=False)  # file vanished at the last rescan
    imported_at = FloatField()

    class Meta:
        indexes = (
            # Covering-ish indexes for the list's sort orders and the common filters.
            (("date", "id"), False),
            (("quality", "id"), False),
            (("heat", "id"), False),
            (("published", "date"), False),
            (("provider_name", "id"), False),
            (("category", "id"), False),
        )


#: Partial indexes on the rare flags: a small index the planner prefers to walking a sort index through
#: the whole table (``dirty:true`` sorted by date took 125 ms at 100k cards with the plain ``dirty`` index).
#: Their WHERE terms are written as the search module compiles the flags (``dirty = 1``, ``problems > 0``)
#: because SQLite uses a partial index only when the query's terms imply the index's.
FLAG_INDEXES: tuple[tuple[str, str], ...] = (
    ("card_dirty_flag", "dirty = 1"),
    ("card_conflict_flag", "conflict = 1"),
    ("card_missing_flag", "missing = 1"),
    ("card_problems_flag", "problems > 0"),
)


def create_flag_indexes(db: Database) -> None:
    """Create the partial indexes of FLAG_INDEXES (idempotent)."""
    for name, condition in FLAG_INDEXES:
        db.execute_sql(f'CREATE INDEX IF NOT EXISTS "{name}" ON "card" ("id") WHERE {condition}')


class CardDoc(BaseModel):
    """The whole mapping of a card's file as read (JSON, timestamps as text): the base of pending edits."""

    card = ForeignKeyField(Card, primary_key=True, on_delete="CASCADE", backref="doc_row")
    doc = TextField()


class CardTopic(BaseModel):
    """A card's topics, one row each, for topic filters and facet counts."""

    card = ForeignKeyField(Card, on_delete="CASCADE", backref="topic_rows")
    name = TextField(collation="NOCASE")
    position = IntegerField()

    class Meta:
        primary_key = CompositeKey("card", "position")
        indexes = ((("name", "card"), False),)


class CardImage(BaseModel):
    """A card's images, lead image first."""

    card = ForeignKeyField(Card, on_delete="CASCADE", backref="image_rows")
    position = IntegerField()
    url = TextField(null=True)
    width = IntegerField(null=True)
    height = IntegerField(null=True)
    title = TextField(null=True)

    class Meta:
        primary_key = CompositeKey("card", "position")


class RelatedItem(BaseModel):
    """One entry of a card's ``related`` list (the whole item is in the card's ``CardDoc``)."""

    card = ForeignKeyField(Card, on_delete="CASCADE", backref="related_rows")
    position = IntegerField()
    title = TextField(null=True)
    source_url = TextField(null=True)
    provider_name = TextField(null=True)
    quality = IntegerField(null=True)

    class Meta:
        primary_key = CompositeKey("card", "position")


class PendingEdit(BaseModel):
    """An edit recorded in the library but not yet written to the card's file."""

    card = ForeignKeyField(Card, on_delete="CASCADE", backref="pending_rows")
    field = TextField()  # the top-level key in the file, e.g. "quality", "topics", "related"
    base = TextField()  # JSON of the value the file held ("null" when the key was absent)
    value = TextField()  # JSON of the pending value

    class Meta:
        primary_key = CompositeKey("card", "field")


class EditBatch(BaseModel):
    """One thing the editor meant to do (a single edit or a bulk edit): one undo step."""

    id = AutoField()
    label = TextField()
    created = FloatField()
    undone = BooleanField(default=False)


class JournalEntry(BaseModel):
    """One field change inside a batch: enough to undo or redo it."""

    id = AutoField()
    batch = ForeignKeyField(EditBatch, on_delete="CASCADE", backref="entries")
    card = ForeignKeyField(Card, on_delete="CASCADE")
    field = TextField()
    old = TextField()  # JSON
    new = TextField()  # JSON
    created = FloatField()

    class Meta:
        indexes = ((("card",), False),)


class CardIndex(FTS5Model):
    """Full-text index over title, excerpt, provider and topics (rowid = card id)."""

    rowid = RowIDField()
    title = SearchField()
    excerpt = SearchField()
    provider = SearchField()
    topics = SearchField()

    class Meta:
        database = database_proxy
        table_name = "card_index"
        # No prefix indexes: they tripled the index entries every card and every topic edit writes (a
        # bulk topic edit of 10k cards spent 0.5 s re-indexing, 0.2 s without), while `ab*` queries run
        # about as fast from the term index alone (30-50 ms for 1-2 letter prefixes at 100k cards).
        options = {"tokenize": "unicode61 remove_diacritics 2"}


MODELS: tuple[type[Model], ...] = (
    Meta,
    Card,
    CardDoc,
    CardTopic,
    CardImage,
    RelatedItem,
    PendingEdit,
    EditBatch,
    JournalEntry,
    CardIndex,
)


# --- Migrations -------------------------------------------------------------------------------------------
# Version 0 is the prototype layout: no ``meta`` table (so no recorded version), no full-text index, and
# ``card`` without ``related_count``, ``problems`` and ``missing``. Each step brings a library from version
# N to N+1; ``Store`` runs the steps in order inside one transaction and then records the new version.


def _migrate_0_to_1(db: Database) -> None:
    """Add the columns and the full-text index the prototype lacked, and fill them from what it had."""
    import json

    from curator.core import fields  # only here: the tables themselves need no field rules

    for column in ("related_count", "problems", "missing"):
        db.execute_sql(f'ALTER TABLE "card" ADD COLUMN "{column}" INTEGER NOT NULL DEFAULT 0')
    db.execute_sql(
        'UPDATE "card" SET "related_count" = '
        '(SELECT count(*) FROM "related_item" WHERE "related_item"."card_id" = "card"."id")'
    )
    Meta.create_table()
    CardIndex.create_table()
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
    CardDoc.create_table()
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


#: MIGRATIONS[n] brings a version-n library to version n+1.
MIGRATIONS: dict[int, Callable[[Database], None]] = {0: _migrate_0_to_1, 1: _migrate_1_to_2}
assert sorted(MIGRATIONS) == list(range(SCHEMA_VERSION)), "one migration per version step"
