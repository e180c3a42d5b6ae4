"""Benchmark fixtures: the data set size and the cached generated cards (see harness.py)."""

from __future__ import annotations

from pathlib import Path

import harness
import pytest


@pytest.fixture(scope="session")
def n() -> int:
    """Cards in the scale benchmarks: $CURATOR_BENCH_N, default 10,000."""
    return harness.bench_n()


@pytest.fixture(scope="session")
def cards_root(n: int) -> Path:
    """The cached, read-only data set of ``n`` cards."""
    return harness.dataset(n)


@pytest.fixture(scope="session")
def paths(cards_root: Path, n: int) -> list[str]:
    found = harness.card_paths(cards_root)
    assert len(found) == n
    return found
