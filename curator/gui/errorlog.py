"""Tracebacks of Curator's own bugs go to a rotating log file an IT person can be sent.

Card trouble (a file that does not parse, a file that cannot be written) is not a bug: it goes to the
problems report in sentences. What lands here is what should never happen: an exception escaping a slot
(``sys.excepthook``), a thread (``threading.excepthook``), a worker task (:func:`log_failure`), and Qt's own
critical and fatal messages. Each is written with its traceback to :func:`curator.paths.log_file`
(rotated at :data:`MAX_BYTES`, :data:`BACKUPS` old files kept) and announced through :data:`bugs`, so the
window can say in its problems report that something went wrong and where the details are.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
import threading
import traceback
from pathlib import Path
from types import TracebackType
from typing import Any

from PySide6.QtCore import QMessageLogContext, QObject, QtMsgType, Signal, qInstallMessageHandler

from curator import paths

MAX_BYTES = 1_000_000
BACKUPS = 3
LOGGER = "curator.gui"


class BugSignals(QObject):
    """`logged(summary)` after a bug was written to the log (emitted from any thread; Qt queues it)."""

    logged = Signal(str)


#: Connect to bugs.logged to hear of every logged bug (the window's problems report does).
bugs = BugSignals()
_state: dict[str, Any] = {"path": None, "handler": None, "previous": None}


def log_path() -> Path:
    """The file bugs are written to (the installed one, else where install() would put it)."""
    path = _state["path"]
    return path if isinstance(path, Path) else paths.log_file()


def logger() -> logging.Logger:
    return logging.getLogger(LOGGER)


def install(path: Path | None = None) -> Path:
    """Write bugs to `path` (default: paths.log_file()) and catch every uncaught exception; returns the path.

    Installing again moves the log (tests point it into their own folder); the hooks are installed once.
    """
    target = path or paths.log_file()
    target.parent.mkdir(parents=True, exist_ok=True)
    log = logger()
    old = _state["handler"]
    if old is not None:
        log.removeHandler(old)
        old.close()
    handler = logging.handlers.RotatingFileHandler(
        target, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    _state["path"], _state["handler"] = target, handler
    if _state["previous"] is None:
        _state["previous"] = (sys.excepthook, threading.excepthook)
        sys.excepthook = _excepthook
        threading.excepthook = _thread_excepthook
        qInstallMessageHandler(_qt_message)
    return target


def uninstall() -> None:
    """Restore the previous hooks and close the log (tests)."""
    previous = _state["previous"]
    if previous is not None:
        sys.excepthook, threading.excepthook = previous
        qInstallMessageHandler(None)
        _state["previous"] = None
    handler = _state["handler"]
    if handler is not None:
        logger().removeHandler(handler)
        handler.close()
    _state["path"], _state["handler"] = None, None


def record(summary: str, details: str) -> None:
    """Write one bug (a one-line summary and its traceback) and announce it."""
    logger().error("%s\n%s", summary, details.rstrip())
    bugs.logged.emit(summary)


def log_failure(what: str, exc: BaseException) -> None:
    """A worker task's unexpected exception (with the traceback the worker kept, when it did)."""
    details = getattr(exc, "__traceback_text__", None) or "".join(
        traceback.format_exception(type(exc), exc, exc.__traceback__)
    )
    record(f"{what}: {type(exc).__name__}: {exc}", details)


def _excepthook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
    record(f"Uncaught {kind.__name__}: {value}", "".join(traceback.format_exception(kind, value, tb)))
    previous = _state["previous"]
    if previous is not None:
        previous[0](kind, value, tb)  # still on stderr for whoever started the app from a terminal


def _thread_excepthook(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "a thread"
    value = args.exc_value if args.exc_value is not None else args.exc_type()
    record(
        f"Uncaught {args.exc_type.__name__} in {name}: {value}",
        "".join(traceback.format_exception(args.exc_type, value, args.exc_traceback)),
    )
    previous = _state["previous"]
    if previous is not None:
        previous[1](args)


def _qt_message(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
    if kind in (QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg):
        where = f" ({context.file}:{context.line})" if context.file else ""
        record(f"Qt: {message}", f"Qt {kind.name}{where}: {message}")
    # Everything still reaches stderr, as Qt's own handler would print it.
    print(message, file=sys.stderr)
