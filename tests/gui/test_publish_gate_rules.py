"""publish_gate.find against its rules, spelled out plainly here, over many random libraries and selections.

find() reads only what it must (the groups, their cards' labels, the flagged cards among the targets) and
passes over the targets once, so "publish all" at 100k costs what those reads cost. These cases check
that it still holds back exactly the cards the module docstring names, with the same reasons, in the
selection's order: a group with a card published outside the selection, a group kept inside it (published
already, else the best quality, else the earliest, else the lowest id), missing files, conflicts and
validation problems (put in words for the first REASONS flagged cards by path, counted after that).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from typing import Any

from curator.core import fields
from curator.core.backend.base import CardLabel, FlaggedCard
from curator.core.checks.index import Group
from curator.core.store_types import CardRow
from curator.gui import plain
from curator.gui.views import publish_gate

CASES = 60


class Library:
    """What find() asks of a Store, over cards made up for one case (targets above CHECK_LIMIT, so the
    checks' own problems, which need the real index, are not asked for)."""

    def __init__(self, rng: random.Random) -> None:
        self.cards = 700 + rng.randrange(300)
        self.rows: dict[int, CardRow] = {}
        self.reads: Counter[str] = Counter()
        for card_id in range(1, self.cards + 1):
            flags = rng.random()
            self.rows[card_id] = CardRow(
                card_id, f"/cards/{rng.randrange(10**6):06d}-{card_id}.yaml",
                rng.choice([f"Story {card_id}", "", None]), None, rng.choice(["Wire", None]),
                rng.choice(["2020-01-02", "2020-01-01", None]), rng.choice(["2020-01-03T10:00:00Z", None]),
                rng.choice([None, 0, 40, 80]), None, rng.choice([True, False, None]), [], None, False,
                flags < 0.03, 0.03 <= flags < 0.06, rng.choice([0, 1, 2]) if flags < 0.3 else 0, 0,
            )  # fmt: skip
        pool = list(self.rows)
        rng.shuffle(pool)
        self.groups: list[Group] = []
        while len(pool) > 5 and len(self.groups) < 60:
            size = rng.choice([2, 2, 3, 4])
            members, pool = pool[:size], pool[size:]
            self.groups.append(Group(rng.choice(["url", "copy"]), tuple(sorted(members)), None))
        self.gone = set(rng.sample(sorted(self.rows), 5))  # removed since the groups were saved
        for card_id in self.gone:
            del self.rows[card_id]

    def duplicate_groups(self) -> list[Group]:
        self.reads["groups"] += 1
        return list(self.groups)

    def card_labels(self, ids: Sequence[int]) -> dict[int, CardLabel]:
        # The narrow read (Store.card_labels): no rows_by_id here, so find() reading whole rows fails.
        self.reads["rows"] += len(ids)
        return {i: CardLabel(i, r.path, r.title, r.provider, r.published_at, r.date, r.quality, r.published)
                for i in ids if (r := self.rows.get(i)) is not None}  # fmt: skip

    def flagged_cards(self, ids: Sequence[int]) -> list[FlaggedCard]:
        self.reads["flagged"] += 1
        rows = [self.rows[i] for i in set(ids) if i in self.rows]
        found = [FlaggedCard(r.id, r.path, r.title, r.problems, r.conflict, r.missing) for r in rows
                 if r.problems or r.conflict or r.missing]  # fmt: skip
        return sorted(found, key=lambda c: c.path)

    def current_data(self, card_id: int) -> dict[str, Any]:
        row = self.rows[card_id]
        return {"title": row.title or "", "published": row.published, "quality": "high" if row.problems > 1 else 1}


def expected(library: Library, targets: list[int], seen: Counter[str]) -> tuple[list[tuple[int, str, str]], ...]:
    """The rules of publish_gate's module docstring, one card at a time."""
    rows = library.rows

    def title(card_id: int) -> str:
        row = rows.get(card_id)
        return f"card {card_id}" if row is None else (row.title or row.path.rsplit("/", 1)[-1])

    def named(row: CardRow) -> str:
        facts = ", ".join(x for x in (row.provider, (row.published_at or row.date or "")[:10]) if x)
        return repr(title(row.id)) + (f" ({facts})" if facts else "")

    reasons: dict[int, str] = {}
    for group in library.groups:
        what = "the same article as" if group.kind == "url" else "a copy of"
        present = [rows[i] for i in group.ids if i in rows]
        inside = [r for r in present if r.id in targets]
        outside = [r for r in present if r.id not in targets and r.published]
        if outside and inside:
            seen["published outside"] += 1
            reasons.update((r.id, f"{what} {named(outside[0])}, already published") for r in inside)
        elif len(inside) > 1:
            seen["kept inside"] += 1
            best = min(inside, key=lambda r: (r.published is not True, -(r.quality or 0),
                                              r.published_at or r.date or "~", r.id))  # fmt: skip
            reasons.update((r.id, f"{what} {named(best)}, also in this publish") for r in inside if r is not best)
    problems: dict[int, str] = {}
    flagged = sorted((rows[i] for i in set(targets) if i in rows and (rows[i].problems or rows[i].conflict
                      or rows[i].missing)), key=lambda r: r.path)  # fmt: skip
    for n, row in enumerate(flagged):
        if row.missing:
            seen["missing"] += 1
            problems[row.id] = "its file is missing"
        elif row.conflict:
            seen["conflict"] += 1
            problems[row.id] = "its file changed on disk (a conflict)"
        elif n < publish_gate.REASONS:
            seen["in words"] += 1
            words = "; ".join(p.problem for p in fields.problems(library.current_data(row.id))[:2])
            problems[row.id] = words or plain.count(row.problems, "problem")
        else:
            seen["counted"] += 1
            problems[row.id] = plain.count(row.problems, "problem")
    duplicates = [(i, title(i), reasons[i]) for i in targets if i in reasons]
    held = [(i, title(i), problems[i]) for i in targets if i in problems and i not in reasons]
    return duplicates, held


def test_find_holds_back_what_the_rules_say() -> None:
    rng = random.Random(2020)
    seen: Counter[str] = Counter()
    for _ in range(CASES):
        library = Library(rng)
        every = list(range(1, library.cards + 1))
        targets = rng.sample(every, rng.randrange(publish_gate.CHECK_LIMIT + 1, library.cards))
        rng.shuffle(targets)  # the selection's order (the list's sort), not the ids'
        gate = publish_gate.find(library, targets)  # type: ignore[arg-type]
        duplicates, problems = expected(library, targets, seen)
        assert [(h.card_id, h.title, h.reason) for h in gate.duplicates] == duplicates
        assert [(h.card_id, h.title, h.reason) for h in gate.problems] == problems
        assert gate.rest() == [i for i in targets if i not in gate.held_ids]
        # What it read: the groups and the flagged cards once, rows of the groups' cards (and of the
        # flagged cards outside them, for their titles) only, never a row per target.
        grouped = {i for g in library.groups for i in g.ids if not set(targets).isdisjoint(g.ids)}
        assert library.reads["groups"] == 1 and library.reads["flagged"] == 1
        assert library.reads["rows"] <= len(grouped) + len(problems)
    # Every rule was exercised, many times over.
    assert min(seen[k] for k in ("published outside", "kept inside", "missing", "conflict", "in words")) >= 50, seen
