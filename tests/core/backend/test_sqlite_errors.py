"""The library's own failures: a lock another process holds, a full disk, damaged or foreign files.

Each is a LibraryError with a sentence (LibraryBusy, LibraryDiskError), never a raw sqlite3/peewee error,
and a refused write changes nothing. The lock is real: a child process holds BEGIN IMMEDIATE on the file.
The full disk is real too: a tiny tmpfs (skipped when this machine refuses to mount one).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from lockholder import locked

from curator.core import cards as cards_mod
from curator.core import schema
from curator.core.backend.sqlite import library_error
from curator.core.importer import import_paths
from curator.core.store import (
    DEFAULT_BUSY_TIMEOUT,
    LibraryBusy,
    LibraryDiskError,
    LibraryError,
    LibraryReadOnly,
    Store,
)

SEED = Path(__file__).resolve().parents[3] / "seeds" / "000_63d795e8c7832238.txt"

# A child that takes the library's write lock, says so, and keeps it until its stdin closes.


def make(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def lib(tmp_path: Path) -> Iterator[Store]:
    """A library of three cards, opened with a short busy timeout (the GUI thread's kind)."""
    folder = tmp_path / "cards"
    folder.mkdir()
    shutil.copyfile(SEED, folder / SEED.name)
    make(folder, "a.md", "---\ntitle: Rockets\nquality: 80\ntopics: [Space]\n---\n")
    make(folder, "b.md", "---\ntitle: Quiet week\nquality: 20\n---\n")
    with Store(tmp_path / "lib.sqlite") as setup:
        import_paths(setup, [folder])
    store = Store(tmp_path / "lib.sqlite", busy_timeout=0.2)
    yield store
    store.close()


def snapshot(store: Store) -> tuple[Any, ...]:
    """Everything an edit could change: cards' columns, pending edits, batches, journal, documents."""
    conn = store.backend.db.connection()
    return tuple(
        conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
        for table in ("card", "pending_edit", "edit_batch", "journal_entry", "card_topic", "card_doc")
    )


def card_id(store: Store, name: str) -> int:
    return next(row.id for row in store.rows() if Path(row.path).name == name)


# --- a locked library -----------------------------------------------------------------------------------


def _edit(store: Store) -> None:
    store.set_fields([card_id(store, "a.md")], {"quality": 55}, label="q")


def _topic_add(store: Store) -> None:
    store.add_topic([card_id(store, "a.md")], "Moon", label="t")


def _topic_remove(store: Store) -> None:
    store.remove_topic([card_id(store, "a.md")], "Space", label="t")


def _related(store: Store) -> None:
    store.set_related(card_id(store, "a.md"), [{"title": "x", "sourceUrl": "https://x.example/"}], label="r")


def _undo(store: Store) -> None:
    store.undo(store.history()[0].id)


def _redo(store: Store) -> None:
    store.redo(store.history()[0].id)


def _rebase(store: Store) -> None:
    row = store.rows_by_id([card_id(store, "a.md")])[0]
    store.rebase(row.id, cards_mod.read_card(row.path)[0], {"quality": 61})


def _import(store: Store) -> None:
    folder = Path(store.rows()[0].path).parent
    make(folder, "c.md", "---\ntitle: New one\n---\n")
    import_paths(store, [folder])


def _optimize(store: Store) -> None:
    store.optimize()


def _edit_again(store: Store) -> None:
    store.set_fields([card_id(store, "a.md"), card_id(store, "b.md")], {"heat": 7}, label="h")


WRITES: dict[str, Callable[[Store], None]] = {
    "set_fields": _edit_again, "add_topic": _topic_add, "remove_topic": _topic_remove, "set_related": _related,
    "undo": _undo, "redo": _redo, "rebase": _rebase, "import": _import, "optimize": _optimize,
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(WRITES))
def test_a_locked_library_refuses_every_write_with_library_busy_and_changes_nothing(
    lib: Store, name: str
) -> None:
    _edit(lib)  # a batch for undo, a pending edit for rebase
    if name == "redo":
        _undo(lib)
    before = snapshot(lib)
    with locked(lib.path):
        started = time.monotonic()
        with pytest.raises(LibraryBusy) as caught:
            WRITES[name](lib)
        waited = time.monotonic() - started
        assert str(caught.value) == f"the library is busy: another Curator is writing ({lib.path})"
        assert isinstance(caught.value, LibraryError)
        assert 0.15 <= waited < 5, waited  # it waited its busy timeout, not the default's 10 s
        assert lib.backend.db.transaction_depth() == 0 and not lib.backend.db.connection().in_transaction
        assert snapshot(lib) == before  # reads go on beside the writer (WAL), and nothing changed
    assert snapshot(lib) == before
    WRITES[name](lib)  # the same call succeeds once the other writer is done
    if name != "optimize":
        assert snapshot(lib) != before


def test_a_write_whose_bookkeeping_is_refused_loses_nothing(lib: Store) -> None:
    _edit(lib)
    path = Path(lib.rows_by_id([card_id(lib, "a.md")])[0].path)
    with locked(lib.path), pytest.raises(LibraryBusy):
        lib.write()
    # The file may hold the edit already; the library still has it pending. A later write sees that the
    # file already holds the result and makes the card clean, without writing it again.
    assert "quality: 55" in path.read_text(encoding="utf-8")
    assert lib.pending(card_id(lib, "a.md")) == {"quality": (80, 55)}
    report = lib.write()
    assert not report.failed and not report.conflicts
    assert not lib.rows_by_id([card_id(lib, "a.md")])[0].dirty
    assert "quality: 55" in path.read_text(encoding="utf-8")


def test_creating_a_library_someone_else_is_creating_is_busy(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite"
    sqlite3.connect(path).close()  # an empty file: no tables yet
    with locked(path), pytest.raises(LibraryBusy, match="another Curator is writing"):
        Store(path, busy_timeout=0.1)
    with Store(path) as store:
        assert store.schema_version == schema.SCHEMA_VERSION


def test_opening_and_reading_a_locked_library_works(lib: Store) -> None:
    with locked(lib.path), Store(lib.path, busy_timeout=0.1) as other:
        assert other.count() == 3 and len(other.facets().status) == 7


def test_busy_timeout_is_the_connections_wait() -> None:
    assert DEFAULT_BUSY_TIMEOUT == 10.0
    with pytest.raises(ValueError):
        Store(":memory:", busy_timeout=-1)
    with pytest.raises(ValueError):
        Store(":memory:", busy_timeout=float("nan"))


def test_the_default_busy_timeout_is_what_connections_get(tmp_path: Path) -> None:
    with Store(tmp_path / "lib.sqlite") as store:
        assert store.busy_timeout == DEFAULT_BUSY_TIMEOUT
        assert store.backend.db.connection().execute("PRAGMA busy_timeout").fetchone()[0] == 10_000
    with Store(tmp_path / "lib.sqlite", busy_timeout=0.25) as store:
        assert store.backend.db.connection().execute("PRAGMA busy_timeout").fetchone()[0] == 250


# --- damaged, foreign and odd library files ------------------------------------------------------------


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("value", "shown"),
    [("abc", "'abc'"), ("-1", "'-1'"), ("1.5", "'1.5'"), (1.5, "'1.5'"), (-3, "'-3'"), (b"\x02", "b'\\x02'"),
     ("", "''"), ("9" * 100, "'" + "9" * 40 + "'...")],
)  # fmt: skip
def test_a_malformed_schema_version_is_a_clear_error_and_changes_nothing(
    tmp_path: Path, value: object, shown: str
) -> None:
    path = tmp_path / "lib.sqlite"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (value,))
    conn.commit()
    conn.close()
    before = digest(path)
    with pytest.raises(LibraryError) as caught:
        Store(path)
    assert str(caught.value) == (
        f"{path}: the library is damaged: its schema version {shown} is not a version number "
        "(a whole number 0 or more)"
    )
    assert digest(path) == before


def test_parse_version() -> None:
    assert schema.parse_version("2") == 2 and schema.parse_version(2) == 2 and schema.parse_version("0") == 0
    for bad in ("٣", " 2", "2 ", "+2", True, None, "1e3"):
        with pytest.raises(ValueError, match="is not a version number"):
            schema.parse_version(bad)


def test_a_file_that_is_not_sqlite_is_named(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_bytes(b"These are my notes, not a database.\n" * 200)
    with pytest.raises(LibraryError) as caught:
        Store(path)
    assert str(caught.value) == f"{path}: not a Curator library (not an SQLite file)"
    assert path.read_bytes() == b"These are my notes, not a database.\n" * 200


def test_another_programs_sqlite_file_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "places.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE moz_places (url TEXT)")
    conn.commit()
    conn.close()
    before = digest(path)
    with pytest.raises(
        LibraryError,
        match=r": not a Curator library \(an SQLite file with other tables: "
        r"moz_places\)",
    ):
        Store(path)
    assert digest(path) == before


def test_a_library_missing_a_table_is_damaged_not_a_traceback_later(tmp_path: Path) -> None:
    path = tmp_path / "lib.sqlite"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE card_topic")
    conn.commit()
    conn.close()
    with pytest.raises(
        LibraryError,
        match=rf"lib.sqlite: the library is damaged: its schema version is {schema.SCHEMA_VERSION} but it lacks the table "
        r"card_topic; import the cards into a new library",
    ):
        Store(path)


def test_a_folder_is_not_a_library(tmp_path: Path) -> None:
    (tmp_path / "folder.sqlite").mkdir()
    with pytest.raises(
        LibraryError, match=r"folder\.sqlite: unable to open database file \(it is a folder\)$"
    ):
        Store(tmp_path / "folder.sqlite")


def test_a_damaged_page_is_named_when_met(lib: Store) -> None:
    path = lib.path
    lib.close()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'card_doc'").fetchone()[0]
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with open(path, "r+b") as f:  # scribble over the card_doc table's root page
        f.seek((root - 1) * page)
        f.write(b"\xff" * page)
    damaged = r"lib\.sqlite: the library is damaged \(database disk image is malformed\)"
    with Store(path) as store, pytest.raises(LibraryError, match=damaged):
        store.backend.db.execute_sql("SELECT count(*), max(length(doc)) FROM card_doc").fetchone()


def test_a_library_path_that_is_not_utf8(tmp_path: Path) -> None:
    path = Path(os.fsdecode(os.fsencode(tmp_path) + b"/lib\xff?#%.sqlite"))
    with Store(path) as store:
        assert store.count() == 0
    assert (os.fsencode(tmp_path) + b"/lib\xff?#%.sqlite") in [os.fsencode(p) for p in tmp_path.iterdir()]
    with Store(path) as store:
        assert store.schema_version == schema.SCHEMA_VERSION


# --- the classifier ---------------------------------------------------------------------------------------


def sqlite_error(code: int, message: str) -> sqlite3.OperationalError:
    """An sqlite3 error as the driver raises it (only the code is set by hand)."""
    error = sqlite3.OperationalError(message)
    error.sqlite_errorcode = code  # type: ignore[attr-defined]
    return error


@pytest.mark.parametrize(
    ("code", "kind", "text"),
    [
        (5, LibraryBusy, "the library is busy: another Curator is writing (/l.sqlite)"),
        (6, LibraryBusy, "the library is busy: another Curator is writing (/l.sqlite)"),
        (13, LibraryDiskError, "disk full: cannot write to the library (/l.sqlite)"),
        (266, LibraryDiskError, "disk I/O error while reading /l.sqlite (disk I/O error)"),
        (522, LibraryDiskError, "disk I/O error while reading /l.sqlite (disk I/O error)"),
        (778, LibraryDiskError, "disk I/O error while writing /l.sqlite (disk I/O error)"),
        (1034, LibraryDiskError, "disk I/O error while writing /l.sqlite (disk I/O error)"),
        (10, LibraryDiskError, "disk I/O error while using /l.sqlite (disk I/O error)"),
        (26, LibraryError, "/l.sqlite: not a Curator library (not an SQLite file)"),
        (8, LibraryReadOnly, "/l.sqlite: the library is read-only (disk I/O error)"),
        (
            11,
            LibraryError,
            "/l.sqlite: the library is damaged (disk I/O error); import the cards into a new library",
        ),
        (14, LibraryError, "/l.sqlite: disk I/O error"),
    ],
)
def test_library_error_names_the_cause(code: int, kind: type, text: str) -> None:
    error = library_error(sqlite_error(code, "disk I/O error"), "/l.sqlite")
    assert type(error) is kind and str(error) == text


def test_library_error_sees_through_peewee_and_leaves_bugs_alone() -> None:
    import peewee

    wrapped = peewee.OperationalError(sqlite_error(13, "database or disk is full"))
    assert isinstance(library_error(wrapped, "/l"), LibraryDiskError)
    assert library_error(sqlite_error(1, 'near "SELEC": syntax error'), "/l") is None
    assert library_error(ValueError("x"), "/l") is None


# --- a full disk (a real one: a tiny tmpfs) ---------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs mounted under tmp_path (root only; skipped when mounting is refused)."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip() or done.returncode}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path, leave: int = 0) -> Path:
    """Fill the file system under ``folder``, leaving about ``leave`` bytes free."""
    filler = folder / "filler"
    with open(filler, "wb") as f:
        try:
            while True:
                f.write(b"\0" * 65536)
                f.flush()
        except OSError:
            pass
    st = os.statvfs(folder)
    free = st.f_bavail * st.f_frsize
    size = filler.stat().st_size
    os.truncate(filler, max(size - max(leave - free, 0), 0))
    return filler


def test_a_full_disk_is_named_and_the_edit_is_rolled_back(small_disk: Path, lib: Store) -> None:
    shutil.copyfile(lib.path, small_disk / "lib.sqlite")
    with Store(small_disk / "lib.sqlite", busy_timeout=0.2) as store:
        before = snapshot(store)
        filler = fill(small_disk)
        big = [{"title": "x" * 200_000, "sourceUrl": f"https://x.example/{i}"} for i in range(20)]
        with pytest.raises(LibraryDiskError) as caught:
            store.set_related(card_id(store, "a.md"), big, label="big")
        assert str(caught.value) == f"disk full: cannot write to the library ({store.path})"
        assert store.backend.db.transaction_depth() == 0
        filler.unlink()
        assert snapshot(store) == before
        _edit(store)  # with room again, the library works as before
        assert store.pending(card_id(store, "a.md")) == {"quality": (80, 55)}
    with Store(small_disk / "lib.sqlite") as again:
        assert again.backend.db.connection().execute("PRAGMA integrity_check").fetchone()[0] == "ok"
