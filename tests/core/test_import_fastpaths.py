"""The cold import's per-card shortcuts give exactly the answers of the general code they stand in front of.

Issue 12 cut a worker's per-card work: tags resolved by a word table and one combined pattern, the value
builder skipping pattern checks where no explicit tag can be, the reader telling the problem check when no
value can be a number kept as text, the problem rules taking the usual value as it is, and the importer's
own record. Each test here compares a shortcut with the general answer on generated and real input.
"""

from __future__ import annotations

import gc
import json
import os
import threading
import weakref
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from curator.core import cardnodes, cards, fields, importer, store_rows
from curator.core.cards import CardError, parse_card

ROOT = Path(__file__).resolve().parents[2]
_PYYAML = yaml.resolver.Resolver()


def _pyyaml_tag(value: str) -> str:
    return _PYYAML.resolve(yaml.ScalarNode, value, (True, False))


def _card_loader_tag(value: str, implicit: tuple[bool, bool] = (True, False)) -> str:
    loader = cardnodes.Loader("a: 1")
    try:
        return str(loader.resolve(yaml.ScalarNode, value, implicit))
    finally:
        loader.dispose()


# --- tag resolution ------------------------------------------------------------------------------------

_IMPLICIT_PATTERNS = list({id(r): r for rs in yaml.resolver.Resolver.yaml_implicit_resolvers.values()
                           for _, r in rs}.values())
#: Text that each implicit pattern matches (float, int, timestamp, bool, null, ...), and odd text besides.
_plain_values = st.one_of(
    st.one_of(*(st.from_regex(p) for p in _IMPLICIT_PATTERNS)),
    st.text(st.sampled_from("yYnNtTfFoOeEsSrRuUlLaA~<=!&*-+.0123456789xb_: \nZ"), max_size=8),
    st.sampled_from(sorted(cardnodes._WORD_TAGS)).flatmap(
        lambda w: st.sampled_from([w, w[:-1], w + " ", w + "x", w + "\n\n", w.upper(), w.swapcase()])),
    st.text(max_size=12),
)


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=_plain_values)
@example(value="yes\n")
@example(value="\n")
@example(value="")
@example(value="2020-01-18T18:42:00Z")
def test_the_card_loader_resolves_every_plain_scalar_as_pyyaml_does(value: str) -> None:
    want = _pyyaml_tag(value)
    assert cardnodes.plain_tag(value) == want
    assert _card_loader_tag(value) == want  # resolve's inlined copy of plain_tag
    assert cardnodes._pattern_tag(value) == cardnodes._first_match(value) or value[:1] in cardnodes._WORD_FIRSTS


def test_the_word_table_is_read_from_pyyamls_own_patterns() -> None:
    # Every first character whose patterns are literal words (bool, null, merge, value, yaml) is decided by
    # the table; the number patterns (float, int, timestamp) still run after a digit, a sign or a dot.
    assert cardnodes._WORD_FIRSTS == frozenset("yYnNtTfFoO~<=!&*") | {""}
    assert cardnodes._PATTERN_FIRSTS == frozenset("-+.0123456789")
    for word, tag in cardnodes._WORD_TAGS.items():
        assert _pyyaml_tag(word) == tag != cardnodes.STR, word
    assert {"yes", "True", "OFF", "null", "~", "", "<<", "=", "no\n"} <= set(cardnodes._WORD_TAGS)
    assert "\n" not in cardnodes._WORD_TAGS  # '' is null, but "\n" starts with no resolver's character


def test_a_pattern_that_is_not_a_list_of_words_is_not_taken_for_one() -> None:
    import re

    assert cardnodes._literal_words(re.compile(r"^(?:yes|no)$")) == ["yes", "no"]
    assert cardnodes._literal_words(re.compile(r"^(?:\*|&)$")) == ["*", "&"]
    for pattern in (r"^(?:ye+s|no)$", r"^(?:[0-9]+)$", r"^(?:a|b)", r"^(?:a\|b)$", r"^(?:a.b)$", r"^(?:\d)$"):
        assert cardnodes._literal_words(re.compile(pattern)) is None, pattern


@pytest.mark.parametrize("value", ["'5'", '"true"', "|\n  12\n", ">\n  null\n"])
def test_quoted_and_block_scalars_stay_text(value: str) -> None:
    assert parse_card(f"---\nv: {value}\n---\n".encode(), "q.md").data["v"] in ("5", "true", "12\n", "null\n")


# --- the value builder without pattern checks -----------------------------------------------------------

@pytest.mark.parametrize("region, tags", [
    ("title: Wow! big\n", False), ("a: b!\n", False), ("a: 'x!'\n", False), ("a: !!int 1\n", True),
    ("!!map {a: 1}\n", True), ("a: [!x 1]\n", True), ("a: {b: !x 1}\n", True), ("a:\n- !x 1\n", True),
    ("a: 'x !'\n", True),  # a false alarm costs only the checks
])
def test_may_have_tag_finds_every_tag_a_text_can_hold(region: str, tags: bool) -> None:
    assert cardnodes.may_have_tag(region) is tags


@pytest.mark.parametrize("text, message", [
    ("a: !!int abc\n", "'abc' is not a valid !!int value"),
    ("a: [1, !!float x]\n", "'x' is not a valid !!float value"),
    ("a: {b: !!bool maybe}\n", "'maybe' is not a valid !!bool value"),
    ("a: !!timestamp nope\n", "'nope' is not a valid !!timestamp value"),
])
def test_an_explicit_tag_that_does_not_fit_its_value_is_still_refused(text: str, message: str) -> None:
    with pytest.raises(CardError, match=message):
        parse_card(f"---\n{text}---\n".encode(), "t.md")


_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x85\u2028\u2029"), max_size=20)
_scalars = st.one_of(st.none(), st.booleans(), st.integers(), _text, st.floats(allow_nan=False, allow_infinity=False),
                     st.sampled_from(["2020-01-18T18:42:00Z", "yes", "0x1F", ".inf", "1e400", "9" * 4400, "-.NaN"]))
_values = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                         st.dictionaries(_text, inner, max_size=4)), max_leaves=12)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.dictionaries(_text, _values, max_size=6), flow=st.sampled_from([False, True, None]))
def test_the_builder_without_pattern_checks_builds_what_the_checks_build(data: dict[Any, Any], flow: Any) -> None:
    region = yaml.safe_dump(data, default_flow_style=flow, allow_unicode=True)
    node = yaml.compose(region, Loader=cardnodes.Loader)
    if not isinstance(node, yaml.MappingNode) or cardnodes.may_have_anchor(region):
        return
    built = []
    for tags in (True, False):
        builder = cardnodes.TreeBuilder("g.yaml", 0, len(region), tags=tags)
        built.append((builder.build(node), builder.number_text))
    assert built[0] == built[1]
    assert built[0][0] == yaml.load(region, Loader=yaml.CSafeLoader) or _has_unfit(built[0][0])


def _has_unfit(value: Any) -> bool:
    return fields._any_number_text(value if isinstance(value, dict) else {"v": value})


# --- the reader tells the problem check when no value is a number kept as text ---------------------------

@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.dictionaries(st.sampled_from([*fields.KNOWN_FIELDS, "x", "views"]), _values, max_size=6),
       quoted=st.booleans())
def test_number_text_is_false_only_when_no_value_is_a_number_kept_as_text(data: dict[str, Any], quoted: bool) -> None:
    text = yaml.safe_dump(data, default_style="'" if quoted else None, allow_unicode=True)
    try:
        card = parse_card(f"---\n{text}---\n".encode(), "n.md")
    except CardError:
        return
    found = fields._any_number_text(card.data)
    assert card.number_text or not found
    assert fields.summarize(card.data, number_text=card.number_text) == fields.summarize(card.data)


@pytest.mark.parametrize("value", ["'.inf'", '".NaN"', "1.0e+400", ".inf", "-.Inf", "9" * 4400, "['.nan']",
                                   "{a: '1.0e+999'}", "!!str .inf"])
def test_a_card_holding_a_number_kept_as_text_says_so(value: str) -> None:
    card = parse_card(f"---\ntitle: t\nextra: {value}\n---\n".encode(), "n.md")
    assert card.number_text
    assert [p.kind for p in fields.summarize(card.data, number_text=card.number_text).problems] == ["number"]


def test_a_card_with_dates_and_numbers_only_needs_no_number_walk() -> None:
    raw = b"---\ntitle: '5 ways'\nquality: 50\nheat: -1\npublishedDateTime: 2020-01-18T18:42:00Z\n" \
          b"images:\n  - {url: 'https://x.test/a.jpg', width: 640}\nextra: 2020-01-01\n---\n"
    assert parse_card(raw, "d.md").number_text is False


# --- the problem rules' usual-value shortcuts ------------------------------------------------------------

_boundary = st.one_of(
    st.sampled_from([0, 100, -1, 101, -2, True, False, None, 50.0, "50", " 7 ", 2**63, 2**63 - 1, -(2**63) - 1,
                     "https://example.com/a", "http://x", "HTTPS://A.B:8/x?y#z", " https://x.test", "https://x.test ",
                     "https://x .test", "ftp://x", "http://[::1]/", "http://", "caf\u00e9", "Russia\u00e2\u20ac\u2122s",
                     "plain text", "", [], {}, ["a"], {"name": "n"}, {"name": 5}, {"domain": ["d"]},
                     "2020-01-18T18:42:00Z", "2020-02-30", "not a date", "2020-01-18 10:00 +05:30", 5]),
    st.integers(-3, 103), st.text(max_size=6),
)
_sizes = st.one_of(st.sampled_from([0, -1, 2**63 - 1, 2**63, True, 1.5, "640", None]), st.integers(-3, 3))
_image = st.one_of(
    st.fixed_dictionaries({"url": st.sampled_from(["https://x.test/a.jpg", "https://x.test/b ", "ftp://x", 5])},
                          optional={"width": _sizes, "height": _sizes, "title": st.one_of(_text, st.integers())}),
    st.dictionaries(st.sampled_from(["url", "width", "height", "title", "x"]), _boundary, max_size=4),
    _boundary,
)
_article = st.dictionaries(
    st.sampled_from(["category", "title", "excerpt", "type", "secured", "publishedDateTime", "sourceUrl", "ampUrl",
                     "cdnAmpUrl", "quality", "provider", "images"]),
    st.one_of(_boundary, st.lists(_image, max_size=3)), max_size=8)


def _general_article_problems(data: dict[str, Any], prefix: str = "") -> list[fields.Problem]:
    """The rules of fields._article_problems, each through its own general check (no shortcut)."""
    out: list[fields.Problem] = []
    for name in fields._TEXT_FIELDS:
        if name in data:
            fields._text_problems(prefix + name, data[name], out, name in fields._MOJIBAKE_FIELDS)
    if "publishedDateTime" in data:
        fields._date_problems(prefix + "publishedDateTime", data["publishedDateTime"], out)
    for name in fields._URL_FIELDS:
        if name in data:
            fields._url_problems(prefix + name, data[name], out)
    if "quality" in data and (found := fields._range_problem(prefix + "quality", data["quality"], False)):
        out.append(found)
    if "provider" in data:
        fields._provider_problems(prefix + "provider", data["provider"], out)
    if "images" in data:
        images = data["images"]
        if not isinstance(images, list):
            fields._image_problems(prefix + "images", images, out)
        else:
            for i, image in enumerate(images):
                fields._one_image_problems(f"{prefix}images[{i}]", image, out)
    return out


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=_article, heat=_boundary)
def test_the_rules_shortcuts_give_the_general_checks_answers(data: dict[str, Any], heat: Any) -> None:
    out: list[fields.Problem] = []
    fields._article_problems(data, out)
    assert out == _general_article_problems(data)
    got = fields._rule_problems({"heat": heat}, None)
    assert got == ([p] if (p := fields._range_problem("heat", heat, True)) else [])


@settings(max_examples=1000, deadline=None)
@given(images=st.lists(_image, max_size=3))
def test_the_image_shortcut_gives_the_general_checks_answers(images: list[Any]) -> None:
    out: list[fields.Problem] = []
    fields._image_problems("images", images, out)
    assert out == _general_article_problems({"images": images})


def test_a_date_that_leaves_the_calendar_in_utc_is_a_problem_not_a_failure() -> None:
    # 0001-01-01 00:00 at +05:00 is before year 1 in UTC: it was an OverflowError that failed the import.
    for text in ("0001-01-01T00:00:00+05:00", "9999-12-31T23:00:00-05:00"):
        assert fields.normalize_date(text) is None
        summary = fields.summarize({"publishedDateTime": text, "related": [{"publishedDateTime": text}]})
        assert [p.field for p in summary.problems][:2] == ["publishedDateTime", "related[0].publishedDateTime"]
        assert summary.date is None
    assert fields.normalize_date("0001-01-01T05:00:00+05:00") == "1-01-01T00:00:00"  # strftime's own year


# --- the importer's record ------------------------------------------------------------------------------

def _corpus_files() -> list[Path]:
    found = sorted((ROOT / "seeds").rglob("*.md"))[:150]
    corpora = ROOT.parent / "shared" / "corpora"
    if corpora.is_dir():
        found += sorted(p for p in corpora.rglob("*") if p.suffix in (".md", ".markdown"))[:150]
    return found


def _assert_same_record(record: tuple[Any, ...], expected: tuple[Any, ...]) -> None:
    """The importer's record is card_record's, its document the same JSON (parsed_doc's text)."""
    assert record[0] == expected[0] and record[2:] == expected[2:]
    assert json.loads(record[1]) == json.loads(expected[1])


@pytest.mark.parametrize("data", [
    {"title": "Ünïcode ✓", "n": 2**63, "m": -(2**63), "f": 1e16, "g": -0.0, "l": [None, True, {"x": 1.5}]},
    {2: "two", True: "yes", None: "n", 1.5: "f"},  # keys the reader keeps as read: JSON's text for them
    {"big": 10**30},  # past 64 bits: orjson refuses it, the json module writes it
    {"s": "x\ud800"},  # a lone surrogate (from an escape): made storable, as library_doc does
])  # fmt: skip
def test_parsed_doc_is_library_docs_json(data: dict[Any, Any]) -> None:
    safe, doc = store_rows.library_doc(data)
    got, fast = store_rows.parsed_doc(data)
    assert got == safe and json.loads(fast) == json.loads(doc)
    fast.encode("utf-8")


def test_the_importers_record_is_card_record_on_real_cards() -> None:
    files = _corpus_files()
    assert len(files) >= 100
    compared = 0
    for path in files:
        raw = path.read_bytes()
        try:
            card = parse_card(raw, str(path))
        except CardError:
            continue
        state = cards.FileState(len(raw), 1, "0" * 64)
        _assert_same_record(importer._record(str(path), state, card, 7.0),
                            tuple(store_rows.card_record(str(path), state, card.data, 7.0)))
        compared += 1
    assert compared >= 100


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.dictionaries(st.sampled_from([*fields.KNOWN_FIELDS, "date", "x"]),
                            st.one_of(_values, _boundary, st.lists(_article, max_size=2)), max_size=8))
def test_the_importers_record_is_card_record_on_generated_cards(data: dict[str, Any]) -> None:
    text = yaml.safe_dump(data, allow_unicode=True)
    try:
        card = parse_card(f"---\n{text}---\n".encode(), "g.md")
    except CardError:
        return
    state = cards.FileState(1, 2, "0" * 64)
    record = importer._record("/g.md", state, card, 3.0)
    _assert_same_record(record, tuple(store_rows.card_record("/g.md", state, card.data, 3.0)))
    assert record[0][store_rows.FILE_COLUMNS.index("problems")] == len(fields.problems(json.loads(record[1])))


def test_the_workers_keep_a_whole_flush_in_flight() -> None:
    # While the parent stores a batch it takes no result: the chunks submitted ahead must cover the batch,
    # or the workers run dry and wait (as they did a third of the way into each flush, at 4 a worker).
    for workers in (1, 2, 4):
        assert importer._in_flight(workers) * importer.CHUNK >= importer.BATCH + 2 * workers * importer.CHUNK


# --- the collector in a pooled import -------------------------------------------------------------------

class _Cyclic:
    """An object in a reference cycle: only the cyclic collector frees it."""

    def __init__(self) -> None:
        self.me = self


def test_a_parse_worker_runs_without_the_collector_yet_each_chunk_frees_what_the_last_left_cyclic(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with ProcessPoolExecutor(1, mp_context=importer.pool_context(), initializer=importer._start_worker) as pool:
        assert pool.submit(gc.isenabled).result() is False
    enabled = gc.isenabled()
    monkeypatch.setattr(importer, "_in_worker", True)  # as _start_worker leaves a worker
    gc.disable()
    try:
        left = weakref.ref(_Cyclic())
        assert left() is not None  # nothing collects it while the collector is off ...
        assert importer._load_chunk([], 1.0) == []
        assert left() is None  # ... until the next chunk starts
    finally:
        if enabled:
            gc.enable()


def test_a_pooled_import_pauses_the_parents_collector_only_while_it_runs(tmp_path: Path) -> None:
    from curator.core.store import Store

    folder = tmp_path / "cards"
    folder.mkdir()
    for i in range(importer.POOL_THRESHOLD + 20):
        (folder / f"c{i:03}.md").write_text(f"---\ntitle: Card {i}\nquality: {i % 100}\n---\n", encoding="utf-8")
    seen: list[bool] = []
    assert gc.isenabled()
    with Store(tmp_path / "lib.sqlite") as store:
        report = importer.import_paths(store, [str(folder)], lambda done, total: seen.append(gc.isenabled()),
                                       workers=2)  # fmt: skip
    assert report.added == importer.POOL_THRESHOLD + 20
    assert gc.isenabled()
    if threading.active_count() == 1:  # a process of one thread: the CLI's case
        assert seen[1:-1] and not any(seen[1:-1])
    else:  # beside other threads (the GUI's case) the collector keeps running
        assert all(seen)


# --- reading a file -------------------------------------------------------------------------------------

def test_a_card_file_is_read_in_one_read_yet_a_short_read_before_its_end_reads_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "c.md"
    path.write_bytes(b"---\ntitle: A card\n---\n" + b"x" * 5000)
    real_read = os.read
    calls: list[int] = []

    def counted(fd: int, n: int) -> bytes:
        calls.append(n)
        return real_read(fd, n)

    monkeypatch.setattr(os, "read", counted)
    raw, _ = cards.read_bounded(str(path))
    assert raw == path.read_bytes() and len(calls) == 1  # no second read to meet the end

    def trickling(fd: int, n: int) -> bytes:  # a reader that hands back at most 1,000 bytes a call
        calls.append(n)
        return real_read(fd, min(n, 1000))

    calls.clear()
    monkeypatch.setattr(os, "read", trickling)
    raw, _ = cards.read_bounded(str(path))
    assert raw == path.read_bytes() and len(calls) == 6
