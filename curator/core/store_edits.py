"""Edits in the library: set fields, add/remove topics, undo/redo, each one transaction.

Every change of a card's field goes through :func:`apply_values`, which keeps the library's invariants in
one place: ``pending_edit`` holds (file value, pending value) only while they differ, the card row and its
topic/image/related/full-text rows hold the current value, ``dirty`` says whether pending edits exist,
and ``problems`` counts the problems of the current mapping. It works set-wise: one query per edited field
reads the old values of every card, each distinct (file, current, new) value is decided once, and the
backend's bulk paths write the results as runs of cards sharing their values (``edit_runs.Runs``), so a
bulk edit of 10k cards is a handful of statements rather than 10k ORM saves, and its cards are rows in
Python only where their new values differ. No SQL here: the library is the Store's ``backend``
(``curator.core.backend.base.Backend``).

Many editors (a team library, or several Curators on one SQLite file): every batch, journal entry and
pending edit records the Store's ``editor`` and the time. Each card has a version that every change of
its values advances (the backends' column updates do it in the same statements). An edit may say the
versions its values were read at (``expected``); inside the edit's transaction, which holds the
library's write lock, a card whose version moved on is left alone: one card refused with StaleEdit
naming the fresh values and who set them, a bulk edit applying to the rest and reporting what it
skipped. Undo and redo step back only the editor's own batches, and leave a field another editor has
changed since (a later batch, not undone) as it is, saying so.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from curator.core import fields
from curator.core.backend.base import Backend, Change, FieldRow
from curator.core.backend.edit_runs import Runs
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
from curator.core.store_types import EditResult, FieldChange, Skipped, StaleEdit

if TYPE_CHECKING:
    from curator.core.cards import Card

__all__ = [
    "Change", "ago", "apply_values", "change_topic", "current_values", "last_changes", "rebase", "replay",
    "set_fields", "validate",
]  # fmt: skip

_FTS_COLUMN = {"title": 0, "excerpt": 1, "provider": 2, "topics": 3, "related": 4}
#: Cards sharing one new value from which their columns are set by one statement rather than a row each.
_SHARED_AT_LEAST = 32
_ABSENT = object()  # a card the caller gave no new value for (``known`` rows may hold more cards)


class _StoreLike(Protocol):
    backend: Backend
    editor: str

    def now(self) -> float: ...


def ago(seconds: float) -> str:
    """How long ago, as an editor says it: "just now", "5 s ago", "3 min ago", "2 h ago", "4 days ago".

    Team members' clocks differ by a little: a time slightly ahead of this machine's reads "just now".
    """
    if seconds < 1:
        return "just now"
    if seconds < 60:
        return f"{int(seconds)} s ago"
    if seconds < 3600:
        return f"{int(seconds // 60)} min ago"
    if seconds < 86400:
        return f"{int(seconds // 3600)} h ago"
    days = int(seconds // 86400)
    return "1 day ago" if days == 1 else f"{days} days ago"


def _value_text(value: Any) -> str:
    """A field's value as the card file spells it (true, 40, 'Mars', [AI, Space]); absent: "not set"."""
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return fields.show(value).replace("'", "") if len(value) < 8 else f"a list of {len(value)} names"
    if isinstance(value, list):
        return f"a list of {len(value)} items"
    return fields.show(value)


def _who(editor: str | None) -> str:
    return editor or "someone"  # '' : recorded before editors were (or by a Curator without a name)


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


def _decoded(cache: dict[str, tuple[Any, Any]], text: str) -> tuple[Any, Any]:
    """(value, equality key) of stored JSON text, decoded once per text."""
    hit = cache.get(text)
    if hit is None:
        value = json.loads(text)
        hit = cache[text] = (value, _key(value))
    return hit


def _problem_count(cache: dict[Any, int], field: str, key: Any, value: Any) -> int:
    """How many problems ``value`` (equality key ``key``) has as ``field``, counted once per key."""
    if key not in cache:
        cache[key] = len(_field_problems(field, value))
    return cache[key]


def apply_values(
    backend: Backend, items: Sequence[tuple[int, str, Any]],
    known: Mapping[str, Sequence[FieldRow]] | None = None, *, editor: str = "", now: float = 0.0,
) -> Runs:  # fmt: skip
    """Make each (card, field, value) current; returns the changes actually made (no-ops left out), as
    runs of cards sharing their field, old and new values (a sequence of Change tuples).

    Runs inside the caller's transaction. Unknown card ids are ignored. ``known``: rows of
    ``backend.current`` the caller has already read in this transaction, by field (spares a second read).
    Pending edits record ``editor`` and ``now``; every changed card's version advances.
    """
    by_field: dict[str, dict[int, Any]] = {}
    for cid, field, value in items:
        by_field.setdefault(field, {})[cid] = value
    return _apply(backend, by_field, known, editor=editor, now=now)


def _apply(
    backend: Backend, by_field: Mapping[str, Mapping[int, Any]],
    known: Mapping[str, Sequence[FieldRow]] | None, *, editor: str, now: float,
    shared: Mapping[str, Any] | None = None,
) -> Runs:  # fmt: skip
    """apply_values of field -> card id -> new value. ``shared``: field -> the one value object every card
    of ``by_field[field]`` gets (a bulk set's), so the cards need not be looked at one by one."""
    journal: list[tuple[tuple[str, str, str], list[int]]] = []  # ((field, old, new), its cards)
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
        # What an edit does to a card depends only on its (file, current, new) values, and a bulk edit
        # meets few such triples: the cards are sorted into one group per triple (in card order within
        # it), and each group is decided once (no-op, back to the file's value or pending; the problems
        # delta). The rows then go to the backend as runs (edit_runs.Runs), so it writes each run's pending
        # rows and journal entries with one statement however the values interleave among the cards.
        groups: dict[tuple[str, str, int], list[int]] = {}
        values: dict[int, Any] = {}  # id(new value) -> the value
        from_known = known is not None and field in known
        rows = known[field] if known is not None and from_known else backend.current(field, new_values)
        one = shared.get(field, _ABSENT) if shared else _ABSENT
        if not from_known and one is not _ABSENT and isinstance(rows, Runs):
            # The backend read the cards as runs of equal (file, current) values and every card gets the
            # same value: the runs are the groups (current() holds only the cards asked for).
            values[id(one)] = one
            for (base_text, cur_text), cids in rows.runs:
                groups[(base_text, cur_text, id(one))] = list(cids)
            rows = ()
        for cid, base_text, cur_text in rows:
            new = new_values.get(cid, _ABSENT)
            if new is _ABSENT:
                continue
            group = groups.get((base_text, cur_text, id(new)))
            if group is None:
                group = groups[(base_text, cur_text, id(new))] = []
                values[id(new)] = new
            group.append(cid)
        # The pending rows of cards sharing (file value, new value) and the journal entries of cards sharing
        # (old value, new value) are gathered each into one run, whatever else told their groups apart.
        pending_runs: dict[tuple[str, str], list[int]] = {}
        journal_runs: dict[tuple[str, str], list[int]] = {}
        dropped: list[int] = []
        changed: list[tuple[Any, list[int]]] = []  # (new value, its cards)
        for (base_text, cur_text, new_id), cids in groups.items():
            new = values[new_id]
            if new_id not in encoded:
                encoded[new_id] = (_key(new), dumps(new))
            new_key, new_text = encoded[new_id]
            old, old_key = _decoded(decoded, cur_text)
            if old_key == new_key:
                continue  # setting a value the card already has changes nothing
            if new_key == _decoded(decoded, base_text)[1]:  # back to the file's value: no longer pending
                dropped.extend(cids)
            else:
                pending_runs.setdefault((base_text, new_text), []).extend(cids)
            journal_runs.setdefault((cur_text, new_text), []).extend(cids)
            changed.append((new, cids))
            # Problems are per field (fields.problems names the field of each), so the card's count
            # moves by the difference between the old and the new value's problems.
            delta = _problem_count(problem_counts, field, new_key, new) - _problem_count(
                problem_counts, field, old_key, old
            )
            if delta:
                for cid in cids:
                    problem_delta[cid] = problem_delta.get(cid, 0) + delta
        # Each run in card order (a run one group made is in order already: sorting it is one pass).
        upserts = Runs(((field, base, new), sorted(cids)) for (base, new), cids in pending_runs.items())
        journal.extend(((field, old, new), sorted(cids)) for (old, new), cids in journal_runs.items())
        gained: set[int] = set()
        for _, cids in upserts.runs:
            gained.update(cids)
        pending |= gained
        cleared.update(dropped)
        backend.drop_pending([(cid, field) for cid in dropped])
        backend.set_pending(upserts, editor=editor, changed=now)
        marked |= _update_columns(backend, field, changed, gained - marked)
    backend.adjust_problems([(d, c) for c, d in problem_delta.items()])
    # A card with a pending value is dirty (most were marked with their columns, in the same statement);
    # one whose edits all went back to the file's values may not be.
    backend.refresh_dirty(pending - marked, cleared - pending)
    return Runs(journal)


def _update_columns(
    backend: Backend, field: str, groups: Sequence[tuple[Any, list[int]]], dirty: set[int]
) -> set[int]:
    """Bring the card columns and child rows that ``field`` feeds up to date for each (new value, its
    cards) of ``groups``; returns the cards of ``dirty`` (cards that now have a pending edit) it also
    marked dirty.

    Set-based where the edit is: cards given the same column values (a bulk edit's one value) are
    updated by one statement per distinct value, marking them dirty in the same pass over their rows.
    """
    columns = FIELD_COLUMNS.get(field)
    if not groups:
        return set()
    if not columns:  # no column to set, so no statement that would advance the versions on the way
        backend.touch_versions([cid for _, cids in groups for cid in cids])
        return set()
    # Derived values per distinct value object (a bulk edit shares one): summarize once, not per card.
    derived: dict[int, tuple[tuple[Any, ...], str | None, list[tuple[Any, ...]]]] = {}
    by_value: dict[tuple[Any, ...], list[int]] = {}  # column values -> the cards given them
    fts_rows: list[tuple[str, int]] = []
    child_rows: list[tuple[Any, ...]] = []
    for value, cids in groups:
        hit = derived.get(id(value))
        if hit is None:
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
            hit = derived[id(value)] = (tuple(cols[c] for c in columns), fts, children)
        col_values, fts, children = hit
        if field == "publishedDateTime" and value is None:
            # Without publishedDateTime the list shows the blog-style `date` key, as summarize does.
            for cid in cids:
                fallback = backend.file_value(cid, "date")
                own = col_values
                if fallback is not None:
                    cols = summary_columns(fields.summarize({"date": json.loads(fallback)}))
                    own = tuple(cols[c] for c in columns)
                by_value.setdefault(own, []).append(cid)
        else:
            by_value.setdefault(col_values, []).extend(cids)
        if fts is not None:
            fts_rows.extend([(fts, cid) for cid in cids])
        if children:
            child_rows.extend([(cid, *row) for cid in cids for row in children])
    marked: set[int] = set()
    singles: list[tuple[Any, ...]] = []
    for col_values, ids in by_value.items():
        if len(ids) < _SHARED_AT_LEAST:
            singles.extend((*col_values, cid) for cid in ids)
            continue
        if dirty.issuperset(ids):  # a bulk edit's usual case, every card now pending: no pass in Python
            gaining, staying = ids, []
        else:
            gaining = [cid for cid in ids if cid in dirty]
            staying = [cid for cid in ids if cid not in dirty]
        backend.set_columns(columns, col_values, gaining, dirty=True)
        backend.set_columns(columns, col_values, staying, dirty=False)
        marked.update(gaining)
    backend.update_columns(columns, singles)
    if fts_rows:
        backend.update_fulltext(field, fts_rows)
    if field == "topics" or field == "images" or field == "related":
        backend.replace_children(field, [cid for _, cids in groups for cid in cids], child_rows)
    return marked


def _record(
    store: _StoreLike, by_field: Mapping[str, Mapping[int, Any]], label: str,
    known: Mapping[str, Sequence[FieldRow]] | None = None, skipped: Sequence[Skipped] = (),
    shared: Mapping[str, Any] | None = None,
) -> EditResult:  # fmt: skip
    """Apply edits (field -> card id -> new value) and journal them as one batch, in one transaction
    (``known``: see apply_values; ``shared``: see _apply)."""
    backend = store.backend
    with backend.transaction():
        now = store.now()
        changes = _apply(backend, by_field, known, editor=store.editor, now=now, shared=shared)
        if not changes:
            return EditResult(None, [], list(skipped))
        batch_id = backend.add_batch(label, now, store.editor)
        backend.add_journal(batch_id, changes, now, store.editor)
    return EditResult(batch_id, changes.card_ids(), list(skipped))


def last_changes(store: _StoreLike, ids: Sequence[int]) -> dict[int, dict[str, FieldChange]]:
    """card -> field -> the value the journal's latest change (of a batch not undone) set, by whom, when."""
    out: dict[int, dict[str, FieldChange]] = {}
    for cid, field, new, editor, when in store.backend.field_changes(list(ids)):
        out.setdefault(cid, {})[field] = FieldChange(field, json.loads(new), editor, when)
    return out


def _stale(
    store: _StoreLike, ids: list[int], expected: Mapping[int, int] | None, edited: Sequence[str]
) -> tuple[list[int], list[Skipped]]:
    """Split ``ids`` into the cards to edit and those changed since the caller's ``expected`` versions.

    Inside the edit's transaction (under the write lock), so no edit can land between this check and the
    edit itself. A skipped card names its fresh values of the ``edited`` fields (and of the field changed
    last, when another) with who set each and when.
    """
    if not expected:
        return ids, []
    backend = store.backend
    versions = backend.versions([cid for cid in ids if cid in expected])
    stale = [cid for cid in ids if cid in versions and versions[cid] != int(expected[cid])]
    if not stale:
        return ids, []
    changes = last_changes(store, stale)
    wanted: dict[int, list[str]] = {}
    for cid in stale:
        names = list(dict.fromkeys(edited))
        newest = max(changes.get(cid, {}).values(), key=lambda c: c.when or 0.0, default=None)
        if newest is not None and newest.field not in names:
            names.append(newest.field)
        wanted[cid] = names
    current: dict[tuple[int, str], Any] = {}
    for field in dict.fromkeys(f for names in wanted.values() for f in names):
        for cid, (_, value) in current_values(backend, field, [c for c in stale if field in wanted[c]]).items():
            current[(cid, field)] = value
    now = store.now()
    skipped = []
    for cid in stale:
        fresh = []
        for field in wanted[cid]:
            change = changes.get(cid, {}).get(field)
            value = current.get((cid, field))
            fresh.append(FieldChange(field, value, change.editor if change else None, change.when if change else None))
        said = [
            f"{c.field} is now {_value_text(c.value)}"
            + (f" (set by {_who(c.editor)} {ago(now - c.when)})" if c.when is not None else " (as in its file)")
            for c in fresh
        ]
        reason = (f"card {cid} was changed by another edit since it was shown (version {int(expected[cid])}, "
                  f"now {versions[cid]}): {'; '.join(said)}. Nothing of this edit was applied to it")  # fmt: skip
        skipped.append(Skipped(cid, None, reason, tuple(fresh), versions[cid]))
    gone = set(stale)
    return [cid for cid in ids if cid not in gone], skipped


def _refuse_single(ids: Sequence[int], skipped: Sequence[Skipped]) -> None:
    """A single-card edit on a stale card is refused whole (the caller sees the fresh values at once)."""
    if len(ids) == 1 and skipped:
        raise StaleEdit(skipped[0])


def set_fields(
    store: _StoreLike, ids: Iterable[int], changes: Mapping[str, Any], *, label: str,
    expected: Mapping[int, int] | None = None,
) -> EditResult:  # fmt: skip
    """Set each field in ``changes`` on every card in ``ids``: one batch. ValueError when invalid.

    ``expected``: card id -> version the caller's view was read at (see the module docstring); a single
    stale card raises StaleEdit, stale cards of a bulk edit are skipped and reported.
    """
    changes = {field: validate(field, value) for field, value in changes.items()}
    # The cards once each, in order, as the first field's card -> value map: one pass over 10k ids, where
    # a list of them and then a map per field took two.
    first = next(iter(changes.values()), None)
    unique = dict.fromkeys(ids, first)
    with store.backend.transaction():  # the version check and the edit under one lock
        listed = list(unique)
        todo, skipped = _stale(store, listed, expected, list(changes))
        _refuse_single(listed, skipped)
        # One value object per field for every card: apply_values decides, encodes and writes it once.
        by_field = {
            field: unique if not skipped and value is first else dict.fromkeys(todo, value)
            for field, value in changes.items()
        }
        return _record(store, by_field, label, skipped=skipped, shared=changes)


def change_topic(
    store: _StoreLike, ids: Iterable[int], name: str, *, add: bool, label: str,
    expected: Mapping[int, int] | None = None,
) -> EditResult:  # fmt: skip
    """topics+= (append when absent, case-insensitive) or topics-= (remove case-insensitively).

    ``expected``: as for set_fields.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError("a topic must be a non-empty text")
    name = name.strip()
    backend = store.backend
    lists: dict[int, list[str]] = {}  # card id -> its new topic list
    # Cards holding the same topic list get the same new list object, so apply_values encodes, checks
    # and summarizes each distinct list once (a bulk add on 10k cards meets a few hundred lists).
    new_lists: dict[str, list[str] | None] = {}
    ids = list(dict.fromkeys(ids))
    with backend.transaction():  # read and change under one lock: no edit can slip in between
        todo, skipped = _stale(store, ids, expected, ["topics"])
        _refuse_single(ids, skipped)
        rows = backend.current("topics", todo)
        for cid, _, text in rows:
            if text not in new_lists:
                new_lists[text] = _changed_topics(json.loads(text), name, add)
            if (new := new_lists[text]) is not None:
                lists[cid] = new
        return _record(store, {"topics": lists}, label, known={"topics": rows}, skipped=skipped)


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
    """Undo (put back each entry's old value) or redo (its new value) a batch from the journal.

    Only the Store's editor's own batches (a batch recorded without an editor is anyone's): another's is
    refused with a ValueError naming whose it is. A field that another editor changed after the batch (a
    later batch not undone) keeps that editor's value and is reported in ``skipped``; the rest of the
    step is replayed. When every entry is held that way nothing changes and ValueError says why.
    """
    backend = store.backend
    verb = "undo" if undo else "redo"
    with backend.transaction():
        undone = backend.batch_undone(batch_id)
        owner = backend.batch_owner(batch_id)
        if undone is None or owner is None:
            raise ValueError(f"no edit batch {batch_id}")
        label, made_by = owner
        if made_by and made_by != store.editor:
            raise ValueError(f"cannot {verb} {label!r}: {made_by} made it, and only {made_by} can {verb} it "
                             "(History lists everyone's edits)")  # fmt: skip
        if undone == undo:
            return EditResult(batch_id, [])  # already in the asked-for state
        held: dict[tuple[int, str], tuple[str, float]] = {}
        for cid, field, editor, when in backend.later_changes(batch_id, store.editor):
            held[(cid, field)] = (editor, when)  # oldest first: the latest editor stays
        entries = backend.batch_entries(batch_id)
        if undo:
            entries.reverse()
        now = store.now()
        items, skipped = [], []
        for cid, field, old, new in entries:
            if (cid, field) in held:
                editor, when = held[(cid, field)]
                reason = f"{field} of card {cid} was changed by {_who(editor)} since ({ago(now - when)})"
                skipped.append(Skipped(cid, field, reason))
            else:
                items.append((cid, field, json.loads(old if undo else new)))
        if skipped and not items:
            raise ValueError(f"cannot {verb} {label!r}: " + "; ".join(s.reason for s in skipped))
        changes = apply_values(backend, items, editor=store.editor, now=now)
        backend.set_batch_undone(batch_id, undo)
    return EditResult(batch_id, changes.card_ids(), skipped)


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
        result = _record(store, {field: {card_id: value} for field, value in kept.items()}, label)
    return EditResult(result.batch_id, [card_id])
