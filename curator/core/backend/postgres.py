"""The PostgreSQL backend: a team's shared library in one database, over psycopg 3.

Connections: one autocommit psycopg connection per thread (opened through :mod:`pg_connect`, so the
password comes from libpq's own places and failures are sentences). A reader sees each statement's
committed state; :meth:`PostgresBackend.transaction` opens a real transaction (nested: a savepoint).

One writer at a time, as on SQLite: the outermost write transaction takes a transaction-scoped advisory
lock first, waiting at most this thread's busy timeout (``lock_timeout``); a wait that runs out is
LibraryBusy with nothing changed, like SQLite's BEGIN IMMEDIATE. Edits of two editors therefore never
interleave half-way, and the ids the importer allocates come from the identity sequence
(:func:`pg_schema.reserve_ids`), which no other client can hand out again.

Schema: :func:`pg_schema.open_library` creates it in an empty database and refuses a library of another
version (an older library waits for ``curator migrate``: a shared library is never migrated on connect).

Full text: ``card_text`` holds one tsvector per column built by :mod:`pg_fulltext` from SQLite's own
tokenizer, and queries are compiled by :mod:`pg_search`, so searches find what FTS5 finds. JSON travels
as text both ways (``doc::text``): psycopg would otherwise decode it.

Bulk paths: ``executemany``, which psycopg 3 runs in pipeline mode (one round trip per batch, not per
row); lists of ids travel as one array parameter (``= ANY(%s)``; on the edit path a ``bigint[]`` literal,
:func:`_id_array`).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

# isort: off
from curator.core.backend import pg_driver  # noqa: F401  # before psycopg: see its docstring
import psycopg

# isort: on
from psycopg import errors as pg_errors

from curator.core.backend import pg_connect, pg_fulltext, pg_nul, pg_schema, pg_search
from curator.core.backend.base import (
    RUN_AT_LEAST,
    CardFlag,
    CardLabel,
    Change,
    ChildKind,
    DirtyCard,
    FlaggedCard,
    Known,
    TakenBack,
    Translated,
    settle_written,
    stamp_keys,
)
from curator.core.backend.edit_runs import Runs, id_runs
from curator.core.backend.location import Location, parse_location
from curator.core.store_types import (
    BatchInfo,
    CardRow,
    Facets,
    LibraryBusy,
    LibraryDiskError,
    LibraryError,
    LibraryReadOnly,
    Totals,
)

if TYPE_CHECKING:
    from curator.core.query import Term
    from curator.core.store_rows import CardRecord

#: Advisory lock (transaction scope, bigint form) every write transaction holds: one writer at a time.
WRITE_LOCK_KEY = 0x43555241_00000002

#: What every write transaction sets for itself (transaction-local): the wait for the writer lock, and at
#: least WRITE_WORK_MEM for its sorts and hashes and, above all, the transition tables of the card
#: triggers (pg_schema: the change log, NOTIFY): a 10k-card bulk edit's UPDATE hands them 10k whole card
#: rows (~10 MB), which the default 4 MB spills to a temporary file; in memory that UPDATE is ~10% faster
#: (101 -> 92 ms, medians of 12 alternated at 100k). A server configured with more keeps its own.
WRITE_WORK_MEM = 32 * 1024 * 1024
_WRITE_SETTINGS = (
    "SELECT set_config('lock_timeout', %s, true), set_config('work_mem', CASE WHEN "
    f"pg_size_bytes(current_setting('work_mem')) < {WRITE_WORK_MEM} THEN '{WRITE_WORK_MEM // 1024}kB' "
    "ELSE current_setting('work_mem') END, true)"
)

_ROW_COLUMNS = (
    "id, path, title, category, provider_name, published_at, date, quality, heat, published, topics, "
    "lead_image, dirty, conflict, missing, problems, related_count"
)
#: One page of the list: its ids picked first (the inner statement, which may read indexes only), then
#: those rows by primary key, in the page's order (see PostgresBackend.rows). ``id`` inside the inner
#: statement's condition is the inner card's: the condition was compiled for ``FROM card`` alone.
_PAGE = "SELECT {columns} FROM card WHERE id IN ({page}) ORDER BY {order}"
_BOOL_COLUMNS = frozenset({"published", "dirty", "conflict", "missing"})
#: From this many cards on, update_cards stages the rows in a temporary table (four statements) rather
#: than one UPDATE each.
_STAGED_AT_LEAST = 32
_FTS_COLUMNS = frozenset({"title", "excerpt", "provider", "topics", "related"})
_VALUE_COLUMNS = {
    "category": "category", "categories": "category",
    "provider": "provider_name", "providers": "provider_name",
    "type": "type", "types": "type",
}  # fmt: skip
_CHILD_TABLES: dict[str, tuple[str, str, str]] = {
    "topics": (
        "card_topic",
        "name, position",
        "INSERT INTO card_topic (card_id, name, position) VALUES (%s, %s, %s)",
    ),
    "images": (
        "card_image",
        "position, url, width, height, title",
        "INSERT INTO card_image (card_id, position, url, width, height, title) VALUES (%s, %s, %s, %s, %s, %s)",
    ),
    "related": (
        "related_item",
        "position, title, source_url, provider_name, quality",
        (
            "INSERT INTO related_item (card_id, position, title, source_url, provider_name, quality) "
            "VALUES (%s, %s, %s, %s, %s, %s)"
        ),
    ),
}


class _CardSql:
    """What this backend derives from curator.core.schema's column lists (see :func:`_card_sql`). A plain
    class: a dataclass would compile its generated methods at every import, a read's too (~0.5 ms)."""

    __slots__ = ("bool_indexes", "columns", "copy", "editable", "staged", "update")

    def __init__(
        self, *, copy: str, update: str, staged: tuple[str, str, str], bool_indexes: tuple[int, ...],
        columns: frozenset[str], editable: frozenset[str],
    ) -> None:  # fmt: skip
        self.copy = copy  # new card rows: the id, the FILE_COLUMNS values, then dirty, conflict, missing
        self.update = update  # a card row from a record's FILE_COLUMNS values (then the id)
        self.staged = staged  # many card rows at once: a temporary table, COPY into it, one UPDATE
        self.bool_indexes = bool_indexes  # where the flags are among FILE_COLUMNS
        self.columns = columns  # what card_columns may read
        self.editable = editable  # the columns an edit sets (FIELD_COLUMNS)


@cache
def _card_sql() -> _CardSql:
    """Built on first use: a read (`curator list`) never imports the card schema, whose peewee models
    and field rules are ~10 ms of a team library's CLI start-up."""
    from curator.core.schema import FIELD_COLUMNS, FILE_COLUMNS

    return _CardSql(
        copy=f"COPY card (id, {', '.join(FILE_COLUMNS)}, dirty, conflict, missing) FROM STDIN",
        update=(
            f"UPDATE card SET {', '.join(f'{c} = %s' for c in FILE_COLUMNS)}, conflict = FALSE, "
            "missing = FALSE WHERE id = %s"
        ),
        staged=(
            (
                f"CREATE TEMP TABLE card_staged ON COMMIT DROP AS SELECT id, {', '.join(FILE_COLUMNS)} "
                "FROM card WITH NO DATA"
            ),
            f"COPY card_staged (id, {', '.join(FILE_COLUMNS)}) FROM STDIN",
            (
                f"UPDATE card SET ({', '.join(FILE_COLUMNS)}) = ({', '.join(f's.{c}' for c in FILE_COLUMNS)}), "
                "conflict = FALSE, missing = FALSE FROM card_staged AS s WHERE card.id = s.id"
            ),
        ),
        bool_indexes=tuple(i for i, c in enumerate(FILE_COLUMNS) if c in _BOOL_COLUMNS),
        columns=frozenset((*FILE_COLUMNS, "id", "dirty", "conflict", "missing", "version", "change_xid")),
        editable=frozenset(c for columns in FIELD_COLUMNS.values() for c in columns),
    )


_COPY_TEXT = "COPY card_text (card_id, title, excerpt, provider, topics, related) FROM STDIN"


def _bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _file_values(values: Sequence[Any]) -> list[Any]:
    """A record's FILE_COLUMNS values with the flags as booleans (SQLite's 0/1 are not PostgreSQL's)."""
    out = list(values)
    for i in _card_sql().bool_indexes:
        out[i] = _bool(out[i])
    return out


def _card_row(t: Sequence[Any]) -> CardRow:
    values = list(t)
    values[10] = json.loads(values[10])
    return CardRow(*values)


def _text_vectors(fts: Sequence[str]) -> tuple[str, ...]:
    """The card_text literals of a record's five indexed texts (store_rows.fts_values)."""
    return pg_fulltext.card_vectors(fts)


def _id_array(ids: Iterable[int]) -> str:
    """Card ids as one ``bigint[]`` literal (``{1,2,3}``), the parameter of ``= ANY(%s::bigint[])`` and
    ``unnest(%s::bigint[])``: psycopg dumps a list of 10k ints one element at a time (~4 ms a statement,
    and a bulk edit sends its cards' ids six times or more), where this text is one join (~1 ms). ``int``
    keeps it a list of numbers whatever the caller passed (a bool, a numpy integer). An id outside bigint's
    range is left out: no card has it (``curator show 99999999999999999999`` finds nothing, as a list of
    numbers compared as numeric did), where the cast would fail the statement."""
    return "{" + ",".join([str(n) for n in map(int, ids) if _BIGINT_MIN <= n <= _BIGINT_MAX]) + "}"


_BIGINT_MIN, _BIGINT_MAX = -(2**63), 2**63 - 1


def library_error(exc: BaseException, display: str) -> LibraryError | None:
    """The LibraryError a psycopg failure of the team library stands for; None for a bug of Curator's.

    A lock wait that ran out or a serialisation failure is LibraryBusy; a full disk on the server is
    LibraryDiskError; a lost or refused connection, a read-only server or role and a damaged library are
    LibraryError naming the library by its password-free display.
    """
    if isinstance(exc, LibraryError):
        return exc
    if isinstance(exc, pg_connect.ConnectError):  # "PLACE: reason", as every LibraryError about a library
        return LibraryError(f"{display}: {str(exc).removeprefix(f'the team library {display} ')}")
    if isinstance(exc, pg_schema.SchemaError):
        return LibraryError(f"{display}: {exc}")
    if not isinstance(exc, psycopg.Error):
        return None
    if isinstance(
        exc, (pg_errors.LockNotAvailable, pg_errors.SerializationFailure, pg_errors.DeadlockDetected)
    ):
        return LibraryBusy(f"the library is busy: another Curator is writing ({display})")
    if isinstance(exc, (pg_errors.DiskFull, pg_errors.OutOfMemory)):
        return LibraryDiskError(f"disk full: the server cannot write to the library ({display})")
    if isinstance(exc, pg_errors.IoError):
        return LibraryDiskError(f"disk I/O error on the server of the library {display} ({exc})")
    if isinstance(exc, (pg_errors.ReadOnlySqlTransaction, pg_errors.InsufficientPrivilege)):
        return LibraryReadOnly(f"{display}: the library is read-only for this user ({str(exc).strip()})")
    if isinstance(exc, (pg_errors.UndefinedTable, pg_errors.UndefinedColumn, pg_errors.DataCorrupted)):
        return LibraryError(f"{display}: the library is damaged ({str(exc).strip()})")
    lost = exc.sqlstate is None or exc.sqlstate.startswith(
        ("08", "57P")
    )  # no answer, or the server went away
    if isinstance(exc, psycopg.OperationalError) and lost:
        return LibraryError(f"{display}: the connection to the server was lost ({str(exc).strip()})")
    return None


def _translated(where: Any) -> Translated:
    """This backend's failures of the library re-raised as LibraryError (base.Translated)."""
    return Translated(library_error, where)


#: The fields whose card column holds the file's JSON value exactly whenever it is not NULL (summarize keeps
#: only a bool or an integer there, and such a value has one JSON spelling), as SqliteBackend reads them.
_COLUMN_JSON = {
    "published": "CASE c.published WHEN true THEN 'true' WHEN false THEN 'false' END",
    "quality": "c.quality::text",
    "heat": "c.heat::text",
}


class PostgresBackend:
    """A team library in one PostgreSQL database (see the module docstring). Opening creates its schema.

    ``busy_timeout``: seconds a write transaction waits for another writer before LibraryBusy.
    """

    def __init__(
        self, where: Location | str, *, busy_timeout: float, password: str | None = None, create: bool = True
    ) -> None:
        self.where = parse_location(where) if isinstance(where, str) else where
        if not self.where.is_postgresql:
            raise ValueError(f"{self.where.display} is not a PostgreSQL URL")
        self.location = self.where.display
        self.busy_timeout = float(busy_timeout)
        self._password = password
        self._local = threading.local()
        with _translated(self.location):
            conn = self._conn()
            try:
                pg_schema.open_library(conn, create=create, where=self.location)
            except pg_schema.SchemaError as e:
                self.close()
                raise LibraryError(str(e)) from e
            except BaseException:
                self.close()
                raise

    # -- connections, transactions, failures ----------------------------------------------------------------
    def _conn(self) -> psycopg.Connection[Any]:
        """This thread's connection (opened on first use, again after the server dropped it)."""
        conn: psycopg.Connection[Any] | None = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            conn = pg_connect.connect(self.where, password=self._password, autocommit=True)
            self._local.conn = conn
            self._local.depth = 0
        return conn

    def _depth(self) -> int:
        return int(getattr(self._local, "depth", 0))

    def close(self) -> None:
        conn: psycopg.Connection[Any] | None = getattr(self._local, "conn", None)
        if conn is not None and not conn.closed:
            conn.close()
        self._local.conn = None
        self._local.depth = 0

    @contextmanager
    def transaction(self) -> Iterator[None]:
        conn = self._conn()
        outer = self._depth() == 0
        self._local.depth = self._depth() + 1
        try:
            if not outer:
                with conn.transaction():
                    yield
                return
            with _translated(self.location), conn.transaction():
                timeout_ms = max(1, int(self.busy_timeout_seconds() * 1000))
                conn.execute(_WRITE_SETTINGS, (str(timeout_ms),))
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK_KEY,))
                yield
        finally:
            self._local.depth = self._depth() - 1

    def in_transaction(self) -> bool:
        return self._depth() > 0

    @contextmanager
    def files_lock(self, lock: str, editor: str, excluding: Sequence[str]) -> Iterator[None]:
        """pg_locks' session-level advisory lock on a connection of its own (this Store's password too),
        held for the whole run; another editor's lock found held is team_locks.LibraryLocked, nothing done."""
        from curator.core.backend import pg_locks
        from curator.core.team_locks import LibraryLocked

        held = pg_locks.LibraryLock(self.where, lock, editor, password=self._password)
        try:
            held.acquire_excluding(excluding)
        except pg_locks.LockHeld as e:
            who = e.holder
            raise LibraryLocked(e.lock, who.editor if who else "", who.since if who else None) from None
        try:
            yield
        finally:
            held.release()

    @contextmanager
    def _bookkeeping(self) -> Iterator[None]:
        """Card-row UPDATEs inside are bookkeeping of the files (pg_schema.BOOKKEEPING_SETTING): they keep
        the cards' versions. In a transaction of their own when the caller has none."""
        with self.transaction():
            self._execute("SELECT set_config(%s, 'on', true)", (pg_schema.BOOKKEEPING_SETTING,))
            try:
                yield
            finally:
                self._execute("SELECT set_config(%s, 'off', true)", (pg_schema.BOOKKEEPING_SETTING,))

    def busy_timeout_seconds(self) -> float:
        """This thread's wait for another writer's lock (the backend's default unless set per thread)."""
        return float(getattr(self._local, "busy_timeout", self.busy_timeout))

    def set_busy_timeout(self, seconds: float) -> None:
        self._local.busy_timeout = float(seconds)

    def lean_reads(self) -> None:
        """Nothing to do: the pages a query reads live in the server's memory, not in this process's."""

    def defer_checkpoints(self) -> None:
        """Nothing to do: the server checkpoints by itself, never inside a client's commit."""

    def wait_for_checkpoint(self, timeout: float) -> bool:
        return True

    def library_error(self, exc: BaseException) -> LibraryError | None:
        return library_error(exc, self.location)

    def is_library_failure(self, exc: BaseException) -> bool:
        """A lost connection, a lock wait or a full server disk is the library's; a bad value is one card's."""
        return isinstance(exc, (psycopg.OperationalError, LibraryError)) or (
            isinstance(exc, psycopg.Error)
            and isinstance(library_error(exc, self.location), LibraryError)
            and not isinstance(exc, psycopg.DataError)
        )

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        conn = self._conn()
        if self._depth():
            return conn.execute(sql, params)
        with _translated(self.location):
            return conn.execute(sql, params)

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        if self._depth():
            return self._conn().execute(sql, params).fetchone()
        with _translated(self.location):
            return self._conn().execute(sql, params).fetchone()

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        if self._depth():
            return self._conn().execute(sql, params).fetchall()
        with _translated(self.location):
            return self._conn().execute(sql, params).fetchall()

    def _copy(self, copy_sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """COPY ``rows`` in (one statement) inside the caller's transaction."""
        with self._conn().cursor() as cur, cur.copy(copy_sql) as copy:
            for row in rows:
                copy.write_row(row)

    def _many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """executemany (pipelined by psycopg) inside the caller's transaction."""
        rows = list(rows)
        if rows:
            with self._conn().cursor() as cur:
                cur.executemany(sql, rows)

    # -- schema, statistics, meta ---------------------------------------------------------------------------
    def schema_version(self) -> int:
        with _translated(self.location):
            try:
                return pg_schema.library_version(self._conn()) or 0
            except pg_schema.SchemaError as e:
                raise LibraryError(f"{self.location}: {e}") from e

    def optimize(self) -> None:
        """ANALYZE the library's tables, then VACUUM (FREEZE) ``card`` (the importer calls it after big
        imports).

        ANALYZE for the planner's statistics; the VACUUM for card's visibility map, without which an
        index-only scan (a list page's ids read from pg_schema.LIST_INDEX) visits every card row anyway
        until autovacuum gets to the new rows. A VACUUM right after an import leaves a page unmarked while
        its rows lack their commit's hint bit (960 of 2,275 pages at 10k cards; all 36 of a 600-card
        import): FREEZE stamps every row frozen (which also spares a later anti-wraparound pass), and a
        second pass, only where pages were left, marks them. The commit that waits for the WAL comes
        first because a bulk import's commits do not (``bulk_import``). 3.1 s with the ANALYZE at 100k
        (load ~7), every page marked. Inside a transaction (where VACUUM cannot run): ANALYZE alone.
        """
        if self._depth():
            self._execute("ANALYZE")
            return
        conn = self._conn()
        with _translated(self.location), conn.transaction():  # no writer lock: it changes nothing
            conn.execute("SET LOCAL synchronous_commit = on")
            conn.execute("SELECT pg_current_xact_id()")  # a commit record, flushed with all before it
        self._execute("ANALYZE")
        self._execute("VACUUM (FREEZE) card")
        pages, visible = self._one(
            "SELECT relpages, relallvisible FROM pg_class WHERE oid = 'card'::regclass"
        )
        if visible < pages:
            self._execute("VACUUM card")

    def analyzed_cards(self) -> int | None:
        row = self._one(
            "SELECT c.reltuples, s.last_analyze, s.last_autoanalyze FROM pg_class c "
            "LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid WHERE c.oid = 'card'::regclass"
        )
        if row is None or row[0] < 0:
            return None
        return int(row[0])

    def get_meta(self, key: str) -> str | None:
        row = self._one("SELECT value FROM meta WHERE key = %s", (key,))
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str) -> None:
        self._execute(
            "INSERT INTO meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # -- reading --------------------------------------------------------------------------------------------
    def rows(
        self, term: Term | None, sort: Sequence[tuple[str, bool]], offset: int, limit: int | None
    ) -> list[CardRow]:
        """A page picks its ids first, then reads those rows (:data:`_PAGE`); a whole list reads at once.

        The ids' statement needs only the columns the query and the order name, which the indexes may
        hold (pg_schema.LIST_INDEX, card_date, ...): an index-only scan walks ~20 index entries a page
        where card's ~1 KB rows hold ~5, and an OFFSET deep into the list skips index entries, not rows.
        The page's rows are then 200 lookups by primary key. Same cards, same order: ``order_by`` always
        ends with the id, so the order is total.
        """
        cond, params = pg_search.where(term)
        order = pg_search.order_by(sort)
        if limit is None and not offset:
            sql = f"SELECT {_ROW_COLUMNS} FROM card WHERE {cond} ORDER BY {order}"
            return [_card_row(t) for t in self._all(sql, params)]
        page = f"SELECT id FROM card WHERE {cond} ORDER BY {order}"
        if limit is not None:
            page += " LIMIT %s"
            params = [*params, limit]
        if offset:
            page += " OFFSET %s"
            params = [*params, offset]
        sql = _PAGE.format(columns=_ROW_COLUMNS, page=page, order=order)
        return [_card_row(t) for t in self._all(sql, params)]

    def count(self, term: Term | None) -> int:
        cond, params = pg_search.where(term)
        return int(self._one(f"SELECT count(*) FROM card WHERE {cond}", params)[0])

    def ids(self, term: Term | None, sort: Sequence[tuple[str, bool]]) -> list[int]:
        cond, params = pg_search.where(term)
        return [r[0] for r in self._all(f"SELECT id FROM card WHERE {cond} ORDER BY {pg_search.order_by(sort)}",
                                        params)]  # fmt: skip

    def rows_by_id(self, ids: Sequence[int]) -> list[CardRow]:
        return [_card_row(t) for t in self._all(f"SELECT {_ROW_COLUMNS} FROM card WHERE id = ANY(%s)",
                                                ([int(i) for i in ids],))]  # fmt: skip

    def facets(self, term: Term | None, limit: int) -> Facets:
        """Status counts and the top categories, providers and topics under ``term``, in one statement.

        The query's cards are selected once (a MATERIALIZED CTE of the few columns the counts read; four
        statements each re-ran the full-text match), and each name list groups the raw values first and
        folds only the distinct ones (folding every row before grouping was half the time): NOCASE
        grouping as SQLite's, one group per folded value named by its smallest spelling.
        """
        cond, params = pg_search.where(term)

        def top(name: str, source: str) -> str:
            return (
                f"{name} AS (SELECT min(v) AS v, sum(n)::bigint AS n, row_number() OVER "
                f"(ORDER BY sum(n) DESC, curator_fold(min(v))) AS pos FROM ({source}) AS raw "
                f"GROUP BY curator_fold(v) ORDER BY pos LIMIT %s)"
            )

        counts = ", ".join(
            f"count(*) FILTER (WHERE {c})"
            for c in ("published IS NOT TRUE", "published", "dirty", "problems > 0", "conflict", "missing")
        )
        rows = self._all(
            "WITH m AS MATERIALIZED (SELECT id, published, dirty, problems, conflict, missing, category, "
            f"provider_name FROM card WHERE {cond}), "
            + top(
                "cat",
                "SELECT category AS v, count(*) AS n FROM m WHERE category IS NOT NULL GROUP BY category",
            )
            + ", "
            + top(
                "prov",
                "SELECT provider_name AS v, count(*) AS n FROM m WHERE provider_name IS NOT NULL "
                "GROUP BY provider_name",
            )
            + ", "
            + top(
                "tops",
                "SELECT t.name AS v, count(*) AS n FROM card_topic t JOIN m ON m.id = t.card_id "
                "GROUP BY t.name",
            )
            + f" SELECT 0 AS k, 0::bigint AS pos, NULL AS v, count(*), {counts} FROM m"
            " UNION ALL SELECT 1, pos, v, n, 0, 0, 0, 0, 0, 0 FROM cat"
            " UNION ALL SELECT 2, pos, v, n, 0, 0, 0, 0, 0, 0 FROM prov"
            " UNION ALL SELECT 3, pos, v, n, 0, 0, 0, 0, 0, 0 FROM tops ORDER BY 1, 2",
            [*params, limit, limit, limit],
        )
        names = ("all", "unpublished", "published", "changed", "problems", "conflicts", "missing")
        status = dict(zip(names, (int(v or 0) for v in rows[0][3:]), strict=True))
        lists: dict[int, list[tuple[str, int]]] = {1: [], 2: [], 3: []}
        for kind, _pos, value, n, *_rest in rows[1:]:
            lists[int(kind)].append((value, int(n)))
        return Facets(status, lists[1], lists[3], lists[2])

    def values(self, field: str) -> list[str]:
        if field in ("topic", "topics"):
            table, column = "card_topic", "name"
        elif field in _VALUE_COLUMNS:
            table, column = "card", _VALUE_COLUMNS[field]
        else:
            raise ValueError(f"no list of values for {field!r}; try topics, provider, category or type")
        rows = self._all(
            f"SELECT min({column}) FROM {table} WHERE {column} IS NOT NULL GROUP BY curator_fold({column}) "
            f"ORDER BY curator_fold({column})"
        )
        return [r[0] for r in rows]

    def totals(self) -> Totals:
        row = self._one(
            "SELECT count(*), count(*) FILTER (WHERE dirty), count(*) FILTER (WHERE conflict), "
            "count(*) FILTER (WHERE missing), count(*) FILTER (WHERE problems > 0) FROM card"
        )
        return Totals(*(int(v) for v in row))

    def problem_cards(self, term: Term | None) -> list[tuple[int, str]]:
        cond, params = pg_search.where(term)
        return [(i, p) for i, p in self._all(f"SELECT id, path FROM card WHERE ({cond}) AND problems > 0 "
                                             "ORDER BY id", params)]  # fmt: skip

    def doc(self, card_id: int) -> str | None:
        row = self._one("SELECT doc::text FROM card_doc WHERE card_id = %s", (card_id,))
        return None if row is None else pg_nul.from_server(row[0])

    def card_doc(self, card_id: int) -> tuple[str, str] | None:
        row = self._one(
            "SELECT c.path, d.doc::text FROM card c JOIN card_doc d ON d.card_id = c.id WHERE c.id = %s",
            (card_id,),
        )
        return None if row is None else (row[0], pg_nul.from_server(row[1]))

    def pending_rows(self, card_id: int) -> list[tuple[str, str, str]]:
        return [tuple(r) for r in self._all(
            "SELECT field, base, value FROM pending_edit WHERE card_id = %s ORDER BY field", (card_id,)
        )]  # fmt: skip

    def history(self, limit: int) -> list[BatchInfo]:
        rows = self._all(
            "SELECT b.id, b.label, b.created, b.undone, "
            "(SELECT count(DISTINCT card_id) FROM journal_entry WHERE batch_id = b.id), "
            "(SELECT count(*) FROM journal_entry WHERE batch_id = b.id), b.editor "
            "FROM edit_batch b ORDER BY b.id DESC LIMIT %s",
            (limit,),
        )
        return [
            BatchInfo(i, label, created, bool(undone), c, e, who)
            for i, label, created, undone, c, e, who in rows
        ]

    def batch_titles(self, batch_ids: Sequence[int]) -> dict[int, str]:
        rows = self._all(
            "SELECT j.batch_id, min(c.title) FROM journal_entry j JOIN card c ON c.id = j.card_id "
            "WHERE j.batch_id = ANY(%s) GROUP BY j.batch_id HAVING count(DISTINCT j.card_id) = 1",
            ([int(b) for b in batch_ids],),
        )
        return {int(b): str(t) for b, t in rows if t}

    def card_paths(self) -> list[str]:
        return [r[0] for r in self._all("SELECT path FROM card")]

    def card_folders(self) -> list[str]:
        # The text up to the last separator, found on the server (as SQLite's rtrim trick does).
        rows = self._all(
            "SELECT DISTINCT left(path, length(path) - strpos(reverse(path), %s) + 1) FROM card "
            "WHERE strpos(path, %s) > 0",
            (os.sep, os.sep),
        )
        return [folder for (folder,) in rows if folder]

    def card_id_at(self, path: str) -> int | None:
        row = self._one("SELECT id FROM card WHERE path = %s", (path,))
        return None if row is None else int(row[0])

    def flagged_cards(self, ids: Sequence[int]) -> list[FlaggedCard]:
        rows = self._all(
            "SELECT id, path, title, problems, conflict, missing FROM card WHERE id = ANY(%s) "
            "AND (problems > 0 OR conflict OR missing)",
            ([int(i) for i in ids],),
        )
        return [FlaggedCard(i, p, t, n, bool(c), bool(m)) for i, p, t, n, c, m in rows]

    def card_labels(self, ids: Sequence[int]) -> list[CardLabel]:
        rows = self._all(
            "SELECT id, path, title, provider_name, published_at, date, quality, published FROM card "
            "WHERE id = ANY(%s)",
            ([int(i) for i in ids],),
        )
        return [CardLabel(*t) for t in rows]

    def card_with_url(self, url: str) -> int | None:
        row = self._one(
            "SELECT id FROM card WHERE source_url = %s OR amp_url = %s OR cdn_amp_url = %s ORDER BY id LIMIT 1",
            (url, url, url),
        )
        return None if row is None else int(row[0])

    @staticmethod
    def _like(column: str, patterns: Sequence[str]) -> str:
        # SQLite's LIKE folds ASCII case and has no escape character unless told: the same here.
        return (
            " OR ".join(f"curator_fold({column}) LIKE curator_fold(%s) ESCAPE ''" for _ in patterns)
            or "FALSE"
        )

    def card_urls_like(self, patterns: Sequence[str], limit: int) -> list[tuple[int, str]]:
        return [tuple(r) for r in self._all(
            f"SELECT id, source_url FROM card WHERE {self._like('source_url', patterns)} "
            "ORDER BY date DESC NULLS LAST LIMIT %s", (*patterns, limit)
        )]  # fmt: skip

    def related_titles_like(self, patterns: Sequence[str], limit: int) -> list[tuple[str, str]]:
        return [tuple(r) for r in self._all(
            f"SELECT title, source_url FROM related_item WHERE ({self._like('source_url', patterns)}) "
            "AND title IS NOT NULL AND title <> '' LIMIT %s", (*patterns, limit)
        )]  # fmt: skip

    def provider_name_for(self, domains: Sequence[str], patterns: Sequence[str]) -> str | None:
        most = (
            "AND provider_name IS NOT NULL AND provider_name <> '' GROUP BY curator_fold(provider_name) "
            "ORDER BY count(*) DESC LIMIT 1"
        )
        row = self._one(
            f"SELECT min(provider_name) FROM card WHERE curator_fold(provider_domain) = ANY(%s) {most}",
            ([d.lower() for d in domains],),
        )
        if row:
            return str(row[0])
        row = self._one(f"SELECT min(provider_name) FROM related_item WHERE ({self._like('source_url', patterns)}) "
                        f"{most}", tuple(patterns))  # fmt: skip
        return str(row[0]) if row else None

    # -- edits ----------------------------------------------------------------------------------------------
    def current(self, field: str, ids: Iterable[int]) -> Runs:
        """(id, file value, current value) of one field for the known cards among ``ids``, as runs of the
        cards sharing their two values (edit_runs.Runs; each run in id order), as SqliteBackend.current.

        Grouped by the server (one row a distinct pair, its cards an array): a bulk edit's 10k cards hold
        a few such pairs, so they never travel as 10k rows, and apply_values decides each pair once.
        """
        # The pending value apart from the file's: only a stored document is escaped (pg_nul).
        wanted = _id_array(dict.fromkeys(ids))
        column = _COLUMN_JSON.get(field)
        if column is None:
            pairs = (
                "SELECT c.card_id AS id, coalesce((c.doc -> %s)::text, 'null') AS base, p.value AS pending "
                "FROM card_doc c LEFT JOIN pending_edit p ON p.card_id = c.card_id AND p.field = %s "
                "WHERE c.card_id = ANY(%s::bigint[])"
            )
            params: tuple[Any, ...] = (field, field, wanted)
        else:
            # Without a pending edit the file's value is the current one, which the column holds whenever it
            # is not NULL; the document (decompressed and parsed on the server: most of a bulk edit's read
            # when it was read for every card) only where the column is NULL or a pending edit needs the
            # file's value. A scalar subquery in a CASE branch runs only for the rows that take it. Where the
            # column is NULL the key is mostly absent: the key's JSON spelling (``"published"``) is in the
            # text of every mapping that has the key, so a mapping without that text is not parsed (a
            # 2.6 kB mapping's parse ~19 us, the text search ~1 us; the keys here are ASCII names, never
            # escaped in JSON).
            document = "(SELECT (d.doc -> %s)::text FROM card_doc d WHERE d.card_id = c.id)"
            keyed = (
                "(SELECT CASE WHEN strpos(d.doc::text, %s) > 0 THEN (d.doc -> %s)::text END "
                "FROM card_doc d WHERE d.card_id = c.id)"
            )
            pairs = (
                f"SELECT c.id AS id, CASE WHEN p.card_id IS NULL THEN coalesce({column}, {keyed}, 'null') "
                f"ELSE coalesce({document}, 'null') END AS base, p.value AS pending "
                "FROM card c LEFT JOIN pending_edit p ON p.card_id = c.id AND p.field = %s "
                "WHERE c.id = ANY(%s::bigint[])"
            )
            params = (f'"{field}"', field, field, field, wanted)
        rows = self._all(
            f"SELECT base, pending, array_agg(id ORDER BY id) FROM ({pairs}) AS v GROUP BY base, pending",
            params,
        )
        unescape = pg_nul.from_server
        runs: dict[tuple[str, str], list[int]] = {}
        for base, pending, cards in rows:
            file_value = unescape(base)
            key = (file_value, file_value if pending is None else pending)
            if key in runs:  # (x, no pending edit) and (x, a pending x): one pair, its cards in id order
                runs[key] = sorted(runs[key] + cards)
            else:
                runs[key] = cards
        return Runs(runs.items())

    def file_value(self, card_id: int, key: str) -> str | None:
        row = self._one("SELECT (doc -> %s)::text FROM card_doc WHERE card_id = %s", (key, card_id))
        return None if row is None or row[0] is None else pg_nul.from_server(row[0])

    def set_pending(
        self, rows: Sequence[tuple[int, str, str, str]], *, editor: str = "", changed: float = 0.0
    ) -> None:
        upsert = (
            "ON CONFLICT (card_id, field) DO UPDATE SET value = excluded.value, editor = excluded.editor, "
            "changed = excluded.changed"
        )
        self._in_runs(
            rows,
            "INSERT INTO pending_edit (card_id, field, base, value, editor, changed) "
            f"VALUES (%s, %s, %s, %s, %s, %s) {upsert}",
            "INSERT INTO pending_edit (card_id, field, base, value, editor, changed) "
            f"SELECT u.id, %s, %s, %s, %s, %s FROM unnest(%s::bigint[]) AS u(id) {upsert}",
            (pg_nul.clean(editor), changed),
        )

    def _in_runs(
        self, rows: Sequence[tuple[Any, ...]], each: str, shared: str, extra: tuple[Any, ...] = ()
    ) -> None:
        """Insert ``rows`` (card id first) in their order: a long run of rows equal but for the card id (a
        bulk edit's) by ``shared`` over unnest of the ids (its shared values, ``extra``, then the ids), the
        others by pipelined executemany of ``each`` (the row then ``extra``); as SqliteBackend._in_runs.
        A bulk edit's rows come as edit_runs.Runs, whose runs are taken as they are (id_runs): its 10k
        rows are never built as tuples to be compared again."""
        singles: list[tuple[Any, ...]] = []
        for values, ids in id_runs(rows):
            if len(ids) < RUN_AT_LEAST:
                singles.extend((cid, *values, *extra) for cid in ids)
                continue
            self._many(each, singles)
            singles = []
            self._execute(shared, (*values, *extra, _id_array(ids)))
        self._many(each, singles)

    def drop_pending(self, pairs: Sequence[tuple[int, str]]) -> None:
        by_field: dict[str, list[int]] = {}
        for cid, field in pairs:
            by_field.setdefault(field, []).append(int(cid))
        for field, ids in by_field.items():
            self._execute(
                "DELETE FROM pending_edit WHERE field = %s AND card_id = ANY(%s::bigint[])",
                (field, _id_array(ids)),
            )

    @staticmethod
    def _editable(columns: Sequence[str]) -> None:
        bad = [c for c in columns if c not in _card_sql().editable]
        if bad:
            raise ValueError(f"not a card column an edit sets: {bad[0]!r}")

    @staticmethod
    def _typed(columns: Sequence[str], values: Sequence[Any]) -> list[Any]:
        return [_bool(v) if c in _BOOL_COLUMNS else v for c, v in zip(columns, values, strict=False)] + list(
            values[len(columns) :]
        )

    def update_columns(self, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        self._editable(columns)
        if rows:
            self._many(f"UPDATE card SET {', '.join(f'{c} = %s' for c in columns)} WHERE id = %s",
                       pg_nul.clean_rows([self._typed(columns, row) for row in rows]))  # fmt: skip

    def set_columns(
        self, columns: Sequence[str], values: Sequence[Any], ids: Sequence[int], *, dirty: bool
    ) -> None:
        self._editable(columns)
        if ids:
            sets = ", ".join([*(f"{c} = %s" for c in columns), *(["dirty = TRUE"] if dirty else [])])
            self._execute(f"UPDATE card SET {sets} WHERE id = ANY(%s::bigint[])",
                          (*pg_nul.clean(self._typed(columns, values)), _id_array(ids)))  # fmt: skip

    def touch_versions(self, ids: Sequence[int]) -> None:
        # The card_stamp trigger advances the version of every row an UPDATE touches.
        if ids:
            self._execute("UPDATE card SET version = version WHERE id = ANY(%s::bigint[])", (_id_array(ids),))

    def versions(self, ids: Iterable[int]) -> dict[int, int]:
        rows = self._all(
            "SELECT id, version FROM card WHERE id = ANY(%s::bigint[])", (_id_array(dict.fromkeys(ids)),)
        )
        return {int(i): int(v) for i, v in rows}

    def field_changes(self, ids: Sequence[int]) -> list[tuple[int, str, str, str, float]]:
        rows = self._all(
            "SELECT DISTINCT ON (j.card_id, j.field) j.card_id, j.field, j.new, j.editor, j.created "
            "FROM journal_entry j JOIN edit_batch b ON b.id = j.batch_id "
            "WHERE NOT b.undone AND j.card_id = ANY(%s) ORDER BY j.card_id, j.field, j.id DESC",
            ([int(i) for i in ids],),
        )
        return [(int(c), f, new, who, float(when)) for c, f, new, who, when in rows]

    def later_changes(self, batch_id: int, editor: str) -> list[tuple[int, str, str, float]]:
        return [tuple(r) for r in self._all(
            "SELECT j.card_id, j.field, j.editor, j.created FROM journal_entry mine "
            "JOIN journal_entry j ON j.card_id = mine.card_id AND j.field = mine.field AND j.batch_id > mine.batch_id "
            "JOIN edit_batch b ON b.id = j.batch_id AND NOT b.undone "
            "WHERE mine.batch_id = %s AND j.editor <> %s ORDER BY j.id",
            (batch_id, pg_nul.clean(editor)),
        )]  # fmt: skip

    def update_fulltext(self, field: str, rows: Sequence[tuple[str, int]]) -> None:
        if field not in _FTS_COLUMNS:
            raise ValueError(f"not a full-text column: {field!r}")
        self._many(f"UPDATE card_text SET {field} = %s::tsvector WHERE card_id = %s",
                   [(pg_fulltext.column_vector(pg_nul.clean(text)), cid) for text, cid in rows])  # fmt: skip

    def replace_children(self, kind: ChildKind, ids: Sequence[int], rows: Sequence[tuple[Any, ...]]) -> None:
        table, _, insert = _CHILD_TABLES[kind]
        self._execute(f"DELETE FROM {table} WHERE card_id = ANY(%s::bigint[])", (_id_array(ids),))
        self._many(insert, pg_nul.clean_rows(rows))

    def adjust_problems(self, deltas: Sequence[tuple[int, int]]) -> None:
        by_delta: dict[int, list[int]] = {}
        for delta, cid in deltas:
            by_delta.setdefault(int(delta), []).append(int(cid))
        for delta, ids in by_delta.items():  # a bulk edit moves most counts by the same few deltas
            self._execute(
                "UPDATE card SET problems = greatest(0, problems + %s) WHERE id = ANY(%s::bigint[])",
                (delta, _id_array(ids)),
            )

    def refresh_dirty(self, gained: Iterable[int], lost: Iterable[int]) -> None:
        gained = list(gained)
        if gained:
            self._execute(
                "UPDATE card SET dirty = TRUE WHERE NOT dirty AND id = ANY(%s::bigint[])",
                (_id_array(gained),),
            )
        lost = list(lost)
        if lost:
            self._execute(
                "UPDATE card SET dirty = EXISTS (SELECT 1 FROM pending_edit p WHERE p.card_id = card.id) "
                "WHERE id = ANY(%s::bigint[])",
                (_id_array(lost),),
            )

    def add_batch(self, label: str, created: float, editor: str = "") -> int:
        row = self._one(
            "INSERT INTO edit_batch (label, created, undone, editor) VALUES (%s, %s, FALSE, %s) RETURNING id",
            (pg_nul.clean(label), created, pg_nul.clean(editor)),
        )
        return int(row[0])

    def add_journal(self, batch_id: int, changes: Sequence[Change], created: float, editor: str = "") -> None:
        columns = "INSERT INTO journal_entry (card_id, field, old, new, batch_id, created, editor)"
        self._in_runs(
            changes,
            f"{columns} VALUES (%s, %s, %s, %s, %s, %s, %s)",
            # unnest yields the ids in array order, so the entries' ids follow the changes' order.
            f"{columns} SELECT u.id, %s, %s, %s, %s, %s, %s FROM unnest(%s::bigint[]) AS u(id)",
            (batch_id, created, pg_nul.clean(editor)),
        )

    def batch_undone(self, batch_id: int) -> bool | None:
        row = self._one("SELECT undone FROM edit_batch WHERE id = %s", (batch_id,))
        return None if row is None else bool(row[0])

    def batch_owner(self, batch_id: int) -> tuple[str, str] | None:
        row = self._one("SELECT label, editor FROM edit_batch WHERE id = %s", (batch_id,))
        return None if row is None else (str(row[0]), str(row[1]))

    def batch_entries(self, batch_id: int) -> list[Change]:
        return [tuple(r) for r in self._all(
            "SELECT card_id, field, old, new FROM journal_entry WHERE batch_id = %s ORDER BY id", (batch_id,)
        )]  # fmt: skip

    def set_batch_undone(self, batch_id: int, undone: bool) -> None:
        self._execute("UPDATE edit_batch SET undone = %s WHERE id = %s", (bool(undone), batch_id))

    def card_path(self, card_id: int) -> str | None:
        row = self._one("SELECT path FROM card WHERE id = %s", (card_id,))
        return None if row is None else row[0]

    def clear_pending(self, card_id: int) -> None:
        self._execute("DELETE FROM pending_edit WHERE card_id = %s", (card_id,))
        self._execute("UPDATE card SET dirty = FALSE WHERE id = %s", (card_id,))

    # -- import ---------------------------------------------------------------------------------------------
    def known_cards(self, roots: Sequence[str]) -> dict[str, Known]:
        """The cards at or under the given roots (path is ``COLLATE "C"``: byte ranges, as on SQLite)."""
        out: dict[str, Known] = {}
        for root in dict.fromkeys(roots):
            prefix = root.rstrip(os.sep) + os.sep
            rows = self._all(
                "SELECT path, id, size, mtime_ns FROM card WHERE path = %s OR (path >= %s AND path < %s)",
                (root, prefix, prefix[:-1] + chr(ord(os.sep) + 1)),
            )
            out.update((r[0], (r[1], r[2], r[3])) for r in rows)
        return out

    def known_stamps(self, roots: Sequence[str]) -> set[str]:
        return stamp_keys(self.known_cards(roots), self.flagged_ids("missing"))

    def flagged_ids(self, flag: CardFlag) -> set[int]:
        if flag not in ("dirty", "missing", "conflict"):
            raise ValueError(f"not a card flag: {flag!r}")
        dirty = f" AND {pg_schema.DIRTY_IDS}" if flag == "dirty" else ""  # no index on dirty (pg_schema)
        return {r[0] for r in self._all(f"SELECT id FROM card WHERE {flag}{dirty}")}

    def sha256(self, card_id: int) -> str:
        return str(self._one("SELECT sha256 FROM card WHERE id = %s", (card_id,))[0])

    def refresh_stamps(self, rows: Sequence[tuple[int, int, int]]) -> None:
        if not rows:
            return
        sizes, mtimes, ids = (list(column) for column in zip(*rows, strict=True))
        # One statement: card's statement triggers (NOTIFY, the change log) fire once, not once per card.
        with self._bookkeeping():
            self._execute(
                "UPDATE card SET size = u.size, mtime_ns = u.mtime_ns, missing = FALSE, conflict = FALSE FROM "
                "unnest(%s::bigint[], %s::bigint[], %s::bigint[]) AS u(size, mtime_ns, id) WHERE card.id = u.id",
                (sizes, mtimes, ids),
            )

    def mark_conflicts(self, ids: Sequence[int]) -> None:
        with self._bookkeeping():
            self._execute(
                "UPDATE card SET conflict = TRUE, missing = FALSE WHERE id = ANY(%s)",
                ([int(i) for i in ids],),
            )

    def mark_missing(self, ids: Sequence[int]) -> None:
        with self._bookkeeping():
            self._execute("UPDATE card SET missing = TRUE WHERE id = ANY(%s)", ([int(i) for i in ids],))

    def _insert_children(self, pairs: Sequence[tuple[int, CardRecord]]) -> None:
        """The cards' topics, images, related items and full text, each table in one COPY.

        COPY, not pipelined INSERTs: an import's ~8 child rows a card cost psycopg ~10-20 us of CPU each
        as statements, a few as COPY rows (the tsvector literals are parsed by the column's input, as the
        INSERT's cast did).
        """
        rows = {
            "topics": [(cid, name, pos) for cid, rec in pairs for pos, name in enumerate(rec.topics)],
            "images": [(cid, *img) for cid, rec in pairs for img in rec.images],
            "related": [(cid, *item) for cid, rec in pairs for item in rec.related],
        }
        for kind, found in rows.items():
            if found:
                table, columns, _ = _CHILD_TABLES[kind]
                self._copy(f"COPY {table} (card_id, {columns}) FROM STDIN", found)
        self._copy(_COPY_TEXT, [(cid, *_text_vectors(rec.fts)) for cid, rec in pairs])

    def insert_cards(self, records: Sequence[CardRecord]) -> list[int]:
        if not records:
            return []
        ids = pg_schema.reserve_ids(self._conn(), len(records))
        pairs = list(zip(ids, map(pg_nul.clean_record, records), strict=True))  # text holds no NUL: pg_nul
        # COPY, one statement per batch: card's statement triggers (NOTIFY, the change log) then fire once
        # for the batch, not once per card as they did for pipelined single-row INSERTs.
        self._copy(_card_sql().copy,
                   [(cid, *_file_values(rec.values), False, False, False) for cid, rec in pairs])  # fmt: skip
        self._copy("COPY card_doc (card_id, doc) FROM STDIN", [(cid, rec.doc) for cid, rec in pairs])
        self._insert_children(pairs)
        return ids

    def update_cards(self, pairs: Sequence[tuple[int, CardRecord]]) -> None:
        if not pairs:
            return
        pairs = [(cid, pg_nul.clean_record(rec)) for cid, rec in pairs]  # text holds no NUL: pg_nul
        if len(pairs) < _STAGED_AT_LEAST:
            self._many(_card_sql().update, [(*_file_values(rec.values), cid) for cid, rec in pairs])
        else:  # one UPDATE: card's statement triggers (NOTIFY, the change log) fire once, not once per card
            create, copy, update = _card_sql().staged
            with self.transaction():
                self._execute(create)
                self._copy(copy, [(cid, *_file_values(rec.values)) for cid, rec in pairs])
                self._execute(update)
                self._execute("DROP TABLE card_staged")
        self._many(
            "INSERT INTO card_doc (card_id, doc) VALUES (%s, %s) ON CONFLICT (card_id) DO UPDATE SET doc = excluded.doc",
            [(cid, rec.doc) for cid, rec in pairs],
        )
        ids = [cid for cid, _ in pairs]
        for table in ("card_topic", "card_image", "related_item", "card_text"):
            self._execute(f"DELETE FROM {table} WHERE card_id = ANY(%s)", (ids,))
        self._insert_children(pairs)

    def delete_cards(self, ids: Sequence[int]) -> None:
        """Delete cards; foreign keys cascade to children, full text, pending edits and journal entries."""
        self._execute("DELETE FROM card WHERE id = ANY(%s)", ([int(i) for i in ids],))

    @contextmanager
    def bulk_import(self) -> Iterator[None]:
        """A big import commits without waiting for the server's WAL flush (the files stay the truth)."""
        self._execute("SET synchronous_commit = off")
        try:
            yield
        finally:
            self._execute("RESET synchronous_commit")

    # -- checks index (issue 11; see base.Backend) -------------------------------------------------------------
    def card_stamps(self) -> list[tuple[int, str, str | None]]:
        # Joined here, not by the server: PostgreSQL text cannot hold the NUL that separates field and value.
        pending: dict[int, list[str]] = {}
        for card_id, field, value in self._all(
            "SELECT card_id, field, value FROM pending_edit ORDER BY card_id, field"
        ):
            pending.setdefault(int(card_id), []).append(f"{field}\0{value}")
        rows = self._all("SELECT id, sha256 FROM card ORDER BY id")
        return [(int(i), h, "\x01".join(pending[i]) if i in pending else None) for i, h in rows]

    def card_docs(self, ids: Sequence[int] | None) -> Iterator[tuple[int, str]]:
        if ids is None:
            sql, params = "SELECT card_id, doc::text FROM card_doc ORDER BY card_id", ()
        else:
            sql = "SELECT card_id, doc::text FROM card_doc WHERE card_id = ANY(%s) ORDER BY card_id"
            params = ([int(i) for i in ids],)  # type: ignore[assignment]
        with _translated(self.location):  # a stream: a build reads every mapping without holding them all
            cur = self._conn().execute(sql, params)
            while rows := cur.fetchmany(2048):
                yield from ((int(i), pg_nul.from_server(d)) for i, d in rows)

    def pending_values(self, ids: Sequence[int] | None) -> list[tuple[int, str, str]]:
        if ids is None:
            rows = self._all("SELECT card_id, field, value FROM pending_edit ORDER BY card_id, field")
        else:
            rows = self._all(
                "SELECT card_id, field, value FROM pending_edit WHERE card_id = ANY(%s) ORDER BY card_id, field",
                ([int(i) for i in ids],),
            )
        return [tuple(r) for r in rows]

    def check_arrays(self) -> dict[str, bytes]:
        return {name: bytes(data) for name, data in self._all("SELECT name, data FROM check_array")}

    def check_cards(self) -> list[tuple[int, str]]:
        return [tuple(r) for r in self._all("SELECT card_id, stamp FROM check_card ORDER BY card_id")]

    def save_check_index(
        self, arrays: dict[str, bytes], cards: Sequence[tuple[int, str, str | None, str | None, str | None]]
    ) -> None:
        self._execute("DELETE FROM check_array")
        self._many("INSERT INTO check_array (name, data) VALUES (%s, %s)", list(arrays.items()))
        self._execute("DELETE FROM check_card")
        self._many(
            "INSERT INTO check_card (card_id, stamp, source, amp, cdn) VALUES (%s, %s, %s, %s, %s)",
            pg_nul.clean_rows(cards),
        )

    def check_groups(self) -> list[tuple[str, str | None, list[int]]]:
        groups: dict[int, tuple[str, str | None, list[int]]] = {}
        for gid, kind, canonical in self._all("SELECT id, kind, canonical FROM check_group ORDER BY id"):
            groups[gid] = (kind, canonical, [])
        for gid, card_id in self._all(
            "SELECT group_id, card_id FROM check_member ORDER BY group_id, card_id"
        ):
            groups[gid][2].append(int(card_id))
        return list(groups.values())

    def set_check_groups(self, groups: Sequence[tuple[str, str | None, Sequence[int]]]) -> None:
        self._execute("DELETE FROM check_member")
        self._execute("DELETE FROM check_group")
        numbered = list(enumerate(groups, 1))
        self._many("INSERT INTO check_group (id, kind, canonical) VALUES (%s, %s, %s)",
                   [(gid, kind, pg_nul.clean(canonical)) for gid, (kind, canonical, _) in numbered])  # fmt: skip
        self._many("INSERT INTO check_member (group_id, card_id) VALUES (%s, %s)",
                   [(gid, int(i)) for gid, (_, _, ids) in numbered for i in ids])  # fmt: skip

    # -- write-back -----------------------------------------------------------------------------------------
    def dirty_cards(self) -> list[DirtyCard]:
        rows = self._all(
            "SELECT id, path, size, mtime_ns, sha256, missing FROM card "
            f"WHERE dirty AND {pg_schema.DIRTY_IDS} ORDER BY path"
        )
        return [DirtyCard(i, p, s, m, h, bool(x)) for i, p, s, m, h, x in rows]

    def take_back(self, written: Sequence[TakenBack]) -> None:
        # The files now hold the values the cards had: no version moves. One statement, as refresh_stamps.
        with self._bookkeeping():
            self._execute(
                "UPDATE card SET size = u.size, mtime_ns = u.mtime_ns, sha256 = u.sha256, dirty = FALSE, "
                "conflict = FALSE, missing = FALSE FROM unnest(%s::bigint[], %s::bigint[], %s::text[], "
                "%s::bigint[]) AS u(size, mtime_ns, sha256, id) WHERE card.id = u.id",
                ([w.size for w in written], [w.mtime_ns for w in written], [w.sha256 for w in written],
                 [w.id for w in written]),
            )  # fmt: skip
        self._many("UPDATE card_doc SET doc = %s WHERE card_id = %s",
                   [(pg_nul.to_server(w.doc), w.id) for w in written])  # fmt: skip
        pending = self._all("SELECT card_id, field, value FROM pending_edit WHERE card_id = ANY(%s)",
                            ([w.id for w in written],))  # fmt: skip
        done, kept = settle_written(written, [(int(c), f, v) for c, f, v in pending])
        self._many("DELETE FROM pending_edit WHERE card_id = %s AND field = %s", done)
        if kept:  # edited again by someone while this Write ran: still pending, over what the file holds now
            self._many("UPDATE pending_edit SET base = %s WHERE card_id = %s AND field = %s",
                       [(pg_nul.clean(base), cid, field) for base, cid, field in kept])  # fmt: skip
            self._execute("UPDATE card SET dirty = TRUE WHERE id = ANY(%s)", (sorted({k[1] for k in kept}),))

    def mark_conflict(self, card_id: int) -> None:
        with self._bookkeeping():
            self._execute("UPDATE card SET conflict = TRUE WHERE id = %s", (card_id,))

    # -- inspection -----------------------------------------------------------------------------------------
    def card_columns(self, card_id: int, columns: Sequence[str]) -> tuple[Any, ...] | None:
        unknown = [c for c in columns if c not in _card_sql().columns]
        if unknown:
            raise ValueError(f"no card column {unknown[0]!r}")
        row = self._one(f"SELECT {', '.join(columns)} FROM card WHERE id = %s", (card_id,))
        if row is None:
            return None
        # The flags as SQLite's 0/1, so checks of what an operation stored read the same on both backends.
        return tuple(int(v) if isinstance(v, bool) else v for v in row)

    def child_rows(self, kind: ChildKind, card_id: int) -> list[tuple[Any, ...]]:
        table, columns, _ = _CHILD_TABLES[kind]
        return [tuple(r) for r in self._all(f"SELECT {columns} FROM {table} WHERE card_id = %s ORDER BY position",
                                            (card_id,))]  # fmt: skip

    def fulltext_row(self, card_id: int) -> tuple[str, ...] | None:
        """A card's indexed full text: the five tsvectors as text (PostgreSQL keeps lexemes, not the text)."""
        row = self._one("SELECT title::text, excerpt::text, provider::text, topics::text, related::text FROM card_text "
                        "WHERE card_id = %s", (card_id,))  # fmt: skip
        return None if row is None else tuple(row)

    def pending_authors(self, card_id: int) -> list[tuple[str, str, float]]:
        """(field, editor, time) of a card's pending edits, by field: for checks of who made them."""
        return [(f, e, float(t)) for f, e, t in self._all(
            "SELECT field, editor, changed FROM pending_edit WHERE card_id = %s ORDER BY field", (card_id,)
        )]  # fmt: skip

    def batch_rows(self) -> list[tuple[int, str, bool]]:
        """(id, editor, undone) of every edit batch, by id: for checks of who made what."""
        return [
            (int(i), e, bool(u))
            for i, e, u in self._all("SELECT id, editor, undone FROM edit_batch ORDER BY id")
        ]

    def journal_rows(self) -> list[tuple[int, int, str, str, str]]:
        return [
            tuple(r)
            for r in self._all("SELECT batch_id, card_id, field, old, new FROM journal_entry ORDER BY id")
        ]

    def invalid_json(self) -> int:
        """Stored JSON texts that do not parse (card_doc is typed json, so only the text columns can be)."""
        bad = 0
        for sql in ("SELECT old, new FROM journal_entry", "SELECT base, value FROM pending_edit"):
            for row in self._all(sql):
                for text in row:
                    try:
                        json.loads(text)
                    except ValueError:
                        bad += 1
        return bad
