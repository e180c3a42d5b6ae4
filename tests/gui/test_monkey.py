"""A GUI monkey: thousands of seeded random keys, clicks, searches, edits and writes against a real window.

Over a copy of the samples plus the hostile cards, at 1366x768 offscreen. Afterwards: no traceback (Python's
excepthook and Qt's critical messages are captured), the app still answers, and every file is either
byte-identical to its original or holds exactly what the library says was written (the file's mapping with
the still-pending values laid over it is the library's current mapping, and only editable fields moved).

CURATOR_MONKEY_ACTIONS sets the number of actions (default 3000); CURATOR_MONKEY_SEED the seed.
"""

from __future__ import annotations

import collections
import os
import random
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt, QtMsgType, qInstallMessageHandler
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QInputDialog, QMessageBox
from test_hostile_text import hostile_cards

from curator.core import cards, fields
from curator.core.importer import import_paths
from curator.core.store import Store
from curator.gui import plain, workers
from curator.gui.settings import Settings

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
ACTIONS = int(os.environ.get("CURATOR_MONKEY_ACTIONS", "3000"))
SEED = int(os.environ.get("CURATOR_MONKEY_SEED", "8"))
K = Qt.Key
KEYS = [K.Key_P, K.Key_U, *[getattr(K, f"Key_{d}") for d in range(10)], K.Key_Plus, K.Key_Minus, K.Key_J,
        K.Key_K, K.Key_Space, K.Key_Home, K.Key_End, K.Key_PageUp, K.Key_PageDown, K.Key_Escape, K.Key_Down,
        K.Key_Up]  # fmt: skip
CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
CHORDS = [(K.Key_Z, CTRL), (K.Key_Z, CTRL | SHIFT), (K.Key_A, CTRL), (K.Key_1, CTRL), (K.Key_2, CTRL)]
SEARCHES = ["", "topic:AI", "published:false", "quality>=50", "dirty:true", "<b>", "face", "provider:dw",
            '"computer vision"', "heat<0", "problems:true", "(", "x OR", "&amp;", "<img src=/x>"]  # fmt: skip
TOPICS = ["AI", "Robots", "<b>bold</b>", "R&D", "Computer Vision"]
#: Fields the monkey's actions can change in a file.
EDITED = {"published", "quality", "heat", "topics", "title"}


@pytest.fixture
def monkey_window(qtbot, tmp_path: Path, images, monkeypatch):  # type: ignore[no-untyped-def]
    from curator.gui.views.main_window import MainWindow

    folder = tmp_path / "cards"
    shutil.copytree(SEEDS, folder)
    hostile_cards(folder / "hostile")
    store = Store(tmp_path / "library.sqlite")
    assert import_paths(store, [folder], workers=1).failed == 0
    window = MainWindow(store, Settings.from_file(tmp_path / "s.ini"), images=images, pool=workers.SyncPool())
    window.import_workers = 1
    window.detail.opener = lambda _url: True
    window.files.ask_close = lambda _box: "keep"
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    window.activateWindow()
    yield window, folder
    store.close()


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in folder.rglob("*") if p.is_file() and p.suffix in (".txt", ".md")}


def test_monkey(monkey_window, monkeypatch, qtbot) -> None:  # type: ignore[no-untyped-def]
    window, folder = monkey_window
    rng = random.Random(SEED)
    before = snapshot(folder)
    originals = {path: cards.read_card(path)[0].data for path in before}
    errors: list[str] = []
    qt_messages: list[str] = []
    counts: collections.Counter[str] = collections.Counter()

    monkeypatch.setattr(sys, "excepthook", lambda kind, value, tb: errors.append(f"{kind.__name__}: {value}"))

    def on_qt(kind: QtMsgType, _context: Any, message: str) -> None:
        if kind in (QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg):
            errors.append(f"Qt: {message}")
        elif kind == QtMsgType.QtWarningMsg:
            qt_messages.append(message)

    qInstallMessageHandler(on_qt)
    boxes: list[str] = []
    monkeypatch.setattr(plain, "show", lambda box: boxes.append(box.text()) or 0)
    window.files.run_dialog = lambda _dialog: rng.random() < 0.5
    window.related.run_dialog = lambda _dialog: rng.random() < 0.5  # Save: the list as the editor left it
    window.edits.confirm = lambda _dialog: rng.random() < 0.7
    monkeypatch.setattr(
        QInputDialog, "getInt", lambda *a, **k: (rng.choice([-1, 0, 37, 100]), rng.random() < 0.8)
    )
    monkeypatch.setattr(QInputDialog, "getItem", lambda *a, **k: (rng.choice(TOPICS), rng.random() < 0.8))

    def view() -> Any:
        return window.current_view()

    def key() -> None:
        view().setFocus()
        QTest.keyClick(view(), rng.choice(KEYS))

    def chord() -> None:
        view().setFocus()
        k, mods = rng.choice(CHORDS)
        QTest.keyClick(view(), k, mods)

    def search() -> None:
        edit = window.filter_bar.edit
        edit.setFocus()
        edit.selectAll()
        QTest.keyClicks(edit, rng.choice(SEARCHES))
        QTest.keyClick(edit, K.Key_Return if rng.random() < 0.5 else K.Key_Escape)

    def click_row() -> None:
        v = view()
        rows = window.model.rowCount()
        if not rows:
            return
        top = v.indexAt(QPoint(5, 5)).row()
        row = max(0, top) + rng.randrange(0, 12)
        rect = v.visualRect(window.model.index(min(row, rows - 1), 1))
        if rect.isValid():
            mods = rng.choice([Qt.KeyboardModifier.NoModifier, CTRL, SHIFT])
            QTest.mouseClick(v.viewport(), Qt.MouseButton.LeftButton, mods, rect.center())

    def click_facet() -> None:
        group = rng.choice(["status", "category", "topic", "provider"])
        items = window.facets.items(group)
        if items:
            rect = window.facets.visualItemRect(rng.choice(items))
            QTest.mouseClick(window.facets.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
                             rect.center())  # fmt: skip

    def menu_edit() -> None:
        rng.choice([window.actions.set_quality, window.actions.set_heat, window.actions.add_topic,
                    window.actions.remove_topic, window.actions.heat_up]).trigger()  # fmt: skip

    def edit_title() -> None:
        editor = window.detail.editor
        if window.detail.card is None:
            return
        editor.title.setFocus()
        editor.title.setText(rng.choice(["New <b>title</b>", "Plain title", "R&D & more", ""]))
        editor.title.setModified(True)
        editor.title.editingFinished.emit()

    def write() -> None:
        (window.actions.write if rng.random() < 0.7 else window.actions.review).trigger()

    plan = [(key, 40), (chord, 8), (search, 8), (click_row, 14), (click_facet, 6), (menu_edit, 6),
            (edit_title, 3), (write, 2)]  # fmt: skip
    actions, weights = zip(*plan, strict=True)
    started = time.perf_counter()
    for _ in range(ACTIONS):
        action = rng.choices(actions, weights)[0]
        counts[action.__name__] += 1
        action()
        for widget in QApplication.topLevelWidgets():  # boxes opened without waiting (write reports)
            if isinstance(widget, QMessageBox) and widget.isVisible():
                widget.close()
        QApplication.processEvents()
    window.files.write_changes()  # write what is pending, then check every file
    elapsed = time.perf_counter() - started
    qInstallMessageHandler(None)
    print(f"\nmonkey: {ACTIONS} actions in {elapsed:.1f} s (seed {SEED}): {dict(sorted(counts.items()))}; "
          f"{len(boxes)} message boxes; {len(set(qt_messages))} distinct Qt warnings")  # fmt: skip

    assert errors == []
    # Still answering: a search runs, and a key moves the current card.
    window.apply_query("")
    assert window.model.total == window.store.count()
    view().setFocus()
    QTest.keyClick(view(), K.Key_Home)
    assert window.current_id() is not None
    # Every file: untouched, or exactly the library's mapping (with the still-pending values laid over it).
    after = snapshot(folder)
    assert set(after) == set(before)
    changed = [p for p in before if after[p] != before[p]]
    store = window.store
    for path in changed:
        cid = store.card_id(path)
        assert cid is not None, path
        data = cards.read_card(path)[0].data
        overlay = dict(data)
        for name, (_in_file, pending) in store.pending(cid).items():
            if pending is None:
                overlay.pop(name, None)
            else:
                overlay[name] = pending
        assert overlay == store.current_data(cid), path
        moved = {k for k in set(data) | set(originals[path]) if data.get(k) != originals[path].get(k)}
        assert moved <= EDITED & set(fields.EDITABLE), (path, moved)
    print(f"monkey: {len(changed)} of {len(before)} files written, the rest byte-identical")
    assert elapsed < 90
