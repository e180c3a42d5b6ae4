"""More problems a card can have, beyond fields.problems: links, markup, cut text, dates, images.

``problems(data, context=...)`` returns ``fields.Problem`` values with the kinds in ``CHECK_KINDS``;
``fix(data, problem, context=...)`` returns the top-level changes that repair a fixable one, like
``fields.fix`` (a change to a related item rewrites the ``related`` list). The context carries what a
single card cannot know: the time now, which URLs are cards of the library, which words are words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from curator.core.checks.canonical import amp_cache_url, canonical_url, unwrap_amp_cache
from curator.core.checks.text import plain_text
from curator.core.fields import Problem, normalize_date

#: The problem kinds of this module, in the order `check --fix` lists them.
CHECK_KINDS = ("related-self", "related-twice", "related-card", "amp-cache", "html", "cut", "future",
               "image-size")
#: The kinds ``fix`` repairs without an editor's choice.
FIXABLE_KINDS = ("related-self", "related-twice", "amp-cache", "html", "cut")

_TAG = re.compile(r"<[A-Za-z/!][^<>]*>")
_ENTITY = re.compile(r"&(?:[A-Za-z][A-Za-z0-9]{1,31}|#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6});")
# The end of a cut excerpt: a word fragment, then an ellipsis glued to it or nothing at all.
_CUT_END = re.compile(r"(?P<fragment>[^\W\d_]{1,40})(?P<mark>\.\.\.|…)?\s*\Z")
_TEXT_KEYS = ("title", "excerpt")


@dataclass(frozen=True)
class Context:
    """What the checks need beyond the card.

    ``now``: the present (UTC), for dates in the future; ``card_by_url``: the id of a library card with
    that URL, or None (``CheckIndex.card_by_url``); ``card_id``: the card's own id, so it is not offered
    to itself; ``is_word``: whether a text is a whole word (``CheckIndex.is_word``); without it no
    excerpt is called cut mid-word.
    """

    now: datetime | None = None
    card_by_url: Callable[[str], int | None] | None = None
    card_id: int | None = None
    is_word: Callable[[str], bool] | None = None
    future_slack: timedelta = timedelta(hours=1)


def _own_urls(data: Mapping[str, Any]) -> set[str]:
    return {u for key in ("sourceUrl", "ampUrl", "cdnAmpUrl")
            if isinstance(data.get(key), str) and (u := canonical_url(data[key]))}


def _has_markup(text: str) -> bool:
    return bool(_TAG.search(text) or _ENTITY.search(text))


def _cut_fragment(text: str, context: Context) -> str | None:
    """The trailing word fragment when ``text`` stops mid-word, else None.

    A text that ends in letters (or letters glued to an ellipsis) stops mid-word when those letters are
    no word the library knows. Without a word lookup nothing can tell "compa" from "company": no problem.
    """
    if context.is_word is None:
        return None
    m = _CUT_END.search(text.rstrip())
    if not m or m.start() == 0 or not text[: m.start()].rstrip():
        return None
    return None if context.is_word(m["fragment"]) else m["fragment"]


def _text_problems(where: str, item: Mapping[str, Any], context: Context, out: list[Problem]) -> None:
    for key in _TEXT_KEYS:
        value = item.get(key)
        if not isinstance(value, str):
            continue
        if _has_markup(value):
            out.append(Problem(where + key, f"{where}{key} has HTML tags or entities", True, "html"))
        if key == "excerpt":
            fragment = _cut_fragment(value, context)
            if fragment:
                out.append(Problem(where + key, f"{where}{key} is cut in the middle of a word ({fragment!r})",
                                   True, "cut"))


def _article_problems(where: str, item: Mapping[str, Any], context: Context, out: list[Problem]) -> None:
    _text_problems(where, item, context, out)
    amp, cdn = item.get("ampUrl"), item.get("cdnAmpUrl")
    if isinstance(amp, str) and isinstance(cdn, str):
        expected = amp_cache_url(amp)
        if expected and cdn.strip() != expected and unwrap_amp_cache(cdn) != amp.strip():
            out.append(Problem(where + "cdnAmpUrl", f"{where}cdnAmpUrl is not the AMP cache address of "
                               f"{where}ampUrl (expected {expected})", True, "amp-cache"))
    when = item.get("publishedDateTime")
    if isinstance(when, str) and context.now is not None:
        moment = normalize_date(when)
        now = context.now.astimezone(UTC).replace(tzinfo=None)
        if moment and datetime.fromisoformat(moment) > now + context.future_slack:
            out.append(Problem(where + "publishedDateTime",
                               f"{where}publishedDateTime {when} is in the future", False, "future"))
    images = item.get("images")
    if isinstance(images, list):
        for i, image in enumerate(images):
            if isinstance(image, Mapping) and ("width" not in image or "height" not in image):
                missing = " and ".join(k for k in ("width", "height") if k not in image)
                out.append(Problem(f"{where}images[{i}]", f"{where}images[{i}] has no {missing}", False,
                                   "image-size"))


def problems(data: Mapping[str, Any], *, context: Context | None = None) -> list[Problem]:
    """Every problem of ``CHECK_KINDS`` in ``data``, the card first, then its related items in order."""
    context = context or Context()
    out: list[Problem] = []
    _article_problems("", data, context, out)
    related = data.get("related")
    if not isinstance(related, list):
        return out
    own = _own_urls(data)
    seen: dict[str, int] = {}
    for i, item in enumerate(related):
        if not isinstance(item, Mapping):
            continue
        where = f"related[{i}]."
        url = item.get("sourceUrl")
        key = canonical_url(url) if isinstance(url, str) else None
        if key and key in own:
            out.append(Problem(f"related[{i}]", f"related[{i}] is the card itself", True, "related-self"))
        elif key and key in seen:
            out.append(Problem(f"related[{i}]", f"related[{i}] repeats related[{seen[key]}]", True,
                               "related-twice"))
        elif key and context.card_by_url is not None:
            found = context.card_by_url(url)
            if found is not None and found != context.card_id:
                out.append(Problem(f"related[{i}]", f"related[{i}] is card {found} of the library: link it?",
                                   False, "related-card"))
        if key:
            seen.setdefault(key, i)
        _article_problems(where, item, context, out)
    return out


_RELATED = re.compile(r"related\[(\d+)\](?:\.(\w+))?")


def _fixed_item(item: Mapping[str, Any], key: str, kind: str, context: Context) -> dict[str, Any]:
    value = item.get(key)
    fixed = dict(item)
    if kind == "html" and isinstance(value, str):
        fixed[key] = plain_text(value)
    elif kind == "cut" and isinstance(value, str):
        fragment = _cut_fragment(value, context)
        if not fragment:
            raise ValueError(f"{key}: not cut mid-word")
        m = _CUT_END.search(value.rstrip())
        assert m is not None
        fixed[key] = value.rstrip()[: m.start()].rstrip(" ,;:-") + " ..."
    elif kind == "amp-cache" and isinstance(item.get("ampUrl"), str):
        expected = amp_cache_url(item["ampUrl"])
        if not expected:
            raise ValueError("ampUrl: no AMP cache address for it")
        fixed["cdnAmpUrl"] = expected
    else:
        raise ValueError(f"{key}: no automatic fix for {kind}")
    return fixed


def fix(data: Mapping[str, Any], problem: Problem, *, context: Context | None = None) -> dict[str, Any]:
    """The top-level changes {field: new value} that repair a fixable problem; ValueError otherwise."""
    context = context or Context()
    if not problem.fixable or problem.kind not in FIXABLE_KINDS:
        raise ValueError(f"{problem.field}: this problem needs an editor's choice")
    m = _RELATED.fullmatch(problem.field)
    if m:
        related = data.get("related")
        index = int(m[1])
        if not isinstance(related, list) or index >= len(related) or not isinstance(related[index], Mapping):
            raise ValueError(f"{problem.field}: no such related item")
        items = list(related)
        if problem.kind in ("related-self", "related-twice"):
            del items[index]
        else:
            items[index] = _fixed_item(related[index], m[2] or "", problem.kind, context)
        return {"related": items}
    fixed = _fixed_item(data, problem.field, problem.kind, context)
    return {k: v for k, v in fixed.items() if k not in data or data[k] != v}


def fix_all(data: Mapping[str, Any], kind: str | None = None, *, context: Context | None = None,
            ) -> dict[str, Any]:
    """Every automatic fix (only of ``kind`` when given), merged: re-checked after each, since removing
    related[1] renumbers the items after it."""
    current = dict(data)
    changes: dict[str, Any] = {}
    tried: set[Problem] = set()
    while True:
        todo = [p for p in problems(current, context=context)
                if p.fixable and (kind is None or p.kind == kind) and p not in tried]
        if not todo:
            return changes
        tried.add(todo[0])
        try:
            update = fix(current, todo[0], context=context)
        except ValueError:
            continue
        current.update(update)
        changes.update(update)
