"""The checks index in a process of its own: the desktop app's memory stays the list's.

The same-story index of a 100k-card library takes hundreds of MB once loaded (its arrays, the TF-IDF
vectors, the MinHash bands), and building it peaks higher still. In the app's own process that would sit
beside Qt, the page cache and the images for as long as the window is open (the window's peak went from
~150 MB to ~770 MB). So the app hands the index to a child process: it opens its own Store on the same
library (a SQLite file, or a team library's URL with the password the editor typed, passed in memory and
never written anywhere), refreshes and saves the index there, and answers suggestions over a pipe. The
groups are read from the library as before (``check_group``), so the Duplicates facet needs no request.

``store_checks.serve_from(store, service)`` routes a Store's ``refresh_checks``, ``suggest_related`` and
``suggest_held`` to the service; everything else (the CLI, tests, a window built without a service) keeps
the index in its own process. Requests are serialised (one at a time, from whichever worker thread asks);
a child that died is started again on the next request, and its failure reaches the caller as the
exception it raised (a LibraryBusy stays a LibraryBusy).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import threading
from typing import Any

#: How long a request may wait for the child's answer before the child is taken for hung (a full build
#: of 100k cards takes ~10-40 s on a loaded machine; a suggestion a few ms).
ANSWER_TIMEOUT_S = 600.0
#: The child's wait for another writer's lock when it saves the index (as a GUI worker's).
CHILD_BUSY_TIMEOUT_S = 30.0


class ServiceError(RuntimeError):
    """The checks process failed in a way that is not the library's (it died, or answered garbage)."""


def _serve(conn: multiprocessing.connection.Connection, location: str, password: str | None) -> None:
    """The child: one Store on the library, requests answered in order until the pipe closes."""
    from curator.core import store_checks
    from curator.core.store import Store

    store = Store(location, password=password, busy_timeout=CHILD_BUSY_TIMEOUT_S)
    try:
        while True:
            try:
                request = conn.recv()
            except (EOFError, OSError):
                return
            kind, args = request[0], request[1:]
            try:
                if kind == "refresh":
                    answer: Any = store_checks.refresh(store)
                elif kind == "suggest":
                    card_id, limit, held = args
                    answer = (store_checks.suggest_held(store, card_id, limit) if held
                              else store_checks.suggest_related(store, card_id, limit))  # fmt: skip
                elif kind == "stop":
                    return
                else:
                    raise ServiceError(f"unknown request {kind!r}")
                conn.send(("ok", answer))
            except Exception as exc:  # noqa: BLE001 (every failure is the caller's: sent back, not lost)
                try:
                    conn.send(("error", exc))
                except Exception:  # noqa: BLE001 (an exception that cannot be pickled: its words)
                    conn.send(("error", ServiceError(f"{type(exc).__name__}: {exc}")))
    finally:
        store.close()


class ChecksService:
    """A child process holding one library's checks index; see the module docstring."""

    def __init__(self, location: str, *, password: str | None = None,
                 context: multiprocessing.context.BaseContext | None = None) -> None:  # fmt: skip
        self.location = location
        self._password = password
        self._context = context
        self._lock = threading.Lock()
        self._process: multiprocessing.process.BaseProcess | None = None
        self._conn: multiprocessing.connection.Connection | None = None
        self.started = 0  # children started (a restart after a death counts)

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None and self._process.is_alive() else None

    def _start(self) -> multiprocessing.connection.Connection:
        if self._conn is not None and self._process is not None and self._process.is_alive():
            return self._conn
        self._stop_child()
        if self._context is None:
            from curator.core.importer import pool_context  # fork only when safe (no other threads)

            self._context = pool_context()
        ours, theirs = self._context.Pipe()
        process = self._context.Process(target=_serve, args=(theirs, self.location, self._password),
                                        name="curator-checks", daemon=True)  # fmt: skip
        process.start()
        theirs.close()
        self._process, self._conn = process, ours
        self.started += 1
        return ours

    def _ask(self, *request: Any) -> Any:
        """Send a request and wait for its answer; a child found dead on the way is started again and the
        request sent once more (every request is safe to repeat: a refresh, a lookup)."""
        with self._lock:
            for attempt in (1, 2):
                conn = self._start()
                try:
                    conn.send(request)
                    if not conn.poll(ANSWER_TIMEOUT_S):
                        self._stop_child()
                        raise ServiceError(f"the checks process gave no answer in {ANSWER_TIMEOUT_S:.0f} s")
                    status, answer = conn.recv()
                    break
                except (EOFError, OSError) as exc:
                    self._stop_child()
                    if attempt == 2:
                        raise ServiceError(f"the checks process stopped ({exc or type(exc).__name__})") from exc
        if status == "error":
            raise answer
        return answer

    def refresh(self) -> Any:
        """``store_checks.refresh`` in the child: its RefreshReport."""
        return self._ask("refresh")

    def suggest(self, card_id: int, limit: int, *, held: bool) -> Any:
        """Suggestions for a card: ``suggest_held`` (None when the child's index is not known to be
        current) when `held`, else ``suggest_related`` (the index brought up to date first)."""
        return self._ask("suggest", card_id, limit, held)

    def _stop_child(self) -> None:
        conn, process = self._conn, self._process
        self._conn = self._process = None
        if conn is not None:
            try:
                conn.send(("stop",))
            except (OSError, ValueError):
                pass
            conn.close()
        if process is not None:
            process.join(timeout=2)
            if process.is_alive():
                process.terminate()
                process.join(timeout=2)

    def close(self) -> None:
        """Stop the child (the window closed); a later request would start a new one."""
        with self._lock:
            self._stop_child()
