"""The library at scale ($CURATOR_BENCH_N cards, default 10k): import, rescan, queries, bulk set, write, memory.

Run: ``CURATOR_BENCH_N=100000 python -m pytest tests/benchmarks/test_library_bench.py -m benchmark -s``.
The tests share one library (built by the first fixture) and run in file order: set, then write.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import harness
import pytest

pytestmark = pytest.mark.benchmark
EDITS = 10_000  # the bulk edit and the write cover this many cards whatever the library size
#: Rounds of (floors, product) for the file-side figures of issue 12: medians of this many runs each.
RUNS = int(os.environ.get("CURATOR_BENCH_RUNS", "3"))
#: Issue 12's rescan below 100k files, where it is still a miss (at 100k it meets its target: see the test).
RESCAN_SMALL_MISS = (
    "issue 12: below 100k files a rescan that finds nothing changed misses 1.5x a stat of every file: at 10k "
    "2.53x (69 vs 27 ms, medians of 5 alternated at load ~1; 2.33x, 252 vs 108 ms at load ~7, when it "
    "still started a helper there), where at 100k it is 1.11-1.48x. At 10k the walk stays in one process (a helper process costs ~20 ms to start, "
    "more than it saves on 5k files: importer.MIN_SHARE), and alone it is 1.4x the floor (listing each "
    "folder and making each file's key cost ~1.4 us a file over the stat); opening the Store, the stamps' "
    "thread and its connection, the library's keys and the sets add ~10 ms"
)


@dataclass
class Library:
    root: Path
    db: Path
    paths: list[str]
    cold: list[harness.ChildRun]  # every cold import, in order: the library is the last one's
    floors: dict[str, harness.Timing]  # "one" / "two": read + compose in one process / in two at once


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory, n: int) -> Library:
    """A writable copy of the data set, imported cold through the CLI in a measured child process, RUNS
    times, each run after its two compose floors (one process, then two at once) and into a new library."""
    base = tmp_path_factory.mktemp("library")
    root = harness.copy_dataset(n, base / "cards")
    paths = harness.card_paths(root)
    db = base / "library.sqlite"
    cold: list[harness.ChildRun] = []

    def import_cold() -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        run = harness.run_measured(harness.curator(db, "import", str(root), "--json"))
        assert run.rc == 0, run.stderr
        report = json.loads(run.stdout)
        assert report["added"] == n and report["failed"] == 0
        cold.append(run)

    floors = {"one": harness.compose_floor(paths), "two": harness.compose_floor_two(paths)}
    _, timings = harness.measure_alternated(import_cold, floors, repeat=RUNS)
    return Library(root, db, paths, cold, timings)


def test_cold_import_vs_compose_floor(library: Library, n: int) -> None:
    """Issue 12: a cold import <= the one-process read + compose floor (medians, alternated); the
    two-process floor is recorded beside it, since the import parses on both cores.

    Met at 100k since the card reader builds values from libyaml's events in C (curator/core/_fastcard.c):
    0.90x (16.28 vs 18.14 s, medians of 3 alternated, load ~1-1.7) and 0.96x (19.10 vs 19.93 s, load
    ~1.6-2); was 1.50x quiet (24.3 vs 16.2 s) and 1.72x under load. Per card, a parse worker's CPU went
    from ~335-395 us to ~100-140 (reading values ~40 us against ~130 composing PyYAML's nodes; the
    mapping's JSON by orjson ~8 us against ~36), and the parent's stores (~95 us: FTS5 ~40 with its flush,
    the indexes built after the load ~10-20, the card row and child tables ~20) are now the longest lane.
    On a machine whose cores are busy with other work the ratio follows CPU time instead (~250-270 us a
    card in all, the floor's ~150-190): 1.20x at load ~2 with another engineer's tests running, 1.34-1.54x
    at load ~2.5-3 beside a benchmark. The two-process floor stays below it (1.59-1.79x), the parent's
    SQLite work being one lane."""
    seconds = statistics.median(run.seconds for run in library.cold)
    one, two = library.floors["one"].median, library.floors["two"].median
    harness.record("curator import (cold, CLI) vs read + compose, one process (medians)", n, seconds, one,
                   "≤ 1.0x")  # fmt: skip
    harness.record("curator import (cold, CLI) vs read + compose, two processes (medians)", n, seconds, two)
    assert seconds <= 1.0 * one


def test_cold_import_peak_rss(library: Library, n: int) -> None:
    peak = max(run.peak_rss_mib for run in library.cold)
    harness.record("curator import: peak RSS", n, f"{peak:.0f} MiB", target="≤ 300 MiB")
    assert peak <= 300


@pytest.mark.xfail(harness.bench_n() < 100_000, strict=True, reason=RESCAN_SMALL_MISS)
def test_rescan_unchanged_vs_stat_floor(library: Library, n: int) -> None:
    """Issue 12: a rescan that finds nothing changed <= 1.5x a stat of every file (medians, alternated).

    Met at 100k: 1.48x (1.08 s vs 725 ms, medians of 5 alternated at load ~7-10), 1.31x (851 vs 652 ms,
    load ~7 falling to ~1) and 1.11x (444 vs 399 ms, load ~1-3); was 2.21x. Its CPU is ~470-530 ms to the floor's ~260-300 (so on a machine
    whose cores are both busy the ratio follows the CPU): the parent's walk of its share ~180-220 (the
    stats as the floor's, their keys, listing its folders), the helper's share ~180-200 plus ~10 to start
    (a fresh interpreter, each folder listed by one of the two), the library's keys ~65 on their thread
    (~25 in SQLite, read from the card_stamp index of schema 6; ~35 making them a set), comparing ~25.
    """
    from curator.core.importer import import_paths
    from curator.core.store import Store

    reports = []

    def rescan() -> None:
        with Store(library.db) as store:
            reports.append(import_paths(store, [str(library.root)]))

    t, floors = harness.measure_alternated(rescan, {"stat": harness.stat_floor(library.paths)},
                                           repeat=max(RUNS, 5))  # fmt: skip
    floor = floors["stat"].median
    assert all(r.unchanged == n and r.added == r.updated == r.removed == 0 for r in reports)
    harness.record("rescan, nothing changed (in process, medians)", n, t.median, floor, "≤ 1.5x")
    cli = harness.run_measured(harness.curator(library.db, "import", str(library.root), "--json"))
    assert cli.rc == 0 and json.loads(cli.stdout)["unchanged"] == n
    harness.record("curator import (rescan, CLI)", n, cli.seconds, floor)
    assert t.median <= 1.5 * floor


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


def _edited_ids(store: Any) -> tuple[str, list[int]]:
    """The query and the ids of about EDITS unpublished cards (the oldest, narrowed by date when the
    library holds more): what the bulk-set benchmarks publish."""
    query = "published:false"
    if store.count(query) > EDITS:
        (nth,) = store.rows(query, sort=[("date", False)], offset=EDITS, limit=1)
        query += f" date<{nth.date[:10]}"
    return query, store.ids(query)


def test_bulk_set_against_a_bare_update_of_the_same_rows(library: Library, n: int, tmp_path: Path) -> None:
    """Issue 10: `set` of 10k cards, journal and pending state included, <= 1.5x a bare UPDATE of the same
    rows (harness.BareUpdate: the same card rows of a copy of this library, the same connection settings),
    measured in the same run, the floors and the product alternated, medians compared with the faster
    floor. Each edit is undone untimed before the next, so every run makes the same change and the
    library is left as it was for the tests after this one.

    Met at 100k (9,880 cards; medians of 9), schema 7, in every run of session 7: 1.21x (108.1 vs 89.0 ms)
    at load ~0.8-1.4, 1.39x and 1.49x (121.1 vs 87.4 ms, 123.0 vs 82.6 ms) at load 0.5-1.5, 1.21-1.43x at
    load 1.5-2.6 on 2 cores (the same hour before that session's changes: 1.75x, 145.6 vs 83.2 ms); schema 6 gave 1.41-1.59x under load and 1.61-1.89x on
    a quiet machine. Both pay the UPDATE of the ~9.9k wide card rows (~25-30 ms) and the commit with its
    checkpoint (~40 ms: ~3.7k WAL frames written, then copied into the library); the product adds (minimums of
    11, load ~2.5) reading the current values ~10-11 ms (the rowid lookups, json_each and the grouping; a
    card's mapping is read only when its column cannot say the value and the card has problems), the pending
    rows ~3 ms, the journal's 9,880 entries ~3.6 ms (schema 7: a bulk run's entries are in the index by
    (batch, card) alone, appended, no longer also at their cards' places in an index by card of the whole
    history), ~230 more WAL frames (~3 ms) and Python (~3 ms). What is left is mostly the floor's own work
    done twice over (the lookups of the same rows before the UPDATE) and the pending and journal rows' pages;
    a narrower card row makes the floor itself cheaper (UPDATE + commit of 8k cards: 45 ms of CPU on today's
    card table, 20 ms on a 3.7 MB table of the edited columns) and so the ratio worse.
    """
    from curator.core.store import Store

    with Store(library.db) as store:
        _, ids = _edited_ids(store)
        floor = harness.bare_update_floor(library.db, ids, tmp_path / "floor.sqlite")
        product = store.backend.connection_settings()
        assert floor.settings() == {name: product[name] for name in floor.settings()}
        batches: list[int] = []

        def undo_last() -> None:
            if batches:
                store.undo(batches.pop())

        def edit() -> None:
            result = store.set_fields(ids, {"published": True}, label="bench")
            assert result.batch_id is not None and len(result.changed) == len(ids)
            batches.append(result.batch_id)

        app, floors = harness.measure_alternated(edit, floor.floors(), repeat=max(RUNS, 9), setup=undo_last)
        undo_last()
        floor.close()
        assert store.count("dirty:true") == 0
    for name, timing in floors.items():
        harness.record(f"Store.set_fields published=true vs a bare UPDATE of the same rows, {name} (medians)",
                       len(ids), app.median, timing.median)  # fmt: skip
    best = min(timing.median for timing in floors.values())
    harness.record("Store.set_fields published=true vs the faster bare UPDATE (medians)", len(ids), app.median,
                   best, "≤ 1.5x")  # fmt: skip
    assert app.median <= 1.5 * best


def test_set_published_vs_sqlite_floor(library: Library, n: int, tmp_path: Path) -> None:
    from curator.core.store import Store

    with Store(library.db) as store:
        query, ids = _edited_ids(store)
        bare = harness.bare_update_floor(library.db, ids, tmp_path / "floor.sqlite")
    floor = harness.measure(bare.one_statement)
    bare.close()
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
    """Issue 12: `curator write` of EDITS cards (one value each) <= 1.25x temp + fsync + replace of the same
    files in one process (medians, alternated with it and with the two-process floor). Each run after the
    first writes the cards' other `published` value, set untimed before it.

    Met at 100k: 18.7 s against 59.6 s (0.31x; the two-process floor 10.4 s, 1.80x) at load 10-12, and in an
    alternated run of three rounds 15.2 s against 47.6 s (0.32x) at load 7-11; at 10k 0.64x (10.1 vs 15.8 s).
    The floor is one fsync after another, so its wall follows this disk's fsync latency (8.6 to 60 s for the
    same ~10k files between runs); the write overlaps up to 12 fsyncs and is bound by its CPU instead, ~1.4 ms
    a file at 100k (workers ~1.25: libyaml compose of the original ~40% of their Python time, the put's
    kernel work as the floor's; the main process ~0.15). On a quick disk with the cores taken (last session:
    16.9 s against 8.6 s at load 6-7) it misses: then the CPU figures above are where to look."""
    from curator.core.store import Store

    with Store(library.db) as store:
        dirty = store.ids("dirty:true")
        paths = [row.path for row in store.rows_by_id(dirty)]
    assert dirty, "run after test_set_published_vs_sqlite_floor"
    value = [True]  # what the dirty cards hold pending now (test_set_published_vs_sqlite_floor's edit)
    runs: list[harness.ChildRun] = []

    def redirty() -> None:
        if not runs:
            return
        value[0] = not value[0]
        with Store(library.db) as store:
            assert len(store.set_fields(dirty, {"published": value[0]}, label="bench").changed) == len(dirty)

    def write() -> None:
        run = harness.run_measured(harness.curator(library.db, "write", "--json"))
        assert run.rc == 0, run.stderr
        report = json.loads(run.stdout)
        assert report["written"] == len(dirty) and not report["conflicts"] and not report["failed"]
        runs.append(run)

    floors = {"one": harness.write_floor(paths, tmp_path / "one"),
              "two": harness.write_floor_two(paths, tmp_path / "two")}  # fmt: skip
    _, timings = harness.measure_alternated(write, floors, repeat=RUNS, setup=redirty)
    seconds = statistics.median(run.seconds for run in runs)
    one, two = timings["one"].median, timings["two"].median
    harness.record("curator write (CLI, one value per card) vs temp + fsync + replace, one process (medians)",
                   len(dirty), seconds, one, "≤ 1.25x")  # fmt: skip
    harness.record("curator write (CLI, one value per card) vs temp + fsync + replace, two processes "
                   "(medians)", len(dirty), seconds, two)  # fmt: skip
    WRITES.extend(runs)
    assert seconds <= 1.25 * one


#: The `curator write` runs of test_write_dirty_vs_write_floor (their memory is checked on its own, so a
#: strict xfail of the time cannot hide it).
WRITES: list[harness.ChildRun] = []


def test_write_peak_rss() -> None:
    assert WRITES, "run after test_write_dirty_vs_write_floor"
    peak = max(run.peak_rss_mib for run in WRITES)
    harness.record("curator write: peak RSS", None, f"{peak:.0f} MiB", target="≤ 300 MiB")
    assert peak <= 300
