"""The list keeps the keys: focus starts there, Esc leaves the search bar for it, menus and dialogs give it back.

Real key events throughout: Alt+C opens the Cards menu as an editor would, Esc closes it, and then J must
move to the next card.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog, QMenu

from curator.gui.views.main_window import MainWindow


def activate(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None)


def settled_on(qtbot, window: MainWindow, widget: object) -> None:  # type: ignore[no-untyped-def]
    """The window's focus is on `widget` once menus and dialogs have gone.

    The offscreen platform leaves no window active after a popup closes (a desktop reactivates the
    main window): activate it again, then the widget it gives the keys to is the window's focus widget.
    """
    qtbot.waitUntil(lambda: QApplication.activePopupWidget() is None and QApplication.activeModalWidget() is None)
    qtbot.wait(50)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is widget)


def press_j_moves(qtbot, window: MainWindow) -> bool:  # type: ignore[no-untyped-def]
    row = window.table.currentIndex().row()
    target = QApplication.focusWidget()
    assert target is not None
    qtbot.keyClick(target, Qt.Key.Key_J)
    return window.table.currentIndex().row() == row + 1


def test_focus_starts_in_the_list(qtbot, edit_window: MainWindow) -> None:
    activate(qtbot, edit_window)
    assert QApplication.focusWidget() is edit_window.table
    assert press_j_moves(qtbot, edit_window)


def test_escape_leaves_the_search_bar_for_the_list(qtbot, edit_window: MainWindow) -> None:
    activate(qtbot, edit_window)
    qtbot.keyClick(edit_window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is edit_window.filter_bar.edit
    qtbot.keyClicks(edit_window.filter_bar.edit, "pu")
    qtbot.keyClick(edit_window.filter_bar.edit, Qt.Key.Key_Escape)
    assert QApplication.focusWidget() is edit_window.table
    assert edit_window.filter_bar.text() == "pu"  # Esc leaves; it does not clear
    assert press_j_moves(qtbot, edit_window)


def test_down_in_the_search_bar_goes_on_to_the_results(qtbot, edit_window: MainWindow) -> None:
    activate(qtbot, edit_window)
    qtbot.keyClick(edit_window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(edit_window.filter_bar.edit, "report")
    qtbot.keyClick(edit_window.filter_bar.edit, Qt.Key.Key_Down)
    assert QApplication.focusWidget() is edit_window.table
    assert edit_window.filter_bar.text() == "report"  # nothing typed into the query
    assert press_j_moves(qtbot, edit_window)


def test_down_in_the_completers_popup_picks_a_suggestion(qtbot, edit_window: MainWindow) -> None:
    activate(qtbot, edit_window)
    edit = edit_window.filter_bar.edit
    qtbot.keyClick(edit_window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(edit, "topic:")
    popup = edit_window.filter_bar.completer.popup()
    qtbot.waitUntil(popup.isVisible, timeout=3000)
    qtbot.keyClick(popup, Qt.Key.Key_Down)
    assert QApplication.focusWidget() is edit and popup.isVisible()
    assert popup.currentIndex().isValid()


def test_the_list_gets_its_keys_back_after_a_keyboard_menu(qtbot, edit_window: MainWindow) -> None:
    activate(qtbot, edit_window)
    qtbot.keyClick(edit_window.table, Qt.Key.Key_C, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: isinstance(QApplication.activePopupWidget(), QMenu))
    qtbot.keyClick(QApplication.activePopupWidget(), Qt.Key.Key_Escape)
    settled_on(qtbot, edit_window, edit_window.table)
    assert press_j_moves(qtbot, edit_window)
    # Space too (it is the other Next Card key).
    row = edit_window.table.currentIndex().row()
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Space)
    assert edit_window.table.currentIndex().row() == row + 1


def test_the_list_gets_its_keys_back_after_a_dialog_from_a_menu(qtbot, edit_window: MainWindow) -> None:
    activate(qtbot, edit_window)
    dialogs: list[QDialog] = []

    def close_dialog() -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, QDialog):
            dialogs.append(dialog)
            qtbot.keyClick(dialog, Qt.Key.Key_Escape)
        else:
            QTimer.singleShot(20, close_dialog)

    # Edit > Edit History… from the keyboard: Alt+E, then the item's mnemonic H.
    qtbot.keyClick(edit_window.table, Qt.Key.Key_E, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: isinstance(QApplication.activePopupWidget(), QMenu))
    QTimer.singleShot(20, close_dialog)
    qtbot.keyClick(QApplication.activePopupWidget(), Qt.Key.Key_H)
    qtbot.waitUntil(lambda: bool(dialogs))
    settled_on(qtbot, edit_window, edit_window.table)
    assert press_j_moves(qtbot, edit_window)


def test_focus_returns_to_the_search_bar_when_the_menu_was_opened_from_it(qtbot, edit_window: MainWindow) -> None:
    activate(qtbot, edit_window)
    edit_window.filter_bar.focus()
    qtbot.keyClick(edit_window.filter_bar.edit, Qt.Key.Key_V, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: isinstance(QApplication.activePopupWidget(), QMenu))
    qtbot.keyClick(QApplication.activePopupWidget(), Qt.Key.Key_Escape)
    settled_on(qtbot, edit_window, edit_window.filter_bar.edit)

