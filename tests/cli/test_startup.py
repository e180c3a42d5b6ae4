"""`curator list` and friends start without the modules only other commands need (yaml, ftfy, Qt, ...)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from curator.cli import main

from .conftest import EXAMPLE_CARD, ROOT

# Each costs start-up time a read-only command does not need: the card reader (yaml, ~20 ms), the
# importer's process pool, ftfy's tables (~40 ms), Qt, write's diffs, the user-folder lookup.
HEAVY = (
    "yaml", "ftfy", "multiprocessing", "concurrent.futures", "PySide6", "qtawesome", "difflib",
    "platformdirs", "curator.core.importer", "curator.core.cards", "curator.core.fields", "curator.gui",
)  # fmt: skip

# Runs `python -m curator ARGS` inside a process that then reports what was imported. The CLI ends a
# finished command with os._exit (curator.cli.leave): here that becomes SystemExit, so the report is written.
_PROBE = """
import json, os, runpy, sys
heavy = json.loads(sys.argv[2])
sys.argv = ["curator", *json.loads(sys.argv[1])]
def _exit(code):
    raise SystemExit(code)
os._exit = _exit
code = 0
try:
    runpy.run_module("curator", run_name="__main__", alter_sys=True)
except SystemExit as done:
    code = done.code
sys.stderr.write("\\n" + json.dumps({"code": code, "heavy": [m for m in heavy if m in sys.modules]}))
"""


def _imports(*args: str) -> tuple[int, list[str], str]:
    """Exit code, the HEAVY modules imported, and stdout of one `curator` run."""
    done = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(args), json.dumps(HEAVY)],
                          capture_output=True, text=True, cwd=ROOT, timeout=60, check=False)
    report = json.loads(done.stderr.splitlines()[-1])
    return report["code"], report["heavy"], done.stdout


@pytest.fixture
def library_db(tmp_path: Path) -> str:
    db = str(tmp_path / "library.sqlite")
    card = tmp_path / "robots.md"
    card.write_text("---\ntitle: Robots fold laundry\nquality: 70\ntopics: [AI]\n---\n", encoding="utf-8")
    shutil.copyfile(EXAMPLE_CARD, tmp_path / EXAMPLE_CARD.name)
    assert main(["--db", db, "import", str(card), str(tmp_path / EXAMPLE_CARD.name)]) == 0
    return db


@pytest.mark.parametrize("args", [
    ("list", "--limit", "1"),
    ("list", "--json", "topic:AI", "--sort", "quality:desc"),
])  # fmt: skip
def test_list_imports_nothing_heavy(library_db: str, args: tuple[str, ...]) -> None:
    code, heavy, out = _imports("--db", library_db, *args)
    assert code == 0 and ("Robots fold laundry" in out or "face recognition" in out)  # the command did its work
    assert heavy == []


def test_check_needs_the_field_rules_and_ftfy_only_for_suspect_text(library_db: str) -> None:
    # The example card's title is real mojibake ("Russiaâ€™s"): only that text brings ftfy in.
    code, heavy, out = _imports("--db", library_db, "check")
    assert code == 0 and "mojibake" in out
    assert heavy == ["ftfy", "curator.core.fields"]
    code, heavy, out = _imports("--db", library_db, "check", "laundry")
    assert code == 0 and out == ""
    assert heavy == ["curator.core.fields"]


def test_set_by_id_needs_the_field_rules_but_not_the_reader(library_db: str) -> None:
    code, heavy, out = _imports("--db", library_db, "set", "--id", "1", "heat=5")
    assert code == 0 and out.strip() == "1 card changed"
    assert heavy == ["curator.core.fields"]


def test_the_probe_sees_imports(library_db: str, tmp_path: Path) -> None:
    # The same probe on `import` must see the reader and the field rules, or it proves nothing above.
    card = tmp_path / "more.md"
    card.write_text("---\ntitle: More\n---\n", encoding="utf-8")
    code, heavy, _ = _imports("--db", library_db, "import", str(card))
    assert code == 0
    assert {"yaml", "curator.core.cards", "curator.core.fields", "curator.core.importer"} <= set(heavy)
