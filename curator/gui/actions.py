"""Every QAction of the main window, created once; menus and views only connect to them.

The two dialogs about the keys live here too, next to what they describe: Help > Keyboard Shortcuts (its
text is generated from the actions); Edit > Preferences… is curator/gui/views/preferences.py, which sets the
quality keys' step through `set_quality_scale`.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar, QMessageBox, QWidget

from curator.gui import icons

#: Heat steps of the + / - keys.
HEAT_STEP = 10


def quality_for_digit(digit: int, scale: int) -> int:
    """The quality key `digit` sets: digit × scale, 0 counting as 10 (it sits after 9), at most 100."""
    return min(100, (digit or 10) * scale)


def _action(
    parent: QObject, text: str, *, shortcut: QKeySequence | str | QKeySequence.StandardKey | None = None,
    icon: str | None = None, tip: str | None = None, checkable: bool = False,
    shortcuts: list[str] | None = None,
) -> QAction:
    action = QAction(text, parent)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    if shortcuts:
        action.setShortcuts([QKeySequence(k) for k in shortcuts])
    if icon:
        icons.set_icon(action, icon)
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(tip)
    action.setCheckable(checkable)
    return action


class Actions(QObject):
    """The window's actions. Keys that would clash with typing (J, K, Enter, P, U, digits, +, -, Space)
    are widget-scoped: the list views add those actions to themselves so they never fire inside the
    search bar or an editor. Help > Keyboard Shortcuts is generated from these actions (`shortcut_rows`)."""

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
        self.next_card = _action(self, "Next Card", shortcuts=["J", "Space"])
        self.previous_card = _action(self, "Previous Card", shortcut="K")
        # Edit: undo over the library's journal; texts follow the stack ("Undo Publish")
        self.undo = _action(self, "&Undo", shortcut=QKeySequence.StandardKey.Undo, icon="undo")
        self.redo = _action(self, "&Redo", shortcuts=["Ctrl+Shift+Z", "Ctrl+Y"], icon="redo")
        self.history = _action(self, "Edit &History…", icon="history", tip="Every edit batch, newest last")
        self.preferences = _action(self, "&Preferences…", shortcut="Ctrl+,", icon="preferences",
                                   tip="Your name, the quality keys' step and where the shared folders are")
        # Cards: triage keys act on the selection (or every card matching the query after Select All)
        self.publish = _action(self, "&Publish", shortcut="P", icon="publish", tip="Publish the selected cards (P)")
        self.unpublish = _action(self, "&Unpublish", shortcut="U", icon="unpublish",
                                 tip="Unpublish the selected cards (U)")
        self.quality_keys = [_action(self, "", shortcut=str(d)) for d in range(10)]
        self.set_quality_scale(10)
        self.heat_up = _action(self, f"Heat +{HEAT_STEP}", shortcuts=["+", "="], icon="heat")
        self.heat_down = _action(self, f"Heat −{HEAT_STEP}", shortcut="-")
        self.set_quality = _action(self, "Set &Quality…", icon="quality")
        self.set_heat = _action(self, "Set &Heat…", icon="heat")
        self.add_topic = _action(self, "&Add Topic…", icon="add")
        self.remove_topic = _action(self, "&Remove Topic…", icon="remove")
        self.edit_related = _action(self, "Edit &Related Links…", shortcut="Ctrl+R", icon="edit")
        self.advance = _action(self, "Auto-&Advance", checkable=True, icon="advance",
                               tip="Move to the next card after P, U or a quality key (0–9)")
        self.resolve_conflict = _action(self, "Resolve &Conflict…", icon="resolve",
                                        tip="Compare the card with its changed file, field by field")
        # Files
        self.write = _action(self, "&Write Changes", shortcut=QKeySequence.StandardKey.Save, icon="write",
                             tip="Write every pending edit to its card file")
        self.review = _action(self, "Re&view Changes…", shortcut="Ctrl+Shift+S", icon="review",
                              tip="See each file's diff before writing")
        for action in (self.open_source, self.next_card, self.previous_card, self.publish, self.unpublish,
                       *self.quality_keys, self.heat_up, self.heat_down):  # fmt: skip
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
        self.problems = _action(self, "&Problems Report…", shortcut="Ctrl+Shift+E", icon="problem",
                                tip="Every file that could not be imported or written, and why")
        # File > Connect to Team Library… (curator/gui/views/team_connect.py)
        self.connect_team = _action(self, "Connect to &Team Library…", icon="link",
                                    tip="Open a library shared on a PostgreSQL server")
        # Every action that changes the library. In a group so that a read-only role or a lost server
        # connection disables them all at once, and no other code can enable one meanwhile (Qt keeps an
        # action of a disabled group disabled; enabling the group again restores each one's own state).
        self.edit_group = QActionGroup(self)
        self.edit_group.setExclusionPolicy(QActionGroup.ExclusionPolicy.None_)
        for action in self.edit_actions():
            self.edit_group.addAction(action)

    def set_quality_scale(self, scale: int) -> None:
        """Digit d sets quality d × scale, capped at 100; 0 is the key after 9, so it counts as 10
        (with the default scale 10: 1–9 set 10–90 and 0 sets 100). The action texts say so."""
        for digit, action in enumerate(self.quality_keys):
            value = quality_for_digit(digit, scale)
            action.setText(f"Set Quality to {value}")
            action.setData(value)

    def edit_actions(self) -> list[QAction]:
        """The actions that change the library (imports, edits, undo, writes): off for a read-only GUI."""
        return [self.open_folder, self.rescan, self.undo, self.redo, self.publish, self.unpublish,
                *self.quality_keys, self.heat_up, self.heat_down, self.set_quality, self.set_heat,
                self.add_topic, self.remove_topic, self.edit_related, self.resolve_conflict, self.write,
                self.review]  # fmt: skip

    def set_edits_allowed(self, allowed: bool) -> None:
        """Enable or disable every edit action at once (see edit_group)."""
        self.edit_group.setEnabled(allowed)

    def triage_actions(self) -> list[QAction]:
        """The single-key actions the list views own (never active while typing elsewhere)."""
        return [self.open_source, self.next_card, self.previous_card, self.publish, self.unpublish,
                *self.quality_keys, self.heat_up, self.heat_down]  # fmt: skip

    def all_actions(self) -> list[QAction]:
        """Every QAction held by this object, in creation order."""
        return [a for a in self.findChildren(QAction) if a.text()]

    def shortcut_rows(self) -> list[tuple[str, str]]:
        """(keys, what) for every action with a shortcut: the Help > Keyboard Shortcuts table.

        The ten quality keys are folded into one row, so the list stays readable.
        """
        rows: list[tuple[str, str]] = []
        for action in self.all_actions():
            if action in self.quality_keys[1:]:
                continue  # folded into the row of quality_keys[0]
            keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()]
            if not keys:
                continue
            text = action.text().replace("&", "").rstrip("…")
            if action is self.quality_keys[0]:
                first, nine = (self.quality_keys[d].data() for d in (1, 9))
                rows.append(("1 – 9, 0", f"Set quality {first} … {nine}, 0 sets {action.data()}"))
                continue
            rows.append((" / ".join(keys), text))
        return rows

    def theme_actions(self) -> dict[str, QAction]:
        return {"system": self.theme_system, "light": self.theme_light, "dark": self.theme_dark}

    def window_actions(self) -> list[QAction]:
        """The actions with window-wide shortcuts (added to the main window itself)."""
        return [self.open_folder, self.rescan, self.quit, self.find, self.select_all, self.copy_path,
                self.table_view, self.grid_view, self.toggle_theme, self.shortcuts, self.undo, self.redo,
                self.write, self.review, self.edit_related, self.problems, self.preferences]  # fmt: skip

    def build_menus(self, bar: QMenuBar) -> QMenu:
        """Fill the menu bar; returns the (empty) View > Columns menu, which the window fills on demand."""
        file = bar.addMenu("&File")
        file.addActions([self.open_folder, self.rescan])
        file.addAction(self.connect_team)
        file.addSeparator()
        file.addActions([self.write, self.review])
        file.addSeparator()
        file.addAction(self.quit)
        edit = bar.addMenu("&Edit")
        edit.addActions([self.undo, self.redo, self.history])
        edit.addSeparator()
        edit.addActions([self.find, self.clear_search, self.save_search])
        edit.addSeparator()
        edit.addActions([self.select_all, self.copy_path])
        edit.addSeparator()
        edit.addAction(self.preferences)
        cards = bar.addMenu("&Cards")
        cards.addActions([self.publish, self.unpublish])
        quality = cards.addMenu("Quality")
        icons.set_icon(quality.menuAction(), "quality")
        quality.addActions([*self.quality_keys[1:], self.quality_keys[0]])  # in keyboard order: 1 … 9, 0
        cards.addActions([self.set_quality, self.heat_up, self.heat_down, self.set_heat])
        cards.addSeparator()
        cards.addActions([self.add_topic, self.remove_topic, self.edit_related])
        cards.addSeparator()
        cards.addActions([self.advance, self.resolve_conflict])
        view = bar.addMenu("&View")
        view.addActions([self.table_view, self.grid_view])
        view.addSeparator()
        theme = view.addMenu("&Theme")
        theme.addActions(list(self.theme_actions().values()))
        view.addAction(self.toggle_theme)
        view.addSeparator()
        view.addAction(self.open_source)
        columns = view.addMenu("&Columns")
        help_menu = bar.addMenu("&Help")
        help_menu.addActions([self.shortcuts, self.problems, self.about])
        return columns


def action_keys(action: QAction) -> str:
    """An action's shortcuts as Actions.shortcut_rows writes them."""
    return " / ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts())


def shortcuts_text(actions: Actions) -> str:
    """Help > Keyboard Shortcuts, generated from the actions (so it cannot drift from them).

    Undo and Redo are named as such: their menu texts quote the step they would undo right now.
    """
    named = {action_keys(actions.undo): "Undo", action_keys(actions.redo): "Redo"}
    rows = [(k, named.get(k, what)) for k, what in actions.shortcut_rows()]
    width = max(len(k) for k, _ in rows) + 3
    lines = [f"{k:<{width}}{what}" for k, what in rows]
    lines.append("")
    lines.append("Single keys (P, U, 1–9, 0, +, -, Space, J, K, Enter) act in the card list,")
    lines.append("so they never fire while you type in the search bar or an editor.")
    return "\n".join(lines)


def show_shortcuts(actions: Actions, parent: QWidget) -> QMessageBox:
    """Help > Keyboard Shortcuts, non-blocking (the editor may keep it open while trying the keys)."""
    box = QMessageBox(QMessageBox.Icon.Information, "Keyboard shortcuts", shortcuts_text(actions), parent=parent)
    box.setTextFormat(Qt.TextFormat.PlainText)
    box.setStyleSheet("QLabel { font-family: monospace; }")  # the keys column lines up
    box.open()
    return box
