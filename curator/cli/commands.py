"""One short function per `curator` command, each a thin face over the core's Store.

Only what every command needs is imported here (the store, the query errors, the renderers): the card
reader (yaml), the importer (multiprocessing), the field rules and `set` parsing are imported by the
commands that use them, so `curator list` starts in about half the time (tests/cli/test_startup.py).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from curator.cli import (
    EXIT_CONFLICT,
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    card_id_value,
    library_location,
    output,
    resume_gc,
    shown,
)
from curator.core.query import QueryError
from curator.core.store import DEFAULT_BUSY_TIMEOUT, LibraryBusy, LibraryDiskError, Store
from curator.core.store_types import LibraryError

if TYPE_CHECKING:
    from curator.cli.assign import Assignment

Command = Callable[[Store, argparse.Namespace], int]


def run(args: argparse.Namespace) -> int:
    """Open the library and run the chosen command (no command: the desktop app)."""
    if args.command in (None, "gui"):
        return cmd_gui(args)
    db = library_location(args.db)
    timeout, mapping = busy_timeout(), root_map(getattr(args, "map_root", None))
    try:
        store = Store(db, busy_timeout=timeout, root_map=mapping)
    except LibraryError as err:
        # A newer or foreign library, a file that is not SQLite, a damaged one; busy; a failing disk.
        raise CliError(library_message(err, opening=True)) from err
    except OSError as err:  # a folder we cannot create, a path we may not read
        raise CliError(f"cannot open the library {db}: {err.strerror or err}") from err
    except ValueError as err:
        from curator.core.roots import RootMapError  # loaded already: only a given map can be wrong

        if not isinstance(err, RootMapError):
            raise
        raise CliError(f"--map-root: {err}", EXIT_USAGE) from err  # it names a root the library lacks
    resume_gc()  # the library is open: what the command imports from here on is its own
    with store:
        try:
            return COMMANDS[args.command](store, args)
        except QueryError as err:
            raise CliError(f"query: {err}", EXIT_USAGE) from err
        except LibraryError as err:
            raise CliError(library_message(err)) from err
        except Exception as err:
            # A driver failure the Store did not translate yet (see Store.library_error); anything it
            # does not recognise is a bug in Curator and keeps its traceback.
            known = store.library_error(err)
            if known is None:
                raise
            raise CliError(library_message(known)) from err


#: curator.core.roots.ENV_VAR, named here so a command without a root map never imports that module (~3 ms).
ROOT_MAP_ENV = "CURATOR_ROOT_MAP"


def root_map(given: Sequence[str] | None) -> dict[str, str]:
    """Where this editor has the library's roots: ``$CURATOR_ROOT_MAP``, then each ``--map-root`` (a later
    entry for the same root wins). A malformed entry is a usage error naming where it came from."""
    if not given and not os.environ.get(ROOT_MAP_ENV, "").strip():
        return {}  # an editor whose folders are where the library says (most): nothing to parse
    from curator.core import roots

    try:
        return {**roots.from_environment(), **roots.parse_entries(given or (), "--map-root")}
    except ValueError as err:
        raise CliError(str(err), EXIT_USAGE) from err


def busy_timeout() -> float:
    """Seconds to wait for another Curator's write lock: $CURATOR_BUSY_TIMEOUT, else the Store's default.

    Scripts that would rather fail at once (or wait out a long import) say so there; a value that is not
    a number of seconds >= 0 is a usage error, not a silent default.
    """
    text = os.environ.get("CURATOR_BUSY_TIMEOUT", "").strip()
    if not text:
        return DEFAULT_BUSY_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < 1e9:  # also NaN and inf
        raise CliError(
            f"$CURATOR_BUSY_TIMEOUT: {shown(text)} is not a number of seconds (0 or more)", EXIT_USAGE
        )
    return seconds


def library_message(err: LibraryError, *, opening: bool = False) -> str:
    """The sentence `curator: ...` says for a library that cannot be used (exit 1)."""
    locks = sys.modules.get("curator.core.team_locks")  # imported by whatever took a lock: else none was
    if locks is not None and isinstance(err, locks.LibraryLocked):  # a writer's or importer's: named
        return str(err)
    if isinstance(err, LibraryBusy):
        return f"{err}; try again when it has finished"
    if isinstance(err, LibraryDiskError) or not opening:
        return str(err)
    return f"cannot open the library {err}"  # the error reads "PATH: reason"


def cmd_import(store: Store, args: argparse.Namespace) -> int:
    """Import or rescan files and folders; print the counts and every file that failed."""
    from curator.core.importer import import_paths

    paths = [os.path.abspath(p) for p in args.paths]
    report = import_paths(store, paths, progress=output.progress_printer("importing"))
    if args.json:
        output.emit_json(report.as_json())
    else:
        counts = report.as_json()
        print(output.summary({k: counts[k] for k in ("added", "updated", "unchanged", "removed", "failed")}))
        for path in report.conflicts:
            print(output.printable(f"conflict: {path}: changed on disk under pending edits (edits kept)"))
        for path in report.missing:
            print(output.printable(f"missing: {path}: file vanished (pending edits kept)"))
    for error in report.errors:
        print(output.printable(f"curator: import: {_error_text(error)}"), file=sys.stderr)
    return EXIT_FAILED if report.failed else EXIT_OK


def _error_text(error: dict[str, Any]) -> str:
    where = [str(error["path"])] + [str(error[k]) for k in ("line", "column") if error.get(k) is not None]
    return f"{':'.join(where)}: {error['message']}"


def _sort(specs: Sequence[str]) -> list[tuple[str, bool]]:
    """``--sort`` values ("quality:desc", also "date:desc,title") as (key, descending) pairs."""
    if not specs:
        return []
    from curator.core.search import parse_sort  # the SQL side of queries, needed only to sort

    try:
        return parse_sort(",".join(specs))
    except ValueError as err:
        raise CliError(f"list: {err}", EXIT_USAGE) from err


def _query(words: Sequence[str] | None) -> str | None:
    # `curator list quality>=50 heat:-1` reads as one query, as in beets: the words are ANDed.
    return " ".join(words) if words else None


def cmd_list(store: Store, args: argparse.Namespace) -> int:
    """Print the cards matching the query, as aligned columns or one JSON object a line."""
    rows = store.rows(_query(args.query), sort=_sort(args.sort), limit=args.limit)
    if args.json:
        for row in rows:
            output.emit_json(output.row_dict(row))
    elif rows:
        print("\n".join(output.card_table(rows)))
    return EXIT_OK


def _find(store: Store, card_id: int, command: str) -> Any:
    detail = store.detail(card_id)
    if detail is None:
        raise CliError(f"{command}: no card with id {card_id}")
    return detail


def cmd_show(store: Store, args: argparse.Namespace) -> int:
    """Print one whole card: list fields, every known field, images, related, pending edits."""
    from curator.core import fields

    detail = _find(store, args.id, "show")
    summary = fields.summarize(detail.data)
    found = fields.problems(detail.data)
    changes = store.last_changes(args.id)  # who set each field's current value (team libraries)
    if args.json:
        output.emit_json(output.detail_dict(detail, summary, found, changes))
    else:
        print("\n".join(output.card_text(detail, summary, found, changes, now=store.now())))
    return EXIT_OK


def cmd_history(store: Store, args: argparse.Namespace) -> int:
    """Print the latest edit batches (undo steps) of every editor, newest first, with who and when."""
    batches = store.history(args.limit)
    if args.json:
        for batch in batches:
            output.emit_json(output.batch_dict(batch))
    else:
        lines = output.history_text(batches, store.batch_titles([b.id for b in batches]), now=store.now())
        if lines:
            print("\n".join(lines))
    return EXIT_OK


def _ids_from(source: str) -> list[int]:
    """The ids in a file (``-``: stdin), one a line; blank lines are skipped."""
    try:
        if source == "-":
            text = sys.stdin.read()
        else:
            with open(source, encoding="utf-8") as f:
                text = f.read()
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise CliError(f"set: --ids-from {source}: {reason}", EXIT_USAGE) from err
    ids = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                ids.append(card_id_value(line))
            except ValueError:
                raise CliError(
                    f"set: --ids-from {source}: line {number}: {shown(line.strip())} is not a card id",
                    EXIT_USAGE,
                ) from None
    return ids


def _target_ids(store: Store, args: argparse.Namespace) -> list[int]:
    if args.query is not None:
        return store.ids(args.query)
    given = _ids_from(args.ids_from) if args.ids_from is not None else args.ids
    ids = list(dict.fromkeys(given))  # keep order, drop repeats
    known = {row.id for row in store.rows_by_id(ids)}
    unknown = [str(i) for i in ids if i not in known]
    if unknown:
        raise CliError(f"set: no card with id {', '.join(unknown)}")
    return ids


def cmd_set(store: Store, args: argparse.Namespace) -> int:
    """Record edits on the chosen cards; print how many changed (or would change with --dry-run)."""
    from curator.cli.assign import parse_assignments

    try:
        assignments = parse_assignments(args.assignments)
    except ValueError as err:
        raise CliError(f"set: {err}", EXIT_USAGE) from err
    ids = _target_ids(store, args)
    items = _related_items(store, assignments)
    if args.dry_run:
        return _dry_run(store, ids, assignments, items)
    changed, notes = _apply(store, ids, assignments, items)
    _print_notes(notes)
    print(f"{len(changed)} {_cards(len(changed))} changed")
    return EXIT_OK


def _related_items(store: Store, assignments: Sequence[Assignment]) -> dict[int, dict[str, Any]]:
    """The related item each ``related+=ID`` adds, built from card ID's current mapping.

    An ID the library does not hold is exit 1 (as ``set --id`` of an unknown card); a card without a
    usable sourceUrl is exit 2 (a value that cannot be set). Both before anything changes.
    """
    from curator.cli.assign import related_item, related_ops

    items: dict[int, dict[str, Any]] = {}
    for op in related_ops(assignments):
        if op.op != "+=" or op.value in items:
            continue
        data = store.current_data(op.value)
        if data is None:
            raise CliError(f"set: related+={op.value}: no card with id {op.value}")
        try:
            items[op.value] = related_item(op.value, data)
        except ValueError as err:
            raise CliError(f"set: {err}", EXIT_USAGE) from err
    return items


def _dry_run(store: Store, ids: list[int], assignments: Sequence[Assignment],
             items: dict[int, dict[str, Any]]) -> int:  # fmt: skip
    """``set --dry-run``: how many cards would change, then the diff `write` would give each file.

    Nothing is recorded. The diff includes the card's other pending edits (it is what `curator write`
    would write after this set); to a pipe it is a patch byte for byte, on a terminal its lines are
    escaped (as `write --dry-run` does).
    """
    from curator.cli.assign import ROW_FIELDS, changes_for, would_change

    rows_only = all(a.field in ROW_FIELDS for a in assignments)
    planned: list[tuple[Any, dict[str, Any]]] = []
    notes: dict[str, list[int]] = {}
    for row in store.rows_by_id(ids):
        if rows_only and not would_change(row, assignments):
            continue  # the row alone says so: no need to read the card's mapping
        plan = changes_for(row.id, store.current_data(row.id) or {}, assignments, items)
        for note in plan.notes:
            notes.setdefault(note, []).append(row.id)
        if plan.changes:
            planned.append((row, plan.changes))
    _print_notes(notes)
    print(f"{len(planned)} {_cards(len(planned))} would change (dry run: nothing recorded)")
    terminal = sys.stdout.isatty()
    for row, changes in planned:
        diff = _planned_diff(store, row.id, row.path, changes)
        if diff:
            sys.stdout.write(output.printable_diff(diff) if terminal else diff)
    return EXIT_OK


def _planned_diff(store: Store, card_id: int, path: str, changes: dict[str, Any]) -> str:
    """The unified diff `write` would give ``path`` once ``changes`` join the card's pending edits."""
    from curator.core import cards, writeback

    wanted = {field: value for field, (_, value) in store.pending(card_id).items()}
    wanted.update(changes)
    try:
        raw, _ = cards.read_bounded(path)
        new = writeback.patch(raw, {k: writeback.DELETE if v is None else v for k, v in wanted.items()}, path)
    except (OSError, cards.CardError, writeback.WriteError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        print(output.printable(f"curator: set: {path}: no diff to show: {reason}"), file=sys.stderr)
        return ""
    return output.unified_diff(path, raw, new) if new != raw else ""


def _print_notes(notes: dict[str, list[int]]) -> None:
    """Why some cards were left alone (a related link already there, ...), one line per reason."""
    for note, card_ids in notes.items():
        who = f"card {card_ids[0]}" if len(card_ids) == 1 else f"{len(card_ids)} cards"
        print(output.printable(f"curator: set: {who}: {note}"), file=sys.stderr)


def _label(changes: dict[str, Any]) -> str:
    """An edit batch's label for the history: ``set quality=60, title='New headline'``."""
    return "set " + ", ".join(f"{k}={shown(v) if isinstance(v, str) else v}" for k, v in changes.items())


def _apply(store: Store, ids: list[int], assignments: Sequence[Assignment],
           items: dict[int, dict[str, Any]]) -> tuple[set[int], dict[str, list[int]]]:  # fmt: skip
    """Record the edits (one batch per kind of change); the changed card ids and the notes."""
    from curator.cli.assign import changes_for, related_ops, scalar_changes, topic_ops

    changed: set[int] = set()
    notes: dict[str, list[int]] = {}
    if not ids:
        return changed, notes
    scalars = scalar_changes(assignments)
    if scalars:
        changed.update(store.set_fields(ids, scalars, label=_label(scalars)).changed)
    for item in topic_ops(assignments):
        if item.op == "+=":
            result = store.add_topic(ids, item.value, label=f"add topic {item.value}")
        else:
            result = store.remove_topic(ids, item.value, label=f"remove topic {item.value}")
        changed.update(result.changed)
    related = related_ops(assignments)
    if related:
        # Each card's list is its own, so cards are grouped by their new list: a bulk related+= on cards
        # that had none is one set_fields call, not one per card.
        groups: dict[str, tuple[list[Any], list[int]]] = {}
        for card_id in ids:
            plan = changes_for(card_id, store.current_data(card_id) or {}, related, items)
            for note in plan.notes:
                notes.setdefault(note, []).append(card_id)
            if "related" in plan.changes:
                value = plan.changes["related"]
                groups.setdefault(output.to_json(value), (value, []))[1].append(card_id)
        label = " ".join(f"related{a.op}{a.value}" for a in related)
        for value, group in groups.values():
            changed.update(store.set_fields(group, {"related": value}, label=label).changed)
    return changed, notes


def _cards(count: int) -> str:
    return "card" if count == 1 else "cards"


def cmd_write(store: Store, args: argparse.Namespace) -> int:
    """Write pending edits to the files (or print their diffs); report conflicts and failures."""
    if args.dry_run:
        dirty = store.count("dirty:true")
        report = store.write(dry_run=True)
        # A dry run writes nothing, so the report has diffs but no counts: derive them.
        report.written = len(report.diffs)
        report.unchanged = max(dirty - report.written - len(report.conflicts) - len(report.failed), 0)
    else:
        report = store.write(progress=output.progress_printer("writing"))
    if args.json:
        result = output.write_dict(report)
        if args.dry_run:
            result["diffs"] = [
                {"path": p, "diff": output.unified_diff(p, old, new)} for p, old, new in report.diffs
            ]
        output.emit_json(result)
    else:
        terminal = sys.stdout.isatty()
        for path, old, new in report.diffs:
            diff = output.unified_diff(path, old, new)
            # To a pipe the diff is a patch, byte for byte; on a terminal its lines are card text to escape.
            sys.stdout.write(output.printable_diff(diff) if terminal else diff)
        # On a dry run stdout is a pure patch (`| patch -p1` works), so the summary goes to stderr.
        for line in output.write_text(report, dry_run=args.dry_run):
            print(line, file=sys.stderr if args.dry_run else sys.stdout)
    if report.conflicts:
        return EXIT_CONFLICT
    return EXIT_FAILED if report.failed else EXIT_OK


def cmd_check(store: Store, args: argparse.Namespace) -> int:
    """List validation problems; with --fix KIND, record fixes for the fixable ones of that kind."""
    if args.fix:
        return _fix(store, _query(args.query), args.fix.strip().lower())
    from curator.core import store_checks

    query = _query(args.query)
    store.refresh_checks()  # the import leaves the checks stale: catch up first
    found = sorted([*store.problems(query), *store_checks.check_problems(store, query)], key=lambda p: p.id)
    if args.json:
        for problem in found:
            output.emit_json(output.problem_dict(problem))
    elif found:
        print("\n".join(output.problem_table(found)))
        fixable = sum(1 for p in found if p.fixable)
        if fixable:
            print(f"{fixable} fixable: curator check [QUERY] --fix KIND (KIND: {', '.join(fix_kinds())})")
    return EXIT_OK


def fix_kinds() -> tuple[str, ...]:
    """Kinds `check --fix` takes: fields.PROBLEM_KINDS, checks.problems.FIXABLE_KINDS, then "all"."""
    from curator.core import fields
    from curator.core.checks import problems as check_kinds

    return (*fields.PROBLEM_KINDS, *check_kinds.FIXABLE_KINDS, "all")


def _fix(store: Store, query: str | None, kind: str) -> int:
    from curator.core import fields

    kinds = fix_kinds()
    if kind not in kinds:
        raise CliError(f"check: unknown problem kind {kind!r} (one of: {', '.join(kinds)})", EXIT_USAGE)
    from curator.core import store_checks
    from curator.core.checks import problems as check_kinds

    changed: set[int] = set()
    store.refresh_checks()
    wanted = {p.id for p in store.problems(query) if p.fixable}
    if kind == "all" or kind in check_kinds.FIXABLE_KINDS:
        wanted |= {p.id for p in store_checks.check_problems(store, query) if p.fixable}
    for card_id in sorted(wanted):
        data = store.current_data(card_id)
        plain = kind in check_kinds.FIXABLE_KINDS
        changes = {} if plain else fields.fix_all(data or {}, None if kind == "all" else kind)
        if kind == "all" or kind in check_kinds.FIXABLE_KINDS:
            # The checks' fixes over the fields' ones: both are top-level changes of the current mapping.
            base = {**(data or {}), **changes}
            from_checks = check_kinds.fix_all(base, None if kind == "all" else kind,
                                              context=store_checks.card_context(store, card_id))
            changes.update(from_checks)
        if changes:
            # Fixes differ from card to card, so each card is its own set_fields call.
            changed.update(store.set_fields([card_id], changes, label=f"fix {kind} problems").changed)
    count = len(changed)
    print(f"{count} {_cards(count)} changed (the fixes are pending: `curator write` saves them)")
    return EXIT_OK


def cmd_dupes(store: Store, args: argparse.Namespace) -> int:
    """Print duplicate and copy groups (whole groups with a card matching the query), one a line."""
    store.refresh_checks()  # the import only stores cards: the checks catch up here
    for group in store.duplicate_groups(_query(args.query)):
        if args.json:
            output.emit_json({"kind": group.kind, "ids": list(group.ids), "canonical": group.canonical})
        else:
            ids = " ".join(str(i) for i in group.ids)
            print(f"{group.kind:<4}  {ids}" + (f"  {group.canonical}" if group.canonical else ""))
    return EXIT_OK


def cmd_related(store: Store, args: argparse.Namespace) -> int:
    """Print a card's related items, or with --suggest the library's other coverage of its story."""
    detail = _find(store, args.id, "related")
    if not args.suggest:
        for item in detail.related:
            if args.json:
                output.emit_json(item)
            else:
                print(f"{item.get('title') or ''}  {item.get('sourceUrl') or ''}".strip())
        return EXIT_OK
    if args.limit < 1:
        raise CliError(f"related: --limit must be 1 or more, not {args.limit}", EXIT_USAGE)
    store.refresh_checks()
    suggestions = store.suggest_related(args.id, args.limit)
    rows = {row.id: row for row in store.rows_by_id([s.id for s in suggestions])}
    for suggestion in suggestions:
        row = rows[suggestion.id]
        found = {"id": row.id, "title": row.title, "provider": row.provider, "published_at": row.published_at,
                 "score": round(suggestion.score, 3)}
        if args.json:
            output.emit_json(found)
        else:
            print(f"{row.id:>6}  {found['score']:.3f}  {row.provider or '-'}  {row.published_at or '-'}  "
                  f"{row.title or ''}")
    return EXIT_OK


def cmd_gui(args: argparse.Namespace) -> int:
    """Hand over to the desktop app, imported only now (the CLI never needs Qt otherwise)."""
    try:
        # import_module, not `from curator.gui import app`: it honours sys.modules (tests swap the app).
        app = importlib.import_module("curator.gui.app")
    except ImportError as err:
        if err.name and (err.name.startswith("curator.gui") or err.name.startswith("PySide6")):
            raise CliError("gui: the desktop app is not available yet") from err
        raise
    resume_gc()  # Qt's modules are in; the desktop app's session collects as usual
    # PATH: cards to import on start; the library: --db or $CURATOR_DB when given, else the app's last one.
    db = args.db or os.environ.get("CURATOR_DB") or None
    return int(app.run(getattr(args, "path", None), db=db))


COMMANDS: dict[str, Command] = {
    "import": cmd_import,
    "list": cmd_list,
    "show": cmd_show,
    "history": cmd_history,
    "set": cmd_set,
    "write": cmd_write,
    "check": cmd_check,
    "dupes": cmd_dupes,
    "related": cmd_related,
}
