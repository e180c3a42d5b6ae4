"""The list's sort keys and ``--sort`` text; the query language itself is ``curator.core.query``.

Compiling a parsed query for a database is the backend's (``backend/sqlite_search.py`` for SQLite): this
module holds only what the CLI and the GUI need without a database.
"""

from __future__ import annotations

#: ``--sort`` keys, in the order the CLI's help lists them (every backend sorts by each).
SORT_KEYS: tuple[str, ...] = (
    "title", "date", "quality", "heat", "provider", "category", "published", "path",
    "dirty",  # the list's Changed column
    "problems",  # the list's Problems column (count of problems)
    "id",
)  # fmt: skip


def parse_sort(text: str) -> list[tuple[str, bool]]:
    """``"date:desc,title"`` -> ``[("date", True), ("title", False)]``; ValueError for a bad key."""
    sort: list[tuple[str, bool]] = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        key, _, direction = item.partition(":")
        key, direction = key.strip().lower(), direction.strip().lower()
        if key not in SORT_KEYS:
            raise ValueError(f"unknown sort key '{key}' (use one of: {', '.join(SORT_KEYS)})")
        if direction not in ("", "asc", "desc"):
            raise ValueError(f"unknown sort direction '{direction}' (use asc or desc)")
        sort.append((key, direction == "desc"))
    return sort
