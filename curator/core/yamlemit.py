"""YAML text for new values: one-line scalars in a kept style, flow collections, new blocks.

Used by the patcher (``yamlpatch``) wherever a value is written anew; every function gives text
PyYAML reads back as the value (the patcher re-parses the whole result anyway).
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from typing import Any

import yaml
from yaml.emitter import Emitter

from .cardnodes import STR, TIMESTAMP, plain_tag

#: The schema of a value Curator knows nothing about (no key order, no children).
NO_SCHEMA: dict[str, Any] = {}
#: The key (of a card or a related item) whose new text may stay a plain timestamp.
DATE_KEY = "publishedDateTime"


class PatchError(ValueError):
    """The text cannot be patched safely; ``str(err)`` says why, for an editor."""


# analyze_scalar only reads allow_unicode from the emitter, so one instance serves every call.
ANALYZER = Emitter(io.StringIO(), allow_unicode=True)
_BOOL_WORDS = (("true", "false"), ("yes", "no"), ("on", "off"))
_ESCAPES = {"\0": "0", "\x07": "a", "\b": "b", "\t": "t", "\n": "n", "\x0b": "v", "\f": "f",
            "\r": "r", "\x1b": "e", '"': '"', "\\": "\\", "\x85": "N", "\u2028": "L", "\u2029": "P"}
# Characters a double-quoted scalar may hold as they are (YAML's printable set, minus what the
# escapes above cover and the BOM).
_DQ_SAFE = re.compile("[^\"\\\\\x00-\x1f\x7f-\x9f\ud800-\udfff\ufeff\ufffe\uffff\u2028\u2029]*")


def _plain_ok(text: str, flow: bool, allow_timestamp: bool = False) -> bool:
    if not text:
        return False
    analysis = ANALYZER.analyze_scalar(text)
    if analysis.multiline or not (analysis.allow_flow_plain if flow else analysis.allow_block_plain):
        return False
    tag = plain_tag(text)
    # A timestamp may stay plain where it was plain: cards keep timestamps as their text.
    return tag == STR or (allow_timestamp and tag == TIMESTAMP)


def _single_ok(text: str) -> bool:
    """Whether ``text`` can be one single-quoted line.

    PyYAML's analyzer counts a tab as a special character, but inside one quoted line a tab is kept as
    it is, exactly like a blank (only whitespace next to a line break folds), so a title with a tab can
    keep the file's single quotes: the analysis is of the text with its tabs read as blanks.
    """
    analysis = ANALYZER.analyze_scalar(text.replace("\t", " "))
    return bool(analysis.allow_single_quoted and not analysis.multiline)


# What a block scalar's lines may hold as they are: YAML's printable characters, tab included, without
# the line breaks other than "\n" (a reader would turn them into "\n") and the BOM (as PyYAML writes).
_BLOCK_SAFE = re.compile("[\t\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010fffe]*")


def block_ok(text: str) -> bool:
    """Whether ``text`` can be the content of a literal block scalar (``|``), read back exactly.

    Wider than PyYAML's ``allow_block``: a literal block keeps a line's trailing blanks, its tabs and a
    blank before a line break as content, which the analyzer (written for the emitter's own choices)
    refuses. Leading blanks and trailing line breaks are the caller's business (an indentation hint,
    chomping).
    """
    return bool(_BLOCK_SAFE.fullmatch(text))


def double_quoted(text: str) -> str:
    """``text`` as a one-line double-quoted YAML scalar (escapes as PyYAML writes them)."""
    if _DQ_SAFE.fullmatch(text):
        return f'"{text}"'
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append("\\" + _ESCAPES[ch])
        elif _DQ_SAFE.fullmatch(ch):
            out.append(ch)
        else:
            code = ord(ch)
            out.append(f"\\x{code:02X}" if code <= 0xFF else f"\\u{code:04X}" if code <= 0xFFFF
                       else f"\\U{code:08X}")
    return '"' + "".join(out) + '"'


def _bool_text(value: bool, old_text: str | None) -> str:
    """``true``/``false``, or the same word family and case as the value it replaces."""
    if old_text:
        low = old_text.lower()
        for words in _BOOL_WORDS:
            if low in words:
                word = words[0] if value else words[1]
                if old_text.isupper():
                    return word.upper()
                return word.capitalize() if old_text[0].isupper() else word
    return "true" if value else "false"


def scalar_text(value: Any, style: str | None = None, *, flow: bool = False,
                old_text: str | None = None, allow_timestamp: bool = False) -> str:
    """One-line YAML text for a scalar value.

    ``style`` is the style of the value it replaces (``''`` plain, ``"'"``, ``'"'``, or None for a
    new value): strings keep it when their content allows, else fall back as PyYAML's emitter
    would (plain, single-quoted, double-quoted). ``flow`` is True inside ``[...]``/``{...}``.
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return _bool_text(value, old_text)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return yaml.safe_dump(value, default_flow_style=True).split("\n", 1)[0]
    if not isinstance(value, str):
        raise PatchError(f"cannot write a value of type {type(value).__name__}")
    if style != '"':
        if style != "'" and _plain_ok(value, flow, allow_timestamp):
            return value
        if _single_ok(value):
            return "'" + value.replace("'", "''") + "'"
    return double_quoted(value)


def flow_text(value: Any) -> str:
    """A value in YAML flow style on one line (``[a, b]``, ``{k: v}``, scalars)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key_text(k, True)}: {flow_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow_text(v) for v in value) + "]"
    return scalar_text(value, flow=True)


def key_text(key: Any, flow: bool = False) -> str:
    if isinstance(key, str) and "\n" in key:
        raise PatchError(f"cannot write a key with a line break: {key!r}")
    return scalar_text(key, flow=flow)


def is_scalar(value: Any) -> bool:
    return not isinstance(value, (dict, list))


def ordered(value: dict[Any, Any], schema: Mapping[str, Any]) -> list[tuple[Any, Any]]:
    """A new mapping's items in the card format's order; keys it does not know keep theirs, after."""
    order = schema.get("keys", ())
    rank = {k: i for i, k in enumerate(order)}
    return sorted(value.items(), key=lambda kv: rank.get(kv[0], len(order)))


class BlockEmitter:
    """New block-style text in a file's own layout; subclasses give ``nl`` and ``style``."""

    nl = "\n"

    @property
    def style(self) -> tuple[int, int, bool]:
        """(map indent, sequence indent, prefer flow lists) for new blocks."""
        return (2, 2, False)

    def block_value(self, value: Any, col: int, schema: Mapping[str, Any], *, timestamp: bool = False) -> str:
        """The text after ``key:`` for a value whose key sits at column ``col`` (no final newline).

        ``timestamp``: the key is ``publishedDateTime``, whose text stays plain when it reads as a
        timestamp (cards keep timestamps as their text), as the file's own dates are written.
        """
        nl = self.nl
        map_indent, seq_indent, prefer_flow = self.style
        if isinstance(value, dict):
            if not value:
                return " {}"
            pad = " " * (col + map_indent)
            children = schema.get("children", {})
            return "".join(
                f"{nl}{pad}{key_text(k)}:"
                + self.block_value(v, col + map_indent, children.get(k, NO_SCHEMA), timestamp=k == DATE_KEY)
                for k, v in value.items())
        if isinstance(value, list):
            if not value:
                return " []"
            if all(map(is_scalar, value)) and (len(value) == 1 or prefer_flow):
                return " " + flow_text(value)
            dash_col = col + seq_indent
            item_schema = schema.get("items", NO_SCHEMA)
            return "".join(f"{nl}{' ' * dash_col}- {self.item_text(v, dash_col + 2, item_schema)}"
                           for v in value)
        return " " + scalar_text(value, allow_timestamp=timestamp)

    def item_text(self, value: Any, col: int, schema: Mapping[str, Any], *, new: bool = True) -> str:
        """A sequence item's text after its ``- `` (content at column ``col``), no final newline."""
        if isinstance(value, dict) and value:
            items = ordered(value, schema) if new else list(value.items())
            children = schema.get("children", {})
            lines = [key_text(k) + ":"
                     + self.block_value(v, col, children.get(k, NO_SCHEMA), timestamp=k == DATE_KEY)
                     for k, v in items]
            return (self.nl + " " * col).join(lines)
        if isinstance(value, (dict, list)):
            return flow_text(value)
        return scalar_text(value)

    def entry_text(self, key: str, value: Any, col: int, schema: Mapping[str, Any]) -> str:
        """A whole ``key: value`` entry (``key`` already YAML text), ending with a line break."""
        return f"{key}:{self.block_value(value, col, schema, timestamp=key == DATE_KEY)}{self.nl}"
