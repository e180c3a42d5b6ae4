"""The window fits a laptop screen: first size from the screen, saved geometry only when it fits, every pane
usable at 1366×768 and 1280×720.

Each case runs the real window in a child process on Qt's offscreen platform with a screen of that size
(its JSON `configfile`), since one process has one set of screens.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CHILD = r"""
import json, sys
from PySide6.QtWidgets import QApplication
from curator.core.store import Store
from curator.gui.settings import Settings
from curator.gui import settings as keys
from curator.gui.workers import SyncPool
app = QApplication(sys.argv)
from curator.gui.views.main_window import MainWindow
library, ini, saved = sys.argv[1], sys.argv[2], sys.argv[3]
settings = Settings.from_file(ini)
if saved == "huge":  # a geometry saved on a 1920x1200 monitor, placed right of this screen's width
    big = MainWindow(Store(library), settings, pool=SyncPool())
    big.files.ask_close = lambda _b: "keep"
    big.setGeometry(1500, 100, 1800, 1100)
    settings.set_value(keys.GEOMETRY, big.saveGeometry())
    big.deleteLater()
window = MainWindow(Store(library), settings, pool=SyncPool())
window.files.ask_close = lambda _b: "keep"
window.show()
for _ in range(20):
    app.processEvents()
def rect(w):
    r = w.rect(); tl = w.mapToGlobal(r.topLeft()); br = w.mapToGlobal(r.bottomRight())
    return [tl.x(), tl.y(), br.x(), br.y()]
print(json.dumps({
    "screen": window.screen().availableGeometry().getCoords(),
    "frame": window.frameGeometry().getCoords(),
    "status": rect(window.statusBar()), "detail": rect(window.detail), "list": rect(window.table),
    "facets": rect(window.facets), "sizes": window.splitter.sizes(),
    "detail_min": window.detail.minimumSizeHint().width(),
    "title": window.table.columnWidth(1),
}))
"""


def run_on_screen(tmp_path: Path, library: Path, width: int, height: int, saved: str = "") -> dict:
    config = tmp_path / "screen.json"
    config.write_text(json.dumps({"screens": [{"name": "laptop", "x": 0, "y": 0, "width": width,
                                               "height": height, "logicalDpi": 96, "dpr": 1}]}))  # fmt: skip
    db = tmp_path / "library.sqlite"
    shutil.copyfile(library, db)
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={config}")
    out = subprocess.run([sys.executable, "-c", CHILD, str(db), str(tmp_path / "s.ini"), saved], env=env, check=False,
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def within(inner: list[int], outer: tuple[int, int, int, int] | list[int]) -> bool:
    return inner[0] >= outer[0] and inner[1] >= outer[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (1280, 720)])
@pytest.mark.parametrize("saved", ["", "huge"])
def test_every_pane_is_on_the_screen(tmp_path: Path, seeded_library: Path, width: int, height: int,
                                     saved: str) -> None:  # fmt: skip
    got = run_on_screen(tmp_path, seeded_library, width, height, saved)
    screen = got["screen"]
    assert within(got["frame"], screen), got
    for pane in ("status", "detail", "list", "facets"):
        assert within(got[pane], screen), (pane, got)
    facets, cards, detail = got["sizes"]
    assert facets >= 150 and cards >= 400 and detail >= 320, got
    assert detail >= got["detail_min"] - 1
    # The title column (which stretches) shows ~30 characters at 1366 (it showed 15), ~25 at 1280.
    assert got["title"] >= (200 if width >= 1366 else 160), got
