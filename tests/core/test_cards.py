"""Reading card files: front matter, plain YAML, safe composing, plain values, and every bad input."""

from __future__ import annotations

import hashlib
import os
import pickle
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curator.core import cardnodes, cards
from curator.core.cards import CardError, parse_card, read_card, split

BOM = b"\xef\xbb\xbf"


@pytest.fixture(params=["fast", "libyaml", "pure"])
def loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with the C values builder (cardnodes.fast_values, libyaml's events), with PyYAML's
    libyaml composer alone, and with its pure-Python loader (the fallbacks)."""
    if request.param == "fast":
        if not cardnodes.FAST:
            pytest.skip("the C extension curator.core._fastcard is not built")
    else:
        monkeypatch.setattr(cardnodes, "_fast", None)
    if request.param == "pure":
        monkeypatch.setattr(cards, "_Loader", yaml.SafeLoader)
    return request.param


def write(tmp_path: Path, name: str, raw: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(raw)
    return str(path)


def billion_laughs(levels: int = 9) -> bytes:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    prev = "a"
    for name in "bcdefghijk"[:levels - 1]:
        lines.append(f"{name}: &{name} [{', '.join([f'*{prev}'] * 9)}]")
        prev = name
    return ("\n".join(lines) + "\n").encode()


# (file name, bytes, words the message must contain, line, column); line/column None when unknown.
BAD_INPUTS = [
    ("flow.md", b"---\ntitle: x\nquality: [1, 2\n---\n", "expected ',' or ']'", 4, 1),
    ("colon.md", b"---\ntitle: a: b\n---\n", "mapping values are not allowed", 2, 9),
    ("indent.md", b"---\ntitle: x\n  bad: indent\n---\n", "YAML syntax error", 3, 6),
    ("quote.md", b'---\ntitle: "open\n---\n', "found unexpected end of stream", 3, 1),
    ("tab.md", b"---\n\ta: 1\n---\n", "cannot start any token", 2, 1),
    ("scalar.md", b"---\njust text\n---\n", "a single value, not a mapping", 2, 1),
    ("list.yaml", b"- a\n- b\n", "a list, not a mapping", 1, 1),
    ("list.md", b"---\n- a\n---\n", "a list, not a mapping", 2, 1),
    ("docs.yaml", b"a: 1\n---\nb: 2\n", "several YAML documents", 2, 1),
    ("docs2.yaml", b"---\na: 1\n---\nb: 2\n", "several YAML documents", 3, 1),
    ("docs.md", b"---\na: 1\n--- x\n---\n", "several YAML documents", 3, 1),
    ("dup.md", b"---\nquality: 1\ntitle: t\nquality: 2\n---\n", "duplicate key 'quality' (first on line 2)", 4, 1),
    ("dupcrlf.md", b"---\r\ntitle: a\r\ntitle: b\r\n---\r\n", "duplicate key 'title' (first on line 2)", 3, 1),
    ("dupnested.md", b"---\nrelated:\n  - title: x\n    provider: {name: a, name: b}\n---\n",
     "duplicate key 'name' (first on line 4)", 4, 25),
    ("dupitem.yaml", b"related:\n  - title: x\n    quality: 3\n    title: y\n", "duplicate key 'title' (first on line 2)",
     4, 5),
    ("dupint.yaml", b"1: a\n0x1: b\n", "duplicate key '1' (first on line 1)", 2, 1),
    ("dupmerge.yaml", b"a: 1\n<<: {b: 1}\n<<: {c: 2}\n", "duplicate key '<<'", 3, 1),
    ("latin1.md", BOM + b"---\ntitle: caf\xc3\xa9 \xe9\n---\n", "not valid UTF-8 at line 2, column 13", 2, 13),
    ("surrogate.md", b"---\ntitle: \xed\xa0\x80\n---\n", "not valid UTF-8 at line 2, column 8", 2, 8),
    ("nul.md", b"---\ntitle: a\x00b\n---\n", "NUL byte", 2, 9),
    ("control.md", b"---\na: b\x1b\n---\n", "U+001B is not allowed", 2, 5),
    ("apply.md", b'---\na: !!python/object/apply:os.system ["echo hi"]\n---\n',
     "tag '!!python/object/apply:os.system' is not allowed", 2, 4),
    ("pyname.md", b"---\na: !!python/name:os.system\n---\n", "tag '!!python/name:os.system' is not allowed", 2, 4),
    ("pyobj.yaml", b"x: !!python/object:collections.OrderedDict {}\n", "is not allowed", 1, 4),
    ("custom.md", b"---\ntitle: !foo bar\n---\n", "tag '!foo' is not allowed", 2, 8),
    ("verbatim.md", b"---\na: !<tag:example.com,2000:x> 1\n---\n", "tag 'tag:example.com,2000:x' is not allowed", 2, 4),
    ("omap.md", b"---\na: !!omap [a: 1]\n---\n", "tag '!!omap' is not allowed", 2, 4),
    ("set.yaml", b"a: !!set {x}\n", "tag '!!set' is not allowed", 1, 4),
    ("badint.md", b"---\nquality: !!int high\n---\n", "'high' is not a valid !!int value", 2, 10),
    ("badfloat.md", b"---\na: !!float abc\n---\n", "not a valid !!float value", 2, 4),
    ("kind.yaml", b"a: [!!map x]\n", "tag '!!map' does not fit a single value", 1, 5),
    ("seqkey.yaml", b"? [a]\n: 1\n", "a key must be a single value, not a list", 1, 3),
    ("merge.md", b"---\na: 1\n<<: 2\n---\n", "merge key '<<' needs a mapping", 3, 5),
    ("undefined.md", b"---\na: *nope\n---\n", "undefined alias", 2, 4),
    ("anchor2.md", b"---\na: &x 1\nb: &x 2\n---\n", "duplicate anchor", 3, 4),
    ("recursive.yaml", b"a: &a [1, *a]\n", "recursive alias", 1, 4),
    ("bomb.yaml", billion_laughs(), "aliases expand to more than 10,000 extra values", None, None),
    ("deep.md", b"---\na: " + b"[" * 150 + b"]" * 150 + b"\n---\n", "nested more than 100 levels", 2, None),
    ("deeper.yaml", b"a: " + b"[" * 50_000 + b"]" * 50_000 + b"\n", "nested more than 100 levels", 1, 103),
    ("deepblock.yaml", b"a:\n" + b"".join(b" " * i + b"- \n" for i in range(1, 300)), "nested more than 100", 102,
     102),
    ("empty.yaml", b"", "the file is empty", None, None),
    ("blank.md", BOM + b" \n\n", "the file is empty", None, None),
    ("comment.yaml", b"# nothing here\n", "no YAML mapping", None, None),
    ("plain.md", b"# Title\n\nSome text.\n", "no front matter", 1, 1),
    ("plain.txt", b"title: looks like yaml\n", "no front matter", 1, 1),
    ("unclosed.md", b"---\ntitle: a\n", "front matter is not closed", 1, 1),
    ("unclosed2.txt", b"---", "front matter is not closed", 1, 1),
]


@pytest.mark.parametrize(("name", "raw", "words", "line", "column"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_is_a_clear_error(tmp_path: Path, loader: str, name: str, raw: bytes, words: str,
                                    line: int | None, column: int | None) -> None:
    path = write(tmp_path, name, raw)
    with pytest.raises(CardError) as info:
        read_card(path)
    err = info.value
    assert words in err.message
    assert err.path == path
    if line is not None:
        assert err.line == line
    if column is not None:
        assert err.column == column
    expected = path + "".join(f":{n}" for n in (err.line, err.column) if n is not None) + f": {err.message}"
    assert str(err) == expected


def test_billion_laughs_is_refused_without_expanding(tmp_path: Path) -> None:
    # Ten levels would be 10**10 values if expanded; the memoised walk sees only the real nodes.
    path = write(tmp_path, "bomb.md", b"---\n" + billion_laughs(10) + b"---\n")
    with pytest.raises(CardError, match="alias bomb"):
        read_card(path)


def test_aliases_within_the_limit_give_independent_copies() -> None:
    data = parse_card(b"base: &b {x: 1, tags: [a]}\ncopy: *b\nlist: [*b, *b]\n", "c.yaml").data
    assert data["copy"] == data["base"] == {"x": 1, "tags": ["a"]}
    data["copy"]["tags"].append("b")
    assert data["base"]["tags"] == ["a"] and data["list"][0]["tags"] == ["a"]


def test_merge_keys_apply_with_own_keys_winning() -> None:
    raw = (b"one: &one {x: 1, y: 1}\ntwo: &two {y: 2, z: 2}\n"
           b"a: {<<: *one, y: 9}\nb:\n  <<: [*one, *two]\n  w: 0\nc: {<<: {q: 1}}\n")
    data = parse_card(raw, "m.yaml").data
    assert data["a"] == {"x": 1, "y": 9}
    assert data["b"] == {"x": 1, "y": 1, "z": 2, "w": 0}  # the first listed merge wins, as in PyYAML
    assert data["c"] == {"q": 1}
    assert data == yaml.load(raw, Loader=yaml.CSafeLoader)


def test_over_the_size_cap_is_refused_before_parsing(tmp_path: Path) -> None:
    big = b"---\ntitle: x\n---\n" + b"a" * cards.MAX_FILE_BYTES
    path = write(tmp_path, "big.md", big)
    with pytest.raises(CardError, match=r"cards are limited to 5 MB") as info:
        read_card(path)
    assert f"file is {len(big):,} bytes" in info.value.message
    huge = write(tmp_path, "huge.md", b"---\n---\n" + b"x" * (7 * 1024 * 1024 + 300_000))
    with pytest.raises(CardError, match=r"file is 7\.3 MB"):
        read_card(huge)
    with pytest.raises(CardError, match="limited to 5 MB"):
        parse_card(big, "big.md")


def test_exactly_at_the_cap_reads(tmp_path: Path) -> None:
    head = b"---\ntitle: x\n---\n"
    path = write(tmp_path, "cap.md", head + b"b" * (cards.MAX_FILE_BYTES - len(head)))
    card, raw = read_card(path)
    assert card.data == {"title": "x"} and len(raw) == cards.MAX_FILE_BYTES


def test_example_card_reads_with_its_file_state(example_card: Path) -> None:
    card, raw = read_card(str(example_card))
    assert raw == example_card.read_bytes()
    st = os.stat(example_card)
    assert card.state == cards.FileState(st.st_size, st.st_mtime_ns, hashlib.sha256(raw).hexdigest())
    data = card.data
    assert data["publishedDateTime"] == "2020-01-18T18:42:00Z"
    assert (data["quality"], data["heat"], data["published"]) == (54, -1, False)
    assert data["provider"] == {"name": "Deutsche Welle", "domain": "dw.com"}
    assert data["topics"] == ["AI", "Computer Vision"]
    assert data["images"][0]["width"] == 1024
    assert data["related"][1]["publishedDateTime"] == "2020-01-17T12:12:00Z"
    assert data["secured"].endswith(";jABQBNnYLclBN1sSA1wteg==")
    expected = yaml.load(raw.decode().split("---\n")[1], Loader=yaml.CSafeLoader)
    expected["publishedDateTime"] = "2020-01-18T18:42:00Z"
    for item, when in zip(expected["related"], ("2020-01-20T17:58:00Z", "2020-01-17T12:12:00Z")):
        item["publishedDateTime"] = when
    assert data == expected


def test_unreadable_paths_are_card_errors(tmp_path: Path) -> None:
    with pytest.raises(CardError, match="cannot read the file"):
        read_card(str(tmp_path / "missing.md"))
    with pytest.raises(CardError, match=r"not a regular file \(a folder\)"):
        read_card(str(tmp_path))


def test_bom_and_crlf_are_recorded_and_the_body_kept() -> None:
    raw = BOM + b"---  \r\ntitle: T\r\nquality: 5\r\n---\t\r\n\r\n# Body\r\nline two\r\n"
    doc = split(raw, "c.md")
    assert doc.bom and doc.newline == "\r\n"
    assert doc.text == raw[3:].decode()
    assert doc.yaml_text == "title: T\r\nquality: 5\r\n"
    assert doc.text[doc.body_start:] == "\r\n# Body\r\nline two\r\n"
    assert doc.front_matter and doc.line_offset == 1
    assert parse_card(raw, "c.md").data == {"title": "T", "quality": 5}


def test_body_with_dashes_and_yaml_like_text_is_left_alone() -> None:
    raw = b"---\ntitle: T\n---\nbody: not yaml\n---\nmore\n"
    doc = split(raw, "c.md")
    assert doc.text[doc.body_start:] == "body: not yaml\n---\nmore\n"
    assert parse_card(raw, "c.md").data == {"title": "T"}


@pytest.mark.parametrize("raw", [b"---\n---\n", b"---\r\n---\r\n", b"---   \n---\t\nbody", b"---\n# only a comment\n---\n",
                                 BOM + b"---\n---"])
def test_empty_front_matter_is_an_empty_card(raw: bytes) -> None:
    assert parse_card(raw, "e.md").data == {}


def test_compose_marks_are_relative_to_the_yaml_region() -> None:
    doc = split(b"---\n\ntitle: T\nquality: 5\n---\n", "c.md")
    node = cards.compose(doc, "c.md")
    assert node is not None
    key = node.value[1][0]
    assert key.value == "quality"
    assert key.start_mark.line == 2 and key.start_mark.line + doc.line_offset + 1 == 4
    assert doc.yaml_text[key.start_mark.index:key.end_mark.index] == "quality"
    assert cards.construct(node) == {"title": "T", "quality": 5}
    assert cards.compose(split(b"---\n---\n", "e.md"), "e.md") is None


def test_yaml_files_plain_or_front_matter() -> None:
    assert parse_card(b"title: T\n", "c.yaml").data == {"title": "T"}
    assert parse_card(b"---\ntitle: T\n", "c.YML").data == {"title": "T"}  # one document with a start marker
    doc = split(b"---\ntitle: T\n---\n\n", "c.yaml")  # front matter with nothing after it
    assert doc.front_matter and doc.yaml_text == "title: T\n"
    plain = split(b"title: T\n", "c.yaml")
    assert not plain.front_matter and plain.body_start == len(plain.text)


SCALARS = [
    ("2020-01-18T18:42:00Z", "2020-01-18T18:42:00Z"),
    ("2016-01-24 14:36:05 -0800", "2016-01-24 14:36:05 -0800"),
    ("2020-01-18", "2020-01-18"),
    ("2001-12-14t21:59:43.10-05:00", "2001-12-14t21:59:43.10-05:00"),
    ("'2013-05-06 02:12:52 +0200'", "2013-05-06 02:12:52 +0200"),
    ("54", 54), ("-1", -1), ("+5", 5), ("0", 0), ("0x1F", 31), ("017", 15), ("1_000", 1000), ("0b101", 5),
    ("190:20:30", 685230),
    ("1.5", 1.5), ("-2.5e+3", -2500.0), (".inf", ".inf"), ("-.Inf", "-.Inf"), ("1e3", "1e3"),
    ("1.0e+400", "1.0e+400"), ("9223372036854775808", 2**63),
    ("yes", True), ("No", False), ("on", True), ("OFF", False), ("true", True), ("False", False),
    ("~", None), ("null", None), ("", None), ("'54'", "54"), ('"true"', "true"), ("!!str 5", "5"),
    ("!!binary aGVsbG8=", "aGVsbG8="), ("=", "="), ("! 12", None), ("!!null ''", None),
    ("|\n  line\n  two", "line\ntwo\n"), (">-\n  folded\n  text", "folded text"),
]


@pytest.mark.parametrize(("text", "value"), SCALARS, ids=[s[0] for s in SCALARS])
def test_scalars_become_plain_values(loader: str, text: str, value: object) -> None:
    data = parse_card(f"---\nv: {text}\n---\n".encode(), "s.md").data
    if text == "! 12":  # the non-specific tag: whatever PyYAML's own loader makes of it
        value = yaml.load("v: ! 12", Loader=cards._Loader)["v"]
    assert data["v"] == value and type(data["v"]) is type(value)


def test_nan_and_infinities_stay_text() -> None:
    # JSON (so the library) has no NaN or infinity: such a float is the file's own text, like a timestamp.
    data = parse_card(b"v: .NaN\nw: -.inf\nx: !!float .inf\n", "n.yaml").data
    assert data == {"v": ".NaN", "w": "-.inf", "x": ".inf"}


def test_keys_keep_their_types_and_timestamps_stay_text_inside_lists() -> None:
    data = parse_card(b"2: two\ntrue: yes\n~: n\nlist: [2020-01-01, {when: 2020-01-01 10:00:00}]\n", "k.yaml").data
    assert data == {2: "two", True: True, None: "n", "list": ["2020-01-01", {"when": "2020-01-01 10:00:00"}]}


def test_card_error_pickles_for_the_process_pool() -> None:
    err = CardError("/a/b.md", "duplicate key 'x' (first on line 2)", 3, 1)
    back = pickle.loads(pickle.dumps(err))
    assert (back.path, back.message, back.line, back.column) == (err.path, err.message, 3, 1)
    assert str(back) == "/a/b.md:3:1: duplicate key 'x' (first on line 2)"
    assert str(CardError("p", "m")) == "p: m"


@pytest.mark.parametrize(("name", "ok"), [("a.txt", True), ("A.MD", True), ("x.markdown", True), ("c.Yaml", True),
                                          ("c.yml", True), ("c.json", False), ("yaml", False), ("c.md.bak", False)])
def test_is_card_path(name: str, ok: bool) -> None:
    assert cards.is_card_path(name) is ok


# --- generated round trips: anything yaml.safe_dump writes reads back equal --------------------------

# NEL/LS/PS are left out: PyYAML itself reads safe_dump(..., allow_unicode=True) of them back as a space.
_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x85\u2028\u2029"), max_size=30)
_scalars = st.one_of(st.none(), st.booleans(), st.integers(), _text,
                     st.floats(allow_nan=False, allow_infinity=False),  # infinities stay text
                     st.sampled_from(["2020-01-18T18:42:00Z", "yes", "0x1F", "---", "..."]))
_values = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                         st.dictionaries(_text, inner, max_size=4)), max_leaves=12)
_cards = st.dictionaries(_text, _values, max_size=6)
_STYLES = [{"default_flow_style": False}, {"default_flow_style": True}, {"default_flow_style": None},
           {"default_flow_style": False, "allow_unicode": True, "width": 20}, {"canonical": True},
           {"default_flow_style": False, "indent": 4, "sort_keys": False}]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_cards, style=st.sampled_from([i for i, s in enumerate(_STYLES) if "canonical" not in s]),
       crlf=st.booleans(), bom=st.booleans(),
       body=st.sampled_from(["", "\n# Body\n---\nx: 1\n", "text"]))
def test_safe_dump_round_trips_as_front_matter(data: dict, style: int, crlf: bool, bom: bool, body: str) -> None:
    # (canonical output opens with its own "---" line, so it can only be a plain .yaml file: below)
    text = yaml.safe_dump(data, **_STYLES[style])
    if crlf:
        text = text.replace("\n", "\r\n")
    raw = (BOM if bom else b"") + f"---\n{text}---\n{body}".encode()
    card = parse_card(raw, "gen.md")
    assert card.data == data
    doc = split(raw, "gen.md")
    assert doc.text[doc.body_start:] == body


@settings(max_examples=100, deadline=None)
@given(data=_cards, style=st.sampled_from(range(len(_STYLES))))
def test_plain_yaml_reads_as_pyyaml_does(data: dict, style: int) -> None:
    text = yaml.safe_dump(data, **_STYLES[style])
    assert parse_card(text.encode(), "gen.yaml").data == yaml.load(text, Loader=yaml.CSafeLoader) == data


# --- the card loader's resolver gives PyYAML's own tags ---------------------------------------------

_PLAIN_WORDS = ["", "~", "null", "Null", "NULL", "nULL", "true", "True", "TRUE", "tRUE", "yes", "No", "off",
                "On", "y", "n", "0", "017", "0x1F", "0b101", "1_000", "190:20:30", "+5", "-1", "1.5", "-.inf",
                ".NaN", ".nan.", "1e3", "6.8523015e+5", "2020-01-18", "2020-01-18T18:42:00Z", "2020-1-1 1:2:3",
                "<<", "=", "==", "!", "&a", "*b", "title", "Computer Vision", "https://example.com", "-", ".",
                "00:00"]


def _pyyaml_tag(value: str) -> str:
    return yaml.resolver.Resolver().resolve(yaml.ScalarNode, value, (True, False))


@pytest.mark.parametrize("value", _PLAIN_WORDS)
def test_plain_tags_match_pyyaml(value: str) -> None:
    assert cardnodes.plain_tag(value) == _pyyaml_tag(value)
    assert cardnodes.plain_tag(value) == _pyyaml_tag(value)  # again, from the memo


_DATE_LIKE = r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ][0-9:.]{1,12}(Z|[-+][0-9:]{1,5})?)?"


@settings(max_examples=300, deadline=None)
@given(value=st.one_of(_text, st.from_regex(r"[-+.0-9:_eE]{1,12}", fullmatch=True),
                       st.from_regex(_DATE_LIKE, fullmatch=True)))
def test_plain_tags_match_pyyaml_generated(value: str) -> None:
    assert cardnodes.plain_tag(value) == _pyyaml_tag(value)


def test_plain_tag_memo_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cardnodes, "_plain_tags", {})
    for n in range(cardnodes._PLAIN_CACHE_MAX * 2 + 10):
        assert cardnodes.plain_tag(str(n)) == "tag:yaml.org,2002:int"
    assert 0 < len(cardnodes._plain_tags) <= cardnodes._PLAIN_CACHE_MAX


def _tags(node: yaml.Node) -> list[tuple[str, str]]:
    out = [(type(node).__name__, node.tag)]
    if isinstance(node, yaml.SequenceNode):
        for item in node.value:
            out += _tags(item)
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            out += _tags(key) + _tags(value)
    return out


@pytest.mark.parametrize("loader_class", [yaml.CSafeLoader, yaml.SafeLoader])
def test_card_loader_composes_the_same_tags(loader_class: type) -> None:
    seed = Path(__file__).resolve().parents[2] / "seeds" / "000_63d795e8c7832238.txt"
    region = split(seed.read_bytes(), seed.name).yaml_text
    region += "extra: [~, 1, 0x1F, 2.5, yes, 2020-01-18, '5', !!str 7, ! 8, \"x\", {a: null}, <<, =]\n"
    ours = type("Ours", (cardnodes._FastResolver, loader_class), {})
    assert _tags(yaml.compose(region, Loader=ours)) == _tags(yaml.compose(region, Loader=loader_class))
