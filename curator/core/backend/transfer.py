"""Moving libraries: ``curator migrate`` in place, and ``curator migrate --to postgresql://…`` (moving in).

Migrating in place. A SQLite library is one editor's file: opening it already copies it aside
(``NAME.vN-backup``) and migrates it (sqlite.py), so :func:`migrate_sqlite` opens it and says what happened.
A team library is never migrated by whichever Curator connects first (pg_schema): :func:`team_schema`
reads its version without touching it, :func:`pg_dump_command` is the backup the editor runs first (built
from the URL, never with its password), and :func:`migrate_team` runs pg_schema's steps in one
transaction.

Moving in. :func:`copy_to_postgresql` copies a SQLite library into an empty team library, so a newsroom
starts from what one editor already has: cards with their mapping, topics, images, related items and full
text, pending edits, edit batches and the journal (undo keeps working), the checks index and the
library's ``meta`` facts. Why it is built this way:

- Ids are kept as they are (journal entries, batches, pending edits and the checks index name cards by
  id), and the identity sequences are moved past them afterwards, so new cards and batches never reuse one.
- The columns copied are those of ``schema.MODELS`` (and any other column both sides have), never a list
  written here: a column a later schema version adds to a model is carried without touching this module,
  and a model column the team schema lacks stops the copy with its name rather than dropping the data.
- The full text is not copied as text but rebuilt as the PostgreSQL backend's import builds it
  (``postgres._text_vectors`` over the texts SQLite's ``card_index`` holds, which are the cards'
  ``CardRecord.fts`` with edits applied), so searches on the team library find what they find there.
- COPY in chunks, inside one transaction that also creates the schema: a failure anywhere (a value the
  server refuses, a lost connection, Ctrl-C) leaves the target database as it was, empty. The source is
  read inside an IMMEDIATE transaction: no edit can land in the file while it is copied (it would be
  missing on the team library), and what is copied is one consistent state.
- Before committing, every table's row count on the server is compared with the source's.
"""

from __future__ import annotations

import os
import re
import shlex
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import unquote, urlsplit

import psycopg
from peewee import Model
from psycopg import sql

from curator.core import schema
from curator.core.backend import pg_connect, pg_nul, pg_schema
from curator.core.backend.base import Translated
from curator.core.backend.location import Location, parse_location, without_password
from curator.core.backend.postgres import WRITE_LOCK_KEY, _text_vectors
from curator.core.backend.postgres import library_error as pg_library_error
from curator.core.backend.sqlite import SqliteBackend
from curator.core.store_types import LibraryError

#: ``progress(done, total)``: rows copied so far out of all the rows to copy.
Progress = Callable[[int, int], None]

#: Rows fetched from SQLite and written to COPY between two progress reports.
CHUNK = 5000

#: The tables copied row for row, parents before children (foreign keys hold at every row). ``meta`` is
#: merged (the team library keeps its own schema version) and the full-text index is rebuilt.
TABLE_MODELS: tuple[type[Model], ...] = tuple(
    model for model in schema.MODELS if model not in (schema.Meta, schema.CardIndex)
)

#: The team library's full-text table and its columns (pg_schema's card_text; ``doc`` is generated).
TEXT_TABLE = "card_text"


class MigrateError(LibraryError):
    """A library could not be migrated or moved; ``str()`` says why and what was left as it was."""


def _table(model: type[Model]) -> str:
    return str(model._meta.table_name)


def _model_columns(model: type[Model]) -> list[str]:
    return [f.column_name for f in model._meta.sorted_fields]


# -- migrating in place -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SqliteMigration:
    """What ``curator migrate`` did to a SQLite library: ``before`` is None when it was already current."""

    path: Path
    before: int | None
    after: int
    backup: Path | None


def existing_sqlite(path: str | os.PathLike[str]) -> Path:
    """The library file at ``path``; MigrateError when there is none (migrating never creates a library)."""
    file = Path(os.path.abspath(path))
    if not file.is_file() or file.stat().st_size == 0:
        raise MigrateError(f"{file}: there is no library there (nothing to migrate or copy)")
    return file


def migrate_sqlite(path: str | os.PathLike[str], *, busy_timeout: float) -> SqliteMigration:
    """Bring a SQLite library up to this Curator's schema, copied aside first (what opening it does).

    A library newer than this Curator, a damaged file or another program's is the backend's LibraryError,
    with the file left as it was.
    """
    file = existing_sqlite(path)
    backend = SqliteBackend(file, busy_timeout=busy_timeout)
    try:
        return SqliteMigration(file, backend.migrated_from, backend.schema_version(), backend.backup)
    finally:
        backend.close()


@contextmanager
def _team_connection(
    where: Location, *, password: str | None, autocommit: bool
) -> Iterator[psycopg.Connection]:
    """A connection to the team library whose failures come out as LibraryError sentences."""
    with Translated(pg_library_error, where.display):
        conn = pg_connect.connect(where, password=password, autocommit=autocommit)
        try:
            yield conn
        finally:
            conn.close()


def _team(location: str) -> Location:
    where = parse_location(location)
    if not where.is_postgresql:
        raise ValueError(f"{where.display} is not a team library's postgresql:// URL")
    return where


class TeamSchema(NamedTuple):
    """A team library's schema version, and the one this Curator reads and writes."""

    version: int
    current: int


def team_schema(location: str, *, password: str | None = None) -> TeamSchema:
    """The schema version of the team library at ``location``, read without changing anything.

    MigrateError for a database without a Curator library (or with another program's tables) and for a
    library made by a newer Curator (pg_schema's sentence: update Curator).
    """
    where = _team(location)
    with _team_connection(where, password=password, autocommit=True) as conn:
        try:
            version = pg_schema.library_version(conn)
        except pg_schema.SchemaError as e:
            raise MigrateError(f"{where.display}: {e}") from e
        if version is None:
            raise MigrateError(f"{where.display}: the database has no Curator library (nothing to migrate)")
        if version > pg_schema.PG_SCHEMA_VERSION:
            try:
                pg_schema.check_schema(conn, where=where.display)
            except pg_schema.SchemaError as e:
                raise MigrateError(str(e)) from e
        return TeamSchema(version, pg_schema.PG_SCHEMA_VERSION)


def migrate_team(location: str, *, password: str | None = None) -> list[int]:
    """Run pg_schema's migration steps on the team library, all in one transaction; the versions passed.

    Only ``curator migrate`` calls it, after the editor saw :func:`pg_dump_command` and said yes. Two
    Curators migrating at once are serialised by pg_schema's lock: the second finds nothing left to do.
    """
    where = _team(location)
    with _team_connection(where, password=password, autocommit=True) as conn:
        try:
            return pg_schema.migrate(conn, where=where.display)
        except pg_schema.SchemaError as e:
            raise MigrateError(str(e)) from e


def pg_dump_command(location: str, version: int) -> str:
    """The shell command that backs the team library up before a migration (pg_dump's custom format).

    Built from the URL as given (host, port, user, sslmode and the other parameters) without its password:
    pg_dump finds it where Curator does (``~/.pgpass``, ``PGPASSWORD``). The dump file is named after the
    database and the schema version it holds, in the working folder.
    """
    where = _team(location)
    assert where.url is not None
    parts = urlsplit(where.url)
    name = unquote(parts.path.lstrip("/")) or where.params.get("dbname", "") or "library"
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "library"
    dump = f"{stem}-schema{version}.dump"
    return " ".join(
        [
            "pg_dump",
            "--format=custom",
            f"--file={shlex.quote(dump)}",
            shlex.quote(without_password(where.url)),
        ]
    )


# -- moving in ----------------------------------------------------------------------------------------------
@dataclass
class TransferReport:
    """What :func:`copy_to_postgresql` copied: rows per team-library table, the columns, how long it took."""

    source: str
    target: str
    rows: dict[str, int] = field(default_factory=dict)
    columns: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: SQLite columns outside the models that the team schema has no column for (not copied).
    left_out: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: Set when the source was an older SQLite library, migrated (and copied aside) before the copy.
    source_migrated_from: int | None = None
    source_backup: Path | None = None
    seconds: float = 0.0

    def count(self, model: type[Model]) -> int:
        """Rows copied of one model's table."""
        return self.rows.get(_table(model), 0)


@dataclass(frozen=True)
class _Plan:
    """One table's copy: the columns in COPY order, and which of them PostgreSQL holds as boolean."""

    table: str
    columns: tuple[str, ...]
    booleans: tuple[int, ...]


def _sqlite_columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')]


def _pg_columns(conn: psycopg.Connection) -> dict[str, dict[str, str]]:
    """table -> column -> data type, for the columns a row may be given (generated ones left out)."""
    out: dict[str, dict[str, str]] = {}
    for table, column, kind in conn.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND is_generated = 'NEVER' ORDER BY table_name, ordinal_position"
    ):
        out.setdefault(table, {})[column] = kind
    return out


def plan_columns(
    model_columns: Sequence[str], sqlite_columns: Sequence[str], pg_types: dict[str, str], *, table: str
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(columns to copy, SQLite columns left out) for one table.

    Every model column the SQLite table has is copied, and must exist on the server: a missing one is a
    MigrateError naming it (the data would be lost). Other SQLite columns (left by an old layout) go along
    when the server has them too, and are reported otherwise.
    """
    have = set(sqlite_columns)
    copied = [c for c in model_columns if c in have]
    missing = [c for c in copied if c not in pg_types]
    if missing:
        raise MigrateError(
            f"the team library's table {table} has no column {', '.join(missing)} that the SQLite library "
            "holds: update Curator on the server's side (curator migrate) before moving in"
        )
    extra = [c for c in sqlite_columns if c not in model_columns]
    copied += [c for c in extra if c in pg_types]
    return tuple(copied), tuple(c for c in extra if c not in pg_types)


def _count(conn: sqlite3.Connection, table: str) -> int:
    return int(conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])


def copy_to_postgresql(
    source: str | os.PathLike[str],
    target: str,
    *,
    busy_timeout: float,
    password: str | None = None,
    progress: Progress | None = None,
) -> TransferReport:
    """Copy the SQLite library at ``source`` into the empty team library at ``target`` (see the module).

    The target database may be empty or hold a Curator library with no cards and no history (one that
    was only connected to); anything else is refused, nothing copied. The source is migrated first if it
    is older (copied aside, as opening it always does). ``busy_timeout``: how long to wait for another
    Curator writing either library. Raises MigrateError (or a LibraryError of either library) with the
    target left as it was; ValueError when ``target`` is not a postgresql:// URL.
    """
    where = _team(target)
    file = existing_sqlite(source)
    started = time.monotonic()
    src = SqliteBackend(file, busy_timeout=busy_timeout)
    try:
        report = TransferReport(
            source=str(file), target=where.display,
            source_migrated_from=src.migrated_from, source_backup=src.backup,
        )  # fmt: skip
        with _team_connection(where, password=password, autocommit=True) as conn:
            with src.transaction():
                _copy(src, conn, where.display, busy_timeout, progress, report)
            # After the commit: the planner's statistics, for the first lists on the server. The copy is
            # done by now, so a failure here (a dropped connection) must not read as a failed copy; the
            # server's autovacuum analyzes the tables later anyway.
            with suppress(psycopg.Error):
                conn.execute("ANALYZE")
    finally:
        src.close()
    report.seconds = time.monotonic() - started
    return report


def _copy(
    src: SqliteBackend,
    conn: psycopg.Connection,
    display: str,
    busy_timeout: float,
    progress: Progress | None,
    report: TransferReport,
) -> None:
    """The whole copy inside one server transaction (committed at the end, rolled back on any failure)."""
    lite = src._conn()
    table = "the schema"
    try:
        with conn.transaction():
            conn.execute(f"SET LOCAL lock_timeout = {max(1, int(busy_timeout * 1000))}")
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))
            try:
                pg_schema.open_library(conn, where=display)  # creates the schema in an empty database
            except pg_schema.SchemaError as e:
                raise MigrateError(f"{e}; nothing was copied") from e
            _refuse_non_empty(conn, display)
            pg_types = _pg_columns(conn)
            plans = []
            for model in TABLE_MODELS:
                name = _table(model)
                present = _sqlite_columns(lite, name)
                if not present:  # a table of a later schema than the source's (none today: it is migrated)
                    continue
                columns, left_out = plan_columns(
                    _model_columns(model), present, pg_types.get(name, {}), table=name
                )
                booleans = tuple(i for i, c in enumerate(columns) if pg_types[name][c] == "boolean")
                plans.append(_Plan(name, columns, booleans))
                report.columns[name] = columns
                if left_out:
                    report.left_out[name] = left_out
            counts = {plan.table: _count(lite, plan.table) for plan in plans}
            total = sum(counts.values()) + counts["card"]  # every card also gets its full-text row
            done = 0

            def advance(rows: int) -> None:
                nonlocal done
                done += rows
                if progress is not None:
                    progress(done, total)

            with _indexes_built_after(conn, [*(plan.table for plan in plans), TEXT_TABLE]):
                for plan in plans:
                    table = plan.table
                    report.rows[table] = _copy_table(lite, conn, plan, advance)
                    if table == "card":
                        table = TEXT_TABLE
                        report.rows[TEXT_TABLE] = _copy_text(lite, conn, advance)
                table = "the indexes"
            table = "meta"
            report.rows["meta"] = _copy_meta(lite, conn)
            _advance_sequences(conn, [plan.table for plan in plans])
            _verify(conn, {**counts, TEXT_TABLE: counts["card"]}, report.rows, display)
    except psycopg.Error as exc:
        known = pg_library_error(exc, display)
        if known is not None:
            reason = str(known)
        else:  # one line: the server's message, and where in the COPY it stopped
            primary = exc.diag.message_primary or str(exc).strip().splitlines()[0]
            where = (exc.diag.context or "").strip().splitlines()
            reason = f"{display}: {table}: {primary}" + (f" ({where[0]})" if where else "")
        raise MigrateError(f"{reason}; nothing was copied (the team library is left as it was)") from exc


@contextmanager
def _indexes_built_after(conn: psycopg.Connection, tables: Sequence[str]) -> Iterator[None]:
    """Drop the tables' secondary indexes for the copy and build them again from their own definitions.

    One sorted build per index after the rows are in is several times cheaper than updating every index
    (the full-text GIN above all) row by row. Indexes that back a primary key or a unique constraint
    stay: the copy relies on them to refuse a duplicate id or path. Inside the copy's transaction, so a
    failure rolls the drops back with everything else.
    """
    found = conn.execute(
        "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
        "JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace "
        "WHERE n.nspname = current_schema() AND t.relname = ANY(%s) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid) ORDER BY 1",
        (list(tables),),
    ).fetchall()
    for name, _ in found:
        conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    yield
    for _, definition in found:
        conn.execute(definition)


def _refuse_non_empty(conn: psycopg.Connection, display: str) -> None:
    """MigrateError unless every copied table of the team library is empty (moving in never merges)."""

    def rows(table: str) -> int:
        found = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
        return 0 if found is None else int(found[0])

    held = {t: n for t in (_table(model) for model in TABLE_MODELS) if (n := rows(t))}
    if held:
        raise MigrateError(
            f"{display} already holds a library ({held.get('card', 0)} cards, {held.get('edit_batch', 0)} "
            f"edit batches; rows in {', '.join(held)}): --to moves a library into an empty team library "
            "only, never merges two. Create a new database for it, or work on this one with --db; nothing "
            "was copied"
        )


def _copy_rows(
    conn: psycopg.Connection, table: str, columns: Sequence[str], rows: Iterator[Sequence[Any]]
) -> int:
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    written = 0
    with conn.cursor() as cur, cur.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)
            written += 1
    return written


def _chunks(cursor: sqlite3.Cursor, advance: Callable[[int], None]) -> Iterator[Sequence[Any]]:
    while rows := cursor.fetchmany(CHUNK):
        yield from rows
        advance(len(rows))


def _copy_table(
    lite: sqlite3.Connection, conn: psycopg.Connection, plan: _Plan, advance: Callable[[int], None]
) -> int:
    """One table's rows by COPY, in the form the PostgreSQL backend itself stores them.

    SQLite's 0/1 flags (or any number another program left in one) become booleans as the SQLite backend
    reads them; a U+0000, which PostgreSQL text cannot hold, is escaped in a card's mapping and replaced
    elsewhere exactly as the backend's own import and edits do (pg_nul).
    """
    names = ", ".join(f'"{c}"' for c in plan.columns)
    cursor = lite.execute(f'SELECT {names} FROM "{plan.table}"')
    flags = plan.booleans
    doc = plan.columns.index("doc") if plan.table == _table(schema.CardDoc) else -1

    def typed(source: Iterator[Sequence[Any]]) -> Iterator[Sequence[Any]]:
        for row in source:
            values = [pg_nul.clean(v) if isinstance(v, str) and "\0" in v else v for v in row]
            for i in flags:
                if values[i] is not None:
                    values[i] = bool(values[i])
            if doc >= 0:
                values[doc] = pg_nul.to_server(row[doc])
            yield values

    return _copy_rows(conn, plan.table, plan.columns, typed(_chunks(cursor, advance)))


def _copy_text(lite: sqlite3.Connection, conn: psycopg.Connection, advance: Callable[[int], None]) -> int:
    """Every card's full-text row, built by the PostgreSQL import's own function from SQLite's texts.

    ``card_index``'s columns, in their order, are what the SQLite import stores from ``CardRecord.fts``
    (and what edits keep current), so ``_text_vectors`` gets what it gets on import. A card without an
    index row gets empty vectors: it is found by no words there either.
    """
    from curator.core.backend import pg_fulltext  # the team table's column names

    fts = _sqlite_columns(lite, _table(schema.CardIndex))
    texts = ", ".join(f"coalesce(i.\"{c}\", '')" for c in fts)
    cursor = lite.execute(f'SELECT c.id, {texts} FROM card c LEFT JOIN "card_index" i ON i.rowid = c.id')
    rows = ((row[0], *_text_vectors(pg_nul.clean(tuple(row[1:])))) for row in _chunks(cursor, advance))
    return _copy_rows(conn, TEXT_TABLE, ("card_id", *pg_fulltext.FTS_COLUMNS), rows)


def _copy_meta(lite: sqlite3.Connection, conn: psycopg.Connection) -> int:
    """The library's facts (checks thresholds, write roots...); the schema version stays the server's."""
    rows = lite.execute("SELECT key, value FROM meta WHERE key <> 'schema_version'").fetchall()
    if rows:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO meta (key, value) VALUES (%s, %s) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                rows,
            )
    return len(rows)


def _advance_sequences(conn: psycopg.Connection, tables: Sequence[str]) -> None:
    """Move each identity column's sequence past the largest id copied, so new rows never reuse one."""
    identities = conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND is_identity = 'YES' AND table_name = ANY(%s)",
        (list(tables),),
    ).fetchall()
    for table, column in identities:
        conn.execute(
            sql.SQL(
                "SELECT setval(pg_get_serial_sequence(%s, %s), coalesce((SELECT max({}) FROM {}), 0) + 1, false)"
            ).format(sql.Identifier(column), sql.Identifier(table)),
            (table, column),
        )


def _verify(conn: psycopg.Connection, expected: dict[str, int], copied: dict[str, int], display: str) -> None:
    """Refuse to commit unless the server holds exactly as many rows per table as the source."""
    for table, count in expected.items():
        held = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
        assert held is not None
        if int(held[0]) != count or copied.get(table) != count:
            raise MigrateError(
                f"{display}: {table} holds {held[0]} rows after the copy, the SQLite library {count}; "
                "nothing was copied (the team library is left as it was)"
            )
