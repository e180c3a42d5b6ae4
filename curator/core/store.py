"""The Store: one SQLite library file (the catalog of card files), opened, migrated and queried.

Binding: ``schema.database_proxy`` is module-global, so every public method first points it at this
Store's database (``_use``). Opening several libraries one after another in one process works (tests do
it), and so does using two Stores alternately from one thread; using two *different* libraries at the
same moment from two threads does not (the proxy can name only one) and is not supported. The normal
case, one Store per process used from the GUI thread and worker threads, is fine: peewee keeps one
connection per thread, and WAL lets a reader run beside the writer.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import peewee
from peewee import SQL, fn
from playhouse.sqlite_ext import SqliteExtDatabase

from curator.core import schema
from curator.core.schema import Card, CardTopic
from curator.core.store_types import (
    BatchInfo,
    CardDetail,
    CardRow,
    EditResult,
    Facets,
    LibraryError,
    ProblemRow,
    Totals,
    WriteReport,
)

if TYPE_CHECKING:  # only for annotations: importing cards (and yaml) costs every `curator list`
    from curator.core.cards import Card as CardFile

__all__ = [
    "DEFAULT_BUSY_TIMEOUT", "BatchInfo", "CardDetail", "CardRow", "EditResult", "Facets", "LibraryBusy",
    "LibraryDiskError", "LibraryError", "ProblemRow", "Store", "Totals", "WriteReport", "library_error",
]  # fmt: skip

#: Seconds a Store's connections wait for another writer's lock before LibraryBusy. Long enough that a
#: command-line run waits out another Curator's import batch or bulk edit (each is one short transaction),
#: short enough that a library held for good (a stuck process) is named soon. The GUI passes much less.
DEFAULT_BUSY_TIMEOUT = 10.0


class LibraryBusy(LibraryError):
    """Another connection (another Curator) held the library's write lock for longer than the busy timeout.

    The refused call changed nothing: its transaction either never began or was rolled back whole, so the
    caller may simply try again later.
    """


class LibraryDiskError(LibraryError):
    """The disk under the library failed it: full (SQLITE_FULL) or an I/O error (SQLITE_IOERR).

    As with LibraryBusy, the transaction that met it was rolled back; the files (the truth) are untouched.
    """


# SQLite's primary result codes (the low byte of an extended code) that say something about the file.
_SQLITE_READONLY, _SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_IOERR, _SQLITE_CORRUPT = 8, 5, 6, 10, 11
_SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_NOTADB = 13, 14, 26
# Extended SQLITE_IOERR codes met while reading (SQLITE_IOERR_READ, _SHORT_READ, _FSTAT, _MMAP).
_IOERR_READING = frozenset({10 | 1 << 8, 10 | 2 << 8, 10 | 7 << 8, 10 | 24 << 8})
# ...and while writing (_WRITE, _FSYNC, _DIR_FSYNC, _TRUNCATE, _DELETE, _SHMSIZE: growing the WAL index).
_IOERR_WRITING = frozenset({10 | 3 << 8, 10 | 4 << 8, 10 | 5 << 8, 10 | 6 << 8, 10 | 10 << 8, 10 | 19 << 8})
# Free space below which an I/O error is taken for a full disk (a few pages: SQLite writes page by page).
_FULL_BELOW = 64 * 1024


def _sqlite_cause(exc: BaseException) -> sqlite3.Error | None:
    """The sqlite3 error behind ``exc``: itself, the one peewee wrapped (``orig``), or one it came from."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sqlite3.Error):
            return current
        orig = getattr(current, "orig", None)  # peewee's wrappers keep the driver's error there
        if isinstance(orig, sqlite3.Error):
            return orig
        current = current.__cause__ or current.__context__
    return None


def _disk_is_full(path: str | os.PathLike[str]) -> bool:
    """Whether the file system holding ``path`` has (almost) no room left for an unprivileged writer."""
    try:
        st = os.statvfs(os.path.dirname(os.path.abspath(path)))
    except OSError:
        return False
    return st.f_bavail * st.f_frsize < _FULL_BELOW


def library_error(exc: BaseException, path: str | os.PathLike[str]) -> LibraryError | None:
    """The LibraryError an SQLite failure of the library at ``path`` stands for; None when it is not one.

    Busy/locked -> LibraryBusy; full or an I/O error -> LibraryDiskError; a file that is not SQLite or is
    damaged, one that cannot be opened or is read-only -> LibraryError, worded "PATH: reason" as every
    LibraryError about the file is (the CLI prints "cannot open the library PATH: reason"). Anything else (an SQL mistake in
    Curator itself) is not the library's state and returns None, so it stays the bug it is.
    """
    if isinstance(exc, LibraryError):
        return exc
    cause = _sqlite_cause(exc)
    if cause is None:
        return None
    code = getattr(cause, "sqlite_errorcode", None)
    if not isinstance(code, int):
        return None
    primary = code & 0xFF
    if primary in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return LibraryBusy(f"the library is busy: another Curator is writing ({path})")
    if primary == _SQLITE_FULL:
        return LibraryDiskError(f"disk full: cannot write to the library ({path})")
    if primary == _SQLITE_IOERR:
        if _disk_is_full(path):  # growing the WAL index on a full disk is an I/O error, not SQLITE_FULL
            return LibraryDiskError(f"disk full: cannot write to the library ({path})")
        doing = "reading" if code in _IOERR_READING else "writing" if code in _IOERR_WRITING else "using"
        return LibraryDiskError(f"disk I/O error while {doing} {path} ({cause})")
    if primary == _SQLITE_NOTADB:
        return LibraryError(f"{path}: not a Curator library (not an SQLite file)")
    if primary == _SQLITE_CORRUPT:
        return LibraryError(f"{path}: the library is damaged ({cause}); import the cards into a new library")
    if primary == _SQLITE_CANTOPEN:
        return LibraryError(f"{path}: {cause}" + (" (it is a folder)" if os.path.isdir(path) else ""))
    if primary == _SQLITE_READONLY:
        return LibraryError(f"{path}: the library is read-only ({cause})")
    return None


class _Translated:
    """A context that re-raises an SQLite failure of the library as its LibraryError (others unchanged)."""

    __slots__ = ("path",)

    def __init__(self, path: Path) -> None:
        self.path = path

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> bool:
        if exc is not None and not isinstance(exc, LibraryError):
            error = library_error(exc, self.path)
            if error is not None:
                raise error from exc
        return False


class _Atomic:
    """peewee's atomic block; the outermost one raises the library's failures as LibraryError.

    A failure at BEGIN, inside the block or at COMMIT comes out as its LibraryError after peewee rolled
    the transaction back (a failed BEGIN never started one), so a LibraryBusy or a full disk out of an
    edit, an import batch or a write's bookkeeping leaves the library as it was. Nested blocks
    (savepoints) leave errors as they are: code inside a transaction may still catch the raw sqlite3
    error (the importer tells the library's own failures from one card's that way).
    """

    __slots__ = ("db", "inner", "outer", "path")

    def __init__(self, db: _LibraryDatabase, inner: Any) -> None:
        self.db = db
        self.inner = inner
        self.path = db.library
        self.outer = False

    def __enter__(self) -> Any:
        self.outer = self.db.transaction_depth() == 0
        return self.inner.__enter__()  # BEGIN runs through execute_sql, which translates it

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> bool:
        if not self.outer:
            return bool(self.inner.__exit__(kind, exc, tb))
        with _Translated(self.path):
            handled = self.inner.__exit__(kind, exc, tb)
        if exc is not None and not handled and not isinstance(exc, LibraryError):
            error = library_error(exc, self.path)
            if error is not None:
                raise error from exc
        return bool(handled)


class _LibraryDatabase(SqliteExtDatabase):
    """The library's peewee database: SQLite failures of the file itself come out as LibraryError.

    Every write path (edits, undo/redo, rebase, import batches, a write's bookkeeping) runs in ``atomic``
    and every peewee query through ``execute_sql``; the hot paths' raw ``conn.execute`` calls inside an
    atomic block are covered by the outermost block (inside a transaction errors stay raw until then). Raw reads outside one (``rows_by_id``) are left to callers,
    who can pass what they catch to :func:`library_error`.
    """

    def __init__(self, library: Path, database: str, **kwargs: Any) -> None:
        self.library = library
        super().__init__(database, **kwargs)

    def connect(self, reuse_if_open: bool = False) -> bool:
        with _Translated(self.library):
            return bool(super().connect(reuse_if_open))

    def execute_sql(self, sql: str, params: Any = None, commit: Any = None) -> Any:
        if self.transaction_depth():  # inside a transaction: its outermost atomic block translates
            return super().execute_sql(sql, params)
        with _Translated(self.library):
            return super().execute_sql(sql, params)

    def atomic(self, *args: Any, **kwargs: Any) -> Any:
        return _Atomic(self, super().atomic(*args, **kwargs))


_PRAGMAS = {
    "journal_mode": "wal",
    # NORMAL in WAL mode: a committed transaction survives a process crash; only an OS crash or power
    # loss can roll back the last few, which the files (the truth) make harmless.
    "synchronous": "normal",
    "foreign_keys": 1,
    "cache_size": -32_000,  # KiB: 32 MB page cache per connection
    "mmap_size": 256 * 1024 * 1024,
    "temp_store": "memory",
}
_ROW_COLUMNS = (
    Card.id, Card.path, Card.title, Card.category, Card.provider_name, Card.published_at, Card.date,
    Card.quality, Card.heat, Card.published, Card.topics, Card.lead_image, Card.dirty, Card.conflict,
    Card.missing, Card.problems, Card.related_count,
)  # fmt: skip
_ROWS_BY_ID = (
    f"SELECT {', '.join(c.column_name for c in _ROW_COLUMNS)} FROM card "
    "WHERE id IN (SELECT value FROM json_each(?))"
)
_VALUE_COLUMNS = {
    "category": Card.category, "categories": Card.category,
    "provider": Card.provider_name, "providers": Card.provider_name,
    "type": Card.type, "types": Card.type,
}  # fmt: skip


def _sqlite_name(path: Path) -> tuple[str, dict[str, Any]]:
    """What sqlite3.connect is given for ``path``: the path itself, or a ``file:`` URI for one that is not
    valid UTF-8 (sqlite3 takes only encodable text; the URI's percent escapes carry the raw bytes)."""
    text = str(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        import urllib.parse  # only for such a path

        return "file:" + urllib.parse.quote(os.fsencode(path)), {"uri": True}
    return text, {}


def _row(t: Sequence[Any]) -> CardRow:
    values = list(t)
    values[9] = None if values[9] is None else bool(values[9])
    values[10] = json.loads(values[10])
    values[12:15] = (bool(values[12]), bool(values[13]), bool(values[14]))
    return CardRow(*values)


class Store:
    """A library file: cards, edits, history. Create or open with ``Store(path)``; close when done.

    ``busy_timeout``: seconds each connection waits for another writer's lock before the call raises
    LibraryBusy (nothing changed). The GUI thread passes a fraction of a second so it never freezes.
    Every other failure of the file itself is a LibraryError (LibraryDiskError for a full or failing
    disk), never a raw sqlite3/peewee error: see :func:`library_error`.
    """

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT) -> None:
        if not busy_timeout >= 0:  # also refuses NaN
            raise ValueError(f"busy_timeout must be a number of seconds >= 0, not {busy_timeout!r}")
        self.path = Path(os.path.abspath(path))
        self.busy_timeout = float(busy_timeout)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._refuse_foreign()
        name, params = _sqlite_name(self.path)
        self.db = _LibraryDatabase(
            self.path, name, pragmas=_PRAGMAS, timeout=self.busy_timeout, autoconnect=True, **params
        )
        self._use()
        try:
            self.db.connect(reuse_if_open=True)
            self._open_schema()
        except LibraryError:
            self.close()
            raise
        except (sqlite3.DatabaseError, peewee.DatabaseError) as e:
            self.close()
            raise LibraryError(f"{self.path}: not a Curator library ({e})") from e

    # -- lifecycle ------------------------------------------------------------------------------------------
    def _refuse_foreign(self) -> None:
        """Refuse a file that is not a library before the pragmas (WAL mode) change a byte of it.

        A read-only look at the tables: not SQLite at all, or another program's SQLite file (tables, none of
        them Curator's), is a LibraryError and the file stays exactly as it was. A missing or empty file is
        a new library.
        """
        try:
            if self.path.stat().st_size == 0:
                return
        except OSError:
            return  # missing (a new library), or a problem the real open names
        import urllib.parse

        uri = "file:" + urllib.parse.quote(os.fsencode(self.path)) + "?mode=ro"
        try:
            conn = sqlite3.connect(uri, uri=True, timeout=self.busy_timeout)
        except sqlite3.Error:
            return  # cannot even be opened read-only: the real open says why
        try:
            names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        except sqlite3.Error as e:
            error = library_error(e, self.path)
            if error is not None and not isinstance(error, LibraryBusy):
                raise error from e
            return
        finally:
            conn.close()
        tables = {name for name in names if not name.startswith("sqlite_")}
        if tables and not tables & {"meta", "card"}:
            raise LibraryError(
                f"{self.path}: not a Curator library (an SQLite file with other tables: "
                f"{', '.join(sorted(tables)[:5])})"
            )

    def _use(self) -> None:
        """Point the module-global proxy at this library (see the module docstring)."""
        if schema.database_proxy.obj is not self.db:
            schema.database_proxy.initialize(self.db)

    def _open_schema(self) -> None:
        tables = {name for name in self.db.get_tables() if not name.startswith("sqlite_")}
        if "meta" in tables:
            version = self._recorded_version()
        elif "card" in tables:
            version = 0  # the prototype layout had no meta table
        elif tables:
            # Some other program's SQLite file: adding Curator's tables to it would spoil it.
            raise LibraryError(
                f"{self.path}: not a Curator library (an SQLite file with other tables: "
                f"{', '.join(sorted(tables)[:5])})"
            )
        else:
            with self.db.atomic():
                self.db.create_tables(schema.MODELS)
                schema.create_flag_indexes(self.db)
                self._set_version(schema.SCHEMA_VERSION)
            self.optimize()
            return
        if version > schema.SCHEMA_VERSION:
            raise LibraryError(
                f"{self.path}: library schema version {version} is newer than this Curator knows "
                f"({schema.SCHEMA_VERSION}); use a newer Curator"
            )
        if version < schema.SCHEMA_VERSION:
            # All steps in one transaction: a failed migration leaves the library as it was.
            try:
                with self.db.atomic("EXCLUSIVE"):
                    for step in range(version, schema.SCHEMA_VERSION):
                        schema.MIGRATIONS[step](self.db)
                    self._set_version(schema.SCHEMA_VERSION)
            except (sqlite3.DatabaseError, peewee.DatabaseError) as e:
                raise LibraryError(
                    f"{self.path}: could not migrate the library from schema version {version} "
                    f"(it is left as it was): {e}"
                ) from e
            self.optimize()
            tables = {name for name in self.db.get_tables() if not name.startswith("sqlite_")}
        missing = sorted({model._meta.table_name for model in schema.MODELS} - tables)
        if missing:
            # Every query would fail with "no such table" (a traceback in the middle of a command).
            raise LibraryError(
                f"{self.path}: the library is damaged: its schema version is {version} but it lacks the "
                f"table{'s' if len(missing) > 1 else ''} {', '.join(missing)}; import the cards into a new library"
            )

    def _recorded_version(self) -> int:
        """The schema version in ``meta`` (0 when none is recorded); LibraryError when it is not one."""
        row = self.db.execute_sql("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            return 0
        try:
            return schema.parse_version(row[0])
        except ValueError as e:
            raise LibraryError(f"{self.path}: the library is damaged: {e}") from e

    def _set_version(self, version: int) -> None:
        self.db.execute_sql(
            "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (str(version),),
        )

    def optimize(self) -> None:
        """Refresh the query planner's statistics (the importer calls it after big imports).

        A full ANALYZE (0.3 s at 100k cards): sampled statistics (``analysis_limit``) were cheaper but
        told the planner that ``published:false`` was selective, and that query went from 1 ms to 140 ms.
        The rare-flag partial indexes then get a fixed estimate of one row, whatever they hold right now:
        ANALYZE writes no statistics for an empty index, and without them SQLite guesses half the table
        and walks the date index through every card to find none (125 ms at 100k). The flags are rare by
        design, and when many cards are flagged the cost of trusting the small index is one sort of them.
        """
        self._use()
        # IMMEDIATE: ANALYZE reads before it writes, and a deferred transaction whose read snapshot another
        # writer overtook could not take the write lock at all (SQLITE_BUSY_SNAPSHOT, no waiting).
        with self.db.atomic("IMMEDIATE"):
            conn = self.db.connection()
            conn.execute("PRAGMA analysis_limit = 0")
            conn.execute("ANALYZE")
            names = [name for name, _ in schema.FLAG_INDEXES]
            conn.execute(f"DELETE FROM sqlite_stat1 WHERE idx IN ({', '.join('?' for _ in names)})", names)
            conn.executemany(
                "INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('card', ?, '1 1')", [(n,) for n in names]
            )
            conn.execute("ANALYZE sqlite_schema")  # load the edited statistics into the planner

    def analyzed_cards(self) -> int | None:
        """How many cards the planner's statistics were taken over (None: never analyzed)."""
        self._use()
        conn = self.db.connection()
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone():
            return None
        row = conn.execute("SELECT stat FROM sqlite_stat1 WHERE idx = 'card_path'").fetchone()
        return int(row[0].split()[0]) if row else 0  # no row: the table was empty then

    @property
    def schema_version(self) -> int:
        """The schema version recorded in the library."""
        self._use()
        return self._recorded_version()

    def connection(self) -> sqlite3.Connection:
        """This thread's raw sqlite3 connection (for executemany on hot paths)."""
        self._use()
        return self.db.connection()

    def close(self) -> None:
        """Close this thread's connection (other threads' connections close with their threads)."""
        if not self.db.is_closed():
            self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading --------------------------------------------------------------------------------------------
    def _where(self, query: str | None) -> Any:
        """The peewee condition for query text (None or blank: every card). Raises QueryError."""
        if query is None or not query.strip():
            return SQL("1")
        from curator.core import query as query_mod, search  # noqa: I001 (built beside the store)

        return search.where(query_mod.parse(query))

    def _order(self, sort: Sequence[tuple[str, bool]]) -> list[Any]:
        if not sort:
            return [Card.id]
        from curator.core import search

        return search.order_by(sort)

    def rows(
        self, query: str | None = None, *, sort: Sequence[tuple[str, bool]] = (), offset: int = 0,
        limit: int | None = None,
    ) -> list[CardRow]:  # fmt: skip
        """One page of the card list under ``query`` and ``sort`` (``(key, descending)`` pairs)."""
        self._use()
        q = Card.select(*_ROW_COLUMNS).where(self._where(query)).order_by(*self._order(sort))
        if limit is not None or offset:
            q = q.limit(-1 if limit is None else limit).offset(offset)
        return [_row(t) for t in q.tuples()]

    def count(self, query: str | None = None) -> int:
        """How many cards match ``query``."""
        self._use()
        return Card.select(fn.COUNT(Card.id)).where(self._where(query)).scalar() or 0

    def ids(self, query: str | None = None, *, sort: Sequence[tuple[str, bool]] = ()) -> list[int]:
        """The ids of the matching cards, in ``sort`` order (by id when unsorted)."""
        self._use()
        q = Card.select(Card.id).where(self._where(query)).order_by(*self._order(sort))
        return [t[0] for t in q.tuples()]

    def rows_by_id(self, ids: Sequence[int]) -> list[CardRow]:
        """Rows for the given ids, in the given order (unknown ids are left out)."""
        self._use()
        wanted = [int(i) for i in ids]
        # One statement whatever the count (the ids travel as one JSON parameter), read straight from
        # sqlite3: the CLI checks 10k --id values this way, and peewee's per-value conversions cost more.
        rows = self.db.connection().execute(_ROWS_BY_ID, (json.dumps(wanted),))
        found = {t[0]: _row(t) for t in rows}
        return [found[i] for i in wanted if i in found]

    def current_data(self, card_id: int) -> dict[str, Any] | None:
        """The card's current mapping: the file's mapping with pending edits laid over it."""
        self._use()
        row = self.db.execute_sql("SELECT doc FROM card_doc WHERE card_id = ?", (card_id,)).fetchone()
        if row is None:
            return None
        data = json.loads(row[0])
        for field, (_, value) in self.pending(card_id).items():
            if value is None:
                data.pop(field, None)
            else:
                data[field] = value
        return data

    def detail(self, card_id: int) -> CardDetail | None:
        """Everything about one card, or None when there is no such card."""
        rows = self.rows_by_id([card_id])
        if not rows:
            return None
        from curator.core import fields  # here: ftfy's tables cost every `curator list` ~40 ms at import

        data = self.current_data(card_id) or {}
        summary = fields.summarize(data)
        return CardDetail(
            **rows[0].__dict__,
            data=data,
            images=[dict(i) for i in summary.images],
            related=[dict(r) for r in summary.related],
            pending=self.pending(card_id),
        )

    def pending(self, card_id: int) -> dict[str, tuple[Any, Any]]:
        """field -> (value in the file, pending value); None stands for an absent key."""
        self._use()
        rows = self.db.execute_sql(
            "SELECT field, base, value FROM pending_edit WHERE card_id = ? ORDER BY field", (card_id,)
        )
        return {f: (json.loads(b), json.loads(v)) for f, b, v in rows}

    def facets(self, query: str | None = None, *, limit: int = 50) -> Facets:
        """Status counts and the top categories, topics and providers under ``query``."""
        self._use()
        where = self._where(query)
        status_q = Card.select(
            fn.COUNT(Card.id),
            fn.SUM(SQL("CASE WHEN published = 1 THEN 0 ELSE 1 END")),
            fn.SUM(SQL("published = 1")),
            fn.SUM(Card.dirty),
            fn.SUM(SQL("problems > 0")),
            fn.SUM(Card.conflict),
            fn.SUM(Card.missing),
        ).where(where)
        names = ("all", "unpublished", "published", "changed", "problems", "conflicts", "missing")
        status = dict(zip(names, (v or 0 for v in status_q.tuples().get()), strict=True))

        def top(column: Any) -> list[tuple[str, int]]:
            n = fn.COUNT(Card.id)
            q = (Card.select(column, n).where(where & column.is_null(False))
                 .group_by(column).order_by(n.desc(), column).limit(limit))  # fmt: skip
            return [(name, count) for name, count in q.tuples()]

        n = fn.COUNT(CardTopic.card)
        topics_q = (CardTopic.select(CardTopic.name, n).join(Card).where(where)
                    .group_by(CardTopic.name).order_by(n.desc(), CardTopic.name).limit(limit))  # fmt: skip
        return Facets(status, top(Card.category), [tuple(t) for t in topics_q.tuples()], top(Card.provider_name))

    def values(self, field: str) -> list[str]:
        """Distinct values of ``topics``, ``provider``, ``category`` or ``type`` (sorted, case-insensitive)."""
        self._use()
        if field in ("topic", "topics"):
            q = CardTopic.select(CardTopic.name).distinct().order_by(CardTopic.name)
        elif field in _VALUE_COLUMNS:
            col = _VALUE_COLUMNS[field]
            q = Card.select(col).where(col.is_null(False)).distinct().order_by(col)
        else:
            raise ValueError(f"no list of values for {field!r}; try topics, provider, category or type")
        return [t[0] for t in q.tuples()]

    def totals(self) -> Totals:
        """Whole-library counts."""
        self._use()
        row = self.db.execute_sql(
            "SELECT count(*), coalesce(sum(dirty), 0), coalesce(sum(conflict), 0), coalesce(sum(missing), 0), "
            "coalesce(sum(problems > 0), 0) FROM card"
        ).fetchone()
        return Totals(*row)

    def history(self, limit: int = 100) -> list[BatchInfo]:
        """The latest edit batches, newest first."""
        self._use()
        rows = self.db.execute_sql(
            "SELECT b.id, b.label, b.created, b.undone, "
            "(SELECT count(DISTINCT card_id) FROM journal_entry WHERE batch_id = b.id), "
            "(SELECT count(*) FROM journal_entry WHERE batch_id = b.id) "
            "FROM edit_batch b ORDER BY b.id DESC LIMIT ?",
            (limit,),
        )
        return [BatchInfo(i, label, created, bool(undone), c, e) for i, label, created, undone, c, e in rows]

    def batch_titles(self, batch_ids: Sequence[int]) -> dict[int, str]:
        """The title of the one card each batch changed, for the batches that changed exactly one card
        (the edit history names that card; a batch over many cards is shown with its count instead)."""
        self._use()
        found: dict[int, str] = {}
        ids = list(batch_ids)
        for start in range(0, len(ids), 500):  # within SQLite's bound-parameter limit
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self.db.execute_sql(
                "SELECT j.batch_id, c.title FROM journal_entry j JOIN card c ON c.id = j.card_id "
                f"WHERE j.batch_id IN ({marks}) GROUP BY j.batch_id HAVING count(DISTINCT j.card_id) = 1",
                chunk,
            )
            found.update((int(b), str(t)) for b, t in rows if t)
        return found

    def problems(self, query: str | None = None) -> list[ProblemRow]:
        """Every validation problem of the matching cards, by card id."""
        from curator.core import fields

        self._use()
        q = Card.select(Card.id, Card.path).where(self._where(query) & (Card.problems > 0)).order_by(Card.id)
        out = []
        for card_id, path in q.tuples():
            for p in fields.problems(self.current_data(card_id) or {}):
                out.append(ProblemRow(card_id, path, p.field, p.problem, p.fixable))
        return out

    # -- edits (curator.core.store_edits) -------------------------------------------------------------------
    def set_fields(self, ids: Iterable[int], changes: Mapping[str, Any], *, label: str) -> EditResult:
        """Set top-level fields on cards (None removes the key). Invalid value: ValueError, nothing changed."""
        from curator.core import store_edits

        self._use()
        return store_edits.set_fields(self, ids, changes, label=label)

    def add_topic(self, ids: Iterable[int], name: str, *, label: str) -> EditResult:
        """Append a topic to each card that lacks it (case-insensitive)."""
        from curator.core import store_edits

        self._use()
        return store_edits.change_topic(self, ids, name, add=True, label=label)

    def remove_topic(self, ids: Iterable[int], name: str, *, label: str) -> EditResult:
        """Remove a topic (case-insensitive) from each card that has it."""
        from curator.core import store_edits

        self._use()
        return store_edits.change_topic(self, ids, name, add=False, label=label)

    def set_related(self, card_id: int, items: list[dict[str, Any]], *, label: str) -> EditResult:
        """Replace one card's ``related`` list."""
        return self.set_fields([card_id], {"related": items}, label=label)

    def undo(self, batch_id: int) -> EditResult:
        """Put back the values a batch replaced."""
        from curator.core import store_edits

        self._use()
        return store_edits.replay(self, batch_id, undo=True)

    def redo(self, batch_id: int) -> EditResult:
        """Apply an undone batch again."""
        from curator.core import store_edits

        self._use()
        return store_edits.replay(self, batch_id, undo=False)

    def rebase(
        self, card_id: int, card: CardFile, keep: Mapping[str, Any] | None = None, *,
        label: str | None = None,
    ) -> EditResult:  # fmt: skip
        """Take a card's file as it is now as its new base; keep only the ``keep`` values as pending edits.

        How a conflict (the file changed on disk under pending edits) is resolved: ``card`` is the file
        read now (``cards.read_card``), ``keep`` the editor's values to stay pending over it (field ->
        value; None removes the key). In one transaction the card's fingerprint, mapping and rows (topics,
        images, related, full text, problems) become the file's, ``conflict`` and ``missing`` are cleared,
        the other pending edits are dropped, and the kept values form one undoable batch (undo leaves the
        file's values). Returns that batch (``batch_id`` None when nothing is kept) with ``changed ==
        [card_id]``. ValueError, nothing changed: unknown card, another path, no fingerprint, a value an
        editor may not set.
        """
        from curator.core import store_edits

        self._use()
        keep = dict(keep or {})
        if label is None:
            label = f"Resolve conflict: keep mine ({', '.join(keep)})" if keep else "Resolve conflict"
        return store_edits.rebase(self, card_id, card, keep, label=label)

    # -- files (curator.core.store_write) -------------------------------------------------------------------
    def write(
        self, ids: Iterable[int] | None = None, *, dry_run: bool = False,
        progress: Callable[[int, int], None] | None = None, cancel: Callable[[], bool] | None = None,
    ) -> WriteReport:  # fmt: skip
        """Write pending edits to their files (see store_write.write)."""
        from curator.core import store_write

        self._use()
        return store_write.write(self, ids, dry_run=dry_run, progress=progress, cancel=cancel)

    def now(self) -> float:
        """The clock edits and imports stamp rows with."""
        return time.time()
