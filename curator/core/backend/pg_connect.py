"""Connecting to a team library: libpq's own password places, errors a GUI can act on, read-only roles.

Why libpq decides: the password comes from where every PostgreSQL tool looks (``~/.pgpass``,
``PGPASSFILE``, ``PGPASSWORD``, a service file), never from Curator's settings in clear. When none is
found, or the one found is refused, :class:`PasswordNeeded` says so and the GUI asks; the answer goes in
as ``connect(…, password=…)`` for this connection only and is never stored.

Why distinct errors: "wrong password", "no such database", "server not answering", "server refuses
SSL" each call for a different next step, and libpq reports them all as one OperationalError with a
message. :func:`connect` sorts them into :class:`ConnectError` subclasses whose ``str()`` is a sentence
for the editor, naming the library by its password-free ``display``. A server that does not answer gives
up after ``connect_timeout`` (5 s unless the URL or ``PGCONNECT_TIMEOUT`` says otherwise), never libpq's
default of waiting for the operating system's TCP timeout (minutes).

Why raw psycopg and peewee both: the backend's hot paths (COPY for import, LISTEN, advisory locks, DDL)
use psycopg connections directly; queries built from the peewee models go through
:func:`peewee_database`, a ``Psycopg3Database`` that connects through :func:`connect` (so it gets the same
errors) and gives peewee the ``psycopg.errors`` module it was imported without (see ``curator/__init__``).
"""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from typing import Any

# isort: off
from curator.core.backend import pg_driver  # noqa: F401  # before psycopg: see its docstring
import psycopg

# isort: on

from curator.core.backend.location import Location, parse_location

#: Seconds to wait for a server before calling it unreachable (libpq's connect_timeout).
DEFAULT_CONNECT_TIMEOUT = 5

#: What the server sees as the client (pg_stat_activity), unless the URL names another.
APPLICATION_NAME = "curator"


class ConnectError(Exception):
    """A team library could not be opened; ``str()`` is a sentence for the editor (no password in it)."""

    def __init__(self, message: str, *, display: str, detail: str = "") -> None:
        super().__init__(message)
        self.display = display
        self.detail = detail  # libpq's own message, for logs (libpq never echoes a password)


class PasswordNeeded(ConnectError):
    """No password was found (``failed`` False) or the one given/found was refused (``failed`` True)."""

    def __init__(self, message: str, *, display: str, detail: str = "", failed: bool) -> None:
        super().__init__(message, display=display, detail=detail)
        self.failed = failed


class ServerUnreachable(ConnectError):
    """Nothing answered at the host and port (down, firewalled, wrong name, or too slow)."""


class DatabaseMissing(ConnectError):
    """The server answered but has no database of that name."""


class SSLRefused(ConnectError):
    """The URL requires SSL and the server does not offer it (or the certificate check failed)."""


class AccessDenied(ConnectError):
    """The server refused this role or this client (pg_hba.conf, no CONNECT privilege, no LOGIN)."""


#: libpq's messages (patterns) by the error each is. Kept as text, compiled by ``re`` on the first failure: a
#: connection that succeeds (every `curator list`) never pays for them (~0.7 ms).
_KINDS: tuple[tuple[str, type[ConnectError], str], ...] = (
    (r"no password supplied|password is required", PasswordNeeded, "needs a password"),
    (r"password authentication failed", PasswordNeeded, "refused the password"),
    (r'database ".*" does not exist', DatabaseMissing, "has no such database on the server"),
    (
        r"server does not support SSL|SSL error|certificate|SSL SYSCALL|sslmode",
        SSLRefused,
        "could not be reached over SSL as the URL requires",
    ),
    (
        r"no pg_hba\.conf entry|permission denied|not permitted to log in|role \".*\" does not exist",
        AccessDenied,
        "refused this user",
    ),
    (
        (
            r"Connection refused|timeout expired|could not translate host name|No route to host|"
            r"Network is unreachable|could not connect|server closed the connection|Name or service not known|"
            r"No such file or directory"
        ),
        ServerUnreachable,
        "is not answering",
    ),
)


def classify(error: psycopg.Error, display: str) -> ConnectError:
    """The ConnectError for a connection failure reported by libpq."""
    detail = str(error).strip()
    for pattern, kind, says in _KINDS:
        if re.search(pattern, detail):
            message = f"the team library {display} {says}"
            if kind is PasswordNeeded:
                failed = "password authentication failed" in detail
                return PasswordNeeded(message, display=display, detail=detail, failed=failed)
            if kind is ServerUnreachable:
                message += f" (no answer within the connect timeout, or the connection was refused): {detail}"
            elif kind is not DatabaseMissing:
                message += f": {detail}"
            return kind(message, display=display, detail=detail)
    return ConnectError(
        f"the team library {display} could not be opened: {detail}", display=display, detail=detail
    )


def _location(where: Location | str) -> Location:
    location = parse_location(where) if isinstance(where, str) else where
    if not location.is_postgresql or location.url is None:
        raise ValueError(f"{location.display} is not a PostgreSQL URL")
    return location


def connect_kwargs(where: Location | str, *, password: str | None = None) -> dict[str, Any]:
    """The keyword arguments for ``psycopg.connect`` (``conninfo`` is the URL as written)."""
    location = _location(where)
    kwargs: dict[str, Any] = {"conninfo": location.url}
    if "connect_timeout" not in location.params and "PGCONNECT_TIMEOUT" not in os.environ:
        kwargs["connect_timeout"] = DEFAULT_CONNECT_TIMEOUT
    if "application_name" not in location.params and "PGAPPNAME" not in os.environ:
        kwargs["application_name"] = APPLICATION_NAME
    if password is not None:
        kwargs["password"] = password
    return kwargs


def connect(
    where: Location | str, *, password: str | None = None, autocommit: bool = False, **options: Any
) -> psycopg.Connection[Any]:
    """A psycopg connection to the library's database, or a ConnectError saying what went wrong.

    ``password`` (what the editor typed when asked) overrides libpq's own places for this connection only.
    ``options`` go to ``psycopg.connect`` (e.g. ``prepare_threshold``).
    """
    location = _location(where)
    if password is None and autocommit and not options:
        early = _claim_early(location)
        if early is not None:
            return early.result()
    return _open(location, password=password, autocommit=autocommit, **options)


def _open(
    location: Location, *, password: str | None = None, autocommit: bool = False, **options: Any
) -> psycopg.Connection[Any]:
    kwargs = connect_kwargs(location, password=password)
    try:
        return psycopg.connect(autocommit=autocommit, **kwargs, **options)
    except psycopg.OperationalError as err:
        raise classify(err, location.display) from None


class _EarlyConnect:
    """One autocommit connection being opened in a thread of its own (see :func:`connect_early`)."""

    def __init__(self, location: Location) -> None:
        self.location = location
        self._conn: psycopg.Connection[Any] | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="curator-connect", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._conn = _open(self.location, autocommit=True)
        except BaseException as err:  # noqa: BLE001  # raised by the claimer, as if it had connected itself
            self._error = err

    def result(self) -> psycopg.Connection[Any]:
        """The connection, once open (waiting for it), or the ConnectError its attempt raised."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._conn is not None
        return self._conn

    def discard(self) -> None:
        """Close the connection once open; an attempt the server has not answered within
        :data:`DISCARD_WAIT` seconds is left to end with the process (the server drops it then)."""
        self._thread.join(DISCARD_WAIT)
        if not self._thread.is_alive() and self._conn is not None:
            self._conn.close()


#: Seconds an unclaimed early connection is waited for at the exit, so that it is closed politely.
DISCARD_WAIT = 0.5

_early: dict[str, _EarlyConnect] = {}
_early_lock = threading.Lock()


def connect_early(where: Location | str) -> None:
    """Start opening the autocommit connection a Store will ask for first, while the caller goes on.

    `curator list` on a team library imports ~25 ms of its own modules after the driver, then connects:
    the server's part of a connection (a new backend process, the password exchange) is ~10 ms the CLI
    only waited through. Begun here, in a thread that waits on the socket without holding the GIL, the
    wait overlaps those imports. The first :func:`connect` of the same library with the same settings
    (no typed password, autocommit, no options: the backend's own) takes this connection, or the
    ConnectError its attempt met, as if it had connected itself. A connection nobody claims is closed by
    :func:`discard_early` (the CLI's exit). Any error here (a URL that is not a team library's) is left
    for that first connect to raise.
    """
    try:
        location = _location(where)
    except ValueError:
        return
    assert location.url is not None  # _location checked it
    with _early_lock:
        if location.url not in _early:
            _early[location.url] = _EarlyConnect(location)


def _claim_early(location: Location) -> _EarlyConnect | None:
    with _early_lock:
        return _early.pop(location.url, None) if location.url is not None else None


def discard_early() -> None:
    """Close the early connections no Store claimed (a command that failed before opening its library)."""
    with _early_lock:
        pending = list(_early.values())
        _early.clear()
    for early in pending:
        early.discard()


@dataclass(frozen=True)
class Access:
    """What this connection's role may do with the library: ``can_write`` False means a read-only GUI."""

    can_write: bool
    reason: str  # why not, for the status bar ("" when it can write)


#: The tables an editor writes to (an edit touches all of them); SELECT on card is the least to read.
WRITE_TABLES = ("card", "pending_edit", "edit_batch", "journal_entry")


def access(conn: psycopg.Connection[Any]) -> Access:
    """Whether this role can edit: INSERT and UPDATE on the edited tables, and a writable server."""
    row = conn.execute(
        "SELECT current_user, pg_is_in_recovery(), current_setting('default_transaction_read_only'), "
        + ", ".join(
            f"has_table_privilege('{t}', 'INSERT') AND has_table_privilege('{t}', 'UPDATE')"
            for t in WRITE_TABLES
        )
    ).fetchone()
    assert row is not None
    user, standby, read_only, *writable = row
    if not conn.autocommit:
        conn.rollback()  # the check's own transaction, so the caller starts clean
    if standby:
        return Access(False, "read-only: the server is a standby (replica)")
    if read_only == "on":
        return Access(False, f"read-only: transactions of {user} are read-only on this server")
    denied = [t for t, ok in zip(WRITE_TABLES, writable) if not ok]
    if denied:
        return Access(False, f"read-only: the role {user} may not change {', '.join(denied)}")
    return Access(True, "")


def peewee_database(where: Location | str, *, password: str | None = None) -> Any:
    """A peewee ``Psycopg3Database`` for the library (bind a Store's models to it), connecting lazily.

    It connects through :func:`connect`, so peewee raises the same ConnectErrors, and gives peewee the
    ``psycopg.errors`` module (``peewee.pg3_errors``) so it maps psycopg's errors to its own.
    """
    import peewee
    from playhouse.psycopg3_ext import Psycopg3Database

    peewee.pg3_errors = psycopg.errors  # type: ignore[attr-defined]
    location = _location(where)

    class _LibraryDatabase(Psycopg3Database):  # type: ignore[misc]
        def _connect(self) -> psycopg.Connection[Any]:
            conn = connect(location, password=password, autocommit=True)
            if self._isolation_level is not None:
                conn.isolation_level = self._isolation_level
            return conn

    return _LibraryDatabase(location.display)
