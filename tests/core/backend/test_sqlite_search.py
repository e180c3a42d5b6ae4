"""The SQLite query compiler (backend/sqlite_search.py) against a real library file: each query selects
exactly the expected cards, and the plans use the indexes."""

from __future__ import annotations

import json
import operator
import re
import time
from collections.abc import Iterator
from typing import Any

import peewee
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from playhouse.sqlite_ext import SqliteExtDatabase

from curator.core import schema
from curator.core.backend.sqlite_schema import create_all
from curator.core.backend.sqlite_search import SORT_COLUMNS, order_by, where
from curator.core.query import And, Compare, Field, Flag, Not, Or, QueryError, Term, Word, and_, or_, parse
from curator.core.schema import Card, CardIndex, CardTopic
from curator.core.search import SORT_KEYS, parse_sort

# id: title, excerpt, category, type, (provider name, domain), topics, quality, heat, published, date, path
CARDS: dict[int, tuple[Any, ...]] = {
    1: ("Police use face recognition app", "Clearview AI offers facial recognition software.", "news",
        "article", ("Deutsche Welle", "dw.com"), ["AI", "Computer Vision"], 54, -1, False,
        "2020-01-18T18:42:00", "/lib/News/000_dw.txt"),
    2: ("Facial recognition in Russia", "Yandex search engine uses facial recognition.", "news",
        "article", ("Complex", "complex.com"), ["AI"], 65, 10, True, "2020-01-20T17:58:00",
        "/lib/News/001_complex.txt"),
    3: ("Machine learning beats doctors", "A study of breast cancer screening.", "tech", "article",
        ("BBC", "bbc.co.uk"), ["AI", "Health"], 80, 50, True, "2020-02-01T00:00:00", "/lib/Tech/002.txt"),
    4: ("Stock markets near record", "Traders NEAR the close: shares rose.", "business", "article",
        ("Reuters", "reuters.com"), ["Finance"], 30, None, None, "2020-01-31T23:59:59",
        "/lib/Business/003.txt"),
    5: ("Café culture returns", "Coffee houses reopen.", "lifestyle", None, (None, None), [], None, 0,
        False, None, "/lib/Life/004.md"),
    6: ("Recognizing patterns: a primer", "How vision models learn.", "tech", "blog",
        ("Medium", "medium.com"), ["Computer Vision"], 60, None, False, "2019-12-31T23:59:59",
        "/lib/Tech/005.txt"),
    7: ("C++ 20 released", "The new standard adds modules.", "tech", "article",
        ("The Register", "theregister.com"), ["Programming"], 100, 100, True, "2020-03-15T12:00:00",
        "/lib/Tech/006.yaml"),
    8: (None, None, None, None, (None, None), [], None, None, None, None, "/lib/Other/Empty.TXT"),
    9: ('Election coverage: the ^ caret and "quotes"', "Polls NEAR(a b) close col:title", "news",
        "article", ("AP", "apnews.com"), ["Politics"], 0, -1, True, "2021-06-01T08:00:00",
        "/lib/News/007.txt"),
    10: ("Vision zero traffic plan", "Cities cut speed limits.", "news", "article",
         ("Deutsche Welle", "dw.com"), ["Transport"], 59, 9, False, "2020-01-01T00:00:00",
         "/lib/News/008.txt"),
    11: ("Recognition awards night", "Stars gather.", "culture", "article", ("Variety", "variety.com"),
         ["Culture"], 61, 10, True, "2020-02-29T12:00:00", "/lib/Culture/009.txt"),
    12: ("Computer vision conference opens", "Researchers meet in Seattle.", "tech", "event",
         ("IEEE", "ieee.org"), ["AI", "Computer Vision", "Research"], 75, -1, None, "2020-01-15T09:30:00",
         "/lib/Tech/010.txt"),
}
STATUS = {6: {"dirty": True}, 7: {"dirty": True, "conflict": True}, 8: {"missing": True},
          9: {"problems": 2}, 12: {"dirty": True, "problems": 1}}
ALL = set(CARDS)


def _fts_text(card: tuple[Any, ...]) -> dict[str, str]:
    title, excerpt, _, _, (name, domain), topics = card[:6]
    provider = " ".join(p for p in (name, domain) if p)
    return {"title": title or "", "excerpt": excerpt or "", "provider": provider, "topics": " ".join(topics)}


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqliteExtDatabase]:
    """A library file with the twelve cards above (Card + CardTopic + CardIndex rows)."""
    db = SqliteExtDatabase(str(tmp_path_factory.mktemp("lib") / "library.sqlite"))
    create_all(db)
    with db.bind_ctx(schema.MODELS), db.atomic():
        for cid, card in CARDS.items():
            title, excerpt, category, type_, (name, domain), topics, quality, heat, published = card[:9]
            date, path = card[9:]
            Card.create(
                id=cid, path=path, size=1, mtime_ns=1, sha256="0" * 64, category=category, title=title,
                excerpt=excerpt, published_at=date and date + "Z", date=date, type=type_, quality=quality,
                heat=heat, published=published, provider_name=name, provider_domain=domain,
                topics=json.dumps(topics), imported_at=time.time(), **STATUS.get(cid, {}),
            )
            for position, topic in enumerate(topics):
                CardTopic.create(card=cid, name=topic, position=position)
            CardIndex.insert(rowid=cid, **_fts_text(card)).execute()
    yield db
    db.close()


@pytest.fixture(autouse=True)
def bound(library: SqliteExtDatabase) -> Iterator[None]:
    # The models are bound to no database (each backend runs its queries on its own): bound here, for
    # the length of one test, so the compiled expressions can be run and shown as SQL directly.
    with library.bind_ctx(schema.MODELS):
        yield


def ids(text: str) -> set[int]:
    return {card.id for card in Card.select(Card.id).where(where(parse(text)))}


CASES: list[tuple[str, set[int]]] = [
    ("", ALL),
    # full text: title, excerpt, provider and topics
    ("recognition", {1, 2, 11}),
    ("RECOGNITION", {1, 2, 11}),
    ("recogni*", {1, 2, 6, 11}),
    ('"facial recognition"', {1, 2}),
    ('"recognition facial"', set()),
    ("vision", {1, 6, 10, 12}),  # 1 only through its topic "Computer Vision"
    ("dw", {1, 10}),  # provider domain
    ("cafe", {5}),
    ("café", {5}),
    ("vision -ai", {6, 10}),
    ("ai OR vision", {1, 2, 3, 6, 10, 12}),
    ("-recognition", ALL - {1, 2, 11}),
    ("-(ai OR vision)", {4, 5, 7, 8, 9, 11}),
    ('recognition -"facial recognition"', {11}),
    ("(recognition OR vision) -topic:AI", {6, 10, 11}),
    ("c++", {7}),
    ('""', ALL),
    ("++ *", ALL),
    ("ai ++", {1, 2, 3, 12}),
    ("-++", set()),
    ("ai OR ++", ALL),
    # FTS5 syntax in user text is plain text
    ("NEAR", {4, 9}),
    ('"NEAR(a b)"', {9}),
    ("AND", {9}),
    ("NOT", set()),
    ("^caret", {9}),
    ('"col:title"', {9}),
    ('"""quotes"""', {9}),
    ("recog* -*", set()),
    # text fields
    ("category:NEWS", {1, 2, 9, 10}),
    ("type:blog", {6}),
    ("-type:article", {5, 6, 8, 12}),  # cards without a type are "not article"
    ("provider:dw.com", {1, 10}),
    ('provider:"deutsche welle"', {1, 10}),
    ("provider:Deutsche", set()),
    ("topic:ai", {1, 2, 3, 12}),
    ('topic:"computer vision"', {1, 6, 12}),
    ("-topic:ai", ALL - {1, 2, 3, 12}),
    ("path:tech/", {3, 6, 7, 12}),
    ("path:.TXT", ALL - {5, 7}),
    ("path:_", {1, 2}),  # no LIKE wildcards
    ("path:%", set()),
    # flags
    ("published:true", {2, 3, 7, 9, 11}),
    ("published:false", {1, 4, 5, 6, 8, 10, 12}),  # false or absent
    ("-published:true", {1, 4, 5, 6, 8, 10, 12}),
    ("-published:false", {2, 3, 7, 9, 11}),
    ("dirty:true", {6, 7, 12}),
    ("dirty:false", ALL - {6, 7, 12}),
    ("conflict:true", {7}),
    ("missing:true", {8}),
    ("problems:true", {9, 12}),
    ("problems:false", ALL - {9, 12}),
    # quality: never matches a card without quality
    ("quality>=60", {2, 3, 6, 7, 11, 12}),
    ("quality<60", {1, 4, 9, 10}),
    ("-quality>=60", {1, 4, 5, 8, 9, 10}),
    ("quality:0", {9}),
    ("quality=100", {7}),
    # heat: a card without heat is -1
    ("heat:-1", {1, 4, 6, 8, 9, 12}),
    ("heat<10", {1, 4, 5, 6, 8, 9, 10, 12}),
    ("heat>=10", {2, 3, 7, 11}),
    ("heat>-1", {2, 3, 5, 7, 10, 11}),
    ("-heat:-1", {2, 3, 5, 7, 10, 11}),
    ("heat<=-2", set()),
    # dates: partial dates are whole periods
    ("date:2020-01", {1, 2, 4, 10, 12}),
    ("date<2020-02", {1, 2, 4, 6, 10, 12}),
    ("date<=2020-01", {1, 2, 4, 6, 10, 12}),
    ("date>2020-01-18", {2, 3, 4, 7, 9, 11}),
    ("date>=2020-01-18", {1, 2, 3, 4, 7, 9, 11}),
    ("date:2020", {1, 2, 3, 4, 7, 10, 11, 12}),
    ("date>2020", {9}),
    ("date<2020", {6}),
    ("date<2020-01-01", {6}),
    ("date=2020-02-29", {11}),
    ("date:2020-01-18T18:42", {1}),
    ("date>2020-01-31T23:59:58", {3, 4, 7, 9, 11}),
    ("-date:2020", {5, 6, 8, 9}),
    # combinations
    ("quality>=60 published:false", {6, 12}),
    ("(topic:AI OR topic:Health) -published:true", {1, 12}),
    ("ai quality>60 OR missing:true", {2, 3, 8, 12}),
    ("category:news (heat:-1 OR dirty:true)", {1, 9}),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_query_selects_expected_cards(text: str, expected: set[int]) -> None:
    assert ids(text) == expected


def test_words_of_one_group_share_one_match(library: SqliteExtDatabase) -> None:
    sql, params = Card.select(Card.id).where(where(parse("face recog* -police topic:AI"))).sql()
    assert sql.count("MATCH") == 1
    assert '(("face") AND ("recog"*)) NOT ("police")' in params
    assert ids("face recog* -police topic:AI") == set()
    assert ids("facial recog* -police topic:AI") == {2}


def test_user_values_are_parameters_never_sql() -> None:
    nasty = "x' OR 1=1; DROP TABLE card; --"
    for text in (f'topic:"{nasty}"', f'path:"{nasty}"', f'"{nasty}"', f'category:"{nasty}"'):
        sql, params = Card.select(Card.id).where(where(parse(text))).sql()
        assert "DROP" not in sql
        assert any("drop table" in str(p).lower() for p in params)
        assert ids(text) == set()
    assert Card.select().count() == len(CARDS)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from([*'ai recog*"():^-+NEAROT{}[],.$#@!?~\\\'', "NEAR", "col:"])).map("".join))
def test_any_user_text_runs_without_sqlite_errors(text: str) -> None:
    try:
        parse(text)
    except QueryError:
        return
    assert ids(text) <= ALL  # an FTS5 syntax error would raise peewee.OperationalError here


# --- a reference matcher in plain Python, compared with SQL on random filter trees ------------

FLAGS = ["published", "dirty", "problems", "conflict", "missing"]
_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "=": operator.eq}
_COLUMNS = {"category": 2, "type": 3}


def _tokens(card: tuple[Any, ...]) -> list[str]:
    return re.findall(r"[0-9a-z]+", " ".join(_fts_text(card).values()).lower())


def reference(cid: int, term: Term) -> bool:
    card, status = CARDS[cid], STATUS.get(cid, {})
    if isinstance(term, And):
        return all(reference(cid, t) for t in term.terms)
    if isinstance(term, Or):
        return any(reference(cid, t) for t in term.terms)
    if isinstance(term, Not):
        return not reference(cid, term.term)
    if isinstance(term, Word):
        return any(t.startswith(term.text) if term.prefix else t == term.text for t in _tokens(card))
    if isinstance(term, Field):
        value = term.value.lower()
        if term.name in _COLUMNS:
            return (card[_COLUMNS[term.name]] or "").lower() == value
        if term.name == "provider":
            return value in {(p or "").lower() for p in card[4]}
        if term.name == "topic":
            return value in {t.lower() for t in card[5]}
        return value in card[10].lower()
    if isinstance(term, Flag):
        if term.name == "published":
            return (card[8] is True) == term.value
        if term.name == "problems":
            return (status.get("problems", 0) > 0) == term.value
        return bool(status.get(term.name, False)) == term.value
    assert isinstance(term, Compare)
    if term.field == "heat":
        return _OPS[term.op](-1 if card[7] is None else card[7], term.value)
    if term.field == "quality":
        return card[6] is not None and _OPS[term.op](card[6], term.value)
    date, period = card[9], str(term.value)
    if date is None:
        return False
    inside = date.startswith(period)
    return {"=": inside, "<": date < period and not inside, "<=": date < period or inside,
            ">": date > period and not inside, ">=": date > period or inside}[term.op]


KINDS = ["news", "TECH", "article", "blog"]  # category and type values, in any case
OPS = st.sampled_from(["<", "<=", ">", ">=", "="])
leaves = st.one_of(
    st.builds(Word, st.sampled_from(["ai", "vision", "recognition", "recogni", "facial", "dw", "c", "zz"]),
              st.booleans()),
    st.builds(Field, st.sampled_from(["category", "type"]), st.sampled_from(KINDS)),
    st.builds(Field, st.just("provider"), st.sampled_from(["dw.com", "deutsche welle", "BBC", "x"])),
    st.builds(Field, st.just("topic"), st.sampled_from(["ai", "Computer Vision", "culture", "none"])),
    st.builds(Field, st.just("path"), st.sampled_from(["/lib/tech", ".txt", "news/0", "zz"])),
    st.builds(Flag, st.sampled_from(FLAGS), st.booleans()),
    st.builds(Compare, st.just("quality"), OPS, st.sampled_from([-1, 0, 30, 54, 59, 60, 61, 100, 101])),
    st.builds(Compare, st.just("heat"), OPS, st.sampled_from([-2, -1, 0, 9, 10, 50, 100])),
    st.builds(Compare, st.just("date"), OPS, st.sampled_from(
        ["2019", "2020", "2020-01", "2020-01-18", "2020-02-29", "2021-06-01T08:00", "2020-01-31T23:59:59"])),
)
trees = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.builds(Not, inner),
        st.lists(inner, min_size=2, max_size=3).map(lambda ts: and_(*ts)),
        st.lists(inner, min_size=2, max_size=3).map(lambda ts: or_(*ts)),
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(trees)
def test_sql_agrees_with_reference_matcher(term: Term) -> None:
    got = {card.id for card in Card.select(Card.id).where(where(term))}
    assert got == {cid for cid in CARDS if reference(cid, term)}


# --- sorting ------------------------------------------------------------------------------------


def sorted_ids(sort: list[tuple[str, bool]], text: str = "") -> list[int]:
    query = Card.select(Card.id).where(where(parse(text))).order_by(*order_by(sort))
    return [card.id for card in query]


def test_sort_nulls_last_both_ways_with_id_tiebreak() -> None:
    # quality: 54 65 80 30 - 60 100 - 0 59 61 75 (ids 1..12)
    assert sorted_ids([("quality", False)]) == [9, 4, 1, 10, 6, 11, 2, 12, 3, 7, 5, 8]
    assert sorted_ids([("quality", True)]) == [7, 3, 12, 2, 11, 6, 10, 1, 4, 9, 8, 5]
    # heat ties (-1: 1 9 12; 10: 2 11) break on id in the key's direction; NULL heat (4 6 8) last
    assert sorted_ids([("heat", False)]) == [1, 9, 12, 5, 10, 2, 11, 3, 7, 4, 6, 8]
    assert sorted_ids([("heat", True)]) == [7, 3, 11, 2, 10, 5, 12, 9, 1, 8, 6, 4]


def test_sort_by_several_keys_and_titles_ignore_case() -> None:
    assert sorted_ids([("category", False), ("quality", True)], "-missing:true") == [
        4, 11, 5, 2, 10, 1, 9, 7, 3, 12, 6]
    titles = [Card.get_by_id(i).title for i in sorted_ids([("title", False)], "category:tech")]
    assert titles == sorted(titles, key=str.lower)
    assert sorted_ids([("id", True), ("title", False)]) == sorted(CARDS, reverse=True)
    assert sorted_ids([]) == sorted(CARDS)


def test_every_sort_key_runs() -> None:
    assert tuple(SORT_COLUMNS) == SORT_KEYS  # the compiler sorts by every key the CLI and GUI offer
    for key in SORT_KEYS:
        for descending in (False, True):
            assert sorted(sorted_ids([(key, descending)])) == sorted(CARDS)


def test_parse_sort() -> None:
    assert parse_sort("date:desc, title") == [("date", True), ("title", False)]
    assert parse_sort("Quality:ASC") == [("quality", False)]
    assert parse_sort("") == []
    with pytest.raises(ValueError, match="unknown sort key 'colour'"):
        parse_sort("colour")
    with pytest.raises(ValueError, match="unknown sort direction 'up'"):
        parse_sort("date:up")
    with pytest.raises(ValueError):
        order_by([("colour", False)])


# --- indexes ------------------------------------------------------------------------------------


def plan(library: SqliteExtDatabase, text: str, sort: list[tuple[str, bool]] | None = None) -> str:
    query = Card.select(Card.id).where(where(parse(text)))
    if sort is not None:
        query = query.order_by(*order_by(sort))
    sql, params = query.sql()
    rows = library.execute_sql("EXPLAIN QUERY PLAN " + sql, params).fetchall()
    return "\n".join(row[-1] for row in rows)


def test_filters_use_indexes(library: SqliteExtDatabase) -> None:
    # SQLite's planner uses ANALYZE statistics once a real library has them; with none it still
    # picks the indexes for these shapes.
    assert "card_topic_name_card" in plan(library, "topic:AI")
    assert "card_category_id" in plan(library, "category:news")
    quality_plan = plan(library, "quality>=60 published:false")
    assert re.search(r"USING (COVERING )?INDEX card_(quality_id|published_date)", quality_plan), quality_plan
    assert "VIRTUAL TABLE INDEX" in plan(library, "ai vision")
    # A descending date sort walks the (date, id) index backwards: no temp b-tree for ORDER BY.
    assert "TEMP B-TREE" not in plan(library, "", [("date", True)])


def test_deep_and_wide_queries_compile(library: SqliteExtDatabase) -> None:
    wide = " ".join(f"quality>{i % 100}" for i in range(1500))  # SQLite caps expression depth at 1000
    assert ids(wide) == {7}
    deep = "(" * 60 + "topic:AI" + ")" * 60
    assert ids(deep) == {1, 2, 3, 12}
    with pytest.raises(peewee.OperationalError):  # sanity: the library really is SQLite with FTS5
        library.execute_sql("SELECT * FROM card_index WHERE card_index MATCH ?", ('"unterminated',))
