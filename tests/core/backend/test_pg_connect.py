"""pg_connect on the real cluster: libpq's password places, errors a GUI can act on, read-only roles."""

from __future__ import annotations

import os
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from pgserver import PgCluster

from curator.core.backend import pg_connect, pg_schema
from curator.core.backend.pg_connect import (
    AccessDenied,
    DatabaseMissing,
    PasswordNeeded,
    ServerUnreachable,
    SSLRefused,
    access,
    connect,
)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No password from the test's own environment: an empty HOME, no PG* variables."""
    for name in list(os.environ):
        if name.startswith("PG"):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


@pytest.fixture
def ana(pg_cluster: PgCluster) -> tuple[str, str]:
    name, password = f"ana_{secrets.token_hex(4)}", secrets.token_urlsafe(10)
    pg_cluster.create_role(name, password)
    return name, password


def _db(pg_cluster: PgCluster) -> str:
    return pg_cluster.create_database()


def test_pgpass_in_home(pg_cluster: PgCluster, clean_env: Path, ana: tuple[str, str]) -> None:
    user, password = ana
    db = _db(pg_cluster)
    pgpass = clean_env / ".pgpass"
    pgpass.write_text(f"127.0.0.1:{pg_cluster.port}:{db}:{user}:{password}\n")
    pgpass.chmod(0o600)
    with connect(pg_cluster.url(db, user)) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (user,)


def test_pgpassfile_and_pgpassword(
    pg_cluster: PgCluster,
    clean_env: Path,
    ana: tuple[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    user, password = ana
    db = _db(pg_cluster)
    passfile = tmp_path / "elsewhere.pgpass"
    passfile.write_text(f"*:*:*:{user}:{password}\n")
    passfile.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    with connect(pg_cluster.url(db, user)) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    monkeypatch.delenv("PGPASSFILE")
    with pytest.raises(PasswordNeeded):
        connect(pg_cluster.url(db, user))
    monkeypatch.setenv("PGPASSWORD", password)
    with connect(pg_cluster.url(db, user)) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (user,)


def test_no_password_then_asked(pg_cluster: PgCluster, clean_env: Path, ana: tuple[str, str]) -> None:
    user, password = ana
    url = pg_cluster.url(_db(pg_cluster), user)
    with pytest.raises(PasswordNeeded) as err:
        connect(url)
    assert err.value.failed is False
    assert str(err.value) == f"the team library {url} needs a password"
    with connect(url, password=password) as conn:  # what the GUI passes after asking
        assert conn.execute("SELECT current_user").fetchone() == (user,)


def test_wrong_password(pg_cluster: PgCluster, clean_env: Path, ana: tuple[str, str]) -> None:
    user, _ = ana
    url = pg_cluster.url(_db(pg_cluster), user, "not-the-password")
    with pytest.raises(PasswordNeeded) as err:
        connect(url)
    assert err.value.failed is True
    assert "not-the-password" not in str(err.value) and "refused the password" in str(err.value)
    with pytest.raises(PasswordNeeded, match="refused the password"):
        connect(pg_cluster.url(_db(pg_cluster), user), password="wrong")


def test_missing_database(pg_cluster: PgCluster) -> None:
    url = pg_cluster.url("no_such_library")
    with pytest.raises(DatabaseMissing) as err:
        connect(url)
    assert str(err.value) == (
        f"the team library postgresql://curator_admin@127.0.0.1:{pg_cluster.port}/no_such_library "
        "has no such database on the server"
    )
    assert pg_cluster.password not in str(err.value)


def test_closed_port_is_unreachable(clean_env: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ServerUnreachable, match="is not answering"):
        connect(f"postgresql://ana@127.0.0.1:{port}/news")


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A port that accepts connections and never answers (a server hung or behind a broken link)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for s in (*held, listener):
        s.close()


def test_silent_server_times_out(clean_env: Path, silent_server: int) -> None:
    start = time.monotonic()
    with pytest.raises(ServerUnreachable):
        connect(f"postgresql://ana@127.0.0.1:{silent_server}/news?connect_timeout=2")
    assert 1.5 <= time.monotonic() - start < 6


def test_default_connect_timeout(clean_env: Path) -> None:
    kwargs = pg_connect.connect_kwargs("postgresql://ana@host/news", password="typed")
    assert kwargs == {
        "conninfo": "postgresql://ana@host/news", "connect_timeout": 5, "application_name": "curator",
        "password": "typed",
    }  # fmt: skip
    assert pg_connect.connect_kwargs("postgresql://ana@host/news?connect_timeout=9") == {
        "conninfo": "postgresql://ana@host/news?connect_timeout=9", "application_name": "curator",
    }  # fmt: skip
    with pytest.raises(ValueError, match="is not a PostgreSQL URL"):
        pg_connect.connect_kwargs("library.db")


def test_ssl_refused(pg_cluster: PgCluster) -> None:
    """The session's cluster has no SSL: a URL that requires it gets a clear SSL error, not a hang."""
    with pytest.raises(SSLRefused, match="over SSL as the URL requires"):
        connect(pg_cluster.url(_db(pg_cluster)) + "?sslmode=require")


def test_role_without_login(pg_cluster: PgCluster, clean_env: Path) -> None:
    name = f"nologin_{secrets.token_hex(4)}"
    pg_cluster.create_role(name, "pw", login=False)
    with pytest.raises(AccessDenied, match="refused this user"):
        connect(pg_cluster.url(_db(pg_cluster), name, "pw"))


def test_read_only_role(pg_cluster: PgCluster, clean_env: Path, ana: tuple[str, str]) -> None:
    user, password = ana
    db = _db(pg_cluster)
    with connect(pg_cluster.url(db), autocommit=True) as admin:
        pg_schema.open_library(admin)
        assert access(admin) == pg_connect.Access(True, "")
    pg_cluster.sql(f'GRANT SELECT ON ALL TABLES IN SCHEMA public TO "{user}"', db)
    with connect(pg_cluster.url(db, user), password=password) as reader:
        got = access(reader)
        assert got.can_write is False
        assert (
            got.reason
            == f"read-only: the role {user} may not change card, pending_edit, edit_batch, journal_entry"
        )
        assert reader.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        assert reader.execute("SELECT count(*) FROM card").fetchone() == (0,)
    pg_cluster.sql(f'GRANT INSERT, UPDATE ON card, pending_edit, edit_batch, journal_entry TO "{user}"', db)
    with connect(pg_cluster.url(db, user), password=password) as writer:
        assert access(writer).can_write
    pg_cluster.sql(f'ALTER ROLE "{user}" SET default_transaction_read_only = on')
    with connect(pg_cluster.url(db, user), password=password) as read_only:
        assert access(read_only) == pg_connect.Access(
            False, f"read-only: transactions of {user} are read-only on this server"
        )


def test_peewee_database(pg_cluster: PgCluster, clean_env: Path, ana: tuple[str, str]) -> None:
    import peewee

    user, password = ana
    db = _db(pg_cluster)
    database = pg_connect.peewee_database(pg_cluster.url(db, user), password=password)
    assert peewee.pg3_errors is psycopg.errors
    assert database.execute_sql("SELECT current_user").fetchone() == (user,)
    with pytest.raises(peewee.ProgrammingError):  # psycopg's errors mapped to peewee's
        database.execute_sql("SELECT * FROM no_such_table")
    database.close()
    with pytest.raises(PasswordNeeded):
        pg_connect.peewee_database(pg_cluster.url(db, user)).connect()
