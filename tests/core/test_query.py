"""The query language parser on its own: text -> tree, errors with columns, text round trips."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curator.core.query import (
    And,
    Compare,
    Field,
    Flag,
    Not,
    Or,
    Phrase,
    QueryError,
    Word,
    and_,
    or_,
    parse,
    to_text,
    top_terms,
    with_term,
    without_term,
)

W = Word
EXAMPLES: list[tuple[str, object]] = [
    ("", None),
    ("   \t ", None),
    ("ai", W("ai")),
    ("ai vision", And((W("ai"), W("vision")))),
    ("  ai   vision  ", And((W("ai"), W("vision")))),
    ("ai OR ml", Or((W("ai"), W("ml")))),
    ("ai or ml", And((W("ai"), W("or"), W("ml")))),  # only uppercase OR is the keyword
    ("ai OR ml vision", Or((W("ai"), And((W("ml"), W("vision")))))),
    ("ai ml OR vision", Or((And((W("ai"), W("ml"))), W("vision")))),
    ("a OR b OR c", Or((W("a"), W("b"), W("c")))),
    ("(ai OR ml) vision", And((Or((W("ai"), W("ml"))), W("vision")))),
    ("(ai)", W("ai")),
    ("((ai))", W("ai")),
    ("(a b) c", And((W("a"), W("b"), W("c")))),  # nested ANDs flatten
    ("(a OR b) OR c", Or((W("a"), W("b"), W("c")))),
    ("a(b OR c)", And((W("a"), Or((W("b"), W("c")))))),
    ("recogni*", W("recogni", prefix=True)),
    ("*", W("*")),
    ("**", W("*", prefix=True)),
    ("covid-19", W("covid-19")),
    ("C++", W("C++")),
    ("10:30", W("10:30")),  # not a field: names start with a letter
    ("-ai", Not(W("ai"))),
    ("--ai", Not(Not(W("ai")))),
    ("-(a b)", Not(And((W("a"), W("b"))))),
    ("-(a OR b) c", And((Not(Or((W("a"), W("b")))), W("c")))),
    ('-"face id"', Not(Phrase("face id"))),
    ("a -b", And((W("a"), Not(W("b"))))),
    ('"face recognition"', Phrase("face recognition")),
    ('"say ""hi"""', Phrase('say "hi"')),
    ('""', Phrase("")),
    ('"OR"', Phrase("OR")),
    ('"a:b (c)"', Phrase("a:b (c)")),
    ('a"b c"d', And((W("a"), Phrase("b c"), W("d")))),
    ("topic:AI", Field("topic", "AI")),
    ("Topic:AI", Field("topic", "AI")),
    ("topic=AI", Field("topic", "AI")),
    ('topic:"Computer Vision"', Field("topic", "Computer Vision")),
    ('topic:"Computer Vision" ai', And((Field("topic", "Computer Vision"), W("ai")))),
    ("category:news", Field("category", "news")),
    ("provider:dw.com", Field("provider", "dw.com")),
    ("type:article", Field("type", "article")),
    ("path:/srv/cards/a:b", Field("path", "/srv/cards/a:b")),
    ("topic:OR", Field("topic", "OR")),
    ("-topic:AI", Not(Field("topic", "AI"))),
    ("published:true", Flag("published", True)),
    ("published:FALSE", Flag("published", False)),
    ("dirty:true", Flag("dirty", True)),
    ("problems:false", Flag("problems", False)),
    ("conflict:true", Flag("conflict", True)),
    ("missing:true", Flag("missing", True)),
    ("quality>=60", Compare("quality", ">=", 60)),
    ("quality:60", Compare("quality", "=", 60)),
    ("quality=60", Compare("quality", "=", 60)),
    ("heat<10", Compare("heat", "<", 10)),
    ("heat:-1", Compare("heat", "=", -1)),
    ("heat>-1", Compare("heat", ">", -1)),
    ("heat<=007", Compare("heat", "<=", 7)),
    ("date>=2020-01-01", Compare("date", ">=", "2020-01-01")),
    ("date<2020-02", Compare("date", "<", "2020-02")),
    ("date:2020-01", Compare("date", "=", "2020-01")),
    ("date>2020", Compare("date", ">", "2020")),
    ("date<2020-01-18T18:42", Compare("date", "<", "2020-01-18T18:42")),
    ("date<=2020-02-29T23:59:59", Compare("date", "<=", "2020-02-29T23:59:59")),
    (
        "quality>=60 published:false",
        And((Compare("quality", ">=", 60), Flag("published", False))),
    ),
    (
        "ai OR -topic:AI quality>60",
        Or((W("ai"), And((Not(Field("topic", "AI")), Compare("quality", ">", 60))))),
    ),
]


@pytest.mark.parametrize(("text", "tree"), EXAMPLES)
def test_parse_examples(text: str, tree: object) -> None:
    assert parse(text) == tree


ERRORS: list[tuple[str, str]] = [
    ("(ai OR ml) vision)", "unexpected ')' at column 18"),
    ("(ai OR ml) vision) b", "unexpected ')' at column 18"),
    (")", "unexpected ')' at column 1"),
    ("()", "unexpected ')' at column 2"),
    ("a ( ) b", "unexpected ')' at column 5"),
    ("(a", "unclosed '(' at column 1"),
    ("a ((b) c", "unclosed '(' at column 3"),
    ("(", "unclosed '(' at column 1"),
    ("foo:bar", "unknown field 'foo' at column 1"),
    ("ai Foo>=3", "unknown field 'Foo' at column 4"),
    ("http://example.com", "unknown field 'http' at column 1"),
    ('"abc', "unterminated quote at column 1"),
    ('ai "face', "unterminated quote at column 4"),
    ('"a""', "unterminated quote at column 1"),
    ('topic:"AI', "unterminated quote at column 7"),
    ("ai OR", "expected a term after 'OR' at column 4"),
    ("(ai OR) b", "expected a term after 'OR' at column 5"),
    ("OR ai", "unexpected 'OR' at column 1"),
    ("a OR OR b", "unexpected 'OR' at column 6"),
    ("(OR a)", "unexpected 'OR' at column 2"),
    ("-", "expected a term after '-' at column 1"),
    ("a - b", "expected a term after '-' at column 3"),
    ("a -", "expected a term after '-' at column 3"),
    ("(a -)", "expected a term after '-' at column 4"),
    ("-OR a", "expected a term after '-' at column 1"),
    ("quality>=abc", "quality takes a whole number, not 'abc' at column 10"),
    ("quality>=6.5", "quality takes a whole number, not '6.5' at column 10"),
    ("heat:99999999999999999999", "heat takes a whole number, not '99999999999999999999' at column 6"),
    ("published:maybe", "published takes true or false, not 'maybe' at column 11"),
    ("dirty:yes", "dirty takes true or false, not 'yes' at column 7"),
    ("date>=2020-13", "date takes YYYY, YYYY-MM or YYYY-MM-DD, not '2020-13' at column 7"),
    ("date:2021-02-29", "date takes YYYY, YYYY-MM or YYYY-MM-DD, not '2021-02-29' at column 6"),
    ("date:2020-1", "date takes YYYY, YYYY-MM or YYYY-MM-DD, not '2020-1' at column 6"),
    ("date<yesterday", "date takes YYYY, YYYY-MM or YYYY-MM-DD, not 'yesterday' at column 6"),
    ("topic>=AI", "'>=' does not apply to topic at column 6"),
    ("published<true", "'<' does not apply to published at column 10"),
    ("topic:", "topic needs a value at column 7"),
    ("a quality>=", "quality needs a value at column 12"),
    ("(" * 70 + "a" + ")" * 70, "query nested too deeply at column 65"),
]


@pytest.mark.parametrize(("text", "message"), ERRORS)
def test_parse_errors(text: str, message: str) -> None:
    with pytest.raises(QueryError) as info:
        parse(text)
    assert str(info.value) == message
    column = int(message.rsplit(" ", 1)[1])
    assert info.value.column == column
    assert str(info.value) == f"{info.value.message} at column {column}"


def test_query_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse("foo:bar")


@pytest.mark.parametrize(("text", "_tree"), [e for e in EXAMPLES if e[1] is not None])
def test_to_text_of_examples_parses_back(text: str, _tree: object) -> None:
    tree = parse(text)
    assert tree is not None
    assert parse(to_text(tree)) == tree


@pytest.mark.parametrize(
    ("tree", "text"),
    [
        (Compare("heat", "=", -1), "heat:-1"),
        (Compare("date", "<=", "2020-01"), "date<=2020-01"),
        (Field("topic", "Computer Vision"), 'topic:"Computer Vision"'),
        (Field("path", 'a"b'), 'path:"a""b"'),
        (Not(Or((W("a"), W("b")))), "-(a OR b)"),
        (Or((And((W("a"), W("b"))), W("c"))), "a b OR c"),
        (And((Or((W("a"), W("b"))), W("c"))), "(a OR b) c"),
        (Flag("published", False), "published:false"),
        (W("recog", prefix=True), "recog*"),
        (W("two words"), '"two words"'),  # a word that cannot be bare comes back as a phrase
        (W("OR"), '"OR"'),
        (W("-x"), '"-x"'),
        (W("topic:AI"), '"topic:AI"'),
    ],
)
def test_to_text_is_canonical(tree: object, text: str) -> None:
    assert to_text(tree) == text  # type: ignore[arg-type]


# --- hypothesis: any tree round-trips through text; any text parses or fails cleanly ----------

FLAGS = ["published", "dirty", "problems", "conflict", "missing"]
_FIELDISH = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(<=|>=|<|>|=|:)")


def _bare_word(text: str) -> bool:
    return not (text.startswith("-") or text == "OR" or _FIELDISH.match(text) or text.endswith("*"))


words = st.builds(
    Word,
    st.text("abcXYZ09éü+.'_:<>=*-", min_size=1, max_size=8).filter(_bare_word),
    st.booleans(),
)
dates = st.dates().map(lambda d: d.isoformat()).flatmap(
    lambda iso: st.sampled_from([iso[:4], iso[:7], iso, iso + "T12:30", iso + "T00:00:59"])
)
leaves = st.one_of(
    words,
    st.builds(Phrase, st.text(max_size=12)),
    st.builds(Field, st.sampled_from(["category", "provider", "topic", "type", "path"]), st.text(min_size=1)),
    st.builds(Flag, st.sampled_from(FLAGS), st.booleans()),
    st.builds(
        Compare,
        st.sampled_from(["quality", "heat"]),
        st.sampled_from(["<", "<=", ">", ">=", "="]),
        st.integers(-(10**9), 10**9),
    ),
    st.builds(Compare, st.just("date"), st.sampled_from(["<", "<=", ">", ">=", "="]), dates),
)
trees = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.builds(Not, inner),
        st.lists(inner, min_size=2, max_size=4).map(lambda ts: and_(*ts)),
        st.lists(inner, min_size=2, max_size=4).map(lambda ts: or_(*ts)),
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(trees)
def test_to_text_round_trips(tree: object) -> None:
    assert parse(to_text(tree)) == tree  # type: ignore[arg-type]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*'ab OR-()"*:<>=019', "topic", "quality", "date", "heat"])).map("".join))
def test_any_text_parses_or_raises_query_error(text: str) -> None:
    try:
        tree = parse(text)
    except QueryError as err:
        assert 1 <= err.column <= len(text) + 1
        return
    if tree is not None:
        assert parse(to_text(tree)) == tree


# --- facet helpers -----------------------------------------------------------------------------


def test_top_terms_spans() -> None:
    text = 'ai  topic:"Computer Vision" (a OR b) -x'
    units = top_terms(text)
    assert units is not None
    assert [text[s:e] for _, s, e in units] == ["ai", 'topic:"Computer Vision"', "(a OR b)", "-x"]
    assert units[1][0] == Field("topic", "Computer Vision")
    assert top_terms("  a OR b ") == [(Or((W("a"), W("b"))), 2, 8)]
    assert top_terms("  ") == []


@pytest.mark.parametrize(
    ("text", "term", "result"),
    [
        ("", "topic:AI", "topic:AI"),
        ("ai", "topic:AI", "ai topic:AI"),
        ("ai  ", 'topic:"Computer Vision"', 'ai topic:"Computer Vision"'),
        ("ai   vision", "topic:AI", "ai   vision topic:AI"),  # the user's spacing is kept
        ("ai topic:AI", "topic:AI", "ai topic:AI"),  # already there
        ("ai topic:AI", "topic:ai", "ai topic:AI"),  # field values compare case-insensitively
        ("ai OR ml", "topic:AI", "(ai OR ml) topic:AI"),
        ("ai", "topic:AI OR topic:ML", "ai (topic:AI OR topic:ML)"),
        ("", "topic:AI OR topic:ML", "(topic:AI OR topic:ML)"),
        ("ai OR ml", "ml OR ai", "(ai OR ml) (ml OR ai)"),
        ("ai OR ml", "ai OR ml", "ai OR ml"),
        ("ai", "   ", "ai"),
        ("ai", "-published:true", "ai -published:true"),
    ],
)
def test_with_term(text: str, term: str, result: str) -> None:
    assert with_term(text, term) == result
    assert parse(result) is not None


@pytest.mark.parametrize(
    ("text", "term", "result"),
    [
        ("ai topic:AI vision", "topic:AI", "ai vision"),
        ("topic:AI ai", "topic:AI", "ai"),
        ("ai   topic:AI", "topic:AI", "ai"),
        ("topic:AI", "topic:AI", ""),
        ("topic:AI", "TOPIC:ai", ""),
        ("topic:AI (x OR y) topic:AI", "topic:AI", "(x OR y)"),
        ('ai topic:"Computer Vision"', "topic:'Computer", 'ai topic:"Computer Vision"'),
        ("ai (topic:AI)", "topic:AI", "ai"),
        ("(ai topic:AI) x", "topic:AI", "(ai topic:AI) x"),  # only top-level terms are removed
        ("ai OR topic:AI", "topic:AI", "ai OR topic:AI"),
        ("ai OR topic:AI", "topic:AI OR ai", "ai OR topic:AI"),
        ("ai OR topic:AI", "ai OR topic:AI", ""),
        ("a -published:true b", "-published:true", "a b"),
        ("", "topic:AI", ""),
    ],
)
def test_without_term(text: str, term: str, result: str) -> None:
    assert without_term(text, term) == result


def test_with_then_without_restores_text() -> None:
    text = 'ai  "face id" OR x'
    added = with_term(text, "quality>=60")
    assert parse(added) == And((parse(text), Compare("quality", ">=", 60)))  # type: ignore[arg-type]
    assert parse(without_term(added, "quality>=60")) == parse(text)


def test_facet_helpers_reject_bad_text() -> None:
    with pytest.raises(QueryError):
        with_term("ai (", "topic:AI")
    with pytest.raises(QueryError):
        without_term("ai", "foo:bar")
