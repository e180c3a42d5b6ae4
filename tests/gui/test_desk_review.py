"""Review and history: coloured per-file diffs (plain text only), the history's steps, "Undo" in the
shortcuts list, the window title."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gui_helpers import card_id
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from curator.gui import plain
from curator.gui.actions import action_keys, shortcuts_text
from curator.gui.views.main_window import MainWindow
from curator.gui.views.writing import ADDED, REMOVED, ReviewDialog

HOSTILE = '<b>bold</b> <img src="/etc/passwd"> &amp;'


def some_cards(cards: Path, n: int) -> list[Path]:
    return sorted(cards.glob("2019-07/*.txt"))[:n]


def review(window: MainWindow) -> ReviewDialog:
    shown: list[Any] = []
    window.files.run_dialog = lambda dialog: shown.append(dialog) or False  # look, do not write
    window.actions.review.trigger()
    assert len(shown) == 1
    return shown[0]


def test_review_colours_added_and_removed_lines_per_file_and_never_renders_card_markup(qtbot, edit_window: MainWindow, own_library) -> None:  # type: ignore[no-untyped-def]
    store, cards = own_library
    first, second = some_cards(cards, 2)
    edit_window.edits.set_fields([card_id(store, first)], {"title": HOSTILE}, "Edit title")
    edit_window.edits.set_fields([card_id(store, second)], {"quality": 99}, "Set quality to 99")
    dialog = review(edit_window)
    qtbot.addWidget(dialog)
    lines = dialog.line_backgrounds()
    texts = [t for t, _c in lines]
    # One section per file, headed by its path, in the file list too.
    assert [dialog.files.item(i).text() for i in range(dialog.files.count())] == [first.name, second.name]
    assert f"▌ {first}" in texts and f"▌ {second}" in texts
    assert texts.index(f"▌ {first}") < texts.index(f"▌ {second}")
    # Added lines are green, removed ones red, the rest uncoloured.
    added = [(t, c) for t, c in lines if t.startswith("+") and not t.startswith("+++")]
    removed = [(t, c) for t, c in lines if t.startswith("-") and not t.startswith("---")]
    assert added and removed
    assert all(c is not None and c.rgba() == ADDED.rgba() for _t, c in added)
    assert all(c is not None and c.rgba() == REMOVED.rgba() for _t, c in removed)
    assert all(c is None for t, c in lines if t.startswith((" ", "▌")))
    assert "+quality: 99" in texts
    # The card's markup is characters, never HTML: the document holds it exactly, and no image is loaded.
    hostile = [t for t in texts if t.startswith("+title")]
    assert len(hostile) == 1 and HOSTILE in hostile[0]
    assert "<img" not in dialog.text.document().toHtml().split("<body", 1)[1].replace("&lt;img", "")

    # A click on the second file jumps to its section.
    item = dialog.files.item(1)
    dialog.show()
    qtbot.waitExposed(dialog)
    rect = dialog.files.visualItemRect(item)
    QTest.mouseClick(dialog.files.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert dialog.text.textCursor().block().text() == f"▌ {second}"


def test_history_lists_each_step_with_its_card_title_or_count_and_time_and_closes(qtbot, edit_window: MainWindow, own_library) -> None:  # type: ignore[no-untyped-def]
    store, cards = own_library
    one, *many = some_cards(cards, 4)
    title = store.detail(card_id(store, one)).title
    edit_window.edits.set_fields([card_id(store, one)], {"quality": 55}, "Set quality to 55")
    edit_window.edits.set_fields([card_id(store, p) for p in many], {"published": True}, "Publish")
    edit_window.actions.history.trigger()
    dialog = edit_window.edits.history_dialog
    assert dialog is not None
    qtbot.waitExposed(dialog)
    rows = dialog.rows()
    assert rows[0][0] == "Library as imported"
    assert rows[-2][:2] == ("Set quality to 55", title)
    assert rows[-1][:2] == ("Publish (3 cards)", "3 cards")
    assert all(len(when) >= 5 and when[2] == ":" for _s, _c, when in rows[1:])  # "HH:MM" today

    # Clicking a step goes back to it; the step after it turns undone.
    target = dialog.tree.topLevelItem(len(rows) - 2)
    QTest.mouseClick(dialog.tree.viewport(), Qt.MouseButton.LeftButton,
                     pos=dialog.tree.visualItemRect(target).center())  # fmt: skip
    assert edit_window.edits.history.stack.index() == len(rows) - 2
    assert store.detail(card_id(store, many[0])).published is not True

    assert dialog.close_button is not None and dialog.close_button.text().replace("&", "") == "Close"
    qtbot.mouseClick(dialog.close_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()


def test_shortcuts_name_undo_not_the_step_it_would_undo(edit_window: MainWindow, own_library) -> None:  # type: ignore[no-untyped-def]
    store, cards = own_library
    edit_window.edits.set_fields([card_id(store, some_cards(cards, 1)[0])], {"quality": 55}, "Set quality to 55")
    assert "Set quality to 55" in edit_window.actions.undo.text()  # the menu says what it would undo…
    text = shortcuts_text(edit_window.actions)
    undo_keys = action_keys(edit_window.actions.undo)
    line = next(x for x in text.splitlines() if x.startswith(undo_keys + " "))
    assert line.split()[-1] == "Undo"  # …the shortcuts list names the key
    assert "Set quality to 55" not in text


def test_the_window_title_names_the_library(edit_window: MainWindow) -> None:
    assert edit_window.windowTitle() == plain.window_title(f"Curator — {edit_window.store.path.name}")
