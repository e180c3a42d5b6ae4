"""One writer and one importer at a time on a team library, against another editor's real process.

Write-back and import/rescan hold pg_locks' writer and importer locks (``team_locks.exclusive``); the two
exclude each other since both touch the shared files. Another editor meanwhile gets LibraryLocked at
once, naming the holder and since when, and nothing is done: no file is touched, no card changes.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from team_lockholder import ROOT, TeamLockHolder

from curator.core.backend import pg_locks
from curator.core.importer import import_paths
from curator.core.store import Store
from curator.core.team_locks import LibraryLocked, busy_sentence, editor_of, exclusive, since_text

SENTENCE = r"Ana is {doing} cards \(since \d\d:\d\d\) — try again when they are done"


@pytest.fixture
def team(pg_url: str, tmp_path: Path) -> tuple[Store, Path]:
    """A team library with two cards imported and one pending edit."""
    folder = tmp_path / "cards"
    folder.mkdir()
    (folder / "a.yaml").write_text("title: A card\nquality: 10\n", encoding="utf-8")
    (folder / "b.yaml").write_text("title: B card\nquality: 20\n", encoding="utf-8")
    store = Store(pg_url)
    assert import_paths(store, [folder]).added == 2
    card_id = store.card_id(folder / "a.yaml")
    assert card_id is not None
    store.set_fields([card_id], {"quality": 55}, label="Set quality")
    return store, folder


def _other_editor_tries(url: str, lock: str) -> str:
    """What a third editor's process gets trying ``lock`` now: "held" or "busy NAME"."""
    script = (
        "import sys\nfrom curator.core.backend.pg_locks import LibraryLock\n"
        "lock = LibraryLock(sys.argv[1], sys.argv[2], 'Cem')\nfound = lock.try_acquire()\n"
        "print('held' if found is None else 'busy ' + found.editor)\nlock.release()\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-c", script, url, lock], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=30, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _free(url: str, lock: str, timeout: float = 10.0) -> None:
    """Wait until the server has let ``lock`` go (a killed holder's session ends a moment later)."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(url, autocommit=True) as conn:
        while pg_locks.taken(conn, lock):
            assert time.monotonic() < deadline, f"the {lock} lock was never released"
            time.sleep(0.05)


def test_a_write_while_another_editor_writes(team: tuple[Store, Path], pg_url: str) -> None:
    store, folder = team
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    with TeamLockHolder(pg_url, "writer", "Ana"):
        with pytest.raises(LibraryLocked) as caught:
            store.write()
        assert re.fullmatch(SENTENCE.format(doing="writing"), str(caught.value)), str(caught.value)
        assert caught.value.lock == "writer" and caught.value.editor == "Ana"
        # Nor may we rescan while Ana writes: a rescan would read her half-written folder.
        with pytest.raises(LibraryLocked, match="^Ana is writing cards"):
            import_paths(store, [folder])
        # A dry run writes no file, so it needs no lock.
        assert len(store.write(dry_run=True).diffs) == 1
        assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
        assert store.totals().dirty == 1
    report = store.write()
    assert report.written == 1 and store.totals().dirty == 0
    assert "quality: 55" in (folder / "a.yaml").read_text(encoding="utf-8")


def test_an_import_while_another_editor_imports(team: tuple[Store, Path], pg_url: str) -> None:
    store, folder = team
    (folder / "c.yaml").write_text("title: C card\n", encoding="utf-8")
    with TeamLockHolder(pg_url, "importer", "Ana"):
        with pytest.raises(LibraryLocked) as caught:
            import_paths(store, [folder])
        assert re.fullmatch(SENTENCE.format(doing="importing"), str(caught.value)), str(caught.value)
        assert store.count() == 2  # nothing was read, nothing stored
        with pytest.raises(LibraryLocked, match="^Ana is importing cards"):
            store.write()
        assert store.totals().dirty == 1
    assert import_paths(store, [folder]).added == 1


def test_others_see_us_holding_the_lock_while_we_write(team: tuple[Store, Path], pg_url: str) -> None:
    store, _ = team
    seen: list[tuple[str, str, str | None]] = []

    def progress(done: int, total: int) -> None:
        with psycopg.connect(pg_url, autocommit=True) as conn:
            who = pg_locks.holder(conn, "writer")
        seen.append((_other_editor_tries(pg_url, "writer"), _other_editor_tries(pg_url, "importer"),
                     who.editor if who else None))  # fmt: skip

    assert store.write(progress=progress).written == 1
    me = editor_of(store)
    assert seen == [(f"busy {me}", "held", me)]  # the importer lock is free, but an import would stop
    # Released afterwards: the next editor gets it at once.
    assert _other_editor_tries(pg_url, "writer") == "held"


def test_a_holder_that_dies_frees_the_library(team: tuple[Store, Path], pg_url: str) -> None:
    store, _ = team
    holder = TeamLockHolder(pg_url, "writer", "Ana")
    with pytest.raises(LibraryLocked):
        store.write()
    holder.kill()
    _free(pg_url, "writer")
    assert store.write().written == 1


def test_nested_use_of_one_store_is_not_another_editor(team: tuple[Store, Path]) -> None:
    store, _ = team
    with exclusive(store, "writer"):
        assert store.write().written == 1  # the Store's own lock, not "someone is writing"


def test_sqlite_takes_no_team_lock(tmp_path: Path) -> None:
    folder = tmp_path / "cards"
    folder.mkdir()
    (folder / "a.yaml").write_text("title: A\n", encoding="utf-8")
    with Store(tmp_path / "lib.sqlite") as store, exclusive(store, "writer"), exclusive(store, "importer"):
        assert import_paths(store, [folder]).added == 1


def test_the_sentence() -> None:
    now = time.mktime((2026, 12, 1, 14, 30, 0, 0, 0, -1))
    at = time.mktime((2026, 12, 1, 14, 2, 0, 0, 0, -1))
    assert busy_sentence("writer", "Ana", at, now) == "Ana is writing cards (since 14:02) — try again when they are done"
    assert busy_sentence("importer", "", None, now) == "another editor is importing cards — try again when they are done"
    assert since_text(at - 86_400, now) == "2026-11-30 14:02"
    with pytest.raises(ValueError, match="unknown library lock"), exclusive(object(), "reader"):
        pass
