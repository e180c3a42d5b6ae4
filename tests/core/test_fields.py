"""Field rules: the typed summary, problems, fixes, `set` coercion and date normalisation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from curator.core import fields
from curator.core.cards import read_card
from curator.core.fields import Problem, coerce, fix, fix_all, normalize_date, problems, summarize


def test_example_card_summary(example_card: Path) -> None:
    card, _ = read_card(str(example_card))
    s = summarize(card.data)
    assert (s.category, s.type, s.quality, s.heat, s.published) == ("news", "article", 54, -1, False)
    assert s.published_at == "2020-01-18T18:42:00Z" and s.date == "2020-01-18T18:42:00"
    assert (s.provider_name, s.provider_domain) == ("Deutsche Welle", "dw.com")
    assert s.source_url.startswith("https://www.dw.com/") and s.cdn_amp_url.startswith("https://amp-dw-com")
    assert s.topics == ["AI", "Computer Vision"]
    assert s.images[0]["url"] == "https://m.dw.com/image/41695602_101.jpg"
    assert [r["provider"]["name"] for r in s.related] == ["Complex", "International Business Times"]
    # The real card carries one real defect: a mojibake title in its second related item.
    assert s.problems == problems(card.data)
    assert [(p.field, p.kind, p.fixable) for p in s.problems] == [("related[1].title", "mojibake", True)]
    changes = fix(card.data, s.problems[0])
    assert changes["related"][1]["title"].startswith("Russia\u2019s Yandex")
    assert card.data["related"][1]["title"].startswith("Russia\u00e2")  # fix() does not touch its input
    assert changes["related"][0] == card.data["related"][0]


def test_missing_fields_are_none_and_no_problem() -> None:
    s = summarize({})
    assert s == fields.Summary()
    assert s.topics == [] and s.problems == []


def test_date_falls_back_to_a_top_level_date_key() -> None:
    s = summarize({"date": "2016-01-24 14:36:05 -0800", "title": "Blog"})
    assert s.published_at == "2016-01-24 14:36:05 -0800" and s.date == "2016-01-24T22:36:05"
    s = summarize({"date": "2020-01-01", "publishedDateTime": "2021-02-03T04:05:06Z"})
    assert s.published_at == "2021-02-03T04:05:06Z"
    assert summarize({"date": "2023-01-29 18:30:22 2023 -0800"}).date is None  # a real typo: no date
    assert summarize({"date": "garbled"}).problems == []  # `date` is not a known field


def test_wrong_types_are_none_in_the_summary() -> None:
    s = summarize({"quality": "high", "heat": True, "published": "yes", "title": 2016, "topics": "AI",
                   "provider": "Reuters", "images": "x.jpg", "related": [1, {"title": "r"}]})
    assert (s.quality, s.heat, s.published, s.title) == (None, None, None, None)
    assert s.topics == [] and s.images == [] and s.related == [{"title": "r"}]
    assert (s.provider_name, s.provider_domain) == ("Reuters", None)
    assert {p.field for p in s.problems} >= {"quality", "heat", "published", "title", "topics", "images", "related[0]"}


def test_out_of_range_values_are_kept_but_reported() -> None:
    s = summarize({"quality": 150, "heat": -7})
    assert (s.quality, s.heat) == (150, -7)
    assert [(p.field, p.kind) for p in s.problems] == [("quality", "range"), ("heat", "range")]


# (data, field, words in the problem, fixable)
PROBLEMS = [
    ({"quality": "high"}, "quality", "quality must be a whole number from 0 to 100, not 'high'", False),
    ({"quality": 101}, "quality", "not 101", False),
    ({"quality": -1}, "quality", "not -1", False),
    ({"quality": 60.0}, "quality", "not 60.0", True),
    ({"quality": "60"}, "quality", "not '60'", True),
    ({"quality": True}, "quality", "not True", False),
    ({"heat": -7}, "heat", "heat must be -1 (not rated) or a whole number from 0 to 100, not -7", False),
    ({"heat": 100.5}, "heat", "not 100.5", False),
    ({"published": "yes"}, "published", "published must be true or false, not 'yes'", True),
    ({"published": 1}, "published", "not 1", False),
    ({"sourceUrl": "javascript:alert(1)"}, "sourceUrl", "must be an http or https link", False),
    ({"ampUrl": "ftp://example.com/a"}, "ampUrl", "http or https", False),
    ({"cdnAmpUrl": "https://"}, "cdnAmpUrl", "http or https", False),
    ({"sourceUrl": "http://exa mple.com"}, "sourceUrl", "http or https", False),
    ({"publishedDateTime": "yesterday"}, "publishedDateTime", "not a date and time: 'yesterday'", False),
    ({"publishedDateTime": "2020-02-30"}, "publishedDateTime", "not a date and time", False),
    ({"topics": "AI"}, "topics", "topics must be a list of names, not the text 'AI'", True),
    ({"topics": {"a": 1}}, "topics", "must be a list of names", False),
    ({"topics": ["AI", "ai "]}, "topics", "topic 'ai ' is listed twice", True),
    ({"topics": ["AI", 3]}, "topics[1]", "topic 2 must be a name, not 3", False),
    ({"topics": ["AI", ""]}, "topics[1]", "must be a name", False),
    ({"title": "Russia\u00e2\u20ac\u2122s"}, "title", "garbled characters (mojibake)", True),
    ({"excerpt": "caf\u00c3\u00a9 society"}, "excerpt", "mojibake", True),
    ({"title": ["a"]}, "title", "title must be text", False),
    ({"provider": 7}, "provider", "provider must be a mapping with name and domain", False),
    ({"provider": {"name": 7}}, "provider.name", "provider.name must be text, not 7", False),
    ({"images": "x.jpg"}, "images", "images must be a list of images", False),
    ({"images": [5]}, "images[0]", "images[0] must be a mapping", False),
    ({"images": [{"width": 3}]}, "images[0].url", "images[0] has no url", False),
    ({"images": [{"url": "data:image/png;base64,xx"}]}, "images[0].url", "http or https", False),
    ({"images": [{"url": "http://a/b.jpg", "width": "wide"}]}, "images[0].width", "whole number of pixels", False),
    ({"images": [{"url": "http://a/b.jpg", "height": -3}]}, "images[0].height", "whole number of pixels", False),
    ({"related": "x"}, "related", "related must be a list of articles", False),
    ({"related": ["x"]}, "related[0]", "related[0] must be a mapping (an article)", False),
    ({"related": [{"title": "t"}]}, "related[0].sourceUrl", "related[0] has no sourceUrl", False),
    ({"related": [{"sourceUrl": "file:///etc/passwd"}]}, "related[0].sourceUrl", "http or https", False),
    ({"related": [{"sourceUrl": "http://a", "quality": 300}]}, "related[0].quality", "not 300", False),
    ({"related": [{"sourceUrl": "http://a", "title": "It\u00e2\u20ac\u2122s"}]}, "related[0].title", "mojibake", True),
    ({"related": [{"sourceUrl": "http://a", "images": [{"url": "x"}]}]}, "related[0].images[0].url", "http", False),
    ({"related": [{"sourceUrl": "http://a", "provider": {"domain": 1}}]}, "related[0].provider.domain", "text", False),
]


@pytest.mark.parametrize(("data", "field", "words", "fixable"), PROBLEMS, ids=[p[1] + "-" + p[2][:25] for p in PROBLEMS])
def test_problem_table(data: dict, field: str, words: str, fixable: bool) -> None:
    found = problems(data)
    assert len(found) == 1, found
    assert found[0].field == field and words in found[0].problem and found[0].fixable is fixable
    if fixable:
        changes = fix(data, found[0])
        fixed = {**data, **changes}
        assert problems(fixed) == []
    else:
        with pytest.raises(ValueError):
            fix(data, found[0])


GOOD = {
    "category": "news", "title": "Caf\u00e9 \u201cquotes\u201d \u2014 fine", "excerpt": "Plain ...",
    "publishedDateTime": "2016-01-24 14:36:05 -0800", "sourceUrl": "HTTPS://Example.com/a?b=1&c=2",
    "ampUrl": "http://example.com/amp", "type": "article", "quality": 0, "heat": -1, "published": True,
    "provider": {"name": "N", "domain": "n.com", "logo": "kept"}, "topics": ["AI", "Artificial Intelligence"],
    "images": [{"url": "https://a/b.jpg", "width": 1, "height": 2, "title": "t", "extra": 1}],
    "related": [{"sourceUrl": "https://a", "quality": 100, "unknown": [1, 2]}], "secured": "blob", "other": {"x": 1},
}


def test_a_good_card_has_no_problems() -> None:
    assert problems(GOOD) == []
    assert problems({**GOOD, "heat": 0, "quality": 100, "provider": "Plain name"}) == []


def test_fix_all_repairs_every_fixable_problem_and_leaves_the_rest() -> None:
    data = {"published": "No", "topics": ["AI", "ai", "AI"], "quality": "high", "title": "Russia\u00e2\u20ac\u2122s",
            "related": [{"sourceUrl": "http://a", "title": "It\u00e2\u20ac\u2122s"},
                        {"sourceUrl": "http://b", "excerpt": "caf\u00c3\u00a9"}]}
    changes = fix_all(data)
    assert changes["published"] is False and changes["topics"] == ["AI"]
    assert changes["title"] == "Russia\u2019s"
    assert [r.get("title") or r.get("excerpt") for r in changes["related"]] == ["It\u2019s", "caf\u00e9"]
    assert "quality" not in changes
    assert [p.field for p in problems({**data, **changes})] == ["quality"]
    assert fix_all(data, "duplicate") == {"topics": ["AI"]}
    assert fix_all(GOOD) == {}


def test_fix_refuses_unfixable_problems() -> None:
    with pytest.raises(ValueError, match="needs an editor"):
        fix({"quality": "high"}, Problem("quality", "x", False))


@pytest.mark.parametrize(("field", "text", "value"), [
    ("quality", "60", 60), ("quality", " 0 ", 0), ("quality", "100", 100), ("heat", "-1", -1), ("heat", "42", 42),
    ("published", "true", True), ("published", "FALSE", False), ("topics", " Computer Vision ", "Computer Vision"),
    ("title", " Kept\nas typed ", " Kept\nas typed "), ("category", "", ""),
])
def test_coerce(field: str, text: str, value: object) -> None:
    assert coerce(field, text) == value and type(coerce(field, text)) is type(value)


@pytest.mark.parametrize(("field", "text", "words"), [
    ("quality", "high", "quality must be a whole number from 0 to 100, not 'high'"),
    ("quality", "101", "not 101"), ("quality", "-1", "not -1"), ("quality", "6.5", "not '6.5'"), ("quality", "", "not ''"),
    ("heat", "-7", "heat must be -1 (not rated) or a whole number from 0 to 100, not -7"),
    ("heat", "1e2", "not '1e2'"), ("published", "yes", "published must be true or false, not 'yes'"),
    ("published", "1", "true or false"), ("topics", "  ", "a topic must be a name"),
    ("related", "x", ("'related' cannot be set from the command line; settable fields: quality, heat, "
                      "published, topics, title, excerpt, category")),
    ("secured", "x", "cannot be set"), ("nonsense", "1", "cannot be set"),
])
def test_coerce_errors_are_sentences(field: str, text: str, words: str) -> None:
    with pytest.raises(ValueError) as info:
        coerce(field, text)
    assert words in str(info.value)


def test_editable_fields() -> None:
    assert {"quality", "heat", "published", "topics", "related"} <= set(fields.EDITABLE)
    assert "secured" not in fields.EDITABLE and "sourceUrl" not in fields.EDITABLE


@pytest.mark.parametrize(("text", "expected"), [
    ("2020-01-18T18:42:00Z", "2020-01-18T18:42:00"),
    ("2016-01-24 14:36:05 -0800", "2016-01-24T22:36:05"),
    ("'2013-05-06 02:12:52 +0200'", "2013-05-06T00:12:52"),
    ("2020-01-18", "2020-01-18T00:00:00"),
    ("2020-01-18T18:42:00.123456Z", "2020-01-18T18:42:00"),
    ("2001-12-14t21:59:43.10-05:00", "2001-12-15T02:59:43"),
    ("2020-01-18 23:30:00 +05:30", "2020-01-18T18:00:00"),
    ("2020-01-18 18:42", "2020-01-18T18:42:00"),
    ("2020-1-8 8:05:00", "2020-01-08T08:05:00"),
    ("2019-12-31T23:00:00-02:00", "2020-01-01T01:00:00"),
    ("2020-01-18 18:42:00 UTC", "2020-01-18T18:42:00"),
    ("2020-13-01", None), ("2020-02-30", None), ("2020-01-18 25:00", None), ("2020-01-18 10:00 +2500", None),
    ("yesterday", None), ("", None), ("2023-01-29 18:30:22 2023 -0800", None),
])
def test_normalize_date(text: str, expected: str | None) -> None:
    assert normalize_date(text) == expected


@given(moment=st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(2200, 1, 1)),
       minutes=st.integers(-14 * 60, 14 * 60), style=st.sampled_from(["iso", "space", "yaml"]))
def test_normalize_date_agrees_with_datetime(moment: datetime, minutes: int, style: str) -> None:
    zone = timezone(timedelta(minutes=minutes))
    local = moment.replace(microsecond=0, tzinfo=zone)
    sign = "-" if minutes < 0 else "+"
    hh, mm = divmod(abs(minutes), 60)
    text = {"iso": local.isoformat(), "space": local.strftime("%Y-%m-%d %H:%M:%S ") + f"{sign}{hh:02d}{mm:02d}",
            "yaml": local.strftime("%Y-%m-%d %H:%M:%S") + f".5 {sign}{hh}:{mm:02d}"}[style]
    assert normalize_date(text) == local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


@pytest.mark.parametrize(("url", "ok"), [("https://a.b/c", True), ("HTTP://A", True), ("http://", False),
                                         ("javascript:x", False), ("//a.b/c", False), ("https://a b", False),
                                         ("http://[::1", False), (None, False), ("mailto:a@b", False)])
def test_is_web_url(url: object, ok: bool) -> None:
    assert fields.is_web_url(url) is ok


def test_problem_kinds_are_exactly_the_kinds_problems_carry() -> None:
    # One card with a problem of every kind: PROBLEM_KINDS (what `check --fix` offers) must match them.
    data = {
        "title": "Russiaâ€™s plan", "quality": "high", "heat": 150, "sourceUrl": "ftp://example.com/a",
        "publishedDateTime": "next Tuesday", "topics": ["AI", "ai"], "images": 5, "views": ".nan",
    }
    kinds = {p.kind for p in problems(data)}
    assert kinds == set(fields.PROBLEM_KINDS)
    assert len(fields.PROBLEM_KINDS) == len(set(fields.PROBLEM_KINDS))
