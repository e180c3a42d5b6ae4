"""``--db postgresql://…`` and ``$CURATOR_DB``: the real CLI on a real PostgreSQL library (tests/pgserver.py).

A team URL opens the server's library (no SQLite file anywhere); any other ``scheme://`` is a usage error
(exit 2) that creates nothing; the password comes from libpq's places and is never printed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import quote

from pgserver import PgCluster

from tests.cli.conftest import Curator


def _no_sqlite_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.suffix == ".sqlite" or p.name.startswith(("postgres", "mysql"))]


def test_db_url_imports_lists_and_edits_on_the_server(curator: Curator, cards: Path, pg_url: str) -> None:
    curator.db = pg_url  # type: ignore[assignment]
    done = curator("import", str(cards))
    assert done.code == 1 and "8 added" in done.out and "2 failed" in done.out, done.err  # two bad cards
    listed = curator("list", "--json")
    assert listed.code == 0, listed.err
    rows = listed.json_lines()
    assert any(r["path"].endswith("robots.md") for r in rows)
    assert _no_sqlite_files(curator.cwd) == []  # the library is on the server, not in a folder "postgresql:"


def test_curator_db_env_url_and_password_from_pgpass(
    curator: Curator, cards: Path, pg_cluster: PgCluster, tmp_path: Path
) -> None:
    name = pg_cluster.create_database()
    url = pg_cluster.url(name, password="")  # no password in the URL: libpq reads ~/.pgpass
    assert ":" not in url.split("@")[0].removeprefix("postgresql://")
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"127.0.0.1:{pg_cluster.port}:{name}:curator_admin:{pg_cluster.password}\n")
    os.chmod(pgpass, 0o600)
    env = {"CURATOR_DB": url, "PGPASSFILE": str(pgpass)}
    done = curator("import", str(cards), db=False, env=env)
    assert "8 added" in done.out, done.err
    listed = curator("list", "--json", db=False, env=env)
    assert listed.code == 0 and listed.json_lines(), listed.err


def test_password_is_never_printed(curator: Curator, pg_cluster: PgCluster) -> None:
    secret = "s3cr3t-never-shown"
    url = pg_cluster.url("no_such_database", password=quote(secret))
    done = curator("--db", url, "list", db=False)
    assert done.code == 1
    assert done.err.startswith("curator: cannot open the library postgresql://curator_admin@127.0.0.1:")
    assert "no_such_database: refused the password" in done.err
    assert secret not in done.err and secret not in done.out


def test_other_schemes_are_a_usage_error_and_create_nothing(curator: Curator) -> None:
    for url in ("mysql://u@h/db", "sqlite:///tmp/x.sqlite", "http://example.invalid/lib"):
        done = curator("--db", url, "list", db=False)
        assert done.code == 2, (url, done.err)
        assert "unsupported library URL scheme" in done.err
        env_done = curator("list", db=False, env={"CURATOR_DB": url})
        assert env_done.code == 2 and "$CURATOR_DB" in env_done.err
    assert _no_sqlite_files(curator.cwd) == []
    assert json.dumps([str(p) for p in curator.cwd.iterdir()]).count("mysql") == 0
