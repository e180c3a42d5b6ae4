"""The real `curator` against a library in trouble, and card text that holds terminal commands.

Every case runs the command line in a subprocess: a library another process holds locked, a real full
disk (a tiny tmpfs; skipped where mounting is refused), a disk I/O error (injected into the driver: no
cheap way makes a real one), damaged and foreign files, huge numbers. Each ends in one sentence on stderr
and a contracted exit code, never a traceback. Card text never reaches a terminal as control characters:
checked on a real pty, and through a pipe.
"""

from __future__ import annotations

import json
import os
import pty
import select
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lockholder import locked

from curator.cli.output import printable, to_json
from curator.core.query import QueryError, parse

from .conftest import ROOT, Curator

FAST = {"CURATOR_BUSY_TIMEOUT": "0.3"}  # the default (10 s) is tested in tests/core/test_store_errors.py


def busy_line(db: Path) -> str:
    return (
        f"curator: the library is busy: another Curator is writing ({db}); try again when it has finished\n"
    )


def cards_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "cards"
    folder.mkdir(exist_ok=True)
    (folder / "a.md").write_text("---\ntitle: Rockets\nquality: 80\ntopics: [Space]\n---\n", encoding="utf-8")
    (folder / "b.md").write_text("---\ntitle: Quiet week\nquality: '20'\n---\n", encoding="utf-8")
    return folder


@pytest.fixture
def lib(curator: Curator, tmp_path: Path) -> Curator:
    assert curator("import", str(cards_folder(tmp_path))).code == 0
    return curator


def rows(curator: Curator) -> list[dict]:
    listed = curator("list", "--json")
    assert listed.code == 0, listed.err
    return listed.json_lines()


# --- a locked library -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [("set", "--id", "1", "quality=5"), ("set", "--query", "", "topics+=Moon"), ("check", "--fix", "all"),
     ("import", "{cards}"), ("write",)],
)  # fmt: skip
@pytest.mark.sqlite_only(reason="locks the SQLite file with sqlite3")
def test_a_locked_library_is_named_exit_1_and_nothing_changes(
    lib: Curator, tmp_path: Path, args: tuple[str, ...]
) -> None:
    if args == ("write",):
        assert lib("set", "--id", "2", "quality=21").code == 0
    (tmp_path / "cards" / "c.md").write_text("---\ntitle: New\n---\n", encoding="utf-8")
    before = rows(lib)
    argv = [a.replace("{cards}", str(tmp_path / "cards")) for a in args]
    with locked(lib.db):
        done = lib(*argv, env=FAST)
        assert (done.code, done.err) == (1, busy_line(lib.db))
        assert rows(lib) == before  # reading goes on beside the writer
    assert rows(lib) == before
    assert lib(*argv).code == 0  # and the same command works once the other Curator is done


@pytest.mark.sqlite_only(reason="an SQLite file being created")
def test_a_new_library_someone_is_creating_is_busy(curator: Curator, tmp_path: Path) -> None:
    sqlite3.connect(curator.db).close()
    with locked(curator.db):
        done = curator("list", env=FAST)
    assert (done.code, done.err) == (1, busy_line(curator.db))


def test_a_bad_busy_timeout_is_a_usage_error(lib: Curator) -> None:
    done = lib("list", env={"CURATOR_BUSY_TIMEOUT": "soon"})
    assert (done.code, done.err) == (
        2,
        "curator: $CURATOR_BUSY_TIMEOUT: 'soon' is not a number of seconds (0 or more)\n",
    )


# --- damaged, foreign and odd files -----------------------------------------------------------------------


def set_version(db: Path, value: object) -> None:
    conn = sqlite3.connect(db)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (value,))
    conn.commit()
    conn.close()


@pytest.mark.parametrize(("value", "shown"), [("abc", "'abc'"), ("-1", "'-1'"), (2.5, "'2.5'")])
@pytest.mark.sqlite_only(reason="writes the SQLite file's meta table directly")
def test_a_malformed_schema_version(lib: Curator, value: object, shown: str) -> None:
    set_version(lib.db, value)
    done = lib("list")
    assert (done.code, done.out) == (1, "")
    assert done.err == (
        f"curator: cannot open the library {lib.db}: the library is damaged: its schema version {shown} "
        "is not a version number (a whole number 0 or more)\n"
    )


@pytest.mark.sqlite_only(reason="a file that is not SQLite")
def test_a_file_that_is_not_sqlite(curator: Curator) -> None:
    curator.db.write_bytes(b"GIF89a" + bytes(range(256)) * 20)
    done = curator("import", str(curator.db.parent))
    assert (done.code, done.err) == (
        1, f"curator: cannot open the library {curator.db}: not a Curator library (not an SQLite file)\n"
    )  # fmt: skip


@pytest.mark.sqlite_only(reason="damages the SQLite file's bytes")
def test_a_damaged_library(lib: Curator) -> None:
    conn = sqlite3.connect(lib.db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    root = conn.execute("SELECT rootpage FROM sqlite_master WHERE name = 'card'").fetchone()[0]
    page = conn.execute("PRAGMA page_size").fetchone()[0]
    conn.close()
    with open(lib.db, "r+b") as f:
        f.seek((root - 1) * page)
        f.write(b"\xa5" * page)
    done = lib("list")
    assert done.code == 1 and "Traceback" not in done.err
    assert done.err == (
        f"curator: {lib.db}: the library is damaged (database disk image is malformed); "
        "import the cards into a new library\n"
    )


def test_a_library_path_that_is_not_utf8_is_shown_readably(curator: Curator, tmp_path: Path) -> None:
    raw = os.fsencode(tmp_path) + b"/lib\xff\xfe.sqlite"
    with open(raw, "wb") as f:
        f.write(b"not a database at all" * 50)
    done = subprocess.run(
        [sys.executable, "-m", "curator", "--db", raw, "list"],
        capture_output=True,
        check=False,
        env=curator.env,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.decode("utf-8") == (
        f"curator: cannot open the library {tmp_path}/lib\\xff\\xfe.sqlite: not a Curator library "
        "(not an SQLite file)\n"
    )


def test_a_library_at_a_path_that_is_not_utf8_works(curator: Curator, tmp_path: Path) -> None:
    raw = os.fsencode(tmp_path) + b"/lib\xff.sqlite"
    folder = cards_folder(tmp_path)
    for args in (["import", os.fsencode(folder)], ["list", "--json"]):
        done = subprocess.run([sys.executable, "-m", "curator", "--db", raw, *args], capture_output=True,
                              env=curator.env, timeout=60, check=False)  # fmt: skip
        assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 2 and os.path.exists(raw)


# --- the disk --------------------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs under tmp_path (root only; skipped when mounting is refused)."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
                          capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip() or done.returncode}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path) -> Path:
    """Fill the file system under ``folder`` to the last byte."""
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError:
            pass
    return filler


def test_a_full_disk_is_disk_full(curator: Curator, tmp_path: Path, small_disk: Path) -> None:
    db = small_disk / "lib.sqlite"
    folder = cards_folder(tmp_path)
    assert curator("import", str(folder), db=False, env={"CURATOR_DB": str(db)}).code == 0
    for i in range(200):  # enough new cards that the batch needs pages the disk no longer has
        (folder / f"n{i:03}.md").write_text(f"---\ntitle: Card {i}\nexcerpt: {'word ' * 400}\n---\n", "utf-8")
    filler = fill(small_disk)
    full = f"curator: disk full: cannot write to the library ({db})\n"
    for args in (("set", "--query", "", "topics+=" + "Moon" * 50), ("import", str(folder))):
        done = curator(*args, db=False, env={"CURATOR_DB": str(db)})
        assert (done.code, done.err) == (1, full), args
    filler.unlink()
    listed = curator("list", "--json", db=False, env={"CURATOR_DB": str(db)})
    assert listed.code == 0 and len(listed.json_lines()) == 2  # the refused writes changed nothing
    assert all(row["topics"] in (["Space"], []) for row in listed.json_lines())


def test_output_to_a_full_disk_is_a_sentence(lib: Curator, small_disk: Path) -> None:
    fill(small_disk)
    with open(small_disk / "filler", "ab") as out:  # the disk is full: every write of the output fails
        done = subprocess.run([sys.executable, "-m", "curator", "--db", str(lib.db), "list", "--json"],
                              stdout=out, stderr=subprocess.PIPE, text=True, env=lib.env, timeout=60,
                              check=False)  # fmt: skip
    assert (done.returncode, done.stderr) == (
        1,
        "curator: cannot write the output: No space left on device\n",
    )


# A disk I/O error cannot be had cheaply for real: the driver raises one, as SQLite does, for the list query.
_FAULTY = textwrap.dedent(
    """
    import sqlite3, sys
    import peewee

    from curator.core.backend import sqlite as backend

    def fail(sql):
        if sql.startswith('SELECT "t1"."id", "t1"."path"'):  # the list's page, however it is run
            error = sqlite3.OperationalError("disk I/O error")
            error.sqlite_errorcode = {code}  # as SQLite reports it
            raise error

    real = peewee.Database.execute_sql

    def execute_sql(self, sql, params=None, commit=None):
        fail(sql)
        return real(self, sql, params)

    class Faulty:  # the backend's raw sqlite3 connection (pages are read on it)
        def __init__(self, conn):
            self._conn = conn

        def execute(self, sql, params=()):
            fail(sql)
            return self._conn.execute(sql, params)

        def __getattr__(self, name):
            return getattr(self._conn, name)

    raw = backend.SqliteBackend._conn
    peewee.Database.execute_sql = execute_sql
    backend.SqliteBackend._conn = lambda self: Faulty(raw(self))
    sys.argv = ["curator", "--db", sys.argv[1], "list"]
    from curator.cli import main_exit
    main_exit()
    """
)


@pytest.mark.parametrize(("code", "doing"), [(266, "reading"), (778, "writing"), (10, "using")])
@pytest.mark.sqlite_only(reason="SQLite's I/O error codes")
def test_a_disk_io_error_is_named(lib: Curator, code: int, doing: str) -> None:
    done = subprocess.run([sys.executable, "-c", _FAULTY.format(code=code), str(lib.db)], capture_output=True,
                          text=True, env=lib.env, timeout=60, check=False)  # fmt: skip
    assert (done.returncode, done.stderr) == (
        1,
        f"curator: disk I/O error while {doing} {lib.db} (disk I/O error)\n",
    )


# --- huge numbers -----------------------------------------------------------------------------------------


def test_huge_numbers_in_queries_and_arguments(lib: Curator, tmp_path: Path) -> None:
    nines = "9" * 5000
    done = lib("list", f"quality>{nines}")
    message = (
        "curator: query: quality takes a whole number, not '99999999999999999999...' (5,000 characters) "
        "at column 9\n"
    )
    assert (done.code, done.err) == (2, message)
    assert lib("check", f"heat<-{nines}").code == 2
    assert lib("set", "--query", f"quality={nines}", "quality=1").code == 2
    assert (
        lib("list", "--limit", nines).code == 0
        and len(lib("list", "--limit", "9" * 30).out.splitlines()) == 3
    )
    shown = lib("show", nines)
    assert shown.code == 2 and "(5,000 characters) is not a card id (ids have at most 19 digits)" in shown.err
    assert lib("show", "9999999999999999999").err == "curator: show: no card with id 9999999999999999999\n"
    (tmp_path / "ids.txt").write_text(f"1\n{nines}\n", encoding="utf-8")
    from_file = lib("set", "--ids-from", str(tmp_path / "ids.txt"), "quality=1")
    assert (
        from_file.code == 2
        and "line 2: '99999999999999999999'... (5,000 characters) is not a card id" in (from_file.err)
    )
    for result in (done, shown, from_file):
        assert "Traceback" not in result.err and len(result.err) < 300


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["quality", "heat"]), st.sampled_from(["<", "<=", ">", ">=", ":", "="]),
       st.text("-0123456789", min_size=1, max_size=6000))  # fmt: skip
def test_any_digits_in_a_comparison_parse_or_are_a_query_error(field: str, op: str, digits: str) -> None:
    try:
        term = parse(f"{field}{op}{digits}")
    except QueryError as err:
        assert err.column == len(field) + len(op) + 1 and len(str(err)) < 200
        return
    number = int(digits.lstrip("-").lstrip("0") or "0") * (-1 if digits.startswith("-") else 1)
    assert term.value == number and abs(number) <= 10**9  # type: ignore[union-attr]


# --- card text is never terminal commands -----------------------------------------------------------------

HOSTILE_TITLE = "\\e]0;pwned\\a\\e[2J\\e[31mRed\\nsecond line\\x9b6n \\x7f \\u202eevil \\u2028 end"
HOSTILE = (
    "---\n"
    f'title: "{HOSTILE_TITLE}"\n'
    'category: "\\e[5mblink"\n'
    'topics: ["\\e]8;;http://x.example/\\e\\\\link"]\n'
    "quality: '50'\n"
    "---\n"
)
TITLE = "\x1b]0;pwned\x07\x1b[2J\x1b[31mRed\nsecond line\x9b6n \x7f \u202eevil \u2028 end"
# Bytes a terminal acts on: C0 controls but newline (and the CR a pty adds), ESC, DEL, C1 in UTF-8, bidi.
FORBIDDEN = (
    [bytes([c]) for c in range(32) if c not in (10, 13)]
    + [b"\x7f"]
    + [chr(c).encode() for c in [*range(0x80, 0xA0), 0x2028, 0x2029, 0x202E]]
)


@pytest.fixture
def hostile(curator: Curator, tmp_path: Path) -> Curator:
    folder = tmp_path / "cards"
    folder.mkdir()
    (folder / "hostile.md").write_text(HOSTILE, encoding="utf-8")
    (folder / "\x1b[2Jname.md").write_text("---\ntitle: Fine\nquality: 1\n---\n", encoding="utf-8")
    (folder / "broken\x1b]0;x\x07.md").write_text("---\ntitle: [unclosed\n---\n", encoding="utf-8")
    done = curator("import", str(folder))
    assert done.code == 1, done.err  # the broken card fails; its error names the file
    return curator


def on_a_pty(curator: Curator, *args: str) -> tuple[int, bytes]:
    """Run `curator ARGS` with stdout and stderr on a real pseudo-terminal; its exit code and all it wrote."""
    main, child = pty.openpty()
    env = {**curator.env, "COLUMNS": "400"}  # wide enough that no line is cut to the terminal's width
    process = subprocess.Popen([sys.executable, "-m", "curator", "--db", str(curator.db), *args],
                               stdin=subprocess.DEVNULL, stdout=child, stderr=child, env=env, cwd=ROOT)  # fmt: skip
    os.close(child)
    out = b""
    while True:
        ready, _, _ = select.select([main], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(main, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(main)
    return process.wait(timeout=30), out


def assert_inert(out: bytes) -> None:
    for bad in FORBIDDEN:
        assert bad not in out, (bad, out)


@pytest.mark.parametrize(
    "args",
    [("list",), ("show", "1"), ("show", "2"), ("check",), ("import", "{cards}"), ("write", "--dry-run")],
)
def test_card_text_on_a_terminal_is_escaped(hostile: Curator, tmp_path: Path, args: tuple[str, ...]) -> None:
    if args[0] == "write":
        assert hostile("set", "--query", "", "quality=7").code == 0
    code, out = on_a_pty(hostile, *[a.replace("{cards}", str(tmp_path / "cards")) for a in args])
    assert code in (0, 1), out
    assert_inert(out)
    assert b"Traceback" not in out
    text = out.decode("utf-8")
    if args[0] == "list":
        line = next(line for line in text.splitlines() if "pwned" in line)
        assert "\\x1b]0;pwned\\x07\\x1b[2J\\x1b[31mRed second line\\x9b6n \\x7f \\u202eevil" in line
        lines = [line for line in text.splitlines() if line.strip()]
        assert len(lines) == 3  # the header and one line for each of the 2 cards (the broken one failed)
    if args[0] == "show":  # ids follow the files' path order: one of the two cards each, whichever it is
        if "Title:        Fine" in text:
            assert "\\x1b[2Jname.md" in text  # the card whose file name is the hostile part
        else:
            assert "Title:        \\x1b]0;pwned\\x07\\x1b[2J\\x1b[31mRed\\nsecond line\\x9b6n \\x7f" in text
    if args[0] in ("import", "write"):
        assert "broken\\x1b]0;x\\x07.md" in text or "\\x1b[2Jname.md" in text


def test_piped_text_is_escaped_too_and_json_stays_exact(hostile: Curator) -> None:
    # Text output is for people, and `| grep` or `| head` hands it to their terminal all the same;
    # --json is for scripts: exact values, with every dangerous character a \\u escape.
    listed = hostile("list")
    assert_inert(listed.out.encode())
    assert "\\x1b]0;pwned\\x07\\x1b[2J" in listed.out
    assert_inert(hostile("check").out.encode())
    imported = hostile("import", str(hostile.cwd / "cards"))
    assert_inert(imported.err.encode()) and "broken\\x1b]0;x\\x07.md" in imported.err
    as_json = hostile("list", "--json")
    assert_inert(as_json.out.encode())
    by_title = {row["title"]: row for row in as_json.json_lines()}
    assert TITLE in by_title and by_title[TITLE]["category"] == "\x1b[5mblink"
    assert {Path(row["path"]).name for row in as_json.json_lines()} >= {"\x1b[2Jname.md"}
    shown = hostile("show", "1", "--json")
    assert_inert(shown.out.encode()) and shown.json()["title"] == TITLE


def test_a_piped_diff_is_a_patch_byte_for_byte(hostile: Curator, tmp_path: Path) -> None:
    assert hostile("set", "--query", "", "quality=7").code == 0
    diff = hostile("write", "--dry-run")
    assert diff.code == 0
    assert "+++ b/" + str(tmp_path / "cards" / "\x1b[2Jname.md").lstrip("/") in diff.out  # the real name
    done = subprocess.run(["patch", "-p1", "-d", "/", "--dry-run"], input=diff.out, capture_output=True,
                          text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_printable_and_to_json() -> None:
    assert printable("a\tb\nc\r\x00\x1b\x7f\x85\x9b\u2028\u202e\u2066\udcff\ud800 é 😀") == (
        "a\\tb\\nc\\r\\x00\\x1b\\x7f\\x85\\x9b\\u2028\\u202e\\u2066\\xff\\ud800 é 😀"
    )
    assert printable("plain ü text") == "plain ü text"
    text = "\x1b[2J\x7f\x9b\u2028\u202e\udcff é"
    encoded = to_json({"t": text})
    assert json.loads(encoded) == {"t": text} and encoded.isprintable() and encoded.encode("utf-8")
