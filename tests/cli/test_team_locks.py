"""`curator write` and `curator import` while another editor's process holds a team library's lock.

The command stops at once with exit 1 (a library that cannot be used now, as for any busy library) and
says who holds the lock and since when; nothing is written, imported or changed.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from team_lockholder import TeamLockHolder

from tests.cli.conftest import Curator

BUSY = r"curator: Ana is {doing} cards \(since \d\d:\d\d\) — try again when they are done\n"


@pytest.fixture
def team(tmp_path: Path, pg_url: str) -> tuple[Curator, Path]:
    """The real CLI on a team library with two cards imported and one pending edit."""
    runner = Curator(tmp_path)
    runner.db = pg_url  # type: ignore[assignment]
    folder = tmp_path / "cards"
    folder.mkdir()
    (folder / "a.yaml").write_text("title: A card\nquality: 10\n", encoding="utf-8")
    (folder / "b.yaml").write_text("title: B card\n", encoding="utf-8")
    assert runner("import", str(folder)).code == 0
    done = runner("set", "--query", "quality:10", "quality=60")
    assert done.code == 0, done.err
    return runner, folder


def test_write_and_import_while_ana_writes(team: tuple[Curator, Path], pg_url: str) -> None:
    curator, folder = team
    before = (folder / "a.yaml").read_bytes()
    with TeamLockHolder(pg_url, "writer", "Ana"):
        wrote = curator("write")
        assert wrote.code == 1 and re.fullmatch(BUSY.format(doing="writing"), wrote.err), wrote.err
        assert wrote.out == ""
        imported = curator("import", str(folder))
        assert imported.code == 1 and re.fullmatch(BUSY.format(doing="writing"), imported.err), imported.err
        assert (folder / "a.yaml").read_bytes() == before
        assert [row["dirty"] for row in curator("list", "--json", "quality:60").json_lines()] == [True]
    wrote = curator("write", "--json")
    assert wrote.code == 0 and wrote.json()["written"] == 1
    assert "quality: 60" in (folder / "a.yaml").read_text(encoding="utf-8")


def test_import_and_write_while_ana_imports(team: tuple[Curator, Path], pg_url: str) -> None:
    curator, folder = team
    (folder / "c.yaml").write_text("title: C card\n", encoding="utf-8")
    with TeamLockHolder(pg_url, "importer", "Ana"):
        imported = curator("import", str(folder))
        assert imported.code == 1 and re.fullmatch(BUSY.format(doing="importing"), imported.err), imported.err
        wrote = curator("write")
        assert wrote.code == 1 and re.fullmatch(BUSY.format(doing="importing"), wrote.err), wrote.err
        assert len(curator("list", "--json").json_lines()) == 2
    imported = curator("import", "--json", str(folder))
    assert imported.code == 0 and imported.json()["added"] == 1
