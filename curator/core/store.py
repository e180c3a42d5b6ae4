"""The Store: one library (the catalog of card files), opened, migrated and queried through its backend.

Everything the CLI and the GUI know about the library they ask the Store; the Store asks its backend
(``curator.core.backend``: SQLite now), which alone speaks SQL. Binding: the tables' models are bound to
no database, and each Store's backend runs queries on its own connections (one per thread), so two
Stores on two different libraries can be used at the same moment from two threads. One Store is used
from the GUI thread and worker threads alike: each thread gets its own connection, and WAL lets a reader
run beside the writer.
"""

from __future__ import annotations

import getpass
import json
import os
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from curator.core.backend import open_backend
from curator.core.backend.base import Backend, CardLabel, FlaggedCard
from curator.core.store_types import (
    BatchInfo,
    CardDetail,
    CardRow,
    EditResult,
    Facets,
    FieldChange,
    LibraryBusy,
    LibraryDiskError,
    LibraryError,
    LibraryReadOnly,
    ProblemRow,
    Skipped,
    StaleEdit,
    Totals,
    WriteReport,
)

if TYPE_CHECKING:  # only for annotations: importing cards (and yaml) costs every `curator list`
    from curator.core.cards import Card as CardFile
    from curator.core.checks.index import CheckIndex, Group, Suggestion
    from curator.core.checks.thresholds import Thresholds
    from curator.core.checks_service import ChecksService
    from curator.core.query import Term
    from curator.core.roots import Root
    from curator.core.store_checks import RefreshReport

__all__ = [
    "DEFAULT_BUSY_TIMEOUT", "BatchInfo", "CardDetail", "CardLabel", "CardRow", "EditResult", "Facets",
    "FieldChange", "FlaggedCard", "LibraryBusy", "LibraryDiskError", "LibraryError", "LibraryReadOnly",
    "ProblemRow", "Skipped", "StaleEdit", "Store", "Totals", "WriteReport", "default_editor",
]  # fmt: skip

#: Seconds a Store's connections wait for another writer's lock before LibraryBusy. Long enough that a
#: command-line run waits out another Curator's import batch or bulk edit (each is one short transaction),
#: short enough that a library held for good (a stuck process) is named soon. The GUI passes much less.
DEFAULT_BUSY_TIMEOUT = 10.0


#: The longest editor name kept (a name, not a text: History and `show` print it on one line).
EDITOR_MAX = 80


def _editor_name(name: str) -> str:
    """``name`` as recorded: control characters dropped, blanks trimmed, at most EDITOR_MAX characters."""
    return "".join(ch for ch in name if ch.isprintable()).strip()[:EDITOR_MAX]


def default_editor() -> str:
    """Who edits when nobody says: ``$CURATOR_EDITOR``, else the operating system's user name ('' when
    the system has none to give, e.g. a container without a passwd entry)."""
    named = _editor_name(os.environ.get("CURATOR_EDITOR", ""))
    if named:
        return named
    try:
        return _editor_name(getpass.getuser())
    except (OSError, KeyError, ImportError):  # no LOGNAME/USER and no passwd entry for the uid
        return ""


def _parse(query: str | None) -> Term | None:
    """The parsed query (None or blank: every card). Raises QueryError."""
    if query is None or not query.strip():
        return None
    from curator.core import query as query_mod  # here: parsing is needed only when there is a query

    # A NUL separates words in the full text of both backends (SQLite's tokenizer; pg_nul's stand-in on
    # PostgreSQL, whose text cannot hold it), and FTS5 would cut a MATCH string at it: a space here.
    return query_mod.parse(query.replace("\0", " "))


class Store:
    """A library: cards, edits, history. Create or open with ``Store(path)`` or ``Store("postgresql://…")``.

    ``busy_timeout``: seconds each connection waits for another writer's lock before the call raises
    LibraryBusy (nothing changed). The GUI thread passes a fraction of a second so it never freezes.
    ``editor``: the name recorded with every edit, undo step and pending edit this Store makes (History
    and ``show`` say who changed what); None: :func:`default_editor`. Undo steps back only its own.
    Every other failure of the library itself is a LibraryError (LibraryDiskError for a full or failing
    disk), never a raw driver error: see :meth:`library_error`.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        password: str | None = None, editor: str | None = None, root_map: Mapping[str, str] | None = None,
    ) -> None:  # fmt: skip
        """``password``: what the editor typed when a team library asked for one (libpq's own places
        otherwise); it goes to this Store's connections only and is never stored. SQLite ignores it.

        ``root_map``: where this editor has the library's roots (curator.core.roots): a root's id, label
        or first-imported path -> the local folder; every path the Store takes and gives is then local.
        RootMapError (a ValueError) for an id or label the library has no root for."""
        if not busy_timeout >= 0:  # also refuses NaN
            raise ValueError(f"busy_timeout must be a number of seconds >= 0, not {busy_timeout!r}")
        from curator.core.backend.location import parse_location

        where = parse_location(os.fspath(path))  # ValueError for a URL scheme that is not PostgreSQL's
        #: The library's file (SQLite); for a team library the URL without its password, as a name only.
        self.path = Path(where.display) if where.is_postgresql else Path(os.path.abspath(path))
        #: Where the library is, as messages and titles name it (a path, or a URL without its password).
        self.location = where.display if where.is_postgresql else str(self.path)
        self.busy_timeout = float(busy_timeout)
        # What a checks process needs to open this library too (checks_process): never written anywhere.
        self._opened = (where.url if where.is_postgresql and where.url else str(self.path), password)
        #: Who this Store's edits are recorded as (see the class docstring).
        self.editor = default_editor() if editor is None else _editor_name(editor)
        self.backend: Backend = open_backend(
            where.url if where.is_postgresql and where.url else self.path, busy_timeout=self.busy_timeout,
            password=password,
        )  # fmt: skip
        if root_map:
            from curator.core import roots

            try:
                self.backend = roots.mapped(self.backend, root_map)
            except BaseException:
                self.backend.close()
                raise

    # -- lifecycle ------------------------------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        """The schema version recorded in the library."""
        return self.backend.schema_version()

    def optimize(self) -> None:
        """Refresh the query planner's statistics (the importer calls it after big imports)."""
        self.backend.optimize()

    def analyzed_cards(self) -> int | None:
        """How many cards the planner's statistics were taken over (None: never analyzed)."""
        return self.backend.analyzed_cards()

    def transaction(self) -> AbstractContextManager[None]:
        """One write transaction around several Store calls: all of their changes commit, or none do.

        Holds the library's write lock from its start (LibraryBusy at once when another Curator keeps
        it past the busy timeout); nested, it is a savepoint.
        """
        return self.backend.transaction()

    def set_busy_timeout(self, seconds: float) -> None:
        """How long this thread's connection waits for another writer (other threads keep theirs)."""
        if not seconds >= 0:
            raise ValueError(f"a busy timeout is a number of seconds >= 0, not {seconds!r}")
        self.backend.set_busy_timeout(seconds)

    def lean_reads(self) -> None:
        """Make this thread's connection read without growing the process's resident memory (workers)."""
        self.backend.lean_reads()

    def defer_checkpoints(self) -> None:
        """Let a big edit's commit return before its pages are copied into the library file (the desktop
        app; see curator.core.backend.sqlite_checkpoint): the copy runs on a thread of its own."""
        self.backend.defer_checkpoints()

    def wait_for_checkpoint(self, timeout: float) -> bool:
        """Wait until the copies deferred so far are done (True), or ``timeout`` seconds (False)."""
        return self.backend.wait_for_checkpoint(timeout)

    def library_error(self, exc: BaseException) -> LibraryError | None:
        """The LibraryError a failure met while using this library stands for; None when it is a bug."""
        return self.backend.library_error(exc)

    def close(self) -> None:
        """Close this thread's connection (other threads' connections close with their threads)."""
        self.backend.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading --------------------------------------------------------------------------------------------
    def rows(
        self, query: str | None = None, *, sort: Sequence[tuple[str, bool]] = (), offset: int = 0,
        limit: int | None = None,
    ) -> list[CardRow]:  # fmt: skip
        """One page of the card list under ``query`` and ``sort`` (``(key, descending)`` pairs)."""
        return self.backend.rows(_parse(query), sort, offset, limit)

    def count(self, query: str | None = None) -> int:
        """How many cards match ``query``."""
        return self.backend.count(_parse(query))

    def ids(self, query: str | None = None, *, sort: Sequence[tuple[str, bool]] = ()) -> list[int]:
        """The ids of the matching cards, in ``sort`` order (by id when unsorted)."""
        return self.backend.ids(_parse(query), sort)

    def rows_by_id(self, ids: Sequence[int]) -> list[CardRow]:
        """Rows for the given ids, in the given order (unknown ids are left out)."""
        wanted = [int(i) for i in ids]
        found = {row.id: row for row in self.backend.rows_by_id(wanted)}
        return [found[i] for i in wanted if i in found]

    def current_data(self, card_id: int) -> dict[str, Any] | None:
        """The card's current mapping: the file's mapping with pending edits laid over it."""
        doc = self.backend.doc(card_id)
        if doc is None:
            return None
        data = json.loads(doc)
        for field, (_, value) in self.pending(card_id).items():
            if value is None:
                data.pop(field, None)
            else:
                data[field] = value
        return data

    def file_data(self, card_id: int) -> dict[str, Any] | None:
        """The card's mapping as its file held it when last read (the base of its pending edits)."""
        doc = self.backend.doc(card_id)
        return None if doc is None else json.loads(doc)

    def detail(self, card_id: int) -> CardDetail | None:
        """Everything about one card, or None when there is no such card."""
        # The version first: an edit landing between these reads makes it older than the values shown, so
        # an edit based on them is refused (safe), never one that passes over values it did not see.
        version = self.backend.versions([card_id]).get(card_id, 0)
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
            version=version,
        )

    def last_changes(self, card_id: int) -> dict[str, FieldChange]:
        """field -> who set the field's current value and when, for the fields an edit set (the journal's
        latest entry of each field among steps not undone; a field the file's value stands in is absent)."""
        from curator.core import store_edits

        return store_edits.last_changes(self, [card_id]).get(card_id, {})

    def pending(self, card_id: int) -> dict[str, tuple[Any, Any]]:
        """field -> (value in the file, pending value); None stands for an absent key."""
        return {f: (json.loads(b), json.loads(v)) for f, b, v in self.backend.pending_rows(card_id)}

    def facets(self, query: str | None = None, *, limit: int = 50) -> Facets:
        """Status counts and the top categories, topics and providers under ``query``."""
        return self.backend.facets(_parse(query), limit)

    def values(self, field: str) -> list[str]:
        """Distinct values of ``topics``, ``provider``, ``category`` or ``type`` (sorted, case-insensitive)."""
        return self.backend.values(field)

    def totals(self) -> Totals:
        """Whole-library counts."""
        return self.backend.totals()

    def history(self, limit: int = 100) -> list[BatchInfo]:
        """The latest edit batches, newest first."""
        return self.backend.history(limit)

    def batch_titles(self, batch_ids: Sequence[int]) -> dict[int, str]:
        """The title of the one card each batch changed, for the batches that changed exactly one card
        (the edit history names that card; a batch over many cards is shown with its count instead)."""
        return self.backend.batch_titles(list(batch_ids))

    def problems(self, query: str | None = None) -> list[ProblemRow]:
        """Every validation problem of the matching cards, by card id."""
        from curator.core import fields

        out = []
        for card_id, path in self.backend.problem_cards(_parse(query)):
            for p in fields.problems(self.current_data(card_id) or {}):
                out.append(ProblemRow(card_id, path, p.field, p.problem, p.fixable))
        return out

    def card_paths(self) -> list[str]:
        """Every card's path (as imported), in no particular order: cheaper than a row per card."""
        return self.backend.card_paths()

    def card_folders(self) -> list[str]:
        """The existing folders holding the library's cards, sorted (what a folder watcher watches)."""
        folders = {folder.rstrip(os.sep) or os.sep for folder in self.backend.card_folders()}
        return sorted(f for f in folders if os.path.isdir(f))

    def card_id(self, path: str | os.PathLike[str]) -> int | None:
        """The id of the card imported from ``path`` (as given to import, not resolved), or None."""
        return self.backend.card_id_at(str(path))

    def flagged_cards(self, ids: Sequence[int]) -> list[FlaggedCard]:
        """The cards among ``ids`` with validation problems, a conflict or a missing file, by path."""
        return sorted(self.backend.flagged_cards([int(i) for i in ids]), key=lambda c: c.path)

    def card_labels(self, ids: Sequence[int]) -> dict[int, CardLabel]:
        """card id -> what names it in a message and ranks it among copies (CardLabel), for the known cards
        among ``ids``: a narrow read for many cards where their whole rows are not needed."""
        return {label.id: label for label in self.backend.card_labels([int(i) for i in ids])}

    # -- edits (curator.core.store_edits) -------------------------------------------------------------------
    # Every edit may carry ``expected``: card id -> the version the caller's values were read at (a
    # CardDetail's ``version``). A card whose version moved on since is left as it is: a single-card edit
    # raises StaleEdit (naming the fresh values and who made them), a bulk edit reports it in
    # ``EditResult.skipped`` and applies the rest. Cards without an expected version take current values.
    def set_fields(
        self, ids: Iterable[int], changes: Mapping[str, Any], *, label: str,
        expected: Mapping[int, int] | None = None,
    ) -> EditResult:  # fmt: skip
        """Set top-level fields on cards (None removes the key). Invalid value: ValueError, nothing changed."""
        from curator.core import store_edits

        return store_edits.set_fields(self, ids, changes, label=label, expected=expected)

    def add_topic(
        self, ids: Iterable[int], name: str, *, label: str, expected: Mapping[int, int] | None = None
    ) -> EditResult:
        """Append a topic to each card that lacks it (case-insensitive)."""
        from curator.core import store_edits

        return store_edits.change_topic(self, ids, name, add=True, label=label, expected=expected)

    def remove_topic(
        self, ids: Iterable[int], name: str, *, label: str, expected: Mapping[int, int] | None = None
    ) -> EditResult:
        """Remove a topic (case-insensitive) from each card that has it."""
        from curator.core import store_edits

        return store_edits.change_topic(self, ids, name, add=False, label=label, expected=expected)

    def set_related(
        self, card_id: int, items: list[dict[str, Any]], *, label: str, expected_version: int | None = None
    ) -> EditResult:
        """Replace one card's ``related`` list (``expected_version``: see set_fields' ``expected``)."""
        expected = None if expected_version is None else {card_id: expected_version}
        return self.set_fields([card_id], {"related": items}, label=label, expected=expected)

    def undo(self, batch_id: int) -> EditResult:
        """Put back the values a batch replaced.

        Only this Store's editor's own batches (ValueError naming whose it is otherwise). A field another
        editor has changed since is left as it is and reported in ``skipped`` ("quality was changed by Ben
        since"); the rest of the step is undone. ValueError when every field was changed since.
        """
        from curator.core import store_edits

        return store_edits.replay(self, batch_id, undo=True)

    def redo(self, batch_id: int) -> EditResult:
        """Apply an undone batch again (the same rules as undo)."""
        from curator.core import store_edits

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

        keep = dict(keep or {})
        if label is None:
            label = f"Resolve conflict: keep mine ({', '.join(keep)})" if keep else "Resolve conflict"
        return store_edits.rebase(self, card_id, card, keep, label=label)

    def set_editor(self, name: str | None) -> None:
        """Record this Store's next edits as ``name`` (None: :func:`default_editor`), cleaned as the
        constructor cleans it. Undo still steps back only edits made under the name in use."""
        self.editor = default_editor() if name is None else _editor_name(name)

    # -- roots (curator.core.roots) ---------------------------------------------------------------------
    def roots(self) -> list[Root]:
        """The folders and files imported so far, by id: what an editor maps to their own mount."""
        from curator.core import roots

        return roots.library_roots(self.backend)

    def local_root(self, root: Root) -> str:
        """Where ``root`` is on this machine under this Store's root map (its own path when unmapped)."""
        root_map = getattr(self.backend, "root_map", None)
        return root.path if root_map is None else root_map.to_local(root.path)

    # -- checks: duplicates, copies, same story (curator.core.store_checks) ----------------------------------
    def check_index(self) -> CheckIndex:
        """The library's checks index, loaded from the library and brought up to date (built if none)."""
        from curator.core import store_checks

        return store_checks.check_index(self)

    def checks_process(self) -> ChecksService:
        """Hand this Store's checks index to a child process of its own (curator.core.checks_service): its
        refreshes and suggestions are answered there, so the index never sits in this process's memory
        (the desktop app). Close the returned service when the Store is done with."""
        from curator.core import store_checks
        from curator.core.checks_service import ChecksService

        location, password = self._opened
        service = ChecksService(location, password=password)
        store_checks.serve_from(self, service)
        return service

    def refresh_checks(self) -> RefreshReport:
        """Bring a stale checks index up to date: changed cards one by one, a rebuild when most changed."""
        from curator.core import store_checks

        return store_checks.refresh(self)

    def checks_stale(self) -> bool:
        """Whether cards changed since the saved duplicate groups were computed."""
        from curator.core import store_checks

        return store_checks.is_stale(self)

    def duplicate_groups(self, query: str | None = None) -> list[Group]:
        """Saved duplicate and copy groups (whole groups with a card matching ``query``); refresh first."""
        from curator.core import store_checks

        return store_checks.duplicate_groups(self, query)

    def suggest_related(self, card_id: int, limit: int = 10) -> list[Suggestion]:
        """Same-story suggestions for a card from the up-to-date index; KeyError: no such card."""
        from curator.core import store_checks

        return store_checks.suggest_related(self, card_id, limit)

    def check_thresholds(self) -> Thresholds:
        """The library's checks thresholds (``checks.thresholds`` defaults unless set)."""
        from curator.core import store_checks

        return store_checks.thresholds(self)

    def set_check_thresholds(self, value: Thresholds) -> None:
        """Set the library's checks thresholds (shared by the GUI, the CLI and a team); the index rebuilds."""
        from curator.core import store_checks

        store_checks.set_thresholds(self, value)

    # -- files (curator.core.store_write) -------------------------------------------------------------------
    def write(
        self, ids: Iterable[int] | None = None, *, dry_run: bool = False,
        progress: Callable[[int, int], None] | None = None, cancel: Callable[[], bool] | None = None,
    ) -> WriteReport:  # fmt: skip
        """Write pending edits to their files (see store_write.write)."""
        from curator.core import store_write

        return store_write.write(self, ids, dry_run=dry_run, progress=progress, cancel=cancel)

    def now(self) -> float:
        """The clock edits and imports stamp rows with."""
        return time.time()
