"""Another process holding a SQLite library's write lock: how tests make a library busy for real.

The holder is a separate Python process (a lock held by this process's own connection would not show
what another Curator does to us) that takes ``BEGIN IMMEDIATE``, says ``locked`` and keeps the lock until
it is released (its stdin closed) or the ``with`` block ends.
"""

from __future__ import annotations

import subprocess
import sys
from os import PathLike
from typing import Self

_HOLDER = (
    "import sqlite3, sys\n"
    "conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=5)\n"
    "conn.execute('BEGIN IMMEDIATE')\n"
    "print('locked', flush=True)\n"
    "sys.stdin.read()\n"
    "conn.rollback()\n"
)


class LockHolder:
    """``with LockHolder(path):`` the library at ``path`` is locked by another process; ``release()`` early."""

    def __init__(self, path: str | PathLike[str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _HOLDER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        assert line == "locked", f"the lock holder did not take the lock ({line!r})"

    def release(self, *, wait: bool = True) -> None:
        """Let the holder roll back and exit (idempotent); ``wait=False`` returns at once (an event loop)."""
        stdin = self.process.stdin
        if stdin is not None and not stdin.closed:
            stdin.close()
        if wait:
            self.process.wait(timeout=10)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


locked = LockHolder
