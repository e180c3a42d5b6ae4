"""app.run end to end (a real library file, real import, real event loop) and the platform check's veto."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from curator.core.store import Store
from curator.gui import app as gui_app
from curator.gui import platform_check
from curator.gui.views.main_window import MainWindow


def test_run_refuses_to_start_when_libraries_are_missing(monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(platform_check, "check", lambda: platform_check.EXIT_MISSING)
    assert gui_app.run(str(tmp_path), db=str(tmp_path / "lib.sqlite")) == platform_check.EXIT_MISSING
    assert not (tmp_path / "lib.sqlite").exists()  # nothing was opened


def test_run_opens_the_library_imports_the_path_and_remembers_it(qapp, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    # Keep the user's real settings out of it: the native (INI on Linux) settings go to tmp_path.
    QSettings.setPath(QSettings.Format.NativeFormat, QSettings.Scope.UserScope, str(tmp_path / "config"))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "config"))
    cards = tmp_path / "cards"
    cards.mkdir()
    (cards / "a.txt").write_text('---\ntitle: "Only card"\nquality: 40\n---\n', encoding="utf-8")
    db = tmp_path / "lib.sqlite"
    seen: dict[str, object] = {}

    def quit_when_imported() -> None:
        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        if windows and windows[0].last_import is not None and not windows[0].importer.running:
            window = windows[0]
            seen["total"] = window.model.total
            seen["title"] = window.detail.title.text()
            seen["icon"] = not QApplication.windowIcon().isNull()
            window.close()
            QApplication.quit()
        else:
            QTimer.singleShot(20, quit_when_imported)

    QTimer.singleShot(0, quit_when_imported)
    assert gui_app.run(str(cards), db=str(db)) == 0
    assert seen == {"total": 1, "title": "Only card", "icon": True}
    assert QApplication.applicationName() == "Curator"
    with Store(db) as store:
        assert store.count() == 1
    settings = QSettings()
    assert Path(str(settings.value("library/last"))) == db


def test_theme_switch_changes_the_palette(qapp) -> None:  # type: ignore[no-untyped-def]
    assert gui_app.apply_theme("dark") is True
    dark = QApplication.palette().color(QPalette.ColorRole.Window).lightness()
    assert gui_app.apply_theme("light") is False
    light = QApplication.palette().color(QPalette.ColorRole.Window).lightness()
    assert dark < 100 < light
