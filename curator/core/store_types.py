"""Plain result values the Store and the importer hand to the CLI and the GUI."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class LibraryError(Exception):
    """The library cannot be used (newer schema, not a Curator library, unreadable)."""


class LibraryBusy(LibraryError):
    """Another connection (another Curator) held the library's write lock for longer than the busy timeout.

    The refused call changed nothing: its transaction either never began or was rolled back whole, so the
    caller may simply try again later.
    """


class LibraryReadOnly(LibraryError):
    """The library may be read but not changed: a read-only file, or a team library's role without the
    right to write (or a read-only server). Nothing was changed; reading goes on working."""


class LibraryDiskError(LibraryError):
    """The disk under the library failed it: full (SQLITE_FULL) or an I/O error (SQLITE_IOERR).

    As with LibraryBusy, the transaction that met it was rolled back; the files (the truth) are untouched.
    """


@dataclass(frozen=True)
class CardRow:
    """One line of the card list: the current values of the listed columns."""

    id: int
    path: str
    title: str | None
    category: str | None
    provider: str | None
    published_at: str | None
    date: str | None
    quality: int | None
    heat: int | None
    published: bool | None
    topics: list[str]
    lead_image: str | None
    dirty: bool
    conflict: bool
    missing: bool
    problems: int
    related_count: int


@dataclass(frozen=True)
class CardDetail(CardRow):
    """A card's row plus its whole current mapping, images, related items and pending edits.

    ``version``: the card's version when it was read; an edit made from what this detail shows passes it
    (``expected``), so a card another editor changed meanwhile is refused rather than overwritten.
    """

    data: dict[str, Any]
    images: list[dict[str, Any]]
    related: list[dict[str, Any]]
    pending: dict[str, tuple[Any, Any]]
    version: int = 0


@dataclass(frozen=True)
class Facets:
    """Counts under a query: status counts and the top categories, topics and providers."""

    status: dict[str, int]  # all unpublished published changed problems conflicts missing
    categories: list[tuple[str, int]]
    topics: list[tuple[str, int]]
    providers: list[tuple[str, int]]


@dataclass(frozen=True)
class Totals:
    """Whole-library counts for the status bar."""

    cards: int
    dirty: int
    conflicts: int
    missing: int
    problems: int


@dataclass(frozen=True)
class FieldChange:
    """A field's current value and who set it, when (from the journal; None: nobody since the file)."""

    field: str
    value: Any
    editor: str | None
    when: float | None


@dataclass(frozen=True)
class Skipped:
    """A card (``field`` None) or one field of it that an edit, undo or redo left as it was, and why.

    ``reason`` is a sentence for the editor; ``fresh`` the card's current values of the fields concerned
    with who set them; ``version`` the card's current version (pass it to try again on fresh values).
    """

    card_id: int
    field: str | None
    reason: str
    fresh: tuple[FieldChange, ...] = ()
    version: int | None = None


class StaleEdit(ValueError):
    """A single-card edit based on a version of the card another edit has since replaced: nothing changed.

    A ValueError, so every caller that shows a refused edit shows this one too; the message names the
    fresh values and who made them ("published is now true (Ana, 5 s ago)").
    """

    def __init__(self, skipped: Skipped) -> None:
        super().__init__(skipped.reason)
        self.skipped = skipped

    @property
    def card_id(self) -> int:
        return self.skipped.card_id


@dataclass(frozen=True)
class EditResult:
    """What one edit call (or an undo/redo) did.

    ``skipped``: what it left alone and why: cards of a bulk edit changed since the versions the caller
    passed, fields of an undo or redo another editor has changed since.
    """

    batch_id: int | None  # None when nothing changed (no batch was recorded)
    changed: list[int]  # ids of the cards whose values changed, ascending
    skipped: list[Skipped] = field(default_factory=list)


@dataclass(frozen=True)
class BatchInfo:
    """One undo step in the edit history."""

    id: int
    label: str
    created: float
    undone: bool
    cards: int  # distinct cards touched
    entries: int  # field changes recorded
    editor: str = ""  # who made it ('' for a batch recorded before editors were: anyone may undo it)


@dataclass(frozen=True)
class ProblemRow:
    """One validation problem of one card (``curator check``)."""

    id: int
    path: str
    field: str
    problem: str
    fixable: bool


@dataclass
class WriteReport:
    """What ``Store.write`` did; ``diffs`` holds (path, old bytes, new bytes) on a dry run."""

    written: int = 0
    unchanged: int = 0
    already: int = 0
    conflicts: list[dict[str, str]] = field(default_factory=list)  # {"path", "reason"}
    failed: list[dict[str, str]] = field(default_factory=list)  # {"path", "reason"}
    diffs: list[tuple[str, bytes, bytes]] = field(default_factory=list)
    cancelled: bool = False


@dataclass
class ImportReport:
    """What ``import_paths`` did (the CLI's ``import --json`` object, plus a few extras)."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    failed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)  # {"path","line","column","message"}
    conflicts: list[str] = field(default_factory=list)  # paths changed on disk under pending edits
    missing: list[str] = field(default_factory=list)  # vanished paths kept for their pending edits
    cancelled: bool = False

    def as_json(self) -> dict[str, Any]:
        """The object ``curator import --json`` prints."""
        return {
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "failed": self.failed,
            "errors": list(self.errors),
        }
