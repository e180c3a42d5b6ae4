"""The checks index kept in the library: duplicates, copies and same-story suggestions (issue 11).

The index (``checks.index.CheckIndex``) is saved in the library as its ``to_arrays`` arrays, with one
``check_card`` row per card it reflects: the card's *stamp* (its file's sha256 and a digest of its
pending edits, so any change of its current mapping changes it) and its canonical URLs. A card whose
stamp differs, a card without a row and a row without a card are what is stale. Nothing on the import or
edit paths writes here, so ``curator import`` and edits keep their speed; the checks catch up in
``refresh``: incrementally (``CheckIndex.update``/``remove``, a few ms a card) while few cards changed, a
full rebuild when most did. The arrays are re-saved only after a full build or once ``RESAVE`` cards
were applied on top of them (rewriting tens of MB for each edited card would break the 50 ms target);
until then each load re-applies the few changed cards. The groups are saved on every refresh, small,
so a facet can count them without loading the index.

Thresholds are per library: ``meta`` key ``checks.thresholds`` (JSON of ``Thresholds.as_dict``), the
defaults of ``checks.thresholds`` when absent. A library whose saved index was built with other
thresholds is rebuilt.
"""

from __future__ import annotations

import hashlib
import io
import json
import threading
import weakref
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from curator.core.checks import problems as check_kinds
from curator.core.checks.index import CheckCard, CheckIndex, Group, Suggestion
from curator.core.checks.problems import Context
from curator.core.checks.thresholds import Thresholds
from curator.core.fields import Problem
from curator.core.store_types import LibraryReadOnly, ProblemRow

if TYPE_CHECKING:
    from curator.core.checks_service import ChecksService
    from curator.core.store import Store

#: Meta key of the library's thresholds.
THRESHOLDS_KEY = "checks.thresholds"
#: Meta key of the digest of all stamps the saved groups were computed at.
GROUPS_KEY = "checks.groups_at"
#: Cards applied on top of the saved arrays before they are saved again.
RESAVE = 500
#: Above this share of the library changed, a full rebuild is cheaper than card-by-card updates.
REBUILD_SHARE = 0.5

#: Per open Store: its lock (a worker and the GUI thread may both refresh) and its index in memory.
_LOCKS: weakref.WeakKeyDictionary[Store, threading.Lock] = weakref.WeakKeyDictionary()
_CACHE: weakref.WeakKeyDictionary[Store, _Cached] = weakref.WeakKeyDictionary()
_LOCKS_GUARD = threading.Lock()
#: Per open Store: the checks process its refreshes and suggestions go to (serve_from), if any.
_SERVICES: weakref.WeakKeyDictionary[Store, ChecksService] = weakref.WeakKeyDictionary()
#: Per open Store on a library it may not write: the groups of its last refresh, and the stamps' digest.
_HELD_GROUPS: weakref.WeakKeyDictionary[Store, tuple[str, list[Group]]] = weakref.WeakKeyDictionary()


@dataclass
class _Cached:
    """The index a Store holds in memory and the stamps it reflects."""

    index: CheckIndex
    stamps: dict[int, str]
    saved_behind: int  # cards applied since the arrays were last saved


@dataclass(frozen=True)
class RefreshReport:
    """What ``refresh`` did: ``rebuilt`` (from scratch), how many cards it ``updated`` and ``removed``."""

    rebuilt: bool
    updated: int
    removed: int


def _lock(store: Store) -> threading.Lock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(store, threading.Lock())


def thresholds(store: Store) -> Thresholds:
    """The library's thresholds (the defaults when it stores none)."""
    raw = store.backend.get_meta(THRESHOLDS_KEY)
    return Thresholds() if raw is None else Thresholds.from_dict(json.loads(raw))


def set_thresholds(store: Store, value: Thresholds) -> None:
    """Store the library's thresholds; the next refresh rebuilds the index with them."""
    with store.transaction():
        store.backend.set_meta(THRESHOLDS_KEY, json.dumps(value.as_dict(), sort_keys=True))
    _CACHE.pop(store, None)


def _stamp(sha256: str, pending: str | None) -> str:
    if pending is None:
        return sha256
    return f"{sha256}+{hashlib.blake2b(pending.encode('utf-8'), digest_size=8).hexdigest()}"


def current_stamps(store: Store) -> dict[int, str]:
    """Card id -> stamp of every card now."""
    return {card_id: _stamp(sha, pending) for card_id, sha, pending in store.backend.card_stamps()}


def _digest(stamps: Mapping[int, str]) -> str:
    h = hashlib.blake2b(digest_size=16)
    for card_id in sorted(stamps):
        h.update(f"{card_id}:{stamps[card_id]};".encode())
    return h.hexdigest()


def is_stale(store: Store) -> bool:
    """Whether cards changed since the saved groups were computed (one scan of the card rows)."""
    return _groups_digest(store) != _digest(current_stamps(store))


def _groups_digest(store: Store) -> str | None:
    """The stamps' digest the current groups were computed at (held ones on a library read only)."""
    held = _HELD_GROUPS.get(store)
    return held[0] if held is not None else store.backend.get_meta(GROUPS_KEY)


def _check_cards(store: Store, ids: Sequence[int] | None) -> Iterator[CheckCard]:
    """The checks' view of the given cards' current mappings (file mapping with pending edits over it)."""
    for card_id, data in _current(store, ids):
        yield CheckCard.from_mapping(card_id, data)


def _encode(arrays: Mapping[str, np.ndarray]) -> dict[str, bytes]:
    out = {}
    for name, array in arrays.items():
        buffer = io.BytesIO()
        np.save(buffer, np.ascontiguousarray(array), allow_pickle=False)
        out[name] = buffer.getvalue()
    return out


def _decode(blobs: Mapping[str, bytes]) -> dict[str, np.ndarray]:
    return {name: np.load(io.BytesIO(data), allow_pickle=False) for name, data in blobs.items()}


def _save_arrays(store: Store, index: CheckIndex, stamps: Mapping[int, str]) -> None:
    cards = [(card_id, stamps[card_id], *index.canonical[index.row_of[card_id]])
             for card_id in sorted(stamps) if card_id in index.row_of]
    try:
        with store.transaction():
            store.backend.save_check_index(_encode(index.to_arrays()), cards)
    except LibraryReadOnly:
        pass  # an editor who may only read: the index lives in this Store's memory (see _save_groups)


def _save_groups(store: Store, index: CheckIndex, stamps: Mapping[int, str]) -> None:
    """Save the groups (the facet counts them without the index); on a library this editor may only read
    (a read-only team role, a read-only file) they are kept with the Store instead, so the Duplicates
    facet, ``dupes`` and the publishing gate still see the current groups."""
    groups = index.groups()
    try:
        with store.transaction():
            store.backend.set_check_groups([(g.kind, g.canonical, g.ids) for g in groups])
            store.backend.set_meta(GROUPS_KEY, _digest(stamps))
    except LibraryReadOnly:
        _HELD_GROUPS[store] = (_digest(stamps), list(groups))
    else:
        _HELD_GROUPS.pop(store, None)


def _load(store: Store, t: Thresholds) -> _Cached | None:
    """The saved index and its stamps; None when none is saved or it was built with other thresholds."""
    blobs = store.backend.check_arrays()
    if not blobs:
        return None
    try:
        index = CheckIndex.from_arrays(_decode(blobs), t)
    except (ValueError, KeyError):  # other thresholds, or arrays of an older layout: rebuild
        return None
    return _Cached(index, dict(store.backend.check_cards()), 0)


def serve_from(store: Store, service: ChecksService | None) -> None:
    """Route this Store's refreshes and suggestions to a checks process (None: back to this process).

    The desktop app does this so the index never sits in its own memory (see ``checks_service``); the
    groups, the thresholds and the staleness check still read the library directly.
    """
    if service is None:
        _SERVICES.pop(store, None)
    else:
        _SERVICES[store] = service
        _CACHE.pop(store, None)


def refresh(store: Store) -> RefreshReport:
    """Bring the library's checks index up to date with its cards (see the module docstring)."""
    service = _SERVICES.get(store)
    if service is not None:
        return service.refresh()  # type: ignore[no-any-return]
    with _lock(store):
        return _refresh(store)


def _refresh(store: Store) -> RefreshReport:
    t = thresholds(store)
    now = current_stamps(store)
    cached: _Cached | None = _CACHE.get(store)
    if cached is None or cached.index.thresholds != t:
        cached = _load(store, t)
    changed = removed = []
    if cached is not None:
        changed = [i for i, s in now.items() if cached.stamps.get(i) != s]
        removed = [i for i in cached.stamps if i not in now]
    if cached is None or len(changed) + len(removed) > max(RESAVE, REBUILD_SHARE * len(now)):
        index = CheckIndex.build(_check_cards(store, None), t)
        cached = _Cached(index, now, 0)
        _save_arrays(store, index, now)
        _save_groups(store, index, now)
        _CACHE[store] = cached
        return RefreshReport(True, len(now), 0)
    for card in _check_cards(store, changed) if changed else ():
        cached.index.update(card)
    for card_id in removed:
        cached.index.remove(card_id)
    cached.stamps = now
    cached.saved_behind += len(changed) + len(removed)
    if cached.saved_behind >= RESAVE:
        _save_arrays(store, cached.index, now)
        cached.saved_behind = 0
    if changed or removed or _groups_digest(store) != _digest(now):
        _save_groups(store, cached.index, now)
    _CACHE[store] = cached
    return RefreshReport(False, len(changed), len(removed))


def check_index(store: Store) -> CheckIndex:
    """The library's index, up to date (loaded, built or refreshed as needed)."""
    with _lock(store):
        _refresh(store)
        return _CACHE[store].index


def duplicate_groups(store: Store, query: str | None = None) -> list[Group]:
    """The saved groups (whole groups with at least one card matching ``query``), largest first.

    Reads the groups table only: call ``refresh`` first for an up-to-date answer.
    """
    held = _HELD_GROUPS.get(store)
    groups = (list(held[1]) if held is not None else
              [Group(kind, tuple(ids), canonical) for kind, canonical, ids in store.backend.check_groups()])
    if query is None or not query.strip():
        return groups
    matching = set(store.ids(query))
    return [g for g in groups if matching.intersection(g.ids)]


def suggest_held(store: Store, card_id: int, limit: int = 10) -> list[Suggestion] | None:
    """Suggestions from the index this Store holds in memory, as of its last refresh; None when it holds
    none or the card is not in it (then ``suggest_related``).

    No scan of every card's stamp (0.44 s at 100k cards, where the suggestion itself takes ~1 ms): for a
    caller that refreshes after every change it makes itself, as the GUI does (``ChecksRefresher``).
    """
    service = _SERVICES.get(store)
    if service is not None:
        return service.suggest(card_id, limit, held=True)  # type: ignore[no-any-return]
    with _lock(store):
        cached = _CACHE.get(store)
        if cached is None or card_id not in cached.index.row_of:
            return None
        return cached.index.suggest(card_id, limit)


def suggest_related(store: Store, card_id: int, limit: int = 10) -> list[Suggestion]:
    """Same-story suggestions for a card (KeyError: no such card), from the up-to-date index."""
    service = _SERVICES.get(store)
    if service is not None:
        return service.suggest(card_id, limit, held=False)  # type: ignore[no-any-return]
    return check_index(store).suggest(card_id, limit)


def summary(groups: Sequence[Group]) -> dict[str, Any]:
    """Counts for a facet: groups and the cards in them."""
    return {"groups": len(groups), "cards": len({i for g in groups for i in g.ids})}


def _context(index: CheckIndex, card_id: int) -> Context:
    return Context(now=datetime.now(UTC), card_by_url=index.card_by_url, card_id=card_id,
                   is_word=index.is_word)


def check_problems(store: Store, query: str | None = None) -> list[ProblemRow]:
    """Problems of ``checks.problems.CHECK_KINDS`` in the matching cards' current mappings, by card id.

    With the library's context: which related URLs are cards of the library, which words are words (for
    excerpts cut mid-word), the time now (dates in the future). Reads every matching card's mapping.
    """
    index = check_index(store)
    ids = store.ids(query)
    paths = {row.id: row.path for row in store.rows_by_id(ids)}
    out = []
    for card in _current(store, ids):
        card_id, data = card
        for p in check_kinds.problems(data, context=_context(index, card_id)):
            out.append(ProblemRow(card_id, paths[card_id], p.field, p.problem, p.fixable))
    return out


def selection_problems(store: Store, ids: Sequence[int]) -> dict[int, list[Problem]]:
    """The checks' problems (``CHECK_KINDS`` but ``related-card``, a hint rather than a fault) of the
    given cards' current mappings, for a decision the editor is making now (the publishing gate).

    Never refreshes nor loads the index (that may take seconds on a big library, and this runs on the
    GUI thread): the library's context comes from the index this Store holds in memory when it holds
    one; without it the checks that need the library (words for cut excerpts) are left out. Cards with
    none are absent from the result.
    """
    out: dict[int, list[Problem]] = {}
    if not ids:
        return out
    lock = _lock(store)
    # A refresh running on a worker is changing the index: then check without it rather than wait.
    held = lock.acquire(blocking=False)
    try:
        cached = _CACHE.get(store) if held else None
        now = datetime.now(UTC)
        for card_id, data in _current(store, ids):
            context = (_context(cached.index, card_id) if cached is not None
                       else Context(now=now, card_id=card_id))  # fmt: skip
            found = [p for p in check_kinds.problems(data, context=context) if p.kind != "related-card"]
            if found:
                out[card_id] = found
    finally:
        if held:
            lock.release()
    return out


def card_context(store: Store, card_id: int) -> Context:
    """The library's context for checking (and fixing) one card: see ``check_problems``."""
    return _context(check_index(store), card_id)


def _current(store: Store, ids: Sequence[int] | None) -> Iterator[tuple[int, dict[str, Any]]]:
    pending: dict[int, list[tuple[str, str]]] = {}
    for card_id, field, value in store.backend.pending_values(ids):
        pending.setdefault(card_id, []).append((field, value))
    for card_id, doc in store.backend.card_docs(ids):
        data = json.loads(doc)
        for field, value in pending.get(card_id, ()):
            if (loaded := json.loads(value)) is None:
                data.pop(field, None)
            else:
                data[field] = loaded
        yield card_id, data
