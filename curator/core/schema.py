"""The library's tables (peewee models, bound to no database) and its schema version.

The card row holds the *current* value of every known field: the value in the
file, or the pending edit when there is one. ``PendingEdit`` keeps the value the
file held (``base``) beside the pending one, so a write knows what to change and
a conflict check knows what the edit was based on. Values that are not plain
columns (lists, maps) are stored as JSON text. The whole mapping as read lives in
``CardDoc``, apart from the card row, so that scans and bulk updates of the card
table never read or rewrite it (it is most of a card's bytes).

The models are declarations only: no database is bound to them (no global proxy), so two Stores on two
libraries can be used at once from two threads. Each backend builds queries from them and runs those on
its own connection (``query.execute(database)``); the DDL, the migrations and every statement live in
``curator.core.backend`` (``sqlite_schema`` for SQLite). Nothing here runs SQL.
"""

from __future__ import annotations

from peewee import (
    SQL,
    AutoField,
    BlobField,
    BooleanField,
    CompositeKey,
    FloatField,
    ForeignKeyField,
    IntegerField,
    Model,
    TextField,
)
from playhouse.sqlite_ext import FTS5Model, RowIDField, SearchField

#: Bumped whenever the tables change; the backend's migrations bring older libraries up to it.
SCHEMA_VERSION = 7

#: Card columns a file determines, in the order of ``CardRecord.values``.
FILE_COLUMNS: tuple[str, ...] = (
    "path", "size", "mtime_ns", "sha256",
    "category", "title", "excerpt", "published_at", "date", "source_url", "amp_url", "cdn_amp_url",
    "type", "quality", "heat", "published", "provider_name", "provider_domain",
    "topics", "lead_image", "related_count", "problems", "imported_at",
)  # fmt: skip

#: Card columns derived from the mapping's known fields (what an edit may change), by file key.
FIELD_COLUMNS: dict[str, tuple[str, ...]] = {
    "category": ("category",),
    "title": ("title",),
    "excerpt": ("excerpt",),
    "publishedDateTime": ("published_at", "date"),
    "sourceUrl": ("source_url",),
    "ampUrl": ("amp_url",),
    "cdnAmpUrl": ("cdn_amp_url",),
    "type": ("type",),
    "quality": ("quality",),
    "heat": ("heat",),
    "published": ("published",),
    "provider": ("provider_name", "provider_domain"),
    "topics": ("topics",),
    "images": ("lead_image",),
    "related": ("related_count",),
}
#: Fields that feed the full-text index (``related``: the related items' titles).
FTS_FIELDS = frozenset({"title", "excerpt", "provider", "topics", "related"})


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


#: The SQL default of the editor columns: '' is "not recorded" (edits made before version 4, or by
#: statements that name no editor), so inserts that predate the columns stay valid.
_NO_ONE = SQL("DEFAULT ''")


class BaseModel(Model):
    class Meta:
        database = None  # bound per Store: see the module docstring
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
    # Bumped by every change of the row's values (optimistic concurrency: an edit names the version it
    # was based on; PostgreSQL bumps it in a trigger, SQLite in the Store's own statements).
    version = IntegerField(default=1, constraints=[SQL("DEFAULT 1")])

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


class CardDoc(BaseModel):
    """The whole mapping of a card's file as read (JSON, timestamps as text): the base of pending edits."""

    card = ForeignKeyField(Card, primary_key=True, on_delete="CASCADE", backref="doc_row")
    doc = TextField()


class CardTopic(BaseModel):
    """A card's topics, one row each, for topic filters and facet counts."""

    # No index of its own on card (index=False, since schema 6): the primary key (card, position) leads with
    # it, so lookups by card, the cascade and delete_cards use that; a second index only cost every import.
    card = ForeignKeyField(Card, on_delete="CASCADE", backref="topic_rows", index=False)
    name = TextField(collation="NOCASE")
    position = IntegerField()

    class Meta:
        primary_key = CompositeKey("card", "position")
        indexes = ((("name", "card"), False),)


class CardImage(BaseModel):
    """A card's images, lead image first."""

    card = ForeignKeyField(Card, on_delete="CASCADE", backref="image_rows", index=False)  # as CardTopic
    position = IntegerField()
    url = TextField(null=True)
    width = IntegerField(null=True)
    height = IntegerField(null=True)
    title = TextField(null=True)

    class Meta:
        primary_key = CompositeKey("card", "position")


class RelatedItem(BaseModel):
    """One entry of a card's ``related`` list (the whole item is in the card's ``CardDoc``)."""

    card = ForeignKeyField(Card, on_delete="CASCADE", backref="related_rows", index=False)  # as CardTopic
    position = IntegerField()
    title = TextField(null=True)
    source_url = TextField(null=True)
    provider_name = TextField(null=True)
    quality = IntegerField(null=True)

    class Meta:
        primary_key = CompositeKey("card", "position")


class PendingEdit(BaseModel):
    """An edit recorded in the library but not yet written to the card's file.

    SQLite makes this table and ``JournalEntry``'s without their foreign keys, the Store keeping them true
    (``sqlite_schema.EDIT_TABLES`` says why); PostgreSQL has them.
    """

    card = ForeignKeyField(Card, on_delete="CASCADE", backref="pending_rows")
    field = TextField()  # the top-level key in the file, e.g. "quality", "topics", "related"
    base = TextField()  # JSON of the value the file held ("null" when the key was absent)
    value = TextField()  # JSON of the pending value
    editor = TextField(default="", constraints=[_NO_ONE])  # who made the edit (preferences; default: OS user)
    changed = FloatField(default=0.0, constraints=[SQL("DEFAULT 0")])  # when (seconds since the epoch)

    class Meta:
        primary_key = CompositeKey("card", "field")


class EditBatch(BaseModel):
    """One thing the editor meant to do (a single edit or a bulk edit): one undo step."""

    id = AutoField()
    label = TextField()
    created = FloatField()
    undone = BooleanField(default=False)
    editor = TextField(default="", constraints=[_NO_ONE])  # who made the step: undo steps back only one's own


class JournalEntry(BaseModel):
    """One field change inside a batch: enough to undo or redo it."""

    id = AutoField()
    batch = ForeignKeyField(EditBatch, on_delete="CASCADE", backref="entries")
    card = ForeignKeyField(Card, on_delete="CASCADE")
    field = TextField()
    old = TextField()  # JSON
    new = TextField()  # JSON
    created = FloatField()
    editor = TextField(default="", constraints=[_NO_ONE])  # who changed the field (History, `show`)

    class Meta:
        indexes = ((("card",), False),)


class CardIndex(FTS5Model):
    """Full-text index over title, excerpt, provider, topics and related items' titles (rowid = card id)."""

    rowid = RowIDField()
    title = SearchField()
    excerpt = SearchField()
    provider = SearchField()
    topics = SearchField()
    related = SearchField()  # the related items' titles, one a line (store_rows.fts_values)

    class Meta:
        database = None
        table_name = "card_index"
        # No prefix indexes: they tripled the index entries every card and every topic edit writes (a
        # bulk topic edit of 10k cards spent 0.5 s re-indexing, 0.2 s without), while `ab*` queries run
        # about as fast from the term index alone (30-50 ms for 1-2 letter prefixes at 100k cards).
        options = {"tokenize": "unicode61 remove_diacritics 2"}  # noqa: RUF012 (peewee reads Meta)


# -- the checks index (issue 11: duplicates, copies, same story; curator/core/store_checks.py) ----------------
class CheckArray(BaseModel):
    """One array of ``CheckIndex.to_arrays`` as saved (``numpy.save`` bytes, no pickles)."""

    name = TextField(primary_key=True)
    data = BlobField()


class CheckCard(BaseModel):
    """A card as the saved checks index saw it: its stamp and canonical URLs (no foreign key on purpose:
    a card deleted since the index was saved must still be found here to be taken out of the index)."""

    card_id = IntegerField(primary_key=True)
    stamp = TextField()  # the card's sha256 and a digest of its pending edits: another stamp is stale
    source = TextField(null=True)  # canonical sourceUrl, ampUrl, cdnAmpUrl
    amp = TextField(null=True)
    cdn = TextField(null=True)


class CheckGroup(BaseModel):
    """A group of cards that are one article: kind "url" (equal canonical URLs) or "copy"."""

    id = AutoField()
    kind = TextField()
    canonical = TextField(null=True)


class CheckMember(BaseModel):
    """A card of a group."""

    group = ForeignKeyField(CheckGroup, on_delete="CASCADE", backref="members")
    card_id = IntegerField(index=True)

    class Meta:
        primary_key = CompositeKey("group", "card_id")


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
    CheckArray,
    CheckCard,
    CheckGroup,
    CheckMember,
)
