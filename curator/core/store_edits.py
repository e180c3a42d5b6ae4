"""Edits in the library: set fields, add/remove topics, undo/redo, each one transaction.

Every change of a card's field goes through :func:`apply_values`, which keeps the library's invariants in
one place: ``pending_edit`` holds (file value, pending value) only while they differ, the card row and its
topic/image/related/full-text rows hold the current value, ``dirty`` says whether pending edits exist,
and ``problems`` counts the problems of the current mapping. It works set-wise: one query per edited field
reads the old values of every card, and executemany writes the results, so a bulk edit of 10k cards is a
handful of statements rather than 10k ORM saves.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from curator.core import fields
from curator.core.store_rows import (
    FIELD_COLUMNS,
    FTS_FIELDS,
    card_record,
    dumps,
    fts_values,
    image_rows,
    related_rows,
    summary_columns,
    update_records,
)
from curator.core.store_types import EditResult

if TYPE_CHECKING:
    from curator.core.cards import Card

# A field's change: (card id, field, old JSON, new JSON).
Change = tuple[int, str, str, str]
_FTS_COLUMN = {"title": 0, "excerpt": 1, "provider": 2, "topics": 3}


class _StoreLike(Protocol):
    db: Any

    def connection(self) -> sqlite3.Connection: ...
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


def _load_ids(conn: sqlite3.Connection, ids: Iterable[int]) -> None:
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS edit_ids (id INTEGER PRIMARY KEY)")
    conn.execute("DELETE FROM temp.edit_ids")
    conn.executemany("INSERT OR IGNORE INTO temp.edit_ids (id) VALUES (?)", [(i,) for i in ids])


def _current(conn: sqlite3.Connection, field: str, ids: Iterable[int]) -> list[tuple[int, str, str]]:
    """(card id, file value JSON, current value JSON) of one field; "null" stands for an absent key."""
    _load_ids(conn, ids)
    return conn.execute(
        "SELECT c.card_id, coalesce(c.doc -> ?1, 'null'), coalesce(p.value, c.doc -> ?1, 'null') "
        "FROM card_doc c JOIN temp.edit_ids t ON t.id = c.card_id "
        "LEFT JOIN pending_edit p ON p.card_id = c.card_id AND p.field = ?2",
        ('$."' + field.replace('"', '""') + '"', field),
    ).fetchall()


def current_values(conn: sqlite3.Connection, field: str, ids: Iterable[int]) -> dict[int, tuple[Any, Any]]:
    """card id -> (value in the file, current value) of one field; None for an absent key."""
    return {cid: (json.loads(base), json.loads(cur)) for cid, base, cur in _current(conn, field, ids)}


def apply_values(
    conn: sqlite3.Connection, items: Sequence[tuple[int, str, Any]],
    known: Mapping[str, list[tuple[int, str, str]]] | None = None,
) -> list[Change]:  # fmt: skip
    """Make each (card, field, value) current; returns the changes actually made (no-ops left out).

    Runs inside the caller's transaction. Unknown card ids are ignored. ``known``: rows of
    :func:`_current` the caller has already read in this transaction, by field (spares a second read).
    """
    by_field: dict[str, dict[int, Any]] = {}
    for cid, field, value in items:
        by_field.setdefault(field, {})[cid] = value
    changes: list[Change] = []
    problem_delta: dict[int, int] = {}
    pending: set[int] = set()  # cards given a pending value
    cleared: set[int] = set()  # cards with a pending value removed
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
        rows = known[field] if known and field in known else _current(conn, field, new_values)
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
        conn.executemany("DELETE FROM pending_edit WHERE card_id = ? AND field = ?", deletes)
        conn.executemany(
            "INSERT INTO pending_edit (card_id, field, base, value) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(card_id, field) DO UPDATE SET value = excluded.value",
            upserts,
        )
        _update_columns(conn, field, changed)
    conn.executemany(
        "UPDATE card SET problems = max(0, problems + ?) WHERE id = ?", [(d, c) for c, d in problem_delta.items()]
    )
    # A card with a pending value is dirty; one whose edits all went back to the file's values may not be.
    conn.executemany("UPDATE card SET dirty = 1 WHERE id = ? AND dirty = 0", [(cid,) for cid in pending])
    conn.executemany(
        "UPDATE card SET dirty = EXISTS (SELECT 1 FROM pending_edit p WHERE p.card_id = card.id) "
        "WHERE id = ?",
        [(cid,) for cid in cleared - pending],
    )
    return changes


def _update_columns(conn: sqlite3.Connection, field: str, values: Sequence[tuple[int, Any]]) -> None:
    """Bring the card columns and child rows that ``field`` feeds up to date."""
    columns = FIELD_COLUMNS.get(field)
    if not columns or not values:
        return
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
            fallback = conn.execute(
                "SELECT doc -> '$.\"date\"' FROM card_doc WHERE card_id = ?", (cid,)
            ).fetchone()[0]
            if fallback is not None:
                cols = summary_columns(fields.summarize({"date": json.loads(fallback)}))
                col_values = tuple(cols[c] for c in columns)
        col_rows.append((*col_values, cid))
        if fts is not None:
            fts_rows.append((fts, cid))
        child_rows.extend((cid, *row) for row in children)
    topic_rows = image_rows_ = related_rows_ = child_rows
    conn.executemany(f"UPDATE card SET {', '.join(f'{c} = ?' for c in columns)} WHERE id = ?", col_rows)
    if fts_rows:
        conn.executemany(f"UPDATE card_index SET {field} = ? WHERE rowid = ?", fts_rows)
    ids = [(cid,) for cid, _ in values]
    if field == "topics":
        conn.executemany("DELETE FROM card_topic WHERE card_id = ?", ids)
        conn.executemany("INSERT INTO card_topic (card_id, name, position) VALUES (?, ?, ?)", topic_rows)
    elif field == "images":
        conn.executemany("DELETE FROM card_image WHERE card_id = ?", ids)
        conn.executemany(
            "INSERT INTO card_image (card_id, position, url, width, height, title) VALUES (?, ?, ?, ?, ?, ?)",
            image_rows_,
        )
    elif field == "related":
        conn.executemany("DELETE FROM related_item WHERE card_id = ?", ids)
        conn.executemany(
            "INSERT INTO related_item (card_id, position, title, source_url, provider_name, quality) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            related_rows_,
        )


def _record(
    store: _StoreLike, items: Sequence[tuple[int, str, Any]], label: str,
    known: Mapping[str, list[tuple[int, str, str]]] | None = None,
) -> EditResult:  # fmt: skip
    """Apply edits and journal them as one batch, in one transaction (``known``: see apply_values)."""
    conn = store.connection()
    with store.db.atomic("IMMEDIATE"):
        changes = apply_values(conn, items, known)
        if not changes:
            return EditResult(None, [])
        now = store.now()
        cur = conn.execute("INSERT INTO edit_batch (label, created, undone) VALUES (?, ?, 0)", (label, now))
        batch_id = cur.lastrowid
        conn.executemany(
            "INSERT INTO journal_entry (batch_id, card_id, field, old, new, created) VALUES (?, ?, ?, ?, ?, ?)",
            [(batch_id, cid, field, old, new, now) for cid, field, old, new in changes],
        )
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
    conn = store.connection()
    items = []
    # Cards holding the same topic list get the same new list object, so apply_values encodes, checks
    # and summarizes each distinct list once (a bulk add on 10k cards meets a few hundred lists).
    new_lists: dict[str, list[str] | None] = {}
    with store.db.atomic("IMMEDIATE"):  # read and change under one lock: no edit can slip in between
        rows = _current(conn, "topics", list(dict.fromkeys(ids)))
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
    conn = store.connection()
    with store.db.atomic("IMMEDIATE"):
        row = conn.execute("SELECT undone FROM edit_batch WHERE id = ?", (batch_id,)).fetchone()
        if row is None:
            raise ValueError(f"no edit batch {batch_id}")
        if bool(row[0]) == undo:
            return EditResult(batch_id, [])  # already in the asked-for state
        entries = conn.execute(
            "SELECT card_id, field, old, new FROM journal_entry WHERE batch_id = ? ORDER BY id", (batch_id,)
        ).fetchall()
        if undo:
            entries.reverse()
        items = [(cid, field, json.loads(old if undo else new)) for cid, field, old, new in entries]
        changes = apply_values(conn, items)
        conn.execute("UPDATE edit_batch SET undone = ? WHERE id = ?", (int(undo), batch_id))
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
    conn = store.connection()
    with store.db.atomic("IMMEDIATE"):
        row = conn.execute("SELECT path FROM card WHERE id = ?", (card_id,)).fetchone()
        if row is None:
            raise ValueError(f"no card {card_id} in the library")
        if row[0] != card.path:
            raise ValueError(f"card {card_id} is {row[0]}, not {card.path}")
        update_records(conn, [(card_id, card_record(card.path, card.state, card.data, store.now()))])
        conn.execute("DELETE FROM pending_edit WHERE card_id = ?", (card_id,))
        conn.execute("UPDATE card SET dirty = 0 WHERE id = ?", (card_id,))
        # Nested (a savepoint): the new base and the kept values commit together or not at all.
        result = _record(store, [(card_id, field, value) for field, value in kept.items()], label)
    return EditResult(result.batch_id, [card_id])
