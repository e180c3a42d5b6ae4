"""A new string keeps the file's quoting style where it can, and is quoted as YAML needs where it must.

Properties of writeback.patch() over arbitrary text (quotes, colons, '#', blanks at either end, tabs,
unicode, line breaks, YAML words such as yes/no/null/~, numbers) replacing a title written in each style
(plain, 'single', "double", a | or > block, an empty value), in LF and CRLF files: the result reads back as
exactly the text, only the title's own lines change, and the style is the old one whenever the text
allows it. The styles the results came out in are counted, and each must have been produced often.
"""

from __future__ import annotations

import difflib
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curator.core.cards import compose, parse_card, split
from curator.core.writeback import patch

# The title in each style a file may hold it in; the other lines stay the same around it.
TITLES = {
    "plain": ["title: Old plain title # a comment stays"],
    "single": ["title: 'Old ''single'' title'"],
    "double": ['title: "Old \\"double\\" title"'],
    "literal": ["title: |", "    old literal line one", "    old literal line two"],
    "folded": ["title: >-", "  old folded", "  title"],
    "empty": ["title:"],
}
BEFORE = ["category: news", "excerpt: An excerpt ..."]
AFTER = [
    "quality: 54",
    "topics:",
    "  - AI",
    "related:",
    "  - title: Other",
    "    sourceUrl: https://a.example/x",
]

WORDS = ["yes", "no", "Yes", "NO", "on", "off", "null", "Null", "~", "true", "False", "12", "-3", "1.5",
         "0x1F", "1e3", ".inf", ".nan", "2020-01-18", "2020-01-18T18:42:00Z", "12:30", "---", "...", "- a",
         "? a", "a: b", "#x", "a #b", "'q'", '"q"', "[a]", "{a}", "@a", "`a", "%a", "&a", "*a", "!a", "|",
         ">", ""]  # fmt: skip
# Characters YAML finds awkward, mixed with plain letters so that many texts can stay plain.
AWKWARD = "abcdef ABC :#'\"\\-\n\t!&*|>%@`[]{},?~é€😀\x85\u2028\ufeff\x07\r0123"
WORDS_TEXT = st.text(alphabet="abcdefghij KLMNOP", min_size=1, max_size=30).map(str.strip).filter(bool)
TEXT = st.one_of(
    st.sampled_from(WORDS),
    st.text(alphabet=AWKWARD, max_size=24),
    # Words, thrice: they can stay plain, so plain titles are kept often enough to count.
    WORDS_TEXT,
    WORDS_TEXT,
    WORDS_TEXT,
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=24),
    st.lists(st.text(alphabet="abc é:#'\"\t", min_size=0, max_size=12), min_size=2, max_size=4).map(
        "\n".join
    ),
    st.builds(lambda w, s: f"{s}{w}{s}", st.sampled_from(WORDS), st.sampled_from([" ", "  ", "\t", "\n"])),
)


def card(style: str, nl: str) -> tuple[bytes, int, int]:
    """A card with its title in ``style``: its bytes, the title's first and last line (0-based)."""
    lines = ["---", *BEFORE, *TITLES[style], *AFTER, "---", "Body text."]
    first = 1 + len(BEFORE)
    return (nl.join(lines) + nl).encode(), first, first + len(TITLES[style]) - 1


def title_style(raw: bytes) -> str:
    """The style the title is written in: plain, single, double, literal or folded."""
    root = compose(split(raw, "x"), "x")
    assert root is not None
    node = next(v for k, v in root.value if k.value == "title")
    return {"": "plain", None: "plain", "'": "single", '"': "double", "|": "literal", ">": "folded"}[
        node.style
    ]


def changed_old_lines(old: bytes, new: bytes) -> set[int]:
    """The old file's lines (0-based) a line diff replaces or deletes, and where it inserts."""
    a, b = old.decode().splitlines(True), new.decode().splitlines(True)
    touched: set[int] = set()
    for tag, i1, i2, _, _ in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            touched.update(range(i1, max(i2, i1 + 1)))
    return touched


def simple_words(text: str) -> bool:
    """Text any YAML writer keeps plain: letters and inner blanks, no YAML word (independent oracle)."""
    return (bool(text) and text == text.strip() and "  " not in text
            and all(c.isascii() and (c.isalpha() or c == " ") for c in text)
            and text.lower() not in ("yes", "no", "on", "off", "y", "n", "true", "false",
                                     "null"))  # fmt: skip


def one_printable_line(text: str) -> bool:
    """Text a single-quoted line can hold: printable, no line break (tabs allowed)."""
    return (
        all(c == "\t" or c.isprintable() and c not in "\ufeff\u2028\u2029" for c in text) and "\n" not in text
    )


def block_text(text: str) -> bool:
    """Text a literal block holds exactly: printable lines (tabs allowed), not ending in a blank line."""
    return (
        bool(text.strip("\n"))
        and not text.endswith("\n\n")
        and all(c in "\t\n" or c.isprintable() and c not in "\ufeff\u2028\u2029" for c in text)
    )


STYLES: Counter[str] = Counter()
KEPT: Counter[str] = Counter()


@settings(max_examples=2500, deadline=None, suppress_health_check=list(HealthCheck))
# Plain twice: only some texts can stay plain, and its kept count should be well clear of the bound below.
@given(style=st.sampled_from(["plain", *TITLES]), text=TEXT, nl=st.sampled_from(["\n", "\r\n"]))
def test_a_new_title_reads_back_exactly_and_keeps_its_style_where_it_can(
    style: str, text: str, nl: str
) -> None:
    raw, first, last = card(style, nl)
    new = patch(raw, {"title": text})
    assert parse_card(new, "x").data == {**parse_card(raw, "x").data, "title": text}
    # Only the title's own lines change: one hunk inside them, the rest byte for byte.
    touched = changed_old_lines(raw, new)
    assert touched and touched <= set(range(first, last + 1)), (style, text, touched)
    got = title_style(new)
    STYLES[got] += 1
    if got == style:
        KEPT[style] += 1
    # Where the text allows it, the old style is kept (oracles independent of the patcher's rules).
    if style == "plain" and simple_words(text):
        assert got == "plain", (text, new)
    if style == "single" and one_printable_line(text):
        assert got == "single", (text, new)
    if style == "double":
        assert got == "double", (text, new)
    if style in ("literal", "folded") and block_text(text):
        assert got in ("literal", "folded"), (text, new)
        # A block keeps the file's indentation.
        body = new.decode().splitlines()[first + 1]
        assert not body.strip() or body.startswith("    " if style == "literal" else "  ")
    # Where it must be quoted, it is: the one-line styles never hold a line break as written text.
    if "\n" in text and got in ("plain", "single"):
        pytest.fail(f"{text!r} came out {got} over several lines")


def test_every_style_was_produced_and_kept_often() -> None:
    """The property above ran over every style, both ways (kept, and changed where the text needs it)."""
    if not STYLES:
        test_a_new_title_reads_back_exactly_and_keeps_its_style_where_it_can()
    total = sum(STYLES.values())
    assert total >= 2000, STYLES
    for style in ("plain", "single", "double", "literal", "folded"):
        assert STYLES[style] >= total * 0.04, (style, STYLES)
    for style in ("plain", "single", "double", "literal", "folded"):
        assert KEPT[style] >= 60, (style, KEPT)


@pytest.mark.parametrize(
    ("style", "text", "line"),
    [
        ("plain", "New plain title", "title: New plain title # a comment stays"),
        ("plain", "yes", "title: 'yes' # a comment stays"),
        ("plain", "12", "title: '12' # a comment stays"),
        ("plain", "~", "title: '~' # a comment stays"),
        ("plain", "a: b", "title: 'a: b' # a comment stays"),
        ("plain", "It's #1", "title: 'It''s #1' # a comment stays"),
        ("plain", " leading blank", "title: ' leading blank' # a comment stays"),
        ("plain", "two\nlines", 'title: "two\\nlines" # a comment stays'),
        ("plain", "Zürich — “quoted” 😀", "title: Zürich — “quoted” 😀 # a comment stays"),
        ("single", "plain enough", "title: 'plain enough'"),
        ("single", "tab\there", "title: 'tab\there'"),
        ("single", 'say "hi"', "title: 'say \"hi\"'"),
        ("single", "bell\x07", 'title: "bell\\a"'),
        ("double", "plain enough", 'title: "plain enough"'),
        ("double", 'say "hi" \\o/', 'title: "say \\"hi\\" \\\\o/"'),
        ("empty", "null", "title: 'null'"),
        ("empty", "Fresh", "title: Fresh"),
    ],
)
def test_one_line_styles(style: str, text: str, line: str) -> None:
    raw, first, _ = card(style, "\n")
    new = patch(raw, {"title": text})
    assert new.decode().splitlines()[first] == line
    assert parse_card(new, "x").data["title"] == text


@pytest.mark.parametrize(
    ("style", "text", "lines"),
    [
        ("literal", "one\ntwo", ["title: |-", "    one", "    two"]),
        ("literal", "ends with a break\n", ["title: |", "    ends with a break"]),
        ("literal", " indented first", ["title: |4-", "     indented first"]),  # the file indents by 4
        ("literal", "\ttab first\n", ["title: |4", "    \ttab first"]),
        ("literal", "trailing blank \nnext", ["title: |-", "    trailing blank ", "    next"]),
        ("folded", "one\ntwo", ["title: >-", "  one", "", "  two"]),
        ("folded", "a line ", ["title: |-", "  a line "]),  # a blank where folding happens: literal
        ("literal", "x\n\n", ['title: "x\\n\\n"']),  # trailing blank lines would need keep chomping
    ],
)
def test_block_styles(style: str, text: str, lines: list[str]) -> None:
    raw, first, _ = card(style, "\n")
    new = patch(raw, {"title": text})
    assert new.decode().splitlines()[first : first + len(lines)] == lines
    assert new.decode().splitlines()[first + len(lines)] == AFTER[0]
    assert parse_card(new, "x").data["title"] == text


def test_a_new_related_item_keeps_its_date_plain() -> None:
    """A related item written anew keeps its publishedDateTime as the file writes dates: plain."""
    raw, _, _ = card("plain", "\n")
    data: dict[str, Any] = parse_card(raw, "x").data
    item = {"title": "New", "publishedDateTime": "2020-03-05T22:57:00Z", "sourceUrl": "https://b.example/y"}
    new = patch(raw, {"related": [*data["related"], item]}).decode()
    assert "    publishedDateTime: 2020-03-05T22:57:00Z\n" in new
    assert parse_card(new.encode(), "x").data["related"][-1] == item
