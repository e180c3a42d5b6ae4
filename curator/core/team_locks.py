"""One writer and one importer at a time on a team library, and the sentence another editor reads.

Write-back (``store_write.write``) and import/rescan (``importer.import_paths``) touch the shared folder's
files, which no database transaction protects. On PostgreSQL each holds its advisory lock for the whole
run (:mod:`curator.core.backend.pg_locks`: never waits, released by the server if the holder's session
dies) and the two exclude each other, since a rescan reading a card mid-write would take half of a write
for an edit on disk. An editor who finds a lock held gets :class:`LibraryLocked`, a LibraryBusy whose text
names the holder and since when: "Ana is writing cards (since 14:02) — try again when they are done".
The CLI prints it as it is and the GUI shows it where it reports a busy library.

On SQLite nothing changes: one machine, and the library's own write lock with the busy timeout already
serialises it; ``Backend.files_lock`` holds nothing. This module imports no driver, so ``curator list`` pays nothing.
"""

from __future__ import annotations

import getpass
import threading
import time
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from curator.core.store_types import LibraryBusy

#: The library locks (pg_locks.LOCKS) and what the holder is doing, as the sentence says it.
DOING = {"writer": "writing cards", "importer": "importing cards"}
#: Which other lock each one must find free: the files are shared by both.
EXCLUDES = {"writer": ("importer",), "importer": ("writer",)}
#: A lock held longer than this shows its date as well as its time.
DAY = 20 * 3600


def since_text(since: float, now: float | None = None) -> str:
    """``14:02`` (local time), or ``2026-11-30 14:02`` when that is not within the day."""
    now = time.time() if now is None else now
    shape = "%H:%M" if abs(now - since) < DAY else "%Y-%m-%d %H:%M"
    return time.strftime(shape, time.localtime(since))


def busy_sentence(lock: str, editor: str, since: float | None, now: float | None = None) -> str:
    """What an editor reads when ``lock`` is held: who, doing what, since when, and what to do."""
    who = editor or "another editor"
    when = f" (since {since_text(since, now)})" if since else ""
    return f"{who} is {DOING.get(lock, 'using the library')}{when} — try again when they are done"


class LibraryLocked(LibraryBusy):
    """Another editor holds a team library's writer or importer lock; nothing was done.

    ``lock``: "writer" or "importer" (the one found held); ``editor`` and ``since`` (epoch seconds, the
    server's clock; None when the holder left before it could be named) say who holds it.
    """

    def __init__(self, lock: str, editor: str, since: float | None) -> None:
        super().__init__(busy_sentence(lock, editor, since))
        self.lock = lock
        self.editor = editor
        self.since = since


def editor_of(store: Any) -> str:
    """The name a Store's locks are recorded under: its editor, else the operating system's user."""
    name = getattr(store, "editor", None)
    if name:
        return str(name)
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):  # no LOGNAME/USER and no passwd entry for the uid
        return ""


# Locks each Store holds now, with their depth: a write nested in another write of the same Store (the
# GUI's write-then-rescan never nests, but a caller may) must not find its own lock held by "another".
_held: weakref.WeakKeyDictionary[Any, dict[str, int]] = weakref.WeakKeyDictionary()
_held_guard = threading.Lock()


@contextmanager
def exclusive(store: Any, lock: str) -> Iterator[None]:
    """Hold ``lock`` ("writer" or "importer") of ``store``'s team library for the block.

    Raises LibraryLocked at once (nothing done) when another editor holds it, or holds the lock it
    excludes. The backend holds it (``Backend.files_lock``); a SQLite library takes none.
    """
    if lock not in DOING:
        raise ValueError(f"unknown library lock {lock!r} (use one of: {', '.join(DOING)})")
    with _held_guard:
        depth = _held.setdefault(store, {})
        nested = depth.get(lock, 0) > 0
        depth[lock] = depth.get(lock, 0) + 1
    try:
        if nested:
            yield
            return
        with store.backend.files_lock(lock, editor_of(store), EXCLUDES[lock]):
            yield
    finally:
        with _held_guard:
            depth[lock] -= 1
