"""What the desktop app asks about a team library: its name, the role's rights, a password prompt, live feed.

Why a module of its own: outside ``curator/core/backend`` nothing may import a concrete backend (the
layering test), yet the GUI must tell "the server wants a password" from "the server is down", know
whether its role may edit, and follow other editors' changes. These few functions answer that for any
Store; on an SQLite library they answer "writable, no feed" so the GUI has one code path.

Nothing here keeps a password: :func:`remembered` is the URL without one (what settings may hold), and a
typed password travels only inside the Store and the :class:`LiveFeed` made from it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from curator.core.backend.location import Location, parse_location, without_password

if TYPE_CHECKING:
    from curator.core.backend.pg_listen import Changes, Listener
    from curator.core.store import Store

__all__ = ["Access", "LiveFeed", "PasswordRequest", "access", "connect_problem", "is_team",
           "live_feed", "password_request", "remembered", "snapshot", "title"]  # fmt: skip


@dataclass(frozen=True)
class Access:
    """Whether this connection's role may edit the library; ``reason`` says why not ("" when it may)."""

    can_write: bool
    reason: str = ""


@dataclass(frozen=True)
class PasswordRequest:
    """libpq found no password (``failed`` False) or the one it had was refused (``failed`` True)."""

    failed: bool
    display: str
    user: str


def _location(text: str) -> Location | None:
    try:
        return parse_location(text)
    except ValueError:
        return None


def is_team(store: Store) -> bool:
    """Whether the Store's library lives on a PostgreSQL server (a team library)."""
    where = _location(store.location)
    return where is not None and where.is_postgresql


def title(location: str) -> str:
    """How a window names its library: the file's name, or "dbname on host" for a team library.

    A URL naming no host (libpq's local socket) reads "dbname on this computer".
    """
    where = _location(location)
    if where is None or not where.is_postgresql or where.url is None:
        name = location.rstrip("/\\").replace("\\", "/").rsplit("/", 1)[-1]
        return name or location
    parts = urlsplit(where.url)
    database = unquote(parts.path.lstrip("/")) or where.params.get("dbname", "") or "(default database)"
    host = parts.hostname or where.params.get("host", "")
    if not host or host.startswith("/"):
        return f"{database} on this computer"
    return f"{database} on {host}"


def remembered(location: str) -> str:
    """The text settings may keep for a library: the path, or the URL with any password taken out."""
    where = _location(location)
    if where is None or not where.is_postgresql or where.url is None:
        return location
    return without_password(where.url)


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def password_request(exc: BaseException) -> PasswordRequest | None:
    """The password prompt a failed open calls for (the Store raises LibraryError from libpq's error)."""
    from curator.core.backend.pg_connect import PasswordNeeded

    for err in _chain(exc):
        if isinstance(err, PasswordNeeded):
            where = _location(err.display)
            user = ""
            if where is not None and where.url is not None:
                user = unquote(urlsplit(where.url).username or "") or where.params.get("user", "")
            return PasswordRequest(failed=err.failed, display=err.display, user=user)
    return None


def connect_problem(exc: BaseException) -> str | None:
    """A failed connection as one sentence for the editor ("The team library … is not answering …")."""
    from curator.core.backend.pg_connect import ConnectError

    for err in _chain(exc):
        if isinstance(err, ConnectError):
            text = str(err)
            return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
    return None


def _backend(store: Store) -> Any:
    """The Store's PostgresBackend (callers checked :func:`is_team`)."""
    return store.backend


def access(store: Store) -> Access:
    """Whether this role may edit the library (one round trip on a team library; a file: always)."""
    if not is_team(store):
        return Access(True)
    from curator.core.backend import pg_connect
    from curator.core.backend.postgres import _translated

    backend = _backend(store)
    with _translated(backend.location):
        # The thread's own connection (autocommit): the check opens no transaction of its own.
        found = pg_connect.access(backend._conn())
    return Access(found.can_write, found.reason[:1].upper() + found.reason[1:])


def snapshot(store: Store) -> str | None:
    """The server's snapshot now, taken on this thread's connection (a feed catches up from it)."""
    if not is_team(store):
        return None
    from curator.core.backend import pg_listen
    from curator.core.backend.postgres import _translated

    backend = _backend(store)
    with _translated(backend.location):
        taken = pg_listen.current_snapshot(backend._conn())
    return taken


class LiveFeed:
    """Another editor's changes, delivered from a listener thread (see :mod:`pg_listen`).

    ``on_changes(Changes)`` and ``on_state("connected" | "disconnected")`` run on the feed's thread: hand
    them to your own (the GUI does so by a queued Qt signal). :meth:`retry` reconnects at once instead of
    waiting out the back-off, catching up from the snapshot the last connection reached.
    """

    def __init__(
        self, store: Store, on_changes: Callable[[Changes], None], on_state: Callable[[str], None], *,
        since: str | None = None, heartbeat: float = 10.0, backoff: tuple[float, float] = (0.5, 30.0),
    ) -> None:  # fmt: skip
        backend = _backend(store)
        self._where = backend.where
        self._password: str | None = backend._password  # the Store's own (typed) password, if any
        self._on_changes, self._on_state = on_changes, on_state
        self._heartbeat, self._backoff = heartbeat, backoff
        self._since = since
        self.listener: Listener | None = None

    def start(self) -> None:
        from curator.core.backend.pg_listen import Listener

        self.listener = Listener(
            self._where, self._on_changes, password=self._password, since=self._since, on_state=self._on_state,
            heartbeat=self._heartbeat, backoff=self._backoff,
        )  # fmt: skip
        self.listener.start()

    def retry(self) -> None:
        """Drop the waiting listener and connect again now; the new one catches up where it left off."""
        old = self.listener
        if old is not None:
            old.stop()
            # The snapshot the old connection's data reached: nothing since then is missed.
            self._since = old._snapshot or self._since
        self.start()

    def stop(self) -> None:
        if self.listener is not None:
            self.listener.stop()
            self.listener = None

    @property
    def connected(self) -> bool:
        return self.listener is not None and self.listener.connected


def live_feed(
    store: Store, on_changes: Callable[[Changes], None], on_state: Callable[[str], None], **options: Any
) -> LiveFeed | None:
    """A (not yet started) feed of the library's changes; None for an SQLite library (one editor)."""
    if not is_team(store):
        return None
    return LiveFeed(store, on_changes, on_state, **options)
