"""Import and rescan: walk paths, fingerprint files, parse what changed (in a process pool), upsert.

A rescan costs about one ``stat`` per file: a file whose size and mtime match the library is not opened.
Only when they differ is it read and hashed; the same sha256 just refreshes the mtime, a different one is
parsed again and updated in place (the card keeps its id). Parsing runs in worker processes when there are
many files, and each worker also builds the stored record (``store_rows.card_record``), so the main process
only stats, batches and hands the records to the backend's bulk paths.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import multiprocessing
import operator
import os
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import nullcontext, suppress
from typing import Any, cast

from curator.core import cards, fields, rescan_walk
from curator.core.backend.base import Backend, Known, stamp_key, stamp_parts
from curator.core.store_rows import (
    FILE_COLUMNS,
    CardRecord,
    fts_values,
    image_rows,
    parsed_doc,
    related_rows,
    summary_columns,
)
from curator.core.store_types import ImportReport
from curator.core.team_locks import exclusive

__all__ = ["ImportReport", "import_paths", "walk"]

#: Below this many files to read, parsing runs inline: starting workers would cost more than it saves.
POOL_THRESHOLD = 200
#: Paths sent to a worker at a time (big enough to amortise pickling, small enough to balance the load).
CHUNK = 250
#: Cards stored per transaction: bigger batches amortise the commit (FTS5 flushes its pending terms then).
#: An import of more files than this runs in the backend's bulk-import mode.
BATCH = 4000

# A worker's answer about one file: ("same", path, state) when its bytes are the known ones,
# ("card", path, tuple(record)) when parsed, ("error", path, (line, column, message)) when it is not a card.
# The record travels as a plain tuple: pickling the named tuple cost twice as much in the worker (it is
# rebuilt by class reference, through a Python-level __new__), and the parent re-labels it in C.
Loaded = tuple[str, str, Any]
#: A plain tuple of CardRecord's fields as a CardRecord, without a Python-level call per card.
_as_record = cast(Callable[[tuple[Any, ...]], CardRecord], functools.partial(tuple.__new__, CardRecord))
#: What a rescan compares: a file's (size, mtime_ns).
Stamp = tuple[int, int]


#: A card the library holds: (id, size, mtime_ns). A bare tuple, because a rescan builds one per card and
#: a named one cost a tenth of a 100k-card rescan.
_Known = Known


def walk(paths: Iterable[str | os.PathLike[str]]) -> tuple[dict[str, Stamp], list[str], list[str]]:
    """Find card files under ``paths``: ({path: (size, mtime_ns)}, the folders walked, the absent paths).

    Dotfiles and dot-folders are skipped (so are write-back's ``.NAME.curator-tmp-*`` files); folder
    links are not followed (no cycles). Paths are absolute but not resolved through links. (A rescan
    walks the same way but keeps each file as a ``stamp_key``; see :func:`_walk_keys`.)
    """
    folders, keys, absent = _given(paths)
    _walk_keys(folders, keys, False)
    found: dict[str, Stamp] = {}
    for key in keys:
        path, size, mtime_ns = stamp_parts(key)
        found[path] = (size, mtime_ns)
    return found, folders, absent


def _given(paths: Iterable[str | os.PathLike[str]]) -> tuple[list[str], list[str], list[str]]:
    """The paths given to an import, absolute: (the folders, the keys of the other files, the absent)."""
    folders: list[str] = []
    keys: list[str] = []
    absent: list[str] = []
    for given in paths:
        root = os.path.abspath(given)
        if os.path.isdir(root):
            folders.append(root)
            continue
        try:
            st = os.stat(root)
        except OSError:  # absent, or a dangling link
            absent.append(root)
            continue
        # Any other kind of file named on its own is read, and refused with a reason ("a FIFO").
        keys.append(stamp_key(root, st.st_size, st.st_mtime_ns))
    return folders, keys, absent


#: Card files a walk finds on its own before it decides whether to share the rest with a helper process
#: (see _walk_keys): by then it knows how many entries a byte of a folder holds here.
SPLIT_AFTER = 4000
#: The fewest entries the helper's share must hold, by that estimate, for a walk to start one: a helper
#: costs ~10 ms of CPU and ~20 ms of wall time to start (a fresh interpreter), in which this process stats
#: ~5,000 files; a smaller share is walked here sooner (at 10k files the split made the rescan slower).
MIN_SHARE = 10_000


def _walk_keys(folders: list[str], keys: list[str], split: bool) -> None:
    """Add the ``stamp_key`` of every card file under ``folders`` to ``keys`` (``rescan_walk.walk_stack``).

    A rescan of 100k unchanged files is a stat of each, and the Python loop around the stats costs
    about as much again, so a big walk runs on both cores: with ``split`` (see :func:`_may_split`), once
    SPLIT_AFTER files are found and at least two folders remain, the folders left are shared out
    (:func:`_shares`), and when the helper's share holds at least MIN_SHARE entries (estimated from the
    folders' sizes and the entries a byte held so far), a helper process walks it, folders and all below
    them, while this process walks the other. Each folder is listed once, by one of the two (when both
    listed every folder and split the stats by the names' hash, the second listing was a sixth of the
    rescan's CPU at 100k). The helper's keys come back through an anonymous memory file; a helper that
    fails (killed, no memory, not started) is replaced by walking its folders here, so its files are
    never lost.
    """
    suffixes = cards.CARD_SUFFIXES
    stack = [(folder, rescan_walk.FOLDER_FLAGS) for folder in reversed(folders)]
    if not split:
        rescan_walk.walk_stack(stack, keys, suffixes)
        return
    listed = [0, 0]  # the entries listed so far, and the bytes of the folders that held them
    rescan_walk.walk_stack(stack, keys, suffixes, until=SPLIT_AFTER, listed=listed)
    mine, theirs, weight = _shares(stack, listed[1])
    worth = bool(theirs) and listed[1] > 0 and weight * listed[0] >= MIN_SHARE * listed[1]
    helper = _Helper.start(theirs) if worth else None
    if helper is None:
        rescan_walk.walk_stack(stack, keys, suffixes)
        return
    try:
        rescan_walk.walk_stack(mine, keys, suffixes)
        found = helper.keys()
    finally:
        helper.close()
    if found is None:
        rescan_walk.walk_stack(helper.stack, keys, suffixes)
    else:
        keys.extend(found)


Shares = tuple[list[tuple[str, int]], list[tuple[str, int]], int]


def _shares(stack: list[tuple[str, int]], done: int) -> Shares:
    """The folders on ``stack`` in two shares of about the same number of entries, counting the ``done``
    bytes of folders this process has listed already as its own: (this process's share, the helper's,
    the helper's bytes). A folder's size (one ``lstat`` each, of the few folders left when the walk
    splits) stands for how many entries it lists (ext4, XFS, Btrfs and tmpfs grow a folder's size with
    its entries); each folder, biggest first, goes to the share that is smaller so far. What lies below a
    folder is not known yet and goes with it."""
    weighed = []
    for folder, flags in stack:
        try:
            size = os.stat(folder, follow_symlinks=False).st_size
        except OSError:
            size = 0  # gone or unreadable: the walk that lists it finds out
        weighed.append((size, folder, flags))
    weighed.sort(key=lambda item: item[0], reverse=True)
    mine: list[tuple[str, int]] = []
    theirs: list[tuple[str, int]] = []
    totals = [done, 0]
    for size, folder, flags in weighed:
        which = 0 if totals[0] <= totals[1] else 1
        (mine, theirs)[which].append((folder, flags))
        totals[which] += size
    return mine, theirs, totals[1]


def _may_split() -> bool:
    """Whether a walk may share its folders with a helper process: on Linux (anonymous memory files, the
    walk through descriptors), run by a Python interpreter (a frozen bundle's executable is Curator
    itself, which cannot run the helper's script).

    The helper is a fresh interpreter (rescan_walk.command), started by the ``vfork`` + ``exec`` of
    ``subprocess``, which copies nothing of this process: safe from any thread (the GUI imports on a
    worker thread, and the library's stamps are read on a thread meanwhile).
    """
    return (
        sys.platform.startswith("linux") and rescan_walk.BY_FD and hasattr(os, "memfd_create")
        and not getattr(sys, "frozen", False) and bool(sys.executable)
    )  # fmt: skip


class _Helper:
    """A helper process walking its share of the folders left when a walk split (see :func:`_walk_keys`),
    reading them from one memory file and writing its keys to another, which this process reads once it
    has exited."""

    def __init__(self, process: subprocess.Popen[bytes], out_fd: int, stack: list[tuple[str, int]]) -> None:
        self.process = process
        self.out_fd = out_fd
        self.stack = stack  # what it was given: walked here instead if it fails
        self.done = False

    @classmethod
    def start(cls, stack: list[tuple[str, int]]) -> _Helper | None:
        """Start a helper on ``stack``; None when none can be started (the walk then stays in this one)."""
        fds: list[int] = []
        try:
            fds.append(in_fd := os.memfd_create("curator-walk-in", os.MFD_CLOEXEC))
            fds.append(out_fd := os.memfd_create("curator-walk-out", os.MFD_CLOEXEC))
            view = memoryview(rescan_walk.encode_stack(stack))
            while view:
                view = view[os.write(in_fd, view) :]
            process = subprocess.Popen(
                rescan_walk.command(sys.executable, in_fd, out_fd, cards.CARD_SUFFIXES),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                pass_fds=(in_fd, out_fd),
            )  # fmt: skip
        except (OSError, ValueError, subprocess.SubprocessError):
            for fd in fds:
                os.close(fd)
            return None
        os.close(in_fd)  # the helper has its own copy
        return cls(process, out_fd, list(stack))

    def keys(self) -> list[str] | None:
        """The helper's keys once it has exited; None if it failed (its share is then walked here).

        Its output counts only when whole (``rescan_walk.DONE`` at its end): an exit status alone can
        be lost (a process that ignores SIGCHLD reads every child's as 0)."""
        code = self.process.wait()
        self.done = True
        if code != 0:
            return None
        size = os.fstat(self.out_fd).st_size
        data = bytearray()
        while len(data) < size:
            chunk = os.pread(self.out_fd, size - len(data), len(data))
            if not chunk:
                return None
            data += chunk
        return rescan_walk.decode_keys(bytes(data))

    def close(self) -> None:
        """Release the memory file; a helper still running (this walk failed) is killed and reaped."""
        if not self.done:
            with suppress(OSError):
                self.process.kill()
            with suppress(OSError, subprocess.SubprocessError):
                self.process.wait()
            self.done = True
        os.close(self.out_fd)


class _Stamps:
    """The library's ``known_stamps`` under a rescan's roots, read on a thread of its own while the walk
    runs (a SQLite backend reads them in statements that hold no GIL while they step), or by ``result()``
    on the caller's thread when never started."""

    def __init__(self, backend: Backend, roots: list[str]) -> None:
        self.backend = backend
        self.roots = roots
        self.thread: threading.Thread | None = None
        self.value: set[str] = set()
        self.error: BaseException | None = None

    def start(self) -> None:
        if self.thread is None:
            self.thread = threading.Thread(target=self._read, name="curator-rescan-stamps", daemon=True)
            self.thread.start()

    def _read(self) -> None:
        try:
            self.value = self.backend.known_stamps(self.roots)
        except BaseException as e:  # noqa: BLE001 - raised again on the importing thread, by result()
            self.error = e
        finally:
            with suppress(Exception):
                self.backend.close()  # this thread's connection (it ends with the thread)

    def result(self) -> set[str]:
        if self.thread is None:
            return self.backend.known_stamps(self.roots)
        self.thread.join()
        if self.error is not None:
            raise self.error
        return self.value

    def join(self) -> None:
        if self.thread is not None:
            self.thread.join()


def storable_path(path: str) -> bool:
    """Whether the library can hold ``path``: a name that is not valid UTF-8 reaches Python with lone
    surrogates standing for its bytes (os.fsdecode), which a text column cannot store."""
    try:
        path.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def shown_path(path: str) -> str:
    """``path`` as an editor can read it: the bytes a name holds that are not UTF-8 as ``\\xNN``."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


#: What an error for a file whose name is not UTF-8 says.
BAD_NAME = "the file name is not valid UTF-8, so the library cannot hold it; rename the file"
#: The start of what an error for a file Curator failed on unexpectedly says (a bug, not the file's fault).
INTERNAL = "an internal error stopped Curator on this file (please report it)"


def _load(path: str, known_sha: str | None, now: float) -> Loaded:
    """Read one file: skip the parse when its bytes still hash to ``known_sha``; never raises."""
    try:
        if not storable_path(path):
            return ("error", shown_path(path), (None, None, BAD_NAME))
        raw, st = cards.read_bounded(path)  # regular files only, at most the size cap: no FIFO hangs
        digest = hashlib.sha256(raw).hexdigest()
        if digest == known_sha:
            return ("same", path, (st.st_size, st.st_mtime_ns))
        card = cards.parse_card(raw, path)
        state = cards.FileState(len(raw), st.st_mtime_ns, digest)
        return ("card", path, _record(path, state, card, now))
    except cards.CardError as e:
        return ("error", path, (e.line, e.column, e.message))
    except OSError as e:
        return ("error", path, (None, None, f"cannot read the file: {e.strerror or e}"))
    except Exception as e:  # noqa: BLE001 - one file's trouble stays that file's, whatever it is
        return ("error", path, (None, None, f"{INTERNAL}: {type(e).__name__}: {e}"))


#: The summary columns of a card row (FILE_COLUMNS after the file's own four), picked from
#: ``summary_columns`` in one C call rather than a generator's step each.
_summary_values = operator.itemgetter(*FILE_COLUMNS[4:21])


def _record(path: str, state: cards.FileState, card: cards.Card, now: float) -> tuple[Any, ...]:
    """``store_rows.card_record`` of a card just read, as a plain tuple (what a worker sends back).

    The same record, built with what the reader knows: when it saw no number kept as text in the
    values (``card.number_text``), the summary does not look for one (tests/core/test_import_fastpaths.py
    holds it equal to card_record's).
    """
    data, doc = parsed_doc(card.data)
    # parsed_doc hands back other values only when some had to be made storable: then look again.
    summary = fields.summarize(data, number_text=card.number_text or data is not card.data)
    cols = summary_columns(summary)
    values = (
        path, state.size, state.mtime_ns, state.sha256,
        *_summary_values(cols),
        len(summary.problems), now,
    )  # fmt: skip
    return (values, doc, list(summary.topics), image_rows(summary), related_rows(summary), fts_values(summary))


def _load_chunk(chunk: Sequence[tuple[str, str | None]], now: float) -> list[Loaded]:
    """Load a chunk of files with the cyclic garbage collector paused.

    A card's parse allocates some 400 nodes and values, so the collector ran about every other card, its
    older generations walking the chunk's results (measured: 5-10% of a worker's time). What a parse
    builds is freed by reference counting (nodes point only to their children; records are tuples and
    lists); anything cyclic waits for the collector's next run once it is restored after the chunk, or in
    a parse worker, where it stays off (``_start_worker``), for the next chunk's start. (Run inline, for a
    small import, this pauses the importing process's collector for one chunk's parse.)
    """
    enabled = gc.isenabled()
    gc.disable()
    if _in_worker:
        gc.collect(0)  # anything cyclic the last chunk left: its results are sent and freed by now
    try:
        return [_load(path, sha, now) for path, sha in chunk]
    finally:
        if enabled:
            gc.enable()


#: Whether this process is a parse worker (``_start_worker`` ran in it).
_in_worker = False


def _start_worker() -> None:
    """A parse worker's start: the cyclic garbage collector off for the worker's life.

    Restored after each chunk, it ran while the chunk's results were pickled for the parent and walked
    them all (measured with it off: ~10% less CPU in the workers at 20k cards). Each chunk begins with a
    collection of the youngest generation instead, which finds what the last one left cyclic, if
    anything, and little else: the last chunk's results are gone by then.
    """
    global _in_worker
    gc.disable()
    _in_worker = True


def pool_context() -> multiprocessing.context.BaseContext:
    """How to start worker processes (parsing, and store_write's writing): fork when safe, else a fork server.

    Fork is cheapest and needs no importable main module, but forking a process with other threads
    running (the GUI imports from a worker thread, beside Qt's threads) can deadlock the child on a lock
    some other thread held. So fork only from the main thread of a single-threaded process (the CLI, the
    tests); otherwise a fork server, started clean, forks the workers.
    """
    methods = multiprocessing.get_all_start_methods()
    alone = threading.active_count() == 1 and threading.current_thread() is threading.main_thread()
    if alone and "fork" in methods:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload([__name__])
        return ctx
    return multiprocessing.get_context("spawn")


class _Importer:
    """One run of import_paths: the report and the rows waiting for the next transaction."""

    def __init__(self, store: Any, known: dict[str, _Known], dirty: set[int]) -> None:
        self.store = store
        self.known = known
        self.dirty = dirty  # ids of the cards with pending edits
        self.report = ImportReport()
        self.batch: list[Loaded] = []

    def take(self, loaded: Iterable[Loaded]) -> None:
        self.batch.extend(loaded)
        if len(self.batch) >= BATCH:
            self.flush()

    def fail(self, path: str, message: str, line: int | None = None, column: int | None = None) -> None:
        """Report one file that could not be imported."""
        self.report.failed += 1
        self.report.errors.append({"path": path, "line": line, "column": column, "message": message})

    def flush(self) -> None:
        if not self.batch:
            return
        backend: Backend = self.store.backend
        report = self.report
        with backend.transaction():
            new: list[tuple[str, CardRecord]] = []
            updates: list[tuple[str, int, CardRecord]] = []
            same: list[tuple[int, int, int]] = []
            conflicts: list[int] = []
            for kind, path, payload in self.batch:
                known = self.known.get(path)
                if kind == "error":
                    line, column, message = payload
                    self.fail(path, message, line, column)
                elif kind == "same":
                    assert known is not None  # a worker says "same" only for a sha256 the library gave it
                    same.append((*payload, known[0]))
                    report.unchanged += 1
                elif known is None:
                    new.append((path, _as_record(payload)))
                    report.added += 1
                elif known[0] in self.dirty:
                    # Keep the pending edits and the base they were made against: write-back's conflict
                    # check needs that base, and the editor resolves the conflict.
                    conflicts.append(known[0])
                    report.conflicts.append(path)
                else:
                    updates.append((path, known[0], _as_record(payload)))
                    report.updated += 1
            backend.refresh_stamps(same)
            backend.mark_conflicts(conflicts)
            self.store_records(backend, new, updates)
        self.batch = []

    def store_records(self, backend: Backend, new: list[tuple[str, CardRecord]],
                      updates: list[tuple[str, int, CardRecord]]) -> None:
        """Insert and update the batch's cards; a card the library refuses costs only itself.

        card_record makes every value storable, so the batch's statements succeed; should one still fail
        (a bug), the batch is rolled back to a savepoint and stored card by card, and each card that
        fails again is reported as an error for its file. Errors of the library itself (disk full,
        locked: ``backend.is_library_failure``) are nobody's file's and stop the import as before.
        """
        try:
            with backend.transaction():  # a savepoint inside the batch's transaction
                _store(backend, new, updates)
        except Exception as e:
            if backend.is_library_failure(e):
                raise
            self._store_singly(backend, new, updates)

    def _store_singly(self, backend: Backend, new: list[tuple[str, CardRecord]],
                      updates: list[tuple[str, int, CardRecord]]) -> None:
        for path, record in new:
            self._store_one(backend, path, [(path, record)], [])
        for path, card_id, record in updates:
            self._store_one(backend, path, [], [(path, card_id, record)])

    def _store_one(self, backend: Backend, path: str, new: list[tuple[str, CardRecord]],
                   updates: list[tuple[str, int, CardRecord]]) -> None:
        try:
            with backend.transaction():
                _store(backend, new, updates)
        except Exception as e:
            if backend.is_library_failure(e):
                raise
            if new:
                self.report.added -= 1
            else:
                self.report.updated -= 1
            self.fail(path, f"{INTERNAL}: the library could not store it ({type(e).__name__}: {e})")

    def remove_vanished(self, seen: dict[str, Any]) -> None:
        """Cards under the roots whose files are gone: delete them, or mark them missing if edited."""
        gone = [(p, k) for p, k in self.known.items() if p not in seen and not os.path.lexists(p)]
        if not gone:
            return
        backend: Backend = self.store.backend
        with backend.transaction():
            backend.delete_cards([k[0] for _, k in gone if k[0] not in self.dirty])
            backend.mark_missing([k[0] for _, k in gone if k[0] in self.dirty])
        self.report.removed += len(gone)
        self.report.missing.extend(sorted(p for p, k in gone if k[0] in self.dirty))


def _store(backend: Backend, new: list[tuple[str, CardRecord]],
           updates: list[tuple[str, int, CardRecord]]) -> None:
    backend.update_cards([(card_id, record) for _, card_id, record in updates])
    backend.insert_cards([record for _, record in new])  # the backend allocates their ids


def _in_flight(workers: int) -> int:
    """Chunks submitted ahead of the one being settled: enough that the workers stay busy through a
    whole flush (BATCH cards stored while the parent takes no result) and then some.

    With 4 a worker (2,000 cards with two workers, half a batch) the workers could run dry while the
    parent stored a batch, and wait for it idle; results held meanwhile cost ~3 KB a card.
    """
    return BATCH // CHUNK + 4 * workers


def _pooled(
    chunks: list[list[tuple[str, str | None]]], now: float, workers: int | None, run: _Importer,
    settle: Callable[[list[Loaded]], None], cancel: Callable[[], bool] | None,
) -> list[list[tuple[str, str | None]]]:  # fmt: skip
    """Parse chunks in worker processes, settling results in order; returns the chunks left unparsed.

    If the pool breaks (a worker killed, or no importable main module for the fork server), the chunks
    not yet settled are handed back to be parsed inline: a broken pool must not lose an import.
    """
    # The parent's collector paused too while the results stream in: its thread unpickling them and the
    # batches held for the library are some 100 objects a card, which every run walked (measured: ~10%
    # of the parent's CPU). What the import builds is acyclic; the collector is back for what follows.
    # Only in a process of one thread (the CLI): the GUI imports beside its own threads, whose garbage
    # must not wait for the end of an import.
    enabled = gc.isenabled()
    if threading.active_count() == 1:
        gc.disable()
    try:
        return _pooled_run(chunks, now, workers, run, settle, cancel)
    finally:
        if enabled:
            gc.enable()


def _pooled_run(
    chunks: list[list[tuple[str, str | None]]], now: float, workers: int | None, run: _Importer,
    settle: Callable[[list[Loaded]], None], cancel: Callable[[], bool] | None,
) -> list[list[tuple[str, str | None]]]:  # fmt: skip
    """:func:`_pooled`'s run, with the collector paused."""
    n = max(1, min(workers or os.cpu_count() or 1, len(chunks)))
    left = deque(chunks)
    with ProcessPoolExecutor(max_workers=n, mp_context=pool_context(), initializer=_start_worker) as pool:
        queue: deque[Future[list[Loaded]]] = deque()
        settled = 0
        try:
            while left and len(queue) < _in_flight(n):
                queue.append(pool.submit(_load_chunk, left[0], now))
                left.popleft()
            while queue:
                if cancel is not None and cancel():
                    run.report.cancelled = True
                    pool.shutdown(cancel_futures=True)
                    return []
                result = queue.popleft().result()
                if left:
                    queue.append(pool.submit(_load_chunk, left[0], now))
                    left.popleft()
                settle(result)
                settled += 1
        except BrokenProcessPool:
            return chunks[settled:]
    return []


def import_paths(
    store: Any,
    paths: Iterable[str | os.PathLike[str]],
    progress: Callable[[int, int], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    *,
    workers: int | None = None,
) -> ImportReport:
    """Import or rescan files and folders into ``store``; per-file errors never stop the run.

    ``progress(done, total)`` is called as files are settled; ``cancel()`` is asked between chunks, and a
    cancelled run keeps what it stored and removes nothing. ``workers``: parse processes (default: the
    CPU count) when more than POOL_THRESHOLD files need reading.

    On a team library the run holds the importer lock (``team_locks``): another editor importing or
    writing meanwhile makes it raise LibraryLocked at once, naming them, before anything is read.

    The paths are recorded as the library's roots (``roots.record_roots``, by their library paths). A path
    inside a mapped root's original place but outside where this editor maps it is refused, as a
    failed file: its cards would be taken for the other editor's (see ``roots.RootMap.shadowed``).
    """
    from curator.core import roots

    with exclusive(store, "importer"):
        root_map = getattr(store.backend, "root_map", None) or roots.RootMap(())
        given = [os.path.abspath(p) for p in paths]
        shadowed = {p: root_map.shadowed(p) for p in given}
        usable = [p for p in given if shadowed[p] is None]
        if usable:
            roots.record_roots(store.backend, [root_map.to_library(p) for p in usable])
        report = _import_paths(store, usable, progress, cancel, workers=workers) if usable else ImportReport()
        for path, (original, local) in ((p, s) for p, s in shadowed.items() if s is not None):
            report.failed += 1
            report.errors.append({"path": shown_path(path), "line": None, "column": None, "message": (
                f"inside the library's root {original}, which this Curator maps to {local}: import it from there"
            )})  # fmt: skip
        return report


def _import_paths(
    store: Any, paths: Iterable[str | os.PathLike[str]], progress: Callable[[int, int], None] | None,
    cancel: Callable[[], bool] | None, *, workers: int | None,
) -> ImportReport:  # fmt: skip
    paths = list(paths)  # walked, then recorded: write-back writes through links only into these roots
    from curator.core.store_write import record_roots  # here: store_write imports this module

    backend: Backend = store.backend
    folders, keys, absent = _given(paths)
    # One range query per folder covers every file found in it; only files named on their own need theirs
    # (a query per file made a rescan of 100k cards cost 100k queries). A root the library cannot hold
    # (its name is not UTF-8) has no cards there: its files are refused.
    inside = tuple(folder.rstrip(os.sep) + os.sep for folder in folders)
    alone = [path for path in map(_key_path, keys) if not path.startswith(inside)]
    roots = [root for root in (*folders, *alone, *absent) if storable_path(root)]
    # What the library holds there is read on a thread while the folders are walked (and a big walk shares
    # its folders with a helper process, which is no fork of this one: see _may_split).
    stamps = _Stamps(backend, roots)
    stamps.start()
    try:
        _walk_keys(folders, keys, _may_split())
        record_roots(store, paths)
        known_keys = stamps.result()
    finally:
        stamps.join()
    # Compared as sets of "path:size:mtime_ns" strings, in C. A card whose key is not among the files'
    # changed, vanished or is flagged missing ("stale"); a file whose key the library lacks is new or
    # changed ("fresh"): none when every file's key matched a card's. The files' keys are made a set only
    # when some did not match (or a file was named twice): when none changed, one pass over them does
    # (building their set first took a second pass, ~15 ms at 100k files).
    stale = known_keys.difference(keys)
    if len(known_keys) - len(stale) == len(keys):
        files_found, fresh = len(keys), set()
    else:
        files = set(keys)
        files_found, fresh = len(files), files.difference(known_keys)
    known = _stale_cards(backend, {_key_path(key) for key in stale}, roots)
    run = _Importer(store, known, backend.flagged_ids("dirty") if known else set())
    for path in absent:
        if path not in known:
            run.fail(shown_path(path), "no such file or folder")

    seen: dict[str, Stamp] = {}  # the files to read: new or changed
    for key in fresh:
        path, size, mtime_ns = stamp_parts(key)
        seen[path] = (size, mtime_ns)
    todo: list[tuple[str, str | None]] = []
    for path in sorted(seen):  # path order: a new folder's cards take their ids in it
        k = known.get(path)
        todo.append((path, None if k is None else backend.sha256(k[0])))
    run.report.unchanged += files_found - len(fresh)
    total = done = run.report.unchanged
    total += len(todo)
    if progress is not None:
        progress(done, total)

    now = store.now()
    chunks = [todo[i : i + CHUNK] for i in range(0, len(todo), CHUNK)]

    def settle(result: list[Loaded]) -> None:
        nonlocal done
        run.take(result)
        done += len(result)
        if progress is not None:
            progress(done, total)

    with backend.bulk_import() if len(todo) > BATCH else nullcontext():
        if len(todo) > POOL_THRESHOLD and (workers or os.cpu_count() or 1) > 1:
            chunks = _pooled(chunks, now, workers, run, settle, cancel)
        for chunk in chunks:  # small runs, one core, or what a broken pool left
            if cancel is not None and cancel():
                run.report.cancelled = True
                break
            settle(_load_chunk(chunk, now))
        run.flush()
        if not run.report.cancelled:
            run.remove_vanished(seen)  # the stale cards not found again
        if _stale_statistics(store, run.report):
            store.optimize()
    return run.report


def _key_path(key: str) -> str:
    """The path of a ``stamp_key``."""
    return key.rsplit(":", 2)[0]


#: Stale cards looked up by their paths up to this many (a range query each); beyond, every card under
#: the roots is read and the stale ones kept.
LOOKUP_PATHS = 64


def _stale_cards(backend: Backend, paths: set[str], roots: list[str]) -> dict[str, _Known]:
    """The library's (id, size, mtime_ns) of the cards at ``paths``, which are under ``roots``."""
    if not paths:
        return {}
    known = backend.known_cards(sorted(paths) if len(paths) <= LOOKUP_PATHS else roots)
    return {path: k for path, k in known.items() if path in paths}


def _stale_statistics(store: Any, report: ImportReport) -> bool:
    """Whether the planner's statistics no longer describe the library after this import.

    A library that grew from nothing has none, and SQLite would plan every list query on guesses; after
    a small change they still hold, and a full ANALYZE (0.3 s at 100k cards) is not worth it.
    """
    changed = report.added + report.updated + report.removed
    if not changed:
        return False
    analyzed = store.analyzed_cards()
    if analyzed is None:
        return True
    cards_now = store.count()
    return changed * 10 > cards_now or abs(cards_now - analyzed) * 10 > max(analyzed, 1)
