"""parse_location: paths stay paths, only PostgreSQL URLs are URLs, and no password is ever displayed."""

from __future__ import annotations

from pathlib import Path

import pytest

from curator.core.backend.location import parse_location, redact, without_password


@pytest.mark.parametrize(
    "text",
    [
        "library.db", "./postgresql:", "./postgresql://x", "postgresql:", "postgresql:foo", "/srv/lib.db",
        "C:\\Users\\ana\\lib.db", "C:/Users/ana/lib.db", "c:\\x", "C://odd", "\\\\server\\share\\lib.db",
        "rel/dir/lib.db", "~/lib.db", "lib:name.db",
    ],
)  # fmt: skip
def test_paths_stay_paths(text: str) -> None:
    loc = parse_location(text)
    assert loc.kind == "sqlite" and not loc.is_postgresql
    assert loc.path == Path(text).expanduser()
    assert loc.url is None


@pytest.mark.parametrize(
    "scheme", ["mysql", "http", "https", "sqlite", "file", "mariadb", "pg", "postgresqlx"]
)
def test_other_schemes_are_a_clear_error(scheme: str) -> None:
    with pytest.raises(ValueError) as err:
        parse_location(f"{scheme}://user@host/db")
    assert str(err.value) == (
        f"unsupported library URL scheme {scheme!r}: use a file path or postgresql://user@host/dbname"
    )


def test_empty_is_an_error() -> None:
    with pytest.raises(ValueError, match="empty library location"):
        parse_location("  ")


@pytest.mark.parametrize("scheme", ["postgresql", "postgres", "PostgreSQL"])
def test_postgresql_urls_keep_libpq_parameters(scheme: str) -> None:
    url = (
        f"{scheme}://ana@db.example:5433/news?sslmode=verify-full&connect_timeout=3"
        "&application_name=curator&host=%2Frun%2Fpostgresql"
    )
    loc = parse_location(url)
    assert loc.is_postgresql and loc.path is None
    # passed to libpq as written, the scheme in the lower case libpq knows
    assert loc.url == loc.display == url.replace(scheme, scheme.lower(), 1)
    assert loc.params == {
        "sslmode": "verify-full", "connect_timeout": "3", "application_name": "curator",
        "host": "/run/postgresql",
    }  # fmt: skip


def test_several_hosts_pass_through() -> None:
    loc = parse_location("postgresql://ana@h1:5432,h2:5433/news?target_session_attrs=read-write")
    assert loc.url == "postgresql://ana@h1:5432,h2:5433/news?target_session_attrs=read-write"


@pytest.mark.parametrize(
    "url, shown",
    [
        ("postgresql://ana:s3cret@host/db", "postgresql://ana@host/db"),
        (
            "postgresql://ana:p%40ss@host:5432/db?sslmode=require",
            "postgresql://ana@host:5432/db?sslmode=require",
        ),
        ("postgresql://host/db?user=ana&password=s3cret", "postgresql://host/db?user=ana"),
        ("postgresql://:s3cret@host/db", "postgresql://host/db"),
    ],
)
def test_display_never_shows_the_password(url: str, shown: str) -> None:
    loc = parse_location(url)
    assert loc.display == shown == str(loc) == redact(url)
    assert "s3cret" not in loc.display and "p%40ss" not in loc.display and "password" not in loc.params
    assert "s3cret" not in without_password(url) and "p%40ss" not in without_password(url)
    assert loc.url == url  # the connection itself still gets it


def test_a_fragment_is_refused() -> None:
    with pytest.raises(ValueError, match="no '#…' part: postgresql://ana@host/db"):
        parse_location("postgresql://ana:pw@host/db#x")
