"""Benchmark harness (stdlib + PyYAML): data sets, timing, floors measured in the same run, result rows.

A figure alone says little on a shared machine, so each benchmark times the app *and* the floor the
same work cannot beat (libyaml compose of the same files, a stat per file, temp+fsync+replace of the
same bytes, raw sqlite3), in the same run, and reports the ratio. Rows go to bench-out/results.md.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import multiprocessing
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
RESULTS = ROOT / "bench-out" / "results.md"
CACHE = Path(tempfile.gettempdir()) / "curator-bench"
CARD_SUFFIXES = (".txt", ".md", ".markdown", ".yaml", ".yml")
SEED = 2020


def bench_n(default: int = 10_000) -> int:
    """The library size for the scale benchmarks: $CURATOR_BENCH_N (e.g. 100000), else ``default``."""
    return int(os.environ.get("CURATOR_BENCH_N", default))


# ---------------------------------------------------------------- data sets

def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("curator_seeds_generate", SEEDS / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _generator_digest() -> str:
    h = hashlib.sha256()
    for path in sorted(SEEDS.glob("*.py")):
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


def dataset(n: int, seed: int = SEED) -> Path:
    """A folder of ``n`` generated cards, made once and cached under the temp dir. Treat it as read-only.

    The cache key includes a digest of the generator, so a changed generator makes a fresh set.
    """
    target = CACHE / f"cards-{n}-{seed}-{_generator_digest()}"
    if (target / ".complete").exists():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=f".building-{n}-", dir=CACHE))
    gen = _generator()
    gen.generate(building, gen.Options(seed=seed, count=n))
    (building / ".complete").write_text(f"{n} cards, seed {seed}\n")
    try:
        building.rename(target)  # atomic: a concurrent or killed run never leaves half a data set
    except OSError:  # another session finished first
        shutil.rmtree(building, ignore_errors=True)
    return target


def copy_dataset(n: int, dest: Path, seed: int = SEED) -> Path:
    """A writable copy of :func:`dataset` at ``dest`` (for benchmarks that change files)."""
    shutil.copytree(dataset(n, seed), dest, ignore=shutil.ignore_patterns(".complete"))
    return dest


def card_paths(root: Path) -> list[str]:
    """The card files under ``root``, sorted, skipping dotfiles and dot-folders as the importer does."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found += [os.path.join(folder, f) for f in files if not f.startswith(".") and f.lower().endswith(CARD_SUFFIXES)]
    return sorted(found)


# ---------------------------------------------------------------- timing

@dataclass(frozen=True)
class Timing:
    runs: tuple[float, ...]  # seconds

    @property
    def best(self) -> float:
        return min(self.runs)

    @property
    def median(self) -> float:
        return statistics.median(self.runs)


def measure(fn: Callable[[], object], repeat: int = 3, setup: Callable[[], object] | None = None) -> Timing:
    """Time ``fn`` ``repeat`` times; ``setup`` (untimed) runs before each run."""
    runs = []
    for _ in range(repeat):
        if setup is not None:
            setup()
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return Timing(tuple(runs))


def measure_pair(
    app: Callable[[], object], floor: Callable[[], object], repeat: int = 3, setup: Callable[[], object] | None = None
) -> tuple[Timing, Timing]:
    """Time ``app`` and its ``floor`` alternately, so both see the same load on a shared machine.

    ``setup`` (untimed) runs before each ``app`` run.
    """
    app_runs, floor_runs = [], []
    for _ in range(repeat):
        floor_runs.append(measure(floor, 1).best)
        app_runs.append(measure(app, 1, setup).best)
    return Timing(tuple(app_runs)), Timing(tuple(floor_runs))


def measure_alternated(
    app: Callable[[], object], floors: dict[str, Callable[[], object]], repeat: int = 3,
    setup: Callable[[], object] | None = None,
) -> tuple[Timing, dict[str, Timing]]:
    """Time ``app`` and each of its ``floors`` in turn, ``repeat`` rounds (floor, floor, app, floor, ...).

    Every round runs each floor once, then ``app`` once (``setup``, untimed, before it), so the product and
    its floors see the same load on a shared machine; compare the medians.
    """
    app_runs: list[float] = []
    floor_runs: dict[str, list[float]] = {name: [] for name in floors}
    for _ in range(repeat):
        for name, floor in floors.items():
            floor_runs[name].append(measure(floor, 1).best)
        app_runs.append(measure(app, 1, setup).best)
    return Timing(tuple(app_runs)), {name: Timing(tuple(runs)) for name, runs in floor_runs.items()}


# ---------------------------------------------------------------- floors

def two_processes(first: Callable[[], None], second: Callable[[], None]) -> Callable[[], None]:
    """Run two floors at once in two forked processes (a floor over each half of the files).

    Import and write use both cores, so their one-process floor flatters them; this is the floor of the
    same work spread over two processes, as the product spreads it. The callables are built (and any
    copying they need done) before timing; only the fork, the work and the wait are timed.
    """
    ctx = multiprocessing.get_context("fork")

    def run() -> None:
        workers = [ctx.Process(target=fn) for fn in (first, second)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert all(worker.exitcode == 0 for worker in workers), [w.exitcode for w in workers]

    return run


def halves(paths: Sequence[str]) -> tuple[list[str], list[str]]:
    """``paths`` dealt into two halves (every other file), as a two-process floor splits the work."""
    return list(paths[0::2]), list(paths[1::2])


def compose_floor_two(paths: Sequence[str]) -> Callable[[], None]:
    """:func:`compose_floor` over each half of ``paths`` in two processes at once."""
    one, other = halves(paths)
    return two_processes(compose_floor(one), compose_floor(other))


def write_floor_two(paths: Sequence[str], scratch: Path) -> Callable[[], None]:
    """:func:`write_floor` over each half of ``paths`` in two processes at once (copies under ``scratch``)."""
    one, other = halves(paths)
    return two_processes(write_floor(one, scratch / "a"), write_floor(other, scratch / "b"))


def _front_matter(text: str) -> str:
    # The cheapest correct split for generated cards: "---" line, YAML, "---" line (or a plain .yaml file).
    if not text.startswith("---"):
        return text
    start = text.index("\n") + 1
    end = text.find("\n---", start - 1)
    return text[start:end + 1] if end >= 0 else text[start:]


def compose_floor(paths: Sequence[str]) -> Callable[[], None]:
    """Read each file and compose its YAML with libyaml (CSafeLoader), one process: the parse floor."""
    import yaml

    def run() -> None:
        for path in paths:
            with open(path, "rb") as f:
                text = f.read().decode("utf-8-sig")
            yaml.compose(_front_matter(text), Loader=yaml.CSafeLoader)

    return run


def stat_floor(paths: Sequence[str]) -> Callable[[], None]:
    """One os.stat per file: the floor of a rescan that finds nothing changed."""

    def run() -> None:
        for path in paths:
            os.stat(path)

    return run


def write_floor(paths: Sequence[str], scratch: Path) -> Callable[[], None]:
    """Temp file + fsync + os.replace of the same bytes, per file (copies under ``scratch``)."""
    scratch.mkdir(parents=True, exist_ok=True)
    jobs = []
    for i, path in enumerate(paths):
        sub = scratch / f"{i // 1000:03d}"
        sub.mkdir(exist_ok=True)
        target = sub / os.path.basename(path)
        data = Path(path).read_bytes()
        target.write_bytes(data)
        jobs.append((str(target), data))

    def run() -> None:
        for target, data in jobs:
            folder, name = os.path.split(target)
            fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=folder)
            try:
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, target)

    return run


#: The floor connection's settings: those the product's library connections set
#: (``curator.core.backend.sqlite._PRAGMAS``), so the floor has the same durability and the same caches.
#: WAL with ``synchronous=NORMAL``: a commit appends to the WAL without an fsync, and SQLite's automatic
#: checkpoint (every 1000 pages of WAL, its default, which the product keeps on an edit's connection)
#: runs at the end of the commit that crosses it, fsyncing the WAL and then the library.
FLOOR_PRAGMAS: tuple[tuple[str, str | int], ...] = (
    ("journal_mode", "wal"),
    ("synchronous", "normal"),
    ("foreign_keys", 1),
    ("cache_size", -32_000),
    ("mmap_size", 256 * 1024 * 1024),
    ("temp_store", "memory"),
)


@dataclass
class BareUpdate:
    """The floor of a bulk ``set published=...`` on a real library: a bare UPDATE of the same card rows.

    One transaction of ``UPDATE card SET published = ?, dirty = 1`` over the same card ids, on a copy of
    the product's library (SQLite's backup API, made when the floor is built, untimed): the same wide
    rows on the same pages, the same indexes kept up to date (``card(published, date)``, the dirty flag's
    partial index), the same WAL and checkpoint, none of the library's own work (current values, pending
    edits, journal, versions). Each run sets the value the previous one did not, so every run is a real
    change of every row. Two spellings, the faster of which is the floor: ``executemany`` of
    ``... WHERE id = ?`` and one statement ``... WHERE id IN (SELECT value FROM json_each(?))``.
    """

    conn: sqlite3.Connection
    ids: list[int]
    value: int = 0

    def _next(self) -> int:
        self.value ^= 1
        return self.value

    def executemany(self) -> None:
        value = self._next()
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.executemany("UPDATE card SET published = ?, dirty = 1 WHERE id = ?", ((value, i) for i in self.ids))
        self.conn.execute("COMMIT")

    def one_statement(self) -> None:
        value = self._next()
        self.conn.execute("BEGIN IMMEDIATE")
        self.conn.execute("UPDATE card SET published = ?, dirty = 1 WHERE id IN (SELECT value FROM json_each(?))",
                          (value, json.dumps(self.ids)))  # fmt: skip
        self.conn.execute("COMMIT")

    def floors(self) -> dict[str, Callable[[], None]]:
        """Both spellings, for :func:`measure_alternated` (compare the product with the faster median)."""
        return {"executemany": self.executemany, "one statement": self.one_statement}

    def settings(self) -> dict[str, int | str]:
        """The floor connection's settings, named as ``SqliteBackend.connection_settings`` names the
        product's (so a benchmark can check that both run under the same ones)."""
        names = ("journal_mode", "synchronous", "foreign_keys", "wal_autocheckpoint", "mmap_size")
        return {name: self.conn.execute(f"PRAGMA {name}").fetchone()[0] for name in names}

    def close(self) -> None:
        self.conn.close()


def bare_update_floor(library: Path, ids: Sequence[int], copy: Path) -> BareUpdate:
    """:class:`BareUpdate` of the cards ``ids`` on a copy at ``copy`` of the library file ``library``."""
    source = sqlite3.connect(library)
    target = sqlite3.connect(copy)
    try:
        source.backup(target)  # the library as it is now, its WAL included
    finally:
        target.close()
        source.close()
    conn = sqlite3.connect(copy, isolation_level=None)
    for name, value in FLOOR_PRAGMAS:
        conn.execute(f"PRAGMA {name} = {value}")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    return BareUpdate(conn, sorted(ids))


# ---------------------------------------------------------------- processes

def curator(db: Path, *args: str) -> list[str]:
    """argv running the curator CLI on library ``db``."""
    return [sys.executable, "-m", "curator", "--db", str(db), *args]


_RSS_WRAPPER = (
    "import json, resource, subprocess, sys, time\n"
    "t = time.perf_counter(); p = subprocess.run(sys.argv[1:], capture_output=True)\n"
    "t = time.perf_counter() - t\n"
    "print(json.dumps({'rc': p.returncode, 'seconds': t, 'stdout': p.stdout.decode(errors='replace'),\n"
    "                  'stderr': p.stderr.decode(errors='replace')[-2000:],\n"
    "                  'maxrss_kib': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))\n"
)


@dataclass(frozen=True)
class ChildRun:
    rc: int
    seconds: float
    stdout: str
    stderr: str
    peak_rss_mib: float  # the largest resident set of the child or any of its own children (Linux: KiB)


def run_measured(argv: Sequence[str], cwd: Path | None = None) -> ChildRun:
    """Run ``argv`` under a fresh wrapper process so RUSAGE_CHILDREN covers that command alone."""
    out = subprocess.run([sys.executable, "-c", _RSS_WRAPPER, *argv], capture_output=True, text=True, cwd=cwd, check=True)
    d = json.loads(out.stdout)
    return ChildRun(d["rc"], d["seconds"], d["stdout"], d["stderr"], d["maxrss_kib"] / 1024)


def p50(argv: Sequence[str], repeat: int = 5) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Median wall time of a command over ``repeat`` runs, and its last result."""
    times, last = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        last = subprocess.run(argv, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - start)
    assert last is not None
    return statistics.median(times), last


# ---------------------------------------------------------------- results

HEADER = "| what | N | time | floor | ratio | target |\n|---|---:|---:|---:|---:|---|\n"


def _fmt(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def record(what: str, n: int | None, seconds: float | str, floor: float | None = None, target: str = "—") -> str:
    """Print one Markdown row and append it to bench-out/results.md (header written when the file is new).

    ``seconds`` may be text for figures that are not times (e.g. "412 MiB").
    """
    time_text = seconds if isinstance(seconds, str) else _fmt(seconds)
    ratio = f"{seconds / floor:.2f}x" if floor and not isinstance(seconds, str) else "—"
    row = f"| {what} | {'—' if n is None else f'{n:,}'} | {time_text} | {_fmt(floor)} | {ratio} | {target} |\n"
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    new = not RESULTS.exists()
    with open(RESULTS, "a", encoding="utf-8") as f:
        if new:
            f.write(HEADER)
        f.write(row)
    print("\n" + row, end="")
    return row
