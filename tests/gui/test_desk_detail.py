"""The detail pane on a laptop screen: pictures scale to the pane; a card's problems in words, with fixes."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from gui_helpers import Server, card_id, png_bytes
from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QPushButton

from curator.core import fields
from curator.core.store import Store
from curator.gui.images import ImageCache, ImageState
from curator.gui.views.card_problems import ProblemRow
from curator.gui.views.detail_panel import LEAD_SIZE, DetailPanel
from curator.gui.views.main_window import MainWindow

MOJIBAKE = "problems/900008_8b63549d546966e1.txt"  # related[0].title: "Openview AIâ€™s new app…"
TOPIC_TEXT = "problems/900007_6b0b05bbf8a788bb.txt"  # topics: AI (text, not a list)
OUT_OF_RANGE = "problems/900001_585a2125a6c9e02a.txt"  # quality: 140 (no automatic fix)


@pytest.fixture
def wide_png() -> Iterator[Server]:
    server = Server({"/wide.png": ("image/png", png_bytes(1200, 400))})
    yield server
    server.stop()


def is_wide(pixmap: QPixmap) -> bool:
    """The 3:1 picture itself (the loading placeholder fills the 16:9 box)."""
    return not pixmap.isNull() and abs(pixmap.width() / pixmap.height() - 3.0) < 0.05


def show_with_lead(qtbot, store: Store, images: ImageCache, url: str, width: int) -> DetailPanel:  # type: ignore[no-untyped-def]
    panel = DetailPanel(images)
    qtbot.addWidget(panel)
    first = store.rows(None, limit=1)[0]
    detail = store.detail(first.id)
    assert detail is not None
    panel.show_card(dataclasses.replace(detail, lead_image=url))
    panel.resize(width, 700)
    panel.show()
    qtbot.waitUntil(lambda: images.state(url) is ImageState.READY and is_wide(panel.image.pixmap()), timeout=5000)
    return panel


def test_a_lead_image_fits_a_narrow_pane_and_keeps_its_aspect_ratio(qtbot, store: Store, images: ImageCache, wide_png: Server) -> None:  # type: ignore[no-untyped-def]
    url = wide_png.url("/wide.png")
    panel = show_with_lead(qtbot, store, images, url, 360)  # the pane on a 1280-pixel screen
    viewport = panel.viewport().width()
    assert panel.widget().width() <= viewport  # the pane's body is never wider than what shows
    assert panel.horizontalScrollBar().maximum() == 0
    pixmap = panel.image.pixmap()
    assert panel.image.width() <= viewport and pixmap.width() <= panel.image.width()
    assert pixmap.width() < LEAD_SIZE.width()  # scaled down to the pane, not cut
    assert abs(pixmap.width() / pixmap.height() - 3.0) < 0.05
    for row in panel.findChildren(QPushButton):  # no control is pushed off the right edge
        if row.isVisible():
            assert row.mapTo(panel.viewport(), row.rect().topRight()).x() <= viewport

    # Widening the pane (a splitter drag) grows the picture again, up to its largest size.
    narrow = pixmap.width()
    panel.resize(700, 700)
    qtbot.waitUntil(lambda: panel.image.pixmap().width() > narrow and is_wide(panel.image.pixmap()), timeout=5000)
    grown = panel.image.pixmap()
    assert grown.width() == LEAD_SIZE.width()
    assert abs(grown.width() / grown.height() - 3.0) < 0.05


def open_card(window: MainWindow, cards: Path, rel: str) -> int:
    cid = card_id(window.store, cards / rel)
    window.filter_bar.set_text("problems:true")  # a short list: every row is on the first page
    assert window.select_card(cid)
    assert window.detail.card is not None and window.detail.card.id == cid
    return cid


def rows(window: MainWindow) -> list[ProblemRow]:
    return [r for r in window.detail.problems.rows if r.isVisibleTo(window.detail)]


def test_problems_are_listed_in_words_and_a_mojibake_repair_is_previewed_then_one_undo_step(qtbot, edit_window: MainWindow, own_library) -> None:  # type: ignore[no-untyped-def]
    store, cards = own_library
    cid = open_card(edit_window, cards, MOJIBAKE)
    shown = rows(edit_window)
    assert len(shown) == 1 and edit_window.detail.problems.isVisibleTo(edit_window.detail)
    row = shown[0]
    assert "mojibake" in row.text.text() and "AIâ€™s" in row.text.text()
    assert "see the Problems filter" not in edit_window.detail.flags.text()
    # The repair is shown before it is applied: ftfy's text, and the library still holds the garbled one.
    assert row.preview is not None and "Openview AI’s new app" in row.preview.text()
    assert "â€™" in store.detail(cid).related[0]["title"]
    depth = edit_window.edits.history.stack.count()

    assert row.button is not None
    qtbot.mouseClick(row.button, Qt.MouseButton.LeftButton)
    after = store.detail(cid)
    assert after.related[0]["title"].startswith("Openview AI’s new app")
    assert after.dirty and fields.problems(after.data) == []
    assert edit_window.edits.history.stack.count() == depth + 1  # one undo step
    assert rows(edit_window) == [] and not edit_window.detail.problems.isVisibleTo(edit_window.detail)

    edit_window.actions.undo.trigger()
    assert "â€™" in store.detail(cid).related[0]["title"]
    assert len(rows(edit_window)) == 1  # the pane follows the undo


def test_a_problem_without_an_automatic_fix_has_no_button_and_a_fixable_type_error_has_one(qtbot, edit_window: MainWindow, own_library) -> None:  # type: ignore[no-untyped-def]
    store, cards = own_library
    open_card(edit_window, cards, OUT_OF_RANGE)
    (row,) = rows(edit_window)
    assert "quality must be a whole number from 0 to 100, not 140" in row.text.text()
    assert row.button is None and edit_window.detail.problems.heading.text() == "1 problem"

    cid = open_card(edit_window, cards, TOPIC_TEXT)
    (row,) = rows(edit_window)
    assert row.button is not None and row.preview is not None and row.preview.text() == "Fix writes: AI"
    qtbot.mouseClick(row.button, Qt.MouseButton.LeftButton)
    assert store.detail(cid).data["topics"] == ["AI"]
    assert rows(edit_window) == []


def test_no_problem_tooltip_sends_the_editor_to_the_command_line(edit_window: MainWindow, own_library) -> None:  # type: ignore[no-untyped-def]
    from curator.gui.models.card_table import Column

    _store, cards = own_library
    open_card(edit_window, cards, MOJIBAKE)
    row = edit_window.table.selectionModel().currentIndex().row()
    tip = edit_window.model.index(row, Column.PROBLEMS).data(Qt.ItemDataRole.ToolTipRole)
    assert tip and "curator check" not in tip and "Fix" in tip
    item = edit_window.facets.find("status", "With problems")
    assert item is not None and "curator check" not in item.toolTip(0)
