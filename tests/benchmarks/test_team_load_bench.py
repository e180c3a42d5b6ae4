"""Many editors at once on one library: throughput, edit latency, and the journal checked afterwards.

N editor processes (20 on PostgreSQL, 4 on SQLite: its honest limit is one writer at a time on one file),
each with its own connection, edit one library for a while: random single-field edits and topic edits
based on the version they read, small bulk publishes, undos of their own latest step
(tests/benchmarks/team_load_editor.py). Afterwards the library is checked against what every editor
reported and against its journal: no lost update (every applied edit was based on the value the journal
says it replaced), no edit applied twice or lost (the batches are exactly the editors' applied calls,
each by its editor), every card's value is the one its latest step not undone set, and no deadlock
(every editor finished, none met a busy library).

Run: ``python -m pytest tests/benchmarks/test_team_load_bench.py -m benchmark -s``. Sizes:
``$CURATOR_TEAM_BENCH_N`` cards (default 100,000), ``$CURATOR_TEAM_BENCH_SECONDS`` (default 60),
``$CURATOR_TEAM_BENCH_EDITORS`` to override the editor count of both backends.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import harness
import pytest

from curator.core.importer import import_paths
from curator.core.store import Store

pytestmark = pytest.mark.benchmark

HERE = Path(__file__).resolve().parent
EDITOR_SCRIPT = HERE / "team_load_editor.py"
CARDS = int(os.environ.get("CURATOR_TEAM_BENCH_N", "100000"))
SECONDS = float(os.environ.get("CURATOR_TEAM_BENCH_SECONDS", "60"))
EDITORS = {"sqlite": 4, "postgresql": 20}
#: Beyond the run's own duration, how long an editor may take to finish before it counts as hung.
GRACE = 120.0


def _editors(backend: str) -> int:
    override = os.environ.get("CURATOR_TEAM_BENCH_EDITORS")
    return int(override) if override else EDITORS[backend]


def _run_editors(library: str, count: int) -> tuple[list[dict[str, Any]], float]:
    """Start every editor, release them together, collect their reports; (reports, wall seconds)."""
    argv = [[sys.executable, str(EDITOR_SCRIPT), library, f"editor{i:02d}", str(SECONDS), str(1000 + i), str(CARDS)]
            for i in range(count)]  # fmt: skip
    procs = [subprocess.Popen(a, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=harness.ROOT)
             for a in argv]  # fmt: skip
    time.sleep(min(5.0, 0.3 * count))  # let every process import and connect before the clock starts
    started = time.perf_counter()
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    reports = []
    for proc in procs:
        out, _ = proc.communicate(timeout=SECONDS + GRACE)  # a hung (deadlocked) editor fails here
        assert proc.returncode == 0, f"an editor failed (exit {proc.returncode})"
        reports.append(json.loads(out))
    return reports, time.perf_counter() - started


def _check_against_journal(store: Store, reports: list[dict[str, Any]]) -> dict[str, int]:
    """Every assertion of the module docstring; returns counts for the report."""
    applied: dict[int, tuple[str, dict[str, Any]]] = {}
    for i, report in enumerate(reports):
        for call in report["calls"]:
            if call["outcome"] == "applied":
                assert call["batch"] not in applied, f"batch {call['batch']} reported twice"
                applied[call["batch"]] = (f"editor{i:02d}", call)
    batches = {bid: (editor, undone) for bid, editor, undone in store.backend.batch_rows()}
    # No edit applied twice, none lost: the library's batches are exactly the applied calls, each its editor's.
    assert set(batches) == set(applied)
    assert all(batches[bid][0] == editor for bid, (editor, _) in applied.items())
    entries = store.backend.journal_rows()
    by_batch: dict[int, list[tuple[int, str, str, str]]] = {}
    for bid, cid, field, old, new in entries:
        by_batch.setdefault(bid, []).append((cid, field, old, new))
    # No lost update: each single-card edit replaced exactly the value its editor had read.
    based = 0
    for bid, (_, call) in applied.items():
        if call["kind"] in ("single", "topic"):
            (cid, field, old, _), = by_batch[bid]
            assert (cid, field) == (call["card"], call["field"])
            assert json.loads(old) == call["based_on"], f"batch {bid} overwrote a value its editor never saw"
            based += 1
    # Every value is the one its latest step not undone set (else the file's).
    latest: dict[tuple[int, str], str | None] = {}
    for bid, cid, field, _, new in entries:
        key = (cid, field)
        if not batches[bid][1]:
            latest[key] = new
        else:
            latest.setdefault(key, None)
    for field in {f for _, f in latest}:
        ids = [cid for cid, f in latest if f == field]
        for cid, base, current in store.backend.current(field, ids):
            expected = latest[(cid, field)]
            assert json.loads(current) == json.loads(base if expected is None else expected), (cid, field)
    return {"batches": len(batches), "entries": len(entries), "based_checked": based, "values_checked": len(latest)}


def _ms(values: list[float], q: float) -> str:
    if not values:
        return "—"
    ordered = sorted(values)
    return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000:.1f} ms"


@pytest.fixture(scope="module")
def cards_root() -> Path:
    return harness.dataset(CARDS)


def test_team_load(library_url: str, cards_root: Path, request: pytest.FixtureRequest) -> None:
    backend = request.node.callspec.params["library_url"]
    count = _editors(backend)
    with Store(library_url, editor="importer") as store:
        started = time.perf_counter()
        report = import_paths(store, [str(cards_root)])
        imported = time.perf_counter() - started
        assert report.added == CARDS and max(store.ids()) == CARDS
        reports, wall = _run_editors(library_url, count)
        checks = _check_against_journal(store, reports)
    calls = [c for r in reports for c in r["calls"]]
    busy = [c for c in calls if c["outcome"] == "busy"]
    assert not busy, f"{len(busy)} edits met a busy library (a writer held the lock past 30 s)"
    edits = [c for c in calls if c["kind"] != "undo"]
    latencies = [c["seconds"] for c in edits]
    applied = sum(c["outcome"] == "applied" for c in calls)
    kinds = {kind: [c["seconds"] for c in edits if c["kind"] == kind] for kind in ("single", "topic", "bulk")}
    stale = sum(c["outcome"] == "stale" for c in calls)
    undos = [c for c in calls if c["kind"] == "undo"]
    label = f"team load, {backend}, {count} editors, {SECONDS:.0f} s"
    harness.record(f"{label}: import", CARDS, imported)
    harness.record(f"{label}: edits/s (applied batches/s)", CARDS,
                   f"{len(calls) / wall:.0f} calls/s, {applied / wall:.0f} applied/s")  # fmt: skip
    harness.record(f"{label}: edit latency p50 / p95", CARDS,
                   f"{_ms(latencies, 0.5)} / {_ms(latencies, 0.95)}")  # fmt: skip
    for kind, values in kinds.items():
        harness.record(f"{label}: {kind} p50 / p95 ({len(values)} calls)", CARDS,
                       f"{_ms(values, 0.5)} / {_ms(values, 0.95)}")  # fmt: skip
    harness.record(
        f"{label}: stale refused {stale}, undos {sum(u['outcome'] == 'undone' for u in undos)} "
        f"(refused {sum(u['outcome'] == 'refused' for u in undos)}), journal checked: {checks}",
        CARDS, f"mean {statistics.fmean(latencies) * 1000:.0f} ms" if latencies else "—",
    )  # fmt: skip
    assert applied > 0 and checks["based_checked"] > 0
