"""Background work: run_task runs a function on a thread pool and hands its results to the GUI thread.

Workers never touch widgets. A task function receives two callables, ``progress(done, total, message)``
and ``cancelled() -> bool``; it reports through the first and checks the second between steps, stopping either by raising Cancelled
(`cancelled` is emitted) or by returning a partial result (`finished` is emitted). Its return
value (or exception) comes back on the GUI thread through Qt signals, which Qt queues across threads.
"""

from __future__ import annotations

import queue
import threading
import time
import traceback
import weakref
from collections.abc import Callable
from typing import Any, Protocol

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from curator.gui import errorlog

ProgressFn = Callable[[int, int, str], None]
CancelledFn = Callable[[], bool]
TaskFn = Callable[[ProgressFn, CancelledFn], Any]


class Cancelled(Exception):
    """Raised by a task function that stops because it was asked to."""


class TaskSignals(QObject):
    """The signals of one task; created on the GUI thread so that slots run there."""

    progress = Signal(int, int, str)  # done, total, message
    finished = Signal(object)  # the task's return value
    failed = Signal(object)  # the exception (with __traceback_text__ set)
    cancelled = Signal()
    done = Signal()  # after any of the three above


class Pool(Protocol):
    def start(self, runnable: QRunnable) -> None: ...


class SyncPool:
    """Runs tasks inline on the calling thread: deterministic tests, no waiting."""

    def start(self, runnable: QRunnable) -> None:
        runnable.run()


class TaskHandle:
    """A running task: its signals, and a way to ask it to stop."""

    def __init__(self) -> None:
        self.signals = TaskSignals()
        self._cancel = threading.Event()
        self.running = True

    def cancel(self) -> None:
        """Ask the task to stop at its next check; it then emits `cancelled`."""
        self._cancel.set()

    @property
    def is_cancelled(self) -> bool:
        return self._cancel.is_set()


class _Runnable(QRunnable):
    def __init__(self, fn: TaskFn, handle: TaskHandle) -> None:
        super().__init__()
        self.fn = fn
        self.handle = handle
        # We hold the runnable ourselves (in _LIVE), so Qt must not delete it under us.
        self.setAutoDelete(False)

    def run(self) -> None:
        try:
            self._run()
        except RuntimeError:
            # The app quit while the task ran and Qt deleted the signals object: nobody is listening.
            if shiboken6.isValid(self.handle.signals):
                raise

    def _run(self) -> None:
        handle = self.handle
        signals = handle.signals
        try:
            result = self.fn(signals.progress.emit, lambda: handle.is_cancelled)
        except Cancelled:
            signals.cancelled.emit()
        except Exception as exc:  # noqa: BLE001 - every failure must reach the GUI, not the void
            exc.__traceback_text__ = traceback.format_exc()  # type: ignore[attr-defined]
            signals.failed.emit(exc)
        else:
            # A task that returns after a cancel request stopped early on purpose: its (partial) result
            # still counts, e.g. an import keeps what it stored.
            signals.finished.emit(result)
        signals.done.emit()


class Lane:
    """A Pool of one thread of its own, running tasks one after another in the order they were started.

    Why not QThreadPool: a team library's connection lives on the thread that opened it (one per thread),
    and opening one costs several round trips. A lane's thread keeps its connection from task to task (a
    scroll, a run of triage keys, pay for it once) and closes it when the lane stops (`finish` runs on the
    lane's thread last), so a window that goes away leaves no session open on the server. Tasks run in
    order, so an edit started after another one reaches the library after it.
    """

    def __init__(self, name: str, finish: Callable[[], None] | None = None, *, settle: bool = False) -> None:
        """`settle`: settle_tasks stops this lane and waits for its thread (its tasks are short local reads
        whose result would otherwise reach a window the teardown is deleting)."""
        self.name = name
        self._finish = finish
        self._queue: queue.SimpleQueue[QRunnable | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._stopped = False
        if settle:
            _SETTLED_LANES.add(self)

    def start(self, runnable: QRunnable) -> None:
        """Queue `runnable` (the thread is started on first use)."""
        with self._lock:
            if self._stopped:
                raise RuntimeError(f"the {self.name} lane has stopped")
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name=f"curator-{self.name}", daemon=True)
                self._thread.start()
        self._queue.put(runnable)

    @property
    def stopped(self) -> bool:
        return self._stopped

    def stop(self) -> None:
        """Let the tasks already queued run, then run `finish` on the lane's thread and end it."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            if self._thread is None:
                return
        self._queue.put(None)

    def join(self, timeout: float | None = None) -> None:
        """Wait for a stopped lane's thread to end (tests, settle_tasks)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    @property
    def running(self) -> bool:
        """Whether the lane's thread is alive (started and not yet ended)."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def _loop(self) -> None:
        while True:
            runnable = self._queue.get()
            if runnable is None:
                break
            runnable.run()
        if self._finish is not None:
            try:
                self._finish()
            except Exception as exc:  # noqa: BLE001 - a lane that cannot close its connection: said, not raised
                errorlog.log_failure(f"Closing the {self.name} lane", exc)


# Tasks in flight, kept alive until they finish (else Python may collect the signals object).
_LIVE: set[_Runnable] = set()
#: Lanes made with settle=True, while they exist: settle_tasks ends them and waits for their threads.
_SETTLED_LANES: weakref.WeakSet[Lane] = weakref.WeakSet()
_default_pool: Pool | None = None


def set_default_pool(pool: Pool | None) -> None:
    """Replace the pool run_task uses (tests pass a SyncPool; None restores QThreadPool's global one)."""
    global _default_pool
    _default_pool = pool


def default_pool() -> Pool | None:
    """The pool set by set_default_pool (tests' SyncPool), or None (QThreadPool's global one)."""
    return _default_pool


#: How long the app waits, once its event loop has ended, for the tasks still running to stop.
SETTLE_MS = 10_000


def settle_tasks(timeout_ms: int = SETTLE_MS) -> bool:
    """Ask every task still in flight to stop, and wait until the pool's threads are idle (True) or
    `timeout_ms` passed (False). Called once the event loop has ended, before the interpreter's teardown.

    Why: that teardown deletes the Qt objects Python still holds, a task's signals among them; a task that
    finished at that moment emitted its result on a signals object being deleted on the main thread, and
    the process crashed on its way out (a same-story read still starting the checks process, at about one
    exit in forty under load). A cancelled task stops at its next check, as when the editor cancels it.
    Lanes made with settle=True (the facet counts') are stopped and waited for within the same time.
    """
    for runnable in list(_LIVE):
        runnable.handle.cancel()
    deadline = time.monotonic() + timeout_ms / 1000
    idle = bool(QThreadPool.globalInstance().waitForDone(timeout_ms))
    for lane in list(_SETTLED_LANES):
        lane.stop()
        lane.join(max(0.0, deadline - time.monotonic()))
        idle = idle and not lane.running
    return idle


def run_task(
    fn: TaskFn,
    *,
    on_done: Callable[[Any], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    on_progress: ProgressFn | None = None,
    on_cancelled: Callable[[], None] | None = None,
    pool: Pool | None = None,
    handle: TaskHandle | None = None,
) -> TaskHandle:
    """Run ``fn(progress, cancelled)`` off the GUI thread; callbacks run on the GUI thread.

    Must be called from the GUI thread. Returns the handle at once (with a SyncPool, after the task ran);
    pass your own `handle` to be able to cancel from callbacks that run before run_task returns.
    """
    handle = handle or TaskHandle()
    signals = handle.signals
    if on_progress:
        signals.progress.connect(on_progress)
    if on_done:
        signals.finished.connect(on_done)
    if on_error:
        signals.failed.connect(on_error)
    if on_cancelled:
        signals.cancelled.connect(on_cancelled)
    runnable = _Runnable(fn, handle)
    _LIVE.add(runnable)

    def finish() -> None:
        handle.running = False
        _LIVE.discard(runnable)

    signals.done.connect(finish)
    (pool or _default_pool or QThreadPool.globalInstance()).start(runnable)
    return handle
