"""Conflicts: a card whose file changed on disk under pending edits, compared and resolved field by field.

"Mine" is the library's current value of a field (the pending edit, or the file's old value when the field
was not edited); "theirs" is the value the file holds now. :func:`compare` lists the fields where they
differ; :func:`resolve` makes the file as it is now the new base of the card and keeps, per field, either
the editor's value (as a pending edit over the new base, recorded as one undoable batch) or the file's.
Pure core code: no Qt.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from curator.core import cards, fields
from curator.core.store_types import EditResult

Choice = Literal["mine", "theirs"]
MINE: Choice = "mine"
THEIRS: Choice = "theirs"


class ConflictError(Exception):
    """The conflict cannot be resolved now (file missing or unreadable, or changed again meanwhile)."""


@dataclass(frozen=True)
class FieldDiff:
    """One top-level field whose library value and file value differ (None stands for an absent key)."""

    field: str
    base: Any  # the file's value when the library last read it (what the edits were made against)
    mine: Any  # the library's current value
    theirs: Any  # the file's value now
    pending: bool  # "mine" is an edit made in Curator (not just the file's old value)
    editable: bool  # "keep mine" is possible (only editable fields can carry a pending value)

    @property
    def default(self) -> Choice:
        """The suggested choice: keep the editor's own edits, take the file's other changes."""
        return MINE if self.pending and self.editable else THEIRS


@dataclass(frozen=True)
class Comparison:
    """A conflicted card's fields side by side, and the file state they were read from."""

    card_id: int
    path: str
    state: cards.FileState
    diffs: list[FieldDiff]

    def diff(self, field: str) -> FieldDiff | None:
        return next((d for d in self.diffs if d.field == field), None)


def _same(a: Any, b: Any) -> bool:
    # As the store compares values: 1 and true differ, key order inside maps does not matter.
    return type(a) is type(b) and json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _library_state(store: Any, card_id: int) -> tuple[str, dict[str, Any], dict[str, tuple[Any, Any]]]:
    """(path, the mapping as last read, pending edits) of a card; ConflictError for an unknown card."""
    row = store.backend.card_doc(card_id)
    if row is None:
        raise ConflictError(f"no card {card_id} in the library")
    return row[0], json.loads(row[1]), store.pending(card_id)


def read_now(path: str) -> cards.Card:
    """The card file as it is now, with its FileState; ConflictError when it is not a readable card.

    Read as every card is (``cards.read_bounded``): through a link to the real file, never blocking
    on a FIFO, never reading a device or a folder, never more than the card size cap.
    """
    try:
        raw, st = cards.read_bounded(path)
        card = cards.parse_card(raw, path)
    except cards.CardError as e:
        raise ConflictError(f"cannot read the file as it is now: {e}") from e
    card.state = cards.FileState(len(raw), st.st_mtime_ns, hashlib.sha256(raw).hexdigest())
    return card


def compare(store: Any, card_id: int) -> Comparison:
    """Read the card's file now and list the fields where the library and the file disagree.

    Raises ConflictError when the file is missing, is no longer a regular file (a FIFO, a folder, ...),
    is over the card size cap, or is no longer a readable card.
    """
    path, base, pending = _library_state(store, card_id)
    card = read_now(path)
    assert card.state is not None  # read_now always fingerprints the file
    theirs = card.data
    mine = dict(base)
    for field, (_, value) in pending.items():
        if value is None:
            mine.pop(field, None)
        else:
            mine[field] = value
    diffs = []
    # Fields in file order first (as the editor knows the card), then keys only one side has.
    for field in dict.fromkeys([*theirs, *mine, *base]):
        if field in theirs and field in mine and _same(theirs[field], mine[field]):
            continue
        if field not in theirs and field not in mine:
            continue
        diffs.append(
            FieldDiff(
                field=field,
                base=base.get(field),
                mine=mine.get(field),
                theirs=theirs.get(field),
                pending=field in pending,
                editable=field in fields.EDITABLE and field != "secured",
            )
        )
    return Comparison(card_id, path, card.state, diffs)


def resolve(
    store: Any,
    comparison: Comparison,
    choices: Mapping[str, Choice] | None = None,
    *,
    label: str | None = None,
) -> EditResult:
    """Apply per-field choices to a compared card; unlisted fields take their default choice.

    The file as compared becomes the card's base (its conflict mark goes), every pending edit is dropped,
    and the fields kept as "mine" are set again as pending edits over the new base: one batch in the
    journal (so Undo takes them back to the file's values), all in one transaction. Returns that batch
    (batch_id None when every field took the file's value; ``changed`` is the card either way: its base
    moved). The work is :meth:`Store.rebase`'s. Raises ConflictError when the file changed
    again since ``compare`` (compare again), ValueError for a choice on an unknown or non-editable field.
    """
    choices = dict(choices or {})
    for field, choice in choices.items():
        diff = comparison.diff(field)
        if diff is None:
            raise ValueError(f"{field!r} is not one of the fields in conflict")
        if choice not in (MINE, THEIRS):
            raise ValueError(f"choice for {field!r} must be 'mine' or 'theirs', not {choice!r}")
        if choice == MINE and not diff.editable:
            raise ValueError(f"{field!r} cannot be edited in Curator, so only the file's value can be kept")
    keep = {d.field: d.mine for d in comparison.diffs if choices.get(d.field, d.default) == MINE}
    card = read_now(comparison.path)
    assert card.state is not None
    if card.state.sha256 != comparison.state.sha256:
        raise ConflictError(f"{comparison.path} changed again since it was compared; compare it again")
    name = label or f"Resolve conflict: keep mine ({', '.join(keep)})"
    return store.rebase(comparison.card_id, card, keep, label=name)
