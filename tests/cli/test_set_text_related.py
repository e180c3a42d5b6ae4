"""`curator set` title=/excerpt=/category= and related+=ID / related-=URL, through the real command line.

Each test sets values with `curator set`, writes with `curator write` and diffs the real files: a changed
text is a one-line diff (one block for a block scalar), in the file's quoting style where the text allows
it; a related item joins the end of the list in the list's own style. The property test drives the real
CLI entry point in-process (a subprocess per example would take minutes) over arbitrary text and counts
the quoting styles the results came out in.
"""

from __future__ import annotations

import difflib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curator.cli import main
from curator.core.cards import compose, parse_card, split
from tests.cli.conftest import EXAMPLE_CARD, Curator

SOURCE_URL = "https://www.source.example/story/mars-water"
CARDS = {
    # The card related+= copies: every related key, plus card-only keys that must not be copied.
    "source.md": (
        "---\n"
        "category: science\n"
        "title: Mars rover finds water\n"
        "excerpt: 'Scientists say: it is \"big\" ...'\n"
        "publishedDateTime: 2021-02-03T04:05:06Z\n"
        f"sourceUrl: {SOURCE_URL}\n"
        "ampUrl: https://amp.source.example/story/mars-water\n"
        "type: article\n"
        "quality: 77\n"
        "heat: 40\n"
        "published: true\n"
        "provider:\n"
        "  name: Source Daily\n"
        "  domain: source.example\n"
        "  founded: 1990\n"
        "topics: [Space]\n"
        "images:\n"
        "  - url: https://img.source.example/mars.jpg\n"
        "    width: 800\n"
        "    height: 600\n"
        "secured: abc==\n"
        "---\n"
    ),
    # Text fields in several styles; a block related list indented by 4 with its dashes at 2.
    "block.md": (
        "---\n"
        "category: 'news'\n"
        "title: Plain old title # kept comment\n"
        "excerpt: |\n"
        "  First line of the excerpt.\n"
        "  Second line.\n"
        "quality: 50\n"
        "related:\n"
        '  - title: "First other"\n'
        "    sourceUrl: https://first.example/a\n"
        "  - title: Second other\n"
        "    sourceUrl: https://second.example/b\n"
        "secured: xyz==\n"
        "---\n"
        "Body stays.\n"
    ),
    # A flow related list.
    "flow.yaml": (
        "title: \"Flow card\"\nrelated: [{title: One, sourceUrl: 'https://one.example/1'}]\nheat: 3\n"
    ),
    # No related key at all, dashes at column 0.
    "none.txt": "---\ntitle: No related yet\ntopics:\n- AI\nquality: 10\n---\n",
    # Two items that are one article as the source card (www., tracking parameter, http), one other.
    "dupes.md": (
        "---\n"
        "title: Has the source twice\n"
        "related:\n"
        "  - title: Copy one\n"
        "    sourceUrl: http://source.example/story/mars-water?utm_source=feed\n"
        "  - title: Keep me\n"
        "    sourceUrl: https://keep.example/k\n"
        "  - title: Copy two\n"
        f"    sourceUrl: {SOURCE_URL}\n"
        "---\n"
    ),
    # A card with no sourceUrl: it cannot become a related item.
    "nourl.md": "---\ntitle: No link\n---\n",
}


@pytest.fixture
def desk(curator: Curator, tmp_path: Path) -> tuple[Curator, Path, dict[str, int]]:
    """The runner, a folder of the cards above imported, and each file's card id."""
    folder = tmp_path / "cards"
    folder.mkdir()
    for name, text in CARDS.items():
        (folder / name).write_text(text, encoding="utf-8", newline="")
    assert curator("import", str(folder)).code == 0
    ids = {Path(row["path"]).name: row["id"] for row in curator("list", "--json").json_lines()}
    return curator, folder, ids


def hunks(old: str, new: str) -> list[tuple[list[str], list[str]]]:
    """The line diff as (removed lines, added lines) per changed block."""
    a, b = old.splitlines(True), new.splitlines(True)
    ops = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    return [(a[i1:i2], b[j1:j2]) for tag, i1, i2, j1, j2 in ops if tag != "equal"]


def data_of(path: Path) -> dict[str, Any]:
    return parse_card(path.read_bytes(), str(path)).data


def write_ok(cli: Curator) -> None:
    result = cli("write")
    assert result.code == 0, result.err


def test_text_fields_change_one_line_each_in_the_files_style(
    desk: tuple[Curator, Path, dict[str, int]],
) -> None:
    cli, folder, ids = desk
    path = folder / "block.md"
    before = path.read_text(encoding="utf-8")
    result = cli(
        "set",
        "--id",
        str(ids["block.md"]),
        'title=New: a "quoted" #1 title',
        "excerpt=Only one line now,\n  then an indented one.",
        "category=world",
    )
    assert result.code == 0 and result.out.strip() == "1 card changed", result.err
    assert path.read_text(encoding="utf-8") == before  # files change only on write
    write_ok(cli)
    after = path.read_text(encoding="utf-8")
    # The three fields are neighbours, so the diff is one hunk: each value's own lines, nothing else.
    assert hunks(before, after) == [
        (
            [
                "category: 'news'\n",
                "title: Plain old title # kept comment\n",
                "excerpt: |\n",
                "  First line of the excerpt.\n",
                "  Second line.\n",
            ],
            [
                "category: 'world'\n",  # single-quoted stays single-quoted
                "title: 'New: a \"quoted\" #1 title' # kept comment\n",  # ': ', ' #': quoted
                "excerpt: |-\n",
                "  Only one line now,\n",
                "    then an indented one.\n",
            ],  # still a block
        )
    ]
    assert data_of(path)["excerpt"] == "Only one line now,\n  then an indented one."
    shown = cli("show", str(ids["block.md"]), "--json").json()
    assert shown["title"] == 'New: a "quoted" #1 title' and shown["category"] == "world"
    assert cli("set", "--id", str(ids["block.md"]), "category=world").out.strip() == "0 cards changed"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("yes", "title: 'yes' # kept comment"),
        ("- starts like an option", "title: '- starts like an option' # kept comment"),
        (" two\nlines ", 'title: " two\\nlines " # kept comment'),
        ("Zürich — “Grüße” 😀", "title: Zürich — “Grüße” 😀 # kept comment"),
    ],
)
def test_a_title_through_argv_reads_back_exactly(
    desk: tuple[Curator, Path, dict[str, int]], text: str, line: str
) -> None:
    cli, folder, ids = desk
    path = folder / "block.md"
    before = path.read_text(encoding="utf-8")
    assert cli("set", "--id", str(ids["block.md"]), f"title={text}").code == 0
    write_ok(cli)
    after = path.read_text(encoding="utf-8")
    assert hunks(before, after) == [(["title: Plain old title # kept comment\n"], [line + "\n"])]
    assert data_of(path)["title"] == text


# --- the property: arbitrary titles through the CLI entry point --------------------------------------

STYLE_LINES = {
    "plain": ["title: Old plain title"],
    "single": ["title: 'Old single title'"],
    "double": ['title: "Old double title"'],
    "literal": ["title: |", "  Old literal", "  title"],
    "folded": ["title: >", "    Old folded", "    title"],
}
WORDS = ["yes", "no", "null", "~", "NULL", "on", "true", "12", "-7", "3.14", "0o17", "2020-01-18", "a: b",
         "#hash", "a #b", "'", '"', "'both\"", "[x]", "{y}", "*star", "&amp", "!bang", "%pc", "@at", "`tick",
         "---", "...", "? q", "- item", "|", ">"]  # fmt: skip
TEXT = st.one_of(
    st.sampled_from(WORDS),
    st.text(alphabet="ab :#'\"\\-\n\t!&*%@`[]{},?é€😀\u00a0", max_size=20),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs",), exclude_characters="\x00"), max_size=16),
    st.lists(st.text(alphabet="xyz é:#'\"", max_size=10), min_size=2, max_size=3).map("\n".join),
    st.builds(lambda w, pad: pad + w + pad, st.sampled_from(WORDS), st.sampled_from([" ", "\t", "\n", "  "])),
)
# Any text in any style; and, as often, text a plain title keeps plain and lines a block keeps a block,
# so that every style is kept often enough to count.
_PLAIN_TEXT = st.text(alphabet="abcdefg HIJ", min_size=1, max_size=20).map(str.strip).filter(bool)
_ONE_LINE = st.text(alphabet="ab :#'\"\\-!&*%@`[]{},?é€😀\t", max_size=20)
_LINES = st.lists(st.text(alphabet="xyz é:#'\"", min_size=1, max_size=10), min_size=1, max_size=3).map(
    "\n".join
)
CASES = st.one_of(
    st.tuples(st.sampled_from(sorted(STYLE_LINES)), TEXT),
    st.tuples(st.sampled_from(sorted(STYLE_LINES)), TEXT),
    st.tuples(st.just("plain"), _PLAIN_TEXT),
    st.tuples(st.sampled_from(["single", "double"]), _ONE_LINE),
    st.tuples(st.sampled_from(["literal", "folded"]), _LINES),
)
STYLES_SEEN: Counter[str] = Counter()
_STYLE_NAMES = {"": "plain", None: "plain", "'": "single", '"': "double", "|": "literal", ">": "folded"}


def _title_style(raw: bytes) -> str:
    root = compose(split(raw, "x"), "x")
    assert root is not None
    return _STYLE_NAMES[next(v for k, v in root.value if k.value == "title").style]


def test_any_title_set_then_written_reads_back_exactly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "prop"
    folder.mkdir()
    db = str(tmp_path / "prop.sqlite")
    texts = {style: "---\ncategory: news\n" + "\n".join(lines) + "\nquality: 5\n---\nBody.\n"
             for style, lines in STYLE_LINES.items()}  # fmt: skip
    for style, text in texts.items():
        (folder / f"{style}.md").write_text(text, encoding="utf-8", newline="")
    assert main(["--db", db, "import", str(folder)]) == 0
    ids = {Path(row["path"]).stem: row["id"] for row in _json_lines(capsys, ["--db", db, "list", "--json"])}

    @settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
    @given(case=CASES)
    def check(case: tuple[str, str]) -> None:
        style, text = case
        path = folder / f"{style}.md"
        path.write_text(texts[style], encoding="utf-8", newline="")  # the style under test, every time
        assert main(["--db", db, "import", str(path)]) == 0
        assert main(["--db", db, "set", "--id", str(ids[style]), f"title={text}"]) == 0
        assert main(["--db", db, "write"]) == 0, capsys.readouterr().err
        capsys.readouterr()
        raw = path.read_bytes()
        assert parse_card(raw, str(path)).data == {"category": "news", "title": text, "quality": 5}
        old_title = "".join(line + "\n" for line in STYLE_LINES[style])
        for removed, added in hunks(texts[style], raw.decode()):
            assert "".join(removed) in old_title and "category" not in "".join(added), (style, text)
        assert raw.decode().startswith("---\ncategory: news\ntitle:")
        assert raw.decode().endswith("\nquality: 5\n---\nBody.\n")
        STYLES_SEEN[_title_style(raw)] += 1

    check()
    # Every style was produced by the real command line, and each often enough to mean something.
    assert sum(STYLES_SEEN.values()) >= 250
    for style in STYLE_LINES:
        assert STYLES_SEEN[style] >= 20, STYLES_SEEN  # each comes out 30 times or more


def _json_lines(capsys: pytest.CaptureFixture[str], argv: list[str]) -> list[Any]:
    import json

    capsys.readouterr()
    assert main(argv) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]


# --- related+= and related-= ----------------------------------------------------------------------

EXPECTED_ITEM = [
    "  - title: Mars rover finds water\n",
    "    excerpt: 'Scientists say: it is \"big\" ...'\n",
    "    publishedDateTime: 2021-02-03T04:05:06Z\n",
    f"    sourceUrl: {SOURCE_URL}\n",
    "    ampUrl: https://amp.source.example/story/mars-water\n",
    "    type: article\n",
    "    provider:\n",
    "      name: Source Daily\n",
    "      domain: source.example\n",
    "    quality: 77\n",
    "    images:\n",
    "      - url: https://img.source.example/mars.jpg\n",
    "        width: 800\n",
    "        height: 600\n",
]


def test_related_add_goes_last_in_a_block_list(desk: tuple[Curator, Path, dict[str, int]]) -> None:
    cli, folder, ids = desk
    path = folder / "block.md"
    before = path.read_text(encoding="utf-8")
    result = cli("set", "--id", str(ids["block.md"]), f"related+={ids['source.md']}")
    assert result.code == 0 and result.out.strip() == "1 card changed", result.err
    write_ok(cli)
    after = path.read_text(encoding="utf-8")
    assert hunks(before, after) == [([], EXPECTED_ITEM)]
    assert after.index("Second other") < after.index("Mars rover")  # last, before `secured`
    item = data_of(path)["related"][-1]
    assert set(item) == {"title", "excerpt", "publishedDateTime", "sourceUrl", "ampUrl", "type", "provider",
                         "quality", "images"}  # fmt: skip
    assert item["provider"] == {"name": "Source Daily", "domain": "source.example"}  # related keys only


def test_related_add_keeps_a_flow_list_flow(desk: tuple[Curator, Path, dict[str, int]]) -> None:
    cli, folder, ids = desk
    path = folder / "flow.yaml"
    before = path.read_text(encoding="utf-8")
    assert cli("set", "--id", str(ids["flow.yaml"]), f"related+={ids['source.md']}").code == 0
    write_ok(cli)
    after = path.read_text(encoding="utf-8")
    [(removed, added)] = hunks(before, after)
    assert removed == ["related: [{title: One, sourceUrl: 'https://one.example/1'}]\n"]
    assert len(added) == 1 and added[0].startswith(
        "related: [{title: One, sourceUrl: 'https://one.example/1'}, {"
    )
    related = data_of(path)["related"]
    assert [r["title"] for r in related] == ["One", "Mars rover finds water"]
    assert related[1]["publishedDateTime"] == "2021-02-03T04:05:06Z"


def test_related_add_on_a_card_without_related(desk: tuple[Curator, Path, dict[str, int]]) -> None:
    cli, folder, ids = desk
    path = folder / "none.txt"
    before = path.read_text(encoding="utf-8")
    assert cli("set", "--id", str(ids["none.txt"]), f"related+={ids['source.md']}").code == 0
    write_ok(cli)
    after = path.read_text(encoding="utf-8")
    # A new key at the end of the mapping, its lists in the file's layout (dashes at the key's column).
    item = [line[2:] for line in EXPECTED_ITEM]
    item[-3:] = ["  - url: https://img.source.example/mars.jpg\n", "    width: 800\n", "    height: 600\n"]
    assert hunks(before, after) == [([], ["related:\n", *item])]
    assert data_of(path)["related"][0]["sourceUrl"] == SOURCE_URL


def test_related_add_of_an_article_already_listed_is_a_no_op(
    desk: tuple[Curator, Path, dict[str, int]],
) -> None:
    cli, folder, ids = desk
    before = (folder / "dupes.md").read_bytes()
    # The same article as one listed (another canonical form), and the card itself: no-ops, said so.
    result = cli(
        "set", "--id", str(ids["dupes.md"]), "--id", str(ids["source.md"]), f"related+={ids['source.md']}"
    )
    assert result.code == 0 and result.out.strip() == "0 cards changed"
    assert (
        f"card {ids['dupes.md']}: related already lists {SOURCE_URL} (card {ids['source.md']})" in result.err
    )
    assert f"card {ids['source.md']}: card {ids['source.md']} is this card itself" in result.err
    assert cli("list", "dirty:true", "--json").out == ""
    assert cli("write").code == 0 and (folder / "dupes.md").read_bytes() == before


def test_related_add_of_an_unknown_or_linkless_card_changes_nothing(
    desk: tuple[Curator, Path, dict[str, int]],
) -> None:
    cli, _, ids = desk
    unknown = cli("set", "--id", str(ids["block.md"]), "title=Changed", "related+=99999")
    assert unknown.code == 1 and "related+=99999: no card with id 99999" in unknown.err
    linkless = cli("set", "--id", str(ids["block.md"]), "title=Changed", f"related+={ids['nourl.md']}")
    assert linkless.code == 2 and "has no sourceUrl, so it cannot be a related link" in linkless.err
    # "title=a\udcff": the bytes b"title=a\xff" on argv, not UTF-8.
    for bad in ("related+=seven", "related-=not a link", "related=5", "title+=x", "title=a\udcff"):
        result = cli("set", "--id", str(ids["block.md"]), bad)
        assert result.code == 2 and result.err.startswith("curator: set: "), bad
    assert cli("list", "dirty:true", "--json").out == ""  # the valid title= beside them was not recorded


def test_related_remove_takes_every_item_of_that_article(desk: tuple[Curator, Path, dict[str, int]]) -> None:
    cli, folder, ids = desk
    path = folder / "dupes.md"
    before = path.read_text(encoding="utf-8")
    result = cli("set", "--id", str(ids["dupes.md"]), "related-=https://source.example/story/mars-water#top")
    assert result.code == 0 and result.out.strip() == "1 card changed", result.err
    write_ok(cli)
    after = path.read_text(encoding="utf-8")
    assert hunks(before, after) == [
        (
            [
                "  - title: Copy one\n",
                "    sourceUrl: http://source.example/story/mars-water?utm_source=feed\n",
            ],
            [],
        ),
        (["  - title: Copy two\n", f"    sourceUrl: {SOURCE_URL}\n"], []),
    ]
    assert [r["title"] for r in data_of(path)["related"]] == ["Keep me"]
    again = cli("set", "--id", str(ids["dupes.md"]), f"related-={SOURCE_URL}")
    assert again.out.strip() == "0 cards changed" and "related lists no" in again.err


def test_dry_run_shows_the_diff_and_records_nothing(desk: tuple[Curator, Path, dict[str, int]]) -> None:
    cli, folder, ids = desk
    card = str(ids["block.md"])
    assert cli("set", "--id", card, "quality=60").code == 0  # a pending edit the diff includes
    args = ("set", "--id", card, "title=Dry title", f"related+={ids['source.md']}")
    dry = cli(*args, "--dry-run")
    assert dry.code == 0 and dry.out.startswith("1 card would change (dry run: nothing recorded)\n")
    diff = dry.out.split("\n", 1)[1]
    path = str(folder / "block.md")
    assert diff.startswith(f"--- a/{path.lstrip('/')}\n+++ b/{path.lstrip('/')}\n")
    assert "-title: Plain old title # kept comment\n+title: Dry title # kept comment\n" in diff
    assert "-quality: 50\n+quality: 60\n" in diff
    assert "".join("+" + line for line in EXPECTED_ITEM) in diff
    assert cli("show", card, "--json").json()["title"] == "Plain old title"  # nothing recorded
    # The diff is exactly what `write` makes once the edits are recorded.
    assert cli(*args).code == 0
    assert cli("write", "--dry-run").out == diff
    # A dry run of values the card already has changes nothing and shows nothing.
    assert cli("set", "--id", card, "title=Dry title", "--dry-run").out == (
        "0 cards would change (dry run: nothing recorded)\n"
    )


def test_list_finds_words_of_related_items_titles_and_follows_related_edits(library: Curator) -> None:
    """One query language: `list WORD` covers related items' titles, on both backends, and a `related-=`
    edit takes the item's words out of the index."""
    [example] = library("list", "yandex", "--json").json_lines()
    assert example["path"].endswith(EXAMPLE_CARD.name)
    shown = library("show", str(example["id"]), "--json").json()
    yandex = next(i for i in shown["related"] if "Yandex" in i["title"])
    assert library("set", "--id", str(example["id"]), f"related-={yandex['sourceUrl']}").code == 0
    assert library("list", "yandex", "--json").json_lines() == []
    assert [r["id"] for r in library("list", '"troubling new report"', "--json").json_lines()] == [example["id"]]
