"""The SQLite backend: one library file, WAL, one connection per thread, executemany on the bulk paths.

Connections: peewee keeps one per thread (WAL lets readers run beside the writer). The models of
``schema`` are bound to no database: every query built from them runs here with ``execute(self.db)``,
so two libraries can be used at once from two threads. Write transactions are ``BEGIN IMMEDIATE`` (the
write lock is taken at the start, so a transaction never fails half-way for want of it); the busy
timeout is each connection's wait for that lock, and a wait that runs out is LibraryBusy with nothing
changed. Every failure of the file itself comes out as a LibraryError (:func:`library_error`).

The hot paths (import batches, bulk edits, write-back's bookkeeping) use the raw sqlite3 connection's
executemany or one statement over a JSON array of ids (``json_each``): peewee's per-row conversions were
measured about ten times slower there.
"""

from __future__ import annotations

import functools
import json
import math
import os
import sqlite3
import threading
import urllib.parse
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import peewee
from peewee import fn
from playhouse.sqlite_ext import SqliteExtDatabase

from curator.core import schema
from curator.core.backend import sqlite_schema
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
from curator.core.backend.sqlite_checkpoint import DEFER_AT_ROWS, Checkpointer
from curator.core.schema import FIELD_COLUMNS, FILE_COLUMNS, Card, CardTopic
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

# SQLite's primary result codes (the low byte of an extended code) that say something about the file.
_SQLITE_READONLY, _SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_IOERR, _SQLITE_CORRUPT = 8, 5, 6, 10, 11
_SQLITE_FULL, _SQLITE_CANTOPEN, _SQLITE_NOTADB = 13, 14, 26
# Extended SQLITE_IOERR codes met while reading (SQLITE_IOERR_READ, _SHORT_READ, _FSTAT, _MMAP).
_IOERR_READING = frozenset({10 | 1 << 8, 10 | 2 << 8, 10 | 7 << 8, 10 | 24 << 8})
# ...and while writing (_WRITE, _FSYNC, _DIR_FSYNC, _TRUNCATE, _DELETE, _SHMSIZE: growing the WAL index).
_IOERR_WRITING = frozenset({10 | 3 << 8, 10 | 4 << 8, 10 | 5 << 8, 10 | 6 << 8, 10 | 10 << 8, 10 | 19 << 8})
# Free space below which an I/O error is taken for a full disk (a few pages: SQLite writes page by page).
_FULL_BELOW = 64 * 1024
#: Statement parameters per chunk where a list of ids is spelled out (SQLite's bound-parameter limit).
_CHUNK = 500
#: WAL pages between checkpoints while importing (64 MB instead of SQLite's 4 MB): fewer fsyncs, and the
#: index pages an import touches again and again are copied into the library once, not at every commit.
IMPORT_CHECKPOINT_PAGES = 16384
#: The tables whose secondary indexes a bulk import into an empty library builds after its load
#: (``SqliteBackend._defer_indexes``), and the indexes it keeps meanwhile: the path's, which keeps the paths
#: unique and the cards' ids found by path while the import runs.
DEFERRED_TABLES = ("card", "card_topic", "card_image", "related_item")
KEPT_INDEXES = ("card_path",)
#: The ``meta`` key naming the deferred indexes (a JSON list of [name, CREATE statement]) until they are built.
DEFERRED_INDEXES_META = "deferred_indexes"


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
    LibraryError about the file is (the CLI prints "cannot open the library PATH: reason"). Anything else
    (an SQL mistake in Curator itself) is not the library's state and returns None, so it stays the bug
    it is.
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
        return LibraryReadOnly(f"{path}: the library is read-only ({cause})")
    return None


def _translated(where: Any) -> Translated:
    """This backend's failures of the library re-raised as LibraryError (base.Translated)."""
    return Translated(library_error, where)


class _Atomic:
    """peewee's atomic block; the outermost one raises the library's failures as LibraryError.

    A failure at BEGIN, inside the block or at COMMIT comes out as its LibraryError after peewee rolled
    the transaction back (a failed BEGIN never started one), so a LibraryBusy or a full disk out of an
    edit, an import batch or a write's bookkeeping leaves the library as it was. Nested blocks
    (savepoints) leave errors as they are: code inside a transaction may still tell one statement's
    failure from the library's (``is_library_failure``; the importer retries card by card that way).
    """

    __slots__ = ("changes", "db", "inner", "outer", "path")

    def __init__(self, db: _LibraryDatabase, inner: Any) -> None:
        self.db = db
        self.inner = inner
        self.path = db.library
        self.outer = False
        self.changes = 0  # the connection's total_changes at BEGIN (when checkpoints are deferred)

    def __enter__(self) -> Any:
        self.outer = self.db.transaction_depth() == 0
        if self.outer and self.db.checkpointer is not None:
            self.changes = self.db.connection().total_changes
        return self.inner.__enter__()  # BEGIN runs through execute_sql, which translates it

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> bool:
        if not self.outer:
            return bool(self.inner.__exit__(kind, exc, tb))
        checkpointer = self.db.checkpointer
        deferred: int | None = None  # the connection's wal_autocheckpoint, turned off for this commit
        if checkpointer is not None and exc is None and checkpointer.running:
            conn = self.db.connection()
            if conn.total_changes - self.changes >= DEFER_AT_ROWS:  # see sqlite_checkpoint
                (deferred,) = conn.execute("PRAGMA wal_autocheckpoint").fetchone()
                conn.execute("PRAGMA wal_autocheckpoint = 0")
        try:
            with _translated(self.path):
                handled = self.inner.__exit__(kind, exc, tb)
        finally:
            if checkpointer is not None and deferred is not None:
                with suppress(sqlite3.Error):
                    self.db.connection().execute(f"PRAGMA wal_autocheckpoint = {int(deferred)}")
                checkpointer.ask()
        if exc is not None and not handled and not isinstance(exc, LibraryError):
            error = library_error(exc, self.path)
            if error is not None:
                raise error from exc
        return bool(handled)


class _LibraryDatabase(SqliteExtDatabase):
    """The library's peewee database: SQLite failures of the file itself come out as LibraryError.

    Every write runs in ``atomic`` and every peewee query through ``execute_sql``; the hot paths' raw
    ``conn.execute`` calls inside an atomic block are covered by the outermost block (inside a
    transaction errors stay raw until then). Raw reads outside one are translated by the backend's
    ``_read``.
    """

    def __init__(self, library: Path, database: str, **kwargs: Any) -> None:
        self.library = library
        #: Set by SqliteBackend.defer_checkpoints: the thread big commits leave their checkpoint to.
        self.checkpointer: Checkpointer | None = None
        super().__init__(database, **kwargs)

    def connect(self, reuse_if_open: bool = False) -> bool:
        with _translated(self.library):
            return bool(super().connect(reuse_if_open))

    def execute_sql(self, sql: str, params: Any = None, commit: Any = None) -> Any:
        if self.transaction_depth():  # inside a transaction: its outermost atomic block translates
            return super().execute_sql(sql, params)
        with _translated(self.library):
            return super().execute_sql(sql, params)

    def atomic(self, *args: Any, **kwargs: Any) -> Any:
        return _Atomic(self, super().atomic(*args, **kwargs))


_PRAGMAS = {
    "journal_mode": "wal",
    # NORMAL in WAL mode: a committed transaction survives a process crash; only an OS crash or power
    # loss can roll back the last few, which the files (the truth) make harmless.
    "synchronous": "normal",
    "foreign_keys": 1,
    "cache_size": -32_000,  # KiB: 32 MB page cache per connection (lean_reads: LEAN_CACHE_KIB)
    "mmap_size": 256 * 1024 * 1024,
    "temp_store": "memory",
}
_ROW_COLUMNS = (
    Card.id, Card.path, Card.title, Card.category, Card.provider_name, Card.published_at, Card.date,
    Card.quality, Card.heat, Card.published, Card.topics, Card.lead_image, Card.dirty, Card.conflict,
    Card.missing, Card.problems, Card.related_count,
)  # fmt: skip
_IN_IDS = "IN (SELECT value FROM json_each(?))"
_ROWS_BY_ID = f"SELECT {', '.join(c.column_name for c in _ROW_COLUMNS)} FROM card WHERE id {_IN_IDS}"
#: The card columns the facet counts read, selected once per query (``SqliteBackend.facets``).
_FACET_COLUMNS = (
    Card.id, Card.category, Card.provider_name, Card.published, Card.dirty, Card.problems, Card.conflict,
    Card.missing,
)  # fmt: skip
_FACET_NAMES = ", ".join(c.column_name for c in _FACET_COLUMNS)
_FACET_STATUS_NAMES = ("all", "unpublished", "published", "changed", "problems", "conflicts", "missing")
# Part 0 of the facet statement: the status counts (a card without `published` counts as unpublished).
_FACET_STATUS = (
    "SELECT 0, NULL, count(*), sum(published IS NOT 1), sum(published = 1), sum(dirty), sum(problems > 0), "
    "sum(conflict), sum(missing)"
)
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")  # SQLite's NOCASE
# Part 0 for the whole library: each count from an index (the flags' WHERE as their partial indexes').
_EVERY_STATUS = (
    "SELECT 0, NULL, (SELECT count(*) FROM card), "
    "(SELECT count(*) FROM card) - (SELECT count(*) FROM card WHERE published = 1), "
    "(SELECT count(*) FROM card WHERE published = 1), (SELECT count(*) FROM card WHERE dirty = 1), "
    "(SELECT count(*) FROM card WHERE problems > 0), (SELECT count(*) FROM card WHERE conflict = 1), "
    "(SELECT count(*) FROM card WHERE missing = 1)"
)


def _facet_top(part: int, column: str, source: str) -> str:
    """One UNION ALL part of the facet statement: the top names of a NOCASE column, LIMIT a parameter."""
    return (
        f" UNION ALL SELECT * FROM (SELECT {part}, {column}, count(*), 0, 0, 0, 0, 0, 0 FROM {source} "
        f"WHERE {column} IS NOT NULL GROUP BY {column} ORDER BY 3 DESC, 2 LIMIT ?)"
    )


#: Per thread: (connection, (data_version, total_changes), the whole library's facet counts) as last read
#: (``SqliteBackend._every_counts``).
_EVERY_COUNTS = threading.local()


#: A page of a full-text query's cards in id order, read off the index (``SqliteBackend.rows``).
_ROWS_OF_MATCH = (
    f"SELECT {', '.join('c.' + c.column_name for c in _ROW_COLUMNS)} FROM card_index "
    "JOIN card c ON c.id = card_index.rowid WHERE card_index MATCH ?"
)
#: Sort keys whose first column an index orders (``(key, id)`` indexes, or the rowid): a page sorted by
#: one of them can be found by walking that index (``sqlite_search.where(in_order=True)``).
_INDEXED_SORT_KEYS = frozenset({"date", "quality", "heat", "provider", "category", "id"})


def _id_order(sort: Sequence[tuple[str, bool]]) -> str | None:
    """"ASC"/"DESC" when ``sort`` is plain id order (none given is id order), else None."""
    sort = tuple(sort)
    if not sort:
        return "ASC"
    if sort[0][0] == "id":
        return "DESC" if sort[0][1] else "ASC"
    return None


def _walkable(sort: Sequence[tuple[str, bool]]) -> bool:
    """Whether an index gives ``sort``'s first key in order (else walking means scanning and sorting)."""
    return not sort or sort[0][0] in _INDEXED_SORT_KEYS


_VALUE_COLUMNS = {
    "category": Card.category, "categories": Card.category,
    "provider": Card.provider_name, "providers": Card.provider_name,
    "type": Card.type, "types": Card.type,
}  # fmt: skip
#: The card columns an edit may set: only these are ever spliced into a statement's text.
_EDITABLE_COLUMNS = frozenset(c for columns in FIELD_COLUMNS.values() for c in columns)
_FTS_COLUMNS = frozenset({"title", "excerpt", "provider", "topics", "related"})
def _stamp_ranges(roots: Sequence[str]) -> list[tuple[str, str, str]]:
    """Each root (once) as a rescan's reads look it up: (its own path, "root/", the first text after
    every "root/..."): the root itself if it is a file, and every path below it."""
    ranges = []
    for root in dict.fromkeys(roots):
        prefix = root.rstrip(os.sep) + os.sep
        ranges.append((root, prefix, prefix[:-1] + chr(ord(os.sep) + 1)))
    return ranges


_CHILD_TABLES: dict[str, tuple[str, str]] = {
    "topics": ("card_topic", "INSERT INTO card_topic (card_id, name, position) VALUES (?, ?, ?)"),
    "images": (
        "card_image",
        "INSERT INTO card_image (card_id, position, url, width, height, title) VALUES (?, ?, ?, ?, ?, ?)",
    ),
    "related": (
        "related_item",
        (
            "INSERT INTO related_item (card_id, position, title, source_url, provider_name, quality) "
            "VALUES (?, ?, ?, ?, ?, ?)"
        ),
    ),
}


def card_row(t: Sequence[Any]) -> CardRow:
    """A CardRow from the columns of ``_ROW_COLUMNS`` as SQLite returns them."""
    values = list(t)
    values[9] = None if values[9] is None else bool(values[9])
    values[10] = json.loads(values[10])
    values[12:15] = (bool(values[12]), bool(values[13]), bool(values[14]))
    return CardRow(*values)


def _sqlite_name(path: Path) -> tuple[str, dict[str, Any]]:
    """What sqlite3.connect is given for ``path``: the path itself, or a ``file:`` URI for one that is not
    valid UTF-8 (sqlite3 takes only encodable text; the URI's percent escapes carry the raw bytes)."""
    text = str(path)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "file:" + urllib.parse.quote(os.fsencode(path)), {"uri": True}
    return text, {}


def _json_path(key: str) -> str:
    """The SQLite JSON path of one top-level key (quoted: keys may hold dots and brackets)."""
    return '$."' + key.replace('"', '""') + '"'


def _ids_json(ids: Iterable[int]) -> str:
    """A JSON array of the card ids (for ``json_each``), each made a plain int first (True is not an id).

    A bulk edit names the same cards to several statements (its current values, pending rows, journal
    entries, columns): the last few arrays are kept (:func:`_ids_text`), so each is spelled once.
    """
    return _ids_text(ids if isinstance(ids, tuple) else tuple(ids))


#: The bytes of a JSON array of whole numbers: what orjson writes for ints alone (a bool is ``true``).
_INT_ARRAY_BYTES = b"0123456789,-[]"


@functools.lru_cache(maxsize=4)
def _ids_text(ids: tuple[int, ...]) -> str:
    # Spelled once per array: a hit costs the tuple and its hash alone (10k ids: ~0.1 ms). orjson spells
    # 100k ids in ~0.8 ms, where str() of each took ~24 ms (four arrays in a publish of every card);
    # anything else than plain ints in range (a bool, a float, an int past 64 bits) takes the slow path,
    # which makes each an int first. Equal keys spell alike: True == 1 and int(True) == 1.
    try:
        text = orjson.dumps(ids)
    except TypeError:  # orjson.JSONEncodeError: an int past 64 bits, or not a number at all
        text = b"?"
    if text.translate(None, _INT_ARRAY_BYTES):
        return "[" + ",".join(map(str, map(int, ids))) + "]"
    return text.decode()


#: The current value's JSON text of a field straight from its card column, where that column holds it
#: exactly whenever it is not NULL: summarize keeps only a bool (published) or an integer (quality, heat)
#: there, and such a value has one JSON spelling. Reading it spares parsing each card's whole stored
#: mapping (~5 us a card); a NULL column (the key absent, or a value of another type) falls back to it.
_COLUMN_JSON = {
    "published": "CASE c.published WHEN 1 THEN 'true' WHEN 0 THEN 'false' END",
    "quality": "CAST(c.quality AS TEXT)",
    "heat": "CAST(c.heat AS TEXT)",
}


#: The batches holding bulk journal entries after batch ``{after}`` (``sqlite_schema.EDIT_BATCH_BULK``'s
#: partial index, named: the planner's statistics of a library whose batches are mostly bulk would pick a
#: scan of every batch), as a CTE ``bulk(b)``.
_BULK_BATCHES = (
    "bulk(b) AS (SELECT id FROM edit_batch INDEXED BY edit_batch_bulk WHERE bulk = 1 AND id > {after})"
)
#: A journal entry's columns the lookups below read.
_ENTRY = "j.id, j.batch_id, j.card_id, j.field, j.new, j.editor, j.created"
#: The latest entry (of a batch not undone) of each field of the cards of the JSON array ?: SQLite's bare
#: columns of a max() aggregate come from the row holding the maximum. The cards' single entries are found
#: by card id, their bulk ones by (batch, card) in each bulk batch (CROSS JOIN: in that order).
_FIELD_CHANGES = (
    f"WITH {_BULK_BATCHES.format(after='0')}, wanted(id) AS (SELECT value FROM json_each(?)), "
    f"entries AS (SELECT {_ENTRY} FROM journal_entry j WHERE j.bulk = 0 "
    f"AND j.card_id IN (SELECT id FROM wanted) UNION ALL SELECT {_ENTRY} FROM bulk CROSS JOIN wanted "
    "CROSS JOIN journal_entry j "
    "WHERE j.batch_id = bulk.b AND j.bulk = 1 AND j.card_id = wanted.id) "
    "SELECT e.card_id, e.field, e.new, e.editor, e.created, max(e.id) FROM entries e "
    "JOIN edit_batch b ON b.id = e.batch_id WHERE b.undone = 0 GROUP BY e.card_id, e.field"
)
#: The entries of later batches not undone, by editors other than ?2, of the fields batch ?1 changed, oldest
#: first: single ones by card id, bulk ones by (batch, card) in each later bulk batch (none when batch ?1
#: is the latest, an undo's usual case).
_LATER_CHANGES = (
    f"WITH {_BULK_BATCHES.format(after='?1')}, "
    "mine AS (SELECT card_id, field FROM journal_entry WHERE batch_id = ?1), "
    f"later AS (SELECT {_ENTRY} FROM mine JOIN journal_entry j ON j.bulk = 0 AND j.card_id = mine.card_id "
    f"AND j.field = mine.field AND j.batch_id > ?1 UNION ALL SELECT {_ENTRY} FROM bulk CROSS JOIN mine "
    "CROSS JOIN journal_entry j WHERE j.batch_id = bulk.b AND j.bulk = 1 "
    "AND j.card_id = mine.card_id AND j.field = mine.field) "
    "SELECT l.card_id, l.field, l.editor, l.created FROM later l "
    "JOIN edit_batch b ON b.id = l.batch_id AND b.undone = 0 WHERE l.editor <> ?2 ORDER BY l.id"
)
#: The bulk journal entries of the cards of the JSON array ? (``delete_cards``).
_DELETE_BULK_ENTRIES = (
    f"WITH {_BULK_BATCHES.format(after='0')} DELETE FROM journal_entry WHERE id IN ("
    "SELECT j.id FROM bulk CROSS JOIN json_each(?) w CROSS JOIN journal_entry j "
    "WHERE j.batch_id = bulk.b AND j.bulk = 1 AND j.card_id = w.value)"
)

#: The page cache of a connection that reads lean (lean_reads: the desktop app's connections), in KiB.
LEAN_CACHE_KIB = -8_000

_INSERT_CARD = (
    f"INSERT INTO card (id, {', '.join(FILE_COLUMNS)}, dirty, conflict, missing) "
    f"VALUES (?, {', '.join('?' for _ in FILE_COLUMNS)}, 0, 0, 0)"
)
_UPDATE_CARD = (
    f"UPDATE card SET {', '.join(f'{c} = ?' for c in FILE_COLUMNS)}, conflict = 0, missing = 0, "
    "version = version + 1 WHERE id = ?"
)


class SqliteBackend:
    """One SQLite library file (see the module docstring). Opening creates or migrates it.

    ``busy_timeout``: seconds each connection waits for another writer's lock before LibraryBusy.
    """

    def __init__(self, path: str | os.PathLike[str], *, busy_timeout: float) -> None:
        self.path = Path(os.path.abspath(path))
        self.location = str(self.path)
        self.busy_timeout = float(busy_timeout)
        #: Set when opening migrated the library: the version it had, and where the copy of it went.
        self.migrated_from: int | None = None
        self.backup: Path | None = None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._refuse_foreign()
        name, params = _sqlite_name(self.path)
        self.db = _LibraryDatabase(
            self.path, name, pragmas=_PRAGMAS, timeout=self.busy_timeout, autoconnect=True, **params
        )
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

    def _open_schema(self) -> None:
        """Create a new library's tables, or check and migrate an existing one's (one transaction)."""
        tables = {name for name in self.db.get_tables() if not name.startswith("sqlite_")}
        if "meta" in tables:
            version = self.schema_version()
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
                sqlite_schema.create_all(self.db)
                self._set_version(schema.SCHEMA_VERSION)
            self.optimize()
            return
        if version > schema.SCHEMA_VERSION:
            raise LibraryError(
                f"{self.path}: library schema version {version} is newer than this Curator knows "
                f"({schema.SCHEMA_VERSION}); use a newer Curator"
            )
        if "meta" in tables and self.get_meta(DEFERRED_INDEXES_META) is not None:
            self._complete_deferred_indexes()  # before a migration, which expects this version's schema
        if version < schema.SCHEMA_VERSION:
            self._copy_aside(version)
            # All steps in one transaction: a failed migration leaves the library as it was.
            try:
                with self.db.atomic("EXCLUSIVE"):
                    for step in range(version, schema.SCHEMA_VERSION):
                        sqlite_schema.MIGRATIONS[step](self.db)
                    self._set_version(schema.SCHEMA_VERSION)
            except (sqlite3.DatabaseError, peewee.DatabaseError) as e:
                raise LibraryError(
                    f"{self.path}: could not migrate the library from schema version {version} "
                    f"(it is left as it was): {e}"
                ) from e
            self.migrated_from = version
            self.optimize()
            tables = {name for name in self.db.get_tables() if not name.startswith("sqlite_")}
        missing = sorted({model._meta.table_name for model in schema.MODELS} - tables)
        if missing:
            # Every query would fail with "no such table" (a traceback in the middle of a command).
            raise LibraryError(
                f"{self.path}: the library is damaged: its schema version is {version} but it lacks the "
                f"table{'s' if len(missing) > 1 else ''} {', '.join(missing)}; import the cards into a new "
                "library"
            )

    def backup_path(self, version: int) -> Path:
        """Where the library is copied before it is migrated from ``version``: ``NAME.vN-backup`` (an
        earlier copy of the same version is kept: ``NAME.vN-backup-2``, ``-3`` …)."""
        base = self.path.with_name(f"{self.path.name}.v{version}-backup")
        candidate, n = base, 1
        while candidate.exists():
            n += 1
            candidate = base.with_name(f"{base.name}-{n}")
        return candidate

    def _copy_aside(self, version: int) -> None:
        """Copy the library (WAL included, through SQLite's backup API) beside itself before a migration.

        A migration changes the file in a way the Curator that made it cannot read any more; the copy is
        what an editor goes back to with that Curator. Written to a temporary name and renamed, so a half
        copy never carries the backup's name; a copy that cannot be made stops the migration.
        """
        target = self.backup_path(version)
        partial = target.with_name(target.name + ".partial")
        try:
            dest = sqlite3.connect(_sqlite_name(partial)[0], **_sqlite_name(partial)[1])
            try:
                self._conn().backup(dest)
            finally:
                dest.close()
            os.replace(partial, target)
            self.backup = target
        except (OSError, sqlite3.Error) as e:
            if partial.is_file():
                partial.unlink()
            raise LibraryError(
                f"{self.path}: not migrated from schema version {version}: could not copy it aside to {target} "
                f"first ({e})"
            ) from e

    def schema_version(self) -> int:
        """The schema version in ``meta`` (0 when none is recorded); LibraryError when it is not one."""
        row = self.db.execute_sql("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            return 0
        try:
            return schema.parse_version(row[0])
        except ValueError as e:
            raise LibraryError(f"{self.path}: the library is damaged: {e}") from e

    def _set_version(self, version: int) -> None:
        self.set_meta("schema_version", str(version))

    def close(self) -> None:
        checkpointer = self.db.checkpointer
        if checkpointer is not None and checkpointer.owner is threading.current_thread():
            # The thread that asked for it closes (a worker's close ends only its own connection): after
            # the copy it is running, if any; SQLite's last close copies whatever is left.
            self.db.checkpointer = None
            checkpointer.stop()
        if not self.db.is_closed():
            self.db.close()

    def defer_checkpoints(self) -> None:
        if self.db.checkpointer is None:
            name, params = _sqlite_name(self.path)
            self.db.checkpointer = Checkpointer(name, params)

    def wait_for_checkpoint(self, timeout: float) -> bool:
        checkpointer = self.db.checkpointer
        return checkpointer is None or checkpointer.wait(timeout)

    # -- connections, transactions, failures ----------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        """This thread's raw sqlite3 connection (opened on first use)."""
        return self.db.connection()

    def transaction(self) -> Any:
        # IMMEDIATE: the write lock from the start. A deferred transaction whose read snapshot another
        # writer overtook could not take the lock at all (SQLITE_BUSY_SNAPSHOT, no waiting).
        return self.db.atomic("IMMEDIATE")

    def files_lock(self, lock: str, editor: str, excluding: Sequence[str]) -> AbstractContextManager[None]:
        return nullcontext()  # one machine: BEGIN IMMEDIATE and the busy timeout serialise the library

    def in_transaction(self) -> bool:
        return bool(self.db.transaction_depth()) or self._conn().in_transaction

    def set_busy_timeout(self, seconds: float) -> None:
        self._read(f"PRAGMA busy_timeout = {int(seconds * 1000)}")

    def busy_timeout_ms(self) -> int:
        """This thread's connection's busy timeout in milliseconds, as SQLite holds it."""
        return int(self._one("PRAGMA busy_timeout")[0])

    def lean_reads(self) -> None:
        """Read this thread's connection through the page cache instead of a memory map.

        SQLite's memory map (256 MB asked for) makes every page a scan touches count as the process's
        resident memory: at 100k cards a facet count or the status totals alone added ~190 MB to the
        window's RSS. Read through the OS page cache, the same pages cost the process nothing. The
        connection's own page cache is kept to 8 MB for the same reason (32 MB each on the window's and
        its workers' connections added up past its memory target; the OS cache keeps the pages warm).
        """
        self._read("PRAGMA mmap_size = 0")
        self._read(f"PRAGMA cache_size = {LEAN_CACHE_KIB}")

    def library_error(self, exc: BaseException) -> LibraryError | None:
        return library_error(exc, self.path)

    def is_library_failure(self, exc: BaseException) -> bool:
        """sqlite3's OperationalError (locked, disk full, I/O) is the file's, not one card's statement's."""
        return isinstance(exc, (sqlite3.OperationalError, peewee.OperationalError, LibraryError))

    def _read(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """A raw statement on this thread's connection; outside a transaction failures are translated."""
        conn = self._conn()
        if self.db.transaction_depth():
            return conn.execute(sql, params)
        with _translated(self.path):
            return conn.execute(sql, params)

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Any:
        conn = self._conn()
        if self.db.transaction_depth():
            return conn.execute(sql, params).fetchone()
        with _translated(self.path):
            return conn.execute(sql, params).fetchone()

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        conn = self._conn()
        if self.db.transaction_depth():
            return conn.execute(sql, params).fetchall()
        with _translated(self.path):
            return conn.execute(sql, params).fetchall()

    def _many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """executemany inside the caller's transaction (its outermost block translates failures)."""
        self._conn().executemany(sql, rows)

    # -- statistics, meta -----------------------------------------------------------------------------------
    def optimize(self) -> None:
        """Refresh the query planner's statistics (the importer calls it after big imports).

        A full ANALYZE (0.3 s at 100k cards): sampled statistics (``analysis_limit``) were cheaper but
        told the planner that ``published:false`` was selective, and that query went from 1 ms to 140 ms.
        The rare-flag partial indexes then get a fixed estimate of one row, whatever they hold right now:
        ANALYZE writes no statistics for an empty index, and without them SQLite guesses half the table
        and walks the date index through every card to find none (125 ms at 100k). The flags are rare by
        design, and when many cards are flagged the cost of trusting the small index is one sort of them.
        Indexes a bulk import deferred are built first (``_defer_indexes``), so that they have statistics:
        the importer's ANALYZE runs inside its bulk mode, before that mode's end would build them.
        """
        with self.transaction():
            self._build_deferred_indexes()
            conn = self._conn()
            conn.execute("PRAGMA analysis_limit = 0")
            conn.execute("ANALYZE")
            names = [name for name, _ in sqlite_schema.FLAG_INDEXES]
            conn.execute(f"DELETE FROM sqlite_stat1 WHERE idx IN ({', '.join('?' for _ in names)})", names)
            conn.executemany(
                "INSERT INTO sqlite_stat1 (tbl, idx, stat) VALUES ('card', ?, '1 1')", [(n,) for n in names]
            )
            conn.execute("ANALYZE sqlite_schema")  # load the edited statistics into the planner

    def analyzed_cards(self) -> int | None:
        if not self._one("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"):
            return None
        row = self._one("SELECT stat FROM sqlite_stat1 WHERE idx = 'card_path'")
        return int(row[0].split()[0]) if row else 0  # no row: the table was empty then

    def planner_statistics(self) -> dict[str, str]:
        """The planner's statistics of the card table's indexes (index name -> SQLite's stat text)."""
        if not self._one("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"):
            return {}
        return dict(self._all("SELECT idx, stat FROM sqlite_stat1 WHERE tbl = 'card'"))

    def get_meta(self, key: str) -> str | None:
        row = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return None if row is None else row[0]

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute_sql(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    # -- reading --------------------------------------------------------------------------------------------
    @staticmethod
    def _where(term: Term | None, *, in_order: bool = False) -> Any:
        from curator.core.backend import sqlite_search  # here: only queries need the compiler

        return sqlite_search.where(term, in_order=in_order)

    @staticmethod
    def _order(sort: Sequence[tuple[str, bool]]) -> list[Any]:
        if not sort:
            return [Card.id]
        from curator.core.backend import sqlite_search

        return sqlite_search.order_by(sort)

    def rows(
        self, term: Term | None, sort: Sequence[tuple[str, bool]], offset: int, limit: int | None
    ) -> list[CardRow]:
        if limit is not None and (by_id := _id_order(sort)) is not None:
            from curator.core.backend import sqlite_search

            if (fts := sqlite_search.fulltext_only(term)) is not None:
                # Full text alone in id order: FTS5 yields its matches by rowid, so the page is read
                # straight off the index and stops at the LIMIT (no match list built, nothing sorted).
                page = f"{_ROWS_OF_MATCH} ORDER BY card_index.rowid {by_id} LIMIT ? OFFSET ?"
                return [card_row(t) for t in self._all(page, (fts, limit, offset))]
        in_order = (
            limit is not None and _walkable(sort) and self._common_match(term, offset + limit)
        )
        where = self._where(term, in_order=in_order)
        q = Card.select(*_ROW_COLUMNS).where(where).order_by(*self._order(sort))
        if limit is not None or offset:
            q = q.limit(-1 if limit is None else limit).offset(offset)
        # Run on the raw connection: peewee's per-row conversions cost ~5 ms a page of 200.
        sql, params = self.db.get_sql_context().parse(q)
        return [card_row(t) for t in self._all(sql, params)]

    def _common_match(self, term: Term | None, window: int) -> bool:
        """Whether a page ending at ``window`` is cheaper found by walking the sort order (sqlite_search's
        ``in_order``): when the term's full text matches at least sqrt(window x cards) cards.

        Walking costs about window x cards / matches index steps, sorting every match costs about
        matches: they break even near matches = sqrt(window x cards) (4,500 for a page of 200 at 100k).
        Counting that far stops early, so a common word's check costs ~1 ms however many it matches.
        """
        from curator.core.backend import sqlite_search

        fts = sqlite_search.leading_match(term)
        if fts is None:
            return False
        cards = self._one("SELECT max(id) FROM card")[0] or 0  # an upper bound, read from the index's end
        enough = max(window, math.isqrt(window * cards))
        found = self._one("SELECT count(*) FROM (SELECT 1 FROM card_index WHERE card_index MATCH ? LIMIT ?)",
                          (fts, enough))[0]  # fmt: skip
        return bool(found >= enough)

    def count(self, term: Term | None) -> int:
        from curator.core.backend import sqlite_search

        if (fts := sqlite_search.fulltext_only(term)) is not None:
            # Full text alone: its cards are the index rows it matches (one per card, same rowid).
            return int(self._one("SELECT count(*) FROM card_index WHERE card_index MATCH ?", (fts,))[0])
        return Card.select(fn.COUNT(Card.id)).where(self._where(term)).scalar(self.db) or 0

    def ids(self, term: Term | None, sort: Sequence[tuple[str, bool]]) -> list[int]:
        # Built by peewee, read straight from sqlite3: peewee's row-by-row iteration cost ~4 us a row (0.4 s
        # for the 100k ids of the window's Select All, a tenth of it this way).
        q = Card.select(Card.id).where(self._where(term)).order_by(*self._order(sort))
        sql, params = self.db.get_sql_context().parse(q)
        return [row[0] for row in self._all(sql, params)]

    def query_plan(self, term: Term | None, sort: Sequence[tuple[str, bool]], limit: int = 200) -> str:
        """SQLite's plan for a page of ``ids`` under a query (EXPLAIN QUERY PLAN details, " / "-joined)."""
        q = Card.select(Card.id).where(self._where(term)).order_by(*self._order(sort)).limit(limit)
        sql, params = self.db.get_sql_context().parse(q)
        return " / ".join(r[3] for r in self._all("EXPLAIN QUERY PLAN " + sql, params))

    def rows_by_id(self, ids: Sequence[int]) -> list[CardRow]:
        # One statement whatever the count (the ids travel as one JSON parameter), read straight from
        # sqlite3: the CLI checks 10k --id values this way, and peewee's per-value conversions cost more.
        return [card_row(t) for t in self._all(_ROWS_BY_ID, (_ids_json(ids),))]

    def facets(self, term: Term | None, limit: int) -> Facets:
        """Status counts and the top categories, providers and topics under ``term``.

        The query's cards are selected once (a MATERIALIZED CTE of the few columns the counts read) and
        every count is a pass over that small table, all in one statement: four statements each re-running
        the query cost ~0.4-0.6 s at 100k cards for a common word, most of it looking the same 94k matches
        up four times. A query that matches most of the library (its full text alone finds more than half
        the cards) is counted the other way round: the whole library's counts, read off indexes, minus the
        counts of the few cards it does not match. The whole library's counts are read again only when the
        library changed since this connection last read them (``_every_counts``).
        """
        if term is None:
            status, tops = self._every_counts()
        elif self._mostly_matched(term):
            status, tops = self._facet_complement(term)
        else:
            status, tops = self._facet_counts(self._where(term), limit)
        for rows in tops.values():  # as each part's ORDER BY (NOCASE names), whatever order UNION ALL keeps
            rows.sort(key=lambda row: (-row[1], row[0].translate(_ASCII_LOWER)))
            del rows[limit:]
        return Facets(status, tops[1], tops[3], tops[2])

    def _facet_counts(
        self, where: Any | None, limit: int | None
    ) -> tuple[dict[str, int], dict[int, list[tuple[str, int]]]]:
        """The facet statement over the cards ``where`` selects (every card for None): status counts and
        the top ``limit`` names of each facet part (every name for None), unsorted."""
        if where is None:  # the whole library: each count read off an index (the flags' partial ones)
            sql, params, cards, topics_from = _EVERY_STATUS, [], "card", "card_topic t"
        else:
            inner = Card.select(*_FACET_COLUMNS).where(where)
            sql, where_params = self.db.get_sql_context().parse(inner)
            sql = f"WITH m({_FACET_NAMES}) AS MATERIALIZED ({sql}) {_FACET_STATUS} FROM m"
            params, cards, topics_from = list(where_params), "m", "card_topic t JOIN m ON m.id = t.card_id"
        sql += (
            f"{_facet_top(1, 'category', cards)}{_facet_top(2, 'provider_name', cards)}"
            f"{_facet_top(3, 't.name', topics_from)}"
        )
        top = -1 if limit is None else limit  # SQLite: LIMIT -1 is no limit
        tops: dict[int, list[tuple[str, int]]] = {1: [], 2: [], 3: []}
        status: dict[str, int] = {}
        for part, name, *counts in self._all(sql, [*params, top, top, top]):
            if part == 0:
                status = dict(zip(_FACET_STATUS_NAMES, (int(v or 0) for v in counts), strict=True))
            else:
                tops[part].append((name, int(counts[0])))
        return status, tops

    def _every_counts(self) -> tuple[dict[str, int], dict[int, list[tuple[str, int]]]]:
        """The whole library's status counts and every name of each facet part (unsorted, a fresh copy),
        read again only when the library changed since this thread's connection last read them.

        Why: the sidebar of the whole library shows them, and a query matching most cards is counted as
        them minus the few cards it does not match; they are the same numbers from one change to the next
        (at 100k cards ~30-50 ms of the ~150-200 ms of a common word's facets). The key says when they may
        have changed: ``PRAGMA data_version`` moves when any other connection, of this process or another,
        committed, and the connection's ``total_changes`` when it wrote itself (SQLite's data_version leaves
        a connection's own commits out); counts read inside a transaction are not kept. The connection itself
        is held with them, compared by identity, so a connection closed and another opened on the thread
        never reads the old one's counts.
        """
        held = self._held_every_counts()
        if held is None:
            conn = self._conn()
            key = self._facet_key(conn)  # read before the counts: a commit in between makes them stale
            held = self._facet_counts(None, None)
            # Inside a transaction they may hold its writes, which a rollback takes back unseen by the key.
            _EVERY_COUNTS.held = None if self.in_transaction() else (conn, key, held)
        status, tops = held
        return dict(status), {part: list(rows) for part, rows in tops.items()}

    def _held_every_counts(self) -> tuple[dict[str, int], dict[int, list[tuple[str, int]]]] | None:
        """The whole library's counts this thread's connection read last, when the library has not changed
        since (see ``_every_counts``); else None. The caller copies before changing them."""
        held = getattr(_EVERY_COUNTS, "held", None)
        if held is None:
            return None
        conn = self._conn()
        if held[0] is not conn or held[1] != self._facet_key(conn):
            return None
        return held[2]  # type: ignore[no-any-return]

    def _facet_key(self, conn: sqlite3.Connection) -> tuple[int, int]:
        """What changes when the library may have: other connections' commits, and this one's writes."""
        return int(self._one("PRAGMA data_version")[0]), conn.total_changes

    def _mostly_matched(self, term: Term) -> bool:
        """Whether ``term``'s full text alone matches more than half the cards (a count that stops there)."""
        from curator.core.backend import sqlite_search

        fts = sqlite_search.leading_match(term)
        if fts is None:
            return False
        held = self._held_every_counts()
        # The kept counts know how many cards there are: a count over an index is ~3-5 ms at 100k.
        cards = held[0]["all"] if held is not None else self._one("SELECT count(*) FROM card")[0] or 0
        half = cards // 2 + 1
        found = self._one("SELECT count(*) FROM (SELECT 1 FROM card_index WHERE card_index MATCH ? LIMIT ?)",
                          (fts, half))[0]  # fmt: skip
        return bool(found >= half)

    def _facet_complement(self, term: Term) -> tuple[dict[str, int], dict[int, list[tuple[str, int]]]]:
        """Facet counts of a query matching most cards: every card's counts minus those of the cards it does
        not match (each name of the whole library's spelling; names left with no card dropped)."""
        every_status, every = self._every_counts()
        # The cards the term does not match (NULL is "does not match"); matches tested card by card.
        rest_where = ~fn.coalesce(self._where(term, in_order=True), 0)
        rest_status, rest = self._facet_counts(rest_where, None)
        status = {key: every_status[key] - rest_status[key] for key in _FACET_STATUS_NAMES}
        tops: dict[int, list[tuple[str, int]]] = {}
        for part, names in every.items():
            left = {name.translate(_ASCII_LOWER): count for name, count in rest[part]}
            tops[part] = [
                (name, count - left.get(name.translate(_ASCII_LOWER), 0))
                for name, count in names
                if count > left.get(name.translate(_ASCII_LOWER), 0)
            ]
        return status, tops

    def values(self, field: str) -> list[str]:
        if field in ("topic", "topics"):
            q = CardTopic.select(CardTopic.name).distinct().order_by(CardTopic.name)
        elif field in _VALUE_COLUMNS:
            col = _VALUE_COLUMNS[field]
            q = Card.select(col).where(col.is_null(False)).distinct().order_by(col)
        else:
            raise ValueError(f"no list of values for {field!r}; try topics, provider, category or type")
        return [t[0] for t in q.tuples().execute(self.db)]

    def totals(self) -> Totals:
        # One count per flag, each over its partial index (FLAG_INDEXES), and the cards counted over the
        # narrowest index: the status bar asks after every edit, and summing the flags over every card row
        # read the whole card table (~45 ms at 100k cards, 105 MB) where these read the flagged cards alone.
        row = self._one(
            "SELECT (SELECT count(*) FROM card), (SELECT count(*) FROM card WHERE dirty = 1), "
            "(SELECT count(*) FROM card WHERE conflict = 1), (SELECT count(*) FROM card WHERE missing = 1), "
            "(SELECT count(*) FROM card WHERE problems > 0)"
        )
        return Totals(*row)

    def problem_cards(self, term: Term | None) -> list[tuple[int, str]]:
        q = Card.select(Card.id, Card.path).where(self._where(term) & (Card.problems > 0)).order_by(Card.id)
        return [(card_id, path) for card_id, path in q.tuples().execute(self.db)]

    def doc(self, card_id: int) -> str | None:
        row = self._one("SELECT doc FROM card_doc WHERE card_id = ?", (card_id,))
        return None if row is None else row[0]

    def card_doc(self, card_id: int) -> tuple[str, str] | None:
        row = self._one(
            "SELECT c.path, d.doc FROM card c JOIN card_doc d ON d.card_id = c.id WHERE c.id = ?", (card_id,)
        )
        return None if row is None else (row[0], row[1])

    def pending_rows(self, card_id: int) -> list[tuple[str, str, str]]:
        return self._all(
            "SELECT field, base, value FROM pending_edit WHERE card_id = ? ORDER BY field", (card_id,)
        )

    def history(self, limit: int) -> list[BatchInfo]:
        rows = self._all(
            "SELECT b.id, b.label, b.created, b.undone, "
            "(SELECT count(DISTINCT card_id) FROM journal_entry WHERE batch_id = b.id), "
            "(SELECT count(*) FROM journal_entry WHERE batch_id = b.id), b.editor "
            "FROM edit_batch b ORDER BY b.id DESC LIMIT ?",
            (limit,),
        )
        return [BatchInfo(i, label, created, bool(undone), c, e, who) for i, label, created, undone, c, e, who in rows]

    def batch_titles(self, batch_ids: Sequence[int]) -> dict[int, str]:
        rows = self._all(
            "SELECT j.batch_id, c.title FROM journal_entry j JOIN card c ON c.id = j.card_id "
            f"WHERE j.batch_id {_IN_IDS} GROUP BY j.batch_id HAVING count(DISTINCT j.card_id) = 1",
            (_ids_json(batch_ids),),
        )
        return {int(b): str(t) for b, t in rows if t}

    def card_paths(self) -> list[str]:
        return [row[0] for row in self._read("SELECT path FROM card")]

    def card_folders(self) -> list[str]:
        # rtrim(path, <path without its separators>) strips the file name: the folder is found in SQLite,
        # without building 100k Python strings (and without holding the GIL while it scans).
        rows = self._read("SELECT DISTINCT rtrim(path, replace(path, ?, '')) FROM card", (os.sep,))
        return [folder for (folder,) in rows if folder]

    def card_id_at(self, path: str) -> int | None:
        row = self._one("SELECT id FROM card WHERE path = ?", (path,))
        return None if row is None else int(row[0])

    def flagged_cards(self, ids: Sequence[int]) -> list[FlaggedCard]:
        rows = self._all(
            f"SELECT id, path, title, problems, conflict, missing FROM card WHERE id {_IN_IDS} "
            "AND (problems > 0 OR conflict = 1 OR missing = 1)",
            (_ids_json(ids),),
        )
        return [FlaggedCard(i, p, t, n, bool(c), bool(m)) for i, p, t, n, c, m in rows]

    def card_labels(self, ids: Sequence[int]) -> list[CardLabel]:
        rows = self._all(
            "SELECT id, path, title, provider_name, published_at, date, quality, published FROM card "
            f"WHERE id {_IN_IDS}",
            (_ids_json(ids),),
        )
        return [CardLabel(i, path, title, provider, at, date, quality, None if pub is None else bool(pub))
                for i, path, title, provider, at, date, quality, pub in rows]  # fmt: skip

    def card_with_url(self, url: str) -> int | None:
        row = self._one(
            "SELECT id FROM card WHERE source_url = ?1 OR amp_url = ?1 OR cdn_amp_url = ?1 ORDER BY id LIMIT 1",
            (url,),
        )
        return None if row is None else int(row[0])

    def card_urls_like(self, patterns: Sequence[str], limit: int) -> list[tuple[int, str]]:
        ors = " OR ".join("source_url LIKE ?" for _ in patterns) or "0"
        return self._all(f"SELECT id, source_url FROM card WHERE {ors} ORDER BY date DESC LIMIT ?",
                         (*patterns, limit))  # fmt: skip

    def related_titles_like(self, patterns: Sequence[str], limit: int) -> list[tuple[str, str]]:
        ors = " OR ".join("source_url LIKE ?" for _ in patterns) or "0"
        return self._all(
            f"SELECT title, source_url FROM related_item WHERE ({ors}) AND title IS NOT NULL AND title != '' "
            "LIMIT ?",
            (*patterns, limit),
        )

    def provider_name_for(self, domains: Sequence[str], patterns: Sequence[str]) -> str | None:
        most = "AND provider_name IS NOT NULL AND provider_name != '' GROUP BY provider_name ORDER BY n DESC LIMIT 1"
        marks = ", ".join("?" for _ in domains) or "NULL"
        row = self._one(f"SELECT provider_name, count(*) AS n FROM card WHERE provider_domain IN ({marks}) {most}",
                        tuple(domains))  # fmt: skip
        if row:
            return str(row[0])
        ors = " OR ".join("source_url LIKE ?" for _ in patterns) or "0"
        row = self._one(f"SELECT provider_name, count(*) AS n FROM related_item WHERE ({ors}) {most}",
                        tuple(patterns))  # fmt: skip
        return str(row[0]) if row else None

    def card_columns(self, card_id: int, columns: Sequence[str]) -> tuple[Any, ...] | None:
        """Raw card-row columns of one card (fingerprints, flags): for checks of what an operation stored."""
        known = {f.column_name for f in Card._meta.sorted_fields}
        unknown = [c for c in columns if c not in known]
        if unknown:
            raise ValueError(f"no card column {unknown[0]!r}")
        row = self._one(f"SELECT {', '.join(columns)} FROM card WHERE id = ?", (card_id,))
        return None if row is None else tuple(row)

    def child_rows(self, kind: ChildKind, card_id: int) -> list[tuple[Any, ...]]:
        """A card's stored child rows (without the card id), by position."""
        table = _CHILD_TABLES[kind][0]
        return [tuple(r[1:]) for r in self._all(f"SELECT * FROM {table} WHERE card_id = ? ORDER BY position",
                                                (card_id,))]  # fmt: skip

    def fulltext_row(self, card_id: int) -> tuple[str, ...] | None:
        """A card's full-text row (title, excerpt, provider, topics, related titles) as indexed."""
        row = self._one("SELECT title, excerpt, provider, topics, related FROM card_index WHERE rowid = ?",
                        (card_id,))  # fmt: skip
        return None if row is None else tuple(row)

    def pending_authors(self, card_id: int) -> list[tuple[str, str, float]]:
        """(field, editor, time) of a card's pending edits, by field: for checks of who made them."""
        return [(f, e, float(t)) for f, e, t in self._all(
            "SELECT field, editor, changed FROM pending_edit WHERE card_id = ? ORDER BY field", (card_id,)
        )]  # fmt: skip

    def batch_rows(self) -> list[tuple[int, str, bool]]:
        """(id, editor, undone) of every edit batch, by id: for checks of who made what."""
        return [(int(i), e, bool(u)) for i, e, u in self._all("SELECT id, editor, undone FROM edit_batch ORDER BY id")]

    def journal_rows(self) -> list[tuple[int, int, str, str, str]]:
        """Every journal entry (batch, card, field, old, new), in order: for checks of the history."""
        return self._all("SELECT batch_id, card_id, field, old, new FROM journal_entry ORDER BY id")

    def invalid_json(self) -> int:
        """Stored JSON texts SQLite's own JSON functions refuse (mappings, journal, pending): should be 0."""
        return int(self._one(
            "SELECT (SELECT count(*) FROM card_doc WHERE NOT json_valid(doc)) + "
            "(SELECT count(*) FROM journal_entry WHERE NOT json_valid(old) OR NOT json_valid(new)) + "
            "(SELECT count(*) FROM pending_edit WHERE NOT json_valid(base) OR NOT json_valid(value))"
        )[0])  # fmt: skip

    def integrity_check(self) -> str:
        """SQLite's own check of the file ("ok" when sound)."""
        return str(self._one("PRAGMA integrity_check")[0])

    # -- edits ----------------------------------------------------------------------------------------------
    def current(self, field: str, ids: Iterable[int]) -> Runs:
        """(id, file value, current value) of one field for the known cards among ``ids``, as runs of the
        cards sharing their two values (edit_runs.Runs; each run in id order, the runs in value order).

        Grouped by SQLite (one row a distinct pair, its cards a JSON array): a bulk edit's 10k cards hold
        a few such pairs, and apply_values decides each pair once, so the cards are never rows in Python.
        """
        wanted = ids if isinstance(ids, dict) else dict.fromkeys(ids)
        params = (_json_path(field), field, _ids_json(wanted), f'"{field}"')
        # The key's JSON spelling ("published") is in the text of every mapping that has the key: a card
        # whose mapping lacks the text lacks the key, and its value is null without parsing its JSON (~5 us
        # a 2.6 kB mapping; a text search ~0.2 us). Only for a key spelled alike however its mapping was
        # encoded (ASCII letters, digits, _: never escaped); any other key is read from the JSON.
        if field.isascii() and field.isidentifier():
            value = "CASE WHEN instr({doc}, ?4) THEN {doc} -> ?1 END"
        else:
            value = "({doc} -> ?1)"
        column = _COLUMN_JSON.get(field)
        if column is None:  # the value is in the mapping alone, read with its card row
            own = value.format(doc="c.doc")
            pairs = (
                f"SELECT c.card_id AS id, coalesce({own}, 'null') AS base, "
                f"coalesce(p.value, {own}, 'null') AS cur "
                "FROM card_doc c LEFT JOIN pending_edit p ON p.card_id = c.card_id AND p.field = ?2 "
                f"WHERE c.card_id {_IN_IDS.replace('?', '?3')}"
            )
            grouped = f"SELECT base, cur, json_group_array(id) FROM ({pairs} ORDER BY id) GROUP BY base, cur"
            rows = self._all(grouped, params)
            return Runs(((base, cur), sorted(json.loads(cards))) for base, cur, cards in rows)
        # A column field's file value is computed once, in one place of the statement: SQLite evaluates an
        # expression written twice (the file value and, without a pending edit, the current one) twice,
        # and for a card whose column cannot say its value that is a read of its mapping each time (at
        # 100k cards, published to all: ~10k mappings read twice). So the statement groups by (pending
        # base, pending value, file value) and the pairs are made here: a card without a pending edit has
        # its file value as both. coalesce stops at its first non-NULL argument: the mapping is read (and
        # searched for the key) only where the column is NULL (a join would read every card's mapping
        # row: twice the time; every card has one, inserted with it). Without a pending edit the file's
        # value is the current one, which the column holds; with one, the column holds the pending value
        # and the file's is the pending row's base, so the mapping is not read at all. Nor is it where the
        # card has no problem: the column is NULL only for an absent key or a value it cannot hold (another
        # type, a null, a number out of range), and every such value is a problem of its field
        # (fields.problems), which ``problems`` counts over the current mapping; without a pending edit of
        # this field its current value is the file's, so no problem means no key (at 100k cards, the 9.8k
        # without a published key: ~50 ms of mapping reads).
        mapping = f"(SELECT {value.format(doc='doc')} FROM card_doc WHERE card_id = c.id)"
        groups = (
            f"SELECT p.base, p.value, CASE WHEN p.card_id IS NULL THEN coalesce({column}, "
            f"CASE WHEN c.problems > 0 THEN {mapping} END, 'null') END, json_group_array(c.id) "
            "FROM card c LEFT JOIN pending_edit p ON p.card_id = c.id AND p.field = ?2 "
            f"WHERE c.id {_IN_IDS.replace('?', '?3')} GROUP BY 1, 2, 3"
        )
        rows = [(own, own, cards) if base is None else (base, cur, cards)
                for base, cur, own, cards in self._all(groups, params)]  # fmt: skip
        if len(rows) == 1:  # a bulk edit's usual case: nothing to merge
            ((base, cur, cards),) = rows
            return Runs([((base, cur), sorted(json.loads(cards)))])
        runs: dict[tuple[str, str], list[int]] = {}
        for base, cur, cards in rows:
            runs.setdefault((base, cur), []).extend(json.loads(cards))
        return Runs((pair, sorted(runs[pair])) for pair in sorted(runs))

    def file_value(self, card_id: int, key: str) -> str | None:
        row = self._one("SELECT doc -> ? FROM card_doc WHERE card_id = ?", (_json_path(key), card_id))
        return None if row is None else row[0]

    def set_pending(
        self, rows: Sequence[tuple[int, str, str, str]], *, editor: str = "", changed: float = 0.0
    ) -> None:
        upsert = (
            "ON CONFLICT(card_id, field) DO UPDATE SET value = excluded.value, editor = excluded.editor, "
            "changed = excluded.changed"
        )
        self._in_runs(
            rows,
            "INSERT INTO pending_edit (card_id, field, base, value, editor, changed) "
            f"VALUES (?, ?, ?, ?, ?, ?) {upsert}",
            # WHERE true: an upsert's SELECT needs one, else SQLite reads ON CONFLICT as a join's ON.
            "INSERT INTO pending_edit (card_id, field, base, value, editor, changed) "
            f"SELECT value, ?, ?, ?, ?, ? FROM json_each(?) WHERE true {upsert}",
            (editor, changed),
        )

    def _in_runs(
        self, rows: Sequence[tuple[Any, ...]], each: str, shared: str, extra: tuple[Any, ...] = ()
    ) -> bool:
        """Insert ``rows`` (card id first) in their order: a long run of rows equal but for the card id (a
        bulk edit's) by ``shared`` (its shared values, ``extra``, then the ids' JSON), the others by
        executemany of ``each`` (the row then ``extra``). In order, the rows get the ids row-by-row inserts
        gave them. True when a run went by ``shared``."""
        conn = self._conn()
        singles: list[tuple[Any, ...]] = []
        runs = False
        for values, ids in id_runs(rows):
            if len(ids) < RUN_AT_LEAST:
                singles.extend((cid, *values, *extra) for cid in ids)
                continue
            if singles:
                conn.executemany(each, singles)
                singles = []
            conn.execute(shared, (*values, *extra, _ids_json(ids)))
            runs = True
        if singles:
            conn.executemany(each, singles)
        return runs

    def drop_pending(self, pairs: Sequence[tuple[int, str]]) -> None:
        by_field: dict[str, list[int]] = {}
        for cid, field in pairs:
            by_field.setdefault(field, []).append(cid)
        for field, ids in by_field.items():
            self._conn().execute(f"DELETE FROM pending_edit WHERE field = ? AND card_id {_IN_IDS}",
                                 (field, _ids_json(ids)))  # fmt: skip

    def update_columns(self, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        bad = [c for c in columns if c not in _EDITABLE_COLUMNS]
        if bad:
            raise ValueError(f"not a card column an edit sets: {bad[0]!r}")
        if rows:
            sets = ", ".join(f"{c} = ?" for c in columns)
            self._many(f"UPDATE card SET {sets}, version = version + 1 WHERE id = ?", rows)

    def set_columns(self, columns: Sequence[str], values: Sequence[Any], ids: Sequence[int], *, dirty: bool) -> None:
        bad = [c for c in columns if c not in _EDITABLE_COLUMNS]
        if bad:
            raise ValueError(f"not a card column an edit sets: {bad[0]!r}")
        if ids:
            sets = ", ".join([*(f"{c} = ?" for c in columns), *(["dirty = 1"] if dirty else []),
                              "version = version + 1"])  # fmt: skip
            self._conn().execute(f"UPDATE card SET {sets} WHERE id {_IN_IDS}", (*values, _ids_json(ids)))

    def touch_versions(self, ids: Sequence[int]) -> None:
        if ids:
            self._conn().execute(f"UPDATE card SET version = version + 1 WHERE id {_IN_IDS}", (_ids_json(ids),))

    def versions(self, ids: Iterable[int]) -> dict[int, int]:
        rows = self._all(f"SELECT id, version FROM card WHERE id {_IN_IDS}", (_ids_json(dict.fromkeys(ids)),))
        return {int(i): int(v) for i, v in rows}

    def field_changes(self, ids: Sequence[int]) -> list[tuple[int, str, str, str, float]]:
        rows = self._all(_FIELD_CHANGES, (_ids_json(ids),))
        return [(int(c), f, new, who, float(when)) for c, f, new, who, when, _ in rows]

    def later_changes(self, batch_id: int, editor: str) -> list[tuple[int, str, str, float]]:
        return self._all(_LATER_CHANGES, (batch_id, editor))

    def update_fulltext(self, field: str, rows: Sequence[tuple[str, int]]) -> None:
        if field not in _FTS_COLUMNS:
            raise ValueError(f"not a full-text column: {field!r}")
        if rows:
            self._many(f"UPDATE card_index SET {field} = ? WHERE rowid = ?", rows)

    def replace_children(self, kind: ChildKind, ids: Sequence[int], rows: Sequence[tuple[Any, ...]]) -> None:
        table, insert = _CHILD_TABLES[kind]
        self._conn().execute(f"DELETE FROM {table} WHERE card_id {_IN_IDS}", (_ids_json(ids),))
        self._many(insert, rows)

    def adjust_problems(self, deltas: Sequence[tuple[int, int]]) -> None:
        by_delta: dict[int, list[int]] = {}
        for delta, cid in deltas:
            by_delta.setdefault(delta, []).append(cid)
        for delta, ids in by_delta.items():  # a bulk edit moves most counts by the same few deltas
            self._conn().execute(f"UPDATE card SET problems = max(0, problems + ?) WHERE id {_IN_IDS}",
                                 (delta, _ids_json(ids)))  # fmt: skip

    def refresh_dirty(self, gained: Iterable[int], lost: Iterable[int]) -> None:
        conn = self._conn()
        gained = list(gained)
        if gained:
            conn.execute(f"UPDATE card SET dirty = 1 WHERE dirty = 0 AND id {_IN_IDS}", (_ids_json(gained),))
        lost = list(lost)
        if lost:
            conn.execute(
                "UPDATE card SET dirty = EXISTS (SELECT 1 FROM pending_edit p WHERE p.card_id = card.id) "
                f"WHERE id {_IN_IDS}",
                (_ids_json(lost),),
            )

    def add_batch(self, label: str, created: float, editor: str = "") -> int:
        cur = self._conn().execute(
            "INSERT INTO edit_batch (label, created, undone, editor) VALUES (?, ?, 0, ?)", (label, created, editor)
        )
        return int(cur.lastrowid or 0)

    def add_journal(self, batch_id: int, changes: Sequence[Change], created: float, editor: str = "") -> None:
        # A run's entries are bulk, found by (batch, card) in a bulk batch; the others also by card
        # (sqlite_schema.EDIT_TABLES).
        columns = "INSERT INTO journal_entry (card_id, field, old, new, batch_id, created, editor, bulk)"
        if self._in_runs(
            changes,
            f"{columns} VALUES (?, ?, ?, ?, ?, ?, ?, 0)",
            f"{columns} SELECT value, ?, ?, ?, ?, ?, ?, 1 FROM json_each(?)",
            (batch_id, created, editor),
        ):
            self._conn().execute("UPDATE edit_batch SET bulk = 1 WHERE id = ?", (batch_id,))

    def batch_undone(self, batch_id: int) -> bool | None:
        row = self._one("SELECT undone FROM edit_batch WHERE id = ?", (batch_id,))
        return None if row is None else bool(row[0])

    def batch_owner(self, batch_id: int) -> tuple[str, str] | None:
        row = self._one("SELECT label, editor FROM edit_batch WHERE id = ?", (batch_id,))
        return None if row is None else (str(row[0]), str(row[1]))

    def batch_entries(self, batch_id: int) -> list[Change]:
        # In id order from a range of the table between the batch's first and last entry (found in the index
        # by (batch, card), which holds them in card order): no sort of the batch's entries, no lookup of
        # each by its id (``+batch_id``: not through that index).
        return self._all(
            "SELECT card_id, field, old, new FROM journal_entry WHERE +batch_id = ?1 "
            "AND id BETWEEN (SELECT min(id) FROM journal_entry WHERE batch_id = ?1) "
            "AND (SELECT max(id) FROM journal_entry WHERE batch_id = ?1) ORDER BY id",
            (batch_id,),
        )

    def set_batch_undone(self, batch_id: int, undone: bool) -> None:
        self._conn().execute("UPDATE edit_batch SET undone = ? WHERE id = ?", (int(undone), batch_id))

    def card_path(self, card_id: int) -> str | None:
        row = self._one("SELECT path FROM card WHERE id = ?", (card_id,))
        return None if row is None else row[0]

    def clear_pending(self, card_id: int) -> None:
        conn = self._conn()
        conn.execute("DELETE FROM pending_edit WHERE card_id = ?", (card_id,))
        conn.execute("UPDATE card SET dirty = 0, version = version + 1 WHERE id = ?", (card_id,))

    # -- import ---------------------------------------------------------------------------------------------
    def known_cards(self, roots: Sequence[str]) -> dict[str, Known]:
        """The library's cards at or under the given roots.

        Few cards under the roots: a range of the path index per root. Most of the library: one
        sequential scan of the card table, because each index entry would cost a random lookup of its row
        (measured at 100k cards: 0.8 s through the index, 0.15 s scanning). A rescan that finds nothing
        changed never asks (known_stamps answers it); one that finds many stale cards does, once.
        """
        out: dict[str, Known] = {}
        # The flags come from their small partial indexes (flagged_ids): fewer columns, a cheaper scan.
        columns = "SELECT path, id, size, mtime_ns FROM card"
        ranges = _stamp_ranges(roots)
        if len(ranges) > 64:  # many files named one by one: one scan, filtered here
            exact = {root for root, _, _ in ranges}
            prefixes = tuple(prefix for _, prefix, _ in ranges)
            rows = self._read(columns)
            return {row[0]: row[1:] for row in rows if row[0] in exact or row[0].startswith(prefixes)}
        in_range = "path = ? OR (path >= ? AND path < ?)"
        # Counting a range reads the path index alone, without touching the rows.
        under = sum(self._one(f"SELECT count(*) FROM card WHERE {in_range}", r)[0] for r in ranges)
        total = self._one("SELECT max(id) FROM card")[0] or 0  # an upper bound, read from the end
        if under * 4 < total:
            for r in ranges:
                out.update((row[0], row[1:]) for row in self._read(f"{columns} WHERE {in_range}", r))
            return out
        # NOT INDEXED: read the table in order rather than through the path index (a random lookup per row).
        where = " OR ".join(in_range for _ in ranges)
        rows = self._read(f"{columns} NOT INDEXED WHERE {where}", [v for r in ranges for v in r])
        return {row[0]: row[1:] for row in rows}

    def known_stamps(self, roots: Sequence[str]) -> set[str]:
        """known_cards' cards as ``stamp_key`` texts (missing ones with size -1), joined by SQLite in one
        aggregate statement: its one step runs in C without the GIL, so the importer's thread reading it
        overlaps the walk (a row at a time, the GIL went back and forth with the walk for every card).

        The keys are read from the rescan's index (sqlite_schema.STAMP_INDEX, schema 6), which holds
        each card's key in path order: the cards under a folder root are one range of it, read without
        touching a card row or building a key (~25 ms of SQLite's time at 100k cards; the scan of the
        card table that built them took ~120, and counting the roots' range to choose it ~15 more). A
        root that is a file is found by the path index.
        """
        ranges = _stamp_ranges(roots)
        if not ranges:
            return set()
        if len(ranges) > 64:  # many files named one by one (known_cards scans and filters)
            return stamp_keys(self.known_cards(roots), self.flagged_ids("missing"))
        key = sqlite_schema.STAMP_KEY
        # A key starts with its path, so the keys of the paths in [prefix, after) are those in that range:
        # a statement per folder root (an OR of ranges read the rows again to compute each key), and one
        # for the roots' own paths (a root that is a file).
        statements: list[tuple[str, Sequence[str]]] = [
            (f"SELECT group_concat({key}, char(0)) FROM card WHERE {key} >= ? AND {key} < ?", r[1:]) for r in ranges
        ]
        marks = ", ".join("?" for _ in ranges)
        statements.append((f"SELECT group_concat({key}, char(0)) FROM card WHERE path IN ({marks})",
                           [r[0] for r in ranges]))  # fmt: skip
        found: set[str] = set()
        for sql, params in statements:
            text = self._one(sql, params)[0]
            if text:
                found.update(text.split("\0"))
        return found

    def flagged_ids(self, flag: CardFlag) -> set[int]:
        if flag not in ("dirty", "missing", "conflict"):
            raise ValueError(f"not a card flag: {flag!r}")
        return {row[0] for row in self._read(f"SELECT id FROM card WHERE {flag} = 1")}  # its partial index

    def sha256(self, card_id: int) -> str:
        return str(self._one("SELECT sha256 FROM card WHERE id = ?", (card_id,))[0])

    def refresh_stamps(self, rows: Sequence[tuple[int, int, int]]) -> None:
        self._many("UPDATE card SET size = ?, mtime_ns = ?, missing = 0, conflict = 0 WHERE id = ?", rows)

    def mark_conflicts(self, ids: Sequence[int]) -> None:
        self._many("UPDATE card SET conflict = 1, missing = 0 WHERE id = ?", [(i,) for i in ids])

    def mark_missing(self, ids: Sequence[int]) -> None:
        self._many("UPDATE card SET missing = 1 WHERE id = ?", [(i,) for i in ids])

    def _insert_children(self, pairs: Sequence[tuple[int, CardRecord]]) -> None:
        conn = self._conn()
        conn.executemany(
            _CHILD_TABLES["topics"][1], [(cid, name, pos) for cid, rec in pairs for pos, name in enumerate(rec.topics)]
        )
        conn.executemany(_CHILD_TABLES["images"][1], [(cid, *img) for cid, rec in pairs for img in rec.images])
        conn.executemany(_CHILD_TABLES["related"][1], [(cid, *item) for cid, rec in pairs for item in rec.related])
        conn.executemany(
            "INSERT INTO card_index (rowid, title, excerpt, provider, topics, related) VALUES (?, ?, ?, ?, ?, ?)",
            [(cid, *rec.fts) for cid, rec in pairs],
        )

    def _delete_children(self, ids: Sequence[int]) -> None:
        conn = self._conn()
        params = [(cid,) for cid in ids]
        for table in ("card_topic", "card_image", "related_item"):
            conn.executemany(f"DELETE FROM {table} WHERE card_id = ?", params)
        conn.executemany("DELETE FROM card_index WHERE rowid = ?", params)

    def insert_cards(self, records: Sequence[CardRecord]) -> list[int]:
        if not records:
            return []
        conn = self._conn()
        # Inside an IMMEDIATE transaction the write lock is held, so these ids cannot be taken meanwhile.
        first = conn.execute("SELECT coalesce(max(id), 0) + 1 FROM card").fetchone()[0]
        pairs = list(enumerate(records, start=first))
        conn.executemany(_INSERT_CARD, [(cid, *rec.values) for cid, rec in pairs])
        conn.executemany("INSERT INTO card_doc (card_id, doc) VALUES (?, ?)", [(cid, rec.doc) for cid, rec in pairs])
        self._insert_children(pairs)
        return [cid for cid, _ in pairs]

    def update_cards(self, pairs: Sequence[tuple[int, CardRecord]]) -> None:
        if not pairs:
            return
        conn = self._conn()
        conn.executemany(_UPDATE_CARD, [(*rec.values, cid) for cid, rec in pairs])
        conn.executemany(
            "INSERT INTO card_doc (card_id, doc) VALUES (?, ?) ON CONFLICT (card_id) DO UPDATE SET doc = excluded.doc",
            [(cid, rec.doc) for cid, rec in pairs],
        )
        self._delete_children([cid for cid, _ in pairs])
        self._insert_children(pairs)

    def delete_cards(self, ids: Sequence[int]) -> None:
        """Delete cards; foreign keys cascade to their children (mapping, topics, images, related items).

        Their pending edits and journal entries are deleted here: those tables have no foreign keys since
        schema version 5 (``sqlite_schema.EDIT_TABLES``), so nothing else would.
        """
        params = [(cid,) for cid in ids]
        self._many("DELETE FROM pending_edit WHERE card_id = ?", params)
        self._many("DELETE FROM journal_entry WHERE bulk = 0 AND card_id = ?", params)
        if ids:  # their entries of bulk edits, in each bulk batch
            self._conn().execute(_DELETE_BULK_ENTRIES, (_ids_json(ids),))
        self._many("DELETE FROM card_index WHERE rowid = ?", params)
        self._many("DELETE FROM card WHERE id = ?", params)

    @contextmanager
    def bulk_import(self) -> Iterator[None]:
        """A big import's connection: checkpoints every 64 MB of WAL, and no memory map (restored after);
        into an empty library, the secondary indexes are built once after the load (``_defer_indexes``).

        Pages read through the memory map count as this process's memory, and a big import (and the
        ANALYZE after it) reads most of the library: 250 MB more peak RSS at 100k cards. The bounded page
        cache serves an import as well. However the block ends (done, cancelled, an exception), the
        deferred indexes are built before it returns; only when that fails too (the disk full, the
        process killed) are they left to the next open of the library (``restore_deferred_indexes``).
        """
        (default_pages,) = self._one("PRAGMA wal_autocheckpoint")
        (default_mmap,) = self._one("PRAGMA mmap_size")
        self._read(f"PRAGMA wal_autocheckpoint = {IMPORT_CHECKPOINT_PAGES}")
        self._read("PRAGMA mmap_size = 0")
        try:
            deferred = self._defer_indexes()
            try:
                yield
            except BaseException:
                if deferred:
                    # The import's own failure is the one to report: should the build fail as well (the
                    # disk full), meta still names the indexes and the next open builds them.
                    with suppress(Exception):
                        self.restore_deferred_indexes()
                raise
            if deferred:
                self.restore_deferred_indexes()
        finally:
            self._read(f"PRAGMA wal_autocheckpoint = {int(default_pages)}")
            self._read(f"PRAGMA mmap_size = {int(default_mmap)}")

    def _defer_indexes(self) -> bool:
        """Drop the indexes of DEFERRED_TABLES when the library holds no card, noting them in ``meta``.

        A cold import then inserts into the tables alone and builds each index in one sorted pass at the
        end: measured at 100k cards, the card row's inserts went from 58 to 24 us a card (wall, at load
        5) against 31 us for building all the indexes after, the child tables' inserts halved too; in CPU
        the two come out about even (~85 us a card stored either way): the gain is the page cache's, the
        index pages no longer read and written back all over the file at every batch. The
        drop and the note are one transaction, so a library is never without its indexes unless ``meta``
        names them, and whatever opens it next builds them (``restore_deferred_indexes``). Each index is
        rebuilt from its own ``sqlite_master`` text, so the schema ends up as it was, byte for byte.
        Returns whether it deferred anything.
        """
        with self.transaction():
            conn = self._conn()
            if conn.execute("SELECT 1 FROM card LIMIT 1").fetchone() is not None:
                return False
            if self.get_meta(DEFERRED_INDEXES_META) is not None:
                return True  # an earlier run's note, the indexes still to build: this run's end builds them
            marks = ", ".join("?" for _ in DEFERRED_TABLES)
            indexes = conn.execute(
                f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                f"AND tbl_name IN ({marks}) AND name NOT IN ({', '.join('?' for _ in KEPT_INDEXES)}) "
                "ORDER BY rowid",
                (*DEFERRED_TABLES, *KEPT_INDEXES),
            ).fetchall()
            if not indexes:
                return False
            self.set_meta(DEFERRED_INDEXES_META, json.dumps([[name, sql] for name, sql in indexes]))
            for name, _ in indexes:
                conn.execute(f'DROP INDEX "{name}"')
        return True

    def _complete_deferred_indexes(self) -> None:
        """On open: build the indexes an interrupted bulk import left to build (``restore_deferred_indexes``).

        It does not wait for the write lock: another process holding it is most likely the import itself,
        still running, which builds them at its end. A library that cannot be written now (read-only,
        or locked) opens all the same: its queries work without those indexes, only slower, and the
        import, or a later open, builds them.
        """
        waited = self.busy_timeout_ms()
        self.set_busy_timeout(0)
        try:
            self.restore_deferred_indexes()
        except (LibraryReadOnly, LibraryBusy):
            pass
        finally:
            self._read(f"PRAGMA busy_timeout = {waited}")

    def restore_deferred_indexes(self) -> bool:
        """Build the indexes a bulk import deferred and that are still missing; True when it built some.

        Run at the end of the import, and by every open of the library (``_open_schema``): an import the
        process died in leaves a library whose queries work (only slower) and whose next open completes
        the schema. Idempotent, and one transaction: building and forgetting the note go together.
        """
        with self.transaction():
            return self._build_deferred_indexes()

    def _build_deferred_indexes(self) -> bool:
        """``restore_deferred_indexes`` inside the caller's transaction."""
        note = self.get_meta(DEFERRED_INDEXES_META)
        if note is None:
            return False
        conn = self._conn()
        present = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        for name, sql in json.loads(note):
            if name not in present:
                conn.execute(sql)
        conn.execute("DELETE FROM meta WHERE key = ?", (DEFERRED_INDEXES_META,))
        return True

    def connection_settings(self) -> dict[str, int | str]:
        """This thread's connection's settings the backend manages (journal mode, durability, foreign keys,
        WAL checkpoint interval, memory map, busy timeout): what the tests of those modes check, and what
        a benchmark's floor must share (``synchronous``: 1 is NORMAL)."""
        names = ("journal_mode", "synchronous", "foreign_keys", "wal_autocheckpoint", "mmap_size", "busy_timeout")
        return {name: self._one(f"PRAGMA {name}")[0] for name in names}

    # -- checks index (issue 11) ----------------------------------------------------------------------------
    def card_stamps(self) -> list[tuple[int, str, str | None]]:
        return self._all(
            "SELECT c.id, c.sha256, (SELECT group_concat(p.field || char(0) || p.value, char(1)) FROM "
            "(SELECT field, value FROM pending_edit WHERE card_id = c.id ORDER BY field) AS p) "
            "FROM card c ORDER BY c.id"
        )

    def card_docs(self, ids: Sequence[int] | None) -> Iterator[tuple[int, str]]:
        if ids is None:
            cursor = self._read("SELECT card_id, doc FROM card_doc ORDER BY card_id")
        else:
            cursor = self._read(
                "SELECT card_id, doc FROM card_doc WHERE card_id IN (SELECT value FROM json_each(?)) "
                "ORDER BY card_id", (_ids_json(ids),)
            )
        with _translated(self.path):  # a stream: the build reads 100k mappings without holding them all
            while rows := cursor.fetchmany(2048):
                yield from rows

    def pending_values(self, ids: Sequence[int] | None) -> list[tuple[int, str, str]]:
        if ids is None:
            return self._all("SELECT card_id, field, value FROM pending_edit ORDER BY card_id, field")
        return self._all(
            "SELECT card_id, field, value FROM pending_edit WHERE card_id IN (SELECT value FROM json_each(?)) "
            "ORDER BY card_id, field", (_ids_json(ids),)
        )

    def check_arrays(self) -> dict[str, bytes]:
        return {name: bytes(data) for name, data in self._all("SELECT name, data FROM check_array")}

    def check_cards(self) -> list[tuple[int, str]]:
        return self._all("SELECT card_id, stamp FROM check_card ORDER BY card_id")

    def save_check_index(
        self, arrays: dict[str, bytes], cards: Sequence[tuple[int, str, str | None, str | None, str | None]]
    ) -> None:
        conn = self._conn()
        conn.execute("DELETE FROM check_array")
        conn.executemany("INSERT INTO check_array (name, data) VALUES (?, ?)", list(arrays.items()))
        conn.execute("DELETE FROM check_card")
        conn.executemany("INSERT INTO check_card (card_id, stamp, source, amp, cdn) VALUES (?, ?, ?, ?, ?)", cards)

    def check_groups(self) -> list[tuple[str, str | None, list[int]]]:
        groups: dict[int, tuple[str, str | None, list[int]]] = {}
        for gid, kind, canonical in self._all("SELECT id, kind, canonical FROM check_group ORDER BY id"):
            groups[gid] = (kind, canonical, [])
        for gid, card_id in self._all("SELECT group_id, card_id FROM check_member ORDER BY group_id, card_id"):
            groups[gid][2].append(card_id)
        return list(groups.values())

    def set_check_groups(self, groups: Sequence[tuple[str, str | None, Sequence[int]]]) -> None:
        conn = self._conn()
        conn.execute("DELETE FROM check_member")
        conn.execute("DELETE FROM check_group")
        members = []
        for gid, (kind, canonical, ids) in enumerate(groups, 1):
            conn.execute("INSERT INTO check_group (id, kind, canonical) VALUES (?, ?, ?)", (gid, kind, canonical))
            members += [(gid, int(i)) for i in ids]
        conn.executemany("INSERT INTO check_member (group_id, card_id) VALUES (?, ?)", members)

    # -- write-back -----------------------------------------------------------------------------------------
    def dirty_cards(self) -> list[DirtyCard]:
        rows = self._all("SELECT id, path, size, mtime_ns, sha256, missing FROM card WHERE dirty = 1 ORDER BY path")
        return [DirtyCard(i, p, s, m, h, bool(x)) for i, p, s, m, h, x in rows]

    def take_back(self, written: Sequence[TakenBack]) -> None:
        conn = self._conn()
        conn.executemany(
            "UPDATE card SET size = ?, mtime_ns = ?, sha256 = ?, dirty = 0, conflict = 0, missing = 0 WHERE id = ?",
            [(w.size, w.mtime_ns, w.sha256, w.id) for w in written],
        )
        conn.executemany("UPDATE card_doc SET doc = ? WHERE card_id = ?", [(w.doc, w.id) for w in written])
        pending = conn.execute(
            f"SELECT card_id, field, value FROM pending_edit WHERE card_id {_IN_IDS}", (_ids_json(w.id for w in written),)
        ).fetchall()
        done, kept = settle_written(written, pending)
        conn.executemany("DELETE FROM pending_edit WHERE card_id = ? AND field = ?", done)
        if kept:  # edited again by someone while this Write ran: still pending, over what the file holds now
            conn.executemany("UPDATE pending_edit SET base = ? WHERE card_id = ? AND field = ?", kept)
            conn.execute(f"UPDATE card SET dirty = 1 WHERE id {_IN_IDS}", (_ids_json({k[1] for k in kept}),))

    def mark_conflict(self, card_id: int) -> None:
        self._conn().execute("UPDATE card SET conflict = 1 WHERE id = ?", (card_id,))
