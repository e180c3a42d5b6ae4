"""Minimal textual edits to a composed YAML mapping: new values spliced in at the nodes' marks.

The patcher works on the decoded YAML region of a card (``str``) and the nodes composed from it;
node marks are character offsets into that region. Every change becomes an edit
``(start, end, replacement)`` on the original text, so whatever no edit covers stays identical.
The rules (see ``docs/internals.md``, writeback.py):

* a changed scalar is replaced in place (its quoting style kept when the new value allows it,
  a trailing comment on its line kept); a block scalar (``|``/``>``) stays one where possible;
* a block mapping changes only its changed entries; a removed key loses its lines; a new key is
  one more entry after a sensible neighbour (the card-format field order) or at the end;
* a block sequence is cut into per-item chunks (the dash line up to the next dash line); unchanged
  items keep their chunk verbatim, even when moved, edited items are patched inside their chunk,
  new items are emitted in the sequence's own indentation;
* a flow collection (``[a, b]``, ``{k: v}``) is rebuilt from its unchanged elements' original text.

Shapes it will not guess at (a top-level flow mapping, anchors or aliases on an edited value,
merge keys) raise :class:`PatchError`; the caller re-parses the result anyway.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from difflib import SequenceMatcher
from typing import Any, Final

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from .cardnodes import BOOL, MERGE, TIMESTAMP
from .yamlemit import (  # PatchError is re-exported: writeback catches it from here
    NO_SCHEMA,
    BlockEmitter,
    PatchError,
    block_ok,
    flow_text,
    is_scalar,
    key_text,
    ordered,
    scalar_text,
)


class _Delete:
    """The type of :data:`DELETE`; one instance, with a readable repr."""

    def __repr__(self) -> str:
        return "DELETE"


#: As a change value: remove the key.
DELETE: Final = _Delete()

# Where a new key goes: after the last present key that comes before it in the card format's
# field order (``heat`` after ``quality``, ``published`` after ``heat``), else before the first
# present key that follows it, else at the end. ``items`` describes each element of a list.
_IMAGE: dict[str, Any] = {"keys": ("url", "width", "height", "title")}
_PROVIDER: dict[str, Any] = {"keys": ("name", "domain")}
_RELATED: dict[str, Any] = {
    "keys": ("title", "excerpt", "publishedDateTime", "sourceUrl", "ampUrl", "cdnAmpUrl", "type",
             "provider", "quality", "images"),
    "children": {"provider": _PROVIDER, "images": {"items": _IMAGE}},
}
CARD_SCHEMA: dict[str, Any] = {
    "keys": ("category", "title", "excerpt", "publishedDateTime", "sourceUrl", "ampUrl", "cdnAmpUrl",
             "type", "quality", "heat", "published", "provider", "topics", "images", "related", "secured"),
    "children": {"provider": _PROVIDER, "images": {"items": _IMAGE}, "related": {"items": _RELATED}},
}
_DASH = re.compile(r"( *)- +")
_BLOCK_HEADER = re.compile(r"([|>])([-+1-9]{0,2})([ \t]*(?:#.*)?)$")

Edit = tuple[int, int, str]


def same(a: Any, b: Any) -> bool:
    """Equality that also compares types (``True`` is not ``1``, ``1`` is not ``1.0``)."""
    if a is b:  # unchanged values are the very same objects: the common case, made cheap
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, float) and math.isnan(a):  # NaN equals no value, not even itself
        return math.isnan(b)
    return bool(a == b)


def _canon(value: Any) -> Any:
    """A hashable stand-in for a plain value, equal exactly when :func:`same` holds."""
    if isinstance(value, dict):
        return ("d", frozenset((repr(k), _canon(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("l", tuple(_canon(v) for v in value))
    return (type(value).__name__, repr(value) if isinstance(value, float) else value)



def apply_edits(text: str, edits: list[Edit], lo: int = 0, hi: int | None = None) -> str:
    """``text[lo:hi]`` with non-overlapping edits applied (insertions at one spot keep their order)."""
    hi = len(text) if hi is None else hi
    out = []
    pos = lo
    for start, end, new in sorted(edits, key=lambda e: (e[0], e[1])):
        if start < pos or end > hi or start < lo:
            raise PatchError("internal error: overlapping edits")  # a bug, never a user's fault
        out.append(text[pos:start])
        out.append(new)
        pos = end
    out.append(text[pos:hi])
    return "".join(out)


# ---------------------------------------------------------------------------------------------
# The patcher


class _Patcher(BlockEmitter):
    """Edits against one region of text and the nodes composed from it."""

    def __init__(self, text: str, root: MappingNode | None, newline: str) -> None:
        self.text = text
        self.nl = newline
        self.root = root
        # No '&' in the text means no anchor, hence no alias: skip the walk (most cards).
        self.shared = _shared_nodes(root) if "&" in text else set()
        self._style: tuple[int, int, bool] | None = None

    @property
    def style(self) -> tuple[int, int, bool]:
        """(map indent, sequence indent, prefer flow lists) of the file, for emitting new blocks.

        Map indent: child keys' column minus the parent key's; sequence indent: dashes' column
        minus the parent key's; flow lists are preferred when the file has flow lists only.
        Found on first use, since most patches change scalars only.
        """
        if self._style is None:
            self._style = (2, 2, False) if self.root is None else self._detect_style(self.root)
        return self._style

    # -- text positions -----------------------------------------------------------------------

    def line_start(self, pos: int) -> int:
        return self.text.rfind("\n", 0, pos) + 1

    def line_end(self, pos: int) -> int:
        """The position just after the line break ending the line that holds ``pos``."""
        end = self.text.find("\n", pos)
        return len(self.text) if end < 0 else end + 1

    def starts_line(self, node: Node) -> bool:
        start = node.start_mark.index
        return not self.text[self.line_start(start):start].strip(" ")

    def content_end(self, node: Node) -> int:
        """Where a value's own text ends: trailing comments and blank lines are not part of it."""
        if isinstance(node, ScalarNode):
            if node.style in ("|", ">"):
                start = node.start_mark.index
                return start + len(self.text[start:node.end_mark.index].rstrip(" \t\r\n"))
            return node.end_mark.index
        if node.flow_style or not node.value:
            return node.end_mark.index
        last = node.value[-1]
        return self.content_end(last[1] if isinstance(node, MappingNode) else last)

    def entry_end(self, value: Node) -> int:
        return self.line_end(self.content_end(value))

    def dash_before(self, item: Node) -> int | None:
        """The index of the ``-`` introducing a block sequence item that starts on the dash's line."""
        start = item.start_mark.index
        line = self.line_start(start)
        match = _DASH.fullmatch(self.text, line, start)
        return None if match is None else line + len(match.group(1))

    def _detect_style(self, root: MappingNode) -> tuple[int, int, bool]:
        map_indent = seq_indent = 2
        found_map = found_seq = found_flow = False
        stack: list[MappingNode] = [root]
        while stack and not (found_map and found_seq):
            mapping = stack.pop(0)
            for key, value in mapping.value:
                col = key.start_mark.column
                if isinstance(value, MappingNode) and not value.flow_style and value.value:
                    if not found_map:
                        map_indent = max(1, value.value[0][0].start_mark.column - col)
                        found_map = True
                    stack.append(value)
                elif isinstance(value, SequenceNode) and value.value:
                    if value.flow_style:
                        found_flow = True
                        continue
                    dash = self.dash_before(value.value[0])
                    if dash is not None and not found_seq:
                        seq_indent = max(0, dash - self.line_start(dash) - col)
                        found_seq = True
                    stack.extend(v for v in value.value if isinstance(v, MappingNode) and not v.flow_style)
        return map_indent, seq_indent, found_flow and not found_seq

    def check_editable(self, node: Node) -> None:
        if id(node) in self.shared:
            mark = node.start_mark
            raise PatchError(f"the value on line {mark.line + 1} is shared through an anchor/alias; "
                             "edit it by hand")

    # -- emitting new text --------------------------------------------------------------------


    # -- patching -----------------------------------------------------------------------------

    def value(self, node: Node, old: Any, new: Any, col: int, schema: Mapping[str, Any],
              allow_timestamp: bool = False) -> list[Edit] | None:
        """Edits turning ``node`` (holding ``old``) into ``new``; None when it must be re-emitted.

        ``col`` is the indentation of the construct holding the value (its key's column, or the
        dash's column for a list item).
        """
        if same(old, new):
            return []
        self.check_editable(node)
        if isinstance(node, ScalarNode):
            if isinstance(new, (dict, list)):
                return None
            return [self.scalar(node, new, col, allow_timestamp)]
        if isinstance(node, MappingNode) and isinstance(new, dict):
            if node.flow_style:
                return self.flow_mapping(node, old, new)
            return self.mapping(node, old, new, schema)
        if isinstance(node, SequenceNode) and isinstance(new, list):
            if node.flow_style:
                return self.flow_sequence(node, old, new)
            return self.block_sequence(node, old, new, schema.get("items", NO_SCHEMA))
        return None

    def scalar(self, node: ScalarNode, new: Any, col: int, allow_timestamp: bool) -> Edit:
        start, end = node.start_mark.index, node.end_mark.index
        style = node.style or ""
        if style in ("|", ">"):
            end = self.entry_end(node)
            if isinstance(new, str):
                block = self.block_scalar(node, new, col)
                if block is not None:
                    return (start, end, block)
            return (start, end, scalar_text(new) + self.nl)
        old_text = self.text[start:end]
        timestamp = allow_timestamp or (style == "" and node.tag == TIMESTAMP)
        text = scalar_text(new, style, old_text=old_text if node.tag == BOOL else None,
                           allow_timestamp=timestamp)
        if start == end:  # an empty value ("key:"): its mark sits right after the colon
            text = " " + text
        return (start, end, text)

    def block_scalar(self, node: ScalarNode, value: str, parent_col: int) -> str | None:
        """``value`` as a block scalar in the old one's style and indentation, or None if it can't be."""
        start = node.start_mark.index
        header_end = self.line_end(start)
        match = _BLOCK_HEADER.match(self.text[start:header_end].rstrip("\r\n"))
        # Trailing blank lines would need "keep" chomping, which would swallow the blank lines
        # that follow the old value in the file; let such values (rare) go double-quoted. So
        # must a value of line breaks only ("\n"): a block scalar with no content reads as "".
        # block_ok refuses the other line breaks (\r, \x85, \u2028, \u2029) and unprintable text.
        if match is None or not value.strip("\n") or value.endswith("\n\n") or not block_ok(value):
            return None
        style, _, comment = match.groups()
        body = self.text[header_end:self.entry_end(node)]
        indent = next((len(line) - len(line.lstrip(" ")) for line in body.split("\n") if line.strip()),
                      parent_col + self.style[0])
        chomp = "" if value.endswith("\n") else "-"
        content = value[:-1] if chomp == "" else value
        if style == ">" and (content.startswith("\n") or re.search(r"(^|\n)[ \t]|[ \t](\n|$)", content)):
            # More-indented lines fold differently, and blanks at a line's end sit where folding
            # happens: literal keeps the value exactly.
            style = "|"
        if style == ">":
            content = re.sub(r"\n+", lambda m: m.group() + "\n", content)
        hint = ""
        if content[:1] in (" ", "\n", "\t"):  # a reader could not find the indentation: say it (a tab
            # where it looks for it is an error to libyaml)
            if not 1 <= indent - parent_col <= 9:
                return None
            hint = str(indent - parent_col)
        pad = " " * indent
        lines = [pad + line if line else "" for line in content.split("\n")]
        return f"{style}{hint}{chomp}{comment}{self.nl}" + self.nl.join(lines) + self.nl

    def mapping(self, node: MappingNode, old: dict[Any, Any], new: dict[Any, Any],
                schema: Mapping[str, Any]) -> list[Edit] | None:
        entries = node.value
        if any(key.tag == MERGE for key, _ in entries):
            raise PatchError(f"the mapping on line {node.start_mark.line + 1} uses a merge key '<<'; "
                             "edit it by hand")
        if len(entries) != len(old):
            raise PatchError(f"the mapping on line {node.start_mark.line + 1} has an unusual shape")
        if not entries:
            return None
        col = entries[0][0].start_mark.column
        children = schema.get("children", {})
        edits: list[Edit] = []
        values = {key: value_node for (_, value_node), key in zip(entries, old)}

        def end(key: Any) -> int:
            """Where an entry's text ends: found only for the entries an edit touches (a card's mapping
            holds some twenty, and an edit changes one or two)."""
            return self.entry_end(values[key])

        for (key_node, value_node), key in zip(entries, old):
            if key not in new:
                if not self.starts_line(key_node):
                    return None  # the first key of a list item shares the dash's line
                self.check_editable(value_node)
                edits.append((self.line_start(key_node.start_mark.index), end(key), ""))
            elif not same(old[key], new[key]):
                child = children.get(key, NO_SCHEMA)
                sub = self.value(value_node, old[key], new[key], col, child, key == "publishedDateTime")
                if sub is None:
                    old_key = self.text[key_node.start_mark.index:key_node.end_mark.index]
                    sub = [(key_node.start_mark.index, end(key),
                            self.entry_text(old_key, new[key], col, child))]
                edits.extend(sub)
        for key, value in new.items():
            if key not in old:
                pos = self.insert_position(entries, list(old), key, schema, end)
                text = " " * col + self.entry_text(key_text(key), value, col, children.get(key, NO_SCHEMA))
                edits.append((pos, pos, text))
        return edits

    def insert_position(self, entries: list[tuple[Node, Node]], keys: list[Any], key: Any,
                        schema: Mapping[str, Any], end: Callable[[Any], int]) -> int:
        order = schema.get("keys", ())
        if key in order:
            rank = order.index(key)
            before = [i for i, k in enumerate(keys) if k in order and order.index(k) < rank]
            if before:
                return end(keys[before[-1]])
            after = [i for i, k in enumerate(keys) if k in order and order.index(k) > rank]
            if after and self.starts_line(entries[after[0]][0]):
                return self.line_start(entries[after[0]][0].start_mark.index)
        return end(keys[-1])

    def block_sequence(self, node: SequenceNode, old: list[Any], new: list[Any],
                       schema: Mapping[str, Any]) -> list[Edit] | None:
        items = node.value
        if not new or not items or len(items) != len(old):
            return None
        dashes = [self.dash_before(item) for item in items]
        if None in dashes:
            return None
        starts = [self.line_start(d) for d in dashes]  # type: ignore[arg-type]
        ends = starts[1:] + [self.entry_end(items[-1])]
        dash_col = dashes[0] - starts[0]  # type: ignore[operator]
        gap = items[0].start_mark.index - dashes[0]  # type: ignore[operator]
        plan = _match_items(old, new)
        if all(kind == "keep" and i == j for j, (kind, i) in enumerate(plan)) and len(old) == len(new):
            return []
        pieces = []
        for j, (kind, i) in enumerate(plan):
            if kind == "edit":
                sub = self.value(items[i], old[i], new[j], dash_col, schema)
                if sub is not None:
                    pieces.append(apply_edits(self.text, sub, starts[i], ends[i]))
                    continue
            elif kind == "keep":
                pieces.append(self.text[starts[i]:ends[i]])
                continue
            body = self.item_text(new[j], dash_col + gap, schema, new=kind == "new")
            pieces.append(f"{' ' * dash_col}-{' ' * (gap - 1)}{body}{self.nl}")
        return [(starts[0], ends[-1], "".join(pieces))]

    def flow_sequence(self, node: SequenceNode, old: list[Any], new: list[Any]) -> list[Edit]:
        items = node.value
        opening = self.text.index("[", node.start_mark.index)
        closing = node.end_mark.index - 1
        head, tail, sep = self._flow_frame(items, opening, closing)
        pieces = []
        for j, (kind, i) in enumerate(_match_items(old, new)):
            if kind == "keep":
                pieces.append(self.text[items[i].start_mark.index:items[i].end_mark.index])
            elif kind == "edit" and isinstance(items[i], ScalarNode) and is_scalar(new[j]) \
                    and items[i].style not in ("|", ">"):
                self.check_editable(items[i])
                style = items[i].style or ""
                pieces.append(scalar_text(new[j], style, flow=True))
            else:
                pieces.append(flow_text(new[j]))
        inner = head + sep.join(pieces) + tail if pieces else ""
        return [(opening + 1, closing, inner)]

    def flow_mapping(self, node: MappingNode, old: dict[Any, Any], new: dict[Any, Any]) -> list[Edit]:
        entries = node.value
        if any(key.tag == MERGE for key, _ in entries) or len(entries) != len(old):
            raise PatchError(f"the mapping on line {node.start_mark.line + 1} uses a merge key '<<'; "
                             "edit it by hand")
        opening = self.text.index("{", node.start_mark.index)
        closing = node.end_mark.index - 1
        values = [v for _, v in entries]
        head, tail, sep = self._flow_frame(values, opening, closing, entries)
        pieces = []
        for (key_node, value_node), key in zip(entries, old):
            if key not in new:
                continue
            start = key_node.start_mark.index
            if same(old[key], new[key]):
                pieces.append(self.text[start:value_node.end_mark.index])
            else:
                self.check_editable(value_node)
                pieces.append(f"{self.text[start:key_node.end_mark.index]}: {flow_text(new[key])}")
        pieces += [f"{key_text(k, True)}: {flow_text(v)}" for k, v in new.items() if k not in old]
        inner = head + sep.join(pieces) + tail if pieces else ""
        return [(opening + 1, closing, inner)]

    def _flow_frame(self, values: list[Node], opening: int, closing: int,
                    entries: list[tuple[Node, Node]] | None = None) -> tuple[str, str, str]:
        """The text a flow collection keeps around its elements: after ``[``, before ``]``, between."""
        if self.text[closing] not in "]}":
            raise PatchError("internal error: a flow collection's end was not found")
        if not values:
            return "", "", ", "
        firsts = [k.start_mark.index for k, _ in entries] if entries else [v.start_mark.index for v in values]
        head = self.text[opening + 1:firsts[0]]
        tail = self.text[values[-1].end_mark.index:closing]
        sep = self.text[values[0].end_mark.index:firsts[1]] if len(values) > 1 else ", "
        if any("#" in part for part in (head, tail, sep)) or "," not in sep:
            return "", "", ", "  # comments between elements: rebuild the collection on one line
        if tail.strip() not in ("", ","):
            tail = ""
        return (head if not head.strip() else ""), tail, sep


def _match_items(old: list[Any], new: list[Any]) -> list[tuple[str, int]]:
    """For each new list item: ("keep", i) its equal old item i, ("edit", i) old item i changed,
    or ("new", -1). Equal items are matched in order first, then moved ones, then edits pair up
    with the removed items they replace."""
    okeys = [_canon(v) for v in old]
    nkeys = [_canon(v) for v in new]
    plan: list[tuple[str, int] | None] = [None] * len(new)
    used: set[int] = set()
    opcodes = SequenceMatcher(None, okeys, nkeys, autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            for d in range(i2 - i1):
                plan[j1 + d] = ("keep", i1 + d)
                used.add(i1 + d)
    free: dict[Any, deque[int]] = defaultdict(deque)
    for i, key in enumerate(okeys):
        if i not in used:
            free[key].append(i)
    for j, key in enumerate(nkeys):
        if plan[j] is None and free.get(key):
            i = free[key].popleft()
            plan[j] = ("keep", i)
            used.add(i)
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "replace":
            olds = [i for i in range(i1, i2) if i not in used]
            news = [j for j in range(j1, j2) if plan[j] is None]
            for i, j in zip(olds, news):
                plan[j] = ("edit", i)
                used.add(i)
    return [p if p is not None else ("new", -1) for p in plan]


def _shared_nodes(root: Node | None) -> set[int]:
    """Ids of nodes reached more than once: an anchor with aliases (editing one would edit all)."""
    seen: set[int] = set()
    shared: set[int] = set()
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if id(node) in seen:
            shared.add(id(node))
            continue
        seen.add(id(node))
        if isinstance(node, SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, MappingNode):
            for key, value in node.value:
                stack.append(key)
                stack.append(value)
    return shared


def patch_region(text: str, root: MappingNode | None, old: dict[Any, Any], new: dict[Any, Any],
                 newline: str, schema: Mapping[str, Any] = CARD_SCHEMA) -> str:
    """The YAML region ``text`` (composed as ``root``, read as ``old``) rewritten to hold ``new``.

    Only the top-level keys whose values differ are touched. Raises PatchError for shapes it does
    not patch. The caller must re-parse the result: this function does not verify it.
    """
    # A region without a final line break (a plain YAML file) gets one while patching, so every
    # entry ends at a line end; it is taken off again at the end.
    added_nl = bool(text) and not text.endswith("\n")
    work = text + newline if added_nl else text
    patcher = _Patcher(work, root, newline)
    if root is None:
        if work.strip(" \t\r\n") and not all(line.lstrip().startswith("#")
                                             for line in work.splitlines() if line.strip()):
            raise PatchError("the YAML region holds no mapping")
        lines = "".join(patcher.entry_text(key_text(k), v, 0, schema.get("children", {}).get(k, NO_SCHEMA))
                        for k, v in ordered(new, schema))
        result = work + lines
    else:
        if root.flow_style:
            raise PatchError("the card is a flow mapping ({...}); edit it by hand")
        for key_node, _ in root.value:
            if not patcher.starts_line(key_node):
                raise PatchError(f"the key on line {key_node.start_mark.line + 1} does not start its line")
        if not root.value:
            raise PatchError("the card's mapping is empty and written as {}")
        edits = patcher.mapping(root, old, new, schema)
        if edits is None:
            raise PatchError("the card's mapping has a shape Curator cannot patch")
        result = apply_edits(work, edits)
    if added_nl and result.endswith(newline):
        result = result[: -len(newline)]
    return result
