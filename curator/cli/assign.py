"""`curator set`'s FIELD=VALUE arguments: parsing (all before any change), the no-op rules, related items.

Every assignment is parsed before anything changes, so one bad value changes nothing. What an assignment
does to one card is :func:`changes_for`, a pure function over the card's current mapping: ``set --dry-run``
counts and diffs with it, and ``related+=``/``related-=`` are applied through it (the other fields go to
the Store's bulk edits, which follow the same rules).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from curator.cli import card_id_value, shown
from curator.core import fields

#: What `set` accepts: field -> the operators it takes (the contract's list, nothing more).
SETTABLE: dict[str, tuple[str, ...]] = {
    "quality": ("=",),
    "heat": ("=",),
    "published": ("=",),
    "topics": ("+=", "-="),
    "title": ("=",),
    "excerpt": ("=",),
    "category": ("=",),
    "related": ("+=", "-="),
}
#: Fields whose value is text taken exactly as given (nothing stripped).
TEXT_FIELDS = ("title", "excerpt", "category")

SET_HELP = (
    "quality=N  heat=N  published=true|false  topics+=NAME  topics-=NAME  title=TEXT  excerpt=TEXT  "
    "category=TEXT  related+=ID  related-=URL"
)

#: The card-format keys of a related item (shared/docs/card-format.md), in its order: what
#: ``related+=ID`` copies from card ID when it has them.
RELATED_KEYS = ("title", "excerpt", "publishedDateTime", "sourceUrl", "ampUrl", "cdnAmpUrl", "type",
                "provider", "quality", "images")  # fmt: skip
_RELATED_TEXT = ("title", "excerpt", "publishedDateTime", "type")
_RELATED_URLS = ("sourceUrl", "ampUrl", "cdnAmpUrl")
_IMAGE_KEYS = ("url", "width", "height", "title")

# The field name cannot hold '+' or '-', so "heat=-1" is heat '=' "-1" and "topics-=AI" is topics '-=' "AI".
_ASSIGNMENT = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(\+=|-=|=)(.*)$", re.DOTALL)


@dataclass(frozen=True)
class Assignment:
    """One parsed FIELD=VALUE: the field, its operator and the coerced value.

    ``related+=ID``: the value is the card id; ``related-=URL``: the URL as given (stripped).
    """

    field: str
    op: str
    value: Any


def parse_assignment(text: str) -> Assignment:
    """Parse one argument; raise ValueError with a sentence for the editor when it is not valid.

    >>> parse_assignment("quality=60")
    Assignment(field='quality', op='=', value=60)
    >>> parse_assignment("topics+= Machine Learning ")
    Assignment(field='topics', op='+=', value='Machine Learning')
    >>> parse_assignment("title= Two  spaces kept ")
    Assignment(field='title', op='=', value=' Two  spaces kept ')
    >>> parse_assignment("related+=42")
    Assignment(field='related', op='+=', value=42)
    """
    match = _ASSIGNMENT.match(text)
    if not match:
        raise ValueError(f"{shown(text)} is not FIELD=VALUE (one of: {SET_HELP})")
    name, op, raw = match.groups()
    if name not in SETTABLE:
        raise ValueError(f"unknown field {name!r} (one of: {SET_HELP})")
    if op not in SETTABLE[name]:
        allowed = " or ".join(f"{name}{o}VALUE" for o in SETTABLE[name])
        raise ValueError(f"{name} takes {allowed}, not {name}{op}")
    if name == "topics":
        topic = raw.strip()
        if not topic:
            raise ValueError(f"{shown(text)}: a topic name cannot be empty")
        return Assignment(name, op, topic)
    if name == "related":
        return Assignment(name, op, _related_value(op, raw))
    if name in TEXT_FIELDS:
        _check_unicode(name, raw)
        return Assignment(name, op, fields.coerce(name, raw))  # as typed: a title may start with a blank
    return Assignment(name, op, fields.coerce(name, raw.strip()))


def _check_unicode(name: str, text: str) -> None:
    """Refuse text with a lone surrogate: how Python hands over command-line bytes that are not UTF-8."""
    bad = next((i for i, ch in enumerate(text) if "\ud800" <= ch <= "\udfff"), None)
    if bad is not None:
        raise ValueError(f"{name}: the text is not UTF-8 (an undecodable byte at character {bad + 1})")


def _related_value(op: str, raw: str) -> Any:
    if op == "+=":
        try:
            return card_id_value(raw)
        except ValueError as err:
            raise ValueError(f"related+=ID takes a library card id: {err}") from None
    url = raw.strip()
    if not fields.is_web_url(url):
        raise ValueError(f"related-=URL takes an http or https link, not {shown(url)}")
    return url


def parse_assignments(texts: Sequence[str]) -> list[Assignment]:
    """Parse every argument first, so one bad value changes nothing; a scalar field may appear once."""
    parsed = [parse_assignment(text) for text in texts]
    seen: set[str] = set()
    for item in parsed:
        if item.op == "=":
            if item.field in seen:
                raise ValueError(f"{item.field} is given more than once")
            seen.add(item.field)
    return parsed


def scalar_changes(assignments: Sequence[Assignment]) -> dict[str, Any]:
    """The plain ``field=value`` assignments as one change mapping for ``Store.set_fields``."""
    return {a.field: a.value for a in assignments if a.op == "="}


def topic_ops(assignments: Sequence[Assignment]) -> list[Assignment]:
    """The topic additions and removals, in the order given."""
    return [a for a in assignments if a.field == "topics"]


def related_ops(assignments: Sequence[Assignment]) -> list[Assignment]:
    """The related additions and removals, in the order given."""
    return [a for a in assignments if a.field == "related"]


# --- related items -------------------------------------------------------------------------------


def url_key(url: Any) -> str | None:
    """What two sourceUrls are compared by: the canonical URL (``www.``, tracking parameters, AMP forms
    and http/https are one article), else the stripped text; None for a value that is no text."""
    if not isinstance(url, str):
        return None
    # Imported here: w3lib and the urllib/http/email modules under it cost every `set` ~14 ms of CPU at
    # start-up, and only `related+=`/`related-=` compare URLs.
    from curator.core.checks.canonical import canonical_url

    return canonical_url(url) or url.strip()


def related_item(card_id: int, data: Mapping[str, Any]) -> dict[str, Any]:
    """The related item that stands for library card ``card_id`` (its current mapping ``data``).

    It copies the card-format related keys the card has, in the card format's order, each only when its
    value has the right type (a card's wrong-typed value stays that card's problem, not a new one here):
    text fields as text, links when they are http(s), quality 0..100, ``provider`` as ``{name, domain}``
    and ``images`` as ``{url, width, height, title}`` items. ValueError when the card has no sourceUrl a
    related item could point to.
    """
    if not fields.is_web_url(data.get("sourceUrl")):
        found = data.get("sourceUrl")
        what = "no sourceUrl" if found is None else f"no usable sourceUrl ({fields.show(found)})"
        raise ValueError(f"related+={card_id}: card {card_id} has {what}, so it cannot be a related link")
    item: dict[str, Any] = {}
    for key in RELATED_KEYS:
        if key not in data:
            continue
        value = _related_field(key, data[key])
        if value is not None:
            item[key] = value
    return item


def _related_field(key: str, value: Any) -> Any:
    """``value`` as a related item's ``key``, or None when it does not have that key's type."""
    if key in _RELATED_TEXT:
        return value if isinstance(value, str) else None
    if key in _RELATED_URLS:
        return value if fields.is_web_url(value) else None
    if key == "quality":
        good = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 100
        return value if good else None
    if key == "provider":
        if isinstance(value, str):
            return {"name": value} if value.strip() else None
        if isinstance(value, Mapping):
            provider = {k: value[k] for k in ("name", "domain") if isinstance(value.get(k), str)}
            return provider or None
        return None
    if key == "images" and isinstance(value, list):
        images = [
            {k: image[k] for k in _IMAGE_KEYS if k in image}
            for image in value
            if isinstance(image, Mapping) and fields.is_web_url(image.get("url"))
        ]
        return images or None
    return None


@dataclass
class Plan:
    """What ``set`` does to one card: the changed fields' new values, and notes for the editor
    (a related link already there, one not there to remove)."""

    changes: dict[str, Any] = dc_field(default_factory=dict)
    notes: list[str] = dc_field(default_factory=list)


def changes_for(card_id: int, data: Mapping[str, Any], assignments: Sequence[Assignment],
                items: Mapping[int, dict[str, Any]]) -> Plan:  # fmt: skip
    """The changes ``assignments`` make to one card whose current mapping is ``data``.

    The contract's no-op rules: a value the card already has (same type too: ``published=1`` is no
    ``true``) changes nothing; ``topics+=`` of a topic already there (case-insensitive) and ``topics-=``
    of one not there change nothing; ``related+=ID`` of an article already listed (same canonical
    sourceUrl), or of the card itself, changes nothing; ``related-=URL`` removes every item whose
    sourceUrl is that URL (canonical compare). ``items``: the related item of each ``related+=`` card id
    (:func:`related_item`). A ``topics`` or ``related`` value that is not a list is left alone (a
    problem for ``check``, not something to append to) and noted.
    """
    plan = Plan()
    for name, value in scalar_changes(assignments).items():
        if name not in data or not _same(data[name], value):
            plan.changes[name] = value
    topics: Any = data.get("topics")
    for item in topic_ops(assignments):
        topics = _changed_topics(topics, item, plan)
    if topics is not data.get("topics"):
        plan.changes["topics"] = topics
    related: Any = data.get("related")
    for item in related_ops(assignments):
        related = _changed_related(card_id, data, related, item, items, plan)
    if related is not data.get("related"):
        plan.changes["related"] = related
    return plan


def _same(a: Any, b: Any) -> bool:
    # bool is an int in Python: published=1 must not compare equal to True, nor quality=1 to True.
    return type(a) is type(b) and a == b


def _changed_topics(topics: Any, item: Assignment, plan: Plan) -> Any:
    """The topic list after one topics+=/-= (the same object when nothing changes), as the Store does."""
    if topics is not None and not isinstance(topics, list):
        plan.notes.append(f"topics is not a list: topics{item.op}{item.value} changes nothing")
        return topics
    current = topics or []
    key = item.value.casefold()
    present = [t for t in current if isinstance(t, str) and t.casefold() == key]
    if item.op == "+=" and not present:
        return [*current, item.value]
    if item.op == "-=" and present:
        return [t for t in current if t not in present]
    return topics


def _changed_related(card_id: int, data: Mapping[str, Any], related: Any, item: Assignment,
                     items: Mapping[int, dict[str, Any]], plan: Plan) -> Any:  # fmt: skip
    """The related list after one related+=/-= (the same object when nothing changes)."""
    if related is not None and not isinstance(related, list):
        plan.notes.append(f"related is not a list: related{item.op}{item.value} changes nothing")
        return related
    current = related or []
    if item.op == "+=":
        new = items[item.value]
        key = url_key(new["sourceUrl"])
        if item.value == card_id or url_key(data.get("sourceUrl")) == key:
            plan.notes.append(f"card {item.value} is this card itself: related+={item.value} changes nothing")
            return related
        if any(isinstance(r, Mapping) and url_key(r.get("sourceUrl")) == key for r in current):
            plan.notes.append(f"related already lists {new['sourceUrl']} (card {item.value}): unchanged")
            return related
        return [*current, dict(new)]
    key = url_key(item.value)
    kept = [r for r in current if not (isinstance(r, Mapping) and url_key(r.get("sourceUrl")) == key)]
    if len(kept) == len(current):
        plan.notes.append(f"related lists no {item.value}: related-= changes nothing")
        return related
    return kept


def row_values(row: Any) -> dict[str, Any]:
    """A card row's listed values as a mapping for :func:`changes_for` (absent values left out)."""
    names = ("quality", "heat", "published", "title", "category")
    values = {name: getattr(row, name, None) for name in names}
    present = {name: value for name, value in values.items() if value is not None}
    if getattr(row, "topics", None):
        present["topics"] = list(row.topics)
    return present


#: Fields a card row holds (``row_values``): assignments on these alone need no look at the card's mapping.
ROW_FIELDS = frozenset(("quality", "heat", "published", "topics", "title", "category"))


def would_change(row: Any, assignments: Sequence[Assignment]) -> bool:
    """Whether applying ``assignments`` to a card row changes it, by the contract's no-op rules.

    Only for assignments on :data:`ROW_FIELDS` (a row has no excerpt and no related items; a title or
    category that is not text is None there, which no text equals): ``set --dry-run`` uses it to skip
    reading the mappings of cards such a set leaves alone.
    """
    others = sorted({a.field for a in assignments} - ROW_FIELDS)
    if others:
        raise ValueError(f"a card row cannot tell whether {', '.join(others)} would change")
    return bool(changes_for(getattr(row, "id", 0), row_values(row), assignments, {}).changes)
