"""The None reference-count guard keeps long painting sessions alive on Python 3.11."""

from __future__ import annotations

import subprocess
import sys

import pytest

# Enough void calls to exhaust None's ordinary reference count many times over.
CODE = """
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
{guard}
from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPixmap
app = QGuiApplication([])
pixmap = QPixmap(8, 8)
painter = QPainter(pixmap)
color = QColor("red")
for _ in range(200_000):
    painter.setPen(color)
painter.end()
print("alive")
"""


def run(guard: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", CODE.format(guard=guard)], capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12 on")
def test_many_void_calls_survive_with_the_guard() -> None:
    guarded = run("import curator.gui")
    assert guarded.returncode == 0, guarded.stderr[-500:]
    assert guarded.stdout.strip() == "alive"


def test_guard_is_applied_once() -> None:
    import curator.gui  # noqa: F401 - applies the guard
    from curator.gui.pyside_fixes import keep_none_alive

    assert keep_none_alive() is False  # already done on import (or not needed on 3.12+)
