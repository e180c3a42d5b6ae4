"""``curator migrate``: bring a library up to this Curator's schema, or move a SQLite library in (``--to``).

It opens the library itself (not through ``commands.run``): whether and how a library is opened is what
it decides. A SQLite library is one editor's file and its way back is the copy made beside it, so it is
migrated at once. A team library is everyone's: the ``pg_dump`` command that backs it up is printed first
and the editor confirms on a terminal (``--yes`` for scripts; without a terminal and without ``--yes``
nothing happens, exit 2). The backend side is ``curator.core.backend.transfer``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from curator.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CliError, library_location

SUMMARY = "bring a library up to this Curator's schema, or copy a SQLite library to a team library (--to)"
DETAILS = """\
Without --to: the library (--db, $CURATOR_DB or the default one) is migrated to the schema this Curator
reads; a library already there is left alone (exit 0), one made by a newer Curator is refused (exit 1).
  SQLite: the file is first copied aside as NAME.vN-backup (N: its old schema version); the copy is
    what the older Curator still opens. (Opening an older SQLite library migrates it the same way.)
  PostgreSQL (a team library is never migrated by merely connecting): prints the pg_dump command that
    backs the database up (the password stays in ~/.pgpass or PGPASSWORD), asks for confirmation, then
    migrates in one transaction: all steps, or none. --yes skips the question; without a terminal to ask
    on, --yes is required (exit 2 otherwise, nothing changed).

With --to postgresql://user@host/dbname: copies the SQLite library (--db) with its cards, pending edits,
edit history (undo keeps working), checks index and settings into that database, which must be empty
(or hold a Curator library with nothing in it). Card and batch ids stay the same. One transaction: a
failure leaves the database as it was. The SQLite library is not changed (an older one is migrated
first, copied aside as above). Progress shows on stderr on a terminal.

Exit 0 done (or nothing to do), 1 the library or the server refused (message on stderr), 2 bad arguments
or no confirmation."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``curator migrate`` (registered by curator.cli.build_parser)."""
    parser.add_argument(
        "--to",
        metavar="URL",
        help="copy the SQLite library (--db) into this empty team library (postgresql://…)",
    )
    parser.add_argument(
        "--yes", action="store_true", help="migrate a team library without asking (after backing it up)"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object with what was done")


def cmd_migrate(args: argparse.Namespace) -> int:
    """Run ``curator migrate`` (with or without ``--to``); errors come out as CliError."""
    from curator.cli import commands
    from curator.core.store_types import LibraryError

    try:
        if args.to is not None:
            return _move_in(args, commands.busy_timeout())
        location = library_location(args.db)
        if isinstance(location, str):  # a postgresql:// URL (paths come back as Path)
            return _migrate_team(args, location)
        return _migrate_sqlite(args, location, commands.busy_timeout())
    except LibraryError as err:
        raise CliError(f"migrate: {commands.library_message(err)}") from err


def _emit(args: argparse.Namespace, text: str, data: dict[str, Any]) -> None:
    from curator.cli import output

    if args.json:
        output.emit_json(data)
    else:
        print(output.printable(text))


def _migrate_sqlite(args: argparse.Namespace, path: Path, busy_timeout: float) -> int:
    from curator.core.backend import transfer

    done = transfer.migrate_sqlite(path, busy_timeout=busy_timeout)
    data = {"library": str(done.path), "from": done.before or done.after, "to": done.after,
            "migrated": done.before is not None, "backup": None if done.backup is None else str(done.backup)}  # fmt: skip
    if done.before is None:
        _emit(args, f"{done.path}: already at library schema {done.after}; nothing to migrate", data)
    else:
        _emit(
            args,
            f"{done.path}: migrated from library schema {done.before} to {done.after}; the library as it "
            f"was is copied to {done.backup}",
            data,
        )
    return EXIT_OK


def _confirm(question: str) -> bool:
    """Ask on the terminal (stderr), a yes/no answer read from stdin; only "y"/"yes" is a yes."""
    sys.stderr.write(question)
    sys.stderr.flush()
    answer = sys.stdin.readline()
    if not answer.endswith("\n"):
        sys.stderr.write("\n")
    return answer.strip().lower() in ("y", "yes")


def _migrate_team(args: argparse.Namespace, url: str) -> int:
    from curator.cli import output
    from curator.core.backend import transfer
    from curator.core.backend.location import parse_location

    display = parse_location(url).display
    version, current = transfer.team_schema(url)
    data: dict[str, Any] = {"library": display, "from": version, "to": current, "migrated": False,
                            "backup": None}  # fmt: skip
    if version == current:
        _emit(args, f"{display}: already at library schema {version}; nothing to migrate", data)
        return EXIT_OK
    command = transfer.pg_dump_command(url, version)
    data["backup"] = command
    print(
        output.printable(
            f"curator: migrate: {display} uses library schema {version}; this Curator needs {current}. "
            "Back it up first (pg_dump finds the password in ~/.pgpass or PGPASSWORD, as Curator does):"
        ),
        file=sys.stderr,
    )
    print(output.printable(f"  {command}"), file=sys.stderr)
    if not args.yes:
        if not sys.stdin.isatty():
            raise CliError(
                f"migrate: {display} was not migrated: confirm with --yes (there is no terminal to ask on)",
                EXIT_USAGE,
            )
        if not _confirm(f"Migrate {display} from schema {version} to {current} now? [y/N] "):
            raise CliError(f"migrate: {display} was not migrated (nothing changed)", EXIT_FAILED)
    steps = transfer.migrate_team(url)
    data["migrated"] = bool(steps)
    if steps:
        _emit(args, f"{display}: migrated from library schema {version} to {steps[-1]}", data)
    else:  # another Curator migrated it meanwhile
        _emit(args, f"{display}: already at library schema {current}; nothing to migrate", data)
    return EXIT_OK


def _move_in(args: argparse.Namespace, busy_timeout: float) -> int:
    from curator.cli import output
    from curator.core import schema
    from curator.core.backend import transfer
    from curator.core.backend.location import parse_location

    try:
        target = parse_location(args.to)
    except ValueError as err:
        raise CliError(f"migrate: --to: {err}", EXIT_USAGE) from None
    if not target.is_postgresql or target.url is None:
        raise CliError(
            f"migrate: --to {target.display}: a team library's postgresql://user@host/dbname URL is needed",
            EXIT_USAGE,
        )
    source = library_location(args.db)
    if isinstance(source, str):
        raise CliError(
            "migrate: --to copies a SQLite library: --db (or $CURATOR_DB) names a team library "
            f"({parse_location(source).display}); give the SQLite file with --db",
            EXIT_USAGE,
        )
    report = transfer.copy_to_postgresql(
        source, target.url, busy_timeout=busy_timeout, progress=output.progress_printer("copying")
    )
    if report.source_backup is not None:
        print(
            output.printable(
                f"curator: migrate: {report.source} was migrated from library schema "
                f"{report.source_migrated_from} first; the library as it was is copied to {report.source_backup}"
            ),
            file=sys.stderr,
        )
    for table, columns in report.left_out.items():
        print(
            output.printable(
                "curator: migrate: not copied (no such column on the server): "
                + ", ".join(f"{table}.{column}" for column in columns)
            ),
            file=sys.stderr,
        )
    counts = {
        "cards": report.count(schema.Card),
        "pending edits": report.count(schema.PendingEdit),
        "edit batches": report.count(schema.EditBatch),
        "journal entries": report.count(schema.JournalEntry),
    }
    if args.json:
        output.emit_json({"from": report.source, "to": report.target, "rows": report.rows,
                          "seconds": round(report.seconds, 3)})  # fmt: skip
    else:
        print(output.printable(f"copied {output.summary(counts)} from {report.source} to {report.target} "
                               f"in {report.seconds:.1f} s"))  # fmt: skip
    return EXIT_OK
