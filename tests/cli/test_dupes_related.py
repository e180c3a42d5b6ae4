"""`curator dupes` and `curator related --suggest` through the real command line (issue 11 §2)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from tests.cli.conftest import ROOT, Curator

SEED_GROUPS = {("url", (121, 123)), ("url", (149, 150)), ("url", (238, 240)), ("copy", (83, 85)),
               ("copy", (113, 115)), ("copy", (172, 175)), ("copy", (174, 178))}


def seeded(curator: Curator, tmp_path: Path) -> dict[int, int]:
    """Import the bundled seeds; card id -> the seed file's number."""
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds", ignore=shutil.ignore_patterns("*.py", "README"))
    assert curator("import", str(tmp_path / "seeds")).code == 0
    numbers = {}
    for row in curator("list", "--json", "--limit", "1000").json_lines():
        found = re.match(r"(\d{6})_", Path(row["path"]).name)
        if found:
            numbers[row["id"]] = int(found.group(1))
    return numbers


def test_dupes_finds_the_planted_groups_and_a_query_keeps_whole_groups(
    curator: Curator, tmp_path: Path
) -> None:
    num = seeded(curator, tmp_path)
    groups = curator("dupes", "--json").json_lines()
    assert {(g["kind"], tuple(sorted(num[i] for i in g["ids"]))) for g in groups} == SEED_GROUPS
    assert all((g["canonical"] is None) == (g["kind"] == "copy") for g in groups)
    text = curator("dupes")
    assert text.code == 0 and len(text.out.splitlines()) == len(SEED_GROUPS)
    # A query naming one card of a group prints the whole group, and only groups with a match.
    leader = next(i for i, n in num.items() if n == 149)
    [row] = [r for r in curator("list", "--json", "--limit", "1000").json_lines() if r["id"] == leader]
    word = max(re.findall(r"[A-Za-z]+", row["title"]), key=len)
    matching = {r["id"] for r in curator("list", "--json", "--limit", "1000", word).json_lines()}
    some = curator("dupes", "--json", word).json_lines()
    assert any(leader in g["ids"] for g in some) and all(matching & set(g["ids"]) for g in some)
    assert len(some) < len(groups)


def test_related_suggest_names_the_same_story_card(curator: Curator, tmp_path: Path) -> None:
    num = seeded(curator, tmp_path)
    ids = {n: i for i, n in num.items()}
    for leader, follower in ((88, 89), (268, 269), (298, 299)):
        lines = curator("related", str(ids[leader]), "--suggest", "--json", "--limit", "3").json_lines()
        assert lines and lines[0]["id"] == ids[follower], (leader, lines)
        assert set(lines[0]) == {"id", "title", "provider", "published_at", "score"}
        assert 0 < lines[0]["score"] <= 1 and len(lines) <= 3
    # Once related, it is not suggested again.
    assert curator("set", "--id", str(ids[88]), f"related+={ids[89]}").code == 0
    again = curator("related", str(ids[88]), "--suggest", "--json").json_lines()
    assert ids[89] not in [s["id"] for s in again]


CARD = """---
title: {title}
excerpt: {excerpt}
publishedDateTime: 2021-03-0{day}T10:00:00Z
sourceUrl: {url}
provider:
  name: {provider}
---
"""


def test_hand_made_duplicates_and_an_edit_caught_up_before_dupes(curator: Curator, tmp_path: Path) -> None:
    folder = tmp_path / "cards"
    folder.mkdir()
    texts = {
        "a.md": ("Harbour bridge reopens", "The harbour bridge reopened on Monday after repairs.", 1,
                 "https://news.example/harbour-bridge", "Example News"),
        "b.md": ("Bridge open again", "Traffic flows once more over the span.", 2,
                 "http://www.news.example/harbour-bridge/?utm_source=feed#top", "Feed Mirror"),
        "c.md": ("Orchard frost warning", "Farmers cover young trees against a late frost.", 3,
                 "https://farm.example/frost", "Farm Weekly"),
    }
    for name, (title, excerpt, day, url, provider) in texts.items():
        (folder / name).write_text(CARD.format(title=title, excerpt=excerpt, day=day, url=url,
                                               provider=provider), encoding="utf-8")
    assert curator("import", str(folder)).code == 0
    ids = {Path(r["path"]).name: r["id"] for r in curator("list", "--json").json_lines()}
    assert curator("dupes", "--json").json_lines() == [
        {"kind": "url", "ids": sorted([ids["a.md"], ids["b.md"]]),
         "canonical": "https://news.example/harbour-bridge"}
    ]
    # The file of c changes to the same article (an AMP page with a tracking parameter) and is rescanned:
    # the import only stores it, and the next dupes catches up without any other step.
    moved = CARD.format(title="Orchard frost warning", excerpt="Farmers cover trees.", day=3,
                        url="https://amp.news.example/harbour-bridge/amp?gclid=1", provider="Farm Weekly")
    (folder / "c.md").write_text(moved, encoding="utf-8")
    assert curator("import", str(folder)).code == 0
    [group] = curator("dupes", "--json").json_lines()
    assert group["ids"] == sorted(ids.values())
    assert curator("dupes", "--json", "orchard").json_lines() == [group]
    assert curator("dupes", "--json", "nothing-matches-this").out == ""


def test_related_errors_are_clear(curator: Curator, tmp_path: Path) -> None:
    seeded(curator, tmp_path)
    missing = curator("related", "999999", "--suggest")
    assert missing.code == 1 and "related: no card with id 999999" in missing.err
    bad = curator("related", "1", "--suggest", "--limit", "0")
    assert bad.code == 2 and "--limit must be 1 or more" in bad.err


PROBLEM_CARD = """---
title: "Budget <b>passes</b> &amp; markets rally"
excerpt: Lawmakers approved the budget late on Tuesday after a long debate.
publishedDateTime: 2099-01-01T10:00:00Z
sourceUrl: https://paper.example/budget
related:
  - title: Itself
    sourceUrl: https://www.paper.example/budget/?utm_source=x
  - title: Other desk
    sourceUrl: https://other.example/markets
  - title: Other desk again
    sourceUrl: http://other.example/markets#top
  - title: Library card
    sourceUrl: https://wire.example/story
---
"""
LINKED_CARD = """---
title: Wire story
excerpt: A wire story the first card links to.
publishedDateTime: 2021-03-01T10:00:00Z
sourceUrl: https://wire.example/story
---
"""


def test_check_lists_and_fixes_the_new_problem_kinds(curator: Curator, tmp_path: Path) -> None:
    folder = tmp_path / "cards"
    folder.mkdir()
    (folder / "budget.md").write_text(PROBLEM_CARD, encoding="utf-8")
    (folder / "wire.md").write_text(LINKED_CARD, encoding="utf-8")
    assert curator("import", str(folder)).code == 0
    ids = {Path(r["path"]).name: r["id"] for r in curator("list", "--json").json_lines()}
    found = curator("check", "--json").json_lines()
    by_field = {(p["id"], p["field"]): p for p in found}
    budget = ids["budget.md"]
    assert by_field[(budget, "related[0]")]["fixable"]  # the card itself
    assert by_field[(budget, "related[2]")]["fixable"]  # twice
    linked = by_field[(budget, "related[3]")]
    assert not linked["fixable"] and f"card {ids['wire.md']}" in linked["problem"]
    assert (budget, "title") in by_field and (budget, "publishedDateTime") in by_field
    assert "related-self" in curator("check", "--help").out and "html" in curator("check", "--help").out
    fixed = curator("check", "--fix", "related-twice")
    assert fixed.code == 0 and fixed.out.startswith("1 card changed")
    related = curator("show", "--json", str(budget)).json()["related"]
    assert [r["title"] for r in related] == ["Itself", "Other desk", "Library card"]
    assert curator("check", "--fix", "html").out.startswith("1 card changed")
    title = curator("show", "--json", str(budget)).json()["title"]
    assert "<b>" not in title and "&amp;" not in title and "passes" in title
    unknown = curator("check", "--fix", "nonsense")
    assert unknown.code == 2 and "related-self" in unknown.err
