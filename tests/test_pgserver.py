"""The session's PostgreSQL cluster is real: a password is checked, and only 127.0.0.1 listens."""

from __future__ import annotations

import psycopg
import pytest
from pgserver import PgCluster


def test_the_cluster_takes_its_password_and_refuses_another(pg_cluster: PgCluster, pg_url: str) -> None:
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT current_database(), host(inet_server_addr())").fetchone()[1] == "127.0.0.1"
    pg_cluster.create_role("ana", "right-password")
    dbname = pg_url.rsplit("/", 1)[1]
    with psycopg.connect(pg_cluster.url(dbname, "ana", "right-password")) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("ana",)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(pg_cluster.url(dbname, "ana", "wrong"))
