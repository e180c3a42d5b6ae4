"""``curator migrate`` and ``curator migrate --to postgresql://…`` through the real command line.

SQLite: an older library is copied aside (the message names the copy) and migrated; a current one is
left alone; a newer one is refused with the file untouched. PostgreSQL: an older team library is refused
by every other command, ``migrate`` prints a working pg_dump command (never the password), refuses without
--yes when there is no terminal, asks on one, and migrates for real (schema 1 -> 2 fills the related
items' full text). Moving in: the seeds with pending edits and an undone batch, copied to a fresh
database, list/show/check/dupes/write the same there, and undo on the server restores the value.
"""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from pgserver import PgCluster

from curator.cli import main
from curator.core import schema
from curator.core.backend.pg_schema import PG_SCHEMA_VERSION
from curator.core.store import Store
from tests.cli.conftest import Curator, Result

ROOT = Path(__file__).resolve().parents[2]


def _sqlite_migrations():  # type: ignore[no-untyped-def]
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "sqlite_migrations", ROOT / "tests" / "core" / "backend" / "test_sqlite_migrations.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(runner: Curator, *args: str, db: str | Path | None = None) -> Result:
    """The real CLI with stdin that is not a terminal (so a question is never waited for)."""
    argv = [sys.executable, "-m", "curator", *(["--db", str(db)] if db is not None else []), *args]
    done = subprocess.run(argv, check=False, capture_output=True, text=True, encoding="utf-8", env=runner.env,
                          cwd=runner.cwd, timeout=120, stdin=subprocess.DEVNULL)  # fmt: skip
    return Result(done.returncode, done.stdout, done.stderr)


def _sqlite_version(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0])
    finally:
        conn.close()


def _pg(url: str, statement: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url, autocommit=True) as conn:
        cur = conn.execute(statement)
        return cur.fetchall() if cur.description else []


@pytest.fixture
def runner(tmp_path: Path) -> Curator:
    return Curator(tmp_path)


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds", ignore=shutil.ignore_patterns("*.py", "README"))
    return tmp_path / "seeds"


# -- SQLite in place ----------------------------------------------------------------------------------------
def test_an_older_sqlite_library_is_copied_aside_and_migrated(runner: Curator, tmp_path: Path) -> None:
    library = tmp_path / "old.sqlite"
    _sqlite_migrations().build_v1(library)
    done = _run(runner, "migrate", db=library)
    backup = tmp_path / "old.sqlite.v1-backup"
    assert done.code == 0, done.err
    assert done.out.strip() == (
        f"{library}: migrated from library schema 1 to {schema.SCHEMA_VERSION}; the library as it was is "
        f"copied to {backup}"
    )
    assert _sqlite_version(library) == str(schema.SCHEMA_VERSION) and _sqlite_version(backup) == "1"
    again = _run(runner, "migrate", "--json", db=library)
    assert again.code == 0, again.err
    assert again.json() == {"library": str(library), "from": schema.SCHEMA_VERSION, "to": schema.SCHEMA_VERSION,
                            "migrated": False, "backup": None}  # fmt: skip
    assert sorted(p.name for p in tmp_path.iterdir() if "backup" in p.name) == ["old.sqlite.v1-backup"]
    listed = _run(runner, "list", "--json", db=library)
    assert [row["id"] for row in listed.json_lines()] == [3, 4]


def test_a_newer_or_missing_sqlite_library_is_refused_untouched(runner: Curator, tmp_path: Path) -> None:
    library = tmp_path / "new.sqlite"
    assert _run(runner, "list", db=library).code == 0  # creates the library
    conn = sqlite3.connect(library)
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    before = library.read_bytes()
    done = _run(runner, "migrate", db=library)
    assert done.code == 1 and done.out == ""
    assert done.err.startswith(f"curator: migrate: {library}: library schema version 99 is newer than this")
    assert library.read_bytes() == before and not list(tmp_path.glob("*backup*"))
    missing = _run(runner, "migrate", db=tmp_path / "nowhere.sqlite")
    assert missing.code == 1 and "there is no library there" in missing.err
    assert not (tmp_path / "nowhere.sqlite").exists()


# -- PostgreSQL in place ------------------------------------------------------------------------------------
@pytest.fixture
def old_team(pg_url: str, seeds: Path) -> str:
    """A team library of the seeds as schema 1 left it: no related items' titles in the full text."""
    from curator.core.importer import import_paths

    with Store(pg_url) as store:
        import_paths(store, [seeds])
    assert _pg(pg_url, "SELECT count(*) FROM card_text WHERE related <> ''")[0][0] > 0
    _pg(pg_url, "UPDATE card_text SET related = ''")
    _pg(pg_url, "UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    return pg_url


def test_a_current_team_library_is_left_alone(runner: Curator, pg_url: str) -> None:
    Store(pg_url).close()
    done = _run(runner, "migrate", db=pg_url)
    assert done.code == 0, done.err
    assert done.out.strip().endswith(f": already at library schema {PG_SCHEMA_VERSION}; nothing to migrate")
    assert "pg_dump" not in done.err


def test_an_older_team_library_is_migrated_only_when_confirmed(
    runner: Curator, old_team: str, pg_cluster: PgCluster, tmp_path: Path
) -> None:
    refused = _run(runner, "list", "--limit", "1", db=old_team)
    assert (
        refused.code == 1 and "never migrated on connect" in refused.err and "curator migrate" in refused.err
    )

    done = _run(runner, "migrate", db=old_team)
    assert done.code == 2 and done.out == ""
    assert "was not migrated: confirm with --yes (there is no terminal to ask on)" in done.err
    assert _pg(old_team, "SELECT value FROM meta WHERE key = 'schema_version'") == [("1",)]
    command = next(line.strip() for line in done.err.splitlines() if line.strip().startswith("pg_dump "))
    assert pg_cluster.password not in done.err + done.out  # the URL's password is never shown
    assert command.startswith("pg_dump --format=custom --file=")

    # The printed command really backs the library up (the password from PGPASSWORD, as the text says).
    name = command.split("--file=")[1].split()[0]
    subprocess.run([str(pg_cluster.bindir / "pg_dump"), *command.split()[1:]], cwd=tmp_path, check=True,
                   env={"PGPASSWORD": pg_cluster.password, "PATH": "/usr/bin:/bin"}, timeout=60)  # fmt: skip
    listing = subprocess.run([str(pg_cluster.bindir / "pg_restore"), "--list", str(tmp_path / name)],
                             capture_output=True, text=True, check=True, timeout=60).stdout  # fmt: skip
    assert "TABLE DATA public card " in listing and "TABLE DATA public journal_entry " in listing

    migrated = _run(runner, "migrate", "--yes", "--json", db=old_team)
    assert migrated.code == 0, migrated.err
    assert migrated.json() == {"library": migrated.json()["library"], "from": 1, "to": PG_SCHEMA_VERSION,
                               "migrated": True, "backup": command}  # fmt: skip
    assert _pg(old_team, "SELECT value FROM meta WHERE key = 'schema_version'") == [(str(PG_SCHEMA_VERSION),)]
    assert _pg(old_team, "SELECT count(*) FROM card_text WHERE related <> ''")[0][0] > 0
    assert _run(runner, "list", "--limit", "1", db=old_team).code == 0


def test_on_a_terminal_migrate_asks_and_only_yes_goes_on(
    old_team: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Terminal("n\n"))
    assert main(["--db", old_team, "migrate"]) == 1
    err = capsys.readouterr().err
    assert (
        f"from schema 1 to {PG_SCHEMA_VERSION} now? [y/N]" in err
        and "was not migrated (nothing changed)" in err
    )
    assert _pg(old_team, "SELECT value FROM meta WHERE key = 'schema_version'") == [("1",)]
    monkeypatch.setattr(sys, "stdin", Terminal("yes\n"))
    assert main(["--db", old_team, "migrate"]) == 0
    assert f"migrated from library schema 1 to {PG_SCHEMA_VERSION}" in capsys.readouterr().out
    assert _pg(old_team, "SELECT value FROM meta WHERE key = 'schema_version'") == [(str(PG_SCHEMA_VERSION),)]


def test_a_newer_team_library_is_refused(runner: Curator, pg_url: str) -> None:
    Store(pg_url).close()
    _pg(pg_url, "UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    done = _run(runner, "migrate", "--yes", db=pg_url)
    assert done.code == 1
    assert "was made by a newer Curator (library schema 99" in done.err and "update Curator" in done.err
    assert _pg(pg_url, "SELECT value FROM meta WHERE key = 'schema_version'") == [("99",)]


# -- moving in ----------------------------------------------------------------------------------------------
def test_moving_in_gives_the_same_answers_on_the_server(
    runner: Curator, seeds: Path, pg_url: str, tmp_path: Path
) -> None:
    lite = tmp_path / "alone.sqlite"
    assert _run(runner, "import", str(seeds), db=lite).code == 0
    ids = [row["id"] for row in _run(runner, "list", "--json", "--sort", "id", db=lite).json_lines()]
    first, second, third = ids[:3]
    assert (
        _run(runner, "set", "--id", str(first), "title=Moved in by the editor", "quality=93", db=lite).code
        == 0
    )
    assert _run(runner, "set", "--id", f"{first},{second}", "topics+=Moved", db=lite).code == 0
    with Store(lite) as store:  # an undone batch, and the batch whose undo the server will do
        undone = store.set_fields([third], {"heat": 77}, label="heat 77")
        assert undone.batch_id is not None
        store.undo(undone.batch_id)
        history = store.history()
    title_batch = next(b.id for b in history if b.cards == 1 and b.entries == 2)

    done = _run(runner, "migrate", "--to", pg_url, db=lite)
    assert done.code == 0, done.err
    assert done.out.startswith(f"copied {len(ids)} cards, 4 pending edits, 3 edit batches, ")
    assert pg_url.split("@")[1] in done.out and pg_url.split("@")[0].split(":")[-1] not in done.out

    for args in (("list", "--json"), ("list", "--json", "dirty:true"), ("list", "--json", "topic:Moved OR Moved"),
                 ("list", "--json", "--sort", "quality:desc", "--limit", "20"), ("show", str(first), "--json"),
                 ("show", str(third), "--json"), ("check", "--json"), ("dupes", "--json"),
                 ("write", "--dry-run")):  # fmt: skip
        on_lite, on_team = _run(runner, *args, db=lite), _run(runner, *args, db=pg_url)
        assert on_team.code == on_lite.code == 0, (args, on_team.err)
        assert on_team.out == on_lite.out, args
    assert len(_run(runner, "list", "--json", "dirty:true", db=pg_url).json_lines()) == 2

    with Store(pg_url) as team:
        assert team.history() == history
        assert team.undo(title_batch).changed == [first]
    shown = _run(runner, "show", str(first), "--json", db=pg_url).json()
    assert shown["title"] != "Moved in by the editor" and shown["quality"] != 93
    assert "Moved" in shown["topics"]  # the other batch stays
    written = _run(runner, "write", "--json", db=pg_url)
    assert written.code == 0, written.err
    assert written.json()["written"] == 2 and written.json()["conflicts"] == []
    assert _run(runner, "list", "--json", "dirty:true", db=pg_url).json_lines() == []
    assert "Moved" in json.dumps(_run(runner, "show", str(second), "--json", db=pg_url).json()["topics"])


def test_moving_in_refuses_bad_targets_and_sources(runner: Curator, pg_url: str, tmp_path: Path) -> None:
    lite = tmp_path / "alone.sqlite"
    card = tmp_path / "cards" / "one.md"
    card.parent.mkdir()
    card.write_text("---\ntitle: One card\n---\n", encoding="utf-8")
    assert _run(runner, "import", str(card.parent), db=lite).code == 0
    for target in ("mysql://u@h/db", str(tmp_path / "other.sqlite")):
        done = _run(runner, "migrate", "--to", target, db=lite)
        assert done.code == 2 and "--to" in done.err, (target, done.err)
    assert not (tmp_path / "other.sqlite").exists()
    done = _run(runner, "migrate", "--to", pg_url, db=pg_url)
    assert done.code == 2 and "give the SQLite file with --db" in done.err
    done = _run(runner, "migrate", "--to", pg_url, db=tmp_path / "nowhere.sqlite")
    assert done.code == 1 and "there is no library there" in done.err
    assert not (tmp_path / "nowhere.sqlite").exists()
    assert _pg(pg_url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == [(0,)]

    assert _run(runner, "migrate", "--to", pg_url, db=lite).code == 0
    again = _run(runner, "migrate", "--to", pg_url, db=lite)
    assert again.code == 1
    assert (
        "already holds a library (1 cards, 0 edit batches" in again.err and "nothing was copied" in again.err
    )


def test_moving_in_shows_progress_on_a_terminal(runner: Curator, pg_url: str, tmp_path: Path) -> None:
    import os
    import pty

    lite = tmp_path / "alone.sqlite"
    cards = tmp_path / "cards"
    cards.mkdir()
    for i in range(30):
        (cards / f"{i:02}.md").write_text(f"---\ntitle: Card {i}\ntopics: [A, B]\n---\n", encoding="utf-8")
    assert _run(runner, "import", str(cards), db=lite).code == 0
    master, slave = pty.openpty()  # stderr is a terminal: the progress line is drawn there
    try:
        done = subprocess.run([sys.executable, "-m", "curator", "--db", str(lite), "migrate", "--to", pg_url],
                              stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL, env=runner.env,
                              cwd=runner.cwd, timeout=120, check=False, text=True)  # fmt: skip
        os.close(slave)
        drawn = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the terminal's other end is closed: everything was read
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(master)
    assert done.returncode == 0, drawn
    total = 30 * 2 + 30 * 2 + 30  # card and card_doc rows, two topics each, full-text rows (no images)
    assert f"copying {total}/{total} (100%)".encode() in drawn, drawn
    assert done.stdout.startswith("copied 30 cards, 0 pending edits, 0 edit batches, 0 journal entries")
