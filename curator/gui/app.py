"""Builds the QApplication (names, icon, stylesheet, light/dark palette) and runs the main window."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication, QMessageBox, QStyleFactory

from curator import paths
from curator.gui import icons, platform_check, resources
from curator.gui import settings as keys
from curator.gui.settings import Settings

if TYPE_CHECKING:
    from curator.core.store import Store
    from curator.gui.views.main_window import MainWindow

ORGANIZATION = paths.APPLICATION
APPLICATION = paths.APPLICATION
THEMES = ("system", "light", "dark")


def open_settings() -> Settings:
    """The GUI's settings, kept in paths.settings_file() (an INI file on every platform).

    The first time, the keys an earlier version kept in the platform's native store (the registry, a
    plist, ~/.config/Curator/Curator.conf) are copied in, so an upgrade keeps the window and the last
    library; not when ``$CURATOR_HOME`` relocates Curator (a portable copy starts on its own).
    """
    target = paths.settings_file()
    fresh = not target.exists()
    backend = QSettings(str(target), QSettings.Format.IniFormat)
    if fresh and not paths.relocated():
        native = QSettings(ORGANIZATION, APPLICATION)
        for key in native.allKeys():
            backend.setValue(key, native.value(key))
        backend.sync()
    return Settings(backend)


def create_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication (reused when one exists, as under pytest-qt), named and styled."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(argv if argv is not None else sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    # No display name: with one set, Qt appends " — Curator" to every window title on X11 and Windows, and
    # the main window's own "Curator — LIBRARY" read "Curator — library.sqlite — Curator".
    app.setDesktopFileName("curator")
    app.setWindowIcon(QIcon(str(resources.path("curator.svg"))))
    # Fusion draws the same on every platform and honours our palettes fully.
    app.setStyle(QStyleFactory.create("Fusion"))
    return app


def system_is_dark() -> bool:
    """Whether the desktop asks for a dark colour scheme."""
    hints = QGuiApplication.styleHints()
    return hints.colorScheme() == Qt.ColorScheme.Dark


def dark_palette() -> QPalette:
    """A calm dark palette (Fusion's own is light only)."""
    p = QPalette()
    base, window, text = QColor("#1f2226"), QColor("#2a2d32"), QColor("#e6e6e6")
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        p.setColor(group, QPalette.ColorRole.Window, window)
        p.setColor(group, QPalette.ColorRole.WindowText, text)
        p.setColor(group, QPalette.ColorRole.Base, base)
        p.setColor(group, QPalette.ColorRole.AlternateBase, QColor("#262a2f"))
        p.setColor(group, QPalette.ColorRole.Text, text)
        p.setColor(group, QPalette.ColorRole.Button, window)
        p.setColor(group, QPalette.ColorRole.ButtonText, text)
        p.setColor(group, QPalette.ColorRole.ToolTipBase, window)
        p.setColor(group, QPalette.ColorRole.ToolTipText, text)
        p.setColor(group, QPalette.ColorRole.PlaceholderText, QColor("#8a8f96"))
        p.setColor(group, QPalette.ColorRole.Highlight, QColor("#2f6fb2"))
        p.setColor(group, QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
        p.setColor(group, QPalette.ColorRole.Link, QColor("#6cb0ff"))
        p.setColor(group, QPalette.ColorRole.Mid, QColor("#8a8f96"))
        p.setColor(group, QPalette.ColorRole.Midlight, QColor("#3a3e44"))
        p.setColor(group, QPalette.ColorRole.Light, QColor("#4a4f56"))
        p.setColor(group, QPalette.ColorRole.Dark, QColor("#15171a"))
    disabled = QColor("#7a7f86")
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, disabled)
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Base, base)
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Window, window)
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Button, window)
    return p


def light_palette() -> QPalette:
    """Fusion's light palette, with a slightly softer mid tone for secondary text."""
    style = QApplication.style()
    p = style.standardPalette() if style else QPalette()
    p.setColor(QPalette.ColorRole.Mid, QColor("#7d8288"))
    p.setColor(QPalette.ColorRole.Midlight, QColor("#e3e5e8"))
    p.setColor(QPalette.ColorRole.Highlight, QColor("#2f6fb2"))
    return p


def apply_theme(theme: str) -> bool:
    """Apply "light", "dark" or "system" (follow the desktop); returns whether the result is dark."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    dark = theme == "dark" or (theme == "system" and system_is_dark())
    # Icons first: the palette change below makes widgets redraw theirs (the facet groups) at once.
    icons.set_foreground("#e6e6e6" if dark else "#3a3d42")
    app.setPalette(dark_palette() if dark else light_palette())
    # Re-setting the stylesheet makes widgets re-resolve palette() references in it.
    app.setStyleSheet(resources.stylesheet())
    icons.refresh(list(app.topLevelWidgets()))
    return dark


#: Every main window the app has open: a window switched to another library is kept alive here.
_windows: list[MainWindow] = []


def root_map(settings: Settings) -> dict[str, str]:
    """This editor's root map (core.roots): ``$CURATOR_ROOT_MAP``, then the preference
    (settings.ROOT_MAP), which wins for the same root. RootMapError (a ValueError) names a bad entry."""
    from curator.core import roots

    return {**roots.from_environment(), **roots.parse_entries(settings.value(keys.ROOT_MAP), "the root map preference")}


def editor_name(settings: Settings) -> str | None:
    """The name this editor's edits are recorded as (Edit > Preferences…, settings.EDITOR_NAME); None when
    blank, so the Store takes store.default_editor() ($CURATOR_EDITOR, else the system's user name)."""
    return settings.value(keys.EDITOR_NAME).strip() or None


def open_window(location: Path | str, settings: Settings) -> MainWindow | None:
    """A window on the library at `location` (a file, or a team library's ``postgresql://`` URL), or None
    after telling the editor why it cannot be opened.

    When libpq finds no password for a team library (or the one it found is refused), the editor is asked
    (team_connect.ask_password); the answer reaches this library's connections only. The settings remember
    the location without any password (core.backend.team.remembered), so the next start asks again unless
    ``~/.pgpass`` or ``PGPASSWORD`` holds one.
    """
    from curator.core.backend import team
    from curator.core.store import Store
    from curator.core.store_types import LibraryError
    from curator.gui import library_busy, plain
    from curator.gui.views import team_connect
    from curator.gui.views.main_window import MainWindow

    password: str | None = None
    while True:
        try:
            store = Store(location, busy_timeout=library_busy.GUI_BUSY_TIMEOUT, password=password,
                          root_map=root_map(settings), editor=editor_name(settings))  # fmt: skip
            break
        except (LibraryError, ValueError) as err:
            request = team.password_request(err)
            if request is not None:
                password = team_connect.ask_password(None, request)
                if password is not None:
                    continue
                return None
            sentence = team.connect_problem(err) or str(err)
            plain.message(None, QMessageBox.Icon.Critical, "Curator", f"Cannot open the library:\n{sentence}")
            return None
    settings.set_value(keys.LAST_LIBRARY, team.remembered(str(location)))
    checks = store.checks_process()  # the same-story index lives there, not in this process's memory
    window = MainWindow(store, settings, defer_startup=True)
    _windows.append(window)
    window.destroyed.connect(lambda *_a: (checks.close(), _forget(window)))
    return window


def _forget(window: MainWindow) -> None:
    if window in _windows:
        _windows.remove(window)


def switch_library(
    old: MainWindow, store: Store, location: str, settings: Settings | None = None
) -> MainWindow | None:
    """Replace `old` by a window on `store` (just opened by File > Connect to Team Library…).

    `old` closes first, through its own close (its prompt about unwritten edits, its saved layout, which
    the new window then restores at the same place and size); when the editor keeps it open, the new
    library is closed again and None returned. The app does not quit in between, though for a moment no
    window is shown. The settings remember `location` without its password.
    """
    from curator.core.backend import team
    from curator.gui.views.main_window import MainWindow

    settings = settings or old.settings
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    quit_on_close = app.quitOnLastWindowClosed()
    app.setQuitOnLastWindowClosed(False)
    try:
        old.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if not old.close():
            old.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
            store.close()
            old.statusBar().showMessage(
                f"Still on this library: {team.title(store.location)} was not opened", 8000
            )
            return None
        # The old library's live feed and this thread's connection go now, not whenever Qt deletes the window.
        old.team_library.stop()
        old.store.close()
        settings.set_value(keys.LAST_LIBRARY, team.remembered(location))
        store.set_editor(editor_name(settings))  # the connect dialog's Store was opened without a name
        checks = store.checks_process()
        window = MainWindow(store, settings, pool=old.pool, defer_startup=True)
        _windows.append(window)
        window.destroyed.connect(lambda *_a: (checks.close(), _forget(window)))
        window.show()
        window.start(None)
        window.statusBar().showMessage(f"Opened {team.title(store.location)}", 8000)
        return window
    finally:
        app.setQuitOnLastWindowClosed(quit_on_close)


def run(path: str | None = None, db: str | None = None) -> int:
    """Open the desktop app on the library `db` (default: paths.library_to_open: $CURATOR_DB, else the last
    library used while it exists, else the default library the CLI uses too).

    `path`, when given, is a folder or file of cards imported on start. Returns the exit code.
    """
    failed = platform_check.check()
    if failed is not None:
        return failed
    app = create_application()
    from curator.gui import errorlog

    errorlog.install()  # tracebacks of Curator's own bugs -> paths.log_file() (named in Help > About)
    settings = open_settings()
    theme = settings.value(keys.THEME)
    apply_theme(theme if theme in THEMES else "system")

    def follow_system() -> None:
        if settings.value(keys.THEME) == "system":
            apply_theme("system")

    QGuiApplication.styleHints().colorSchemeChanged.connect(follow_system)

    # Imported here so the platform check above runs before any widget module loads.
    from curator.gui import images
    from curator.gui.views.main_window import MainWindow
    from curator.gui.views.startup import AfterFirstPaint

    try:
        library = paths.library_to_open(db, settings.value(keys.LAST_LIBRARY) or None)
    except ValueError as err:  # --db or $CURATOR_DB names a scheme that is no library's
        from curator.gui import plain

        plain.message(None, QMessageBox.Icon.Critical, "Curator", f"Cannot open the library:\n{err}")
        return 1
    # The first page goes on screen before the network stack loads: image requests made while the window
    # is built (the detail pane's, the grid's) are sent just after the first paint.
    images.hold_downloads()
    window = MainWindow.open_library(library, settings)
    if window is None:
        images.release_downloads()
        return 1
    AfterFirstPaint([window.table.viewport(), window.grid.viewport()], images.release_downloads, window)
    from curator.gui import startup_probe

    startup_probe.install(window)  # only with $CURATOR_FIRST_PAINT_REPORT (the start-up benchmark)
    window.show()
    window.start(path)
    code = app.exec()
    from curator.gui import workers

    workers.settle_tasks()  # no task may finish while the teardown deletes its signals object
    return code
