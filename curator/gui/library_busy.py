"""A library another process is writing: the GUI thread never waits long for its lock.

SQLite lets one writer at a time hold a library. The GUI thread's connection waits at most
:data:`GUI_BUSY_TIMEOUT_MS` for the lock (a stall the editor does not feel); an edit that does not get
it in time changed nothing (each edit is one transaction) and is tried again :data:`RETRIES` times,
:data:`RETRY_MS` apart, from a QTimer, so the event loop keeps running in between. Workers (import, write)
keep a long timeout on their own connections: they run off the GUI thread and should wait their turn.
"""

from __future__ import annotations

from curator.core.store import LibraryBusy, Store
from curator.core.team_locks import LibraryLocked

#: The GUI thread's busy timeout: the longest one attempt can stall the event loop.
GUI_BUSY_TIMEOUT_MS = 200
#: The same in seconds, for Store(path, busy_timeout=...).
GUI_BUSY_TIMEOUT = GUI_BUSY_TIMEOUT_MS / 1000
#: A worker's busy timeout (an import or a write waits for the other writer rather than failing).
WORKER_BUSY_TIMEOUT_MS = 30_000
#: Attempts after the first one, and the pause between them (the event loop runs meanwhile).
RETRIES = 3
RETRY_MS = 500

BUSY_MESSAGE = (
    "The library is busy: another Curator is writing to it. Your edit ({action}) was not applied; "
    "nothing changed. Try again in a moment."
)


def is_busy(exc: BaseException) -> bool:
    """Whether `exc` means another connection holds the library's write lock (nothing was changed)."""
    # The Store raises every lock timeout as LibraryBusy (its backend maps the driver's errors).
    return isinstance(exc, LibraryBusy)


def busy_reason(exc: BaseException, default: str) -> str:
    """Why a write or an import could not run, for its message: on a team library whose writer or
    importer lock another editor holds, their sentence ("Ana is writing cards (since 14:02) — try again
    when they are done"); ``default`` for a library busy any other way."""
    return str(exc) if isinstance(exc, LibraryLocked) else default


def set_busy_timeout(store: Store, milliseconds: int) -> None:
    """Set the busy timeout of this thread's connection to the library (other threads keep theirs)."""
    store.set_busy_timeout(milliseconds / 1000)
