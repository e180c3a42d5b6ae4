"""app.run end to end (a real library file, real import, real event loop) and the platform check's veto."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication

from curator.core.store import Store
from curator.gui import app as gui_app
from curator.gui import platform_check


def test_run_refuses_to_start_when_libraries_are_missing(monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(platform_check, "check", lambda: platform_check.EXIT_MISSING)
    assert gui_app.run(str(tmp_path), db=str(tmp_path / "lib.sqlite")) == platform_check.EXIT_MISSING
    assert not (tmp_path / "lib.sqlite").exists()  # nothing was opened


# app.run in a child process: a real start (QApplication, exec, quit) that leaves this process's app alone.
RUN_AND_QUIT = """
import json, sys
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication
from curator import paths
from curator.gui import app
from curator.gui.views.main_window import MainWindow
seen = {}

def quit_when_imported():
    if QApplication.instance().property("polls") is not None and QApplication.instance().property("polls") > 500:
        QApplication.exit(3)  # ten seconds without a finished import: give up rather than hang
        return
    QApplication.instance().setProperty("polls", (QApplication.instance().property("polls") or 0) + 1)
    windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
    if windows and windows[0].last_import is not None and not windows[0].importer.running:
        window = windows[0]
        seen.update(total=window.model.total, title=window.detail.title.text(),
                    icon=not QApplication.windowIcon().isNull(), name=QApplication.applicationName())
        window.close()
        QApplication.quit()
    else:
        QTimer.singleShot(20, quit_when_imported)

QTimer.singleShot(0, quit_when_imported)
code = app.run(sys.argv[1], db=sys.argv[2])
seen["last_library"] = QSettings(str(paths.settings_file()), QSettings.Format.IniFormat).value("library/last")
print(json.dumps({"code": code, **seen}))
"""


def test_run_opens_the_library_imports_the_path_and_remembers_it(tmp_path: Path) -> None:
    cards = tmp_path / "cards"
    cards.mkdir()
    (cards / "a.txt").write_text('---\ntitle: "Only card"\nquality: 40\n---\n', encoding="utf-8")
    db = tmp_path / "lib.sqlite"
    # The user's real settings stay out of it: curator.paths puts settings.ini under XDG_CONFIG_HOME.
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "config")}
    done = subprocess.run([sys.executable, "-c", RUN_AND_QUIT, str(cards), str(db)], env=env,
                          capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-800:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen == {"code": 0, "total": 1, "title": "Only card", "icon": True, "name": "Curator",
                    "last_library": str(db)}  # fmt: skip
    assert (tmp_path / "config" / "Curator" / "settings.ini").is_file()
    with Store(db) as store:
        assert store.count() == 1


def test_theme_switch_changes_the_palette(qapp) -> None:  # type: ignore[no-untyped-def]
    assert gui_app.apply_theme("dark") is True
    dark = QApplication.palette().color(QPalette.ColorRole.Window).lightness()
    assert gui_app.apply_theme("light") is False
    light = QApplication.palette().color(QPalette.ColorRole.Window).lightness()
    assert dark < 100 < light
