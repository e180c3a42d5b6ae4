"""The window's View > theme and Help menu: what they open and remember, apart from the window's wiring.

``Appearance`` applies and remembers the theme (View > Theme, Toggle Light/Dark); ``HelpMenu`` opens
Keyboard Shortcuts, About (the version, the library and the log file: what an IT person asks for) and
the Problems Report. Each is handed the few collaborators it needs (house style: no controller reaches
into the window).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QMessageBox, QWidget

from curator.core.store import Store
from curator.gui import app as gui_app
from curator.gui import errorlog, plain
from curator.gui import settings as keys
from curator.gui.actions import Actions, show_shortcuts
from curator.gui.settings import Settings
from curator.gui.views.problems_report import ProblemsDialog, ProblemsReport, check_problems


class Appearance(QObject):
    """The theme: "light", "dark" or "system", applied to the app and remembered in settings."""

    def __init__(self, actions: Actions, settings: Settings, window: QWidget) -> None:
        super().__init__(window)
        self.actions = actions
        self.settings = settings
        self._window = window  # whose palette tells the theme now shown (Toggle Light/Dark)
        for name, action in actions.theme_actions().items():
            action.triggered.connect(lambda _checked=False, n=name: self.set_theme(n))
        actions.toggle_theme.triggered.connect(self.toggle_theme)

    def set_theme(self, theme: str) -> None:
        self.settings.set_value(keys.THEME, theme)
        self.actions.theme_actions()[theme].setChecked(True)
        gui_app.apply_theme(theme)

    def toggle_theme(self) -> None:
        dark = self._window.palette().color(self._window.backgroundRole()).lightness() < 128
        self.set_theme("light" if dark else "dark")


class HelpMenu(QObject):
    """Help > Keyboard Shortcuts, About Curator and Problems Report (the window's failures and bugs)."""

    def __init__(self, actions: Actions, store: Callable[[], Store], problems: ProblemsReport,
                 parent: QWidget) -> None:  # fmt: skip
        super().__init__(parent)
        self.actions = actions
        self.store = store  # the window's library (a callable: tests and the app may swap the Store)
        self.problems = problems
        self._parent = parent
        self.problems_dialog: ProblemsDialog | None = None
        actions.shortcuts.triggered.connect(lambda: show_shortcuts(self.actions, self._parent))
        actions.about.triggered.connect(self.show_about)
        actions.problems.triggered.connect(self.show_problems)

    def about_text(self) -> str:
        """The version, this window's library (a team library without its password) and the log file."""
        import curator

        return (
            f"Curator {curator.__version__}\nTriage article cards.\n\nLibrary: {self.store().location}\n"
            f"Log file (tracebacks of Curator's own errors): {errorlog.log_path()}"
        )

    def show_about(self) -> None:
        plain.message(self._parent, QMessageBox.Icon.Information, "About Curator", self.about_text())

    def show_problems(self) -> ProblemsDialog:
        """Open (or raise) the problems report."""
        if self.problems_dialog is None:
            self.problems_dialog = ProblemsDialog(
                self.problems, self._parent, checks=lambda: check_problems(self.store().problems())
            )
        else:
            self.problems_dialog.refresh()
        self.problems_dialog.show()
        self.problems_dialog.raise_()
        return self.problems_dialog
