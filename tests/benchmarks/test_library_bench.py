"""The library at scale ($CURATOR_BENCH_N cards, default 10k): import, rescan, queries, bulk set, write, memory.

Run: ``CURATOR_BENCH_N=100000 python -m pytest tests/benchmarks/test_library_bench.py -m benchmark -s``.
The tests share one library (built by the first fixture) and run in file order: set, then write.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import harness
import pytest

pytestmark = pytest.mark.benchmark
EDITS = 10_000  # the bulk edit and the write cover this many cards whatever the library size


@dataclass
class Library:
    root: Path
    db: Path
    paths: list[str]
    cold: harness.ChildRun


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory, n: int) -> Library:
    """A writable copy of the data set, imported cold through the CLI in a measured child process."""
    base = tmp_path_factory.mktemp("library")
    root = harness.copy_dataset(n, base / "cards")
    db = base / "library.sqlite"
    cold = harness.run_measured(harness.curator(db, "import", str(root), "--json"))
    assert cold.rc == 0, cold.stderr
    report = json.loads(cold.stdout)
    assert report["added"] == n and report["failed"] == 0
    return Library(root, db, harness.card_paths(root), cold)


def test_cold_import_vs_compose_floor(library: Library, n: int) -> None:
    floor = harness.measure(harness.compose_floor(library.paths), repeat=1)
    harness.record("curator import (cold, CLI)", n, library.cold.seconds, floor.best, "≤ 1.5x")
    harness.record("curator import: peak RSS", n, f"{library.cold.peak_rss_mib:.0f} MiB", target="≤ 300 MiB")
    assert library.cold.peak_rss_mib <= 300
    assert library.cold.seconds <= 1.5 * floor.best


def test_rescan_unchanged_vs_stat_floor(library: Library, n: int) -> None:
    from curator.core.importer import import_paths
    from curator.core.store import Store

    reports = []

    def rescan() -> None:
        with Store(library.db) as store:
            reports.append(import_paths(store, [str(library.root)]))

    t, floor = harness.measure_pair(rescan, harness.stat_floor(library.paths))
    assert all(r.unchanged == n and r.added == r.updated == r.removed == 0 for r in reports)
    harness.record("rescan, nothing changed (in process)", n, t.best, floor.best, "≤ 3x")
    cli = harness.run_measured(harness.curator(library.db, "import", str(library.root), "--json"))
    assert cli.rc == 0 and json.loads(cli.stdout)["unchanged"] == n
    harness.record("curator import (rescan, CLI)", n, cli.seconds, floor.best)
    assert t.best <= 3 * floor.best


QUERIES = {
    "common word": "report",
    "quality>=60 published:false": "quality>=60 published:false",
    "topic + date range": "topic:AI date>=2020-03-01 date<2020-07",
}


@pytest.mark.parametrize("label", list(QUERIES))
def test_query_p50(library: Library, n: int, label: str) -> None:
    from curator.core.store import Store

    query = QUERIES[label]
    startup, _ = harness.p50([sys.executable, "-c", "import curator.cli, curator.core.store"])
    cli, done = harness.p50(harness.curator(library.db, "list", query, "--limit", "200", "--json"))
    assert done.returncode == 0, done.stderr
    assert 0 < len(done.stdout.splitlines()) <= 200
    with Store(library.db) as store:
        runs = []
        for _ in range(7):
            start = time.perf_counter()
            rows = store.rows(query, limit=200)
            runs.append(time.perf_counter() - start)
    assert rows
    inproc = statistics.median(runs)
    harness.record(f"list `{query}` --limit 200 (CLI p50; floor = start + imports)", n, cli, startup)
    harness.record(f"Store.rows(`{query}`, limit=200) p50", n, inproc, target="≤ 50 ms")
    assert inproc <= 0.05


@pytest.mark.xfail(
    strict=True,
    reason="issue 10: 11.3x a bare UPDATE at 100k (231 vs 20.5 ms), target 1.5x; the time goes to the commit "
    "(~65 ms), reading current values by parsing each whole stored mapping (~47 ms), the pending and journal "
    "executemany (~50 ms) and the column UPDATE (~40 ms)",
)
def test_bulk_set_against_a_bare_update_of_the_same_rows(library: Library, n: int, tmp_path: Path) -> None:
    """Issue 10: `set` of 10k cards, journal and pending state included, <= 1.5x a bare UPDATE of as many
    rows, measured in the same run, floor and product alternated, medians compared. Each edit is undone
    untimed, so the library is left as it was for the tests after this one."""
    from curator.core.store import Store

    with Store(library.db) as store:
        query = "published:false"
        if store.count(query) > EDITS:
            (nth,) = store.rows(query, sort=[("date", False)], offset=EDITS, limit=1)
            query += f" date<{nth.date[:10]}"
        ids = store.ids(query)
        batches: list[int] = []

        def undo_last() -> None:
            if batches:
                store.undo(batches.pop())

        def edit() -> None:
            result = store.set_fields(ids, {"published": True}, label="bench")
            assert result.batch_id is not None and len(result.changed) == len(ids)
            batches.append(result.batch_id)

        app, floor = harness.measure_pair(edit, harness.sqlite_floor(len(ids), tmp_path / "floor.sqlite"),
                                          repeat=5, setup=undo_last)  # fmt: skip
        undo_last()
        assert store.count("dirty:true") == 0
    harness.record("Store.set_fields published=true vs bare UPDATE (medians)", len(ids), app.median,
                   floor.median, "≤ 1.5x")  # fmt: skip
    assert app.median <= 1.5 * floor.median


def test_set_published_vs_sqlite_floor(library: Library, n: int, tmp_path: Path) -> None:
    from curator.core.store import Store

    with Store(library.db) as store:
        query = "published:false"
        if store.count(query) > EDITS:  # a bigger library: narrow by date to about EDITS cards
            (nth,) = store.rows(query, sort=[("date", False)], offset=EDITS, limit=1)
            query += f" date<{nth.date[:10]}"
        ids = store.ids(query)
    floor = harness.measure(harness.sqlite_floor(len(ids), tmp_path / "floor.sqlite"))
    # In process first (what the GUI pays), then undone, then the same edit through the CLI.
    with Store(library.db) as store:
        start = time.perf_counter()
        result = store.set_fields(ids, {"published": True}, label="bench")
        inproc = time.perf_counter() - start
        assert result.changed == sorted(ids) and result.batch_id is not None
        store.undo(result.batch_id)
        assert store.count("dirty:true") == 0
    harness.record("Store.set_fields published=true (in process)", len(ids), inproc, floor.best, "< 1 s")
    # --query, not 10k --id options: argparse is quadratic in repeated options (7k --id: ~3 s).
    run = harness.run_measured(harness.curator(library.db, "set", "--query", query, "published=true"))
    assert run.rc == 0, run.stderr
    assert str(len(ids)) in run.stdout
    with Store(library.db) as store:
        assert store.count("dirty:true") == len(ids)
    harness.record(f"curator set --query '{query}' published=true (CLI)", len(ids), run.seconds, floor.best, "< 1 s")
    assert inproc < 1.0 and run.seconds < 1.0


def test_write_dirty_vs_write_floor(library: Library, tmp_path: Path) -> None:
    from curator.core.store import Store

    with Store(library.db) as store:
        dirty = [row.path for row in store.rows("dirty:true")]
    assert dirty, "run after test_set_published_vs_sqlite_floor"
    floor = harness.measure(harness.write_floor(dirty, tmp_path / "floor"), repeat=1)
    run = harness.run_measured(harness.curator(library.db, "write", "--json"))
    assert run.rc == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["written"] == len(dirty) and not report["conflicts"] and not report["failed"]
    harness.record("curator write (CLI, one value per card)", len(dirty), run.seconds, floor.best, "≤ 2x")
    harness.record("curator write: peak RSS", len(dirty), f"{run.peak_rss_mib:.0f} MiB", target="≤ 300 MiB")
    assert run.seconds <= 2 * floor.best
