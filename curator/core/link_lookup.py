"""What the library already knows about a pasted link: the card it is, or the provider its domain belongs to.

The related-links editor asks this when an editor pastes a URL, so the new item carries the article's
real title and the provider's real name ("The Guardian") instead of the bare domain. Matching is by
canonical URL (see :mod:`curator.core.checks.canonical`: http/https, ``www.``, tracking parameters and AMP
forms are one article), looked up among the library's cards first, then among the related items cards
already carry. No Qt here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from curator.core.checks.canonical import canonical_url
from curator.core.schema import RelatedItem

if TYPE_CHECKING:
    from curator.core.store import Store

#: Candidate rows compared by canonical URL per lookup (cards on the same host, newest first).
CANDIDATES = 2000
#: The table of the related items cards carry (the schema names it).
RELATED = RelatedItem._meta.table_name


@dataclass(frozen=True)
class LinkMatch:
    """What is known about a link: a library card (its id), else a title from a related item; and the
    provider's name and domain when any card of that domain names it."""

    card_id: int | None = None
    title: str | None = None
    provider_name: str | None = None
    provider_domain: str | None = None


def host_of(url: str) -> str:
    """The link's host without ``www.`` (lower case), or "" when it has none."""
    try:
        return (urlsplit(url.strip()).hostname or "").lower().removeprefix("www.")
    except ValueError:
        return ""


def _like_host(host: str) -> tuple[str, str]:
    return f"%://{host}/%", f"%://www.{host}/%"


def lookup(store: Store, url: str) -> LinkMatch:
    """What the library knows about `url` (an empty LinkMatch when nothing)."""
    host = host_of(url)
    wanted = canonical_url(url)
    if not host or wanted is None:
        return LinkMatch()
    db = store.db
    card_id: int | None = None
    title: str | None = None
    exact = db.execute_sql(
        "SELECT id FROM card WHERE source_url = ? OR amp_url = ? OR cdn_amp_url = ? ORDER BY id LIMIT 1",
        (url.strip(), url.strip(), url.strip()),
    ).fetchone()
    if exact:
        card_id = int(exact[0])
    else:
        rows = db.execute_sql(
            "SELECT id, source_url FROM card WHERE source_url LIKE ? OR source_url LIKE ? "
            "ORDER BY date DESC LIMIT ?", (*_like_host(host), CANDIDATES),
        ).fetchall()  # fmt: skip
        card_id = next((int(i) for i, u in rows if u and canonical_url(u) == wanted), None)
    if card_id is None:
        rows = db.execute_sql(
            f"SELECT title, source_url FROM {RELATED} WHERE (source_url LIKE ? OR source_url LIKE ?) "
            "AND title IS NOT NULL AND title != '' LIMIT ?", (*_like_host(host), CANDIDATES),
        ).fetchall()  # fmt: skip
        title = next((str(t) for t, u in rows if u and canonical_url(u) == wanted), None)
    name = provider_name(store, host)
    return LinkMatch(card_id, title, name, host if name else None)


def provider_name(store: Store, host: str) -> str | None:
    """The name the library's cards give the provider at `host` (the most common one), else None."""
    row = store.db.execute_sql(
        "SELECT provider_name, count(*) AS n FROM card WHERE provider_domain IN (?, ?) "
        "AND provider_name IS NOT NULL AND provider_name != '' GROUP BY provider_name ORDER BY n DESC LIMIT 1",
        (host, f"www.{host}"),
    ).fetchone()
    if row:
        return str(row[0])
    row = store.db.execute_sql(
        f"SELECT provider_name, count(*) AS n FROM {RELATED} WHERE (source_url LIKE ? OR source_url LIKE ?) "
        "AND provider_name IS NOT NULL AND provider_name != '' GROUP BY provider_name ORDER BY n DESC LIMIT 1",
        _like_host(host),
    ).fetchone()
    return str(row[0]) if row else None
