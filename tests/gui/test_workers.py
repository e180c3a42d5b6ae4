"""run_task: results, progress and errors reach the GUI thread; cancel stops a task; SyncPool runs inline."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QThread, QThreadPool

from curator.gui.workers import Cancelled, SyncPool, run_task, settle_tasks


def test_result_and_progress_arrive_on_the_gui_thread(qtbot) -> None:
    gui = QThread.currentThread()
    seen: dict[str, object] = {}
    progress: list[tuple[int, int]] = []

    def work(report, _cancelled):  # type: ignore[no-untyped-def]
        seen["worker"] = threading.get_ident()
        for i in range(3):
            report(i + 1, 3, "step")
        return "result"

    def done(value: object) -> None:
        seen["value"] = value
        seen["thread_ok"] = QThread.currentThread() is gui

    handle = run_task(work, on_done=done, on_progress=lambda d, t, _m: progress.append((d, t)))
    # The task may finish before a waitSignal could connect: wait on the handle's own state instead.
    qtbot.waitUntil(lambda: not handle.running, timeout=5000)
    assert seen["value"] == "result"
    assert seen["thread_ok"] is True
    assert seen["worker"] != threading.get_ident()
    assert progress == [(1, 3), (2, 3), (3, 3)]


def test_errors_come_back_with_their_traceback(qtbot) -> None:
    errors: list[BaseException] = []

    def work(_report, _cancelled):  # type: ignore[no-untyped-def]
        raise RuntimeError("disk on fire")

    handle = run_task(work, on_error=errors.append)
    qtbot.waitUntil(lambda: not handle.running, timeout=5000)
    assert [str(e) for e in errors] == ["disk on fire"]
    assert "RuntimeError" in errors[0].__traceback_text__  # type: ignore[attr-defined]


def test_cancel_stops_a_running_task(qtbot) -> None:
    started = threading.Event()
    outcomes: list[str] = []

    def work(_report, cancelled):  # type: ignore[no-untyped-def]
        started.set()
        while not cancelled():
            threading.Event().wait(0.001)  # a unit of work
        raise Cancelled

    handle = run_task(work, on_cancelled=lambda: outcomes.append("cancelled"), on_done=lambda _r: outcomes.append("done"))
    assert started.wait(5)
    handle.cancel()
    qtbot.waitUntil(lambda: not handle.running, timeout=5000)
    assert outcomes == ["cancelled"]


def test_settle_stops_the_tasks_still_running_before_the_app_tears_down(qtbot) -> None:
    """The app calls settle_tasks once its event loop ended: every task in flight is asked to stop and the
    pool's threads are idle when it returns, so none finishes while the teardown deletes its signals."""
    started = threading.Event()
    stopped: list[bool] = []

    def endless(_report, cancelled):  # type: ignore[no-untyped-def]
        started.set()
        while not cancelled():  # a task that would run long past the app's exit
            threading.Event().wait(0.001)
        stopped.append(True)
        raise Cancelled

    run_task(endless)
    assert started.wait(5)
    assert QThreadPool.globalInstance().activeThreadCount() >= 1
    assert settle_tasks(timeout_ms=5000)
    assert stopped == [True]
    assert QThreadPool.globalInstance().activeThreadCount() == 0


@pytest.mark.parametrize("cancel_first", [False, True])
def test_sync_pool_runs_inline(cancel_first: bool) -> None:
    log: list[str] = []

    def work(_report, cancelled):  # type: ignore[no-untyped-def]
        log.append(f"ran on {threading.get_ident()}")
        return "partial" if cancelled() else "whole"

    from curator.gui.workers import TaskHandle

    handle = TaskHandle()
    if cancel_first:
        handle.cancel()
    run_task(work, on_done=log.append, pool=SyncPool(), handle=handle)
    assert log == [f"ran on {threading.get_ident()}", "partial" if cancel_first else "whole"]
    assert not handle.running


def test_a_lane_runs_tasks_in_order_on_one_thread_and_finishes_there(qtbot) -> None:  # type: ignore[no-untyped-def]
    """workers.Lane: every task on the lane's one thread, in the order started (an edit after another
    reaches the library after it), results on the GUI thread; stop() runs `finish` last, on that thread."""
    from curator.gui.workers import Lane

    threads: list[int] = []
    order: list[int] = []
    finished: list[int] = []
    lane = Lane("test", finish=lambda: finished.append(threading.get_ident()))
    gui = QThread.currentThread()
    arrived: list[tuple[int, bool]] = []

    def task(n: int):  # type: ignore[no-untyped-def]
        def work(_report, _cancelled):  # type: ignore[no-untyped-def]
            threads.append(threading.get_ident())
            if n == 0:
                threading.Event().wait(0.2)  # the first is slow: the others still wait their turn
            order.append(n)
            return n

        return work

    for n in range(5):
        run_task(task(n), on_done=lambda v: arrived.append((v, QThread.currentThread() is gui)), pool=lane)
    qtbot.waitUntil(lambda: len(arrived) == 5, timeout=5000)
    assert order == [0, 1, 2, 3, 4] and [v for v, _ in arrived] == [0, 1, 2, 3, 4]
    assert all(on_gui for _, on_gui in arrived)
    assert len(set(threads)) == 1 and threads[0] != threading.get_ident()
    lane.stop()
    lane.join(5)
    assert finished == [threads[0]]
    with pytest.raises(RuntimeError, match="stopped"):
        lane.start(None)  # type: ignore[arg-type]
