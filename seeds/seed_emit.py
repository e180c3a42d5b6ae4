"""Hand-written-looking YAML text for seeds/generate.py: varied quoting, list styles, comments, line ends.

PyYAML's emitter would give every file the same look; real cards are typed or templated by people, so
this writes the text itself. Every choice here still yields YAML whose safe_load equals the intended
values (tests/core/test_generate.py checks it on every generated card).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from random import Random
from typing import Any

# A plain (unquoted) scalar must not start with an indicator, contain ": " / " #", or resolve to a
# non-string (bool, null, number, timestamp). Starting with a letter and avoiding ":" and "#" is a
# conservative rule that covers all of it, except the YAML 1.1 bool/null words checked below.
_PLAIN = re.compile(r"[A-Za-z][^:#\n\t\"\\]*")
_PLAIN_FLOW = re.compile(r"[A-Za-z][^:#\n\t\"\\,\[\]{}]*")
# keys whose values are single words or names, written bare by most people
_WORD_KEYS = {"category", "type", "name", "domain", "lang", "topics", "country", "region", "author"}
_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}


def plain_ok(text: str, flow: bool = False) -> bool:
    """Whether ``text`` can be written unquoted and still read back as this exact string."""
    pattern = _PLAIN_FLOW if flow else _PLAIN
    return (
        pattern.fullmatch(text) is not None
        and text == text.strip()
        and "  " not in text
        and text.lower() not in _RESERVED
    )


def double(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def single(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass
class Style:
    """How one file is written; picked per file, as one person or tool writes a whole file one way."""

    quote: str = "double"  # the file's usual quoting for text: double, single or plain
    newline: str = "\n"
    bom: bool = False
    blank_lines: bool = True  # blank line between the groups (scalars, provider, topics, ...)
    flow_topics: bool = False
    seq_offset: int = 2  # "  - item" under its key (the example) or 0 ("- item", indentless)
    folded_excerpt: bool = False
    plain_yaml: bool = False  # a .yaml file with no --- delimiters
    header_comment: str | None = None
    trailing_comments: dict[str, str] = field(default_factory=dict)
    body: str | None = None  # Markdown after the closing ---
    final_blank: bool = True  # the example ends "---\n\n"


class Raw(str):
    """Text to write exactly as given (an unquoted scalar chosen on purpose, e.g. ``quality: high``)."""


class Stamp(str):
    """A timestamp: plain like the example, sometimes quoted."""


class Writer:
    """Builds the lines of one card."""

    def __init__(self, rng: Random, style: Style) -> None:
        self.rng = rng
        self.style = style
        self.lines: list[str] = []

    def scalar(self, value: Any, flow: bool = False, key: str = "") -> str:
        if isinstance(value, bool):
            return ("True" if value else "False") if self.rng.random() < 0.03 else ("true" if value else "false")
        if isinstance(value, Raw):
            return str(value)
        if isinstance(value, (int, float)):
            return str(value)
        if isinstance(value, Stamp):
            r = self.rng.random()
            return str(value) if r < 0.85 else double(value) if r < 0.95 else single(value)
        text = str(value)
        quote = self.style.quote
        if key in _WORD_KEYS and self.rng.random() < 0.85:
            quote = "plain"  # short words stay bare even in files that quote their text
        if self.rng.random() < 0.1:  # people are not consistent
            quote = self.rng.choice(("double", "single", "plain"))
        if quote == "plain" and plain_ok(text, flow):
            return text
        if quote == "single" and "\\" not in text:
            return single(text)
        return double(text)

    def url(self, value: str) -> str:
        # URLs are plain in most files (the example), quoted in some.
        return value if self.rng.random() < 0.9 else double(value)

    def put(self, key: str, value: Any, indent: int) -> None:
        pad = " " * indent
        if isinstance(value, dict):
            if indent > 0 and value and self.rng.random() < 0.03 and all(
                not isinstance(v, (dict, list)) for v in value.values()
            ):
                inner = ", ".join(f"{k}: {self.scalar(v, flow=True, key=k)}" for k, v in value.items())
                self.lines.append(f"{pad}{key}: {{{inner}}}")
                return
            self.lines.append(f"{pad}{key}:")
            for k, v in value.items():
                self.put(k, v, indent + 2)
        elif isinstance(value, list):
            self.put_list(key, value, indent)
        elif key == "excerpt" and self.style.folded_excerpt and indent == 0 and "  " not in value:
            self.put_folded(key, str(value), indent)
        else:
            is_url = isinstance(value, str) and not isinstance(value, Raw) and key.endswith(("Url", "url"))
            text = self.url(value) if is_url else self.scalar(value, key=key)
            comment = self.style.trailing_comments.get(key) if indent == 0 else None
            self.lines.append(f"{pad}{key}: {text}" + (f"  # {comment}" if comment else ""))

    def put_list(self, key: str, items: list[Any], indent: int) -> None:
        pad = " " * indent
        if not items:
            self.lines.append(f"{pad}{key}: []")
            return
        if all(not isinstance(i, (dict, list)) for i in items) and self.style.flow_topics:
            self.lines.append(f"{pad}{key}: [" + ", ".join(self.scalar(i, flow=True, key=key) for i in items) + "]")
            return
        self.lines.append(f"{pad}{key}:")
        dash = " " * (indent + self.style.seq_offset) + "- "
        for item in items:
            if isinstance(item, dict):
                start = len(self.lines)
                inner = indent + self.style.seq_offset + 2
                for k, v in item.items():
                    self.put(k, v, inner)
                self.lines[start] = dash + self.lines[start][inner:]
            else:
                self.lines.append(dash + self.scalar(item, key=key))

    def put_folded(self, key: str, text: str, indent: int) -> None:
        # ">-" folds single line breaks into spaces, so wrapping at spaces keeps the value exact.
        self.lines.append(f"{' ' * indent}{key}: >-")
        pad = " " * (indent + 2)
        line = ""
        for word in text.split(" "):
            if line and len(line) + 1 + len(word) > 78:
                self.lines.append(pad + line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        self.lines.append(pad + line)

    def blank(self) -> None:
        if self.style.blank_lines:
            self.lines.append("")


def render(groups: list[list[tuple[str, Any]]], style: Style, rng: Random) -> bytes:
    """The whole file: groups of top-level (key, value) pairs, separated by blank lines if the style says so."""
    w = Writer(rng, style)
    if style.header_comment:
        w.lines.append(f"# {style.header_comment}")
    first = True
    for group in groups:
        if not group:
            continue
        if not first:
            w.blank()
        first = False
        for key, value in group:
            w.put(key, value, 0)
    if style.plain_yaml:
        lines = w.lines
    else:
        lines = ["---", *w.lines, "---"]
        if style.body is not None:
            lines.extend(style.body.split("\n"))
        elif style.final_blank:
            lines.append("")
    text = style.newline.join(lines) + style.newline
    return ("\ufeff" if style.bom else "").encode() + text.encode("utf-8")
