"""Generate realistic article cards (YAML front matter) for demos, tests and benchmarks.

Usage: ``python seeds/generate.py OUT_DIR --count N --seed S [--problems] [--image-base URL]``

The output is a pure function of the arguments: card ``i`` only depends on ``(seed, i, count)``, so the
bundled seeds/ can be checked against a fresh run. Stdlib only, plus the sibling modules
``seed_text`` (headlines, teasers), ``seed_emit`` (YAML text) and ``seed_vocabulary`` (word lists).
Cards are written with the varied YAML styles of hand-made files (quoting, flow and block lists,
comments, CRLF, BOM, Markdown bodies, plain ``.yaml`` files) because Curator's write-back must cope.

About one card in seventeen (6%) *follows* an ordinary card a few numbers before it (``follower``), as a feed
does: a **duplicate** (the same article reached through another form of its URL: the AMP page, the
link with ``utm_*`` parameters, ``http://`` with a fragment), a **copy** (the same text syndicated under
another headline and provider) or **same-story** coverage (another provider's own headline and teaser
that quotes one sentence of the first). The rest of the follower (quality, images, style, ...) is its
own; the cards that follow nobody are exactly what they would be without followers.
"""

from __future__ import annotations

import argparse
import base64
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from random import Random
from typing import Any

# seeds/ is not a package: make the sibling modules importable when this file is loaded by path.
if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

import seed_emit as E
import seed_text as T
import seed_vocabulary as V

DEFAULT_IMAGE_BASE = "https://images.example-news.test"
# Publication dates spread over this window; card numbers grow with time like a newsroom's archive.
START = datetime(2019, 7, 1, tzinfo=UTC)
END = datetime(2021, 1, 1, tzinfo=UTC)
PROBLEM_FOLDER = "problems"


# ---------------------------------------------------------------- URLs, images, blobs

def _urls(rng: Random, provider: tuple[str, str, str], title: str, when: datetime) -> tuple[str, str, str]:
    """sourceUrl, ampUrl and cdnAmpUrl in the provider's own URL shape."""
    _, domain, shape = provider
    host = domain if domain.count(".") >= 2 or domain == "apnews.com" else "www." + domain
    slug, y, m, d = T.slug(title), f"{when:%Y}", f"{when:%m}", f"{when:%d}"
    num = str(rng.randrange(10**6, 10**8))
    path, amp_host, amp_path, query = "", host, "", ""
    if shape == "dw":
        path = f"/en/{slug}/a-{num}"
        amp_host, amp_path = "amp." + domain, path
    elif shape == "dated":
        path = f"/{rng.choice(V.SECTIONS)}/{y}/{m}/{slug}"
        amp_host, amp_path = ("amp." + host, path) if rng.random() < 0.5 else (host, path + "/amp")
    elif shape == "slug-id":
        path = f"/{slug}-{num}"
        amp_path, query = path, "?amp=1"
    elif shape == "bbc":
        path = f"/news/{rng.choice(V.SECTIONS)}-{num}"
        amp_path = path.replace("/news/", "/news/amp/")
    elif shape == "story":
        path = f"/story/{slug}/"
        amp_path = path + "amp"
    elif shape == "slug-html":
        path = f"/{y}/{m}/{d}/{slug}.html"
        amp_path = "/amp" + path
    elif shape == "news":
        path = f"/news/{slug}/"
        amp_path = "/google-amp" + path
    elif shape == "sites":
        path = f"/sites/{T.person(rng).replace(' ', '').lower()}/{y}/{m}/{d}/{slug}/"
        amp_path = path + "amp/"
    elif shape == "releases":
        path = f"/releases/{y}/{m}/{when:%y%m%d}{num[:6]}.htm"
        amp_path = path
        amp_host = "amp." + host
    else:  # "article"
        path = f"/article/{slug}-{num}/"
        amp_path = path + "amp/"
    amp = f"https://{amp_host}{amp_path}{query}"
    # The AMP cache encodes the host: "-" becomes "--", then "." becomes "-".
    cache = amp_host.replace("-", "--").replace(".", "-")
    return f"https://{host}{path}", amp, f"https://{cache}.cdn.ampproject.org/c/s/{amp_host}{amp_path}{query}"


_SIZES = ((1024, 576), (1200, 675), (1280, 720), (800, 450), (394, 222), (1024, 708), (640, 360), (1600, 900), (960, 640))


def _image(rng: Random, base: str, domain: str, title: str | None, when: datetime) -> dict[str, Any]:
    w, h = rng.choice(_SIZES)
    k = rng.randrange(4)
    if k == 0:
        path = f"image/{rng.randrange(10**7, 10**8)}_{rng.choice((101, 303, 304))}.jpg"
    elif k == 1:
        path = f"files/styles/full/public/{when:%Y/%m/%d}/{T.slug(title or 'photo', 6)}.jpg"
    elif k == 2:
        tag = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(20))
        path = f"image/upload/c_fill,dpr_auto,f_auto,g_center,h_{h},q_auto,w_{w}/{tag}.jpg"
    else:
        path = f"media/{when:%Y/%m}/{rng.getrandbits(48):012x}.{rng.choice(('jpg', 'jpg', 'png', 'webp'))}"
    image: dict[str, Any] = {"url": f"{base}/{domain}/{path}", "width": w, "height": h}
    if title is not None:
        image["title"] = title
    return image


def _secured(rng: Random) -> str:
    body = base64.b64encode(rng.randbytes(rng.choice((256, 256, 256, 240, 272)))).decode()
    return body + ";" + base64.b64encode(rng.randbytes(16)).decode()


def _timestamp(when: datetime) -> str:
    return f"{when:%Y-%m-%dT%H:%M:%SZ}"


# ---------------------------------------------------------------- cards

@dataclass(frozen=True)
class Options:
    """What a run makes: ``count`` ordinary cards from ``seed``, optionally the problem cards."""

    seed: int = 2020
    count: int = 300
    image_base: str = DEFAULT_IMAGE_BASE
    problems: bool = False


def _when(rng: Random, index: int, count: int) -> datetime:
    # Card i falls in the i-th slice of the window, so numbers and dates rise together.
    span = (END - START).total_seconds()
    seconds = span * (index - 1 + rng.random()) / max(count, 1)
    return (START + timedelta(seconds=int(seconds) // 60 * 60)).replace(second=0)


def _related(rng: Random, opts: Options, topics: Sequence[str], when: datetime) -> dict[str, Any]:
    provider = T.PROVIDER(rng)
    title = T.headline(rng, topics)
    stamp = when + timedelta(minutes=rng.randrange(-4 * 24 * 60, 4 * 24 * 60))
    source, amp, cdn = _urls(rng, provider, title, stamp)
    item: dict[str, Any] = {"title": title}
    if rng.random() < 0.9:
        item["excerpt"] = T.excerpt(rng, topics, provider[0])
    item["publishedDateTime"] = E.Stamp(_timestamp(stamp))
    item["sourceUrl"] = source
    if rng.random() < 0.85:
        item["ampUrl"] = amp
        item["cdnAmpUrl"] = cdn
    item["type"] = "article"
    item["provider"] = {"name": provider[0], "domain": provider[1]}
    if rng.random() < 0.9:
        item["quality"] = _quality(rng)
    if rng.random() < 0.8:
        item["images"] = [_image(rng, opts.image_base, provider[1], None, stamp)]
    if rng.random() < 0.02:
        item["lang"] = "en"
    return item


def _quality(rng: Random) -> int:
    return max(0, min(100, round(rng.gauss(55, 18))))


def _extra(rng: Random, key: str, provider: str) -> Any:
    if key == "lang":
        return rng.choice(("en", "en", "en-GB", "de"))
    if key == "author":
        return T.person(rng)
    if key == "wordCount":
        return rng.randrange(200, 2500)
    if key == "paywall":
        return rng.random() < 0.3
    if key == "editorNote":
        return f"Check the figures with {provider} before publishing."
    if key == "feedId":
        return E.Raw(f"feed-{rng.getrandbits(32):08x}")
    return T.PLACE(rng)


_EXTRA_KEYS = ("lang", "author", "wordCount", "paywall", "editorNote", "feedId", "region")
_COMMENTS = (
    "imported from the {provider} feed",
    "checked by the night desk",
    "TODO: find a better lead image",
    "duplicate of an earlier story? ask the desk",
)


def _style(rng: Random, provider: str) -> E.Style:
    style = E.Style(
        quote=T.weighted(rng, (("double", 0.6), ("single", 0.15), ("plain", 0.25))),
        newline="\r\n" if rng.random() < 0.05 else "\n",
        bom=rng.random() < 0.01,
        blank_lines=rng.random() < 0.8,
        flow_topics=rng.random() < 0.2,
        seq_offset=0 if rng.random() < 0.15 else 2,
        folded_excerpt=rng.random() < 0.05,
        plain_yaml=rng.random() < 0.03,
        final_blank=rng.random() < 0.5,
    )
    if rng.random() < 0.08:
        style.header_comment = rng.choice(_COMMENTS).format(provider=provider)
    if rng.random() < 0.05:
        style.trailing_comments[rng.choice(("quality", "heat", "published"))] = rng.choice(
            ("rescored by the desk", "was 40", "wait for legal")
        )
    if not style.plain_yaml and rng.random() < 0.04:
        style.body = (
            f"\n## Desk notes\n\n{T.sentence(rng, ('Media',), provider)}\n\n"
            "- [ ] confirm the quotes\n- [ ] check image rights\n"
        )
    return style


Groups = list[list[tuple[str, Any]]]


def card_fields(rng: Random, when: datetime, opts: Options) -> Groups:
    """The top-level (key, value) pairs of one ordinary card, in groups as the example lays them out."""
    provider = T.PROVIDER(rng)
    topics: list[str] = []
    for _ in range(T.weighted(rng, ((1, 0.45), (2, 0.35), (3, 0.15), (4, 0.05)))):
        topic = T.TOPIC(rng)
        if topic not in topics:
            topics.append(topic)
    title = T.headline(rng, topics)
    source, amp, cdn = _urls(rng, provider, title, when)
    head: list[tuple[str, Any]] = []
    if rng.random() < 0.97:
        head.append(("category", T.weighted(rng, V.CATEGORIES)))
    head.append(("title", title))
    if rng.random() < 0.95:
        head.append(("excerpt", T.excerpt(rng, topics, provider[0])))
    if rng.random() < 0.98:
        head.append(("publishedDateTime", E.Stamp(_timestamp(when))))
    head.append(("sourceUrl", source))
    if rng.random() < 0.85:
        head.append(("ampUrl", amp))
        if rng.random() < 0.95:
            head.append(("cdnAmpUrl", cdn))
    if rng.random() < 0.95:
        head.append(("type", T.weighted(rng, (("article", 0.9), ("video", 0.05), ("liveblog", 0.05)))))
    if rng.random() < 0.92:
        head.append(("quality", _quality(rng)))
    if rng.random() < 0.85:
        head.append(("heat", -1 if rng.random() < 0.45 else rng.randrange(0, 101)))
    if rng.random() < 0.9:
        head.append(("published", rng.random() < 0.3))
    if rng.random() < 0.15:
        for key in rng.sample(_EXTRA_KEYS, rng.randrange(1, 3)):
            head.insert(rng.randrange(1, len(head) + 1), (key, _extra(rng, key, provider[0])))
    groups: list[list[tuple[str, Any]]] = [head]
    if rng.random() < 0.96:
        prov: dict[str, Any] = {"name": provider[0], "domain": provider[1]}
        if rng.random() < 0.03:
            prov["country"] = rng.choice(("DE", "US", "GB", "FR", "JP"))
        groups.append([("provider", prov)])
    if rng.random() < 0.93:
        groups.append([("topics", topics)])
    n_images = T.weighted(rng, ((0, 0.2), (1, 0.65), (2, 0.15)))
    if n_images or rng.random() < 0.3:
        images = [_image(rng, opts.image_base, provider[1], title if i == 0 and rng.random() < 0.7 else None, when)
                  for i in range(n_images)]
        if images and rng.random() < 0.03:
            images[0]["credit"] = provider[0]
        groups.append([("images", images)])
    n_related = T.weighted(rng, ((0, 0.3), (1, 0.3), (2, 0.2), (3, 0.12), (4, 0.08)))
    if n_related or rng.random() < 0.2:
        groups.append([("related", [_related(rng, opts, topics, when) for _ in range(n_related)])])
    if rng.random() < 0.9:
        groups.append([("secured", _secured(rng))])
    return groups


def _name(rng: Random, index: int, suffix: str) -> str:
    return f"{index:06d}_{rng.getrandbits(64):016x}{suffix}"


@dataclass(frozen=True)
class GeneratedCard:
    """One generated file."""

    path: str  # relative to the output folder, "/" separators
    raw: bytes
    data: dict[str, Any]  # what the file must read back as (timestamps as their text)


def _plain(value: Any) -> Any:
    if isinstance(value, str):
        return str(value)  # Raw and Stamp are str subclasses; callers compare plain values
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _card(path: str, groups: Groups, style: E.Style, rng: Random) -> GeneratedCard:
    data = {k: _plain(v) for g in groups for k, v in g}
    return GeneratedCard(path, E.render(groups, style, rng), data)


FOLLOW_RATE = 0.06
FOLLOW_KINDS = ("duplicate", "copy", "same-story")


@dataclass(frozen=True)
class Follow:
    """Card ``index`` is a ``kind`` ("duplicate", "copy" or "same-story") of the earlier card ``leader``."""

    index: int
    leader: int
    kind: str


def follower(index: int, opts: Options) -> Follow | None:
    """Whether ordinary card ``index`` follows an earlier card, and how (a pure function of the options).

    The leader is one to three numbers back, never itself a follower, so every planted group is one
    ordinary card and the cards that follow it. A leader without an excerpt long enough to syndicate or
    quote makes its follower a duplicate: ``kind`` is what the card really is.
    """
    rng = Random(f"curator-seeds:{opts.seed}:{opts.count}:{index}:follow")
    if index < 2 or rng.random() >= FOLLOW_RATE:
        return None
    kind = FOLLOW_KINDS[index % len(FOLLOW_KINDS)]  # by number, not drawn: even a small run shows all three
    leader = index - 1 - rng.randrange(min(3, index - 1))
    while leader >= 1 and _follows(leader, opts):
        leader -= 1
    if leader < 1:
        return None
    excerpt = _lookup(_leader(leader, opts)[0], "excerpt")
    if kind == "copy" and (not excerpt or len(excerpt.split()) < 16):
        kind = "duplicate"
    if kind == "same-story" and not (excerpt and _sentences(excerpt)):
        kind = "duplicate"
    return Follow(index, leader, kind)


def _follows(index: int, opts: Options) -> bool:
    return index >= 2 and Random(f"curator-seeds:{opts.seed}:{opts.count}:{index}:follow").random() < FOLLOW_RATE


def _leader(index: int, opts: Options) -> tuple[Groups, datetime]:
    rng = Random(f"curator-seeds:{opts.seed}:{opts.count}:{index}")
    when = _when(rng, index, opts.count)
    return card_fields(rng, when, opts), when


def _put(groups: Groups, key: str, value: Any, after: str = "title") -> None:
    """Set a top-level key where it is, or add it just after ``after`` (the card's own order)."""
    for group in groups:
        for i, (k, _) in enumerate(group):
            if k == key:
                group[i] = (key, value)
                return
    for group in groups:
        for i, (k, _) in enumerate(group):
            if k == after:
                group.insert(i + 1, (key, value))
                return
    groups[0].append((key, value))


def _patch(groups: Groups, key: str, value: Any) -> None:
    """Set a top-level key only where the card has it (a card without topics keeps none)."""
    if _lookup(groups, key) is not None:
        _replace(groups, key, value)


def _drop(groups: Groups, key: str) -> None:
    for group in groups:
        group[:] = [(k, v) for k, v in group if k != key]


_UTM = ("utm_source=twitter&utm_medium=social", "utm_source=newsletter&utm_medium=email&utm_campaign=daily",
        "utm_source=feed&utm_medium=rss")
_SAME_STORY = ("{title}, report says", "Update: {title}", "{title}: what we know so far",
               "Explainer: {title}", "{title}, sources say")


def _sentences(text: str) -> list[str]:
    """The whole sentences of a teaser (not the one its cut leaves unfinished), each with its full stop."""
    whole = text.rsplit(". ", 1)[0] if text.endswith(" ...") else text
    return [s.strip().rstrip(".") + "." for s in whole.split(". ") if len(s.split()) >= 6]


def _follow(rng: Random, follow: Follow, groups: Groups, opts: Options) -> datetime:
    """Make ``groups`` (the follower's own fields) a duplicate, copy or same-story card of its leader."""
    lead, lead_when = _leader(follow.leader, opts)
    title, excerpt = _lookup(lead, "title"), _lookup(lead, "excerpt")
    source, amp, cdn = _lookup(lead, "sourceUrl"), _lookup(lead, "ampUrl"), _lookup(lead, "cdnAmpUrl")
    lead_provider = _lookup(lead, "provider") or {"name": "Reuters", "domain": "reuters.com"}
    topics = list(_lookup(lead, "topics") or [T.TOPIC(rng)])
    kind = follow.kind
    _patch(groups, "topics", topics)
    if _lookup(lead, "category") is not None:
        _patch(groups, "category", _lookup(lead, "category"))
    if kind == "duplicate":
        when = lead_when + timedelta(minutes=rng.randrange(0, 6 * 60))
        _replace(groups, "title", title)
        if excerpt:
            _put(groups, "excerpt", excerpt)
        else:
            _drop(groups, "excerpt")
        _patch(groups, "provider", dict(lead_provider))
        for key in ("ampUrl", "cdnAmpUrl"):
            _drop(groups, key)
        form = rng.randrange(3) if amp else 1 + rng.randrange(2)
        if form == 0:  # the feed handed out the AMP page itself
            _replace(groups, "sourceUrl", amp)
        elif form == 1:
            _replace(groups, "sourceUrl", source + ("&" if "?" in source else "?") + rng.choice(_UTM))
        else:
            _replace(groups, "sourceUrl", "http://" + source.split("://", 1)[1] + "#" + rng.choice(("comments", "top")))
        if form and amp:
            _put(groups, "ampUrl", amp, after="sourceUrl")
            if cdn:
                _put(groups, "cdnAmpUrl", cdn, after="ampUrl")
        return when
    when = lead_when + timedelta(minutes=rng.randrange(60, 2 * 24 * 60))
    provider = T.PROVIDER(rng)
    while provider[1] == lead_provider.get("domain"):
        provider = T.PROVIDER(rng)
    if kind == "copy":
        words = excerpt.split()
        for _ in range(rng.randrange(0, 3)):  # a syndication desk's edits: a word or two
            i = rng.randrange(len(words))
            words[i] = {"said": "says", "the": "a", "and": "&", "new": "latest"}.get(words[i], words[i])
        new_title = title if rng.random() < 0.2 else T.headline(rng, topics)
        new_excerpt = " ".join(words)
    else:
        new_title = rng.choice(_SAME_STORY).format(title=title)
        new_excerpt = rng.choice(_sentences(excerpt)) + " " + T.excerpt(rng, topics, provider[0])
    new_source, new_amp, new_cdn = _urls(rng, provider, new_title, when)
    _replace(groups, "title", new_title)
    _put(groups, "excerpt", new_excerpt)
    _patch(groups, "provider", {"name": provider[0], "domain": provider[1]})
    _replace(groups, "sourceUrl", new_source)
    if _lookup(groups, "ampUrl") is not None:
        _replace(groups, "ampUrl", new_amp)
        if _lookup(groups, "cdnAmpUrl") is not None:
            _replace(groups, "cdnAmpUrl", new_cdn)
    return when


def make_card(index: int, opts: Options) -> GeneratedCard:
    """Ordinary card ``index`` (1-based); a follower of an earlier card when ``follower`` says so."""
    rng = Random(f"curator-seeds:{opts.seed}:{opts.count}:{index}")
    when = _when(rng, index, opts.count)
    groups = card_fields(rng, when, opts)
    follow = follower(index, opts)
    if follow is not None:
        when = _follow(rng, follow, groups, opts)
        if _lookup(groups, "publishedDateTime") is not None:
            _replace(groups, "publishedDateTime", E.Stamp(_timestamp(when)))
    style = _style(rng, _provider_name(groups))
    suffix = ".yaml" if style.plain_yaml else ".md" if style.body is not None and rng.random() < 0.7 else ".txt"
    return _card(f"{when:%Y-%m}/{_name(rng, index, suffix)}", groups, style, rng)


def _provider_name(groups: Groups) -> str:
    return next((v["name"] for g in groups for k, v in g if k == "provider"), "wire")


def _lookup(groups: Groups, key: str) -> Any:
    return next((v for g in groups for k, v in g if k == key), None)


def _replace(groups: Groups, key: str, value: Any) -> None:
    """Set a top-level key where it is, or add it to the first group."""
    for group in groups:
        for i, (k, _) in enumerate(group):
            if k == key:
                group[i] = (key, value)
                return
    groups[0].append((key, value))


def _mojibake(rng: Random, groups: Groups, opts: Options, when: datetime) -> None:
    related = _lookup(groups, "related")
    if related is None:
        related = []
        groups.append([("related", related)])
    if not related:
        related.append(_related(rng, opts, ["AI"], when))
    # UTF-8 read as Windows-1252: the classic "’" -> "â€™" of scraped feeds.
    title = f"{T.possessive(rng, T.company(rng)).replace(chr(39), chr(0x2019))} new app is 'creepy', critics say"
    related[0]["title"] = title.encode("utf-8").decode("cp1252", errors="replace")


# name -> how it breaks a card; each is something `curator check` must report
PROBLEMS: dict[str, Any] = {
    "quality-over-100": lambda rng, g, o, w: _replace(g, "quality", 140),
    "quality-negative": lambda rng, g, o, w: _replace(g, "quality", -3),
    "quality-word": lambda rng, g, o, w: _replace(g, "quality", E.Raw("high")),
    "heat-minus-7": lambda rng, g, o, w: _replace(g, "heat", -7),
    "heat-over-100": lambda rng, g, o, w: _replace(g, "heat", 250),
    "published-word": lambda rng, g, o, w: _replace(g, "published", E.Raw("maybe")),
    "topics-not-a-list": lambda rng, g, o, w: _replace(g, "topics", "AI"),
    "mojibake-related-title": _mojibake,
    "source-url-ftp": lambda rng, g, o, w: _replace(
        g, "sourceUrl", "ftp://ftp.example-news.test/pub/" + str(_lookup(g, "sourceUrl")).split("/", 3)[-1]
    ),
    "image-url-file": lambda rng, g, o, w: _replace(
        g, "images", [{"url": "file:///srv/newsroom/photos/lead.jpg", "width": 1024, "height": 576}]
    ),
    "date-unreadable": lambda rng, g, o, w: _replace(g, "publishedDateTime", f"{w:%d/%m/%Y %H:%M}"),
}


def make_problem_card(number: int, kind: str, opts: Options) -> GeneratedCard:
    """A deliberately broken card for the ``check`` demo, under problems/."""
    rng = Random(f"curator-seeds:{opts.seed}:problem:{kind}")
    when = _when(rng, number, len(PROBLEMS))
    groups = card_fields(rng, when, opts)
    PROBLEMS[kind](rng, groups, opts, when)
    style = _style(rng, _provider_name(groups))
    style.plain_yaml, style.body = False, None  # keep them plain .txt cards: only the value is wrong
    return _card(f"{PROBLEM_FOLDER}/{_name(rng, 900000 + number, '.txt')}", groups, style, rng)


def iter_cards(opts: Options) -> Iterator[GeneratedCard]:
    """Every card of a run, ordinary cards first."""
    for index in range(1, opts.count + 1):
        yield make_card(index, opts)
    if opts.problems:
        for number, kind in enumerate(PROBLEMS, 1):
            yield make_problem_card(number, kind, opts)


def generate(out_dir: str | Path, opts: Options) -> list[Path]:
    """Write the cards of ``opts`` under ``out_dir`` (existing files with the same names are replaced)."""
    out = Path(out_dir)
    written = []
    made: set[Path] = set()
    for card in iter_cards(opts):
        path = out / card.path
        if path.parent not in made:
            path.parent.mkdir(parents=True, exist_ok=True)
            made.add(path.parent)
        path.write_bytes(card.raw)  # bytes, so CRLF files stay CRLF on every platform
        written.append(path)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", help="folder to write into (created if missing)")
    parser.add_argument("--count", type=int, default=Options.count, help="ordinary cards (default %(default)s)")
    parser.add_argument("--seed", type=int, default=Options.seed, help="random seed (default %(default)s)")
    parser.add_argument("--problems", action="store_true", help=f"also write broken cards under {PROBLEM_FOLDER}/")
    parser.add_argument("--image-base", default=DEFAULT_IMAGE_BASE, help="URL prefix of every image (default %(default)s)")
    args = parser.parse_args(argv)
    if args.count < 0:
        parser.error("--count must be 0 or more")
    opts = Options(seed=args.seed, count=args.count, image_base=args.image_base.rstrip("/"), problems=args.problems)
    paths = generate(args.out_dir, opts)
    print(f"wrote {len(paths)} cards to {args.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
