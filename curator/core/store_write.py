"""Writing pending edits to card files, and taking the written files back into the library."""

from __future__ import annotations

import errno
import json
import os
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, NamedTuple

from curator.core import cards, writeback
from curator.core.store_rows import dumps
from curator.core.store_types import WriteReport

#: Written cards recorded as clean per transaction. A transaction per card cost more than the card's own
#: fsync; and a crash between a rename and its batch's commit leaves edits whose file already holds them,
#: which the next write recognises ("already") and simply marks clean.
TAKE_BACK_BATCH = 200
#: Threads patching and replacing files at once (fsync waits on the disk, not on the GIL).
WRITE_THREADS = 4


class _Written(NamedTuple):
    """A card whose file now holds its pending values: what the library must record."""

    card_id: int
    folder: str
    state: cards.FileState
    doc: str  # JSON of the mapping the file now holds


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


def _applied(data: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` with the changes made: the mapping write_changes verified the new file reads back as."""
    result = dict(data)
    for key, value in changes.items():
        if value is writeback.DELETE:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def _take_back(store: Any, written: list[_Written]) -> None:
    """Record written files as the new base: no edits pending, fingerprints and mapping refreshed.

    The card's columns, child rows and full-text row already hold these values (they are the current
    ones), and writeback proved the file reads back as exactly them, so nothing is parsed again. The
    folders are fsynced first: the library may forget an edit only once its file's rename is durable.
    """
    if not written:
        return
    for folder in sorted({w.folder for w in written}):
        writeback.fsync_dir(folder)
    conn = store.connection()
    with store.db.atomic("IMMEDIATE"):
        conn.executemany(
            "UPDATE card SET size = ?, mtime_ns = ?, sha256 = ?, dirty = 0, conflict = 0, missing = 0 "
            "WHERE id = ?",
            [(w.state.size, w.state.mtime_ns, w.state.sha256, w.card_id) for w in written],
        )
        conn.executemany(
            "UPDATE card_doc SET doc = ? WHERE card_id = ?", [(w.doc, w.card_id) for w in written]
        )
        conn.executemany("DELETE FROM pending_edit WHERE card_id = ?", [(w.card_id,) for w in written])


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

    Files are patched and replaced on a few threads (each file on its own): one file's fsync waits on
    the disk while the next is being patched. The library is read and changed on this thread only, and
    results are settled in path order.
    """
    conn = store.connection()
    sql = "SELECT id, path, size, mtime_ns, sha256, missing FROM card WHERE dirty = 1"
    todo = conn.execute(sql + " ORDER BY path").fetchall()
    if ids is not None:
        wanted = set(ids)
        todo = [row for row in todo if row[0] in wanted]
    report = WriteReport()
    folders: set[str] = set()
    written: list[_Written] = []
    # (card id, path, the write in progress, its changes, its base mapping), in path order
    in_flight: deque[tuple[int, str, Future[writeback.WriteOutcome], dict[str, Any], dict[str, Any]]]
    in_flight = deque()
    settled = 0

    def settle_one() -> None:
        nonlocal written, settled
        card_id, path, future, changes, base_data = in_flight.popleft()
        done_one = _settle(store, card_id, path, future, changes, base_data, dry_run, report)
        if done_one is not None:
            written.append(done_one)
            if len(written) >= TAKE_BACK_BATCH:
                _take_back(store, written)
                written = []
        settled += 1
        if progress is not None:
            progress(settled, len(todo))

    with ThreadPoolExecutor(max_workers=WRITE_THREADS) as pool:
        try:
            for card_id, path, size, mtime_ns, sha256, missing in todo:
                if cancel is not None and cancel():
                    report.cancelled = True
                    break
                if missing:
                    in_flight.append((card_id, path, _missing_future(), {}, {}))
                else:
                    changes, base_data = _changes(conn, card_id), _base_data(conn, card_id)
                    base = cards.FileState(size=size, mtime_ns=mtime_ns, sha256=sha256)
                    # The folder is fsynced once per batch in _take_back, not once per file.
                    future = pool.submit(writeback.write_changes, path, base, changes, dry_run=dry_run,
                                         base_data=base_data, sync_dir=False)  # fmt: skip
                    in_flight.append((card_id, path, future, changes, base_data))
                    folders.add(os.path.dirname(path))
                while len(in_flight) > 2 * WRITE_THREADS:
                    settle_one()
            while in_flight:
                settle_one()
        finally:
            for *_, future, _, _ in in_flight:  # an error: let the files in flight finish, keep their report
                future.cancel()
            _take_back(store, written)  # the files written so far are written
    if not dry_run:
        for folder in sorted(folders):
            try:
                writeback.remove_stale_temps(folder)
            except OSError:
                pass  # a folder we cannot list holds no temp file of ours worth failing the write for
    return report


def _missing_future() -> Future[writeback.WriteOutcome]:
    future: Future[writeback.WriteOutcome] = Future()
    future.set_exception(FileNotFoundError(errno.ENOENT, "the file is missing"))
    return future


def _settle(
    store: Any, card_id: int, path: str, future: Future[writeback.WriteOutcome], changes: dict[str, Any],
    base_data: dict[str, Any], dry_run: bool, report: WriteReport,
) -> _Written | None:  # fmt: skip
    """Report one card's write; returns what to record when its file now holds the pending values."""
    try:
        outcome = future.result()
    except writeback.ConflictError as e:
        report.conflicts.append({"path": path, "reason": e.reason})
        if not dry_run:
            with store.db.atomic():
                store.connection().execute("UPDATE card SET conflict = 1 WHERE id = ?", (card_id,))
        return None
    except writeback.WriteError as e:
        report.failed.append({"path": path, "reason": e.reason})
        return None
    except OSError as e:
        report.failed.append({"path": path, "reason": e.strerror or str(e)})
        return None
    if dry_run:
        if outcome.new != outcome.old:
            report.diffs.append((path, outcome.old, outcome.new))
        return None
    if outcome.status == "written":
        report.written += 1
    elif outcome.status == "already":
        report.already += 1
    else:
        report.unchanged += 1
    return _Written(card_id, os.path.dirname(path), outcome.state, dumps(_applied(base_data, changes)))
