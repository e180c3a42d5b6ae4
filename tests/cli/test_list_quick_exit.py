"""`curator list` pays for its own work only: no analysis modules, no collector at start-up, no teardown.

Issue 10's team-library target (list p50 <= 150 ms over `curator --version`) and issue 12's SQLite one.
Three things keep a read short, and each has a test here that fails when it goes:

- the list path imports no module only other commands need: the duplicate and same-story machinery
  (numpy, rapidfuzz, datasketch, curator.core.checks), the card reader (yaml), ftfy, the importer's
  process pool, Qt; on both backends, through the real console entry;
- the garbage collector is paused while the start-up's modules load and collects again before the
  command runs (curator.cli.resume_gc);
- a finished command ends with os._exit once stdout and stderr are flushed (curator.cli.leave), so the
  interpreter does not tear down psycopg, asyncio and peewee (~30 ms); exit codes and output are the
  command's exactly, and a process with a thread or a worker pool still about exits the usual way.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from curator import cli
from curator.cli import commands, main

from .conftest import ROOT, Curator
from .test_startup import _PROBE

# What only `dupes`, `related --suggest`, `check` and the GUI's panels need: numpy and rapidfuzz are
# tens of ms each, and the check index loads them all.
ANALYSIS = ("numpy", "rapidfuzz", "datasketch", "curator.core.checks", "curator.core.checks.index")
# The roots' and the team locks' modules (~4 ms): only a root map or a lock needs them.
READ_HEAVY = (
    *ANALYSIS, "yaml", "ftfy", "multiprocessing", "PySide6", "curator.core.importer", "curator.core.roots",
    "curator.core.team_locks",
)  # fmt: skip

# `curator ARGS` with an exit hook of its own: the hook prints only if the interpreter's teardown runs.
_TEARDOWN_PROBE = """
import atexit, json, runpy, sys
atexit.register(lambda: sys.stderr.write("teardown ran\\n"))
sys.argv = ["curator", *json.loads(sys.argv[1])]
runpy.run_module("curator", run_name="__main__", alter_sys=True)
"""


def _env() -> dict[str, str]:
    """The session's environment with stdout block-buffered, as it is for a script reading a pipe: an
    exit that forgot to flush would lose the output here (PYTHONUNBUFFERED would hide it)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONUNBUFFERED", "CURATOR_DB")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return env


def _probe(heavy: tuple[str, ...], *args: str) -> tuple[int, list[str], str]:
    """Exit code, the ``heavy`` modules imported, and stdout of one `curator` run (test_startup's probe)."""
    done = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(args), json.dumps(heavy)], env=_env(),
                          capture_output=True, text=True, cwd=ROOT, timeout=60, check=False)  # fmt: skip
    report = json.loads(done.stderr.splitlines()[-1])
    return report["code"], report["heavy"], done.stdout


def _run(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", script, json.dumps(args)], env=_env(), capture_output=True,
                          text=True, cwd=ROOT, timeout=60, check=False)  # fmt: skip


@pytest.mark.parametrize("args", [
    ("list", "--json", "--limit", "200", "quality>=20"),
    ("list", "laundry OR gardening", "--sort", "date:desc"),
    ("list", "--json", "topic:AI", "date>=2020-03-01", "date<2022-07"),
])  # fmt: skip
def test_list_imports_no_analysis_modules(library: Curator, args: tuple[str, ...]) -> None:
    code, heavy, out = _probe(READ_HEAVY, "--db", str(library.db), *args)
    assert code == 0 and "Robots learn to fold laundry" in out  # the command did its work
    assert heavy == []


def test_the_probe_sees_the_analysis_modules(library: Curator) -> None:
    # `dupes` builds the check index: the same probe must see numpy and rapidfuzz come in, or the test
    # above proves nothing.
    code, heavy, _ = _probe(READ_HEAVY, "--db", str(library.db), "dupes")
    assert code == 0
    assert {"numpy", "rapidfuzz", "curator.core.checks.index"} <= set(heavy)


def test_a_finished_list_skips_the_teardown_and_keeps_its_output_and_codes(library: Curator) -> None:
    done = _run(_TEARDOWN_PROBE, "--db", str(library.db), "list", "--json", "--sort", "title")
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]  # every line whole: stdout was flushed
    assert len(rows) == len(library("list", "--json").json_lines()) > 5
    assert [r["title"] for r in rows] == sorted(r["title"] for r in rows)
    assert "teardown ran" not in done.stderr

    done = _run(_TEARDOWN_PROBE, "--db", str(library.db), "list", "quality>=(")  # a query error: exit 2
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("curator: query: ") and "teardown ran" not in done.stderr

    done = _run(_TEARDOWN_PROBE, "--db", str(library.db), "show", "999999")  # no such card: exit 1
    assert done.returncode == 1 and "999999" in done.stderr and "teardown ran" not in done.stderr

    done = _run(_TEARDOWN_PROBE, "--version")  # the start-up the benchmark measures against ends alike
    assert (done.returncode, done.stdout, done.stderr) == (0, "curator 0.1.0\n", "")


@pytest.mark.sqlite_only(reason="SQLite's write-ahead log beside the library file")
def test_an_edit_closes_the_library_before_the_quick_exit(library: Curator) -> None:
    # A Store left open at os._exit would leave library.sqlite-wal and -shm behind (its last changes only
    # in the log, never checkpointed): the command's `with store` closed it first.
    card = next(
        r for r in library("list", "--json").json_lines() if r["title"] == "Robots learn to fold laundry"
    )
    done = _run(_TEARDOWN_PROBE, "--db", str(library.db), "set", "--id", str(card["id"]), "heat=41")
    assert (done.returncode, done.stdout) == (0, "1 card changed\n"), done.stderr
    assert "teardown ran" not in done.stderr
    assert not Path(f"{library.db}-wal").exists() and not Path(f"{library.db}-shm").exists()
    assert library("show", str(card["id"]), "--json").json()["heat"] == 41


def test_an_import_exits_the_usual_way(curator: Curator, tmp_path: Path) -> None:
    # The importer's process pool (multiprocessing) leaves its exit hook to run: no quick exit.
    card = tmp_path / "one.md"
    card.write_text("---\ntitle: One card\n---\n", encoding="utf-8")
    done = _run(_TEARDOWN_PROBE, "--db", str(curator.db), "import", str(card))
    assert done.returncode == 0, done.stderr
    assert "teardown ran" in done.stderr


class _Exits:
    """os._exit and sys.exit replaced by recorders (each raises SystemExit so ``leave`` stops there), and
    logging.shutdown counted."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[str, int]] = []
        self.logging_shut = 0
        monkeypatch.setattr(os, "_exit", self._record("os._exit"))
        monkeypatch.setattr(sys, "exit", self._record("sys.exit"))
        monkeypatch.setattr(logging, "shutdown", self._shutdown)  # not pytest's own log handlers

    def _shutdown(self) -> None:
        self.logging_shut += 1

    def _record(self, name: str) -> Any:
        def exit_(code: int = 0) -> None:
            self.calls.append((name, code))
            raise SystemExit(code)

        return exit_


@pytest.fixture
def exits(monkeypatch: pytest.MonkeyPatch) -> _Exits:
    """A process as a finished CLI command leaves it (pytest's own threads and modules set aside)."""
    for name in ("multiprocessing", "PySide6"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    return _Exits(monkeypatch)


def test_leave_exits_at_once_with_the_code_after_flushing(
    exits: _Exits, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    flushed: list[str] = []
    monkeypatch.setattr(sys.stdout, "flush", lambda: flushed.append("stdout"))
    monkeypatch.setattr(sys.stderr, "flush", lambda: flushed.append("stderr"))
    for code in (cli.EXIT_OK, cli.EXIT_FAILED, cli.EXIT_USAGE, cli.EXIT_CONFLICT, 130):
        with pytest.raises(SystemExit):
            cli.leave(code)
    assert exits.calls == [("os._exit", code) for code in (0, 1, 2, 3, 130)]
    assert flushed == ["stdout", "stderr"] * 5
    assert exits.logging_shut == 5  # logging's own exit hook, which os._exit skips, is run first


class _GoneReader:
    """stdout whose reader has gone (``curator list | head -1`` with output still buffered)."""

    def flush(self) -> None:
        raise BrokenPipeError(32, "Broken pipe")


@pytest.mark.parametrize("busy", ["thread", "multiprocessing", "PySide6", "flush fails"])
def test_leave_takes_the_usual_exit_when_work_may_remain(
    exits: _Exits, monkeypatch: pytest.MonkeyPatch, busy: str
) -> None:
    if busy == "thread":
        monkeypatch.setattr(threading, "active_count", lambda: 2)
    elif busy == "flush fails":
        monkeypatch.setattr(sys, "stdout", _GoneReader())
    else:
        monkeypatch.setitem(sys.modules, busy, sys)  # any module object: only its presence counts
    with pytest.raises(SystemExit):
        cli.leave(3)
    assert exits.calls == [("sys.exit", 3)]
    assert exits.logging_shut == 0  # left to the interpreter's exit


def test_the_collector_pauses_for_the_start_up_only(
    library: Curator, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[bool] = []
    real = commands.COMMANDS["list"]

    def listing(store: Any, args: Any) -> int:
        seen.append(gc.isenabled())
        return real(store, args)

    monkeypatch.setitem(commands.COMMANDS, "list", listing)
    try:
        cli._pause_gc()  # what main_exit does first
        assert not gc.isenabled()
        assert main(["--db", str(library.db), "list", "--limit", "1"]) == 0
        assert seen == [True]  # the command itself runs with the collector on
        assert gc.isenabled()
        assert gc.get_freeze_count() > 0  # the start-up's objects were set aside, not rescanned
        cli._pause_gc()
        assert main(["--version"]) == 0  # a run that opens no library collects again when it returns
        assert gc.isenabled()
    finally:
        cli._gc_paused = False
        gc.unfreeze()
        gc.enable()
