"""Writing pending edits to card files, and taking the written files back into the library."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable
from typing import Any

from curator.core import cards, writeback
from curator.core.store_rows import card_record, update_records
from curator.core.store_types import WriteReport


def _base_data(conn: Any, card_id: int) -> dict[str, Any]:
    """The mapping the file held when it was read (what the pending edits were made against)."""
    return json.loads(conn.execute("SELECT doc FROM card_doc WHERE card_id = ?", (card_id,)).fetchone()[0])


def _changes(conn: Any, card_id: int) -> dict[str, Any]:
    """The pending values of one card as writeback changes (None: remove the key)."""
    rows = conn.execute("SELECT field, value FROM pending_edit WHERE card_id = ?", (card_id,))
    changes: dict[str, Any] = {}
    for field, text in rows:
        value = json.loads(text)
        changes[field] = writeback.DELETE if value is None else value
    return changes


def _take_back(store: Any, card_id: int, path: str) -> None:
    """After a successful write: the file is the new base, no edits are pending, the row is refreshed."""
    card, _ = cards.read_card(path)
    record = card_record(path, card.state, card.data, store.now())
    conn = store.connection()
    with store.db.atomic("IMMEDIATE"):
        update_records(conn, [(card_id, record)])
        conn.execute("DELETE FROM pending_edit WHERE card_id = ?", (card_id,))
        conn.execute("UPDATE card SET dirty = 0 WHERE id = ?", (card_id,))


def write(
    store: Any,
    ids: Iterable[int] | None = None,
    *,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> WriteReport:
    """Write every dirty card (of ``ids``, when given) to its file.

    Conflicts (the file no longer holds the bytes the edits were based on) and failures (no permission, a
    patch that does not verify) keep their edits and are reported; a conflict also marks the card.
    ``dry_run`` writes nothing and changes nothing in the library: ``report.diffs`` holds each file's
    (path, old bytes, new bytes). ``cancel()`` is asked between files.
    """
    conn = store.connection()
    sql = "SELECT id, path, size, mtime_ns, sha256, missing FROM card WHERE dirty = 1"
    todo = conn.execute(sql + " ORDER BY path").fetchall()
    if ids is not None:
        wanted = set(ids)
        todo = [row for row in todo if row[0] in wanted]
    report = WriteReport()
    folders: set[str] = set()
    for done, (card_id, path, size, mtime_ns, sha256, missing) in enumerate(todo):
        if cancel is not None and cancel():
            report.cancelled = True
            break
        if missing:
            report.failed.append({"path": path, "reason": "the file is missing"})
        else:
            base = cards.FileState(size=size, mtime_ns=mtime_ns, sha256=sha256)
            _write_one(store, card_id, path, base, dry_run, report)
            folders.add(os.path.dirname(path))
        if progress is not None:
            progress(done + 1, len(todo))
    if not dry_run:
        for folder in sorted(folders):
            try:
                writeback.remove_stale_temps(folder)
            except OSError:
                pass  # a folder we cannot list holds no temp file of ours worth failing the write for
    return report


def _write_one(store: Any, card_id: int, path: str, base: cards.FileState, dry_run: bool, report: WriteReport) -> None:
    conn = store.connection()
    try:
        outcome = writeback.write_changes(
            path, base, _changes(conn, card_id), dry_run=dry_run, base_data=_base_data(conn, card_id)
        )
    except writeback.ConflictError as e:
        report.conflicts.append({"path": path, "reason": e.reason})
        if not dry_run:
            with store.db.atomic():
                conn.execute("UPDATE card SET conflict = 1 WHERE id = ?", (card_id,))
        return
    except writeback.WriteError as e:
        report.failed.append({"path": path, "reason": e.reason})
        return
    except OSError as e:
        report.failed.append({"path": path, "reason": e.strerror or str(e)})
        return
    if dry_run:
        if outcome.new != outcome.old:
            report.diffs.append((path, outcome.old, outcome.new))
        return
    if outcome.status == "written":
        report.written += 1
    elif outcome.status == "already":
        report.already += 1
    else:
        report.unchanged += 1
    try:
        _take_back(store, card_id, path)
    except cards.CardError as e:
        # Written and verified by writeback, yet unreadable now: someone changed it in between.
        report.failed.append({"path": path, "reason": f"written, but could not be read back: {e.message}"})
