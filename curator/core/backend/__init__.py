"""The library's storage backends: the only package in Curator that speaks SQL.

SQLite (embedded, one editor, the default) and PostgreSQL (a team's shared library, ``--db
postgresql://…``) sit behind one typed protocol; the Store, the importer, edits, checks, the GUI and the
CLI ask the Store, never a database. ``tests/test_layering.py`` fails on SQL outside this package.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from curator.core.backend.base import Backend


def open_backend(
    location: str | os.PathLike[str], *, busy_timeout: float, password: str | None = None
) -> Backend:
    """The backend of the library at ``location``: opened, its schema created or checked.

    ``postgresql://`` (or ``postgres://``) is a team library on a server; any other ``scheme://`` is a
    ValueError naming it (never a SQLite file in a folder named after the scheme); every other text
    (``C:\\...`` included) is an SQLite library file. The driver is imported here, by the Store's first
    use, so a module that only names the protocol never loads one. ``password`` (a team library's, typed
    by the editor) reaches the PostgreSQL connections only; a file has none.
    """
    from curator.core.backend.location import parse_location

    where = parse_location(os.fspath(location))
    if where.is_postgresql:
        from curator.core.backend.postgres import PostgresBackend

        return PostgresBackend(where, busy_timeout=busy_timeout, password=password)
    from curator.core.backend.sqlite import SqliteBackend

    return SqliteBackend(location, busy_timeout=busy_timeout)
