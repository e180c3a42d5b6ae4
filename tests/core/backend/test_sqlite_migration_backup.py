"""A SQLite library is copied aside before it is migrated: the copy is the old library, byte for byte usable."""

from __future__ import annotations

import importlib.util
import sqlite3
from pathlib import Path

import pytest

from curator.core import schema
from curator.core.store import LibraryError, Store

_SPEC = importlib.util.spec_from_file_location(
    "sqlite_migrations", Path(__file__).with_name("test_sqlite_migrations.py")
)
assert _SPEC is not None and _SPEC.loader is not None
_MIGRATIONS = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_MIGRATIONS)
build_v1 = _MIGRATIONS.build_v1  # the version-1 library as that Curator wrote it


def _version(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0])
    finally:
        conn.close()


def test_a_migration_copies_the_old_library_aside_first(tmp_path: Path) -> None:
    library = tmp_path / "library.sqlite"
    build_v1(library)
    with Store(library) as store:
        assert store.schema_version == schema.SCHEMA_VERSION
        migrated_count = store.count()
    backup = tmp_path / "library.sqlite.v1-backup"
    assert backup.is_file() and _version(backup) == "1"  # the old layout, as it was
    conn = sqlite3.connect(backup)
    assert conn.execute("SELECT count(*) FROM card").fetchone()[0] == migrated_count
    conn.close()
    with Store(library):  # nothing to migrate: no second copy
        pass
    assert sorted(p.name for p in tmp_path.iterdir() if "backup" in p.name) == ["library.sqlite.v1-backup"]


def test_an_earlier_copy_is_kept_and_a_failed_copy_stops_the_migration(tmp_path: Path) -> None:
    library = tmp_path / "library.sqlite"
    build_v1(library)
    (tmp_path / "library.sqlite.v1-backup").write_bytes(b"an earlier copy")
    (tmp_path / "library.sqlite.v1-backup-2.partial").mkdir()  # the copy cannot be written: a folder
    with pytest.raises(LibraryError, match="not migrated from schema version 1: could not copy it aside"):
        Store(library)
    assert _version(library) == "1"  # left as it was
    assert (tmp_path / "library.sqlite.v1-backup").read_bytes() == b"an earlier copy"
    assert not (tmp_path / "library.sqlite.v1-backup-2").exists()
