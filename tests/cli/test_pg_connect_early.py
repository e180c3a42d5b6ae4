"""A team library's first connection opens while the CLI loads its command's modules (issue 10).

pg_connect.connect_early starts it in a thread; the Store's first connect takes it (or the error its
attempt met). Checked here: through the real console entry the connection is opened in that thread before
the command's modules are imported, and the command's output is as before; the claim hands over the one
connection and its errors; a connection no command claimed is closed at the exit; commands that open
their libraries their own way (migrate, the desktop app) and SQLite libraries start none.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time

import psycopg
import pytest

from curator.cli import main
from curator.core.backend import pg_connect
from curator.core.backend.pg_connect import DatabaseMissing

from .conftest import EXAMPLE_CARD, ROOT

#: `curator ARGS` through the console entry, each connection pg_connect opens recorded: the thread that
#: opened it and whether the command's modules had been imported by then.
_PROBE = textwrap.dedent("""
    import json, os, runpy, sys
    from curator.core.backend import pg_connect
    opened, conns = [], []
    real = pg_connect._open
    def recording(location, **kwargs):
        import threading
        opened.append([threading.current_thread().name, "curator.cli.commands" in sys.modules])
        conns.append(real(location, **kwargs))
        return conns[-1]
    pg_connect._open = recording
    sys.argv = ["curator", *json.loads(sys.argv[1])]
    def leave(code):
        sys.stdout.flush()
        closed = [conn.closed for conn in conns]
        sys.stderr.write("\\n" + json.dumps({"code": code, "opened": opened, "closed": closed}))
        raise SystemExit(code)
    os._exit = leave
    runpy.run_module("curator", run_name="__main__", alter_sys=True)
""")


def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, list[list[object]], str]:
    """Exit code, the connections opened (thread, commands imported yet), stdout; every one was closed."""
    done = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(args)], capture_output=True, text=True,
                          cwd=ROOT, timeout=60, check=False, env=env)  # fmt: skip
    lines = done.stderr.splitlines()
    assert lines and lines[-1].startswith("{"), done.stderr
    report = json.loads(lines[-1])
    assert all(report["closed"]), report  # by the Store's close, or as unclaimed at the exit
    return report["code"], report["opened"], done.stdout


@pytest.fixture
def team_library(pg_url: str) -> str:
    assert main(["--db", pg_url, "import", str(EXAMPLE_CARD)]) == 0
    return pg_url


def test_list_connects_while_its_modules_load(team_library: str) -> None:
    code, opened, out = _run("--db", team_library, "list", "--json", "police")
    assert code == 0 and "police departments" in out
    assert opened == [["curator-connect", False]]  # one connection, begun before curator.cli.commands loaded


def test_migrate_and_sqlite_libraries_start_no_early_connection(team_library: str, tmp_path: object) -> None:
    code, opened, _ = _run("--db", team_library, "migrate", "--yes")
    assert code == 0 and opened and all(thread == "MainThread" for thread, _ in opened)  # its own
    code, opened, _ = _run("--db", str(tmp_path) + "/lib.sqlite", "list")
    assert code == 0 and opened == []


def test_the_first_connect_takes_the_early_one(team_library: str, monkeypatch: pytest.MonkeyPatch) -> None:
    threads: list[str] = []
    real = pg_connect._open

    def recording(location: object, **kwargs: object) -> psycopg.Connection:
        threads.append(threading.current_thread().name)
        return real(location, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pg_connect, "_open", recording)
    pg_connect.connect_early(team_library)
    pg_connect.connect_early(team_library)  # one attempt per library
    first = pg_connect.connect(team_library, autocommit=True)
    second = pg_connect.connect(team_library, autocommit=True)  # claimed once: a new connection
    try:
        assert threads == ["curator-connect", "MainThread"]
        assert first is not second and first.execute("SELECT 1").fetchone() == (1,)
        assert first.autocommit
    finally:
        first.close()
        second.close()
    pg_connect.connect_early(team_library)
    other = pg_connect.connect(team_library)  # not the backend's settings (a transaction): not claimed
    other.close()
    assert threads[-1] == "MainThread"
    pg_connect.discard_early()


def test_the_early_attempts_error_is_the_claimers(pg_cluster: object) -> None:
    url = pg_cluster.url("no_such_database")  # type: ignore[attr-defined]
    pg_connect.connect_early(url)
    with pytest.raises(DatabaseMissing, match="has no such database"):
        pg_connect.connect(url, autocommit=True)


def test_an_unclaimed_connection_is_closed(team_library: str) -> None:
    pg_connect.connect_early(team_library)
    early = pg_connect._early[team_library]
    deadline = time.monotonic() + 10
    while early._thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert early._conn is not None and not early._conn.closed
    pg_connect.discard_early()
    assert early._conn.closed and pg_connect._early == {}


def test_a_command_failing_before_its_library_opens_closes_the_early_connection(team_library: str) -> None:
    """CURATOR_BUSY_TIMEOUT is checked before the Store opens: exit 2, and the connection begun for it is
    closed at the exit (``_run`` checks every connection was) rather than dropped by the process's end."""
    import os

    code, opened, _ = _run("--db", team_library, "list", env={**os.environ, "CURATOR_BUSY_TIMEOUT": "soon"})
    assert code == 2 and opened == [["curator-connect", False]]
