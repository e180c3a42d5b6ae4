"""Start-up instrumentation: with $CURATOR_FIRST_PAINT_REPORT=FILE the window reports its first painted rows.

The start-up benchmark (tests/benchmarks/test_gui_startup_bench.py) runs the real app in a child process
with this variable set. When the card table first paints with rows, the window writes, as JSON, the seconds
since the *process* started (from /proc/self/stat, so interpreter start-up and imports count) and then
calls `after_first_paint(window)`, which quits the app unless a driver script replaced it (the benchmark's
memory run scrolls and queries first). Without the variable nothing is installed: no cost, no behaviour.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

if TYPE_CHECKING:
    from curator.gui.views.main_window import MainWindow

ENV = "CURATOR_FIRST_PAINT_REPORT"
#: Used where /proc is not available: then the figure leaves out what ran before this module's import.
_IMPORTED_AT = time.monotonic()


def process_age() -> tuple[float, str]:
    """Seconds since this process started, and how that was measured ("proc" or "import")."""
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            stat = f.read()
        # Field 22 (starttime, in clock ticks after boot); the command name (field 2) may hold spaces,
        # so count from its closing parenthesis.
        start_ticks = int(stat.rsplit(")", 1)[1].split()[19])
        ticks = os.sysconf("SC_CLK_TCK")
        return time.clock_gettime(time.CLOCK_BOOTTIME) - start_ticks / ticks, "proc"
    except (OSError, ValueError, IndexError, AttributeError):
        return time.monotonic() - _IMPORTED_AT, "import"


def _peak_rss_kib() -> int | None:
    try:
        import resource  # Unix only
    except ImportError:
        return None
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _rss_parts_kib() -> dict[str, int]:
    """RssAnon/RssFile/RssShmem from /proc (mapped library pages count as resident file memory)."""
    parts = {}
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith(("RssAnon:", "RssFile:", "RssShmem:")):
                    name, value = line.split(":", 1)
                    parts[name.lower()] = int(value.split()[0])
    except OSError:
        pass
    return parts


def _quit(_window: MainWindow) -> None:
    app = QApplication.instance()
    if app is not None:
        app.quit()


#: What happens once the report is written; a driver script may replace it before the app starts.
after_first_paint: Callable[[MainWindow], None] = _quit


def install(window: MainWindow, environ: dict[str, str] | os._Environ[str] | None = None) -> bool:
    """Report the first paint of rows to $CURATOR_FIRST_PAINT_REPORT when it is set; returns whether it is."""
    target = (os.environ if environ is None else environ).get(ENV)
    if not target:
        return False

    def painted() -> None:
        window.table.rowsPainted.disconnect(painted)
        seconds, clock = process_age()
        report = {
            "seconds": seconds,
            "clock": clock,
            "rows": window.model.rowCount(),
            "total": window.model.total,  # the first page's length while `counting` (a worker counts)
            "counting": window.model.counting,
            "maxrss_kib": _peak_rss_kib(),
            "python": sys.version.split()[0],
            **_rss_parts_kib(),
        }
        with open(target, "w", encoding="utf-8") as f:
            json.dump(report, f)
        # Later, not inside the paint event: the driver may scroll, query and repaint.
        QTimer.singleShot(0, lambda: after_first_paint(window))

    window.table.rowsPainted.connect(painted)
    return True
