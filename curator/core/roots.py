"""Roots mapped per editor: one team library, the shared folder mounted at a different place on each machine.

A card's path in the library is its *library path*: where the file was when its root was first imported
(``/Volumes/News/2026/a.yaml`` if Ana on her Mac imported ``/Volumes/News``). Every folder or file given to
``import`` is recorded as a :class:`Root` (an id, that first path, a label) in the library's meta, so a
library path is in effect a root id plus the path relative to that root (the longest recorded root that
holds it). Each editor maps roots to where the shared folder is mounted on their machine
(``Store(..., root_map={"1": "/mnt/news"})`` or ``{"/Volumes/News": "/mnt/news"}``; the CLI's
``--map-root ORIGINAL=LOCAL`` and ``$CURATOR_ROOT_MAP``; identity by default), and the Store sees
*local* paths only: :class:`MappedBackend` turns library paths into local ones on the way out (rows,
``show``, write-back's targets, a rescan's known cards, the folders to watch) and local paths back into
library paths on the way in (imported cards, lookups by path, a rescan's roots).

Why the card rows keep whole library paths rather than a root id column plus a relative path: the
backends' path queries (a rescan's range scan per folder, ``card_id_at``, the ``path:`` search term,
path uniqueness) stay exactly as they are on both backends, no schema version is needed, and with no
mapping (every SQLite library, every team library on one machine) nothing changes at all and nothing is
paid: the Store holds the backend itself. Roots never nest in effect: the longest mapped prefix wins.

A library path under a mapped root is shown at the mapped place; a local path under a mapped root's
*original* place but outside its mapped place cannot be told apart from the other editor's file, so
importing it is refused (see :meth:`RootMap.shadowed`). The ``path:`` search term matches library paths.
"""

from __future__ import annotations

import dataclasses
import json
import ntpath
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from curator.core.backend.base import Backend, DirtyCard, FlaggedCard, Known
    from curator.core.store_rows import CardRecord
    from curator.core.store_types import CardRow

#: The meta key of the recorded roots: a JSON list of {"id", "path", "label"}, by id.
ROOTS_META = "library_roots"
#: The environment variable holding an editor's root map: ORIGINAL=LOCAL entries, os.pathsep between.
ENV_VAR = "CURATOR_ROOT_MAP"
#: The meta key write-back's link policy keeps its resolved roots under (store_write.ROOTS_KEY).
_LINK_ROOTS = "imported_roots"


class RootMapError(ValueError):
    """A root map naming a root the library does not have, or an entry that is not ORIGINAL=LOCAL."""


@dataclass(frozen=True)
class Root:
    """A folder (or file) given to import: its id, its path as first imported, a label to name it by."""

    id: int
    path: str
    label: str


def _sep_of(path: str) -> str:
    """The separator of a library path: a Windows editor's root uses backslashes, everyone else slashes."""
    return "\\" if "\\" in path and "/" not in path else "/"


def _trimmed(path: str) -> str:
    """``path`` without trailing separators (a root itself: ``/`` and ``C:\\`` keep theirs)."""
    stripped = path.rstrip("/\\")
    if not stripped:
        return path[:1]
    if len(stripped) == 2 and stripped[1] == ":":
        return path[:3]
    return stripped


def _under(path: str, root: str, sep: str) -> str | None:
    """The rest of ``path`` below ``root``: "" for the root itself, else starting with ``sep``; None when
    ``path`` is not at or under ``root`` (whole components: ``/a/bc`` is not under ``/a/b``)."""
    if path == root:
        return ""
    head = root.rstrip("/\\") + sep
    return path[len(head) - 1 :] if path.startswith(head) else None


def _join(root: str, rest: str) -> str:
    """``root`` followed by ``rest`` (as :func:`_under` returns it), never doubling a separator."""
    return root.rstrip("/\\") + rest if rest else root


def library_roots(backend: Backend) -> list[Root]:
    """The library's recorded roots, by id (none in a library imported before roots were recorded)."""
    text = backend.get_meta(ROOTS_META)
    try:
        items = json.loads(text) if text else []
    except ValueError:
        return []  # a damaged entry maps nothing; the next import records the roots it is given
    roots = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("id"), int) and isinstance(item.get("path"), str):
            roots.append(Root(item["id"], item["path"], str(item.get("label") or "")))
    return sorted(roots, key=lambda r: r.id)


def record_roots(backend: Backend, library_paths: Iterable[str]) -> list[Root]:
    """Record the library paths an import was given as roots (those inside a recorded root add none).

    In one write transaction, so two editors importing at once never lose each other's root (the team
    library's importer lock serialises imports as well). Ids are never reused; labels are the last part
    of the path, made unique with the id. Returns every root after.
    """
    with backend.transaction():
        roots = library_roots(backend)
        added = False
        for path in dict.fromkeys(_trimmed(p) for p in library_paths):
            if any(_under(path, r.path, _sep_of(r.path)) is not None for r in roots):
                continue
            new_id = max((r.id for r in roots), default=0) + 1
            name = ntpath.basename(path) if _sep_of(path) == "\\" else os.path.basename(path)
            label = name or path
            if any(r.label == label for r in roots):
                label = f"{label} ({new_id})"
            roots.append(Root(new_id, path, label))
            added = True
        if added:
            backend.set_meta(ROOTS_META, json.dumps([dataclasses.asdict(r) for r in roots]))
    return roots


class RootMap:
    """An editor's map from library roots (their first-imported paths) to local paths, both ways.

    Longest prefix first in each direction, on whole path components. Identity pairs are dropped, so an
    empty map means "no mapping".
    """

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        cleaned: dict[str, str] = {}
        for original, local in pairs:
            original, local = _trimmed(original), _trimmed(os.path.abspath(local))
            if original != local:
                cleaned[original] = local
        #: (library root, local root), longest library root first.
        self.pairs: list[tuple[str, str]] = sorted(cleaned.items(), key=lambda p: -len(p[0]))
        self._by_local = sorted(self.pairs, key=lambda p: -len(p[1]))

    def __bool__(self) -> bool:
        return bool(self.pairs)

    def to_local(self, path: str) -> str:
        """Where a library path is on this machine (unchanged when no mapped root holds it)."""
        for original, local in self.pairs:
            sep = _sep_of(original)
            rest = _under(path, original, sep)
            if rest is not None:
                return _join(local, rest.replace(sep, os.sep) if sep != os.sep else rest)
        return path

    def to_library(self, path: str) -> str:
        """The library path of a local path (unchanged when no mapped local root holds it)."""
        for original, local in self._by_local:
            rest = _under(path, local, os.sep)
            if rest is not None:
                sep = _sep_of(original)
                return _join(original, rest.replace(os.sep, sep) if sep != os.sep else rest)
        return path

    def shadowed(self, path: str) -> tuple[str, str] | None:
        """(library root, local root) when a local ``path`` lies under a mapped root's original place
        but outside its local place: its library path would be taken for another editor's file."""
        if self.to_library(path) != path:
            return None
        for original, local in self.pairs:
            if _under(path, original, os.sep) is not None:
                return original, local
        return None


def parse_entries(texts: Iterable[str], where: str) -> dict[str, str]:
    """``ORIGINAL=LOCAL`` texts (ORIGINAL: a root's first path, id or label) as a dict; ValueError naming
    ``where`` (``--map-root``, ``$CURATOR_ROOT_MAP``) for an entry without both sides (RootMapError)."""
    out: dict[str, str] = {}
    for text in texts:
        key, eq, local = text.partition("=")
        if not eq or not key.strip() or not local.strip():
            raise RootMapError(f"{where}: {text!r} is not ORIGINAL=LOCAL (a root's path, id or label, then "
                             "where that folder is on this machine)")  # fmt: skip
        out[key.strip()] = local.strip()
    return out


def from_environment(environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The root map in ``$CURATOR_ROOT_MAP`` (entries separated by os.pathsep, as in PATH); {} if unset."""
    text = (os.environ if environ is None else environ).get(ENV_VAR, "")
    return parse_entries([e for e in text.split(os.pathsep) if e.strip()], f"${ENV_VAR}")


def resolve(spec: Mapping[str, str], roots: Sequence[Root]) -> RootMap:
    """An editor's map: each key a root's id, its label or a library path (recorded or not).

    RootMapError for an id or label the library has no root for (naming the roots it has), so a typo never
    silently leaves a mount unmapped.
    """
    pairs = []
    for key, local in spec.items():
        if key.startswith(("/", "\\")) or (len(key) > 2 and key[1] == ":" and key[2] in "/\\"):
            pairs.append((key, local))
            continue
        found = [r for r in roots if (key.isdigit() and r.id == int(key)) or r.label == key]
        if not found:
            known = "; ".join(f"{r.id} {r.label} ({r.path})" for r in roots) or "none recorded yet"
            raise RootMapError(f"no root {key!r} in this library (its roots: {known})")
        pairs.append((found[0].path, local))
    return RootMap(pairs)


def mapped(backend: Backend, spec: Mapping[str, str] | None) -> Backend:
    """``backend`` seen through an editor's root map; the backend itself when the map is empty."""
    if not spec:
        return backend
    root_map = resolve(spec, library_roots(backend))
    return MappedBackend(backend, root_map) if root_map else backend  # type: ignore[return-value]


class MappedBackend:
    """A backend whose paths are local paths: every method that takes or returns a card's path translates
    it; every other attribute is the wrapped backend's own (see the module docstring)."""

    def __init__(self, inner: Backend, root_map: RootMap) -> None:
        self.inner = inner
        self.root_map = root_map

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    # -- out: library paths become local ---------------------------------------------------------------
    def _row(self, row: CardRow) -> CardRow:
        return dataclasses.replace(row, path=self.root_map.to_local(row.path))

    def rows(self, *args: Any, **kwargs: Any) -> list[CardRow]:
        return [self._row(r) for r in self.inner.rows(*args, **kwargs)]

    def rows_by_id(self, ids: Sequence[int]) -> list[CardRow]:
        return [self._row(r) for r in self.inner.rows_by_id(ids)]

    def problem_cards(self, term: Any) -> list[tuple[int, str]]:
        return [(i, self.root_map.to_local(p)) for i, p in self.inner.problem_cards(term)]

    def card_doc(self, card_id: int) -> tuple[str, str] | None:
        found = self.inner.card_doc(card_id)
        return None if found is None else (self.root_map.to_local(found[0]), found[1])

    def card_paths(self) -> list[str]:
        return [self.root_map.to_local(p) for p in self.inner.card_paths()]

    def card_folders(self) -> list[str]:
        return [self.root_map.to_local(p) for p in self.inner.card_folders()]

    def card_path(self, card_id: int) -> str | None:
        path = self.inner.card_path(card_id)
        return None if path is None else self.root_map.to_local(path)

    def flagged_cards(self, ids: Sequence[int]) -> list[FlaggedCard]:
        return [c._replace(path=self.root_map.to_local(c.path)) for c in self.inner.flagged_cards(ids)]

    def dirty_cards(self) -> list[DirtyCard]:
        # In the local paths' order, as write-back settles them (path order).
        cards = [c._replace(path=self.root_map.to_local(c.path)) for c in self.inner.dirty_cards()]
        return sorted(cards, key=lambda c: c.path)

    # -- in: local paths become library paths ----------------------------------------------------------
    def card_id_at(self, path: str) -> int | None:
        return self.inner.card_id_at(self.root_map.to_library(path))

    def known_cards(self, roots: Sequence[str]) -> dict[str, Known]:
        found = self.inner.known_cards([self.root_map.to_library(r) for r in roots])
        return {self.root_map.to_local(p): k for p, k in found.items()}

    def known_stamps(self, roots: Sequence[str]) -> set[str]:
        from curator.core.backend.base import stamp_key, stamp_parts

        found = self.inner.known_stamps([self.root_map.to_library(r) for r in roots])
        keys = set()
        for key in found:
            path, size, mtime_ns = stamp_parts(key)
            keys.add(stamp_key(self.root_map.to_local(path), size, mtime_ns))
        return keys

    def _record(self, record: CardRecord) -> CardRecord:
        values = tuple(record.values)
        return record._replace(values=(self.root_map.to_library(values[0]), *values[1:]))

    def insert_cards(self, records: Sequence[CardRecord]) -> list[int]:
        return self.inner.insert_cards([self._record(r) for r in records])

    def update_cards(self, pairs: Sequence[tuple[int, CardRecord]]) -> None:
        self.inner.update_cards([(i, self._record(r)) for i, r in pairs])

    # -- write-back's link roots (resolved paths, a JSON list) -----------------------------------------
    def get_meta(self, key: str) -> str | None:
        value = self.inner.get_meta(key)
        if key != _LINK_ROOTS or value is None:
            return value
        return _map_list(value, self.root_map.to_local)

    def set_meta(self, key: str, value: str) -> None:
        self.inner.set_meta(key, _map_list(value, self.root_map.to_library) if key == _LINK_ROOTS else value)


def _map_list(text: str, change: Any) -> str:
    """A JSON list of paths with each path changed; other text is passed as it is."""
    try:
        items = json.loads(text)
    except ValueError:
        return text
    if not isinstance(items, list):
        return text
    return json.dumps(sorted(change(p) for p in items if isinstance(p, str)))
