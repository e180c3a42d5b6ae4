"""Edits in the library: set fields, add/remove topics, undo/redo, each one transaction.

Every change of a card's field goes through :func:`apply_values`, which keeps the library's invariants in
one place: ``pending_edit`` holds (file value, pending value) only while they differ, the card row and its
topic/image/related/full-text rows hold the current value, ``dirty`` says whether pending edits exist,
and ``problems`` counts the problems of the current mapping. It works set-wise: one query per edited field
reads the old values of every card, and the backend's bulk paths write the results, so a bulk edit of 10k
cards is a handful of statements rather than 10k ORM saves. No SQL here: the library is the Store's
``backend`` (``curator.core.backend.base.Backend``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from curator.core import fields
from curator.core.backend.base import Backend, Change, FieldRow
from curator.core.store_rows import (
    FIELD_COLUMNS,
    FTS_FIELDS,
    card_record,
    dumps,
    fts_values,
    image_rows,
    related_rows,
    summary_columns,
)
from curator.core.store_types import EditResult

if TYPE_CHECKING:
    from curator.core.cards import Card

__all__ = ["Change", "apply_values", "change_topic", "current_values", "rebase", "replay", "set_fields", "validate"]

_FTS_COLUMN = {"title": 0, "excerpt": 1, "provider": 2, "topics": 3, "related": 4}
#: Cards sharing one new value from which their columns are set by one statement rather than a row each.
_SHARED_AT_LEAST = 32


class _StoreLike(Protocol):
    backend: Backend

    def now(self) -> float: ...


def _key(value: Any) -> Any:
    """Equality key: 1 and true differ, 1 and 1.0 differ, and key order inside maps does not matter."""
    if isinstance(value, (list, dict)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return (type(value), value)


def _field_problems(field: str, value: Any) -> list[fields.Problem]:
    """The problems ``value`` has as ``field`` (problems of other keys are left out)."""
    data = {} if value is None else {field: value}
    return [p for p in fields.problems(data) if p.field == field or p.field.startswith((f"{field}[", f"{field}."))]


def validate(field: str, value: Any) -> Any:
    """The value to store for ``field``, or ValueError (a sentence) when an editor may not set it.

    Text for a field with a `set` parser (``"60"`` for quality) is coerced as the CLI would.
    """
    rule = fields.EDITABLE.get(field)
    if rule is None:
        raise ValueError(f"{field!r} cannot be edited; editable fields: {', '.join(fields.EDITABLE)}")
    if isinstance(value, str) and rule.parse is not None and field != "topics":
        value = fields.coerce(field, value)
    if value is None:
        return None  # removing the key
    try:
        dumps(value).encode("utf-8")  # as stored: no NaN or infinity (SQLite's JSON refuses them), valid text
    except (TypeError, ValueError) as e:  # UnicodeEncodeError (a lone surrogate) is a ValueError
        raise ValueError(f"{field}: {fields.show(value)} is not a plain value the library can store ({e})") \
            from None
    # Refuse a wrong shape or range; problems deeper inside list items (a related article's URL) and
    # suspected mojibake stay possible: `check` lists them, and an editor must be able to edit the rest
    # of a list whose other items have problems.
    found = [
        p for p in _field_problems(field, value) if p.kind != "mojibake" and "." not in p.field[len(field) :]
    ]
    if found:
        raise ValueError(found[0].problem)
    return value


def current_values(backend: Backend, field: str, ids: Iterable[int]) -> dict[int, tuple[Any, Any]]:
    """card id -> (value in the file, current value) of one field; None for an absent key."""
    return {cid: (json.loads(base), json.loads(cur)) for cid, base, cur in backend.current(field, ids)}


def apply_values(
    backend: Backend, items: Sequence[tuple[int, str, Any]],
    known: Mapping[str, list[FieldRow]] | None = None,
) -> list[Change]:  # fmt: skip
    """Make each (card, field, value) current; returns the changes actually made (no-ops left out).

    Runs inside the caller's transaction. Unknown card ids are ignored. ``known``: rows of
    ``backend.current`` the caller has already read in this transaction, by field (spares a second read).
    """
    by_field: dict[str, dict[int, Any]] = {}
    for cid, field, value in items:
        by_field.setdefault(field, {})[cid] = value
    changes: list[Change] = []
    problem_delta: dict[int, int] = {}
    pending: set[int] = set()  # cards given a pending value
    cleared: set[int] = set()  # cards with a pending value removed
    marked: set[int] = set()  # cards already marked dirty by a set-based column update
    for field, new_values in by_field.items():
        # A bulk edit gives every card the same value object: encode and check it once, not 10k times.
        # Stored values repeat too (10k cards hold a few hundred distinct topic lists): decode each once.
        encoded: dict[int, tuple[Any, str]] = {}
        decoded: dict[str, tuple[Any, Any]] = {}
        problem_counts: dict[Any, int] = {}

        def load(text: str) -> tuple[Any, Any]:
            """(value, equality key) of stored JSON text."""
            hit = decoded.get(text)
            if hit is None:
                value = json.loads(text)
                hit = decoded[text] = (value, _key(value))
            return hit

        def problem_count(key: Any, value: Any) -> int:
            if key not in problem_counts:
                problem_counts[key] = len(_field_problems(field, value))
            return problem_counts[key]

        upserts, deletes, changed = [], [], []
        rows = known[field] if known and field in known else backend.current(field, new_values)
        for cid, base_text, cur_text in rows:
            if cid not in new_values:
                continue
            new = new_values[cid]
            if id(new) not in encoded:
                encoded[id(new)] = (_key(new), dumps(new))
            new_key, new_text = encoded[id(new)]
            old, old_key = load(cur_text)
            if old_key == new_key:
                continue  # setting a value the card already has changes nothing
            if new_key == load(base_text)[1]:
                deletes.append((cid, field))  # back to the file's value: no longer pending
            else:
                upserts.append((cid, field, base_text, new_text))
            changes.append((cid, field, cur_text, new_text))
            changed.append((cid, new))
            # Problems are per field (fields.problems names the field of each), so the card's count
            # moves by the difference between the old and the new value's problems.
            delta = problem_count(new_key, new) - problem_count(old_key, old)
            if delta:
                problem_delta[cid] = problem_delta.get(cid, 0) + delta
        pending.update(u[0] for u in upserts)
        cleared.update(d[0] for d in deletes)
        backend.drop_pending(deletes)
        backend.set_pending(upserts)
        gained = {u[0] for u in upserts} - marked
        marked |= _update_columns(backend, field, changed, gained)
    backend.adjust_problems([(d, c) for c, d in problem_delta.items()])
    # A card with a pending value is dirty (most were marked with their columns, in the same statement);
    # one whose edits all went back to the file's values may not be.
    backend.refresh_dirty(pending - marked, cleared - pending)
    return changes


def _update_columns(
    backend: Backend, field: str, values: Sequence[tuple[int, Any]], dirty: set[int]
) -> set[int]:
    """Bring the card columns and child rows that ``field`` feeds up to date; returns the cards of
    ``dirty`` (cards that now have a pending edit) it also marked dirty.

    Set-based where the edit is: cards given the same column values (a bulk edit's one value) are
    updated by one statement per distinct value, marking them dirty in the same pass over their rows.
    """
    columns = FIELD_COLUMNS.get(field)
    if not columns or not values:
        return set()
    # Derived values per distinct value object (a bulk edit shares one): summarize once, not per card.
    derived: dict[int, tuple[tuple[Any, ...], str | None, list[tuple[Any, ...]]]] = {}
    col_rows, fts_rows, child_rows = [], [], []
    for cid, value in values:
        if id(value) not in derived:
            summary = fields.summarize({} if value is None else {field: value})
            cols = summary_columns(summary)
            children: list[tuple[Any, ...]] = []
            if field == "topics":
                children = [(name, pos) for pos, name in enumerate(summary.topics)]
            elif field == "images":
                children = image_rows(summary)
            elif field == "related":
                children = related_rows(summary)
            fts = fts_values(summary)[_FTS_COLUMN[field]] if field in FTS_FIELDS else None
            derived[id(value)] = (tuple(cols[c] for c in columns), fts, children)
        col_values, fts, children = derived[id(value)]
        if field == "publishedDateTime" and value is None:
            # Without publishedDateTime the list shows the blog-style `date` key, as summarize does.
            fallback = backend.file_value(cid, "date")
            if fallback is not None:
                cols = summary_columns(fields.summarize({"date": json.loads(fallback)}))
                col_values = tuple(cols[c] for c in columns)
        col_rows.append((*col_values, cid))
        if fts is not None:
            fts_rows.append((fts, cid))
        child_rows.extend((cid, *row) for row in children)
    by_value: dict[tuple[Any, ...], list[int]] = {}
    for row in col_rows:
        by_value.setdefault(row[:-1], []).append(row[-1])
    marked: set[int] = set()
    singles: list[tuple[Any, ...]] = []
    for col_values, ids in by_value.items():
        if len(ids) < _SHARED_AT_LEAST:
            singles.extend((*col_values, cid) for cid in ids)
            continue
        gaining = [cid for cid in ids if cid in dirty]
        backend.set_columns(columns, col_values, gaining, dirty=True)
        backend.set_columns(columns, col_values, [cid for cid in ids if cid not in dirty], dirty=False)
        marked.update(gaining)
    backend.update_columns(columns, singles)
    if fts_rows:
        backend.update_fulltext(field, fts_rows)
    if field == "topics" or field == "images" or field == "related":
        backend.replace_children(field, [cid for cid, _ in values], child_rows)
    return marked


def _record(
    store: _StoreLike, items: Sequence[tuple[int, str, Any]], label: str,
    known: Mapping[str, list[tuple[int, str, str]]] | None = None,
) -> EditResult:  # fmt: skip
    """Apply edits and journal them as one batch, in one transaction (``known``: see apply_values)."""
    backend = store.backend
    with backend.transaction():
        changes = apply_values(backend, items, known)
        if not changes:
            return EditResult(None, [])
        now = store.now()
        batch_id = backend.add_batch(label, now)
        backend.add_journal(batch_id, changes, now)
    return EditResult(batch_id, sorted({c[0] for c in changes}))


def set_fields(store: _StoreLike, ids: Iterable[int], changes: Mapping[str, Any], *, label: str) -> EditResult:
    """Set each field in ``changes`` on every card in ``ids``: one batch. ValueError when invalid."""
    changes = {field: validate(field, value) for field, value in changes.items()}
    ids = list(dict.fromkeys(ids))
    items = [(cid, field, value) for field, value in changes.items() for cid in ids]
    return _record(store, items, label)


def change_topic(store: _StoreLike, ids: Iterable[int], name: str, *, add: bool, label: str) -> EditResult:
    """topics+= (append when absent, case-insensitive) or topics-= (remove case-insensitively)."""
    if not isinstance(name, str) or not name.strip():
        raise ValueError("a topic must be a non-empty text")
    name = name.strip()
    backend = store.backend
    items = []
    # Cards holding the same topic list get the same new list object, so apply_values encodes, checks
    # and summarizes each distinct list once (a bulk add on 10k cards meets a few hundred lists).
    new_lists: dict[str, list[str] | None] = {}
    with backend.transaction():  # read and change under one lock: no edit can slip in between
        rows = backend.current("topics", list(dict.fromkeys(ids)))
        for cid, _, text in rows:
            if text not in new_lists:
                new_lists[text] = _changed_topics(json.loads(text), name, add)
            if (new := new_lists[text]) is not None:
                items.append((cid, "topics", new))
        return _record(store, items, label, known={"topics": rows})


def _changed_topics(topics: Any, name: str, add: bool) -> list[str] | None:
    """The topic list after topics+=name / topics-=name (case-insensitive); None when nothing changes."""
    if topics is None:
        topics = []
    if not isinstance(topics, list):
        return None  # a wrong-typed value is a problem for `check`, not something to append to
    wanted = name.casefold()
    same = [t for t in topics if isinstance(t, str) and t.casefold() == wanted]
    if add and not same:
        return [*topics, name]
    if not add and same:
        return [t for t in topics if t not in same]
    return None


def replay(store: _StoreLike, batch_id: int, *, undo: bool) -> EditResult:
    """Undo (put back each entry's old value) or redo (its new value) a batch from the journal."""
    backend = store.backend
    with backend.transaction():
        undone = backend.batch_undone(batch_id)
        if undone is None:
            raise ValueError(f"no edit batch {batch_id}")
        if undone == undo:
            return EditResult(batch_id, [])  # already in the asked-for state
        entries = backend.batch_entries(batch_id)
        if undo:
            entries.reverse()
        items = [(cid, field, json.loads(old if undo else new)) for cid, field, old, new in entries]
        changes = apply_values(backend, items)
        backend.set_batch_undone(batch_id, undo)
    return EditResult(batch_id, sorted({c[0] for c in changes}))


def rebase(store: _StoreLike, card_id: int, card: Card, keep: Mapping[str, Any], *, label: str) -> EditResult:
    """Make ``card`` (its file read now) the card's new base, keeping only the ``keep`` values pending.

    One transaction: the file's fingerprint, mapping, columns, child and full-text rows are replaced as a
    rescan would (clearing ``conflict`` and ``missing``), every pending edit is dropped, and the kept
    values are set again over the new base as one journal batch, so undoing it leaves the file's values.
    The dropped edits are not journalled: the batches that made them stay in the history, and replaying
    one applies its values over the new base like any other edit. Returns that batch (``batch_id`` None
    when nothing is kept pending) and ``changed == [card_id]``: the base changed even then.
    ValueError (nothing changed) for an unknown card, a card read from another path or without a
    fingerprint, or a kept value an editor may not set.
    """
    if card.state is None:
        raise ValueError("the card must be read from its file (it has no fingerprint)")
    # Validated before anything is touched: a refused value leaves the conflict as it was.
    kept = {field: validate(field, value) for field, value in keep.items()}
    backend = store.backend
    with backend.transaction():
        path = backend.card_path(card_id)
        if path is None:
            raise ValueError(f"no card {card_id} in the library")
        if path != card.path:
            raise ValueError(f"card {card_id} is {path}, not {card.path}")
        backend.update_cards([(card_id, card_record(card.path, card.state, card.data, store.now()))])
        backend.clear_pending(card_id)
        # Nested (a savepoint): the new base and the kept values commit together or not at all.
        result = _record(store, [(card_id, field, value) for field, value in kept.items()], label)
    return EditResult(result.batch_id, [card_id])
