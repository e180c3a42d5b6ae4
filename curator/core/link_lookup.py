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

if TYPE_CHECKING:
    from curator.core.store import Store

#: Candidate rows compared by canonical URL per lookup (cards on the same host, newest first).
CANDIDATES = 2000


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
    """LIKE patterns of URLs at ``host`` with or without ``www.`` (the backend matches them)."""
    return f"%://{host}/%", f"%://www.{host}/%"


def lookup(store: Store, url: str) -> LinkMatch:
    """What the library knows about `url` (an empty LinkMatch when nothing)."""
    host = host_of(url)
    wanted = canonical_url(url)
    if not host or wanted is None:
        return LinkMatch()
    backend = store.backend
    title: str | None = None
    card_id = backend.card_with_url(url.strip())
    if card_id is None:
        rows = backend.card_urls_like(_like_host(host), CANDIDATES)
        card_id = next((int(i) for i, u in rows if u and canonical_url(u) == wanted), None)
    if card_id is None:
        found = backend.related_titles_like(_like_host(host), CANDIDATES)
        title = next((str(t) for t, u in found if u and canonical_url(u) == wanted), None)
    name = provider_name(store, host)
    return LinkMatch(card_id, title, name, host if name else None)


def provider_name(store: Store, host: str) -> str | None:
    """The name the library's cards give the provider at `host` (the most common one), else None."""
    return store.backend.provider_name_for((host, f"www.{host}"), _like_host(host))
