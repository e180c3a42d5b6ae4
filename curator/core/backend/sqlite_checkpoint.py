"""Copying a big write's pages back into a SQLite library on a thread of its own (the desktop app's).

In WAL mode a commit appends the pages it changed to the ``-wal`` file, and a *checkpoint* later copies
them into the library file itself. SQLite runs that copy inside the commit that takes the WAL past
``wal_autocheckpoint`` pages (1,000 by default), so the editor who publishes 100k cards waits for it: the
commit writes ~110 MB of pages and then spends ~0.25-0.3 s copying them back. The edit does not need the
copy to be safe: the WAL *is* the committed state (every connection, of this process or another, reads
through it, and it survives a crash as any commit does). So once the window asks for it
(``SqliteBackend.defer_checkpoints``), a transaction that changed many rows commits with automatic
checkpoints off for that commit, and then asks this thread for the copy. The thread runs a PASSIVE
checkpoint on a connection of its own: it never waits for, nor blocks, a reader or a writer, and the GIL
is released while SQLite copies. Small transactions keep SQLite's automatic checkpoint, so the WAL stays
as bounded as before; whatever is left when the library closes, SQLite copies at its last connection's
close, as it always does.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from typing import Any

log = logging.getLogger(__name__)

#: Rows a transaction changes (``total_changes``) from which its commit leaves the copy to the thread.
#: A single edit changes ~3 rows; publishing 10k cards ~30k; SQLite's own threshold (1,000 WAL pages) is
#: met by ~1,000 changed card rows.
DEFER_AT_ROWS = 1000


class Checkpointer:
    """A daemon thread that checkpoints one library whenever :meth:`ask` is called, until :meth:`stop`.

    ``name`` and ``params``: what ``sqlite3.connect`` is given for the library (its path or ``file:`` URI).
    """

    def __init__(self, name: str, params: dict[str, Any]) -> None:
        self._name = name
        self._params = params
        self._lock = threading.Condition()
        self._asked = 0  # copies asked for
        self._done = 0  # copies asked for whose checkpoint has run (or failed)
        self._stopping = False
        #: The thread that started it: the backend stops it when that thread closes its connection.
        self.owner = threading.current_thread()
        #: The last checkpoint's (busy, WAL frames, frames copied), as ``PRAGMA wal_checkpoint`` says.
        self.last: tuple[int, int, int] | None = None
        self._thread = threading.Thread(target=self._run, name="curator-checkpoint", daemon=True)
        self._thread.start()

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self._stopping

    def ask(self) -> None:
        """Have the thread checkpoint the library once more (returns at once)."""
        with self._lock:
            self._asked += 1
            self._lock.notify_all()

    def wait(self, timeout: float) -> bool:
        """Wait until every copy asked for so far is done; False when ``timeout`` passed first."""
        with self._lock:
            target = self._asked
            return self._lock.wait_for(lambda: self._done >= target or not self._thread.is_alive(), timeout)

    def stop(self, timeout: float = 30.0) -> None:
        """End the thread once the checkpoint it is running (if any) is done."""
        with self._lock:
            self._stopping = True
            self._lock.notify_all()
        self._thread.join(timeout)

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            conn = sqlite3.connect(self._name, timeout=0, isolation_level=None, **self._params)
            while True:
                with self._lock:
                    self._lock.wait_for(lambda: self._asked > self._done or self._stopping)
                    if self._stopping:
                        return
                    target = self._asked
                try:
                    row = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    self.last = (int(row[0]), int(row[1]), int(row[2]))
                except sqlite3.Error as e:
                    # Nothing is lost: the pages stay in the WAL, where every reader finds them, and the
                    # next checkpoint (this thread's, a small commit's or the last close's) copies them.
                    log.warning("checkpointing %s failed: %s", self._name, e)
                with self._lock:
                    self._done = target
                    self._lock.notify_all()
        except sqlite3.Error as e:
            log.warning("cannot open %s to checkpoint it: %s", self._name, e)
        finally:
            if conn is not None:
                conn.close()
            with self._lock:
                self._done = self._asked
                self._lock.notify_all()
