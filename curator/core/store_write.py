"""Writing pending edits to card files, and taking the written files back into the library."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import CancelledError, Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from concurrent.futures.process import BrokenProcessPool
from typing import Any, NamedTuple, Protocol

from curator.core import cards, writeback
from curator.core.backend.base import DirtyCard, TakenBack
from curator.core.store_rows import dumps
from curator.core.store_types import WriteReport
from curator.core.team_locks import exclusive

#: Written cards recorded as clean per transaction. A transaction per card cost more than the card's own
#: fsync; and a crash between a rename and its batch's commit leaves edits whose file already holds them,
#: which the next write recognises ("already") and simply marks clean.
TAKE_BACK_BATCH = 200
#: Threads patching and replacing files at once in a small write (fsync waits on the disk, not the GIL).
WRITE_THREADS = 4
#: Above this many files, worker processes write them, POOL_CHUNK files per task.
POOL_THRESHOLD = 200
POOL_CHUNK = 25
#: Worker processes for a big write, at least: a file's fsync waits on the disk several times as long as
#: its patch takes the CPU, and a disk completes concurrent fsyncs together (measured: eight at once
#: flushed five times as many files a second as one). So more writers than cores keep both cores busy.
WRITE_PROCESSES = 4
#: Seconds between two looks at ``cancel()`` while a task's files are being written.
CANCEL_POLL = 0.05
#: The Meta key holding the imported roots (a JSON list of resolved paths): see :func:`imported_roots`.
ROOTS_KEY = "imported_roots"

_log = logging.getLogger(__name__)


def imported_roots(store: Any) -> list[str]:
    """The folders and files given to ``curator import`` so far, resolved through links.

    Write-back writes through a linked card only to a real file inside one of them (see
    ``writeback.resolve_target``): a card that links elsewhere (``/etc/x``) is refused. A library
    made before the roots were recorded holds none, and then every linked card is refused until its
    folder is imported again.
    """
    text = store.backend.get_meta(ROOTS_KEY)
    if text is None:
        return []
    try:
        roots = json.loads(text)
    except ValueError:
        return []  # a damaged entry allows no write through a link; the next import rewrites it
    return [r for r in roots if isinstance(r, str)] if isinstance(roots, list) else []


def record_roots(store: Any, paths: Iterable[str | os.PathLike[str]]) -> None:
    """Add the existing ``paths`` (what an import was given), resolved, to the library's imported roots.

    A root inside another one adds nothing; one that holds older roots replaces them. So the list
    stays as short as the set of folders the editor imported, however many rescans name subfolders.
    """
    given = [os.path.realpath(p) for p in paths if os.path.exists(p)]
    if not given:
        return

    def inside(path: str, root: str) -> bool:
        return path == root or path.startswith(root.rstrip(os.sep) + os.sep)

    with store.backend.transaction():
        old = imported_roots(store)
        roots = list(old)
        for path in given:
            if any(inside(path, root) for root in roots):
                continue
            roots = [root for root in roots if not inside(root, path)] + [path]
        if roots != old:
            store.backend.set_meta(ROOTS_KEY, json.dumps(sorted(roots)))


class _Written(NamedTuple):
    """A card whose file now holds its pending values: what the library must record."""

    card_id: int
    folder: str  # of the file written: the real file's folder for a card reached through a link
    state: cards.FileState
    doc: str  # JSON of the mapping the file now holds
    fields: dict[str, str]  # JSON of the value the file now holds for each field the write set


def _task_texts(store: Any, ids: Sequence[int]) -> tuple[dict[int, str], dict[int, dict[str, str]]]:
    """One task's cards as the library holds them, in two queries for the whole task (two queries a card
    and their JSON decoding were most of this thread's time: profiled, about 250 of 370 us a card):
    {id: mapping as last read, JSON}, {id: {field: pending value, JSON}}.

    Texts, not values: the worker decodes them (and encodes the mapping the file then holds), so this
    thread, which also settles every file and records it, does no JSON work per card.
    """
    docs = dict(store.backend.card_docs(ids))
    pending: dict[int, dict[str, str]] = {card_id: {} for card_id in ids}
    for card_id, field, text in store.backend.pending_values(ids):
        pending[card_id][field] = text
    return docs, pending


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
    with store.backend.transaction():
        store.backend.take_back([TakenBack(w.card_id, w.state.size, w.state.mtime_ns, w.state.sha256, w.doc,
                                           w.fields) for w in written])  # fmt: skip


class _Job(NamedTuple):
    """One file to write, in plain picklable values (a worker process may do it)."""

    path: str
    base: cards.FileState
    changes: dict[str, str]  # pending values as JSON texts; null removes the key (DELETE cannot be pickled)
    base_doc: str  # JSON of the mapping the file held when read (what the edits were made against)


# A job's result: ("ok", status, state, old, new, target, doc, fields) (old/new only on a dry run;
# target: the file read and replaced; doc: JSON of the mapping the file now holds, "" on a dry run;
# fields: {field: JSON of its value in the file} for the job's changes, what take_back compares with the
# pending values, {} on a dry run), ("conflict", reason), ("failed", reason) or ("skipped",) (not
# attempted: the write was cancelled first). Plain tuples, because writeback's exceptions do not pickle.
_Result = tuple[Any, ...]
_SKIPPED: _Result = ("skipped",)


class _Flag(Protocol):
    """A stop flag: threading.Event in this process, a multiprocessing Event shared with worker processes."""

    def is_set(self) -> bool: ...
    def set(self) -> None: ...


#: The stop flag of this worker process (set by _init_worker); threads are handed theirs with each task.
_worker_stop: _Flag | None = None
#: Threads of a worker process putting its patched files in place (temp file, fsync, rename) while it
#: patches the next ones: an fsync waits on the disk without holding the GIL, and a disk completes
#: concurrent fsyncs together, so each worker keeps this many of them going beside its patching.
WRITER_THREADS = 3
#: This worker process's writer threads (started by _init_worker; None in the main process).
_worker_writers: ThreadPoolExecutor | None = None


def _init_worker(stop: _Flag) -> None:
    """Worker process start: keep the write's stop flag (an Event can reach a process only at its start)
    and make the threads that put its files in place."""
    global _worker_stop, _worker_writers
    _worker_stop = stop
    _worker_writers = ThreadPoolExecutor(max_workers=WRITER_THREADS, thread_name_prefix="curator-writer")


def _write_jobs(
    jobs: list[_Job], dry_run: bool, stop: _Flag | None = None, roots: Sequence[str] = ()
) -> list[_Result]:
    """Write some files (in a worker process or thread); every outcome becomes a plain result.

    The stop flag is read before each file: once the write is cancelled, a file already being written
    finishes (and is reported, so the library records it), the task's later files are skipped. Any
    exception while writing one file becomes that file's "failed" result, so it never costs the other
    files of its task (nor the whole write); the card keeps its pending edits. ``roots``: see
    :func:`imported_roots`.

    Each file is read, checked and patched here (``write_changes`` as a dry run: every check a write
    makes), then put in place (:func:`_put`): in a worker process by one of its writer threads, so the
    next file is patched while this one's fsync waits on the disk; in a thread, right away.
    """
    writers = _worker_writers if stop is None else None
    stop = stop if stop is not None else _worker_stop
    results: list[_Result | Future[_Result]] = []
    putting: deque[Future[_Result]] = deque()
    for job in jobs:
        if stop is not None and stop.is_set():
            results.append(_SKIPPED)
            continue
        planned = _plan(job, dry_run, roots)
        if planned[0] != "put":
            results.append(planned)
        elif writers is None:
            results.append(_put(planned))
        else:
            # A patched file is one being written: it is put in place even if the write is cancelled
            # meanwhile. So patch at most one file ahead of the writers (a cancel stays prompt).
            while len(putting) > WRITER_THREADS:
                putting.popleft().result()
            putting.append(writers.submit(_put, planned))
            results.append(putting[-1])
    return [r.result() if isinstance(r, Future) else r for r in results]


def _plan(job: _Job, dry_run: bool, roots: Sequence[str]) -> _Result:
    """Read, check and patch one file: its result, or ("put", path, outcome, doc, fields) when its patched
    bytes are to replace it (not on a dry run).

    What the library records comes from the mapping the file was proven to read back as
    (``WriteOutcome.data``), so the library's copy of the old mapping is decoded only when the file no
    longer holds its base bytes (the "already" check needs it): profiled, decoding it was a tenth of a
    worker's time a file.
    """
    try:
        pending = {field: json.loads(text) for field, text in job.changes.items()}
        changes = _as_patch(pending)
        out = writeback.write_changes(job.path, job.base, changes, dry_run=True,
                                      base_data=lambda: json.loads(job.base_doc), roots=roots)  # fmt: skip
        doc, fields = ("", {}) if dry_run else _recorded(out.data, job.changes)
        if not dry_run and out.status == "written":
            return ("put", job.path, out, doc, fields)
    except Exception as e:  # noqa: BLE001 - every failure becomes this card's result (see _failure)
        return _failure(job.path, e)
    keep = dry_run and out.new != out.old  # the bytes travel back only for a dry run's diff
    return ("ok", out.status, out.state, out.old if keep else b"", out.new if keep else b"", out.target, doc,
            fields)


def _recorded(data: Mapping[Any, Any] | None, changes: Mapping[str, str]) -> tuple[str, dict[str, str]]:
    """What take_back records of a file holding ``data``: its mapping's JSON, and the JSON of its value of
    each changed field (null for a key it does not hold), which take_back compares with the pending
    values instead of decoding the whole mapping again."""
    if data is None:  # every outcome but a failure carries the mapping: a bug of ours if not
        raise RuntimeError("the write outcome holds no mapping")
    return dumps(data), {field: dumps(data.get(field)) for field in changes}


def _put(planned: _Result) -> _Result:
    """Replace a planned file with its patched bytes.

    The folder is not fsynced here: _take_back fsyncs each folder once per batch, before the library
    records its cards. The file must still be as it was read (size and mtime) right before the rename:
    an editor's save meanwhile is a conflict, not overwritten.
    """
    _, path, out, doc, fields = planned
    try:
        stamp = (out.state.size, out.state.mtime_ns)
        state = writeback.atomic_write(out.target, out.new, sync_dir=False, expect=stamp)
    except writeback.FileChanged:
        return ("conflict", "the file changed on disk while it was being written; not written")
    except Exception as e:  # noqa: BLE001 - see _failure
        return _failure(path, e)
    return ("ok", "written", state, b"", b"", out.target, doc, fields)


def _failure(path: str, e: Exception) -> _Result:
    """One file's exception as its result: a conflict, or a failure with its reason (a bug of ours is
    logged with its traceback; it costs this card only, whose edits stay pending)."""
    if isinstance(e, writeback.ConflictError):
        return ("conflict", e.reason)
    if isinstance(e, writeback.WriteError):
        return ("failed", e.reason)
    if isinstance(e, OSError):
        return ("failed", f"cannot write the file: {e.strerror or e}")
    if isinstance(e, MemoryError):
        return ("failed", "not enough memory to write this card")
    _log.exception("writing %s failed", path, exc_info=e)
    return ("failed", f"could not be written: an unexpected error ({type(e).__name__}: {e})")


class _Pool(NamedTuple):
    """Where files are written: the executor, files per task, and the stop flag its workers read."""

    executor: Executor
    per_task: int
    stop: _Flag
    shared: bool  # the workers hold ``stop`` already (processes); else it goes with each task


def _executor(count: int) -> _Pool:
    """Where files are written, and how many per task.

    Many files: worker processes, since patching and verifying a card is CPU work that threads would
    serialise on the GIL (a few dozen files per task amortise the pickling). Few: threads, one file per
    task, so one file's fsync waits on the disk while the next is patched.
    """
    cpus = os.cpu_count() or 1
    if count > POOL_THRESHOLD and cpus > 1:
        from curator.core.importer import pool_context

        ctx = pool_context()
        stop = ctx.Event()
        executor = ProcessPoolExecutor(max_workers=max(cpus, WRITE_PROCESSES), mp_context=ctx,
                                       initializer=_init_worker,
                                       initargs=(stop,))  # fmt: skip
        return _Pool(executor, POOL_CHUNK, stop, True)
    return _Pool(ThreadPoolExecutor(max_workers=WRITE_THREADS), 1, threading.Event(), False)


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
    (path, old bytes, new bytes). ``progress(done, total)`` follows each settled file.

    ``cancel()`` is asked before each task is handed out, after each settled file, and every CANCEL_POLL
    seconds while waiting for workers. Once it is true no file is started any more: queued tasks are
    cancelled and the workers skip their remaining files; only the files already being written finish,
    and they are recorded like any other. Skipped cards keep their pending edits (``report.cancelled``).

    Files are written by workers (see _executor); the library is read and changed on this thread only,
    and results are settled in path order (cards sharing one file with an earlier card: after it, see
    _rounds).

    On a team library a write (not a dry run, which writes no file) holds the writer lock
    (``team_locks``): another editor writing or importing meanwhile makes it raise LibraryLocked at once,
    naming them, with no file touched.
    """
    if dry_run:
        return _write(store, ids, dry_run=True, progress=progress, cancel=cancel)
    with exclusive(store, "writer"):
        return _write(store, ids, dry_run=False, progress=progress, cancel=cancel)


def _write(
    store: Any, ids: Iterable[int] | None, *, dry_run: bool, progress: Callable[[int, int], None] | None,
    cancel: Callable[[], bool] | None,
) -> WriteReport:
    todo = store.backend.dirty_cards()
    if ids is not None:
        wanted = set(ids)
        todo = [row for row in todo if row[0] in wanted]
    run = _Run(store, len(todo), dry_run, progress, cancel)
    try:
        with run.pool.executor:
            try:
                for batch in _rounds(todo):
                    for start in range(0, len(batch), run.pool.per_task):
                        if run.cancelled():
                            break
                        run.submit(batch[start : start + run.pool.per_task])
                        # A bounded lead: enough queued work that no worker waits, without reading every
                        # card's pending values up front.
                        while len(run.in_flight) > 2 * WRITE_THREADS:
                            run.settle_next()
                    while run.in_flight:  # a round ends before the next: see _rounds
                        run.settle_next()
            except BaseException:
                # An error (or Ctrl+C) must not leave the workers writing files nobody will record: stop
                # them before the executor waits for its tasks. (A file written but not recorded is safe
                # all the same: the next write finds that it already holds the edits.)
                run.stop()
                raise
    finally:
        _take_back(store, run.written)  # also after an error: the files written so far are written
    if not dry_run:
        for folder in sorted(run.folders):
            try:
                writeback.remove_stale_temps(folder)
            except OSError:
                pass  # a folder we cannot list holds no temp file of ours worth failing the write for
    return run.report


def _rounds(todo: list[DirtyCard]) -> list[list[DirtyCard]]:
    """The cards to write, in rounds such that no two cards of a round are the same file.

    Two library paths can reach one file: a card that links to another card of the library (written
    through, see ``writeback.resolve_target``), or a folder imported twice under two names. Written at
    once, both would patch the same old bytes and the second rename would silently drop the first
    card's edit. So the second card of a file waits for the next round, and then sees the first one's
    bytes: "already" when it wanted the same, else a conflict for the editor to resolve (nothing is
    lost). Files are told apart by (device, inode): one stat per card. Rounds keep path order.
    """
    count: dict[tuple[int, int], int] = {}
    rounds: list[list[DirtyCard]] = [[]]
    for row in todo:
        n = 0
        if not row.missing:
            try:
                st = os.stat(row.path)
            except OSError:
                pass  # the worker reports why it cannot read the file
            else:
                key = (st.st_dev, st.st_ino)
                n = count.get(key, 0)
                count[key] = n + 1
        if n == len(rounds):
            rounds.append([])
        rounds[n].append(row)
    return rounds


# A task in flight: (card ids and paths, their jobs, the future of their results), in path order.
_Task = tuple[list[tuple[int, str]], list[_Job], "Future[list[_Result]]"]


class _Run:
    """The state of one write: the pool, the tasks in flight, and what was settled so far."""

    def __init__(
        self, store: Any, total: int, dry_run: bool, progress: Callable[[int, int], None] | None,
        cancel: Callable[[], bool] | None,
    ) -> None:  # fmt: skip
        self.store = store
        self.total = total
        self.dry_run = dry_run
        self.progress = progress
        self.cancel = cancel
        self.report = WriteReport()
        self.folders: set[str] = set()
        self.written: list[_Written] = []
        self.settled = 0
        self.in_flight: deque[_Task] = deque()
        self.roots = imported_roots(store)
        self.pool = _executor(total)

    def cancelled(self) -> bool:
        """Ask ``cancel()``; the first time it is true, stop every worker at its next file."""
        if not self.report.cancelled and self.cancel is not None and self.cancel():
            self.report.cancelled = True
            self.stop()
        return self.report.cancelled

    def stop(self) -> None:
        """Start no more files: running tasks skip their remaining files, queued ones never start."""
        self.pool.stop.set()  # first: a worker freed by a cancelled future must not start another file
        for _, _, future in self.in_flight:
            future.cancel()

    def _run_here(self, jobs: list[_Job]) -> Future[list[_Result]]:
        return _finished(_write_jobs(jobs, self.dry_run, self.pool.stop, self.roots))

    def submit(self, rows: list[DirtyCard]) -> None:
        """Hand one task's cards to the workers (a missing file becomes its own, finished task)."""
        task: list[tuple[int, str]] = []
        jobs: list[_Job] = []
        docs, pending = _task_texts(self.store, [row[0] for row in rows if not row[5]])
        for card_id, path, size, mtime_ns, sha256, missing in rows:
            if missing:  # its own task, already done, so the report keeps path order
                if task:
                    self.in_flight.append((task, jobs, self._future(jobs)))
                    task, jobs = [], []
                self.in_flight.append(([(card_id, path)], [_Job(path, _NO_FILE, {}, "{}")], _missing()))
                continue
            base = cards.FileState(size=size, mtime_ns=mtime_ns, sha256=sha256)
            task.append((card_id, path))
            jobs.append(_Job(path, base, pending[card_id], docs.get(card_id, "{}")))
            self.folders.add(os.path.dirname(path))
        if task:
            self.in_flight.append((task, jobs, self._future(jobs)))

    def _future(self, jobs: list[_Job]) -> Future[list[_Result]]:
        pool = self.pool
        try:
            if pool.shared:
                return pool.executor.submit(_write_jobs, jobs, self.dry_run, None, self.roots)
            return pool.executor.submit(_write_jobs, jobs, self.dry_run, pool.stop, self.roots)
        except BrokenProcessPool:  # the pool broke earlier: write the rest here
            return self._run_here(jobs)

    def settle_next(self) -> None:
        """Wait for the oldest task (asking ``cancel()`` meanwhile) and settle its files in order."""
        cards_, jobs, future = self.in_flight.popleft()
        while not future.done() and not self.cancelled():
            wait_futures([future], timeout=CANCEL_POLL)
        try:
            results = future.result()
        except CancelledError:  # never started: the write was cancelled first
            results = [_SKIPPED] * len(jobs)
        except BrokenProcessPool:  # a worker died: write this task's files here instead
            results = _write_jobs(jobs, self.dry_run, self.pool.stop, self.roots)
        except Exception as e:  # noqa: BLE001 - the task's results did not come back (e.g. not unpickled)
            # Its files may have been written all the same: the next write finds them "already" written.
            _log.exception("a write task of %d files failed", len(jobs))
            reason = f"could not be written: an unexpected error ({type(e).__name__}: {e})"
            results = [("failed", reason)] * len(jobs)
        for (card_id, path), job, result in zip(cards_, jobs, results, strict=True):
            if result[0] == "skipped":
                continue  # not attempted: the card keeps its pending edits
            done_one = _settle(self.store, card_id, path, job, result, self.dry_run, self.report)
            if result[0] == "ok" and result[5]:
                self.folders.add(os.path.dirname(result[5]))  # a linked card's temp sits by its real file
            if done_one is not None:
                self.written.append(done_one)
                if len(self.written) >= TAKE_BACK_BATCH:
                    _take_back(self.store, self.written)
                    self.written = []
            self.settled += 1
            if self.progress is not None:
                self.progress(self.settled, self.total)
            self.cancelled()


_NO_FILE = cards.FileState(size=0, mtime_ns=0, sha256="")


def _finished(results: list[_Result]) -> Future[list[_Result]]:
    future: Future[list[_Result]] = Future()
    future.set_result(results)
    return future


def _missing() -> Future[list[_Result]]:
    """The finished result of a card whose file vanished at the last rescan."""
    return _finished([("failed", "the file is missing")])


def _settle(
    store: Any, card_id: int, path: str, job: _Job, result: _Result, dry_run: bool, report: WriteReport
) -> _Written | None:
    """Report one card's write; returns what to record when its file now holds the pending values."""
    if result[0] == "conflict":
        report.conflicts.append({"path": path, "reason": result[1]})
        if not dry_run:
            with store.backend.transaction():
                store.backend.mark_conflict(card_id)
        return None
    if result[0] == "failed":
        report.failed.append({"path": path, "reason": result[1]})
        return None
    _, status, state, old, new, target, doc, fields = result
    if dry_run:
        if new != old:
            report.diffs.append((path, old, new))
        return None
    if status == "written":
        report.written += 1
    elif status == "already":
        report.already += 1
    else:
        report.unchanged += 1
    return _Written(card_id, os.path.dirname(target), state, doc, fields)


def _as_patch(pending: Mapping[str, Any]) -> dict[str, Any]:
    """Pending values as writeback changes: None (remove the key) becomes DELETE."""
    return {k: writeback.DELETE if v is None else v for k, v in pending.items()}
