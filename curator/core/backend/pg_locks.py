"""One writer and one importer at a time on a team library: advisory locks, each on a session of its own.

Why advisory locks: Write and import touch the shared folder's files, which no database transaction
protects; two editors writing the same card files at once would race. ``pg_try_advisory_lock`` never
waits (the GUI says "Ana is writing…" at once instead of hanging) and, being session-level, the server
releases it the moment the holder's session ends: a crashed or unplugged laptop cannot leave the library
locked. That is why each lock has a connection of its own: the Store's connections come and go, and a
transaction's rollback must not drop the lock.

Who holds it: the holder records its editor name in ``lock_holder`` with its backend pid; a reader joins
that with ``pg_locks`` (readable by every role), so a row left by a dead session is never shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import psycopg

from curator.core.backend.location import Location
from curator.core.backend.pg_connect import connect

#: The advisory lock space: ('CURA', n) in the two-int form (distinct from the bigint form pg_schema uses).
LOCK_CLASS = 0x43555241
LOCKS: dict[str, int] = {"writer": 16, "importer": 17}
_DOING = {"writer": "writing", "importer": "importing"}


@dataclass(frozen=True)
class Holder:
    """Who holds a lock now: the editor's name, since when (epoch seconds, server clock), their session."""

    lock: str
    editor: str
    since: float
    pid: int

    def says(self) -> str:
        """``"Ana is writing…"``: the status-bar sentence."""
        return f"{self.editor or 'another editor'} is {_DOING.get(self.lock, 'busy')}…"


class LockHeld(Exception):
    """The lock is held by another session; ``holder`` says who (None if they left meanwhile)."""

    def __init__(self, lock: str, holder: Holder | None) -> None:
        super().__init__(holder.says() if holder else f"another editor holds the {lock} lock")
        self.lock = lock
        self.holder = holder


def _key(lock: str) -> int:
    if lock not in LOCKS:
        raise ValueError(f"unknown library lock {lock!r} (use one of: {', '.join(LOCKS)})")
    return LOCKS[lock]


def holder(conn: psycopg.Connection[Any], lock: str) -> Holder | None:
    """Who holds ``lock`` right now (any connection to the library will do), or None."""
    row = conn.execute(
        "SELECT h.editor, h.since, h.pid FROM pg_locks l JOIN lock_holder h ON h.pid = l.pid AND h.lock = %s "
        "WHERE l.locktype = 'advisory' AND l.classid = %s AND l.objid = %s AND l.objsubid = 2 AND l.granted "
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        (lock, LOCK_CLASS, _key(lock)),
    ).fetchone()
    if not conn.autocommit:
        conn.rollback()
    return Holder(lock, row[0], row[1], row[2]) if row else None


def taken(conn: psycopg.Connection[Any], lock: str) -> bool:
    """Whether some session holds ``lock`` now (pg_locks alone: true even before its holder row is in)."""
    row = conn.execute(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = %s AND objid = %s "
        "AND objsubid = 2 AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        (LOCK_CLASS, _key(lock)),
    ).fetchone()
    return bool(row and row[0])


class LibraryLock:
    """``with LibraryLock(url, "writer", "Ana"):`` holds the lock or raises LockHeld, never waits."""

    def __init__(self, where: Location | str, lock: str, editor: str, *, password: str | None = None) -> None:
        _key(lock)
        self.where, self.lock, self.editor, self._password = where, lock, editor, password
        self._conn: psycopg.Connection[Any] | None = None

    def try_acquire(self) -> Holder | None:
        """Take the lock: None when taken (or already held by this object), else who holds it."""
        if self._conn is not None:
            return None
        conn = connect(self.where, password=self._password, autocommit=True)
        try:
            got = conn.execute(
                "SELECT pg_try_advisory_lock(%s, %s)", (LOCK_CLASS, _key(self.lock))
            ).fetchone()
            if not (got and got[0]):
                current = holder(conn, self.lock)
                conn.close()
                return current or Holder(self.lock, "", 0.0, 0)
            conn.execute(
                "INSERT INTO lock_holder (lock, editor, pid) VALUES (%s, %s, pg_backend_pid()) "
                "ON CONFLICT (lock) DO UPDATE SET editor = excluded.editor, pid = excluded.pid, "
                "since = excluded.since",
                (self.lock, self.editor),
            )
        except BaseException:
            conn.close()
            raise
        self._conn = conn
        return None

    def acquire(self) -> None:
        """Take the lock or raise LockHeld naming the holder."""
        found = self.try_acquire()
        if found is not None:
            raise LockHeld(self.lock, found if found.pid else None)

    @property
    def held(self) -> bool:
        """Whether this object still holds the lock (False after release, or if its session was lost)."""
        if self._conn is None:
            return False
        try:
            row = self._conn.execute(
                "SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'advisory' "
                "AND classid = %s AND objid = %s AND objsubid = 2 AND granted",
                (LOCK_CLASS, _key(self.lock)),
            ).fetchone()
        except psycopg.Error:
            return False
        return bool(row and row[0])

    def release(self) -> None:
        """Release the lock (closing its session releases it even if the unlock cannot be sent)."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        try:
            conn.execute("DELETE FROM lock_holder WHERE lock = %s AND pid = pg_backend_pid()", (self.lock,))
            conn.execute("SELECT pg_advisory_unlock(%s, %s)", (LOCK_CLASS, _key(self.lock)))
        except psycopg.Error:
            pass  # the session is gone, and the lock with it
        finally:
            conn.close()

    def acquire_excluding(self, others: Sequence[str]) -> None:
        """Take the lock while none of ``others`` is held; else raise LockHeld naming who holds which.

        Write-back and a rescan touch the same files (a rescan reading a card mid-write would mark a
        clean card as a conflict), so the writer and the importer exclude each other too. Each takes
        its own lock first and only then looks at the other's: of two editors starting at once at least
        one sees the other (both may, and both try again later), never neither.
        """
        for other in others:
            _key(other)
        self.acquire()
        assert self._conn is not None
        try:
            for other in others:
                if taken(self._conn, other):
                    raise LockHeld(other, holder(self._conn, other))
        except BaseException:
            self.release()
            raise

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()
