"""`curator list` on a team library makes no dataclass of Curator's beyond the ones it cannot do without.

A dataclass compiles its generated methods (``__init__``, ``__repr__``, ``__eq__``, ``__hash__``, the frozen
``__setattr__``/``__delattr__``) from source text at every import: ~0.5-1.4 ms a class, paid by every CLI
run that imports its module. The query language's nine term classes were ~5 ms of a team library's `list`
(issue 10's 150 ms over start-up) and are written out now (curator.core.query._Frozen); the backend's
card SQL record is a plain class. What is left is listed in ALLOWED with its owner; a new dataclass on the
read path fails here, with the cost of its module in mind.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from curator.cli import main

from .conftest import EXAMPLE_CARD, ROOT

#: Curator's dataclasses a team library's `list` still makes: the Store's value types (one module, all
#: imported for CardRow), the parsed location and the connection's access check.
ALLOWED = frozenset({
    *(f"curator.core.store_types.{name}" for name in (
        "CardRow", "CardDetail", "Facets", "Totals", "FieldChange", "Skipped", "EditResult", "BatchInfo",
        "ProblemRow", "WriteReport", "ImportReport",
    )),
    "curator.core.backend.location.Location",
    "curator.core.backend.pg_connect.Access",
})  # fmt: skip

# Runs `python -m curator ARGS` with dataclasses recording every class it processes, then reports the
# ones defined in Curator's modules. The CLI ends a finished command with os._exit (curator.cli.leave):
# here that becomes SystemExit, so the report is written.
_PROBE = """
import dataclasses, json, os, runpy, sys
made = []
process = dataclasses._process_class
def _recorded(cls, *args, **kwargs):
    if cls.__module__.startswith("curator"):
        made.append(f"{cls.__module__}.{cls.__qualname__}")
    return process(cls, *args, **kwargs)
dataclasses._process_class = _recorded
sys.argv = ["curator", *json.loads(sys.argv[1])]
def _exit(code):
    raise SystemExit(code)
os._exit = _exit
code = 0
try:
    runpy.run_module("curator", run_name="__main__", alter_sys=True)
except SystemExit as done:
    code = done.code
sys.stderr.write("\\n" + json.dumps({"code": code, "made": made}))
"""


def _dataclasses_of(*args: str) -> tuple[int, set[str], str]:
    """Exit code, Curator's dataclasses made, and stdout of one `curator` run."""
    done = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(args)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60, check=False)  # fmt: skip
    report = json.loads(done.stderr.splitlines()[-1])
    return report["code"], set(report["made"]), done.stdout


@pytest.fixture
def team_library(pg_url: str) -> str:
    assert main(["--db", pg_url, "import", str(EXAMPLE_CARD)]) == 0
    return pg_url


@pytest.mark.parametrize(
    "args", [("list", "--limit", "1"), ("list", "--json", "police -topic:x", "--sort", "date:desc")]
)
def test_team_list_makes_only_the_allowed_dataclasses(team_library: str, args: tuple[str, ...]) -> None:
    code, made, out = _dataclasses_of("--db", team_library, *args)
    assert code == 0 and "police departments" in out  # the command did its work (the query was parsed)
    assert made <= ALLOWED, sorted(made - ALLOWED)
    assert not any(name.startswith("curator.core.query.") for name in made)


def test_the_probe_sees_dataclasses(team_library: str) -> None:
    # The same probe on `set` must see the assignment and field-rule classes come in, or it proves nothing.
    code, made, _ = _dataclasses_of("--db", team_library, "set", "--id", "1", "heat=5")
    assert code == 0
    assert "curator.core.backend.location.Location" in made
    assert made - ALLOWED  # `set`'s own (curator.cli.assign, curator.core.fields, ...)
