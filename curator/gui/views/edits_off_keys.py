"""A triage key pressed while edits are off (a read-only role, a lost team-library connection) is said, not
typed.

Why: the triage keys (P, U, the digits, +, -) are shortcuts of disabled actions then, and Qt hands a
disabled shortcut's key to the focused list view as a plain key press, where it starts the view's
type-to-search: a 7 meant as "quality 70" silently jumps to the first card whose title starts with 7. This
filter sits on the list views, takes such a key, and says in the status bar why nothing was edited.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, QKeyCombination, QObject, Qt
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QStatusBar, QWidget

from curator.gui.actions import Actions

#: How long the status bar says it.
SAID_MS = 6000


class EditKeysOff(QObject):
    """Takes the key of a disabled triage edit action on `views` while `refusal()` gives a reason."""

    def __init__(
        self, actions: Actions, views: Sequence[QWidget], refusal: Callable[[], str | None], status: QStatusBar,
        parent: QObject | None = None,
    ) -> None:  # fmt: skip
        super().__init__(parent)
        self.actions = actions
        self.refusal = refusal
        self.status = status
        for view in views:
            view.installEventFilter(self)

    def edit_key(self, event: QKeyEvent) -> QAction | None:
        """The disabled triage edit action whose shortcut `event` is, or None."""
        key, modifiers = event.key(), event.modifiers()
        # As Qt matches shortcuts: "+" typed with Shift, a digit on the keypad, is still that key's action.
        loose = modifiers & ~(Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.KeypadModifier)
        pressed = {QKeySequence(event.keyCombination()), QKeySequence(QKeyCombination(loose, Qt.Key(key)))}
        edits = set(self.actions.edit_actions())
        for action in self.actions.triage_actions():
            if action in edits and not action.isEnabled() and pressed & set(action.shortcuts()):
                return action
        return None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        if self.edit_key(event) is None:
            return False
        refused = self.refusal()
        if refused is None:
            return False  # edits are on (the action is off for another reason): the view has the key
        self.status.showMessage(f"Edits are disabled: {refused}", SAID_MS)
        return True
