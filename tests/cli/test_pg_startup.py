"""`curator list` on a team library starts without what only other commands need (issue 10's list target).

The driver itself (psycopg) must load; the card schema's peewee models and the field rules (~10 ms), the
live-update listener, the locks and the SQLite-to-PostgreSQL transfer must not, nor the HEAVY modules of
test_startup (the card reader, the importer, Qt, ...).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from curator.cli import main

from .conftest import EXAMPLE_CARD, ROOT
from .test_startup import _PROBE, HEAVY

# concurrent.futures comes with the driver (psycopg imports asyncio, which imports it).
TEAM_HEAVY = (
    *(m for m in HEAVY if m != "concurrent.futures"), "curator.core.schema", "curator.core.store_rows", "curator.core.backend.pg_listen",
    "curator.core.backend.pg_locks", "curator.core.backend.transfer", "psycopg_pool", "playhouse.sqlite_ext",
)  # fmt: skip


def _imports_of(heavy: tuple[str, ...], *args: str) -> tuple[int, list[str], str]:
    """Exit code, the ``heavy`` modules imported, and stdout of one `curator` run (test_startup's probe)."""
    done = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(args), json.dumps(heavy)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60, check=False)  # fmt: skip
    report = json.loads(done.stderr.splitlines()[-1])
    return report["code"], report["heavy"], done.stdout


@pytest.fixture
def team_library(pg_url: str) -> str:
    assert main(["--db", pg_url, "import", str(EXAMPLE_CARD)]) == 0
    return pg_url


@pytest.mark.parametrize("args", [("list", "--limit", "1"), ("list", "--json", "police", "--sort", "date:desc")])
def test_team_list_imports_only_what_a_read_needs(team_library: str, args: tuple[str, ...]) -> None:
    code, heavy, out = _imports_of(TEAM_HEAVY, "--db", team_library, *args)
    assert code == 0 and "police departments" in out  # the command did its work
    assert heavy == []


def test_the_probe_sees_the_team_imports(team_library: str) -> None:
    # The same probe on `set` must see the card schema's columns come in, or it proves nothing above.
    code, heavy, _ = _imports_of(TEAM_HEAVY, "--db", team_library, "set", "--id", "1", "heat=5")
    assert code == 0
    assert "curator.core.schema" in heavy
