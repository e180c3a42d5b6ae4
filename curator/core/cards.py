"""Read card files: decode, find the YAML mapping, compose it safely, build plain values.

The node checks and the construction of plain values live in ``cardnodes``; the names other
modules use from there (CardError, construct, the limits) are re-exported here.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node

from .cardnodes import (
    BINARY,
    BOOL,
    FLOAT,
    INT,
    KIND_NAMES,
    MAP,
    MAX_ALIAS_EXPANSION,
    MAX_DEPTH,
    MERGE,
    NULL,
    SEQ,
    STR,
    TIMESTAMP,
    VALUE,
    CardError,
    built_values,
    check,
    construct,
    fast_values,
    guard_depth,
)
from .cardnodes import Loader as _Loader  # a module global: tests swap in PyYAML's pure loader

__all__ = [  # noqa: RUF022 (grouped: the reading API first, then the tags)
    "MAX_FILE_BYTES", "CARD_SUFFIXES", "CardError", "FileState", "Card", "Document", "is_card_path",
    "split", "split_text", "compose_root", "compose", "compose_card", "construct", "parse_card",
    "read_card", "read_bounded", "file_kind", "UNEXPECTED", "MAX_ALIAS_EXPANSION", "MAX_DEPTH",
    # the tags, for callers comparing node.tag
    "STR", "INT", "FLOAT", "BOOL", "NULL", "TIMESTAMP", "BINARY", "SEQ", "MAP", "MERGE", "VALUE",
]

MAX_FILE_BYTES = 5 * 1024 * 1024
CARD_SUFFIXES = (".txt", ".md", ".markdown", ".yaml", ".yml")

_BOM = "\ufeff"
_OPENER = re.compile(r"---[ \t]*(\r?\n|\Z)")
_DOC_MARKER = re.compile(r"^(?:---|\.\.\.)(?:[ \t\r\n]|\Z)", re.MULTILINE)


@dataclass(frozen=True)
class FileState:
    """The bytes a card was read from."""

    size: int
    mtime_ns: int
    sha256: str


@dataclass
class Card:
    """A card's whole mapping as plain values, and the file state it was read from.

    ``number_text`` is False when the reader saw that no text in ``data`` is one
    ``fields.unfit_number`` recognises (``fields.summarize`` then skips looking for them).
    """

    path: str
    data: dict[str, Any]
    state: FileState | None
    number_text: bool = True


@dataclass(frozen=True)
class Document:
    """A decoded card file and where its YAML sits in it.

    ``text`` is the whole file without its BOM. The YAML region is ``text[yaml_start:yaml_end]``
    (for front matter: between the opening and closing ``---`` lines; for plain YAML: all of
    ``text``); ``text[body_start:]`` is the body after the closing line ("" for plain YAML).
    ``newline`` is the file's line ending, taken from its first line.
    """

    text: str
    bom: bool
    yaml_start: int
    yaml_end: int
    newline: str
    body_start: int

    @property
    def front_matter(self) -> bool:
        """True when the YAML sits between ``---`` lines rather than filling a plain YAML file."""
        return self.body_start != self.yaml_end or self.yaml_start != 0

    @property
    def yaml_text(self) -> str:
        return self.text[self.yaml_start:self.yaml_end]

    @property
    def line_offset(self) -> int:
        """Lines before the YAML region: add it to a 0-based region line to get a 0-based file line."""
        return self.text.count("\n", 0, self.yaml_start)


def is_card_path(name: str) -> bool:
    """Whether a file name has one of the card suffixes (case-insensitive)."""
    return name.lower().endswith(CARD_SUFFIXES)


def _too_big(path: str, size: int) -> CardError:
    megabytes = size / (1024 * 1024)
    # Just over the cap, "5.0 MB" would read as within it: give the bytes instead.
    shown = f"{megabytes:.1f} MB" if megabytes >= 5.05 else f"{size:,} bytes"
    return CardError(path, f"file is {shown}; cards are limited to {MAX_FILE_BYTES // (1024 * 1024)} MB")


def _byte_position(raw: bytes, pos: int) -> tuple[int, int]:
    """1-based line and character column of byte offset ``pos`` (the BOM is not a column)."""
    line_start = raw.rfind(b"\n", 0, pos) + 1
    prefix = raw[line_start:pos]
    if line_start == 0 and prefix.startswith(b"\xef\xbb\xbf"):
        prefix = prefix[3:]
    column = len(prefix.decode("utf-8", errors="replace")) + 1
    return raw.count(b"\n", 0, pos) + 1, column


def _decode(raw: bytes, path: str) -> tuple[str, bool]:
    if len(raw) > MAX_FILE_BYTES:
        raise _too_big(path, len(raw))
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise CardError(path, "file contains a NUL byte (binary data?)", *_byte_position(raw, nul))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line, column = _byte_position(raw, err.start)
        raise CardError(path, f"not valid UTF-8 at line {line}, column {column}", line, column) from None
    if text.startswith(_BOM):
        return text[1:], True
    return text, False


def _find_closer(text: str, start: int) -> tuple[int, int] | None:
    """Start and end (after its line break) of the first ``---`` line at or after ``start``."""
    # str.find is several times faster than a multi-line regex over a whole card.
    pos = start - 1
    n = len(text)
    while True:
        pos = text.find("\n---", pos)
        if pos < 0:
            return None
        line = pos + 1
        i = line + 3
        while i < n and text[i] in " \t":
            i += 1
        if i < n and text[i] == "\r":
            i += 1
        if i == n:
            return line, n
        if text[i] == "\n":
            return line, i + 1
        pos = line


def split(raw: bytes, path: str) -> Document:
    """Decode a card file and locate its YAML region; raises CardError.

    Front matter: the first line is ``---`` (trailing blanks allowed) and a later ``---`` line
    closes it. A ``.yaml``/``.yml`` file is plain YAML unless it is front matter followed by
    nothing but blank lines; a ``.yaml`` file starting with ``---`` that is not closed that way is
    read whole as YAML (a single document, or "several documents" from compose()).
    """
    text, bom = _decode(raw, path)
    return split_text(text, bom, path)


def split_text(text: str, bom: bool, path: str) -> Document:
    """:func:`split` for text already decoded (``text`` without its BOM); raises CardError.

    Write-back re-splits the text it built, which holds no NUL and needs no decoding.
    """
    if not text or text.isspace():
        raise CardError(path, "the file is empty")
    first_nl = text.find("\n")
    newline = "\r\n" if first_nl > 0 and text[first_nl - 1] == "\r" else "\n"
    is_yaml = path.lower().endswith((".yaml", ".yml"))
    opener = _OPENER.match(text)
    if opener:
        start = opener.end()
        closer = _find_closer(text, start)
        if closer and (not is_yaml or not text[closer[1]:].strip()):
            return Document(text, bom, start, closer[0], newline, closer[1])
        if not is_yaml:
            raise CardError(path, "front matter is not closed: no '---' line after line 1", 1, 1)
    elif not is_yaml:
        raise CardError(path, "no front matter (the file must start with a '---' line)", 1, 1)
    return Document(text, bom, 0, len(text), newline, len(text))


def _yaml_error(path: str, doc: Document, err: Exception) -> CardError:
    """An editor-readable CardError for any error PyYAML raised, at file positions."""
    offset = doc.line_offset
    if isinstance(err, yaml.MarkedYAMLError):
        problem = err.problem or err.context or "invalid YAML"
        message = f"YAML syntax error: {problem}"
        if "maximum nesting depth" in problem:  # libyaml >= 0.2.6 (PyYAML 6.0.4 wheels) stops at its own limit
            message = f"values are nested more than {MAX_DEPTH} levels deep"
            err.context = None
        mark = err.problem_mark or err.context_mark
        if err.context and err.problem and err.context_mark is not None:
            context_line = err.context_mark.line + offset + 1
            if err.context.endswith("; first occurrence"):  # a duplicate anchor, worded by the composer
                message = f"YAML syntax error: {err.context.split(';')[0]} (first on line {context_line})"
            else:
                message += f" ({err.context} on line {context_line})"
        if mark is not None:
            return CardError(path, message, mark.line + offset + 1, mark.column + 1)
        return CardError(path, message)
    if isinstance(err, yaml.reader.ReaderError):  # a character YAML forbids (control characters)
        region = doc.yaml_text
        pos = min(err.position, len(region))
        line = region.count("\n", 0, pos)
        column = pos - (region.rfind("\n", 0, pos) + 1) + 1
        what = f"U+{err.character:04X}" if isinstance(err.character, int) else repr(err.character)
        return CardError(path, f"character {what} is not allowed in YAML ({err.reason})",
                         line + offset + 1, column)
    return CardError(path, f"YAML error: {err}")


def compose_root(doc: Document, path: str) -> MappingNode | None:
    """Compose the region's single document and check its root is a mapping; raises CardError.

    Only the root is checked (the caller checks what it uses: see :func:`compose`); the nesting
    depth is guarded before composing. None for empty front matter.
    """
    region = doc.yaml_text
    offset = doc.line_offset
    guard_depth(region, path, offset, _Loader)
    try:
        loader = _Loader(region)
        try:
            if not loader.check_node():
                node = None
            else:
                node = loader.get_node()
                if loader.check_node():
                    raise _several(path, doc, region, node)
        finally:
            loader.dispose()
    except CardError:
        raise
    except yaml.YAMLError as err:
        raise _yaml_error(path, doc, err) from None
    except (RecursionError, MemoryError):
        raise CardError(path, "the YAML is too deeply nested or too large to read") from None
    except Exception as err:  # noqa: BLE001 -- PyYAML has raised odd errors (TypeError, ...) on odd input
        raise CardError(path, f"YAML error: {type(err).__name__}: {err}") from None
    if node is None:
        if doc.front_matter:
            return None
        raise CardError(path, "the file holds no YAML mapping (the document is empty)")
    if type(node) is not MappingNode:
        mark = node.start_mark
        raise CardError(path, f"the card is {KIND_NAMES[type(node)]}, not a mapping of fields",
                        mark.line + offset + 1, mark.column + 1)
    return node


def compose(doc: Document, path: str) -> MappingNode | None:
    """Compose the YAML region into checked nodes; raises CardError.

    Returns None for empty front matter (no YAML at all). Node marks are relative to the YAML
    region (0-based ``mark.line`` counts from ``doc.yaml_start``; add ``doc.line_offset`` for the
    file line); mark indexes are character offsets into ``doc.yaml_text``.
    """
    node = compose_root(doc, path)
    if node is not None:
        check(node, path, doc.line_offset)
    return node


def compose_card(doc: Document, path: str) -> tuple[MappingNode | None, dict[Any, Any]]:
    """The root node and the card's plain values, checked and built in one pass where possible.

    What parse_card does, keeping the nodes (write-back patches at their marks); raises CardError.
    """
    node, values, _ = _compose_values(doc, path)
    return node, values


def _compose_values(doc: Document, path: str) -> tuple[MappingNode | None, dict[Any, Any], bool]:
    """:func:`compose_card`, and whether some text in the values may be a number kept as text."""
    node = compose_root(doc, path)
    if node is None:
        return None, {}, False
    values, number_text = built_values(node, path, doc.line_offset, doc.yaml_text)
    return node, values, number_text


def _several(path: str, doc: Document, region: str, first: Node) -> CardError:
    marker = _DOC_MARKER.search(region, first.end_mark.index)
    line = (region.count("\n", 0, marker.start()) if marker else first.end_mark.line) + doc.line_offset + 1
    return CardError(path, f"several YAML documents in one card (the second starts on line {line})", line, 1)


def parse_card(raw: bytes, path: str) -> Card:
    """Parse a card from its bytes; raises CardError, and only CardError, whatever the bytes.

    ``state`` is None (no file was read).
    """
    try:
        doc = split(raw, path)
        fast = fast_values(doc.yaml_text)  # the common card, from libyaml's events: no nodes composed
        if fast is not None:
            return Card(path, fast[0], None, fast[1])
        _, values, number_text = _compose_values(doc, path)
        return Card(path, values, None, number_text)
    except CardError:
        raise
    except (RecursionError, MemoryError):
        raise CardError(path, "the YAML is too deeply nested or too large to read") from None
    except Exception as err:  # noqa: BLE001 - a reader bug must cost this one file, not the whole import
        raise CardError(path, f"{UNEXPECTED}: {type(err).__name__}: {err}") from None


#: How an unexpected exception while reading a card is worded (the fuzz tests assert it never shows).
UNEXPECTED = "Curator could not read this card (an internal error; please report it)"

_KINDS = (
    (stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"),
)


def file_kind(mode: int) -> str:
    """What a non-regular file is, in words ("a FIFO", "a folder", ...)."""
    return next((name for test, name in _KINDS if test(mode)), "not a plain file")


def read_bounded(path: str) -> tuple[bytes, os.stat_result]:
    """A regular file's bytes (at most MAX_FILE_BYTES) and its stat; raises CardError.

    The only way Curator reads a card file. Opened with O_NONBLOCK, so a FIFO named like a card
    cannot block the open; fstat then refuses anything but a regular file ("not a regular file (a
    FIFO)"), before a read could wait on a FIFO forever or drain /dev/zero into memory. At most
    MAX_FILE_BYTES + 1 bytes are read even from a regular file: one that grew after fstat is refused
    without reading the rest. The stat is taken before reading, so a change during the read shows as
    a new mtime at the next rescan. Links are followed (the policy for links is the caller's).
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags | getattr(os, "O_BINARY", 0))
    except OSError as err:
        raise CardError(path, f"cannot read the file: {err.strerror or err}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise CardError(path, f"not a regular file ({file_kind(st.st_mode)}); only regular files are cards")
        if st.st_size > MAX_FILE_BYTES:
            raise _too_big(path, st.st_size)
        chunks = []
        left = MAX_FILE_BYTES + 1
        want = st.st_size + 1  # the whole file and its end in one read, the usual case
        while left > 0:
            asked = min(left, want)
            chunk = os.read(fd, asked)
            chunks.append(chunk)
            left -= len(chunk)
            if not chunk or len(chunk) < asked and MAX_FILE_BYTES + 1 - left == st.st_size:
                break  # the end, or short of what was asked right at the size fstat gave: no read to find it
            want = 1 << 20
    except OSError as err:
        raise CardError(path, f"cannot read the file: {err.strerror or err}") from None
    finally:
        os.close(fd)
    raw = b"".join(chunks)
    if len(raw) > MAX_FILE_BYTES:
        raise _too_big(path, len(raw))  # it grew after fstat
    return raw, st


def read_card(path: str) -> tuple[Card, bytes]:
    """Read (:func:`read_bounded`) and parse a card file, with its FileState; raises CardError."""
    raw, st = read_bounded(path)
    card = parse_card(raw, path)
    card.state = FileState(len(raw), st.st_mtime_ns, hashlib.sha256(raw).hexdigest())
    return card, raw
