"""The installed PySide6 must not leak references to None (a defect of PySide6 6.12.0).

PySide6 6.12.0 drops a reference to None on every call of a void method such as
QPainter.setPen; on Python 3.11, where None is an ordinary counted object, a few
thousand repaints abort the interpreter ("deallocating None"). pyproject.toml keeps
PySide6 below 6.12 for that reason; this test fails if a bad build comes back.
"""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = """
import sys
from PySide6.QtGui import QGuiApplication, QImage, QPainter, QPen
app = QGuiApplication([])
image = QImage(8, 8, QImage.Format.Format_ARGB32)
painter = QPainter(image)
pen = QPen()
before = sys.getrefcount(None)
for _ in range(20000):
    painter.setPen(pen)
painter.end()
print(sys.getrefcount(None) - before)
"""


def test_void_qt_calls_keep_none_alive() -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    # A leaking build would show about -20000; a sound one stays within noise of 0.
    assert int(out.stdout.strip()) > -1000
