"""Another editor's process holding a team library's writer or importer lock, for real.

The PostgreSQL side of ``lockholder.py``: a separate Python process takes the lock through
``pg_locks.LibraryLock`` under an editor's name, says ``held``, and keeps it until released (its stdin
closed) or killed, so the tests see exactly what another editor's Curator does to ours.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Self

ROOT = Path(__file__).resolve().parent.parent

_HOLDER = (
    "import sys\n"
    "from curator.core.backend.pg_locks import LibraryLock\n"
    "lock = LibraryLock(sys.argv[1], sys.argv[2], sys.argv[3])\n"
    "found = lock.try_acquire()\n"
    "print('held' if found is None else 'busy ' + found.editor, flush=True)\n"
    "sys.stdin.read()\n"
    "lock.release()\n"
)


class TeamLockHolder:
    """``with TeamLockHolder(url, "writer", "Ana"):`` Ana's process holds the writer lock meanwhile."""

    def __init__(self, url: str, lock: str, editor: str) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
        self.process = subprocess.Popen(
            [sys.executable, "-c", _HOLDER, url, lock, editor], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True, cwd=ROOT, env=env,
        )  # fmt: skip
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        assert line == "held", f"the lock holder did not take the {lock} lock ({line!r})"

    def release(self) -> None:
        """Let the holder release the lock and exit (idempotent)."""
        stdin = self.process.stdin
        if stdin is not None and not stdin.closed:
            stdin.close()
        self.process.wait(timeout=10)

    def kill(self) -> None:
        """The holder's process dies without a word (its session, and the lock, go with it)."""
        self.process.kill()
        self.process.wait(timeout=10)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process.poll() is None:
            self.release()
