"""Work-arounds for defects of the installed PySide6 build, applied once when curator.gui is imported."""

from __future__ import annotations

import ctypes
import sys

#: How far None's reference count is raised: more void calls than any session can make.
NONE_RESERVE = 1 << 48


def keep_none_alive() -> bool:
    """Make None practically immortal on Python < 3.12; returns whether anything was done.

    PySide6 6.12.0 returns None from many void methods (QPainter.setPen, setBrush, save, restore,
    drawRoundedRect, QImage.setPixel, qtawesome's icon painting, ...) without taking a reference,
    so every call drops None's count by one. On Python 3.11, where None is an ordinary counted
    object, a few thousand repaints bring it to zero and the interpreter aborts with
    "none_dealloc: deallocating None". Python 3.12 made None immortal (PEP 683), which hides the
    defect; on 3.11 we raise the count once by an amount no session can use up.
    """
    if sys.version_info >= (3, 12) or getattr(sys, "_curator_none_reserved", False):
        return False
    # In CPython's object header the reference count is the first field (a Py_ssize_t).
    refcount = ctypes.c_ssize_t.from_address(id(None))
    refcount.value += NONE_RESERVE
    sys._curator_none_reserved = True  # type: ignore[attr-defined]
    return True
