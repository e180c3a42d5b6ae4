"""Every QAction of the main window, created once; menus and views only connect to them."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence

from curator.gui import icons


def _action(
    parent: QObject, text: str, *, shortcut: QKeySequence | str | QKeySequence.StandardKey | None = None,
    icon: str | None = None, tip: str | None = None, checkable: bool = False,
) -> QAction:
    action = QAction(text, parent)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    if icon:
        action.setIcon(icons.icon(icon))
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(tip)
    action.setCheckable(checkable)
    return action


class Actions(QObject):
    """The window's actions. Keys that would clash with typing (J, K, Enter) are widget-scoped:
    the list views add those actions to themselves so they never fire inside the search bar."""

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        # File
        self.open_folder = _action(self, "&Open Folder…", shortcut=QKeySequence.StandardKey.Open,
                                   icon="open-folder", tip="Import the cards of a folder into the library")
        self.rescan = _action(self, "&Rescan Library", shortcut="F5", icon="rescan",
                              tip="Pick up cards added, changed or removed on disk")
        self.cancel_task = _action(self, "Cancel", icon="cancel", tip="Stop the running import")
        self.cancel_task.setEnabled(False)
        self.quit = _action(self, "&Quit", shortcut=QKeySequence.StandardKey.Quit, icon="quit")
        # Edit
        self.find = _action(self, "&Find…", shortcut=QKeySequence.StandardKey.Find, icon="search",
                            tip="Search the library (Ctrl+F)")
        self.clear_search = _action(self, "Clear Search", icon="clear")
        self.save_search = _action(self, "Save This Search", icon="saved-search")
        self.select_all = _action(self, "Select &All", shortcut=QKeySequence.StandardKey.SelectAll, icon="select-all")
        self.copy_path = _action(self, "Copy File &Path", shortcut="Ctrl+Shift+C", icon="copy",
                                 tip="Copy the selected cards' file paths")
        # Navigation (widget-scoped: added to the list views)
        self.open_source = _action(self, "Open &Source in Browser", shortcut="Return", icon="open-source",
                                   tip="Open the article (http/https only)")
        self.next_card = _action(self, "Next Card", shortcut="J")
        self.previous_card = _action(self, "Previous Card", shortcut="K")
        for action in (self.open_source, self.next_card, self.previous_card):
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        # View
        self.table_view = _action(self, "&Table", shortcut="Ctrl+1", icon="table-view", checkable=True)
        self.grid_view = _action(self, "&Grid", shortcut="Ctrl+2", icon="grid-view", checkable=True)
        self.view_group = QActionGroup(self)
        for action in (self.table_view, self.grid_view):
            self.view_group.addAction(action)
        self.table_view.setChecked(True)
        self.theme_system = _action(self, "Follow &System", checkable=True)
        self.theme_light = _action(self, "&Light", checkable=True)
        self.theme_dark = _action(self, "&Dark", checkable=True)
        self.theme_group = QActionGroup(self)
        for action in (self.theme_system, self.theme_light, self.theme_dark):
            self.theme_group.addAction(action)
        self.toggle_theme = _action(self, "Toggle Light/Dark", shortcut="Ctrl+Shift+L", icon="theme")
        # Help
        self.shortcuts = _action(self, "&Keyboard Shortcuts", shortcut=QKeySequence.StandardKey.HelpContents,
                                 icon="shortcuts")
        self.about = _action(self, "&About Curator", icon="about")

    def theme_actions(self) -> dict[str, QAction]:
        return {"system": self.theme_system, "light": self.theme_light, "dark": self.theme_dark}
