"""The checks' problems on the seed card and on broken copies of it, and their fixes."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from curator.core.checks import problems as P
from curator.core.checks.index import CheckCard, CheckIndex

SEED = Path(__file__).resolve().parents[3] / "seeds" / "000_63d795e8c7832238.txt"
NOW = P.Context(now=datetime(2020, 2, 1, tzinfo=UTC))


def _seed() -> dict[str, Any]:
    return yaml.safe_load(SEED.read_text(encoding="utf-8").split("---")[1])


def _kinds(data: dict[str, Any], context: P.Context = NOW) -> list[tuple[str, str]]:
    return [(p.kind, p.field) for p in P.problems(data, context=context)]


def test_the_seed_card_is_clean() -> None:
    assert _kinds(_seed()) == []


def test_each_problem_found_and_the_fixable_ones_fixed() -> None:
    data = _seed()
    data["title"] = "Police &amp; <b>face</b> recognition"
    data["cdnAmpUrl"] = "https://amp-dw-com.cdn.ampproject.org/c/s/amp.dw.com/en/other-story/a-1"
    data["publishedDateTime"] = "2020-03-01T00:00:00Z"
    del data["images"][0]["height"]
    data["related"].append(copy.deepcopy(data["related"][0]))
    data["related"].append({"title": "Self", "sourceUrl": "http://dw.com" + data["sourceUrl"][18:] + "/"})
    found = _kinds(data)
    assert ("html", "title") in found and ("amp-cache", "cdnAmpUrl") in found
    assert ("future", "publishedDateTime") in found and ("image-size", "images[0]") in found
    assert ("related-twice", "related[2]") in found and ("related-self", "related[3]") in found
    assert {k for k, _ in found} <= set(P.CHECK_KINDS)
    changes = P.fix_all(data, context=NOW)
    assert changes["title"] == "Police & face recognition"
    assert changes["cdnAmpUrl"] == P.amp_cache_url(data["ampUrl"])
    assert len(changes["related"]) == 2
    fixed = {**data, **changes}
    assert {k for k, _ in _kinds(fixed)} == {"future", "image-size"}  # an editor's choice


def test_related_item_that_is_a_library_card_is_offered() -> None:
    data = _seed()
    other = data["related"][0]
    index = CheckIndex.build([CheckCard.from_mapping(1, data), CheckCard.from_mapping(7, other)])
    context = P.Context(card_by_url=index.card_by_url, card_id=1)
    problems = P.problems(data, context=context)
    assert [(p.kind, p.field, p.fixable) for p in problems] == [("related-card", "related[0]", False)]
    assert "card 7" in problems[0].problem


def test_excerpt_cut_mid_word() -> None:
    cards = [CheckCard(i, "t", f"the company said the programme grew {i}", None, None) for i in range(3)]
    index = CheckIndex.build(cards)
    context = P.Context(is_word=index.is_word)
    data = {"excerpt": "An explosive report said the secretive compa..."}
    assert _kinds(data, context) == [("cut", "excerpt")]
    assert P.fix_all(data, context=context) == {"excerpt": "An explosive report said the secretive ..."}
    assert _kinds({"excerpt": "the company said the programme ..."}, context) == []
    assert _kinds({"excerpt": "the report said the company"}, context) == []
    assert _kinds(data) == []  # no word list: nothing can tell
