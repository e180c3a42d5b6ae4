"""`curator set`'s FIELD=VALUE arguments: parsing (all before any change) and the no-op rules."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from curator.core import fields

#: What `set` accepts: field -> the operators it takes (the contract's list, nothing more).
SETTABLE: dict[str, tuple[str, ...]] = {
    "quality": ("=",),
    "heat": ("=",),
    "published": ("=",),
    "topics": ("+=", "-="),
}

SET_HELP = "quality=N  heat=N  published=true|false  topics+=NAME  topics-=NAME"

# The field name cannot hold '+' or '-', so "heat=-1" is heat '=' "-1" and "topics-=AI" is topics '-=' "AI".
_ASSIGNMENT = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(\+=|-=|=)(.*)$", re.DOTALL)


@dataclass(frozen=True)
class Assignment:
    """One parsed FIELD=VALUE: the field, its operator and the coerced value."""

    field: str
    op: str
    value: Any


def parse_assignment(text: str) -> Assignment:
    """Parse one argument; raise ValueError with a sentence for the editor when it is not valid.

    >>> parse_assignment("quality=60")
    Assignment(field='quality', op='=', value=60)
    >>> parse_assignment("topics+= Machine Learning ")
    Assignment(field='topics', op='+=', value='Machine Learning')
    """
    match = _ASSIGNMENT.match(text)
    if not match:
        raise ValueError(f"{text!r} is not FIELD=VALUE (one of: {SET_HELP})")
    name, op, raw = match.groups()
    if name not in SETTABLE:
        raise ValueError(f"unknown field {name!r} (one of: {SET_HELP})")
    if op not in SETTABLE[name]:
        allowed = " or ".join(f"{name}{o}VALUE" for o in SETTABLE[name])
        raise ValueError(f"{name} takes {allowed}, not {name}{op}")
    if name == "topics":
        topic = raw.strip()
        if not topic:
            raise ValueError(f"{text!r}: a topic name cannot be empty")
        return Assignment(name, op, topic)
    return Assignment(name, op, fields.coerce(name, raw.strip()))


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


def would_change(row: Any, assignments: Sequence[Assignment]) -> bool:
    """Whether applying ``assignments`` to a card row changes it, by the contract's no-op rules.

    A value the card already has changes nothing; adding a topic already there (case-insensitive) or
    removing one that is not there changes nothing. Used by ``set --dry-run``, which must not touch
    the library.
    """
    for field, value in scalar_changes(assignments).items():
        current = getattr(row, field)
        # bool is an int in Python: published=1 must not compare equal to True, nor quality=1 to True.
        if type(current) is not type(value) or current != value:
            return True
    topics = list(row.topics or [])
    changed = False
    for item in topic_ops(assignments):
        folded = [t.casefold() for t in topics]
        key = item.value.casefold()
        if item.op == "+=" and key not in folded:
            topics.append(item.value)
            changed = True
        elif item.op == "-=" and key in folded:
            topics = [t for t in topics if t.casefold() != key]
            changed = True
    return changed
