"""Live updates from a team library: LISTEN/NOTIFY on a connection of its own, in a background thread.

Why a dedicated connection: notifications arrive only on the connection that LISTENs, between its
statements; the Store's connections run queries and transactions and must never sit waiting on a socket.
The listener's thread does nothing else: it waits for notifications, merges the ones that arrive within
a short window (a bulk publish of 10k cards is ~29 payloads) and calls ``on_changes`` once per batch with
the changed ids. It never reads card rows: the callback (the Store, then the GUI thread) re-reads what it
shows. Payloads come from pg_schema's triggers: ``card:1,2,3`` and ``batch:7``.

Why a catch-up: a notification sent while the listener is disconnected is lost. After every reconnect the
listener first LISTENs, then asks in one statement for its new snapshot and for every card changed by a
transaction its previous snapshot did not see (``card_change``, ``card_removed``; see pg_schema for
why transaction ids, not a sequence). Anything committed after that snapshot is notified on the new
connection, which already listens: nothing is missed, and at worst a card is reported twice.

Reconnects back off exponentially (0.5 s doubling to 30 s by default) and report their state through
``on_state`` ("connected", "disconnected"), so the GUI can show a banner. A heartbeat every ``heartbeat``
idle seconds (itself a catch-up query, so the snapshot stays recent) notices a connection that died without
a word (a laptop changing networks).
``stop()`` ends the thread within about ``poll`` seconds and closes the connection.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import psycopg

from curator.core.backend.location import Location
from curator.core.backend.pg_connect import ConnectError, connect
from curator.core.backend.pg_schema import CHANNEL

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Changes:
    """Ids changed on the server since the last call: cards (changed, added or deleted) and edit batches.

    ``caught_up`` is True for the catch-up after a reconnect: ``batches`` may then be incomplete (batches
    carry no change stamp), so a history view reloads.
    """

    cards: frozenset[int]
    batches: frozenset[int] = frozenset()
    caught_up: bool = False


def parse_payloads(payloads: Iterable[str]) -> Changes:
    """Merge ``card:…``/``batch:…`` payloads; unknown kinds (from a newer Curator) and junk are skipped."""
    found: dict[str, set[int]] = {"card": set(), "batch": set()}
    for payload in payloads:
        kind, _, ids = payload.partition(":")
        if kind in found:
            found[kind].update(int(i) for i in ids.split(",") if i.isascii() and i.isdigit())
    return Changes(frozenset(found["card"]), frozenset(found["batch"]))


_CATCH_UP = """
SELECT pg_current_snapshot()::text,
       array(SELECT unnest(ids) FROM card_change
             WHERE change_xid >= pg_snapshot_xmin(%(since)s::pg_snapshot)
               AND NOT pg_visible_in_snapshot(change_xid, %(since)s::pg_snapshot)
             UNION
             SELECT card_id FROM card_removed
             WHERE change_xid >= pg_snapshot_xmin(%(since)s::pg_snapshot)
               AND NOT pg_visible_in_snapshot(change_xid, %(since)s::pg_snapshot))
"""


def current_snapshot(conn: psycopg.Connection[Any]) -> str:
    """The snapshot a reader's data reflects (take it in the transaction that read the data)."""
    row = conn.execute("SELECT pg_current_snapshot()::text").fetchone()
    assert row is not None
    return str(row[0])


def changed_since(conn: psycopg.Connection[Any], since: str) -> tuple[str, frozenset[int]]:
    """``(now, ids)``: the snapshot now and every card changed or removed by a transaction ``since`` missed."""
    row = conn.execute(_CATCH_UP, {"since": since}).fetchone()
    assert row is not None
    return str(row[0]), frozenset(row[1])


class Listener:
    """A background thread delivering :class:`Changes` from a library until :meth:`stop`.

    ``since`` is the snapshot the caller's data reflects (:func:`current_snapshot`); with it, the first
    connection catches up too. The callbacks run in the listener's thread: hand the work to your own.
    """

    def __init__(
        self,
        where: Location | str,
        on_changes: Callable[[Changes], None],
        *,
        password: str | None = None,
        since: str | None = None,
        on_state: Callable[[str], None] | None = None,
        window: float = 0.05,
        poll: float = 0.25,
        heartbeat: float = 10.0,
        backoff: tuple[float, float] = (0.5, 30.0),
    ) -> None:
        self._where = where
        self._password = password
        self._on_changes = on_changes
        self._on_state = on_state
        self._snapshot = since
        self._window, self._poll, self._heartbeat, self._backoff = window, poll, heartbeat, backoff
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._conn: psycopg.Connection[Any] | None = None
        self.connected = False
        #: How many times the connection was (re)established; backend pid of the current one.
        self.connections = 0
        self.backend_pid: int | None = None

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the listener is already running")
        self._thread = threading.Thread(target=self._run, name="curator-listen", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and close its connection (waits up to ``timeout`` seconds)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _state(self, state: str) -> None:
        self.connected = state == "connected"
        if self._on_state is not None:
            try:
                self._on_state(state)
            except Exception:  # a broken callback must not end live updates
                log.exception("listener state callback failed")

    def _deliver(self, changes: Changes) -> None:
        if not (changes.cards or changes.batches or changes.caught_up):
            return
        try:
            self._on_changes(changes)
        except Exception:
            log.exception("listener change callback failed")

    def _run(self) -> None:
        delay = self._backoff[0]
        while not self._stop.is_set():
            try:
                self._session()
                delay = self._backoff[0]
            except (psycopg.Error, ConnectError, OSError) as err:
                log.info("library listener lost its connection: %s", err)
            finally:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None
            if self._stop.is_set():
                break
            self._state("disconnected")
            self._stop.wait(delay)
            delay = min(delay * 2, self._backoff[1])
        self.connected = False

    def _session(self) -> None:
        """One connection's life: LISTEN, catch up, then deliver notifications until it fails or stops."""
        self._conn = conn = connect(self._where, password=self._password, autocommit=True)
        self.backend_pid = conn.info.backend_pid
        conn.execute(f"LISTEN {CHANNEL}")
        if self._snapshot is None:
            self._snapshot = current_snapshot(conn)
            caught_up = None
        else:
            self._snapshot, ids = changed_since(conn, self._snapshot)
            caught_up = Changes(ids, caught_up=True)
        self.connections += 1
        self._state("connected")
        if caught_up is not None:
            self._deliver(caught_up)
        idle_since = time.monotonic()
        while not self._stop.is_set():
            payloads = [n.payload for n in conn.notifies(timeout=self._poll, stop_after=1)]
            if payloads:
                deadline = time.monotonic() + self._window
                while (left := deadline - time.monotonic()) > 0:
                    more = [n.payload for n in conn.notifies(timeout=left, stop_after=1)]
                    if not more:
                        break
                    payloads.extend(more)
                self._deliver(parse_payloads(payloads))
                idle_since = time.monotonic()
            elif time.monotonic() - idle_since >= self._heartbeat:
                # The heartbeat (raises when the connection died silently) also moves the snapshot on,
                # so a later reconnect catches up over seconds, not the whole session. It delivers what
                # it finds: mostly ids already notified (a re-read), never a change missed.
                self._snapshot, ids = changed_since(conn, self._snapshot)
                self._deliver(Changes(ids))
                idle_since = time.monotonic()
