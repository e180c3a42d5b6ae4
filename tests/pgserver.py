"""A throwaway PostgreSQL cluster for the test session, started by the suite itself on 127.0.0.1.

The server is Debian's ``postgresql`` package (installed by the README's test set-up step). It refuses to
run as root, so when the suite runs as root (CI does) the cluster belongs to the ``postgres`` user: its
folder is made for that user and the server runs under it. Host connections use scram-sha-256 (so tests
can exercise real passwords and ``~/.pgpass``); the local socket is trusted for the fixture's own set-up.
Durability is turned off (fsync, full-page writes): the cluster lives for one session.

``pg_cluster`` (session scope) yields a :class:`PgCluster`; ``pg_url`` gives each test a fresh database.
Without a PostgreSQL server the tests that need one are skipped, except under ``CI=true``, where a
missing server is a failure: CI must never go green by skipping the team backend.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

#: The superuser the fixture creates, and its password (host connections need it).
ADMIN = "curator_admin"


def find_bindir() -> Path | None:
    """The newest installed PostgreSQL server's bin folder (Debian keeps them per major version)."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(Path(p).parent.parent.name)
    )
    if found:
        return Path(found[-1]).parent
    exe = shutil.which("postgres")
    return Path(exe).parent if exe else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgCluster:
    """A running cluster: ``url()`` names a database on it; ``sql()`` runs set-up statements."""

    bindir: Path
    folder: Path
    port: int
    password: str
    process: subprocess.Popen[bytes] | None = None
    _user: pwd.struct_passwd | None = field(default=None, repr=False)

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def socket_dir(self) -> Path:
        return self.folder / "run"

    def _demote(self) -> dict[str, Any]:
        """Popen's arguments that run a server tool as the postgres user when the suite runs as root (the
        server refuses root). subprocess switches ids in its C child, so no Python runs between fork and
        exec while the suite has threads."""
        if self._user is None:
            return {}
        return {"user": self._user.pw_uid, "group": self._user.pw_gid, "extra_groups": []}

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bindir / args[0]), *args[1:]], **self._demote(), capture_output=True,
            text=True, check=check, env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"},
        )  # fmt: skip

    def start(self) -> None:
        if os.geteuid() == 0:
            self._user = pwd.getpwnam("postgres")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        pwfile = self.folder / "pw"
        pwfile.write_text(self.password + "\n")
        if self._user is not None:
            for p in (self.folder, self.socket_dir, pwfile):
                os.chown(p, self._user.pw_uid, self._user.pw_gid)
        self._run(
            "initdb", "-D", str(self.data), "-U", ADMIN, f"--pwfile={pwfile}", "--auth-local=trust",
            "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        self.process = subprocess.Popen(
            [
                str(self.bindir / "postgres"), "-D", str(self.data), "-p", str(self.port),
                "-k", str(self.socket_dir), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
                "-c", "full_page_writes=off", "-c", "synchronous_commit=off", "-c", "max_connections=200",
                "-c", "shared_buffers=128MB",
            ],
            **self._demote(), stdout=subprocess.DEVNULL, stderr=(self.folder / "server.log").open("wb"),
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ready = self._run("pg_isready", "-h", "127.0.0.1", "-p", str(self.port), check=False)
            if ready.returncode == 0:
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        log = (self.folder / "server.log").read_text(errors="replace")
        self.stop()
        raise RuntimeError(f"PostgreSQL did not start on 127.0.0.1:{self.port}:\n{log}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: PostgreSQL's "smart" shutdown; then fast if it lingers
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.process = None

    def sql(self, statement: str, dbname: str = "postgres") -> str:
        """Run one statement as the superuser over the local socket; returns psql's unaligned output."""
        done = self._run(
            "psql", "-h", str(self.socket_dir), "-p", str(self.port), "-U", ADMIN, "-d", dbname,
            "-v", "ON_ERROR_STOP=1", "-At", "-c", statement,
        )  # fmt: skip
        return done.stdout

    def url(self, dbname: str, user: str = ADMIN, password: str | None = None) -> str:
        """A libpq URL for ``dbname`` on 127.0.0.1 (the admin's password unless another is given)."""
        secret = self.password if password is None and user == ADMIN else password
        auth = quote(user) + (f":{quote(secret)}" if secret else "")
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{quote(dbname)}"

    def create_database(self, name: str | None = None) -> str:
        """A fresh empty database; returns its name."""
        name = name or f"t_{secrets.token_hex(6)}"
        self.sql(f'CREATE DATABASE "{name}"')
        return name

    def create_role(self, name: str, password: str, *, login: bool = True) -> None:
        self.sql(f"CREATE ROLE \"{name}\" {'LOGIN' if login else ''} PASSWORD '{password}'")


def _required() -> bool:
    return os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """The session's PostgreSQL cluster (skipped without a server, a failure under CI=true)."""
    bindir = find_bindir()
    if bindir is None:
        message = "PostgreSQL server not installed (the README's test set-up installs Debian's postgresql)"
        if _required():
            pytest.fail(message)
        pytest.skip(message)
    folder = Path(tempfile.mkdtemp(prefix="curator-pg-"))
    cluster = PgCluster(bindir=bindir, folder=folder, port=_free_port(), password=secrets.token_urlsafe(12))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        with contextlib.suppress(OSError):
            shutil.rmtree(folder)


@pytest.fixture
def pg_url(pg_cluster: PgCluster) -> str:
    """A URL to a fresh, empty database on the session's cluster, owned by the admin."""
    return pg_cluster.url(pg_cluster.create_database())
