"""pg_locks with real processes: one writer at a time, the holder named, released when its process dies."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from curator.core.backend import pg_schema
from curator.core.backend.pg_locks import LibraryLock, LockHeld, holder

ROOT = Path(__file__).resolve().parents[3]

# A second editor's process: takes the lock, says so, then holds it until killed or told to stop.
HOLDER_SCRIPT = """
import sys
from curator.core.backend.pg_locks import LibraryLock
lock = LibraryLock(sys.argv[1], sys.argv[2], sys.argv[3])
found = lock.try_acquire()
print("held" if found is None else "busy " + found.editor, flush=True)
sys.stdin.readline()
lock.release()
print("released", flush=True)
"""


@pytest.fixture
def library_url(pg_url: str) -> str:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        pg_schema.open_library(conn)
    return pg_url


def _start(url: str, lock: str, editor: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER_SCRIPT, url, lock, editor], cwd=ROOT, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert proc.stdout is not None
    return proc


def _wait_free(url: str, lock: str, timeout: float = 5.0) -> float:
    start = time.monotonic()
    with psycopg.connect(url, autocommit=True) as conn:
        while holder(conn, lock) is not None:
            assert time.monotonic() - start < timeout, "lock not released"
            time.sleep(0.05)
    return time.monotonic() - start


def test_one_writer_at_a_time_across_processes(library_url: str) -> None:
    ana = _start(library_url, "writer", "Ana")
    try:
        assert ana.stdout is not None and ana.stdout.readline().strip() == "held"
        ben = LibraryLock(library_url, "writer", "Ben")
        with pytest.raises(LockHeld) as err:
            ben.acquire()
        assert str(err.value) == "Ana is writing…"
        assert err.value.holder is not None and err.value.holder.editor == "Ana"
        with psycopg.connect(library_url, autocommit=True) as conn:
            seen = holder(conn, "writer")
            assert seen is not None and seen.editor == "Ana" and seen.says() == "Ana is writing…"
            assert holder(conn, "importer") is None
        # The importer lock is a different lock: Ben may import while Ana writes.
        with LibraryLock(library_url, "importer", "Ben") as importing:
            assert importing.held
            other = _start(library_url, "importer", "Cem")
            assert other.stdout is not None and other.stdout.readline().strip() == "busy Ben"
            other.communicate("\n", timeout=10)
        assert not importing.held
        # Ana's process dies without a word: the server releases her lock with her session.
        ana.send_signal(signal.SIGKILL)
        ana.wait(10)
        _wait_free(library_url, "writer")
        with ben:
            assert ben.held
            with psycopg.connect(library_url, autocommit=True) as conn:
                now = holder(conn, "writer")
                assert now is not None and now.editor == "Ben"
        assert not ben.held
    finally:
        if ana.poll() is None:
            ana.kill()
            ana.wait(10)


def test_release_by_the_holder(library_url: str) -> None:
    ana = _start(library_url, "writer", "Ana")
    assert ana.stdout is not None and ana.stdout.readline().strip() == "held"
    out, _ = ana.communicate("\n", timeout=10)
    assert out.strip() == "released"
    with LibraryLock(library_url, "writer", "Ben") as lock:
        assert lock.held and lock.try_acquire() is None  # held already by this object: no second session


def test_lost_session_is_not_held(library_url: str) -> None:
    lock = LibraryLock(library_url, "writer", "Ana")
    lock.acquire()
    with psycopg.connect(library_url, autocommit=True) as conn:
        seen = holder(conn, "writer")
        assert seen is not None
        conn.execute("SELECT pg_terminate_backend(%s)", (seen.pid,))
        _wait_free(library_url, "writer")
    assert not lock.held
    lock.release()  # the session is gone: nothing to send, no error


def test_unknown_lock() -> None:
    with pytest.raises(ValueError, match="unknown library lock 'reader'"):
        LibraryLock("postgresql://ana@host/db", "reader", "Ana")
