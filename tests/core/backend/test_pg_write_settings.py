"""A team library's write transaction sets its own lock wait and working memory, and only its own.

``lock_timeout`` is this thread's busy timeout (a wait for the writer lock that runs out is LibraryBusy);
``work_mem`` is at least postgres.WRITE_WORK_MEM, so a bulk edit's trigger transition tables stay in
memory, but a server (or database) configured with more keeps its own. Both are transaction-local: the
connection's reads after the edit see the server's settings again.
"""

from __future__ import annotations

from typing import Any

import psycopg

from curator.core.backend.postgres import WRITE_WORK_MEM
from curator.core.store import Store


def _setting(store: Store, name: str) -> str:
    return str(store.backend._one("SELECT current_setting(%s)", (name,))[0])


def _bytes(store: Store, name: str) -> int:
    return int(store.backend._one("SELECT pg_size_bytes(current_setting(%s))", (name,))[0])


def test_a_write_transaction_sets_its_lock_wait_and_memory_for_itself(pg_url: str) -> None:
    with Store(pg_url, busy_timeout=2.5) as store:
        default_memory = _bytes(store, "work_mem")
        default_wait = _setting(store, "lock_timeout")
        assert default_memory < WRITE_WORK_MEM  # the server's default (4 MB) is below it
        with store.backend.transaction():
            assert _setting(store, "lock_timeout") == "2500ms"
            assert _bytes(store, "work_mem") == WRITE_WORK_MEM
            with store.backend.transaction():  # a nested one (a savepoint) keeps the outer one's
                assert _bytes(store, "work_mem") == WRITE_WORK_MEM
        assert _bytes(store, "work_mem") == default_memory
        assert _setting(store, "lock_timeout") == default_wait
        store.backend.set_busy_timeout(0.25)
        with store.backend.transaction():
            assert _setting(store, "lock_timeout") == "250ms"


def test_a_server_configured_with_more_memory_keeps_it(pg_url: str, pg_cluster: Any) -> None:
    dbname = psycopg.conninfo.conninfo_to_dict(pg_url)["dbname"]
    pg_cluster.sql(f"ALTER DATABASE \"{dbname}\" SET work_mem = '{2 * WRITE_WORK_MEM // 1024}kB'")
    with Store(pg_url) as store:
        assert _bytes(store, "work_mem") == 2 * WRITE_WORK_MEM
        with store.backend.transaction():
            assert _bytes(store, "work_mem") == 2 * WRITE_WORK_MEM
