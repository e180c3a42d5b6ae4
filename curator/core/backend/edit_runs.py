"""A bulk edit's rows held as runs: the pending rows and journal entries it hands the backends.

A bulk edit of 10k cards gives most of them the same (field, old value, new value): its rows are a few
runs of cards sharing every value but the card id, which a backend writes with one statement per run
(``json_each`` of the ids on SQLite, ``unnest`` on PostgreSQL). :class:`Runs` keeps them that way from the
start, so the 10k rows are neither built as tuples nor compared again to find the runs they came in;
it is a sequence of the row tuples all the same, so ``base.card_runs`` (and any backend reading rows one
by one) sees the rows it always saw.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from curator.core.backend.base import card_runs


class Runs(Sequence[tuple[Any, ...]]):
    """Rows (card id first, then two or more values) as runs: (the values they share, their card ids).

    In run order, each run's cards in the order given; empty runs are dropped.
    """

    __slots__ = ("_ends", "runs")

    def __init__(self, runs: Iterable[tuple[tuple[Any, ...], Sequence[int]]]) -> None:
        self.runs: list[tuple[tuple[Any, ...], Sequence[int]]] = [(s, ids) for s, ids in runs if ids]
        self._ends = list(itertools.accumulate(len(ids) for _, ids in self.runs))

    def __len__(self) -> int:
        return self._ends[-1] if self._ends else 0

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        for shared, ids in self.runs:
            for cid in ids:
                yield (cid, *shared)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return list(self)[index]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("Runs index out of range")
        run = bisect.bisect_right(self._ends, index)
        shared, ids = self.runs[run]
        return (ids[index - (self._ends[run - 1] if run else 0)], *shared)

    def __repr__(self) -> str:
        return f"Runs({self.runs!r})"

    def card_ids(self) -> list[int]:
        """Every card of every run, in id order, each once."""
        cards: set[int] = set()
        for _, ids in self.runs:
            cards.update(ids)
        return sorted(cards)


def id_runs(rows: Sequence[tuple[Any, ...]]) -> Iterator[tuple[tuple[Any, ...], Sequence[int]]]:
    """``base.card_runs`` with each run's card ids rather than its rows: a :class:`Runs`' own runs as they
    are, or the runs found among plain rows (consecutive rows equal but for their card id)."""
    if isinstance(rows, Runs):
        yield from rows.runs
        return
    for shared, run in card_runs(rows):
        yield shared, [row[0] for row in run]
