"""Entry points and library resolution: --db, $CURATOR_DB, the default file, main.py, the gui hand-off."""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path

import pytest

from curator.cli import main
from curator.core import fields

from .conftest import ROOT, Curator


def test_db_flag_env_and_default_location(curator: Curator, cards: Path, tmp_path: Path) -> None:
    card = str(cards / "robots.md")
    other = tmp_path / "other.sqlite"
    # --db after the command works too, and wins over $CURATOR_DB.
    assert curator("import", card, "--db", str(other), db=False, env={"CURATOR_DB": str(tmp_path / "x.db")}).code == 0
    assert other.is_file() and not (tmp_path / "x.db").exists()
    # $CURATOR_DB when there is no --db.
    listed = curator("list", "--json", db=False, env={"CURATOR_DB": str(other)})
    assert [Path(r["path"]).name for r in listed.json_lines()] == ["robots.md"]
    # Neither: library.sqlite in the user data folder (curator.paths, as the GUI), created on first use.
    assert curator("import", card, db=False).code == 0
    data_dirs = list((tmp_path / "xdg-data").rglob("library.sqlite"))
    assert [p.parent.name for p in data_dirs] == ["Curator"]
    # A library path that cannot be opened is an error with the path, not a traceback.
    not_a_library = tmp_path / "notes.sqlite"
    not_a_library.write_text("just some text, not SQLite\n" * 100)
    bad = curator("list", "--db", str(not_a_library), db=False)
    assert bad.code == 1 and bad.err.startswith("curator: cannot open the library ") and "Traceback" not in bad.err


def test_help_texts_and_usage_errors(curator: Curator) -> None:
    top = subprocess.run([sys.executable, "main.py", "--help"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert top.returncode == 0, top.stderr
    for word in ("import", "list", "show", "set", "write", "check", "gui", "--db", "quality>=60"):
        assert word in top.stdout
    set_help = curator("set", "--help")
    assert set_help.code == 0 and "topics+=NAME" in set_help.out and "published:true" in set_help.out
    check_help = curator("check", "--help")
    assert check_help.code == 0 and all(kind in check_help.out for kind in fields.PROBLEM_KINDS)
    usage = curator("set", "quality=5")  # neither --query nor --id
    assert usage.code == 2 and "usage: curator set" in usage.err
    assert curator("list", "--limit", "-1").code == 2
    assert curator("frobnicate").code == 2


def test_gui_hand_off(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls = []
    fake = types.ModuleType("curator.gui.app")
    fake.run = lambda path=None, db=None: calls.append((path, db)) or 7  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "curator.gui.app", fake)
    monkeypatch.delenv("CURATOR_DB", raising=False)
    assert main(["--db", str(tmp_path / "lib.sqlite"), "gui", str(tmp_path / "cards")]) == 7
    assert main([]) == 7  # plain `curator` opens the app
    monkeypatch.setenv("CURATOR_DB", "env.sqlite")
    assert main(["gui"]) == 7
    assert calls == [(str(tmp_path / "cards"), str(tmp_path / "lib.sqlite")), (None, None), (None, "env.sqlite")]


def test_gui_not_available(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "curator.gui.app", None)  # makes the import fail as a missing module
    assert main(["gui"]) == 1
    assert capsys.readouterr().err.strip() == "curator: gui: the desktop app is not available yet"
