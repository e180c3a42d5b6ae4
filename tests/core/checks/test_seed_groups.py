"""The bundled seeds through the checks: the groups and same-story coverage the generator planted are found.

Reads the committed files under seeds/ (what `curator import seeds` reads), not cards made here, and
takes the truth from the generator's own ``follower`` plan (seeds/generate.py), so a generator that
stops planting, a seed set that drifts from it, or checks that stop finding them all fail here.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from curator.core.cards import parse_card
from curator.core.checks.canonical import canonical_url
from curator.core.checks.index import CheckCard, CheckIndex

SEEDS = Path(__file__).resolve().parents[3] / "seeds"
SEED, COUNT = 2020, 300  # the documented run (seeds/README)
SUFFIXES = (".txt", ".md", ".yaml")


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("curator_seeds_generate", SEEDS / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


gen = _generator()


@pytest.fixture(scope="module")
def seeds() -> tuple[dict[int, dict], CheckIndex, list]:
    """Every bundled card by its number (the reference card is 0, problem cards 9000NN), the index over
    all of them, and the generator's plan of followers."""
    cards: dict[int, dict] = {}
    for path in sorted(SEEDS.rglob("*")):
        if path.is_file() and path.suffix in SUFFIXES:
            number = int(path.name.split("_", 1)[0])
            assert number not in cards, path
            cards[number] = parse_card(path.read_bytes(), str(path)).data
    index = CheckIndex.build(CheckCard.from_mapping(n, data) for n, data in cards.items())
    opts = gen.Options(seed=SEED, count=COUNT, problems=True)
    plan = [f for f in (gen.follower(i, opts) for i in range(1, COUNT + 1)) if f is not None]
    return cards, index, plan


def test_the_seeds_plant_a_dozen_groups_of_every_kind(seeds: tuple) -> None:
    cards, _, plan = seeds
    assert len(cards) == COUNT + len(gen.PROBLEMS) + 1
    kinds = [f.kind for f in plan]
    assert len(plan) >= 12 and all(kinds.count(k) >= 3 for k in gen.FOLLOW_KINDS), kinds
    for follow in plan:
        lead, card = cards[follow.leader], cards[follow.index]
        if follow.kind == "duplicate":  # another form of one URL, never the same text twice
            assert card["sourceUrl"] != lead["sourceUrl"]
            assert canonical_url(card["sourceUrl"]) == canonical_url(lead["sourceUrl"])
        else:  # another provider's card
            assert card["provider"]["domain"] != lead["provider"]["domain"]
            assert canonical_url(card["sourceUrl"]) != canonical_url(lead["sourceUrl"])


def test_the_checks_find_exactly_the_planted_groups(seeds: tuple) -> None:
    cards, index, plan = seeds
    planted = {(f.leader, f.index): f.kind for f in plan if f.kind != "same-story"}
    found = {}
    for group in index.groups():
        assert len(group.ids) == 2, group  # every planted group is a leader and one follower
        found[group.ids] = group.kind
    assert found == {pair: "url" if kind == "duplicate" else "copy" for pair, kind in planted.items()}
    for group in index.groups():
        if group.kind == "url":
            assert group.canonical == canonical_url(cards[group.ids[0]]["sourceUrl"])


def test_same_story_coverage_is_suggested_both_ways(seeds: tuple) -> None:
    _, index, plan = seeds
    same_story = [f for f in plan if f.kind == "same-story"]
    assert same_story
    for follow in same_story:
        from_leader = index.suggest(follow.leader)
        from_follower = index.suggest(follow.index)
        assert from_leader and from_leader[0].id == follow.index, (follow, from_leader)
        assert follow.leader in [s.id for s in from_follower], (follow, from_follower)
        assert not from_leader[0].same_provider and from_leader[0].score >= index.thresholds.min_score
        assert index.group_of(follow.index) is None  # coverage, not a duplicate or a copy
    # Duplicates and copies belong in the Duplicates facet, never among the suggestions.
    for follow in plan:
        if follow.kind != "same-story":
            assert follow.index not in [s.id for s in index.suggest(follow.leader)]
