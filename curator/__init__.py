"""Curator: triage news article cards stored as YAML files."""

from __future__ import annotations

import sys

__version__ = "0.1.0"


def _import_peewee_without_psycopg() -> None:
    """Import peewee without letting it import psycopg (80 ms, every ``curator list``).

    peewee imports ``psycopg.errors`` at its own import when psycopg is installed, only to translate
    psycopg's exception types; a SQLite library never needs it. psycopg is hidden while peewee loads, and
    the PostgreSQL backend hands peewee the module when it connects (``peewee.pg3_errors``). Every
    Curator module is imported after this package, so this runs before any of them imports peewee.
    """
    if "peewee" in sys.modules or "psycopg" in sys.modules:
        return
    sys.modules["psycopg"] = None  # type: ignore[assignment]  # import psycopg -> ImportError
    try:
        import peewee  # noqa: F401
    finally:
        del sys.modules["psycopg"]


_import_peewee_without_psycopg()
