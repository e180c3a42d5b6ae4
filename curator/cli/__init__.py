"""The `curator` command line: argparse tree, library path resolution, exit codes, `main`."""

from __future__ import annotations

import argparse
import gc
import os
import re
import sys
import threading
from pathlib import Path
from typing import NoReturn

# Exit codes of the contract (shared/docs/cli-contract.md).
EXIT_OK = 0
EXIT_FAILED = 1  # some files failed (import/write), or a card was not found
EXIT_USAGE = 2  # bad arguments, values, fields or query: nothing changed
EXIT_CONFLICT = 3  # write skipped conflicting files

QUERY_HELP = """\
query language (list, set --query, check):
  words              full text over title, excerpt, provider, topics and related items' titles
  "a phrase"  pre*   a quoted phrase; a prefix
  field:value        category, provider, topic, type, path (case-insensitive)
  published:true|false  dirty:true  problems:true  conflict:true
  quality>=60  heat<10  heat:-1  date>=2020-01-01  date<2020-02
  a b = a AND b;  a OR b;  -term negates;  ( ) group
  absent values: published:false matches cards without a published key,
  heat:-1 cards without heat; quality comparisons never match cards without quality
  a query that starts with '-' follows `--`:  curator list -- -published:true
"""

DESCRIPTION = """\
Curator: triage news article cards (YAML files) through a library.
Without a command, opens the desktop app (same as `curator gui`)."""


class CliError(Exception):
    """A failure to report as ``curator: MESSAGE`` on stderr with an exit code."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so ``main`` can return the code."""

    def exit(self, status: int = 0, message: str | None = None) -> None:  # type: ignore[override]
        if message:
            # argparse quotes some arguments raw ("unrecognized arguments: ..."): no terminal commands.
            from curator.cli.output import printable

            sys.stderr.write("\n".join(printable(line) for line in message.split("\n")))
        raise _ParserExit(status)


class _ParserExit(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def default_db() -> Path:
    """The library without --db: curator.paths.default_library(), the one the desktop app opens too.

    ($CURATOR_DB, else library.sqlite in the user data folder, which is created when missing.)
    """
    from curator import paths

    library = paths.default_library()
    library.parent.mkdir(parents=True, exist_ok=True)
    return library


def library_location(db: str | None) -> str | Path:
    """The library a command opens: ``--db``, else ``$CURATOR_DB``, else :func:`default_db`.

    A ``postgresql://`` URL is a team library and is passed on as written (libpq finds the password in
    ~/.pgpass or $PGPASSWORD; messages show it without one). Any other ``scheme://`` is a usage error
    (exit 2): it used to become an SQLite file in a folder named after the scheme.
    """
    from curator.core.backend.location import parse_location

    given = db if db else os.environ.get("CURATOR_DB") or None
    if not given:
        return default_db()
    try:
        where = parse_location(given)
    except ValueError as err:
        raise CliError(f"{'--db' if db else '$CURATOR_DB'}: {err}", EXIT_USAGE) from None
    if where.is_postgresql and where.url:
        return where.url
    return Path(given).expanduser()


#: The largest number SQLite stores (int64): a --limit beyond it is no limit, an id beyond it no card.
MAX_INT64 = 2**63 - 1
# A whole number as argparse values and id lists take it; its digits are counted before int() runs, which
# refuses text of more than 4,300 digits with a ValueError of its own.
_WHOLE = re.compile(r"\s*([+-]?)0*([0-9]+)\s*")
_SHOWN_CHARS = 40


def shown(text: str) -> str:
    """A user's value quoted in a message: repr (controls escaped), cut short when long."""
    if len(text) <= _SHOWN_CHARS:
        return repr(text)
    return f"{text[: _SHOWN_CHARS // 2]!r}... ({len(text):,} characters)"


def _whole(text: str) -> int | None:
    """``text`` as a whole number, numbers beyond int64 clamped to ±MAX_INT64; None when not a number."""
    match = _WHOLE.fullmatch(text)
    if match is None:
        return None
    sign, digits = match.groups()
    value = MAX_INT64 if len(digits) > len(str(MAX_INT64)) else min(int(digits), MAX_INT64)
    return -value if sign == "-" else value


def card_id_value(text: str) -> int:
    """A card id as typed (blanks around it allowed); ValueError when it is not a whole number.

    Ids are SQLite integers (at most 19 digits); a longer number is refused here, before int() (which
    refuses more than 4,300 digits itself) or SQLite (which overflows past int64) can see it.
    """
    match = _WHOLE.fullmatch(text)
    if match is None:
        raise ValueError(f"{shown(text)} is not a card id (a whole number)")
    sign, digits = match.groups()
    if len(digits) > len(str(MAX_INT64)):
        raise ValueError(f"{shown(text)} is not a card id (ids have at most {len(str(MAX_INT64))} digits)")
    return -int(digits) if sign == "-" else int(digits)


def _non_negative(text: str) -> int:
    value = _whole(text)
    if value is None:
        raise argparse.ArgumentTypeError(f"{shown(text)} is not a whole number")
    if value < 0:
        raise argparse.ArgumentTypeError(f"{shown(text)} is negative")
    return value  # beyond int64: clamped, and a limit past every card is no limit


def _card_id(text: str) -> int:
    try:
        return card_id_value(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _card_ids(text: str) -> list[int]:
    """``set --id``'s value: one card id, or several separated by commas ("1,2,3")."""
    return [_card_id(part) for part in text.split(",")]


# A value `--id` takes: ids separated by commas (int() allows blanks around each and a sign).
_ID_LIST = re.compile(r"\s*[+-]?\d+\s*(?:,\s*[+-]?\d+\s*)*")


def merge_ids(argv: list[str]) -> list[str]:
    """``set``'s repeated ``--id X`` options as one ``--id X,Y,...`` at the first one's place.

    argparse handles each repeat of an option with a scan over all the others (10,000 ``--id`` took
    about 3 s). Only the options of ``set`` (after the first ``set`` word, before a ``--``) with valid
    id values are merged; anything unusual is left to argparse and its error messages.
    """
    if argv.count("--id") + sum(a.startswith("--id=") for a in argv) < 2 or "set" not in argv:
        return argv
    start = argv.index("set") + 1
    end = argv.index("--", start) if "--" in argv[start:] else len(argv)
    values: list[str] = []
    rest: list[str] = []
    first = None
    i = start
    while i < end:
        arg = argv[i]
        value = arg[5:] if arg.startswith("--id=") else argv[i + 1] if arg == "--id" and i + 1 < end else None
        if value is not None and _ID_LIST.fullmatch(value):
            first = len(rest) if first is None else first
            values.append(value)
            i += 1 if arg.startswith("--id=") else 2
            continue
        rest.append(arg)
        i += 1
    if first is None:
        return argv
    merged = [*rest[:first], "--id", ",".join(values), *rest[first:]]
    return [*argv[:start], *merged, *argv[end:]]


def build_parser() -> argparse.ArgumentParser:
    """The whole argparse tree: global --db, one subcommand per contract command."""
    formatter = argparse.RawDescriptionHelpFormatter
    # --db is accepted before or after the command; SUPPRESS keeps a subcommand from resetting it.
    db_after = argparse.ArgumentParser(add_help=False)
    db_after.add_argument("--db", metavar="PATH", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    db_after.add_argument("--map-root", metavar="ORIGINAL=LOCAL", action="append", default=argparse.SUPPRESS,
                          help=argparse.SUPPRESS)  # fmt: skip

    parser = _Parser(prog="curator", description=DESCRIPTION, epilog=QUERY_HELP, formatter_class=formatter)
    parser.add_argument(
        "--db",
        metavar="PATH|URL",
        default=None,
        help=(
            "the library file or a team library's postgresql://user@host/dbname URL (default: $CURATOR_DB, "
            "else library.sqlite in the user data folder)"
        ),
    )
    parser.add_argument(
        "--map-root",
        metavar="ORIGINAL=LOCAL",
        action="append",
        default=None,
        help=(
            "a library root (its first-imported path, id or label) is at LOCAL on this machine; repeatable "
            "(also $CURATOR_ROOT_MAP: ORIGINAL=LOCAL entries separated like PATH)"
        ),
    )
    from curator import __version__

    parser.add_argument("--version", action="version", version=f"curator {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    def command(name: str, summary: str, details: str = "") -> argparse.ArgumentParser:
        return sub.add_parser(
            name,
            help=summary,
            description=summary + ("\n\n" + details if details else ""),
            parents=[db_after],
            formatter_class=formatter,
        )

    p = command(
        "import",
        "import or rescan card files and folders into the library",
        "Folders are scanned recursively for *.txt, *.md, *.markdown, *.yaml, *.yml (dotfiles and\n"
        "dot-folders skipped). Unchanged files are skipped; cards whose files vanished are reported.\n"
        "A card with pending edits whose file changed on disk becomes a conflict (edits kept).\n"
        "Exit 0 when every file imported, 1 when some failed (the others are still imported).",
    )
    p.add_argument("paths", nargs="+", metavar="PATH", help="card files or folders")
    p.add_argument("--json", action="store_true", help="print one JSON object with the counts and errors")

    p = command(
        "list",
        "list the cards matching a query",
        "Text: aligned columns (`*` after the id: pending edits, `!`: conflict).\n\n" + QUERY_HELP,
    )
    p.add_argument("query", nargs="*", metavar="QUERY", help="a query (default: all cards); words are ANDed")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--limit", type=_non_negative, metavar="N", help="at most N cards")
    p.add_argument(
        "--sort",
        action="append",
        default=[],
        metavar="FIELD[:desc]",
        help="sort by FIELD (title, date, quality, heat, provider, category, published, path, id), "
        "descending with :desc; repeat (or a:desc,b) for ties",
    )

    p = command("show", "show one whole card, pending edits marked, and who last changed each field")
    p.add_argument("id", type=_card_id, metavar="ID", help="the card's id (see `curator list`)")
    p.add_argument("--json", action="store_true", help="print one JSON object")

    p = command(
        "history",
        "list the latest edits (undo steps) of every editor, newest first: when, who, what",
        "Edits are recorded as $CURATOR_EDITOR, else the system user name.",
    )
    p.add_argument("--limit", type=_non_negative, default=50, metavar="N", help="at most N edits (default 50)")
    p.add_argument(
        "--json", action="store_true",
        help='one JSON object per line: {"id","label","editor","created","undone","cards","entries"}',
    )  # fmt: skip

    p = command(
        "set",
        "record edits on cards (files change only on `curator write`)",
        "Assignments:\n"
        "  quality=N  heat=N  published=true|false\n"
        "  topics+=NAME  topics-=NAME   add a topic at the end of the list (in its own style, block\n"
        "                               or flow; one already there, any case, is a no-op); remove one\n"
        "  title=TEXT  excerpt=TEXT  category=TEXT\n"
        "                               the text exactly as given (quote it for the shell; blanks and line\n"
        "                               breaks are kept). `write` keeps the file's quoting style where the\n"
        "                               text allows it (plain, 'single', \"double\", a | or > block) and\n"
        "                               quotes it as YAML needs where it must (yes, null, 12, a: b, ...)\n"
        "  related+=ID                  card ID of the library becomes the last related item (in the list's\n"
        "                               own style), with the related keys it has (title, excerpt,\n"
        "                               publishedDateTime, sourceUrl, ampUrl, cdnAmpUrl, type, provider,\n"
        "                               quality, images); an article already listed (same canonical\n"
        "                               sourceUrl: www., tracking parameters and AMP forms are one) is a\n"
        "                               no-op, said on stderr. An unknown ID is exit 1, a card without an\n"
        "                               http(s) sourceUrl exit 2\n"
        "  related-=URL                 removes every related item with that sourceUrl (canonical compare)\n"
        "Every assignment is checked first: an invalid value or field changes nothing (exit 2).\n"
        "Setting a value a card already has changes nothing and does not make it dirty.\n"
        "--dry-run prints how many cards would change, then the diff `write` would give each file.\n"
        "Cards: --query QUERY, or ids: --id 7 --id 9, --id 7,9,12, or --ids-from FILE (one id a line,\n"
        "- for stdin: curator list --json ... | jq .id | curator set --ids-from - published=true).\n"
        "Examples: curator set --query 'provider:dw quality<40' published=false topics+=Weak\n"
        "          curator set --id 7 'title=Mars rover finds water: \"a big day\"' related+=12\n\n"
        + QUERY_HELP,
    )
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--query", metavar="QUERY", help="the cards matching QUERY")
    target.add_argument(
        "--id",
        type=_card_ids,
        action="extend",
        dest="ids",
        metavar="ID[,ID...]",
        help="a card, or several separated by commas (--id 1,2,3); repeat for more",
    )
    target.add_argument(
        "--ids-from",
        metavar="FILE",
        help="the cards whose ids FILE holds, one id a line (blank lines skipped); - reads stdin",
    )
    p.add_argument("assignments", nargs="+", metavar="FIELD=VALUE")
    p.add_argument(
        "--dry-run", action="store_true",
        help="say how many cards would change and print the diffs `write` would make; record nothing",
    )

    p = command(
        "write",
        "write every pending edit to its card file",
        "Each file changes only where edited (atomic replace). A file changed on disk since its edits\n"
        "were made is a conflict: skipped and reported, edits kept. A file that already holds the\n"
        "result (an earlier write was interrupted after the rename) is not rewritten: it counts as\n"
        "unchanged and its card becomes clean.\n"
        "Exit 0 when all written, 3 when any conflict, 1 when other failures only.",
    )
    p.add_argument(
        "--dry-run", action="store_true", help="print the unified diff of each file; write nothing"
    )
    p.add_argument("--json", action="store_true", help="print one JSON object with the outcome")

    p = command(
        "check",
        "list validation problems (wrong types, out-of-range values, bad links, ...)",
        "With --fix KIND, the fixable problems of that kind become pending edits (see `curator write`).\n"
        "KIND: type (e.g. quality: '60'), range, url, date, duplicate (topics), mojibake (title, excerpt),\n"
        "malformed, number (a value too large for the library; listed, never fixed),\n"
        "related-self (a related item that is the card), related-twice, amp-cache (cdnAmpUrl not the\n"
        "AMP cache form of ampUrl), html (tags or entities in a title or excerpt), cut (an excerpt cut\n"
        "mid-word), or all. Listed, never fixed: related-card (a related item that is a library card:\n"
        "link it with `set related+=ID`), future (publishedDateTime ahead), image-size (no width/height).\n"
        "`curator show ID` names each problem's kind.\n\n" + QUERY_HELP,
    )
    p.add_argument("query", nargs="*", metavar="QUERY", help="only cards matching QUERY")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--fix", metavar="KIND", help="record fixes for the fixable problems of KIND")

    p = command(
        "dupes",
        "list groups of cards that are one article: equal canonical URLs or syndicated copies",
        "One group a line: its kind (url: the same canonical sourceUrl/ampUrl/cdnAmpUrl; copy: the same\n"
        "text under another headline or provider), its card ids and the canonical URL (url groups).\n"
        "With QUERY, the whole groups with at least one card matching. Cards changed since the last\n"
        "check are checked first.\n\n" + QUERY_HELP,
    )
    p.add_argument("query", nargs="*", metavar="QUERY", help="only groups with a card matching QUERY")
    p.add_argument(
        "--json", action="store_true", help='one JSON object per line: {"kind", "ids", "canonical"}'
    )

    p = command(
        "related",
        "show a card's related items; with --suggest, other coverage of its story in the library",
        "--suggest: cards of other providers first, within a few days of the card, by TF-IDF score (0-1);\n"
        "items already related, duplicates and copies are left out. Add one with\n"
        "`curator set --id ID related+=OTHER`.",
    )
    p.add_argument("id", type=_card_id, metavar="ID", help="the card's id (see `curator list`)")
    p.add_argument("--suggest", action="store_true", help="suggest library cards on the same story")
    p.add_argument("--limit", type=int, default=10, metavar="N", help="at most N suggestions (default 10)")
    p.add_argument("--json", action="store_true", help="one JSON object per line")

    from curator.cli import migrate

    migrate.add_arguments(command("migrate", migrate.SUMMARY, migrate.DETAILS))

    p = command("gui", "open the desktop app (on --db/$CURATOR_DB when given, else the last library)")
    p.add_argument(
        "path", nargs="?", default=None, metavar="PATH", help="card files or a folder to import on start"
    )
    return parser


_gc_paused = False


def _pause_gc() -> None:
    """No garbage collection while the modules a command needs are imported (see :func:`resume_gc`)."""
    global _gc_paused
    if gc.isenabled():
        gc.disable()
        _gc_paused = True


def resume_gc() -> None:
    """Collect garbage again, once the start-up's imports are done; a no-op unless ``main_exit`` paused it.

    Importing makes objects that live as long as the process (modules, classes, functions) and almost no
    cyclic garbage, yet every 700 allocations the collector scans them all again: about 5-10 ms of a team
    library's `curator list` (psycopg, asyncio, the backend). The survivors are then frozen (moved out of
    the collector's sight), so a long command (an import of 100k cards) does not rescan them either.
    Called when the library is open (``commands.run``), before `migrate` and before the desktop app starts.
    """
    global _gc_paused
    if _gc_paused:
        _gc_paused = False
        gc.freeze()
        gc.enable()


def main(argv: list[str] | None = None) -> int:
    """Run one command; return its exit code (0 ok, 1 failed, 2 usage, 3 conflict)."""
    parser = build_parser()
    try:
        args = parser.parse_args(merge_ids(sys.argv[1:] if argv is None else list(argv)))
    except _ParserExit as done:  # --version, --help, a usage error
        resume_gc()
        return done.status
    if args.command not in (None, "gui", "migrate"):  # those open their libraries their own way
        _connect_early(args.db)
    from curator.cli import commands  # the core is imported only when a command runs

    try:
        if args.command == "migrate":  # it opens the library itself: how to open it is what it decides
            from curator.cli.migrate import cmd_migrate

            resume_gc()
            return cmd_migrate(args)
        return commands.run(args)
    except CliError as err:
        print(f"curator: {commands.output.printable(err.message)}", file=sys.stderr)
        return err.code
    except KeyboardInterrupt:
        print("curator: interrupted", file=sys.stderr)
        return 130
    finally:
        resume_gc()


def _connect_early(db: str | None) -> None:
    """A team library's first connection, opened while the command's own modules load.

    The command's Store takes it (pg_connect.connect_early says why and how); only a ``postgresql://``
    ``--db`` or ``$CURATOR_DB`` starts one, and a location that is wrong is left for the command to report.
    """
    if not (db or os.environ.get("CURATOR_DB")):
        return  # the default library, a file
    try:
        where = library_location(db)
    except CliError:
        return
    if isinstance(where, str):  # a team library's URL (files come back as paths)
        from curator.core.backend import pg_connect

        pg_connect.connect_early(where)


def main_exit() -> None:
    """The console script: exit with ``main``'s code; a closed pipe (``| head``) is not an error.

    Output that cannot be written (``curator list > /full/disk/file``) is exit 1 with the reason, not a
    traceback. A file name that is not UTF-8 reaching stdout raw (only a diff to a pipe does: a patch
    must name the real file) is written as its own bytes.
    """
    _pause_gc()
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="surrogateescape")
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader stopped early (`curator list | head -1`): what it read is what it wanted, so
        # this is success, as for other Unix tools. Python would complain again when flushing
        # stdout at exit: point it at devnull first.
        _drop_stdout()
        code = EXIT_OK
    except OSError as err:  # stdout on a full disk (ENOSPC) or a failing device (EIO)
        _drop_stdout()
        print(f"curator: cannot write the output: {err.strerror or err}", file=sys.stderr)
        code = EXIT_FAILED
    leave(code)


def leave(code: int) -> NoReturn:
    """End the process with ``code``; a command that has finished skips the interpreter's teardown.

    Tearing down the modules of a `curator list` on a team library (psycopg, asyncio, ssl, peewee, ...)
    costs about 30 ms of a run that is ~150 ms of its own work, and none of it matters once the command
    has returned: the Store has closed the library in its ``with`` (the connection closed, SQLite's WAL
    checkpointed), logging's handlers are shut down here as its exit hook would, and stdout and stderr are
    flushed here, so the exit code is the command's, exactly. A process that may still have work the
    interpreter finishes at exit takes the usual way (``sys.exit``): another thread still running (a
    thread pool's workers are joined at exit), the importer's worker processes (multiprocessing's exit
    hook reaps them), the desktop app (Qt's teardown, the resource files' exit hook), and a flush that
    fails (Python reports it as usual).
    """
    connecting = sys.modules.get("curator.core.backend.pg_connect")
    if connecting is not None:  # a team library's early connection that no command claimed
        connecting.discard_early()
    if "multiprocessing" in sys.modules or "PySide6" in sys.modules or threading.active_count() > 1:
        sys.exit(code)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        sys.exit(code)
    if "logging" in sys.modules:  # psycopg loads it; a handler (none on the CLI today) is flushed first
        import logging

        logging.shutdown()
    os._exit(code)


def _drop_stdout() -> None:
    """Point stdout at devnull, so Python's own flush at exit does not fail a second time."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
