"""Properties of patch() over generated cards in many YAML styles and random edit sequences."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curator.core.cards import compose, parse_card, split
from curator.core.writeback import DELETE, patch

# Words that stay strings when written plain (no y/n/o letters: never yes/no/on/off/null/true).
WORD = st.text(alphabet="abcdefghijklm ABCDEFG", min_size=1, max_size=10).map(str.strip).filter(bool)
# Text YAML finds awkward: indicators, quotes, escapes, line breaks, non-ASCII, a BOM.
TRICKY = st.text(alphabet="ab :#'\"\\-\n\t!&*|>%@`[]{},?é€\x85\u2028\ufeff0123", max_size=16)
INTS = st.integers(min_value=-1, max_value=100)
SCALARS = st.one_of(TRICKY, WORD, INTS, st.booleans(), st.none())

STR_KEYS = ("category", "title", "excerpt", "type", "author")
INT_KEYS = ("quality", "heat")
LIST_KEYS = ("topics", "tags")
ALL_KEYS = (*STR_KEYS, *INT_KEYS, "published", "publishedDateTime", *LIST_KEYS, "provider", "notes",
            "related", "secured")


def scalar_yaml(draw: Any, value: Any) -> str:
    """One of the ways a file might spell a scalar (generator side, independent of the patcher)."""
    if isinstance(value, bool):
        return draw(st.sampled_from(["true", "True", "yes"] if value else ["false", "False", "no"]))
    if not isinstance(value, str):
        return str(value)
    style = draw(st.sampled_from(["plain", "single", "double"]))
    if style == "plain" and value.strip() == value and all(c in "abcdefghijklm ABCDEFG" for c in value):
        return value
    if style == "single" and "\n" not in value and "\\" not in value:
        return "'" + value.replace("'", "''") + "'"
    return json.dumps(value)  # JSON strings (ASCII-escaped) are valid YAML double-quoted scalars


@st.composite
def cards(draw: Any) -> tuple[bytes, int]:
    """A card file and its number of standalone comments."""
    ind = draw(st.sampled_from([2, 4]))
    seq = draw(st.sampled_from([0, 2, 4]))
    nl = draw(st.sampled_from(["\n", "\r\n"]))
    keys = draw(st.lists(st.sampled_from(ALL_KEYS), unique=True, max_size=len(ALL_KEYS)))
    lines: list[str] = []
    comments = 0
    for key in keys:
        if draw(st.integers(0, 4)) == 0:
            lines.append(f"# note-{comments}")
            comments += 1
        if draw(st.integers(0, 5)) == 0:
            lines.append("")
        tail = draw(st.sampled_from(["", "", "  # tail"]))
        if key in STR_KEYS or key == "secured":
            lines.append(f"{key}: {scalar_yaml(draw, draw(st.one_of(WORD, TRICKY)))}{tail}")
        elif key in INT_KEYS:
            lines.append(f"{key}: {draw(INTS)}{tail}")
        elif key == "published":
            lines.append(f"{key}: {scalar_yaml(draw, draw(st.booleans()))}{tail}")
        elif key == "publishedDateTime":
            lines.append(f"{key}: 2020-01-{draw(st.integers(10, 28))}T18:42:00Z{tail}")
        elif key in LIST_KEYS:
            items = draw(st.lists(WORD, min_size=1, max_size=4))
            if draw(st.booleans()):
                lines.append(f"{key}: [{', '.join(items)}]{tail}")
            else:
                lines.append(f"{key}:")
                lines += [f"{' ' * seq}- {item}" for item in items]
        elif key == "provider":
            name, domain = draw(WORD), draw(WORD)
            if draw(st.booleans()):
                lines.append(f"provider: {{name: {name}, domain: {domain}}}")
            else:
                lines += ["provider:", f"{' ' * ind}name: {name}", f"{' ' * ind}domain: {domain}"]
        elif key == "notes":
            body = draw(st.lists(WORD, min_size=1, max_size=3))
            lines.append(f"notes: {draw(st.sampled_from(['|', '|-', '>']))}")
            lines += [" " * ind + line for line in body]
        else:  # related: block list of block mappings
            lines.append("related:")
            for _ in range(draw(st.integers(1, 3))):
                pad = " " * (seq + 2)
                lines.append(f"{' ' * seq}- title: {scalar_yaml(draw, draw(WORD))}")
                lines.append(f"{pad}sourceUrl: https://example.com/{draw(st.integers(0, 99))}")
                if draw(st.booleans()):
                    lines += [f"{pad}provider:", f"{pad}{' ' * ind}name: {draw(WORD)}"]
                lines.append(f"{pad}quality: {draw(INTS)}")
    text = nl.join(["---", *lines, "---"]) + nl + draw(st.sampled_from(["", "Body *text*" + nl, "# H" + nl]))
    bom = b"\xef\xbb\xbf" if draw(st.booleans()) else b""
    return bom + text.encode("utf-8"), comments


@st.composite
def new_value(draw: Any, key: str, old: Any) -> Any:
    if draw(st.integers(0, 6)) == 0:
        return DELETE
    if key in LIST_KEYS:
        items = list(old) if isinstance(old, list) else []
        how = draw(st.sampled_from(["append", "remove", "shuffle", "any"]))
        if how == "append":
            return items + draw(st.lists(st.one_of(WORD, TRICKY), min_size=1, max_size=2))
        if how == "remove" and items:
            return [x for i, x in enumerate(items) if i != draw(st.integers(0, len(items) - 1))]
        if how == "shuffle":
            return draw(st.permutations(items))
        return draw(st.lists(st.one_of(WORD, TRICKY, INTS), max_size=3))
    if key == "related":
        items = [dict(x) for x in old] if isinstance(old, list) else []
        if items and draw(st.booleans()):
            items = draw(st.permutations(items))[: draw(st.integers(0, len(items)))]
        if items and draw(st.booleans()):
            item = items[draw(st.integers(0, len(items) - 1))]
            item[draw(st.sampled_from(["title", "quality", "type", "provider"]))] = draw(SCALARS)
        if draw(st.booleans()):
            items.append({"title": draw(TRICKY), "sourceUrl": "https://example.com/new",
                          "provider": {"name": draw(WORD), "domain": "d.example"}, "quality": draw(INTS)})
        return items
    if key == "provider":
        if isinstance(old, dict) and draw(st.booleans()):
            return {**old, draw(st.sampled_from(["name", "domain", "extra"])): draw(SCALARS)}
        return draw(st.one_of(SCALARS, st.fixed_dictionaries({"name": WORD, "domain": TRICKY})))
    if key == "notes":
        return draw(st.one_of(TRICKY, st.lists(WORD, max_size=3).map(lambda ls: "".join(x + "\n" for x in ls))))
    if key in INT_KEYS:
        return draw(st.one_of(INTS, SCALARS))
    return draw(SCALARS)


def entry_lines(raw: bytes, keys: set[str]) -> set[int]:
    """File line numbers (0-based) of the top-level entries for ``keys``: key line to next key line."""
    doc = split(raw, "card.md")
    root = compose(doc, "card.md")
    if root is None:
        return set()
    # Lines are counted in "\n" only: YAML (and str.splitlines) also break at U+2028 and U+0085.
    last = doc.text.count("\n", 0, doc.yaml_end)
    starts = [(doc.text.count("\n", 0, doc.yaml_start + k.start_mark.index), k.value) for k, _ in root.value]
    lines: set[int] = set()
    for i, (line, key) in enumerate(starts):
        if key in keys:
            end = starts[i + 1][0] if i + 1 < len(starts) else last
            lines.update(range(line, end))
    return lines


def kept_lines(raw: bytes, skip: set[int]) -> list[str]:
    """Lines outside ``skip``, without blank and comment lines (those are checked on their own)."""
    text = raw.decode("utf-8")
    return [line for i, line in enumerate(text.split("\n"))
            if i not in skip and line.strip() and not line.lstrip().startswith("#")]


def notes(raw: bytes) -> list[str]:
    return [line for line in raw.decode("utf-8").split("\n") if line.startswith("# note-")]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_edits_read_back_and_touch_only_their_lines(data: st.DataObject) -> None:
    raw, _ = data.draw(cards())
    current = parse_card(raw, "card.md").data
    for _ in range(data.draw(st.integers(1, 3))):  # a sequence of writes, each on the last result
        keys = data.draw(st.lists(st.sampled_from(ALL_KEYS), unique=True, min_size=1, max_size=4))
        changes = {key: data.draw(new_value(key, current.get(key))) for key in keys}
        new = patch(raw, changes, "card.md")
        expected = dict(current)
        for key, value in changes.items():
            if value is DELETE:
                expected.pop(key, None)
            else:
                expected[key] = value
        got = parse_card(new, "card.md").data
        assert got == expected
        # Keys keep the file's order (the dict order of a parse is the file order).
        assert [k for k in got if k in current] == [k for k in current if k in expected]
        # Only lines of edited keys differ; the BOM, line endings, notes and body are kept.
        assert kept_lines(raw, entry_lines(raw, set(keys))) == kept_lines(new, entry_lines(new, set(keys)))
        assert notes(new) == notes(raw)
        assert new.startswith(b"\xef\xbb\xbf") == raw.startswith(b"\xef\xbb\xbf")
        if b"\r\n" in raw:
            assert new.count(b"\n") == new.count(b"\r\n")
        assert new.rsplit(b"---", 1)[1] == raw.rsplit(b"---", 1)[1]
        raw, current = new, got


@settings(max_examples=60, deadline=None)
@given(card=cards())
def test_writing_the_values_a_card_has_changes_nothing(card: tuple[bytes, int]) -> None:
    raw, _ = card
    current = parse_card(raw, "card.md").data
    assert patch(raw, current, "card.md") == raw
    assert patch(raw, {"absent-key": DELETE}, "card.md") == raw

