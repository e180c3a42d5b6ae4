"""The ``Backend`` protocol: everything the Store, the importer, edits and write-back ask of a database.

A backend owns one library (a file for SQLite, a database for PostgreSQL): its connections (one per
thread), write transactions and their locking, the schema (create, version, migrate), full-text search,
the bulk paths and the bulk-import mode, id allocation, statistics, and the mapping of its driver's
failures onto LibraryError. The methods speak the library's terms (cards, pending edits, journal
batches), never SQL, so a second backend implements the same list and nothing above it changes.

Values that are stored as JSON travel as JSON *text* in both directions (``dumps`` of ``store_rows``):
the caller decodes and compares them, the backend only stores them. "null" stands for an absent key.
Every method that changes the library must run inside :meth:`Backend.transaction`; the reads may run
outside one.
"""

from __future__ import annotations

import itertools
import json
import operator
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, Protocol

from curator.core.store_types import BatchInfo, CardRow, Facets, LibraryError, Totals

if TYPE_CHECKING:
    from curator.core.query import Term
    from curator.core.store_rows import CardRecord

#: (card id, value in the file as JSON text, current value as JSON text) of one field.
FieldRow = tuple[int, str, str]
#: One journalled change: (card id, field, old JSON text, new JSON text).
Change = tuple[int, str, str, str]
#: A card's child rows an edit replaces: topics, images or related items.
ChildKind = Literal["topics", "images", "related"]
#: A flag of the card row the importer reads as a set of ids.
CardFlag = Literal["dirty", "missing", "conflict"]
#: A rescan's view of a card the library holds: (id, size, mtime_ns).
Known = tuple[int, int, int]


def stamp_key(path: str, size: int, mtime_ns: int) -> str:
    """A rescan's key for a file found or a card held: ``"path:size:mtime_ns"`` (see known_stamps).

    One string rather than a tuple: a rescan compares 100k of them as two sets, in C, and a string
    caches its hash (a tuple's is computed again at every lookup: measured at five times the cost).
    The path comes first so that a SQLite library can keep the keys in an index in path order
    (``sqlite_schema.STAMP_INDEX``), the cards under a root one range of it.
    """
    return f"{path}:{size}:{mtime_ns}"


def stamp_parts(key: str) -> tuple[str, int, int]:
    """The (path, size, mtime_ns) of a :func:`stamp_key` (a path may hold ":"; the numbers never do)."""
    path, size, mtime_ns = key.rsplit(":", 2)
    return path, int(size), int(mtime_ns)


def stamp_keys(known: Mapping[str, Known], missing: Collection[int]) -> set[str]:
    """``known_cards``' answer as ``known_stamps``' keys, for a backend without a quicker way to build
    them: a card flagged missing gets size -1, so no file found matches it."""
    return {stamp_key(path, -1 if k[0] in missing else k[1], k[2]) for path, k in known.items()}


class DirtyCard(NamedTuple):
    """A card with pending edits, as write-back needs it: where its file is and what it was based on."""

    id: int
    path: str
    size: int
    mtime_ns: int
    sha256: str
    missing: bool


class FlaggedCard(NamedTuple):
    """A card with validation problems, a conflict or a missing file (the bulk dialog lists them)."""

    id: int
    path: str
    title: str | None
    problems: int
    conflict: bool
    missing: bool


class CardLabel(NamedTuple):
    """What names a card in a message (its title, else its file; its provider and date) and ranks it among
    copies of one story (published, quality, date): the publishing gate reads this of each duplicate
    group's cards, ~9k at 100k cards, where a whole CardRow each cost it three times as long."""

    id: int
    path: str
    title: str | None
    provider: str | None
    published_at: str | None
    date: str | None
    quality: int | None
    published: bool | None


class TakenBack(NamedTuple):
    """A card whose file now holds its pending values: its new fingerprint and mapping (JSON text)."""

    id: int
    size: int
    mtime_ns: int
    sha256: str
    doc: str
    #: JSON of the file's value of each field the write set (null: the file holds no such key), from the
    #: writer, which has the values at hand: settle_written compares the pending values with these instead
    #: of decoding every written card's whole mapping (profiled: half of take_back). None: decode ``doc``.
    fields: Mapping[str, str] | None = None


#: Rows sharing every value but the card id from which one statement over the ids (json_each on SQLite,
#: unnest on PostgreSQL) is cheaper than a row each (a bulk set's 10k journal rows at 100k cards on
#: SQLite: ~22 ms against ~50 ms of executemany); the backends write shorter runs row by row.
RUN_AT_LEAST = 32


def card_runs(rows: Sequence[tuple[Any, ...]]) -> Iterator[tuple[tuple[Any, ...], list[tuple[Any, ...]]]]:
    """Consecutive rows (card id first, then two or more values) equal but for their card id: (the
    shared values, the rows). A bulk edit's pending and journal rows are one run, or a few."""
    if not rows:
        return
    for shared, run in itertools.groupby(rows, operator.itemgetter(*range(1, len(rows[0])))):
        yield shared, list(run)


def settle_written(
    written: Sequence[TakenBack], pending: Iterable[tuple[int, str, str]]
) -> tuple[list[tuple[int, str]], list[tuple[str, int, str]]]:
    """Which pending edits the written files now hold, for take_back: (done (card, field) pairs, kept rows
    (new base JSON, card, field)).

    Another editor may change a card between the moment a Write read its pending values and the moment it
    records the files (a team library takes no lock for edits meanwhile): that newer pending value is not
    in the file, so it stays pending, now based on what the file holds, and the card stays dirty. Only a
    pending value equal to the written one (type and all: true is not 1) is done.
    """
    from curator.core.store_rows import dumps

    by_id = {w.id: w for w in written}
    parsed: dict[int, dict[str, Any]] = {}
    done: list[tuple[int, str]] = []
    kept: list[tuple[str, int, str]] = []
    for card_id, field, value in pending:
        given = by_id[card_id].fields
        text = given.get(field) if given is not None else None
        if text is None:  # no writer's figure (or a field added meanwhile): what the mapping holds
            if card_id not in parsed:
                parsed[card_id] = json.loads(by_id[card_id].doc)
            text = dumps(parsed[card_id].get(field))
        if value == text or json.dumps(json.loads(value), sort_keys=True) == json.dumps(
            json.loads(text), sort_keys=True
        ):
            done.append((card_id, field))
        else:
            kept.append((text, card_id, field))
    return done, kept


class Translated:
    """A context that re-raises a driver failure of the library as its LibraryError (others unchanged).

    Each backend gives its own mapping (``library_error(exc, where) -> LibraryError | None``: None for an
    error that is not the library's, i.e. a bug) and what the message names (a path, or a URL shown
    without its password).
    """

    __slots__ = ("mapper", "where")

    def __init__(self, mapper: Callable[[BaseException, Any], LibraryError | None], where: Any) -> None:
        self.mapper = mapper
        self.where = where

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> bool:
        if exc is not None and not isinstance(exc, LibraryError):
            error = self.mapper(exc, self.where)
            if error is not None:
                raise error from exc
        return False


class Backend(Protocol):
    """A library's storage. See the module docstring for the conventions every method keeps."""

    #: Where the library is, as errors name it (a path, or a URL without its password).
    location: str

    # -- connections, transactions, failures --------------------------------------------------------------
    def close(self) -> None:
        """Close this thread's connection (other threads' connections close with their threads)."""

    def transaction(self) -> AbstractContextManager[None]:
        """A write transaction holding the library's write lock from its start; nested: a savepoint.

        The outermost one raises the library's failures (busy, disk) as LibraryError after rolling back.
        """

    def in_transaction(self) -> bool:
        """Whether this thread's connection is inside a transaction."""

    def files_lock(self, lock: str, editor: str, excluding: Sequence[str]) -> AbstractContextManager[None]:
        """Hold the library's ``lock`` ("writer" or "importer") for a run over the shared files, finding the
        ``excluding`` locks free too; ``team_locks.LibraryLocked`` at once when another editor holds one.
        SQLite: nothing to hold (one machine; BEGIN IMMEDIATE serialises the library)."""

    def set_busy_timeout(self, seconds: float) -> None:
        """How long this thread's connection waits for another writer's lock before LibraryBusy."""

    def lean_reads(self) -> None:
        """Make this thread's connection read without growing the process's resident memory."""

    def defer_checkpoints(self) -> None:
        """From now on, copy a big write transaction's pages into the library on a background thread after
        its commit returns, instead of inside the commit (the desktop app: an edit is committed and shown
        without waiting for that copy). PostgreSQL: nothing to do (the server checkpoints by itself)."""

    def wait_for_checkpoint(self, timeout: float) -> bool:
        """Wait until every copy deferred so far is done; False when ``timeout`` seconds passed first."""

    def library_error(self, exc: BaseException) -> LibraryError | None:
        """The LibraryError a driver failure stands for (busy, disk, damaged...); None for a bug of ours."""

    def is_library_failure(self, exc: BaseException) -> bool:
        """Whether ``exc`` is the library's own failure (locked, disk), not one statement's or one card's."""

    # -- schema, statistics -------------------------------------------------------------------------------
    def schema_version(self) -> int:
        """The schema version the library records (0: none recorded)."""

    def optimize(self) -> None:
        """Refresh the query planner's statistics."""

    def analyzed_cards(self) -> int | None:
        """How many cards the planner's statistics were taken over (None: never analyzed)."""

    def get_meta(self, key: str) -> str | None:
        """A fact about the library itself (``meta``), None when absent."""

    def set_meta(self, key: str, value: str) -> None:
        """Record a fact about the library itself (inside a transaction)."""

    # -- reading ------------------------------------------------------------------------------------------
    def rows(
        self, term: Term | None, sort: Sequence[tuple[str, bool]], offset: int, limit: int | None
    ) -> list[CardRow]:
        """One page of the card list under a parsed query (None: every card) and ``sort``."""

    def count(self, term: Term | None) -> int:
        """How many cards match."""

    def ids(self, term: Term | None, sort: Sequence[tuple[str, bool]]) -> list[int]:
        """The ids of the matching cards in ``sort`` order (by id when unsorted)."""

    def rows_by_id(self, ids: Sequence[int]) -> list[CardRow]:
        """Rows for the given ids, in any order (unknown ids are left out)."""

    def facets(self, term: Term | None, limit: int) -> Facets:
        """Status counts and the top categories, topics and providers under a query."""

    def values(self, field: str) -> list[str]:
        """Distinct values of topics, provider, category or type (sorted, case-insensitive)."""

    def totals(self) -> Totals:
        """Whole-library counts."""

    def problem_cards(self, term: Term | None) -> list[tuple[int, str]]:
        """(id, path) of the matching cards with problems, by id."""

    def doc(self, card_id: int) -> str | None:
        """The card's whole mapping as last read from its file (JSON text); None: no such card."""

    def card_doc(self, card_id: int) -> tuple[str, str] | None:
        """(path, mapping as last read as JSON text) of a card; None: no such card."""

    def pending_rows(self, card_id: int) -> list[tuple[str, str, str]]:
        """(field, base JSON text, pending JSON text) of a card's pending edits, by field."""

    def history(self, limit: int) -> list[BatchInfo]:
        """The latest edit batches, newest first."""

    def batch_titles(self, batch_ids: Sequence[int]) -> dict[int, str]:
        """The title of the single card each batch changed (batches over several cards are left out)."""

    def card_paths(self) -> list[str]:
        """Every card's path, in no particular order."""

    def card_folders(self) -> list[str]:
        """The distinct folders of the cards' paths (as text, unchecked)."""

    def card_id_at(self, path: str) -> int | None:
        """The id of the card at ``path`` (as imported), or None."""

    def flagged_cards(self, ids: Sequence[int]) -> list[FlaggedCard]:
        """The cards among ``ids`` with problems, a conflict or a missing file."""

    def card_labels(self, ids: Sequence[int]) -> list[CardLabel]:
        """CardLabel of the cards among ``ids``, in any order (unknown ids are left out)."""

    def card_with_url(self, url: str) -> int | None:
        """The lowest id of a card whose source, AMP or CDN AMP URL is exactly ``url``."""

    def card_urls_like(self, patterns: Sequence[str], limit: int) -> list[tuple[int, str]]:
        """(id, source URL) of cards whose source URL matches a LIKE pattern, newest first."""

    def related_titles_like(self, patterns: Sequence[str], limit: int) -> list[tuple[str, str]]:
        """(title, source URL) of titled related items whose URL matches a LIKE pattern."""

    def provider_name_for(self, domains: Sequence[str], patterns: Sequence[str]) -> str | None:
        """The most common provider name of cards at ``domains``, else of related items matching."""

    # -- edits --------------------------------------------------------------------------------------------
    def current(self, field: str, ids: Iterable[int]) -> Sequence[FieldRow]:
        """(id, file value, current value) of one field for the known cards among ``ids`` (in no promised
        order: both backends give them as runs of equal values, edit_runs.Runs)."""

    def file_value(self, card_id: int, key: str) -> str | None:
        """One top-level key of the card's mapping as read (JSON text), None when absent."""

    def set_pending(
        self, rows: Sequence[tuple[int, str, str, str]], *, editor: str = "", changed: float = 0.0
    ) -> None:
        """Upsert pending edits (card, field, base, value) made by ``editor`` at ``changed``; an existing
        row keeps its base and takes the new value, editor and time (pending edits are everyone's)."""

    def drop_pending(self, pairs: Sequence[tuple[int, str]]) -> None:
        """Remove the pending edits of (card, field)."""

    def update_columns(self, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        """Set card columns: each row is the columns' values then the card id. Advances each card's version
        (every edit of a field goes through this or :meth:`set_columns`, so every edit moves the version)."""

    def set_columns(self, columns: Sequence[str], values: Sequence[Any], ids: Sequence[int], *, dirty: bool) -> None:
        """Give many cards the same column values in one statement (a bulk edit); ``dirty``: mark them too.
        Advances each card's version, as update_columns does."""

    def touch_versions(self, ids: Sequence[int]) -> None:
        """Advance the cards' versions (a change that sets none of their columns: a field without one)."""

    def versions(self, ids: Iterable[int]) -> dict[int, int]:
        """card id -> current version, for the known cards among ``ids``."""

    def field_changes(self, ids: Sequence[int]) -> list[tuple[int, str, str, str, float]]:
        """(card, field, new JSON text, editor, time) of the latest journal entry of each field of the
        given cards among batches not undone: who set each field's current value, and when."""

    def later_changes(self, batch_id: int, editor: str) -> list[tuple[int, str, str, float]]:
        """(card, field, editor, time) of journal entries of batches after ``batch_id``, not undone, made
        by editors other than ``editor``, on the fields the batch changed (oldest first)."""

    def update_fulltext(self, field: str, rows: Sequence[tuple[str, int]]) -> None:
        """Set one full-text column (title, excerpt, provider or topics): rows of (text, card id)."""

    def replace_children(self, kind: ChildKind, ids: Sequence[int], rows: Sequence[tuple[Any, ...]]) -> None:
        """Replace the child rows of the given cards (rows start with the card id)."""

    def adjust_problems(self, deltas: Sequence[tuple[int, int]]) -> None:
        """Move cards' problem counts by (delta, card id), never below 0."""

    def refresh_dirty(self, gained: Iterable[int], lost: Iterable[int]) -> None:
        """``gained`` now have a pending edit; ``lost`` had one removed (dirty only if any is left)."""

    def add_batch(self, label: str, created: float, editor: str = "") -> int:
        """A new edit batch (one undo step) made by ``editor``; its id."""

    def add_journal(self, batch_id: int, changes: Sequence[Change], created: float, editor: str = "") -> None:
        """Journal field changes under a batch, made by ``editor``."""

    def batch_undone(self, batch_id: int) -> bool | None:
        """Whether the batch is undone; None: no such batch."""

    def batch_owner(self, batch_id: int) -> tuple[str, str] | None:
        """(label, editor) of a batch; None: no such batch."""

    def batch_entries(self, batch_id: int) -> list[Change]:
        """A batch's changes in the order they were made."""

    def set_batch_undone(self, batch_id: int, undone: bool) -> None:
        """Record that a batch was undone or redone."""

    def card_path(self, card_id: int) -> str | None:
        """The card's path, None: no such card."""

    def clear_pending(self, card_id: int) -> None:
        """Drop every pending edit of a card (it is clean afterwards)."""

    # -- import -------------------------------------------------------------------------------------------
    def known_cards(self, roots: Sequence[str]) -> dict[str, Known]:
        """The cards at or under the given roots: path -> (id, size, mtime_ns)."""

    def known_stamps(self, roots: Sequence[str]) -> set[str]:
        """The cards at or under the given roots as :func:`stamp_key` texts, a card flagged missing with
        size -1 (no file matches it, so a rescan looks at it again).

        What a rescan compares with the files it found, as sets; it reads them on a thread of its own
        while it walks, so a backend should build them without holding the GIL (SQLite: one aggregate
        statement; else :func:`stamp_keys` of known_cards)."""

    def flagged_ids(self, flag: CardFlag) -> set[int]:
        """Ids of the cards with a rare flag set."""

    def sha256(self, card_id: int) -> str:
        """The sha256 the library holds for a card."""

    def refresh_stamps(self, rows: Sequence[tuple[int, int, int]]) -> None:
        """Files whose bytes are the known ones: (size, mtime_ns, id); clears conflict and missing."""

    def mark_conflicts(self, ids: Sequence[int]) -> None:
        """Cards whose file changed under pending edits (also no longer missing)."""

    def mark_missing(self, ids: Sequence[int]) -> None:
        """Cards whose file vanished but whose pending edits are kept."""

    def insert_cards(self, records: Sequence[CardRecord]) -> list[int]:
        """Store new cards; the ids allocated for them, in order (inside a transaction)."""

    def update_cards(self, pairs: Sequence[tuple[int, CardRecord]]) -> None:
        """Replace cards' file-derived columns and children in place (ids never change)."""

    def delete_cards(self, ids: Sequence[int]) -> None:
        """Delete cards with their children, pending edits and journal entries."""

    def bulk_import(self) -> AbstractContextManager[None]:
        """The mode a big import runs in on this thread's connection (restored afterwards)."""

    # -- write-back ---------------------------------------------------------------------------------------
    def dirty_cards(self) -> list[DirtyCard]:
        """Every card with pending edits, by path."""

    def take_back(self, written: Sequence[TakenBack]) -> None:
        """Written files become the cards' base: fingerprints and mapping refreshed, the pending edits they
        hold done; one changed since the Write read it stays pending over the new base (settle_written)."""

    def mark_conflict(self, card_id: int) -> None:
        """A write found the card's file changed on disk."""

    # -- checks index (issue 11: duplicates, copies, same story; used by curator/core/store_checks.py) -----
    # Tables check_array, check_card, check_group, check_member (schema.py). The index's arrays are saved
    # as opaque bytes; a card's "stamp" is whatever store_checks derives from card_stamps' row.
    def card_stamps(self) -> list[tuple[int, str, str | None]]:
        """(id, sha256, pending edits) of every card, by id; pending edits: every ``field NUL value`` of
        the card's pending edits, by field, joined with SOH (None without any): it changes exactly when the
        card's current mapping may have."""

    def card_docs(self, ids: Sequence[int] | None) -> Iterable[tuple[int, str]]:
        """(id, mapping as last read as JSON text) of the given cards (None: all), by id; may be a stream."""

    def pending_values(self, ids: Sequence[int] | None) -> list[tuple[int, str, str]]:
        """(card id, field, pending JSON text) of the given cards' pending edits (None: all), by card, field."""

    def check_arrays(self) -> dict[str, bytes]:
        """The saved index arrays, name -> bytes (empty: never saved)."""

    def check_cards(self) -> list[tuple[int, str]]:
        """(card id, stamp) of the cards the saved arrays reflect, by id."""

    def save_check_index(
        self, arrays: dict[str, bytes], cards: Sequence[tuple[int, str, str | None, str | None, str | None]]
    ) -> None:
        """Replace the saved arrays and the (card id, stamp, canonical source, amp, cdn URL) rows."""

    def check_groups(self) -> list[tuple[str, str | None, list[int]]]:
        """(kind, canonical URL or None, card ids by id) of every saved group, in the order saved."""

    def set_check_groups(self, groups: Sequence[tuple[str, str | None, Sequence[int]]]) -> None:
        """Replace the saved groups with ``groups`` (kept in the given order)."""

    # -- inspection (what the tests check an operation stored; no caller of the Store needs these) ---------
    def card_columns(self, card_id: int, columns: Sequence[str]) -> tuple[Any, ...] | None:
        """Raw card-row columns of one card (fingerprints, flags); ValueError for an unknown column."""

    def child_rows(self, kind: ChildKind, card_id: int) -> list[tuple[Any, ...]]:
        """A card's stored child rows without the card id, by position."""

    def fulltext_row(self, card_id: int) -> tuple[str, ...] | None:
        """A card's full-text text as indexed: title, excerpt, provider, topics, related items' titles."""

    def pending_authors(self, card_id: int) -> list[tuple[str, str, float]]:
        """(field, editor, time) of a card's pending edits, by field."""

    def batch_rows(self) -> list[tuple[int, str, bool]]:
        """(id, editor, undone) of every edit batch, by id."""

    def journal_rows(self) -> list[tuple[int, int, str, str, str]]:
        """Every journal entry (batch, card, field, old, new), in order."""

    def invalid_json(self) -> int:
        """How many stored JSON texts the database's own JSON functions refuse (0 in a sound library)."""
