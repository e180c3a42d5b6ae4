"""Canonical URLs: one text for every address of one article, so equal articles compare equal.

The generic part (percent-encoding, query order, host encoding) is w3lib's ``canonicalize_url``:
Scrapy's request de-duplication has run it over billions of URLs for a decade, it follows the
WHATWG/RFC 3986 rules we would otherwise re-derive by hand, and it is a 270 kB pure-Python wheel with no
dependencies. It costs about 20 µs a URL, so the common shape (ASCII, no percent escapes) takes an exact
shortcut here that gives the same text (a property test compares the two) at a few µs; everything
else goes through w3lib. On top of that generic form come the rules for news feeds:

- ``http`` and ``https`` are one article (feeds mix them), as are hosts with and without ``www.``;
- no fragment, no trailing slash (except the root), no default port;
- tracking parameters are dropped (``utm_*``, ``fbclid``, ``gclid``, ``mc_*``, ``igshid``, ...), the
  others kept and sorted: ``?id=`` or ``?story=`` identify an article;
- AMP forms point at their article: an ``amp.`` host, a trailing ``/amp`` or ``.amp``, an ``/amp/``
  segment, ``?amp=1`` / ``?amp`` / ``?outputType=amp``, and Google AMP cache URLs
  ``https://<encoded-host>.cdn.ampproject.org/{c,v,i}/[s/]<host>/<path>`` (see ``amp_cache_url``).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import urlsplit

from w3lib.url import canonicalize_url as _w3lib_canonicalize

#: Query parameters that only say where a click came from, never which article it is.
TRACKING_PARAMS = frozenset({
    "fbclid", "gclid", "gclsrc", "dclid", "msclkid", "yclid", "igshid", "ref_src", "ref_url", "_ga",
    "_gl", "mkt_tok", "ncid", "ocid", "cmpid", "sr_share", "spm", "vero_id", "wickedid", "twclid",
    "s_cid", "_hsenc", "_hsmi", "icid", "cid_source", "smid", "soc_src", "soc_trk", "ito", "CMP",
    # Added by the AMP cache and by share buttons on AMP pages.
    "amp_js_v", "amp_gsa", "amp_tf", "amp_lite", "usqp", "aoh", "csi", "ampshare", "__twitter_impression",
    # The AMP switch itself: ``?amp=1``, ``?amp``, ``?outputType=amp``.
    "amp", "outputtype",
})  # fmt: skip
#: Parameter name prefixes that are tracking whatever follows (utm_source, mc_cid, pk_campaign, ...).
TRACKING_PREFIXES = ("utm_", "mc_", "pk_", "hsa_", "oly_", "ga_", "__hs")

AMP_CACHE_SUFFIX = ".cdn.ampproject.org"
# The common shape, handled without w3lib (and equal to its result: tests/core/checks/test_canonical.py).
_PLAIN = re.compile(
    r"(?P<scheme>[Hh][Tt][Tt][Pp][Ss]?)://(?P<host>[A-Za-z0-9.-]+)(?::(?P<port>[0-9]{1,5}))?"
    r"(?P<path>/(?!\.)(?:[A-Za-z0-9_~!$,=:@+-]|\.|/(?!\.))*)?"
    r"(?:\?(?P<query>[A-Za-z0-9._~+-]*(?:=[A-Za-z0-9._~+-]*)?(?:&[A-Za-z0-9._~+-]*(?:=[A-Za-z0-9._~+-]*)?)*))?"
    r"(?:#.*)?"
)
_PLAIN_CACHE = re.compile(
    r"[Hh][Tt][Tt][Pp][Ss]?://[A-Za-z0-9-]+\.cdn\.ampproject\.org/[cvi]/(?P<secure>s/)?"
    r"(?P<rest>[A-Za-z0-9.-]+(?:[/?][^#\s]*)?)(?:#.*)?"
)
_CACHE_PATH = re.compile(r"/(?:c|v|i)/(?P<secure>s/)?(?P<rest>[^/?#]+.*)")


def _is_tracking(name: str) -> bool:
    lowered = name.lower()
    return lowered in TRACKING_PARAMS or lowered.startswith(TRACKING_PREFIXES)


def _strip_amp_host(host: str) -> str:
    while True:
        if host.startswith(("amp.", "www.")):
            host = host[4:]
        else:
            return host


def _strip_amp_path(path: str) -> str:
    if path.endswith("/"):
        path = path.rstrip("/")
    if path.endswith(("/amp", ".amp")):
        path = path[:-4]
    elif path.endswith(".amp.html"):
        path = path[:-9] + ".html"
    if "/amp/" in path:
        path = path.replace("/amp/", "/")
    return path.rstrip("/")


def _assemble(host: str, port: str | None, path: str, query_pairs: list[tuple[str, str]]) -> str:
    """The canonical text from parts that are already in w3lib's generic form."""
    host = _strip_amp_host(host)
    path = _strip_amp_path(path) or "/"
    kept = [f"{k}={v}" for k, v in query_pairs if not _is_tracking(k)]
    netloc = host if not port or port in ("80", "443") else f"{host}:{port}"
    return f"https://{netloc}{path}" + ("?" + "&".join(kept) if kept else "")


def _fast(match: re.Match[str]) -> str:
    """The plain-ASCII shape: lower-case host, sorted query with blank values kept as ``k=``."""
    pairs: list[tuple[str, str]] = []
    query = match["query"]
    if query:
        for part in query.split("&"):
            if not part:
                continue
            key, _, value = part.partition("=")
            pairs.append((key, value))
        pairs.sort()
    return _assemble(match["host"].lower().rstrip("."), match["port"], match["path"] or "", pairs)


def _slow(url: str) -> str | None:
    try:
        generic = _w3lib_canonicalize(url)
        parts = urlsplit(generic)
        port = str(parts.port) if parts.port else None
    except ValueError:  # a bad port, an unencodable host, brackets that do not close
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    pairs = []
    for part in parts.query.split("&"):
        if part:
            key, _, value = part.partition("=")
            pairs.append((key, value))
    return _assemble(parts.hostname.rstrip("."), port, parts.path, pairs)


def unwrap_amp_cache(url: str) -> str | None:
    """The origin URL inside a Google AMP cache URL; None when ``url`` is no cache URL.

    The documented format (developers.google.com/amp/cache/overview, "AMP Cache URL format") is
    ``https://<subdomain>.cdn.ampproject.org/<type>/[s/]<origin host and path>``: ``c`` is a page, ``v``
    a viewer page, ``i`` an image; ``s/`` means the origin is https. The subdomain only encodes the origin
    host (``amp_cache_subdomain``), which the path spells out in full, so the path is what we read.
    """
    m = _PLAIN_CACHE.fullmatch(url)
    if m:
        return ("https://" if m["secure"] else "http://") + m["rest"]
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    host = (parts.hostname or "").rstrip(".")
    if not host.endswith(AMP_CACHE_SUFFIX):
        return None
    m = _CACHE_PATH.fullmatch(parts.path)
    if not m:
        return None
    origin = ("https://" if m["secure"] else "http://") + m["rest"]
    return origin + ("?" + parts.query if parts.query else "")


# A small cache: the same URL asked again within one card's checks or a burst of edits. A library-sized
# one (2**18 entries) kept every URL of a build alive in the process afterwards, ~45 MB at 100k cards,
# and a build canonicalises each URL once anyway.
@lru_cache(maxsize=1 << 12)
def canonical_url(url: str) -> str | None:
    """The canonical text of ``url``, or None when it is no http(s) link with a host.

    >>> canonical_url("https://amp-dw-com.cdn.ampproject.org/c/s/amp.dw.com/en/story/a-52?utm_source=x#top")
    'https://dw.com/en/story/a-52'
    >>> canonical_url("http://WWW.Example.com/news/item/?b=2&id=7&fbclid=abc")
    'https://example.com/news/item?b=2&id=7'
    """
    if not isinstance(url, str):
        return None
    url = url.strip()
    inner = unwrap_amp_cache(url) if AMP_CACHE_SUFFIX in url.lower() else None
    if inner is not None:
        return canonical_url(inner)
    m = _PLAIN.fullmatch(url)
    return _fast(m) if m else _slow(url)


def canonical_urls(urls: Iterable[str | None]) -> list[str | None]:
    """``canonical_url`` of each item (None stays None), in order."""
    return [canonical_url(u) if u else None for u in urls]


# --- the AMP cache subdomain ----------------------------------------------------------------------


def amp_cache_subdomain(host: str) -> str:
    """The AMP cache subdomain for an origin host, per the documented algorithm.

    1. decode the host from punycode (IDNA) to Unicode; 2. ``-`` becomes ``--`` and ``.`` becomes ``-``;
    3. when the 3rd and 4th characters are then ``--``, wrap in ``0-`` … ``-0``; 4. encode back to
    punycode. When that is not a valid DNS label of at most 63 characters, the subdomain is the
    lower-case base32 of the host's SHA-256 (52 characters, no padding).
    """
    host = host.lower().rstrip(".")
    try:
        unicode_host = host.encode("ascii").decode("idna") if "xn--" in host else host
    except UnicodeError:
        unicode_host = host
    label = unicode_host.replace("-", "--").replace(".", "-")
    if label[2:4] == "--":
        label = f"0-{label}-0"
    try:
        encoded = label.encode("idna").decode("ascii")
    except UnicodeError:
        encoded = ""
    if encoded and len(encoded) <= 63 and re.fullmatch(r"[a-z0-9-]+", encoded):
        return encoded
    digest = hashlib.sha256(host.encode("utf-8")).digest()
    return base64.b32encode(digest).decode("ascii").rstrip("=").lower()


def decode_amp_cache_subdomain(label: str) -> str | None:
    """The origin host an AMP cache subdomain stands for; None for the hashed (base32) form.

    The inverse of ``amp_cache_subdomain``: punycode back to Unicode, drop the ``0-``/``-0`` wrap, then
    ``--`` is a dash and a lone ``-`` a dot.
    """
    label = label.lower()
    if len(label) == 52 and re.fullmatch(r"[a-z2-7]+", label):
        return None
    try:
        text = label.encode("ascii").decode("idna") if "xn--" in label else label
    except UnicodeError:
        return None
    if text.startswith("0-") and text.endswith("-0"):
        text = text[2:-2]
    host = "\0".join(part.replace("-", ".") for part in text.split("--")).replace("\0", "-")
    try:
        return host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        return None


def amp_cache_url(amp_url: str) -> str | None:
    """The Google AMP cache URL of a page (``/c/``), or None when ``amp_url`` is no http(s) link.

    >>> amp_cache_url("https://amp.dw.com/en/story/a-52")
    'https://amp-dw-com.cdn.ampproject.org/c/s/amp.dw.com/en/story/a-52'
    """
    try:
        parts = urlsplit(amp_url.strip())
    except (ValueError, AttributeError):
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.rstrip(".")
    secure = "s/" if parts.scheme.lower() == "https" else ""
    netloc = parts.netloc.rsplit("@", 1)[-1]
    rest = netloc + parts.path + ("?" + parts.query if parts.query else "")
    return f"https://{amp_cache_subdomain(host)}{AMP_CACHE_SUFFIX}/c/{secure}{rest}"
