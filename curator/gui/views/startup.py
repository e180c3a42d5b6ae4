"""Start-up order: work the window leaves until its first rows are on screen (facets, completions, watcher)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget

#: If no paint ever comes (a window opened minimised), the deferred work still runs after this long.
FALLBACK_MS = 3000


class AfterFirstPaint(QObject):
    """Runs `callback` once, just after the first paint of any of `widgets` (or after FALLBACK_MS).

    At 100k cards the facet counts, the completion values and the folder list each cost a tenth of a
    second or more; none of them is needed to show the first page, so they wait for it.
    """

    def __init__(
        self, widgets: list[QWidget], callback: Callable[[], None], parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._widgets = widgets
        self._callback: Callable[[], None] | None = callback
        for widget in widgets:
            widget.installEventFilter(self)
        self._fallback = QTimer(self)
        self._fallback.setSingleShot(True)
        self._fallback.setInterval(FALLBACK_MS)
        self._fallback.timeout.connect(self.fire)
        self._fallback.start()

    @property
    def pending(self) -> bool:
        return self._callback is not None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self._callback is not None:
            # The paint itself runs after this filter returns; a zero timer runs once it is on screen.
            QTimer.singleShot(0, self.fire)
        return False

    def fire(self) -> None:
        """Run the callback now (once); later paints and the fallback timer do nothing."""
        callback, self._callback = self._callback, None
        if callback is None:
            return
        self._fallback.stop()
        for widget in self._widgets:
            widget.removeEventFilter(self)
        callback()
