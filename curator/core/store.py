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
    "BatchInfo", "CardDetail", "CardRow", "EditResult", "Facets", "LibraryError", "ProblemRow", "Store",
    "Totals", "WriteReport",
]  # fmt: skip

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


def _row(t: Sequence[Any]) -> CardRow:
    values = list(t)
    values[9] = None if values[9] is None else bool(values[9])
    values[10] = json.loads(values[10])
    values[12:15] = (bool(values[12]), bool(values[13]), bool(values[14]))
    return CardRow(*values)


class Store:
    """A library file: cards, edits, history. Create or open with ``Store(path)``; close when done."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(os.path.abspath(path))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # timeout: the busy timeout (seconds) a second connection waits for the writer's lock.
        self.db = SqliteExtDatabase(str(self.path), pragmas=_PRAGMAS, timeout=30, autoconnect=True)
        self._use()
        try:
            self.db.connect(reuse_if_open=True)
            self._open_schema()
        except (sqlite3.DatabaseError, peewee.DatabaseError) as e:
            self.close()
            raise LibraryError(f"{self.path}: not a Curator library ({e})") from e
        except LibraryError:
            self.db.close()
            raise

    # -- lifecycle ------------------------------------------------------------------------------------------
    def _use(self) -> None:
        """Point the module-global proxy at this library (see the module docstring)."""
        if schema.database_proxy.obj is not self.db:
            schema.database_proxy.initialize(self.db)

    def _open_schema(self) -> None:
        tables = set(self.db.get_tables())
        if "meta" in tables:
            row = self.db.execute_sql("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            version = int(row[0]) if row else 0
        elif "card" in tables:
            version = 0  # the prototype layout had no meta table
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
        with self.db.atomic():
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
        return int(self.db.execute_sql("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0])

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
