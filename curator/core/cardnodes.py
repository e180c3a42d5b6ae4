"""Check and build composed YAML nodes: tags, keys, duplicates, depth, alias expansion, plain values."""

from __future__ import annotations

import math
import operator
import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

# The digit bound lives with the field rules (which recognise such numbers without importing yaml).
from curator.core.fields import MAX_INT_DIGITS, int_digits, unfit_number
from curator.core.fields import NUMBER_START as _NUMBER_START

#: Alias expansion allowed beyond the nodes actually written in the file. A real card has a few
#: hundred nodes and rarely any alias; 10,000 extra values keeps a card's JSON in the library well
#: under a megabyte while a "billion laughs" file is refused after a walk of its real nodes only.
MAX_ALIAS_EXPANSION = 10_000
#: Nesting depth (after alias expansion) allowed in a card; real cards need about five levels.
MAX_DEPTH = 100
#: Above this many possible levels, nesting is measured from parser events before composing,
#: because libyaml's composer recurses on the C stack and crashes the process near 30,000 levels
#: on an 8 MB stack (about 280 bytes a level); 1,000 levels fit even a 512 KB thread stack (macOS).
SAFE_COMPOSE_DEPTH = 1_000

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
KIND_NAMES = {ScalarNode: "a single value", SequenceNode: "a list", MappingNode: "a mapping"}

_constructor = yaml.constructor.SafeConstructor()
_MERGE_KEY = object()  # stands for '<<' in duplicate checks, apart from a quoted "<<" key


class CardError(Exception):
    """A file that is not a readable card; ``line``/``column`` are 1-based file positions.

    Defined here, where most of them are raised, and re-exported by ``cards`` (its home for users).
    """

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


# ---------------------------------------------------------------------------------------------
# Tag resolution

# PyYAML's SafeLoader resolves every plain scalar in Python (a list lookup by first character,
# then regular expressions), called back from libyaml's C composer once per node: measured at a
# third of composing a card. The same table gives the same tags faster: after most first
# characters only a fixed set of words resolves (true/yes/null/~/<<: the bool, null, merge, value
# and yaml patterns are alternations of literal words), which one dict answers; only after a
# digit, a sign or a dot do the patterns (float, int, timestamp) run, their answers memoised
# (card files repeat them: small numbers, dates).
_IMPLICIT = yaml.resolver.Resolver.yaml_implicit_resolvers
_WILDCARD = tuple(_IMPLICIT.get(None, ()))
_BY_FIRST = {first: tuple(entries) + _WILDCARD for first, entries in _IMPLICIT.items() if first is not None}
_plain_tags: dict[str, str] = {}
_PLAIN_CACHE_MAX = 4096
#: A whole pattern that is an alternation of literal words, ``^(?:yes|Yes|...)$``.
_LITERAL_WORDS = re.compile(r"\^\(\?:((?:[^\\()\[\]|.*+?{}^$#]|\\[^A-Za-z0-9])*"
                            r"(?:\|(?:[^\\()\[\]|.*+?{}^$#]|\\[^A-Za-z0-9])*)*)\)\$")


def _literal_words(regexp: re.Pattern[str]) -> list[str] | None:
    """The words a resolver pattern matches when it is an alternation of literal words, else None.

    ``match`` with ``$`` also accepts each word followed by one line break (see _WORD_TAGS).
    """
    text = regexp.pattern
    if regexp.flags & re.VERBOSE:
        text = re.sub(r"\s+", "", text)  # verbose: whitespace is no part of the pattern (nor is '#' here)
    found = _LITERAL_WORDS.fullmatch(text)
    if found is None or "\\|" in text:
        return None
    return [re.sub(r"\\(.)", r"\1", word) for word in found[1].split("|")]


def _first_match(value: str) -> str:
    """PyYAML's own rule: the tag of the first pattern listed for ``value``'s first character that
    matches it (str when none does)."""
    resolvers = _BY_FIRST.get(value[:1], _WILDCARD)
    return next((t for t, regexp in resolvers if regexp.match(value)), STR)


def _combined(resolvers: tuple[tuple[str, re.Pattern[str]], ...]) -> tuple[re.Pattern[str], dict[int, str]] | None:
    """One pattern trying ``resolvers``' patterns in order, and the tag of each one's group.

    The first alternative that matches wins, as the first pattern that matches does: one regex call
    for a date instead of three (float, int, then timestamp). None when the flags differ.
    """
    if len({regexp.flags for _, regexp in resolvers}) != 1:
        return None
    tags: dict[int, str] = {}
    group = 1
    for tag, regexp in resolvers:
        tags[group] = tag
        group += regexp.groups + 1
    return re.compile("|".join(f"({regexp.pattern})" for _, regexp in resolvers), resolvers[0][1].flags), tags


def _pattern_tag(value: str) -> str:
    """:func:`_first_match` through the first character's combined pattern."""
    combined = _COMBINED.get(value[:1])
    if combined is None:
        return _first_match(value)
    found = combined[0].match(value)
    return STR if found is None else combined[1][found.lastindex or 0]


def _word_tags() -> tuple[frozenset[str], dict[str, str]]:
    """The first characters after which only literal words resolve, and every such word's tag."""
    firsts: set[str] = set()
    tags: dict[str, str] = {}
    if _WILDCARD:  # patterns tried after every first character: nothing is decided by words alone
        return frozenset(), tags
    for first, resolvers in _BY_FIRST.items():
        words = [_literal_words(regexp) for _, regexp in resolvers]
        if any(w is None for w in words):
            continue
        firsts.add(first)
        for word in (w for ws in words if ws for w in ws):
            for candidate in (word, word + "\n"):
                if candidate[:1] == first and _first_match(candidate) != STR:
                    tags[candidate] = _first_match(candidate)
    return frozenset(firsts), tags


#: First characters after which a plain scalar is a str unless it is one of _WORD_TAGS' words.
_WORD_FIRSTS, _WORD_TAGS = _word_tags()
#: First characters whose patterns must run (digits, signs, the dot); others give a str outright.
_PATTERN_FIRSTS = frozenset(_BY_FIRST) - _WORD_FIRSTS
_WORD, _PATTERN = 1, 2
#: How a plain scalar is resolved, by its first character (absent: a str, unless there are wildcards).
_FIRST_KIND = {**{c: _WORD for c in _WORD_FIRSTS}, **{c: _PATTERN for c in _PATTERN_FIRSTS}}
_OTHER_KIND = _PATTERN if _WILDCARD else 0
_COMBINED = {c: found for c in _PATTERN_FIRSTS if (found := _combined(_BY_FIRST[c])) is not None}


def plain_tag(value: str) -> str:
    """The tag PyYAML's SafeLoader gives the plain (unquoted, untagged) scalar ``value``."""
    kind = _FIRST_KIND.get(value[:1], _OTHER_KIND)
    if kind == _WORD:
        return _WORD_TAGS.get(value, STR)
    if not kind:
        return STR
    tag = _plain_tags.get(value)
    if tag is None:
        tag = _pattern_tag(value)
        if len(_plain_tags) >= _PLAIN_CACHE_MAX:
            _plain_tags.clear()  # bounded: unique values (titles, long numbers) must not pile up
        _plain_tags[value] = tag
    return tag


class _FastResolver:
    """Mixin over a SafeLoader: the same tags as its Resolver, without its per-node overhead."""

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        # Resolver.resolve, specialised to no path resolvers (SafeLoader has none): a plain
        # scalar goes through the implicit table, any other scalar is a string. plain_tag's
        # body, inlined: this runs once per node of every card read.
        if kind is ScalarNode:
            if not implicit[0]:
                return STR
            first = _FIRST_KIND.get(value[:1], _OTHER_KIND)
            if first == _WORD:
                return _WORD_TAGS.get(value, STR)
            return plain_tag(value) if first else STR
        return SEQ if kind is SequenceNode else MAP

    # Called around every node by both composers; with no path resolvers there is nothing to track. C
    # functions that ignore what they get (a builtin is no descriptor, so self is not passed): ~5% of a
    # compose, measured, against the Python methods that did nothing.
    descend_resolver = staticmethod(operator.is_)  # (current_node, current_index) -> a bool, dropped
    ascend_resolver = staticmethod(tuple)  # () -> the empty tuple, dropped


try:  # libyaml is ~10x faster; the pure-Python loader gives the same nodes.
    _Base: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - only without libyaml
    _Base = yaml.SafeLoader
assert not _Base.yaml_path_resolvers, "the fast resolver assumes no path resolvers"  # type: ignore[attr-defined]
#: The loader cards are composed with: SafeLoader's (libyaml's when present) with a faster resolve.
Loader: type = type("CardLoader", (_FastResolver, _Base), {})


# ---------------------------------------------------------------------------------------------
# Checks


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_T):] if tag.startswith(_T) else tag


class Checker:
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
                raise self.fail(key_node, f"a key must be a single value, not {KIND_NAMES[type(key_node)]}")
            s, h = self.walk(key_node, depth + 1)
            if key_node.tag == MERGE:
                self.check_merge(value_node)
                name: Any = _MERGE_KEY
            else:
                name = key_node.value if key_node.tag == STR else _scalar(key_node)
            first = seen.get(name)
            if first is not None:
                shown = _show_key(key_node.value if name is _MERGE_KEY else name)
                raise self.fail(key_node, f"duplicate key {shown} "
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
            return self.fail(node, f"tag '{_short_tag(tag)}' does not fit {KIND_NAMES[type(node)]}")
        return self.fail(node, f"tag '{_short_tag(tag)}' is not allowed")


def _show_key(key: Any) -> str:
    return repr(key) if isinstance(key, str) else f"'{key}'"


def _too_deep(region: str, loader: type) -> yaml.Mark | None:
    """Where nesting first goes past MAX_DEPTH, from parser events (None: it does not, or the
    parser fails, which compose then reports)."""
    depth = 0
    try:
        for event in yaml.parse(region, Loader=loader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return event.start_mark
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError as err:
        # libyaml >= 0.2.6 gives up at its own depth limit while scanning ahead, before the events
        # reach ours: find our mark with the pure-Python parser (only such unusual files pay).
        if "maximum nesting depth" in str(err) and loader is not yaml.SafeLoader:
            return _too_deep(region, yaml.SafeLoader)
        return None
    return None


def guard_depth(region: str, path: str, offset: int, loader: type = Loader) -> None:
    """Raise CardError when ``region`` nests deeper than MAX_DEPTH, before a composer could overflow.

    ``offset`` is the region's first file line (0-based); ``loader`` parses the events when needed.
    """
    # Cheap upper bound: each block level needs a column of indentation or an indicator on its
    # line, and each flow level a bracket. Only unusual files pay for the exact event scan.
    if len(region) <= SAFE_COMPOSE_DEPTH:  # every level takes at least one character
        return
    bound = region.count("[") + region.count("{") + max(map(len, region.split("\n"))) + 1
    if bound <= SAFE_COMPOSE_DEPTH:
        return
    mark = _too_deep(region, loader)
    if mark is not None:
        raise CardError(path, f"values are nested more than {MAX_DEPTH} levels deep",
                        mark.line + offset + 1, mark.column + 1)


def check(node: MappingNode, path: str, offset: int) -> None:
    """The full check of a composed graph (counts alias expansion); raises CardError."""
    try:
        Checker(path, offset).walk(node, 0)
    except RecursionError:
        raise CardError(path, f"values are nested more than {MAX_DEPTH} levels deep") from None



def _int(node: ScalarNode) -> int | str:
    value = node.value
    if value.isdigit() and (value[0] != "0" or len(value) == 1) and len(value) <= MAX_INT_DIGITS:
        return int(value)
    if int_digits(value) > MAX_INT_DIGITS:
        return value  # kept as the file's text; fields reports it ("too long to be a number")
    try:
        return _constructor.construct_yaml_int(node)  # 0x, 0o-style 017, 1_000, 1:30, signs
    except ValueError:  # no digits after all (0b_, 0x_: YAML's pattern allows them), or past the digit limit
        return value


def _float(node: ScalarNode) -> float | str:
    number = _constructor.construct_yaml_float(node)
    # .nan, .inf and overflowing literals (1e400) have no JSON form, so neither the library nor a
    # comparison could keep them as they are: the value is the file's own text, as for timestamps.
    return number if math.isfinite(number) else node.value


def _scalar(node: ScalarNode) -> Any:
    """The plain value of a checked scalar node.

    Timestamps and binary stay text; so do numbers no JSON value can hold exactly (non-finite floats,
    whole numbers of more than MAX_INT_DIGITS digits): parse results are always JSON-safe.
    """
    tag = node.tag
    value = node.value
    if tag == STR or tag == TIMESTAMP or tag == BINARY or tag == VALUE or tag == MERGE:
        return value
    if tag == INT:
        return _int(node)
    if tag == NULL:
        return None
    if tag == BOOL:
        return _constructor.bool_values[value.lower()]
    return _float(node)


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


def may_have_anchor(region: str) -> bool:
    """False only when no ``&`` in the text can start an anchor (so there can be no alias either)."""
    # str.find runs in C; a regex trying every position was measured at a third of a compose.
    i = region.find("&")
    while i >= 0:
        if i == 0 or region[i - 1] in _BEFORE_ANCHOR:
            return True
        i = region.find("&", i + 1)
    return False


def may_have_tag(region: str) -> bool:
    """False only when no ``!`` in the text can start a tag (``!!int``, ``!local``, ``!<...>``), so
    every node's tag is the resolver's."""
    i = region.find("!")
    while i >= 0:
        if i == 0 or region[i - 1] in _BEFORE_ANCHOR:
            return True
        i = region.find("!", i + 1)
    return False


class Fallback(Exception):
    """The one-pass builder met something it leaves to the full check (a merge key, a shared node)."""


class TreeBuilder:
    """Check and construct in one pass, for a graph known to hold no alias (parse_card's fast path).

    It applies the same rules as Checker except alias accounting; a node budget makes sure that a
    shared node the anchor pre-scan missed can never cost more than a walk of the real nodes.

    ``tags``: whether the text may hold explicit tags (``!!int 12``). When it cannot (see
    :func:`may_have_tag`), every tag came from the resolver, whose own pattern already matched the
    value, so the pattern check is skipped. ``number_text`` ends up True when some text built (a
    value, or a key) is one ``fields.unfit_number`` recognises: when False, the problem check need
    not look for them (see ``fields.summarize``).
    """

    def __init__(self, path: str, line_offset: int, text_length: int, *, tags: bool = True) -> None:
        self.checker = Checker(path, line_offset)
        self.budget = text_length + 1  # every real node takes at least one character
        self.tags = tags
        self.number_text = False

    def build(self, node: Node, depth: int = 0) -> Any:
        """The plain value of ``node`` (checked); CardError, or Fallback for the full check."""
        if depth > MAX_DEPTH:
            raise self.checker.fail(node, f"values are nested more than {MAX_DEPTH} levels deep")
        cls = type(node)
        tag = node.tag
        if cls is ScalarNode:
            if tag == STR:
                value = node.value
                if value[:1] in _NUMBER_START and unfit_number(value):
                    self.number_text = True
                return value
            return self.scalar(node, tag)
        items = node.value
        self.budget -= len(items)
        if self.budget < 0:
            raise Fallback
        inner = depth + 1
        # Below: a str scalar (most values) is taken in the loop, without a call of its own; anything
        # else, or anything past the depth limit (build words that error), goes through build.
        quick = inner <= MAX_DEPTH
        if cls is SequenceNode:
            if tag != SEQ:
                raise self.checker._bad_tag(node)
            out: list[Any] = []
            for item in items:
                if quick and type(item) is ScalarNode and item.tag == STR:
                    value = item.value
                    if value[:1] in _NUMBER_START and unfit_number(value):
                        self.number_text = True
                    out.append(value)
                else:
                    out.append(self.build(item, inner))
            return out
        if tag != MAP:
            raise self.checker._bad_tag(node)
        result: dict[Any, Any] = {}
        for key_node, value_node in items:
            if type(key_node) is not ScalarNode or key_node.tag != STR:
                if type(key_node) is ScalarNode and key_node.tag == MERGE:
                    raise Fallback
                key = self.build(key_node, inner)
                if type(key_node) is not ScalarNode:  # the checker words this error
                    raise Fallback
            else:
                key = key_node.value
            if key in result:
                self.checker.walk_mapping(node, depth)  # finds and words the duplicate
            if quick and type(value_node) is ScalarNode and value_node.tag == STR:
                value = value_node.value
                if value[:1] in _NUMBER_START and unfit_number(value):
                    self.number_text = True
                result[key] = value
            else:
                result[key] = self.build(value_node, inner)
        return result

    def scalar(self, node: ScalarNode, tag: str) -> Any:
        """A checked scalar that is not a str: its tag must fit and (when explicit) its value too."""
        if tag not in _SCALAR_TAGS:
            raise self.checker._bad_tag(node)
        if self.tags:
            pattern = _PATTERNS.get(tag)
            if pattern is not None and not pattern.match(node.value):
                raise self.checker.fail(node, f"{node.value!r} is not a valid {_short_tag(tag)} value")
        value = _scalar(node)
        if type(value) is str and value[:1] in _NUMBER_START and unfit_number(value):
            self.number_text = True  # a number kept as text (too long, not finite)
        return value


def built_values(node: MappingNode, path: str, line_offset: int, region: str) -> tuple[dict[Any, Any], bool]:
    """Check a composed root and build its plain values; raises CardError.

    Returns the values and whether some text in them might be one ``fields.unfit_number`` recognises
    (False only when the one-pass builder saw that none is). ``region`` is the text it was composed from.
    One pass when no ``&`` in it can start an anchor (measured: 1.3x a bare compose); otherwise the
    full check, which counts alias expansion, then a construct.
    """
    if not may_have_anchor(region):
        try:
            builder = TreeBuilder(path, line_offset, len(region), tags=may_have_tag(region))
            result: dict[Any, Any] = builder.build(node)
            return result, builder.number_text
        except Fallback:
            pass
    # Anchors (or a merge key): the full check, which counts alias expansion, then construct.
    check(node, path, line_offset)
    result = construct(node)
    return result, True


def checked_values(node: MappingNode, path: str, line_offset: int, region: str) -> dict[Any, Any]:
    """:func:`built_values`' values alone."""
    return built_values(node, path, line_offset, region)[0]


# ---------------------------------------------------------------------------------------------
# The fast path: values straight from libyaml's events (curator/core/_fastcard.c)

#: What the fast path's resolve() gives for a plain scalar that stays a string (and, in its word
#: table, a word whose tag no card may hold, which ends the fast path).
_STR_TAG = object()


#: What :func:`_resolved` gave, by text (the C builder looks here first: cards repeat their numbers).
_resolved_values: dict[str, Any] = {}


def _resolved(text: str) -> Any:
    """The value TreeBuilder builds for the plain scalar ``text`` after a digit, a sign or a dot
    (kept in ``_resolved_values``, as plain_tag keeps tags: bounded, cleared when full)."""
    tag = plain_tag(text)
    if tag == STR:
        value: Any = _STR_TAG
    elif tag == TIMESTAMP:
        return text  # kept as its text (as _scalar keeps it), and too varied to be worth keeping here
    else:
        value = _scalar(ScalarNode(tag, text))
    if len(_resolved_values) >= _PLAIN_CACHE_MAX:
        _resolved_values.clear()
    _resolved_values[text] = value
    return value


def _fast_words() -> dict[str, Any] | None:
    """Each literal word's value as TreeBuilder builds it (None when a tag is one this does not know)."""
    words: dict[str, Any] = {}
    for word, tag in _WORD_TAGS.items():
        if word.endswith("\n"):
            continue  # a plain scalar never ends with a line break
        if tag == BOOL:
            words[word] = _constructor.bool_values[word.lower()]
        elif tag == NULL:
            words[word] = None
        elif tag == MERGE:
            words[word] = _MERGE_KEY
        elif tag == VALUE:
            words[word] = word
        elif tag in _SCALAR_TAGS:
            return None  # a word of another scalar tag: not what this table was written for
        else:
            words[word] = _STR_TAG  # a tag cards refuse ("!", "&", "*" resolve to !!yaml)
    return words


#: The libyaml releases the C builder may link when PyYAML's wheel has another of them: what changed
#: between them does not reach the documents it builds. 0.2.6 (PyYAML 6.0.4's) added a nesting limit of
#: 1,000 levels (the builder stops at MAX_DEPTH) and parses an explicit key '?' in a flow sequence
#: followed by ']' differently (the builder leaves any mapping in a flow sequence of a text holding a
#: '?' to the composer). Debian 12's libyaml is 0.2.5.
FAST_LIBYAML = frozenset({(0, 2, 5), (0, 2, 6)})


def _fast_module() -> Any:
    """The C builder, configured with this module's tables; None when it is absent or does not fit.

    It is used only when it links the libyaml PyYAML's own loader does, or one of FAST_LIBYAML beside
    another (so the same documents parse to the same events), and the resolver table has the shape it
    was written for (no wildcard patterns, the empty scalar a literal word, ASCII first characters).
    """
    try:
        from curator.core import _fastcard  # type: ignore[attr-defined]
    except ImportError:
        return None
    try:
        from yaml import _yaml as pyyaml_c
    except ImportError:  # pragma: no cover - PyYAML without libyaml: the pure-Python parser differs
        return None
    versions = {tuple(_fastcard.libyaml_version()), tuple(pyyaml_c.get_version())}
    if len(versions) > 1 and not versions <= FAST_LIBYAML:
        return None
    words = _fast_words()
    firsts = [c for c in _WORD_FIRSTS if c]
    if words is None or _WILDCARD or "" not in _WORD_FIRSTS or not all(c.isascii() for c in firsts):
        return None
    _fastcard.configure(
        word_firsts="".join(firsts), words=words, pattern_firsts="".join(sorted(_PATTERN_FIRSTS)),
        resolve=_resolved, resolved=_resolved_values, str_tag=_STR_TAG, number_start="".join(sorted(_NUMBER_START)),
        unfit=unfit_number, merge=_MERGE_KEY, max_depth=MAX_DEPTH,
    )  # fmt: skip
    return _fastcard


_fast = _fast_module()
#: Whether :func:`fast_values` can build values (the C module is built and fits this PyYAML).
FAST = _fast is not None


def fast_values(region: str) -> tuple[dict[Any, Any], bool] | None:
    """:func:`built_values` of ``region`` without composing nodes, for the common card; else None.

    The values and ``number_text`` are those the composer's path gives (tests/core/test_fastcard.py
    holds the two equal on real files, generated YAML and the hardening suite's odd files). None for
    anything that path must read itself: an error of any kind, anchors, aliases, tags, directives,
    merge keys, complex or duplicate keys, several documents, a root that is no mapping, nesting
    past MAX_DEPTH, or no C module.
    """
    if _fast is None:
        return None
    result: tuple[dict[Any, Any], bool] | None = _fast.build(region)
    return result
