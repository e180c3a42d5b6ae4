"""The main window's size and pane widths: fitted to the screen it opens on, usable down to 1280×720.

A fixed first size (1500×920) put the status bar and the card pane off a 1366×768 laptop screen, and a
geometry saved on a bigger monitor was restored unchecked. The first window now takes its size from the
screen's available geometry, a saved one is used only when it fits a current screen, and the three panes
share the width in proportion, each with a minimum that keeps it usable on the smallest supported screen.
"""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

#: The size the window prefers on a big screen (it never opens bigger than the screen).
PREFERRED = (1500, 920)
#: The smallest screen every pane stays usable on.
SMALLEST_SCREEN = (1280, 720)
#: Minimum pane widths (facets, list, detail): their sum plus the splitter handles and margins fits 1280.
MIN_WIDTHS = (150, 420, 340)
#: Room kept for the window manager's frame and title bar around the window.
FRAME = (16, 40)


def _screens() -> list[QRect]:
    return [screen.availableGeometry() for screen in QGuiApplication.screens()]


def fits_a_screen(window: QWidget) -> bool:
    """Whether the window (as restored, before it is shown) lies within the available area of a current
    screen with room for its frame: a geometry saved on a bigger monitor does not."""
    inner = window.geometry()
    for area in _screens():
        room = area.adjusted(0, 0, -FRAME[0], -FRAME[1])
        if area.contains(inner) and inner.width() <= room.width() and inner.height() <= room.height():
            return True
    return False


def first_size(window: QWidget) -> None:
    """Size and centre the window on the screen it opens on: PREFERRED, or the available area when smaller."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        window.resize(*PREFERRED)
        return
    area = screen.availableGeometry()
    width = min(PREFERRED[0], area.width() - FRAME[0])
    height = min(PREFERRED[1], area.height() - FRAME[1])
    window.resize(width, height)
    window.move(area.left() + (area.width() - width) // 2, area.top() + max(0, (area.height() - height - FRAME[1]) // 2))


def splitter_sizes(width: int) -> list[int]:
    """Facets, list and detail widths for a window `width` wide: 16 % and 27 % of it (within limits),
    the list takes the rest (at 1366 pixels the facets show "Computer Vision" whole, the detail pane its
    sliders and buttons, and the list's title column about 30 characters)."""
    facets = max(MIN_WIDTHS[0], min(240, width * 16 // 100))
    detail = max(MIN_WIDTHS[2], min(460, width * 27 // 100))
    return [facets, max(MIN_WIDTHS[1], width - facets - detail - 24), detail]


def set_minimums(facets: QWidget, cards: QWidget, detail: QWidget) -> None:
    """The panes' minimum widths (the detail pane may ask for less itself; never for more than fits)."""
    for pane, minimum in zip((facets, cards, detail), MIN_WIDTHS, strict=True):
        pane.setMinimumWidth(min(pane.minimumWidth() or minimum, minimum))
