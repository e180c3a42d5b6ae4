"""A team library's schema on PostgreSQL: curator/core/schema.py's tables plus what many editors need.

The tables and columns are SQLite's (card, card_doc, card_topic, card_image, related_item, pending_edit,
edit_batch, journal_entry, meta), so the Store's rows mean the same on both backends. Added for a team:

- ``card.version``: bumped by a trigger on every UPDATE of the card row (optimistic concurrency: an edit
  says the version it was based on, ``WHERE id = … AND version = …``). Every change to a card goes
  through its row (the current values, ``dirty``, ``topics`` all live there), so the trigger sees all.
- A change sequence that survives commit order: the same trigger stamps ``card.change_xid`` with the
  writing transaction's id (``xid8``), every statement that inserts or updates card rows logs their ids
  under that id in ``card_change`` (one row per statement), and deletions leave a row in
  ``card_removed``. A plain ``bigserial`` would miss changes after a reconnect: transaction A takes seq
  100, B takes 101 and commits first, a listener catching up "after 101" never sees A. With transaction
  ids the catch-up asks "changed by a transaction my last snapshot did not see"
  (``pg_visible_in_snapshot``), which is exact. The catch-up reads the log, not ``card.change_xid``: an
  index on a column every UPDATE changes would make every update of a card non-HOT (see below).
- Bulk edits are HOT updates (schema 4): no index of ``card`` covers a column a bulk edit or its
  bookkeeping changes (``published``, ``dirty``, ``version``, ``change_xid``), and ``card`` leaves
  :data:`CARD_FILLFACTOR` % of each page for new row versions. PostgreSQL then writes an updated row next
  to its old version without touching any index; otherwise every row of a 10k-card publish gets an entry
  in each of card's indexes (expression indexes recomputed), ~5x the time of the UPDATE itself. A
  ``dirty`` card is one with pending edits, so ``dirty`` lookups go through ``pending_edit``'s key
  (:data:`DIRTY_IDS`), and ``published`` has no index: it splits a library in two large halves, where a
  scan with a filter is what the planner picks anyway.
- NOTIFY from statement-level triggers (transition tables): one ``pg_notify`` per chunk of ids, sent at
  commit and only if committed, whatever code wrote the rows (the Store, ``curator migrate``, psql).
  Payloads are ``card:12,13,14`` / ``batch:7`` (ids, never rows), at most :data:`IDS_PER_NOTIFY` ids each,
  far below PostgreSQL's 8000-byte payload limit.
- The editor's name and the server's time on journal entries, batches and pending edits; ``lock_holder``
  names who holds the writer and importer locks (pg_locks).
- ``card_text``: one ``tsvector`` per full-text column (title, excerpt, provider, topics, related items'
  titles) and their concatenation ``doc`` (a stored generated column) under a GIN index; the vectors are
  built in Python by :mod:`pg_fulltext` so the results equal FTS5's.

Case-insensitive text (SQLite's ``COLLATE NOCASE``): not citext. NOCASE folds ASCII only and SQLite
orders by code point, so every text column here is ``COLLATE "C"`` (code point order, the same on every
server, immune to glibc collation changes that silently corrupt indexes) and comparisons/sorts that are
NOCASE on SQLite use ``curator_fold(x)`` (ASCII-only ``translate``, an inlinable IMMUTABLE SQL function
with expression indexes). citext would fold by the server's locale (``É`` = ``é``: other results than
SQLite's) and needs ``CREATE EXTENSION``, which a managed server may refuse.

Schema versions: ``meta.schema_version`` against :data:`PG_SCHEMA_VERSION`. An older Curator is refused
(the library is newer than it knows); a newer Curator refuses too until someone runs ``curator migrate``
explicitly: a shared library is never migrated by whichever client happened to connect first.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg

#: The PostgreSQL library layout this Curator reads and writes (independent of SQLite's SCHEMA_VERSION).
PG_SCHEMA_VERSION = 5

#: Percent of each ``card`` page filled by inserts: the rest is room for updated versions of its rows
#: (HOT updates, see the module docstring). A card row is ~1 KB, so an 8 KB page holds ~5 rows and room
#: for ~3 new versions: enough for a bulk edit of every other card of a page (recent cards sit together),
#: and a page's dead versions are pruned on its next visit. The price is a ~1.6x larger table to scan.
CARD_FILLFACTOR = 60

#: The card ids with pending edits: ``dirty`` exactly (every edit that marks a card dirty gives it a
#: pending edit in the same transaction, and the last one removed clears the flag), through
#: pending_edit's primary key rather than an index on ``card.dirty`` (which would block HOT updates).
DIRTY_IDS = "id IN (SELECT card_id FROM pending_edit)"

#: The list's id-ordered walk (schema 5): card ids in order with the query language's date and number
#: columns beside them. A list page picks its ids first (``PostgresBackend.rows``), and a filter on these
#: columns is then read from this narrow index alone (an index-only scan) instead of the ~1 KB card rows:
#: `topic:AI date>=2020-03-01 date<2020-07` walked 45k card rows (13k pages, ~35-70 ms at 100k) because its
#: date range sits late in id order, where the planner's estimate assumes it is spread evenly. Every column
#: here is already in an index of its own (card_date, card_quality, card_heat), so the updates that are HOT
#: (see the module docstring) stay HOT, and an edit of quality or heat updated card's indexes anyway.
LIST_INDEX = "CREATE INDEX card_list ON card (id) INCLUDE (date, quality, heat)"

#: The channel every change is notified on.
CHANNEL = "curator_changes"

#: Ids per NOTIFY payload: 350 ids of up to 19 digits and a comma, plus the kind, stay under 7,100 bytes.
IDS_PER_NOTIFY = 350

#: Advisory lock key (transaction-scoped) serialising schema creation and migration.
SCHEMA_LOCK_KEY = 0x43555241_00000001

#: The tables, in creation order (children after parents).
TABLES: tuple[str, ...] = (
    "meta", "card", "card_doc", "card_topic", "card_image", "related_item", "card_text", "card_removed",
    "card_change",
    "pending_edit", "edit_batch", "journal_entry", "lock_holder",
    "check_array", "check_card", "check_group", "check_member",
)  # fmt: skip

_FOLD = """
CREATE FUNCTION curator_fold(text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT translate($1, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') $$
"""

_T = 'text COLLATE "C"'

#: The transaction-local setting under which an UPDATE of card rows is bookkeeping of their files (a
#: Write taking the written files back, a rescan's stat refresh and flags): the version stays.
BOOKKEEPING_SETTING = "curator.bookkeeping"

#: Every UPDATE of a card row stamps its change (live updates see them all) and advances its version,
#: except bookkeeping (see BOOKKEEPING_SETTING): an editor's edit based on the version read before another
#: editor's Write still holds, since no value it saw changed (as on SQLite, whose bookkeeping statements
#: leave the version alone). A client cannot rewind a version either way.
_CARD_STAMP = f"""CREATE OR REPLACE FUNCTION curator_card_stamp() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF coalesce(current_setting('{BOOKKEEPING_SETTING}', true), '') = 'on' THEN
            NEW.version := OLD.version;
        ELSE
            NEW.version := OLD.version + 1;
        END IF;
        NEW.change_xid := pg_current_xact_id();
        RETURN NEW;
    END $$"""

#: The change log the live-update catch-up reads: one row per statement that inserted or updated card
#: rows, their ids under the writing transaction's id (a bulk edit of 10k cards is one row).
_CARD_CHANGE_TABLE = "CREATE TABLE card_change (change_xid xid8 NOT NULL, ids bigint[] NOT NULL)"
_CARD_CHANGE_INDEX = "CREATE INDEX card_change_xid ON card_change (change_xid)"
_CARD_CHANGED = """CREATE OR REPLACE FUNCTION curator_card_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO card_change (change_xid, ids)
            SELECT pg_current_xact_id(), array_agg(id ORDER BY id) FROM changed HAVING count(*) > 0;
        RETURN NULL;
    END $$"""
_CARD_CHANGED_TRIGGERS = tuple(
    f"CREATE TRIGGER card_changed_{event.lower()} AFTER {event} ON card REFERENCING NEW TABLE AS changed "
    "FOR EACH STATEMENT EXECUTE FUNCTION curator_card_changed()"
    for event in ("INSERT", "UPDATE")
)

#: The foreign keys of the edit tables (pending_edit.card_id, journal_entry.card_id and .batch_id),
#: checked and cascaded per statement (schema 4). A FOREIGN KEY constraint checks each new row in a
#: trigger of its own: a bulk edit of 10k cards spent 180 ms in 30k such checks, ~2/3 of its pending and
#: journal inserts. Here one query per statement checks every key the statement wrote and locks the rows
#: they name FOR KEY SHARE, as the constraint's check does, so a concurrent deletion waits for the
#: writer and then takes the new rows with it (the cascade's DELETE runs after the card's, in a snapshot
#: of its own); a key naming no row is refused with foreign_key_violation, as before.
_STATEMENT_KEYS: tuple[str, ...] = (
    """CREATE OR REPLACE FUNCTION curator_check_keys() RETURNS trigger LANGUAGE plpgsql AS $$
    -- TG_ARGV: pairs of (column of the new rows, the table whose id it names).
    DECLARE named bigint; locked bigint; missing bigint;
    BEGIN
        FOR i IN 0 .. TG_NARGS - 1 BY 2 LOOP
            EXECUTE format('SELECT count(DISTINCT %I) FROM added', TG_ARGV[i]) INTO named;
            EXECUTE format('SELECT count(*) FROM (SELECT 1 FROM %I AS t WHERE t.id IN (SELECT %I FROM added) '
                           'FOR KEY SHARE OF t) AS held', TG_ARGV[i + 1], TG_ARGV[i]) INTO locked;
            IF locked < named THEN
                EXECUTE format('SELECT min(%1$I) FROM added WHERE NOT EXISTS '
                               '(SELECT 1 FROM %2$I AS t WHERE t.id = added.%1$I)',
                           TG_ARGV[i], TG_ARGV[i + 1])
                    INTO missing;
                RAISE foreign_key_violation USING MESSAGE = format(
                    'insert or update on table "%s": %s %s names no row of "%s"',
                    TG_TABLE_NAME, TG_ARGV[i], missing, TG_ARGV[i + 1]);
            END IF;
        END LOOP;
        RETURN NULL;
    END $$""",
    *(
        f"CREATE TRIGGER {table}_keys_{event.lower()} AFTER {event} ON {table} "
        f"REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION curator_check_keys({keys})"
        for table, keys in (
            ("pending_edit", "'card_id', 'card'"),
            ("journal_entry", "'card_id', 'card', 'batch_id', 'edit_batch'"),
        )
        for event in ("INSERT", "UPDATE")
    ),
    """CREATE OR REPLACE FUNCTION curator_cascade() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_TABLE_NAME = 'card' THEN
            DELETE FROM pending_edit WHERE card_id IN (SELECT id FROM gone);
            DELETE FROM journal_entry WHERE card_id IN (SELECT id FROM gone);
        ELSE
            DELETE FROM journal_entry WHERE batch_id IN (SELECT id FROM gone);
        END IF;
        RETURN NULL;
    END $$""",
    *(
        f"CREATE TRIGGER {table}_cascade AFTER DELETE ON {table} REFERENCING OLD TABLE AS gone "
        "FOR EACH STATEMENT EXECUTE FUNCTION curator_cascade()"
        for table in ("card", "edit_batch")
    ),
)

SCHEMA_DDL: tuple[str, ...] = (
    _FOLD,
    f"CREATE TABLE meta (key {_T} PRIMARY KEY, value {_T} NOT NULL)",
    f"""CREATE TABLE card (
        id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        path {_T} NOT NULL UNIQUE,
        size bigint NOT NULL, mtime_ns bigint NOT NULL, sha256 {_T} NOT NULL,
        category {_T}, title {_T}, excerpt {_T}, published_at {_T}, date {_T},
        source_url {_T}, amp_url {_T}, cdn_amp_url {_T}, type {_T},
        quality bigint, heat bigint, published boolean,
        provider_name {_T}, provider_domain {_T},
        topics {_T} NOT NULL DEFAULT '[]', lead_image {_T},
        related_count bigint NOT NULL DEFAULT 0, problems bigint NOT NULL DEFAULT 0,
        dirty boolean NOT NULL DEFAULT false, conflict boolean NOT NULL DEFAULT false,
        missing boolean NOT NULL DEFAULT false,
        imported_at double precision NOT NULL,
        version bigint NOT NULL DEFAULT 1,
        change_xid xid8 NOT NULL DEFAULT pg_current_xact_id()
    ) WITH (fillfactor = {CARD_FILLFACTOR})""",
    "CREATE TABLE card_doc (card_id bigint PRIMARY KEY REFERENCES card (id) ON DELETE CASCADE, doc json NOT NULL)",
    f"""CREATE TABLE card_topic (
        card_id bigint NOT NULL REFERENCES card (id) ON DELETE CASCADE, name {_T} NOT NULL,
        position bigint NOT NULL, PRIMARY KEY (card_id, position))""",
    f"""CREATE TABLE card_image (
        card_id bigint NOT NULL REFERENCES card (id) ON DELETE CASCADE, position bigint NOT NULL,
        url {_T}, width bigint, height bigint, title {_T}, PRIMARY KEY (card_id, position))""",
    f"""CREATE TABLE related_item (
        card_id bigint NOT NULL REFERENCES card (id) ON DELETE CASCADE, position bigint NOT NULL,
        title {_T}, source_url {_T}, provider_name {_T}, quality bigint, PRIMARY KEY (card_id, position))""",
    """CREATE TABLE card_text (
        card_id bigint PRIMARY KEY REFERENCES card (id) ON DELETE CASCADE,
        title tsvector NOT NULL DEFAULT '', excerpt tsvector NOT NULL DEFAULT '',
        provider tsvector NOT NULL DEFAULT '', topics tsvector NOT NULL DEFAULT '',
        related tsvector NOT NULL DEFAULT '',
        doc tsvector GENERATED ALWAYS AS (title || excerpt || provider || topics || related) STORED)""",
    """CREATE TABLE card_removed (
        card_id bigint NOT NULL, change_xid xid8 NOT NULL DEFAULT pg_current_xact_id())""",
    _CARD_CHANGE_TABLE,
    f"""CREATE TABLE pending_edit (
        card_id bigint NOT NULL, field {_T} NOT NULL, -- a card id, checked per statement (see below)
        base {_T} NOT NULL, value {_T} NOT NULL,
        editor {_T} NOT NULL DEFAULT '',
        changed double precision NOT NULL DEFAULT extract(epoch FROM clock_timestamp()),
        PRIMARY KEY (card_id, field))""",
    f"""CREATE TABLE edit_batch (
        id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, label {_T} NOT NULL,
        created double precision NOT NULL DEFAULT extract(epoch FROM clock_timestamp()),
        undone boolean NOT NULL DEFAULT false, editor {_T} NOT NULL DEFAULT '')""",
    f"""CREATE TABLE journal_entry (
        id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
        batch_id bigint NOT NULL, card_id bigint NOT NULL, -- ids of edit_batch, card: checked per statement
        field {_T} NOT NULL, old {_T} NOT NULL, new {_T} NOT NULL,
        created double precision NOT NULL DEFAULT extract(epoch FROM clock_timestamp()),
        editor {_T} NOT NULL DEFAULT '')""",
    # Who holds pg_locks' advisory locks (one row per lock, the holder's backend pid: stale rows of a
    # session that died are ignored by joining pg_locks, which every role can read).
    f"""CREATE TABLE lock_holder (
        lock {_T} PRIMARY KEY, editor {_T} NOT NULL, pid integer NOT NULL,
        since double precision NOT NULL DEFAULT extract(epoch FROM clock_timestamp()))""",
    # The checks index (issue 11, schema.CheckArray…CheckMember): saved arrays, the cards they reflect
    # (no foreign key: a card deleted since must still be found to be taken out), the groups.
    f"CREATE TABLE check_array (name {_T} PRIMARY KEY, data bytea NOT NULL)",
    f"""CREATE TABLE check_card (card_id bigint PRIMARY KEY, stamp {_T} NOT NULL,
        source {_T}, amp {_T}, cdn {_T})""",
    f"CREATE TABLE check_group (id bigint PRIMARY KEY, kind {_T} NOT NULL, canonical {_T})",
    """CREATE TABLE check_member (
        group_id bigint NOT NULL REFERENCES check_group (id) ON DELETE CASCADE, card_id bigint NOT NULL,
        PRIMARY KEY (group_id, card_id))""",
    "CREATE INDEX check_member_card ON check_member (card_id)",
    # The list's sort orders: both directions for the keys editors sort newest/best first (PostgreSQL
    # cannot walk an ASC NULLS LAST index backwards for DESC NULLS LAST), folded text for NOCASE keys.
    "CREATE INDEX card_date ON card (date, id)",
    "CREATE INDEX card_date_desc ON card (date DESC NULLS LAST, id DESC)",
    "CREATE INDEX card_quality ON card (quality, id)",
    "CREATE INDEX card_quality_desc ON card (quality DESC NULLS LAST, id DESC)",
    "CREATE INDEX card_heat ON card (heat, id)",
    "CREATE INDEX card_heat_desc ON card (heat DESC NULLS LAST, id DESC)",
    "CREATE INDEX card_provider ON card (curator_fold(provider_name), id)",
    "CREATE INDEX card_category ON card (curator_fold(category), id)",
    "CREATE INDEX card_title ON card (curator_fold(title), id)",
    LIST_INDEX,
    # The rare flags, as in schema.FLAG_INDEXES (here the planner matches boolean terms directly); not
    # dirty, which every first edit of a card changes (DIRTY_IDS).
    "CREATE INDEX card_conflict_flag ON card (id) WHERE conflict",
    "CREATE INDEX card_missing_flag ON card (id) WHERE missing",
    "CREATE INDEX card_problems_flag ON card (id) WHERE problems > 0",
    "CREATE INDEX card_removed_xid ON card_removed (change_xid)",
    _CARD_CHANGE_INDEX,
    "CREATE INDEX card_topic_name ON card_topic (curator_fold(name), card_id)",
    "CREATE INDEX card_text_doc ON card_text USING gin (doc)",
    "CREATE INDEX journal_entry_card ON journal_entry (card_id)",
    "CREATE INDEX journal_entry_batch ON journal_entry (batch_id)",
    # Version and change stamp on every update of a card row.
    _CARD_STAMP,
    "CREATE TRIGGER card_stamp BEFORE UPDATE ON card FOR EACH ROW EXECUTE FUNCTION curator_card_stamp()",
    """CREATE FUNCTION curator_card_removed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO card_removed (card_id) SELECT id FROM changed;
        RETURN NULL;
    END $$""",
    (
        "CREATE TRIGGER card_removed AFTER DELETE ON card REFERENCING OLD TABLE AS changed "
        "FOR EACH STATEMENT EXECUTE FUNCTION curator_card_removed()"
    ),
    _CARD_CHANGED,
    *_CARD_CHANGED_TRIGGERS,
    *_STATEMENT_KEYS,
    # NOTIFY: TG_ARGV[0] is the payload's kind; every trigger names its transition table "changed".
    f"""CREATE FUNCTION curator_notify_ids() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE payload text;
    BEGIN
        FOR payload IN
            SELECT TG_ARGV[0] || ':' || string_agg(id::text, ',' ORDER BY id)
            FROM (SELECT id, (row_number() OVER (ORDER BY id) - 1) / {IDS_PER_NOTIFY} AS chunk
                  FROM (SELECT DISTINCT id FROM changed) AS ids) AS numbered
            GROUP BY chunk ORDER BY chunk
        LOOP
            PERFORM pg_notify('{CHANNEL}', payload);
        END LOOP;
        RETURN NULL;
    END $$""",
    *(
        f"CREATE TRIGGER {table}_notify_{event.lower()} AFTER {event} ON {table} "
        f"REFERENCING {'OLD' if event == 'DELETE' else 'NEW'} TABLE AS changed "
        f"FOR EACH STATEMENT EXECUTE FUNCTION curator_notify_ids('{kind}')"
        for table, kind in (("card", "card"), ("edit_batch", "batch"))
        for event in ("INSERT", "UPDATE", "DELETE")
    ),
)


class SchemaError(Exception):
    """The database is not a library this Curator can open as it stands; ``str()`` says what to do."""


class NotALibrary(SchemaError):
    """The database holds tables but no Curator library (no ``meta`` with a schema version)."""


class LibraryTooNew(SchemaError):
    """The library was made by a newer Curator: this one must not read or write it."""


class LibraryNeedsMigration(SchemaError):
    """The library is older than this Curator; ``curator migrate`` brings it up, never a mere connect."""


def _migrate_1_to_2(conn: psycopg.Connection) -> None:
    """Index the related items' titles: version-1 libraries stored an empty ``card_text.related``.

    The vectors are built in Python (pg_fulltext, as on import) from the titles in list order, joined as
    ``store_rows.related_text`` joins them, in chunks so a 100k library never sits in memory at once.
    """
    from curator.core.backend import pg_fulltext  # only here: the DDL needs no tokenizer

    rows = conn.execute(
        "SELECT card_id, string_agg(title, E'\\n' ORDER BY position) FROM related_item "
        "WHERE title <> '' GROUP BY card_id ORDER BY card_id"
    )
    with conn.cursor() as cur:
        while chunk := rows.fetchmany(2000):
            cur.executemany(
                "UPDATE card_text SET related = %s::tsvector WHERE card_id = %s",
                [(pg_fulltext.column_vector(text), cid) for cid, text in chunk],
            )


def _migrate_2_to_3(conn: psycopg.Connection) -> None:
    """Bookkeeping updates (a Write, a rescan) keep the card's version: version 2 advanced it on every
    UPDATE, so an edit based on the version read before another editor's Write was refused for nothing."""
    conn.execute(_CARD_STAMP)


def _migrate_3_to_4(conn: psycopg.Connection) -> None:
    """Bulk edits become HOT updates (see the module docstring): the indexes on ``published``, ``dirty``
    and ``change_xid`` go, the catch-up's change log ``card_change`` comes (seeded with every card's last
    change, so a listener's catch-up across the migration misses nothing), the edit tables' foreign keys
    are checked per statement (_STATEMENT_KEYS), and ``card`` is rewritten
    (CLUSTER, in this transaction) with :data:`CARD_FILLFACTOR`: the free room applies to the pages
    written from now on, so without the rewrite a full library's pages would have none.

    Written to be re-runnable on a library that already has some of it (IF [NOT] EXISTS).
    """
    for index in ("card_published", "card_dirty_flag", "card_change_xid"):
        conn.execute(f"DROP INDEX IF EXISTS {index}")
    conn.execute(_CARD_CHANGE_TABLE.replace("CREATE TABLE", "CREATE TABLE IF NOT EXISTS"))
    conn.execute(_CARD_CHANGE_INDEX.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS"))
    conn.execute(
        "INSERT INTO card_change (change_xid, ids) SELECT change_xid, array_agg(id ORDER BY id) FROM card "
        "GROUP BY change_xid"
    )
    conn.execute(_CARD_CHANGED)
    for trigger in _CARD_CHANGED_TRIGGERS:
        conn.execute(f"DROP TRIGGER IF EXISTS {trigger.split()[2]} ON card")
        conn.execute(trigger)
    for table, key in (
        ("pending_edit", "card_id"),
        ("journal_entry", "card_id"),
        ("journal_entry", "batch_id"),
    ):
        conn.execute(f"ALTER TABLE {table} DROP CONSTRAINT IF EXISTS {table}_{key}_fkey")
    for statement in _STATEMENT_KEYS:
        if statement.startswith("CREATE TRIGGER"):
            conn.execute(f"DROP TRIGGER IF EXISTS {statement.split()[2]} ON {statement.split()[6]}")
        conn.execute(statement)
    conn.execute(f"ALTER TABLE card SET (fillfactor = {CARD_FILLFACTOR})")
    conn.execute("CLUSTER card USING card_pkey")
    conn.execute("ANALYZE card")


def _migrate_4_to_5(conn: psycopg.Connection) -> None:
    """The list's id-ordered walk reads its filter columns from :data:`LIST_INDEX` (built here, in the
    migration's transaction: a few seconds at 100k cards, during which writers wait). Re-runnable."""
    conn.execute(LIST_INDEX.replace("CREATE INDEX", "CREATE INDEX IF NOT EXISTS"))
    conn.execute("ANALYZE card")


#: MIGRATIONS[n] brings a version-n PostgreSQL library to n+1 (run by ``migrate`` only, in one transaction).
MIGRATIONS: dict[int, Callable[[psycopg.Connection], None]] = {
    1: _migrate_1_to_2, 2: _migrate_2_to_3, 3: _migrate_3_to_4, 4: _migrate_4_to_5,
}  # fmt: skip
assert sorted(MIGRATIONS) == list(range(1, PG_SCHEMA_VERSION)), "one migration per version step"


_STORED_VERSION = "SELECT value FROM meta WHERE key = 'schema_version'"


def library_version(conn: psycopg.Connection) -> int | None:
    """The library's schema version, or None for a database without Curator's ``meta`` table."""
    if conn.execute("SELECT to_regclass('meta')").fetchone()[0] is None:  # type: ignore[index]
        return None
    row = conn.execute(_STORED_VERSION).fetchone()
    if row is None:
        raise NotALibrary("the database has a 'meta' table without a schema version: not a Curator library")
    value = row[0]
    if not (isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 18):
        raise NotALibrary(f"its schema version {value[:40]!r} is not a version number")
    return int(value)


def check_schema(conn: psycopg.Connection, *, where: str = "the library") -> int:
    """Raise a SchemaError unless the library's version is exactly :data:`PG_SCHEMA_VERSION`; return it."""
    version = library_version(conn)
    if version is None:
        raise NotALibrary(f"{where} has no Curator library yet")
    if version > PG_SCHEMA_VERSION:
        raise LibraryTooNew(
            f"{where} was made by a newer Curator (library schema {version}, this Curator knows "
            f"{PG_SCHEMA_VERSION}): update Curator to open it"
        )
    if version < PG_SCHEMA_VERSION:
        raise LibraryNeedsMigration(
            f"{where} uses library schema {version}; this Curator needs {PG_SCHEMA_VERSION}. A shared "
            "library is never migrated on connect: back it up (pg_dump) and run `curator migrate`"
        )
    return version


def _user_tables(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p', 'v', 'm') AND n.nspname = current_schema() ORDER BY 1"
    ).fetchall()
    return [row[0] for row in rows]


def open_library(conn: psycopg.Connection, *, create: bool = True, where: str = "the library") -> int:
    """Check the library's schema, creating it in an empty database when ``create``; returns the version.

    Creation runs in one transaction under an advisory lock, so two Curators connecting to a new database at
    once make one library, not an error. A database holding other tables is refused (NotALibrary) rather
    than mixed into. ``conn`` must not be inside a transaction of its own.

    A library at this version (every open but the first) answers in one statement on an autocommit
    connection outside a transaction (a failed statement there aborts nothing), not the seven round trips of the locked path: on a real network each costs a ping, and
    `curator list` pays them before its query.
    """
    if conn.autocommit and conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE:
        try:
            row = conn.execute(_STORED_VERSION).fetchone()
        except psycopg.errors.UndefinedTable:
            row = None  # no library yet: the locked path below makes one
        if row is not None and row[0] == str(PG_SCHEMA_VERSION):
            return PG_SCHEMA_VERSION
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
        if library_version(conn) is None:
            others = _user_tables(conn)
            if others:
                shown = ", ".join(others[:5]) + (", …" if len(others) > 5 else "")
                raise NotALibrary(f"{where} holds tables that are not a Curator library ({shown})")
            if not create:
                raise NotALibrary(f"{where} has no Curator library yet")
            for statement in SCHEMA_DDL:
                conn.execute(statement)
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', %s)", (str(PG_SCHEMA_VERSION),)
            )
    return check_schema(conn, where=where)


def migrate(conn: psycopg.Connection, *, where: str = "the library") -> list[int]:
    """Bring an older library up to PG_SCHEMA_VERSION in one transaction; returns the versions passed.

    Only ``curator migrate`` calls this (after printing the ``pg_dump`` command and asking). A library
    newer than this Curator raises LibraryTooNew.
    """
    steps: list[int] = []
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
        version = library_version(conn)
        if version is None:
            raise NotALibrary(f"{where} has no Curator library to migrate")
        if version > PG_SCHEMA_VERSION:
            check_schema(conn, where=where)
        while version < PG_SCHEMA_VERSION:
            MIGRATIONS[version](conn)
            version += 1
            steps.append(version)
        conn.execute("UPDATE meta SET value = %s WHERE key = 'schema_version'", (str(version),))
    return steps


def reserve_ids(conn: psycopg.Connection, count: int) -> list[int]:
    """``count`` new card ids from the card table's identity sequence (never reused, safe across clients)."""
    if count <= 0:
        return []
    rows = conn.execute(
        "SELECT nextval(pg_get_serial_sequence('card', 'id')) FROM generate_series(1, %s)", (count,)
    ).fetchall()
    return [row[0] for row in rows]
