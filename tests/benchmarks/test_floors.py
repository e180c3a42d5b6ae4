"""Floors: what the same work costs with no application code (libyaml, stat, fsync+replace, sqlite3)."""

from __future__ import annotations

import sys
from pathlib import Path

import harness
import pytest

pytestmark = pytest.mark.benchmark


def test_compose_floor(paths: list[str], n: int) -> None:
    t = harness.measure(harness.compose_floor(paths))
    harness.record("floor: read + libyaml compose", n, t.median)
    assert t.best > 0


def test_compose_floor_in_two_processes(paths: list[str], n: int) -> None:
    """The same floor over each half of the files in two processes at once: what the import's two parsing
    workers could reach, measured alternated with the one-process floor."""
    two, ones = harness.measure_alternated(harness.compose_floor_two(paths), {"one": harness.compose_floor(paths)})
    harness.record("floor: read + libyaml compose, two processes", n, two.median, ones["one"].median)
    assert two.best > 0


def test_stat_floor(paths: list[str], n: int) -> None:
    t = harness.measure(harness.stat_floor(paths), repeat=5)
    harness.record("floor: os.stat", n, t.best)
    assert t.best > 0


def test_write_floor(paths: list[str], n: int, tmp_path: Path) -> None:
    t = harness.measure(harness.write_floor(paths, tmp_path / "w"), repeat=2)
    harness.record("floor: temp + fsync + os.replace", n, t.median)
    assert t.best > 0
    assert not [p for p in (tmp_path / "w").rglob(".*")]  # every temp file was renamed over its target


def test_write_floor_in_two_processes(paths: list[str], n: int, tmp_path: Path) -> None:
    """temp + fsync + replace over each half of the files in two processes at once, alternated with one."""
    two, ones = harness.measure_alternated(harness.write_floor_two(paths, tmp_path / "two"),
                                           {"one": harness.write_floor(paths, tmp_path / "one")}, repeat=2)  # fmt: skip
    harness.record("floor: temp + fsync + os.replace, two processes", n, two.median, ones["one"].median)
    assert two.best > 0
    assert not [p for p in (tmp_path / "two").rglob(".*")]  # every temp file was renamed, in both halves


def test_sqlite_floor(db: Path, n: int, tmp_path: Path) -> None:
    """A bare UPDATE of every card row of a library of ``n`` cards (a copy), both spellings alternated."""
    import sqlite3

    with sqlite3.connect(db) as conn:
        ids = [row[0] for row in conn.execute("SELECT id FROM card")]
    floor = harness.bare_update_floor(db, ids, tmp_path / "floor.sqlite")
    many, others = harness.measure_alternated(floor.executemany, {"one statement": floor.one_statement}, repeat=5)
    floor.close()
    harness.record("floor: sqlite3 UPDATE card SET published, dirty of every card, executemany", n, many.median)
    harness.record("floor: sqlite3 UPDATE card SET published, dirty of every card, one statement", n,
                   others["one statement"].median)  # fmt: skip
    assert many.best > 0


def test_process_floor() -> None:
    """Startup time and RSS of a bare interpreter and of one that imports the core: the CLI's own floors."""
    bare = harness.run_measured([sys.executable, "-c", "pass"])
    core = harness.run_measured([sys.executable, "-c", "import yaml, peewee, curator.core.store"])
    assert bare.rc == 0 and core.rc == 0, core.stderr
    harness.record("floor: python start", None, bare.seconds)
    harness.record("floor: python start, peak RSS", None, f"{bare.peak_rss_mib:.0f} MiB")
    harness.record("floor: python + core imports", None, core.seconds)
    harness.record("floor: python + core imports, peak RSS", None, f"{core.peak_rss_mib:.0f} MiB")
    assert core.peak_rss_mib >= bare.peak_rss_mib
