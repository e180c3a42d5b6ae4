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


@pytest.fixture(scope="session")
def db(tmp_path_factory: pytest.TempPathFactory, cards_root: Path, n: int) -> Path:
    """A library over the cached data set, imported once per session; tests only read it."""
    from curator.core.importer import import_paths
    from curator.core.store import Store

    path = tmp_path_factory.mktemp("library-ro") / "library.sqlite"
    with Store(path) as store:
        report = import_paths(store, [str(cards_root)])
    assert report.added == n
    return path
