"""The card list keeps the keys: focus starts there, Esc or Down in the search bar returns there, and so does every
menu and dialog once it closes.

The triage keys (J, K, Space, P, U, digits) are shortcuts of the list views only, so they never type into
a text field; the price is that they do nothing while anything else has the focus. Qt hands the focus
back to the menu bar after a menu used from the keyboard (Alt+C, Esc) and after a dialog opened from one,
and there J and Space are dead until the editor clicks the list. This object watches the focus and gives
it back to the widget the editor last worked in (the list by default).
"""

from __future__ import annotations

from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QAbstractItemView, QApplication, QLineEdit, QMainWindow, QMenu, QWidget


class ListFocus(QObject):
    """Gives the keys back to the card list (or the field the editor was typing in) after menus and dialogs."""

    def __init__(
        self, window: QMainWindow, search: QLineEdit, current_view: Callable[[], QAbstractItemView]
    ) -> None:
        super().__init__(window)
        self.window = window
        self.search = search
        self.current_view = current_view
        self._last: QWidget | None = None  # the widget in the window that last had the focus (not the menu bar)
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        app.focusChanged.connect(self._focus_changed)
        for menu in window.menuBar().findChildren(QMenu):
            menu.aboutToHide.connect(self._menu_closed)
        # Esc in the search bar: back to the list (the text and its filter stay).
        self.escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), search, self.to_list,
                                context=Qt.ShortcutContext.WidgetShortcut)  # fmt: skip
        # Down in the search bar: on to the results, as in a browser's address bar. An event filter, not a
        # shortcut: while the completer's popup is open its keys go to the popup, never through here.
        search.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (watched is self.search and event.type() == QEvent.Type.KeyPress
                and isinstance(event, QKeyEvent) and event.key() == Qt.Key.Key_Down
                and event.modifiers() == Qt.KeyboardModifier.NoModifier):  # fmt: skip
            self.to_list()
            return True
        return False

    def to_list(self) -> None:
        """Put the focus in the visible card list."""
        self.current_view().setFocus(Qt.FocusReason.OtherFocusReason)

    def start(self) -> None:
        """At start-up: the list has the focus, so the first triage key triages (not types)."""
        view = self.current_view()
        view.setFocus(Qt.FocusReason.OtherFocusReason)
        self._last = view

    def _focus_changed(self, old: QWidget | None, new: QWidget | None) -> None:
        if not shiboken6.isValid(self.window):
            return
        bar = self.window.menuBar()
        if new is not None and new is not bar and self.window.isAncestorOf(new):
            self._last = new
            return
        if new is bar and old is not None and old.window() is not self.window:
            # A dialog (opened from a menu) closed and Qt gave the focus to the menu bar.
            QTimer.singleShot(0, self._give_back)
        elif new is None and old is not None and shiboken6.isValid(old) and old.window() is not self.window:
            # A window-modal dialog of this window closed and nothing took the activation back (no window
            # manager does it on some desktops, nor Qt's offscreen platform): the list's shortcuts were dead.
            QTimer.singleShot(0, self._reactivate)

    def _menu_closed(self) -> None:
        # Later: the menu bar takes the focus only after the popup has gone (and another menu may open).
        QTimer.singleShot(0, self._give_back)

    def _reactivate(self) -> None:
        if not shiboken6.isValid(self.window) or not self.window.isVisible():
            return
        if QApplication.activeWindow() is not None or QApplication.activeModalWidget() is not None:
            return  # another window or dialog is in use
        self.window.activateWindow()
        last = self._last
        if last is not None and shiboken6.isValid(last) and last.isVisible() and last.isEnabled():
            last.setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            self.to_list()

    def _give_back(self) -> None:
        if not shiboken6.isValid(self.window) or QApplication.activePopupWidget() is not None:
            return  # another menu is open (the editor moved along the menu bar)
        if QApplication.focusWidget() is not self.window.menuBar():
            return  # a dialog has the focus, or the editor already moved on
        last = self._last
        if last is not None and shiboken6.isValid(last) and last.isVisible() and last.isEnabled():
            last.setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            self.to_list()
