"""Read card files: decode, find the YAML mapping, compose it safely, build plain values."""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

try:  # libyaml is ~10x faster; the pure-Python loader gives the same nodes.
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - only without libyaml
    _Loader = yaml.SafeLoader

MAX_FILE_BYTES = 5 * 1024 * 1024
CARD_SUFFIXES = (".txt", ".md", ".markdown", ".yaml", ".yml")
#: Alias expansion allowed beyond the nodes actually written in the file. A real card has a few
#: hundred nodes and rarely any alias; 10,000 extra values keeps a card's JSON in the library well
#: under a megabyte while a "billion laughs" file is refused after a walk of its real nodes only.
MAX_ALIAS_EXPANSION = 10_000
#: Nesting depth (after alias expansion) allowed in a card; real cards need about five levels.
MAX_DEPTH = 100
#: Above this many possible levels, nesting is measured from parser events before composing,
#: because libyaml's composer recurses on the C stack and crashes the process near 30,000 levels
#: on an 8 MB stack (about 280 bytes a level); 1,000 levels fit even a 512 KB thread stack (macOS).
_SAFE_COMPOSE_DEPTH = 1_000

_BOM = "\ufeff"
_T = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = _T + "str", _T + "int", _T + "float", _T + "bool", _T + "null"
TIMESTAMP, BINARY, SEQ, MAP, MERGE, VALUE = (
    _T + "timestamp", _T + "binary", _T + "seq", _T + "map", _T + "merge", _T + "value")
_SCALAR_TAGS = frozenset((STR, INT, FLOAT, BOOL, NULL, TIMESTAMP, BINARY, MERGE, VALUE))
# The resolver's own patterns: a value carrying an explicit !!int/!!float/!!bool/!!timestamp tag
# must look like one, so construct() never meets a value it cannot convert.
_PATTERNS = {
    tag: regexp
    for entries in yaml.resolver.Resolver.yaml_implicit_resolvers.values()
    for tag, regexp in entries
    if tag in (INT, FLOAT, BOOL, TIMESTAMP)
}
_KIND_NAMES = {ScalarNode: "a single value", SequenceNode: "a list", MappingNode: "a mapping"}

_OPENER = re.compile(r"---[ \t]*(\r?\n|\Z)")
_DOC_MARKER = re.compile(r"^(?:---|\.\.\.)(?:[ \t\r\n]|\Z)", re.M)
_constructor = yaml.constructor.SafeConstructor()
_MERGE_KEY = object()  # stands for '<<' in duplicate checks, apart from a quoted "<<" key


class CardError(Exception):
    """A file that is not a readable card; ``line``/``column`` are 1-based file positions."""

    def __init__(self, path: str, message: str, line: int | None = None, column: int | None = None):
        self.path = path
        self.message = message
        self.line = line
        self.column = column
        super().__init__(str(self))

    def __str__(self) -> str:
        where = "".join(f":{n}" for n in (self.line, self.column) if n is not None)
        return f"{self.path}{where}: {self.message}"

    def __reduce__(self) -> tuple[Any, ...]:  # picklable across the importer's process pool
        return (CardError, (self.path, self.message, self.line, self.column))


@dataclass(frozen=True)
class FileState:
    """The bytes a card was read from."""

    size: int
    mtime_ns: int
    sha256: str


@dataclass
class Card:
    """A card's whole mapping as plain values, and the file state it was read from."""

    path: str
    data: dict[str, Any]
    state: FileState | None


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


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_T):] if tag.startswith(_T) else tag


class _Checker:
    """One walk over a composed graph: tags, keys, duplicates, depth and alias expansion.

    ``sizes`` memoises each node's expanded size (nodes reached through an alias are the same
    object), so the walk costs one visit per real node however often aliases repeat them.
    """

    def __init__(self, path: str, line_offset: int) -> None:
        self.path = path
        self.offset = line_offset
        self.sizes: dict[int, tuple[int, int]] = {}  # id(node) -> (expanded size, height)
        self.extra = 0  # nodes added by alias expansion so far

    def fail(self, node: Node, message: str) -> CardError:
        mark = node.start_mark
        return CardError(self.path, message, mark.line + self.offset + 1, mark.column + 1)

    def walk(self, node: Node, depth: int) -> tuple[int, int]:
        key = id(node)
        known = self.sizes.get(key)
        if known is not None:
            if known[0] < 0:
                raise self.fail(node, "an alias refers to the value that contains it (recursive alias)")
            # Reached again through an alias: everything below it counts once more.
            self.extra += known[0]
            if self.extra > MAX_ALIAS_EXPANSION:
                raise self.fail(node, f"aliases expand to more than {MAX_ALIAS_EXPANSION:,} extra "
                                      "values (an alias bomb?)")
            if depth + known[1] > MAX_DEPTH:
                raise self.fail(node, f"values are nested more than {MAX_DEPTH} levels deep")
            return known
        if depth > MAX_DEPTH:
            raise self.fail(node, f"values are nested more than {MAX_DEPTH} levels deep")
        tag = node.tag
        cls = type(node)
        if cls is ScalarNode:
            if tag not in _SCALAR_TAGS:
                raise self._bad_tag(node)
            pattern = _PATTERNS.get(tag)
            if pattern is not None and not pattern.match(node.value):
                raise self.fail(node, f"{node.value!r} is not a valid {_short_tag(tag)} value")
            result = (1, 0)
        else:
            self.sizes[key] = (-1, 0)  # in progress: meeting it again below means a cycle
            if cls is SequenceNode:
                if tag != SEQ:
                    raise self._bad_tag(node)
                size, height = 1, 0
                for item in node.value:
                    s, h = self.walk(item, depth + 1)
                    size += s
                    if h >= height:
                        height = h + 1
            else:
                if tag != MAP:
                    raise self._bad_tag(node)
                size, height = self.walk_mapping(node, depth)
            result = (size, height)
        self.sizes[key] = result
        return result

    def walk_mapping(self, node: MappingNode, depth: int) -> tuple[int, int]:
        size, height = 1, 0
        seen: dict[Any, Node] = {}
        for key_node, value_node in node.value:
            if type(key_node) is not ScalarNode:
                raise self.fail(key_node, f"a key must be a single value, not {_KIND_NAMES[type(key_node)]}")
            s, h = self.walk(key_node, depth + 1)
            if key_node.tag == MERGE:
                self.check_merge(value_node)
                name: Any = _MERGE_KEY
            else:
                name = key_node.value if key_node.tag == STR else _scalar(key_node)
            first = seen.get(name)
            if first is not None:
                raise self.fail(key_node, f"duplicate key {_show_key(key_node.value if name is _MERGE_KEY else name)} "
                                          f"(first on line {first.start_mark.line + self.offset + 1})")
            seen[name] = key_node
            size += s
            s, h = self.walk(value_node, depth + 1)
            size += s
            if h >= height:
                height = h + 1
        return size, height

    def check_merge(self, value: Node) -> None:
        items = value.value if type(value) is SequenceNode else [value]
        if not all(type(item) is MappingNode for item in items):
            raise self.fail(value, "a merge key '<<' needs a mapping or a list of mappings")

    def _bad_tag(self, node: Node) -> CardError:
        tag = node.tag
        if tag in _SCALAR_TAGS or tag in (SEQ, MAP):
            return self.fail(node, f"tag '{_short_tag(tag)}' does not fit {_KIND_NAMES[type(node)]}")
        return self.fail(node, f"tag '{_short_tag(tag)}' is not allowed")


def _show_key(key: Any) -> str:
    return repr(key) if isinstance(key, str) else f"'{key}'"


def _too_deep(region: str) -> yaml.Mark | None:
    """Where nesting first goes past MAX_DEPTH, from parser events (None: it does not, or the
    parser fails, which compose then reports)."""
    depth = 0
    try:
        for event in yaml.parse(region, Loader=_Loader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return event.start_mark
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        return None
    return None


def _guard_depth(region: str, path: str, offset: int) -> None:
    # Cheap upper bound: each block level needs a column of indentation or an indicator on its
    # line, and each flow level a bracket. Only unusual files pay for the exact event scan.
    if len(region) <= _SAFE_COMPOSE_DEPTH:  # every level takes at least one character
        return
    bound = region.count("[") + region.count("{") + max(map(len, region.split("\n"))) + 1
    if bound <= _SAFE_COMPOSE_DEPTH:
        return
    mark = _too_deep(region)
    if mark is not None:
        raise CardError(path, f"values are nested more than {MAX_DEPTH} levels deep",
                        mark.line + offset + 1, mark.column + 1)


def _compose_root(doc: Document, path: str) -> MappingNode | None:
    """Compose the region's single document and check its root is a mapping (no deeper checks)."""
    region = doc.yaml_text
    offset = doc.line_offset
    _guard_depth(region, path, offset)
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
    except Exception as err:  # PyYAML has raised odd errors (TypeError, ...) on odd input
        raise CardError(path, f"YAML error: {type(err).__name__}: {err}") from None
    if node is None:
        if doc.front_matter:
            return None
        raise CardError(path, "the file holds no YAML mapping (the document is empty)")
    if type(node) is not MappingNode:
        mark = node.start_mark
        raise CardError(path, f"the card is {_KIND_NAMES[type(node)]}, not a mapping of fields",
                        mark.line + offset + 1, mark.column + 1)
    return node


def _check(node: MappingNode, path: str, offset: int) -> None:
    try:
        _Checker(path, offset).walk(node, 0)
    except RecursionError:
        raise CardError(path, f"values are nested more than {MAX_DEPTH} levels deep") from None


def compose(doc: Document, path: str) -> MappingNode | None:
    """Compose the YAML region into checked nodes; raises CardError.

    Returns None for empty front matter (no YAML at all). Node marks are relative to the YAML
    region (0-based ``mark.line`` counts from ``doc.yaml_start``; add ``doc.line_offset`` for the
    file line); mark indexes are character offsets into ``doc.yaml_text``.
    """
    node = _compose_root(doc, path)
    if node is not None:
        _check(node, path, doc.line_offset)
    return node


def _several(path: str, doc: Document, region: str, first: Node) -> CardError:
    marker = _DOC_MARKER.search(region, first.end_mark.index)
    line = (region.count("\n", 0, marker.start()) if marker else first.end_mark.line) + doc.line_offset + 1
    return CardError(path, f"several YAML documents in one card (the second starts on line {line})", line, 1)


def _scalar(node: ScalarNode) -> Any:
    """The plain value of a checked scalar node (timestamps and binary stay text)."""
    tag = node.tag
    value = node.value
    if tag == STR or tag == TIMESTAMP or tag == BINARY or tag == VALUE or tag == MERGE:
        return value
    if tag == INT:
        if value.isdigit() and (value[0] != "0" or len(value) == 1):
            return int(value)
        return _constructor.construct_yaml_int(node)  # 0x, 0o-style 017, 1_000, 1:30, signs
    if tag == NULL:
        return None
    if tag == BOOL:
        return _constructor.bool_values[value.lower()]
    return _constructor.construct_yaml_float(node)


def _merged(node: MappingNode) -> dict[Any, Any]:
    """A mapping with its ``<<`` merges: the mapping's own keys win, then earlier merges."""
    own: dict[Any, Any] = {}
    merged: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        if key_node.tag == MERGE:
            sources = value_node.value if type(value_node) is SequenceNode else [value_node]
            for source in sources:
                for k, v in construct(source).items():
                    merged.setdefault(k, v)
        else:
            own[_scalar(key_node)] = construct(value_node)
    merged.update(own)
    return merged


def construct(node: Node) -> Any:
    """Plain Python values from a node checked by compose(); aliases give independent copies."""
    cls = type(node)
    if cls is ScalarNode:
        return _scalar(node)
    if cls is SequenceNode:
        return [construct(item) for item in node.value]
    result: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        if key_node.tag == MERGE:
            return _merged(node)
        key = key_node.value if key_node.tag == STR else _scalar(key_node)
        result[key] = construct(value_node)
    return result


# What may stand before an anchor's "&": a line start, YAML whitespace or line break, a flow indicator.
_BEFORE_ANCHOR = frozenset(" \t\r\n\x85\u2028\u2029[{,:")


def _may_have_anchor(region: str) -> bool:
    """False only when no ``&`` in the text can start an anchor (so there can be no alias either)."""
    # str.find runs in C; a regex trying every position was measured at a third of a compose.
    i = region.find("&")
    while i >= 0:
        if i == 0 or region[i - 1] in _BEFORE_ANCHOR:
            return True
        i = region.find("&", i + 1)
    return False


class _Fallback(Exception):
    """The one-pass builder met something it leaves to the full check (a merge key, a shared node)."""


class _TreeBuilder:
    """Check and construct in one pass, for a graph known to hold no alias (parse_card's fast path).

    It applies the same rules as _Checker except alias accounting; a node budget makes sure that a
    shared node the anchor pre-scan missed can never cost more than a walk of the real nodes.
    """

    def __init__(self, path: str, doc: Document) -> None:
        self.checker = _Checker(path, doc.line_offset)
        self.budget = len(doc.yaml_text) + 1  # every real node takes at least one character

    def build(self, node: Node, depth: int = 0) -> Any:
        if depth > MAX_DEPTH:
            raise self.checker.fail(node, f"values are nested more than {MAX_DEPTH} levels deep")
        cls = type(node)
        tag = node.tag
        if cls is ScalarNode:
            if tag == STR:
                return node.value
            if tag not in _SCALAR_TAGS:
                raise self.checker._bad_tag(node)
            pattern = _PATTERNS.get(tag)
            if pattern is not None and not pattern.match(node.value):
                raise self.checker.fail(node, f"{node.value!r} is not a valid {_short_tag(tag)} value")
            return _scalar(node)
        items = node.value
        self.budget -= len(items)
        if self.budget < 0:
            raise _Fallback
        if cls is SequenceNode:
            if tag != SEQ:
                raise self.checker._bad_tag(node)
            return [self.build(item, depth + 1) for item in items]
        if tag != MAP:
            raise self.checker._bad_tag(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in items:
            if type(key_node) is not ScalarNode or key_node.tag != STR:
                if type(key_node) is ScalarNode and key_node.tag == MERGE:
                    raise _Fallback
                key = self.build(key_node, depth + 1)
                if type(key_node) is not ScalarNode:  # the checker words this error
                    raise _Fallback
            else:
                key = key_node.value
            if key in result:
                self.checker.walk_mapping(node, depth)  # finds and words the duplicate
            result[key] = self.build(value_node, depth + 1)
        return result


def parse_card(raw: bytes, path: str) -> Card:
    """Parse a card from its bytes; raises CardError. ``state`` is None (no file was read)."""
    doc = split(raw, path)
    node = _compose_root(doc, path)
    if node is None:
        return Card(path, {}, None)
    if not _may_have_anchor(doc.yaml_text):
        try:
            return Card(path, _TreeBuilder(path, doc).build(node), None)
        except _Fallback:
            pass
    # Anchors (or a merge key): the full check, which counts alias expansion, then construct.
    _check(node, path, doc.line_offset)
    return Card(path, construct(node), None)


def read_card(path: str) -> tuple[Card, bytes]:
    """Read and parse a card file, with its FileState; raises CardError (also for OSError)."""
    try:
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())  # before reading: a change during the read shows as a new mtime
            if st.st_size > MAX_FILE_BYTES:
                raise _too_big(path, st.st_size)
            raw = f.read(MAX_FILE_BYTES + 1)  # the file may have grown since fstat
    except OSError as err:
        raise CardError(path, f"cannot read the file: {err.strerror or err}") from None
    card = parse_card(raw, path)  # refuses raw over the cap: the file grew after fstat
    card.state = FileState(len(raw), st.st_mtime_ns, hashlib.sha256(raw).hexdigest())
    return card, raw
