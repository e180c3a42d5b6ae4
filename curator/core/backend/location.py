"""Where a library lives: a file path (SQLite) or a ``postgresql://`` URL (a team's server).

Why a parser of its own: ``--db postgresql://…`` used to create a SQLite file in a folder named
``postgresql:``, and ``mysql://…`` would have done the same. Only ``postgresql://`` and ``postgres://`` are
URLs; any other ``scheme://`` is refused with a clear error; everything else is a path, including Windows
paths (``C:\\…``, ``C:/…``, ``\\\\server\\share``), which look like a one-letter scheme, and relative paths
such as ``./postgresql:x``. The URL is kept as written for libpq (``sslmode``, ``connect_timeout``,
``application_name``, ``host=/run/postgresql`` and every other parameter in the query string pass
through), and :attr:`Location.display` is what titles, messages and logs show: never the password.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit, urlunsplit

#: The schemes libpq accepts, hence the only URL schemes a library may have.
PG_SCHEMES = ("postgresql", "postgres")

# "name://": a URL's scheme by RFC 3986's letters. A single letter is a Windows drive ("C://x" is a path).
_SCHEME_RE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
_DRIVE_RE = re.compile(r"[A-Za-z]:[\\/]")


@dataclass(frozen=True)
class Location:
    """A parsed library location: ``kind`` is ``"sqlite"`` (``path`` set) or ``"postgresql"`` (``url`` set)."""

    kind: str
    path: Path | None = None
    url: str | None = None
    display: str = ""
    #: libpq's connection parameters from the URL's query string (``sslmode`` …), for messages and checks.
    params: dict[str, str] = field(default_factory=dict)

    @property
    def is_postgresql(self) -> bool:
        return self.kind == "postgresql"

    def __str__(self) -> str:
        return self.display


def parse_location(text: str) -> Location:
    """A path or a PostgreSQL URL from ``--db``/``$CURATOR_DB``/the connect dialog; ValueError otherwise."""
    if not text or not text.strip():
        raise ValueError("empty library location: use a file path or postgresql://user@host/dbname")
    if _DRIVE_RE.match(text) or text.startswith(("\\\\", "./", ".\\", "/", "~")):
        return _path(text)
    match = _SCHEME_RE.match(text)
    if match is None:
        return _path(text)
    scheme = match.group(1)
    if len(scheme) == 1:  # "C://x": a drive letter, not a scheme
        return _path(text)
    if scheme.lower() not in PG_SCHEMES:
        raise ValueError(
            f"unsupported library URL scheme {scheme!r}: use a file path or postgresql://user@host/dbname"
        )
    return _postgresql(text)


def _path(text: str) -> Location:
    path = Path(text).expanduser()
    return Location(kind="sqlite", path=path, display=str(path))


def _postgresql(text: str) -> Location:
    # libpq validates the rest (hosts, ports, several hosts, parameters) and says what is wrong with it; it
    # knows the scheme in lower case only.
    scheme, rest = text.split("://", 1)
    text = f"{scheme.lower()}://{rest}"
    parts = urlsplit(text)
    if parts.fragment:
        raise ValueError(f"a PostgreSQL URL has no '#…' part: {redact(text)}")
    params = {k: v for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "password"}
    return Location(kind="postgresql", url=text, display=redact(text), params=params)


def redact(url: str) -> str:
    """The URL without its password (``user:***@host`` → ``user@host``): safe for titles and logs."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostinfo = netloc.rpartition("@")
        user = userinfo.split(":", 1)[0]
        netloc = f"{user}@{hostinfo}" if user else hostinfo
    query = "&".join(
        p for p in parts.query.split("&") if p and p.split("=", 1)[0].lower() not in ("password", "passfile")
    )
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def has_password(url: str) -> bool:
    """Whether the URL's user info carries a password (Curator never stores such a URL in settings)."""
    netloc = urlsplit(url).netloc
    return "@" in netloc and ":" in netloc.rpartition("@")[0]


def without_password(url: str) -> str:
    """The URL to keep in settings or recent libraries: its password (user info or parameter) removed."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if has_password(url):
        userinfo, _, hostinfo = netloc.rpartition("@")
        netloc = f"{userinfo.split(':', 1)[0]}@{hostinfo}"
    query = "&".join(p for p in parts.query.split("&") if p and p.split("=", 1)[0].lower() != "password")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
